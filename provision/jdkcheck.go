package provision

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"halab/lab"
)

// Glibc is a glibc version, "2.15" or "2.2.5", compared component by
// component.
type Glibc []int

// ParseGlibc reads "2.34", "GLIBC_2.34" or getconf's "glibc 2.15".
func ParseGlibc(s string) (Glibc, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "glibc ")
	s = strings.TrimPrefix(s, "GLIBC_")
	var v Glibc
	for _, part := range strings.Split(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a glibc version", s)
		}
		v = append(v, n)
	}
	if len(v) < 2 {
		return nil, fmt.Errorf("%q is not a glibc version", s)
	}
	return v, nil
}

func (v Glibc) String() string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ".")
}

// Compare is -1, 0 or 1 as v is older than, the same as or newer than w.
func (v Glibc) Compare(w Glibc) int {
	for i := 0; i < max(len(v), len(w)); i++ {
		a, b := 0, 0
		if i < len(v) {
			a = v[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			if a < b {
				return -1
			}
			return 1
		}
	}
	return 0
}

// GlibcNeed is the newest glibc symbol version one ELF file of an archive
// needs from libc.so.6 (or any glibc library: libpthread, libm, librt...).
type GlibcNeed struct {
	File    string // path inside the archive
	Version Glibc
}

// JDKNeeds is what a JDK archive needs of a node's glibc: every file it
// checked (bin/java, lib/**/libjvm.so) with its newest GLIBC_ version.
type JDKNeeds struct {
	Archive string
	Files   []GlibcNeed
}

// Newest is the file that needs the newest glibc (ok false: none needs a
// versioned glibc symbol).
func (j JDKNeeds) Newest() (GlibcNeed, bool) {
	var best GlibcNeed
	found := false
	for _, f := range j.Files {
		if !found || f.Version.Compare(best.Version) > 0 {
			best, found = f, true
		}
	}
	return best, found
}

// jdkELF says whether a path inside a JDK archive is one the JDK check
// reads: the launcher and the JVM itself, the two that must load first.
func jdkELF(name string) bool {
	name = path.Clean(strings.TrimPrefix(name, "./"))
	base := path.Base(name)
	dir := path.Dir(name)
	switch {
	case base == "java" && path.Base(dir) == "bin":
		return true
	case base == "libjvm.so":
		return slices.Contains(strings.Split(dir, "/"), "lib")
	}
	return false
}

// maxELF bounds what the check reads of one file into memory (libjvm.so
// is 20 MB in a JDK 17).
const maxELF = 256 << 20

// ReadJDKNeeds reads the glibc versions that a JDK archive's bin/java and
// lib/**/libjvm.so need, streaming a tar.gz or tar (a zip is read in
// place); nothing is unpacked to disk.
func ReadJDKNeeds(archive string) (JDKNeeds, error) {
	j := JDKNeeds{Archive: archive}
	kind, err := lab.ArchiveKindOf(archive)
	if err != nil {
		return j, err
	}
	add := func(name string, r io.Reader) error {
		data, err := io.ReadAll(io.LimitReader(r, maxELF+1))
		if err != nil {
			return fmt.Errorf("%s: %s: %w", archive, name, err)
		}
		if len(data) > maxELF {
			return fmt.Errorf("%s: %s: larger than %d MB, not a JDK file halab can check", archive, name, maxELF>>20)
		}
		v, ok, err := elfGlibcNeed(data)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", archive, name, err)
		}
		if ok {
			j.Files = append(j.Files, GlibcNeed{File: name, Version: v})
		}
		return nil
	}
	switch kind {
	case lab.ArchiveZip:
		zr, err := zip.OpenReader(archive)
		if err != nil {
			return j, err
		}
		defer zr.Close()
		for _, f := range zr.File {
			if !f.Mode().IsRegular() || !jdkELF(f.Name) {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return j, err
			}
			err = add(f.Name, rc)
			rc.Close()
			if err != nil {
				return j, err
			}
		}
	default:
		f, err := os.Open(archive)
		if err != nil {
			return j, err
		}
		defer f.Close()
		var r io.Reader = f
		if kind == lab.ArchiveTarGz {
			gz, err := gzip.NewReader(f)
			if err != nil {
				return j, fmt.Errorf("%s: %w", archive, err)
			}
			defer gz.Close()
			r = gz
		}
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return j, fmt.Errorf("%s: %w", archive, err)
			}
			if h.Typeflag != tar.TypeReg || !jdkELF(h.Name) {
				continue
			}
			if err := add(path.Clean(strings.TrimPrefix(h.Name, "./")), tr); err != nil {
				return j, err
			}
		}
	}
	if len(j.Files) == 0 {
		return j, fmt.Errorf("%s: no bin/java or lib/**/libjvm.so with glibc symbol versions in it: is it a Linux JDK?", archive)
	}
	return j, nil
}

// elfGlibcNeed is the newest GLIBC_x.y an ELF file needs (ok false: it
// needs no versioned glibc symbol, or is not an ELF file at all).
func elfGlibcNeed(data []byte) (Glibc, bool, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, false, nil // a shell wrapper, say: nothing to check
	}
	defer f.Close()
	needs, err := f.DynamicVersionNeeds()
	if err != nil {
		if errors.Is(err, elf.ErrNoSymbols) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("reading its version needs: %w", err)
	}
	var newest Glibc
	for _, n := range needs {
		for _, d := range n.Needs {
			if !strings.HasPrefix(d.Dep, "GLIBC_") || strings.HasPrefix(d.Dep, "GLIBC_PRIVATE") {
				continue
			}
			v, err := ParseGlibc(d.Dep)
			if err != nil {
				continue
			}
			if newest == nil || v.Compare(newest) > 0 {
				newest = v
			}
		}
	}
	return newest, newest != nil, nil
}

var jdkNeedsCache sync.Map // "path|size|mtime" -> JDKNeeds

// CachedJDKNeeds is ReadJDKNeeds, read once per archive: in this process,
// and, with a state directory, across runs (jdk-needs/SHA256.json there),
// so that a warm provision does not unpack the archive's JVM again.
func CachedJDKNeeds(archive, stateDir string) (JDKNeeds, error) {
	st, err := os.Stat(archive)
	if err != nil {
		return JDKNeeds{Archive: archive}, err
	}
	key := fmt.Sprintf("%s|%d|%d", archive, st.Size(), st.ModTime().UnixNano())
	if v, ok := jdkNeedsCache.Load(key); ok {
		return v.(JDKNeeds), nil
	}
	var kept string
	if stateDir != "" {
		if sum, err := cachedSHA(archive); err == nil {
			kept = filepath.Join(stateDir, "jdk-needs", sum+".json")
			var files []struct{ File, Glibc string }
			if b, err := os.ReadFile(kept); err == nil && json.Unmarshal(b, &files) == nil && len(files) > 0 {
				j := JDKNeeds{Archive: archive}
				for _, f := range files {
					if v, err := ParseGlibc(f.Glibc); err == nil {
						j.Files = append(j.Files, GlibcNeed{File: f.File, Version: v})
					}
				}
				jdkNeedsCache.Store(key, j)
				return j, nil
			}
		}
	}
	j, err := ReadJDKNeeds(archive)
	if err != nil {
		return j, err
	}
	jdkNeedsCache.Store(key, j)
	if kept != "" {
		var files []struct{ File, Glibc string }
		for _, f := range j.Files {
			files = append(files, struct{ File, Glibc string }{f.File, f.Version.String()})
		}
		if b, err := json.Marshal(files); err == nil && os.MkdirAll(filepath.Dir(kept), 0o700) == nil {
			_ = os.WriteFile(kept, b, 0o600) // a cache: the next run reads the archive again without it
		}
	}
	return j, nil
}

// JDKTooNewError is a JDK archive that needs a newer glibc than a node
// has: the JVM would not even start there. It is bad input (exit 2): the
// lab file names an archive that does not fit its nodes.
type JDKTooNewError struct {
	Config  string // the lab file
	Field   string // service.jdk_archive's value as written
	Need    GlibcNeed
	Node    string // the node, or what the nodes are (a box)
	Has     Glibc
	Checked string // when the check ran: "before anything was pushed"...
}

func (e *JDKTooNewError) Error() string {
	return fmt.Sprintf("%s: service.jdk_archive: %q cannot run on %s, which has glibc %s: its %s needs glibc %s (symbol version GLIBC_%s); %s. "+
		"Ways out: point service.jdk_archive at a Linux x64 JDK built for glibc %s or older (halab reads its bin/java and libjvm.so before pushing, so one that does not fit stops here again), "+
		"for example the article's own jdk-7u60-linux-x64.tar.gz with service.java_home: /opt/jdk1.7.0_60 (halab compiles the stand-in service for Java 7); "+
		"or run the lab on nodes with a newer glibc (provider: docker, Debian 12, glibc 2.36)",
		e.Config, e.Field, e.Node, e.Has, e.Need.File, e.Need.Version, e.Need.Version, e.Checked, e.Has)
}

// As makes a JDKTooNewError a lab.ConfigError for the CLI's exit code.
func (e *JDKTooNewError) As(target any) bool {
	if ce, ok := target.(**lab.ConfigError); ok {
		*ce = &lab.ConfigError{File: e.Config, Problems: []string{strings.TrimPrefix(e.Error(), e.Config+": ")}}
		return true
	}
	return false
}

// CheckJDKFits refuses a JDK archive that needs a newer glibc than has
// (the node's, or what a provider's nodes are known to have). node names
// them in the message; when says when the check ran; stateDir keeps what
// was read of the archive for the next run ("" keeps nothing).
func CheckJDKFits(c *lab.Config, stateDir string, has Glibc, node, when string) error {
	j, err := CachedJDKNeeds(c.Resolve(c.Service.JDKArchive), stateDir)
	if err != nil {
		return fmt.Errorf("reading the JDK archive's glibc needs: %w", err)
	}
	need, ok := j.Newest()
	if !ok || need.Version.Compare(has) <= 0 {
		return nil
	}
	return &JDKTooNewError{Config: filepath.Base(c.Path), Field: c.Service.JDKArchive, Need: need, Node: node, Has: has, Checked: when}
}

// NodeGlibc asks a node for its glibc version (getconf GNU_LIBC_VERSION);
// ok false when the node does not say (no glibc, or no getconf).
func NodeGlibc(ctx context.Context, n lab.Runner) (Glibc, bool, error) {
	res, err := n.Run(ctx, nil, getconfLibc.Argv()...)
	if err != nil {
		return nil, false, err
	}
	if !res.OK() {
		return nil, false, nil
	}
	v, err := ParseGlibc(string(res.Stdout))
	if err != nil {
		return nil, false, nil
	}
	return v, true, nil
}
