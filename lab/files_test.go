package lab

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tarBytes is a one-file tarball in the given format.
func tarBytes(t *testing.T, format tar.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := []byte("#!/bin/sh\necho java\n")
	hdr := &tar.Header{Name: "jdk1.7.0_60/bin/java", Mode: 0o755, Size: int64(len(body)), Format: format}
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("wso2stratos/bin/stratos.sh")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("#!/bin/sh\n")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// archiveDir fills a temporary directory with one file of every kind.
func archiveDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "jdk.tar.gz"), gzipBytes(t, tarBytes(t, tar.FormatUSTAR)))
	writeFile(t, filepath.Join(dir, "build", "jdk.tar.gz"), gzipBytes(t, tarBytes(t, tar.FormatPAX)))
	writeFile(t, filepath.Join(dir, "jdk.tar"), tarBytes(t, tar.FormatUSTAR))
	writeFile(t, filepath.Join(dir, "pax.tar"), tarBytes(t, tar.FormatPAX))
	writeFile(t, filepath.Join(dir, "gnu.tar"), tarBytes(t, tar.FormatGNU))
	writeFile(t, filepath.Join(dir, "product.zip"), zipBytes(t))
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte("not an archive, just some text that goes on for a while\n"))
	writeFile(t, filepath.Join(dir, "empty"), nil)
	writeFile(t, filepath.Join(dir, "pk"), []byte("PK"))
	writeFile(t, filepath.Join(dir, "short.tar"), tarBytes(t, tar.FormatUSTAR)[:261])
	writeFile(t, filepath.Join(dir, "my.init"), []byte("#!/bin/sh\n### BEGIN INIT INFO\n"))
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("jdk.tar.gz", filepath.Join(dir, "link.tar.gz")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", filepath.Join(dir, "dangling.tar.gz")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestArchiveKindOf(t *testing.T) {
	dir := archiveDir(t)
	cases := []struct {
		file string
		want ArchiveKind
		err  string
	}{
		{"jdk.tar.gz", ArchiveTarGz, ""},
		{"build/jdk.tar.gz", ArchiveTarGz, ""},
		{"jdk.tar", ArchiveTar, ""},
		{"pax.tar", ArchiveTar, ""},
		{"gnu.tar", ArchiveTar, ""},
		{"product.zip", ArchiveZip, ""},
		{"link.tar.gz", ArchiveTarGz, ""},
		{"notes.txt", "", "not a tarball (.tar.gz, .tar) or zip archive"},
		{"empty", "", "not a tarball"},
		{"pk", "", "not a tarball"},
		{"short.tar", "", "not a tarball"},
		{"adir", "", "is a directory, not a file"},
		{"missing.tar.gz", "", "no such file (resolved to " + filepath.Join(dir, "missing.tar.gz") + ")"},
		{"dangling.tar.gz", "", "no such file"},
		{"notes.txt/inside", "", "cannot stat: not a directory"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			got, err := ArchiveKindOf(filepath.Join(dir, c.file))
			if c.err == "" {
				if err != nil || got != c.want {
					t.Errorf("ArchiveKindOf = %q, %v; want %q", got, err, c.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) || got != "" {
				t.Errorf("ArchiveKindOf = %q, %v; want error containing %q", got, err, c.err)
			}
		})
	}

	t.Run("device", func(t *testing.T) {
		if _, err := os.Stat(os.DevNull); err != nil {
			t.Skip("no", os.DevNull)
		}
		if _, err := ArchiveKindOf(os.DevNull); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ArchiveKindOf(%s) = %v, want not a regular file", os.DevNull, err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root: file permissions do not stop reads")
		}
		p := writeFile(t, filepath.Join(t.TempDir(), "locked.tar.gz"), gzipBytes(t, tarBytes(t, tar.FormatUSTAR)))
		if err := os.Chmod(p, 0o000); err != nil {
			t.Fatal(err)
		}
		if _, err := ArchiveKindOf(p); err == nil || !strings.Contains(err.Error(), "cannot read: permission denied") {
			t.Errorf("ArchiveKindOf = %v, want cannot read", err)
		}
	})
}

func TestCheckFiles(t *testing.T) {
	dir := archiveDir(t)
	cases := []struct {
		name                  string
		path                  string // Config.Path; relative paths resolve against its directory
		jdk, product, initScr string
		want                  []string // problem prefixes, in order; none = OK
		contains              []string
	}{
		{name: "relative tar.gz", jdk: "jdk.tar.gz"},
		{name: "relative in subdir", jdk: "build/jdk.tar.gz"},
		{name: "relative with dotdot", path: filepath.Join(dir, "adir", "lab.yaml"), jdk: "../jdk.tar.gz"},
		{name: "absolute", path: filepath.Join(t.TempDir(), "lab.yaml"), jdk: filepath.Join(dir, "jdk.tar")},
		{name: "all set", jdk: "jdk.tar.gz", product: "product.zip", initScr: "my.init"},
		{name: "product tar", jdk: "jdk.tar.gz", product: "jdk.tar"},
		{name: "init script any text", jdk: "jdk.tar.gz", initScr: "notes.txt"},
		{name: "jdk zip", jdk: "product.zip"},
		{name: "jdk symlink", jdk: "link.tar.gz"},

		{name: "jdk unset", jdk: "", want: []string{"service.jdk_archive: missing: run `make jdk`"}},
		{name: "jdk missing", jdk: "build/nope.tar.gz",
			want:     []string{`service.jdk_archive: "build/nope.tar.gz": no such file`},
			contains: []string{"(resolved to " + filepath.Join(dir, "build", "nope.tar.gz") + ")"}},
		{name: "jdk text", jdk: "notes.txt", want: []string{`service.jdk_archive: "notes.txt": not a tarball`}},
		{name: "jdk empty", jdk: "empty", want: []string{`service.jdk_archive: "empty": not a tarball`}},
		{name: "jdk directory", jdk: "adir", want: []string{`service.jdk_archive: "adir": is a directory`}},
		{name: "jdk dangling symlink", jdk: "dangling.tar.gz", want: []string{`service.jdk_archive: "dangling.tar.gz": no such file`}},
		{name: "product text", jdk: "jdk.tar.gz", product: "notes.txt", want: []string{`service.product_archive: "notes.txt": not a tarball`}},
		{name: "product missing", jdk: "jdk.tar.gz", product: "product.tar.gz", want: []string{`service.product_archive: "product.tar.gz": no such file`}},
		{name: "init script empty", jdk: "jdk.tar.gz", initScr: "empty", want: []string{`service.init_script: "empty": file is empty`}},
		{name: "init script directory", jdk: "jdk.tar.gz", initScr: "adir", want: []string{`service.init_script: "adir": is a directory`}},
		{name: "init script missing", jdk: "jdk.tar.gz", initScr: "stratos.init", want: []string{`service.init_script: "stratos.init": no such file`}},
		{name: "all wrong at once", jdk: "nope.tar.gz", product: "notes.txt", initScr: "empty", want: []string{
			"service.jdk_archive: ", "service.product_archive: ", "service.init_script: ",
		}},
		// Relative paths follow the config file, not the working directory
		// (the tests run in lab/, which has no jdk.tar.gz).
		{name: "resolves against config dir", path: filepath.Join(dir, "adir", "lab.yaml"), jdk: "jdk.tar.gz",
			want:     []string{`service.jdk_archive: "jdk.tar.gz": no such file`},
			contains: []string{filepath.Join(dir, "adir", "jdk.tar.gz")}},
		{name: "no config path is the working dir", path: "-", jdk: "jdk.tar.gz",
			want: []string{`service.jdk_archive: "jdk.tar.gz": no such file`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := Defaults()
			switch c.path {
			case "":
				cfg.Path = filepath.Join(dir, "lab.yaml")
			case "-":
				cfg.Path = ""
			default:
				cfg.Path = c.path
			}
			cfg.Service.JDKArchive = c.jdk
			cfg.Service.ProductArchive = c.product
			cfg.Service.InitScript = c.initScr
			err := cfg.CheckFiles()
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("CheckFiles = %v", err)
				}
				return
			}
			ce := asConfigError(t, err)
			if ce.File != cfg.Path {
				t.Errorf("File = %q, want %q", ce.File, cfg.Path)
			}
			if len(ce.Problems) != len(c.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(ce.Problems), len(c.want), err)
			}
			for i, w := range c.want {
				if !strings.HasPrefix(ce.Problems[i], w) {
					t.Errorf("problem %d = %q, want prefix %q", i, ce.Problems[i], w)
				}
			}
			for _, w := range c.contains {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// CheckFiles on a lab loaded from disk resolves against the file's
// directory: a lab.yaml next to build/jdk.tar.gz passes from anywhere.
func TestCheckFilesAfterLoad(t *testing.T) {
	dir := archiveDir(t)
	path := writeFile(t, filepath.Join(dir, "lab.yaml"), []byte("service:\n  product_archive: product.zip\n  init_script: my.init\n"))
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckFiles(); err != nil {
		t.Fatalf("CheckFiles = %v", err)
	}
	kind, err := ArchiveKindOf(cfg.Resolve(cfg.Service.JDKArchive))
	if err != nil || kind != ArchiveTarGz {
		t.Errorf("jdk_archive kind = %q, %v", kind, err)
	}
	kind, err = ArchiveKindOf(cfg.Resolve(cfg.Service.ProductArchive))
	if err != nil || kind != ArchiveZip {
		t.Errorf("product_archive kind = %q, %v", kind, err)
	}

	if err := os.Remove(filepath.Join(dir, "build", "jdk.tar.gz")); err != nil {
		t.Fatal(err)
	}
	err = cfg.CheckFiles()
	ce := asConfigError(t, err)
	if ce.File != path || len(ce.Problems) != 1 || !strings.HasPrefix(err.Error(), path+`: service.jdk_archive: "build/jdk.tar.gz": no such file`) {
		t.Errorf("CheckFiles = %v", err)
	}
}

func TestCheckFilesUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: file permissions do not stop reads")
	}
	dir := archiveDir(t)
	for _, f := range []string{"jdk.tar.gz", "my.init"} {
		if err := os.Chmod(filepath.Join(dir, f), 0o000); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Defaults()
	cfg.Path = filepath.Join(dir, "lab.yaml")
	cfg.Service.JDKArchive = "jdk.tar.gz"
	cfg.Service.InitScript = "my.init"
	err := cfg.CheckFiles()
	ce := asConfigError(t, err)
	want := []string{`service.jdk_archive: "jdk.tar.gz": cannot read: permission denied`, `service.init_script: "my.init": cannot read: permission denied`}
	if len(ce.Problems) != len(want) {
		t.Fatalf("CheckFiles = %v", err)
	}
	for i, w := range want {
		if ce.Problems[i] != w {
			t.Errorf("problem %d = %q, want %q", i, ce.Problems[i], w)
		}
	}
}
