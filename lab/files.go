package lab

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// ArchiveKind is what an archive's first bytes say it is.
type ArchiveKind string

const (
	ArchiveTarGz ArchiveKind = "tar.gz"
	ArchiveTar   ArchiveKind = "tar"
	ArchiveZip   ArchiveKind = "zip"
)

// CheckFiles checks the local files lab.yaml names before anything is
// pushed: present, a regular file, readable, and of the expected kind.
// Optional paths are checked only when set.
func (c *Config) CheckFiles() error {
	var p []string
	check := func(field, value string, archive bool) {
		if value == "" {
			return
		}
		if _, err := checkFile(c.Resolve(value), archive); err != nil {
			p = append(p, fmt.Sprintf("%s: %q: %v", field, value, err))
		}
	}
	if c.Service.JDKArchive == "" {
		p = append(p, "service.jdk_archive: missing: run `make jdk` or name the JDK tarball to push")
	}
	check("service.jdk_archive", c.Service.JDKArchive, true)
	check("service.product_archive", c.Service.ProductArchive, true)
	check("service.init_script", c.Service.InitScript, false)
	if len(p) > 0 {
		return &ConfigError{File: c.Path, Problems: p}
	}
	return nil
}

// ArchiveKindOf reads an archive's magic bytes.
func ArchiveKindOf(path string) (ArchiveKind, error) { return checkFile(path, true) }

func checkFile(path string, archive bool) (ArchiveKind, error) {
	st, err := os.Stat(path)
	if err != nil {
		if os.IsNotExist(err) {
			return "", fmt.Errorf("no such file (resolved to %s)", path)
		}
		return "", fmt.Errorf("cannot stat: %v", unwrapPathErr(err))
	}
	if st.IsDir() {
		return "", fmt.Errorf("is a directory, not a file")
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read: %v", unwrapPathErr(err))
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", fmt.Errorf("cannot read: %v", err)
	}
	head = head[:n]
	if !archive {
		if n == 0 {
			return "", fmt.Errorf("file is empty")
		}
		return "", nil
	}
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return ArchiveTarGz, nil
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return ArchiveZip, nil
	case n >= 262 && bytes.Equal(head[257:262], []byte("ustar")):
		return ArchiveTar, nil
	}
	return "", fmt.Errorf("not a tarball (.tar.gz, .tar) or zip archive")
}
