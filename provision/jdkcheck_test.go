package provision

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pkg/sftp"

	"halab/lab"
)

// hostJDK finds the JDK of this machine (the one `make jdk` packs); under
// CI a missing one fails the test.
func hostJDK(t *testing.T) string {
	t.Helper()
	var cands []string
	if jh := os.Getenv("JAVA_HOME"); jh != "" {
		cands = append(cands, jh)
	}
	cands = append(cands, "/usr/lib/jvm/java-17-openjdk-amd64")
	more, _ := filepath.Glob("/usr/lib/jvm/*")
	cands = append(cands, more...)
	for _, c := range cands {
		if st, err := os.Stat(filepath.Join(c, "lib", "server", "libjvm.so")); err == nil && st.Mode().IsRegular() {
			return c
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no JDK on this machine (apt-get install openjdk-17-jdk-headless; .ci/deps installs it)")
	}
	t.Skip("no JDK on this machine (apt-get install openjdk-17-jdk-headless)")
	return ""
}

// packedJDK is the archive packJDK makes, once per test binary (libjvm.so
// is 20 MB); TestMain removes its directory.
var packedJDK struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if packedJDK.dir != "" {
		os.RemoveAll(packedJDK.dir)
	}
	os.Exit(code)
}

// packJDK packs the host JDK's real bin/java and lib/server/libjvm.so (and
// a shell script, which the check must pass over) under jdk/ into a
// tar.gz, as `make jdk` lays them out; every caller gets the same one.
func packJDK(t *testing.T, jdk string) string {
	t.Helper()
	packedJDK.once.Do(func() {
		packedJDK.dir, packedJDK.err = os.MkdirTemp("", "halab-jdkcheck-")
		if packedJDK.err == nil {
			packedJDK.path = filepath.Join(packedJDK.dir, "jdk.tar.gz")
			packedJDK.err = writeJDKArchive(t, jdk, packedJDK.path)
		}
	})
	if packedJDK.err != nil {
		t.Fatal(packedJDK.err)
	}
	return packedJDK.path
}

func writeJDKArchive(t *testing.T, jdk, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	// stored, not compressed: the check reads a gzip stream all the same
	gz, _ := gzip.NewWriterLevel(f, gzip.NoCompression)
	tw := tar.NewWriter(gz)
	add := func(name string, data []byte, mode int64) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	tw.WriteHeader(&tar.Header{Name: "jdk/", Mode: 0o755, Typeflag: tar.TypeDir})
	for _, rel := range []string{"bin/java", "lib/server/libjvm.so"} {
		data, err := os.ReadFile(filepath.Join(jdk, rel))
		if err != nil {
			t.Fatal(err)
		}
		add("jdk/"+rel, data, 0o755)
	}
	add("jdk/bin/not-elf", []byte("#!/bin/sh\necho hi\n"), 0o755)
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func TestParseGlibc(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{{"glibc 2.15\n", "2.15"}, {"GLIBC_2.2.5", "2.2.5"}, {"2.36", "2.36"}} {
		v, err := ParseGlibc(c.in)
		if err != nil || v.String() != c.want {
			t.Errorf("ParseGlibc(%q) = %v, %v; want %s", c.in, v, err, c.want)
		}
	}
	for _, bad := range []string{"", "musl libc", "2", "GLIBC_PRIVATE"} {
		if v, err := ParseGlibc(bad); err == nil {
			t.Errorf("ParseGlibc(%q) = %v, want an error", bad, v)
		}
	}
	v := func(s string) Glibc { g, _ := ParseGlibc(s); return g }
	if v("2.2.5").Compare(v("2.15")) >= 0 || v("2.34").Compare(v("2.15")) <= 0 || v("2.15").Compare(v("2.15.0")) != 0 {
		t.Error("Compare orders versions as strings, not component by component")
	}
}

// The host's JDK (Debian 12's OpenJDK 17, what `make jdk` packs) needs
// glibc 2.34: refused for Ubuntu 12.04's 2.15, accepted for Debian 12's
// 2.36. Real ELF files, read from a streamed tar.gz.
func TestJDKCheckHostJDK(t *testing.T) {
	t.Parallel()
	archive := packJDK(t, hostJDK(t))
	j, err := ReadJDKNeeds(archive)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Files) != 2 {
		t.Fatalf("checked %v, want bin/java and lib/server/libjvm.so (and not the shell script)", j.Files)
	}
	need, _ := j.Newest()
	t.Logf("host JDK needs: %v (newest: %s in %s)", j.Files, need.Version, need.File)
	if need.Version.Compare(Glibc{2, 15}) <= 0 {
		t.Fatalf("the host JDK needs only glibc %s: this test needs a JDK built for a glibc newer than 2.15", need.Version)
	}

	cfg := lab.Defaults()
	cfg.Path = filepath.Join(filepath.Dir(archive), "lab.yaml")
	cfg.Service.JDKArchive = filepath.Base(archive)
	err = CheckJDKFits(&cfg, "", Glibc{2, 15}, "node node1 (Ubuntu 12.04.5 LTS)", "stopped before pushing anything")
	var tooNew *JDKTooNewError
	if !errors.As(err, &tooNew) {
		t.Fatalf("glibc 2.15: %v, want a JDKTooNewError", err)
	}
	for _, want := range []string{"glibc 2.15", "needs glibc " + need.Version.String(), "GLIBC_" + need.Version.String(), "service.jdk_archive", "stopped before pushing anything", "jdk-7u60", "provider: docker"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%s", want, err)
		}
	}
	if !lab.IsConfigError(err) {
		t.Error("a JDK that does not fit the nodes is not reported as bad input (exit 2)")
	}
	if err := CheckJDKFits(&cfg, "", Glibc{2, 36}, "node node1 (Debian GNU/Linux 12)", "x"); err != nil {
		t.Errorf("glibc 2.36 refused: %v", err)
	}

	// Kept in a state directory, read back by the next run as it was.
	state := t.TempDir()
	jdkNeedsCache.Clear()
	first, err := CachedJDKNeeds(archive, state)
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := filepath.Glob(filepath.Join(state, "jdk-needs", "*.json"))
	if len(kept) != 1 {
		t.Fatalf("kept %v", kept)
	}
	jdkNeedsCache.Clear()
	again, err := CachedJDKNeeds(archive, state)
	if n1, _ := first.Newest(); err != nil || len(again.Files) != len(first.Files) || again.Files[0].Version.Compare(n1.Version) > 0 {
		t.Errorf("read back %+v, %v; want %+v", again, err, first)
	}
}

// The archive `make jdk` built, when there is one: the same verdicts.
func TestJDKCheckMakeJDKArchive(t *testing.T) {
	t.Parallel()
	archive, _ := filepath.Abs("../build/jdk.tar.gz")
	if _, err := os.Stat(archive); err != nil {
		t.Skip("no build/jdk.tar.gz (make jdk)")
	}
	cfg := lab.Defaults()
	cfg.Path = "../lab.yaml"
	cfg.Service.JDKArchive = archive
	if err := CheckJDKFits(&cfg, "", Glibc{2, 15}, "node node1", "x"); err == nil {
		t.Error("build/jdk.tar.gz accepted for glibc 2.15")
	}
	if err := CheckJDKFits(&cfg, "", Glibc{2, 36}, "node node1", "x"); err != nil {
		t.Errorf("build/jdk.tar.gz refused for glibc 2.36: %v", err)
	}
}

// A zip is read in place; an archive without a JDK says so.
func TestJDKCheckZipAndNotAJDK(t *testing.T) {
	jdk := hostJDK(t)
	data, err := os.ReadFile(filepath.Join(jdk, "bin", "java"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	zpath := filepath.Join(dir, "jdk.zip")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "jdk-x/bin/java", Method: zip.Deflate})
	w.Write(data)
	w, _ = zw.Create("jdk-x/README")
	io.WriteString(w, "hi")
	zw.Close()
	os.WriteFile(zpath, buf.Bytes(), 0o644)
	j, err := ReadJDKNeeds(zpath)
	if err != nil || len(j.Files) != 1 || j.Files[0].File != "jdk-x/bin/java" {
		t.Errorf("zip: %+v, %v", j, err)
	}

	var tb bytes.Buffer
	gz := gzip.NewWriter(&tb)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "stratos/bin/stratos.sh", Mode: 0o755, Size: 3, Typeflag: tar.TypeReg})
	tw.Write([]byte("hi\n"))
	tw.Close()
	gz.Close()
	notJDK := filepath.Join(dir, "product.tar.gz")
	os.WriteFile(notJDK, tb.Bytes(), 0o644)
	if _, err := ReadJDKNeeds(notJDK); err == nil || !strings.Contains(err.Error(), "Linux JDK") {
		t.Errorf("an archive without a JDK: %v", err)
	}
}

func TestJDKELFPaths(t *testing.T) {
	for name, want := range map[string]bool{
		"jdk/bin/java": true, "./jdk1.7.0_60/bin/java": true, "jdk1.7.0_60/jre/bin/java": true,
		"jdk/lib/server/libjvm.so": true, "jdk1.7.0_60/jre/lib/amd64/server/libjvm.so": true,
		"jdk/bin/javac": false, "jdk/lib/libjava.so": false, "jdk/bin/java/x": false, "libjvm.so": false,
	} {
		if got := jdkELF(name); got != want {
			t.Errorf("jdkELF(%q) = %v, want %v", name, got, want)
		}
	}
}

// fakeNode is a node that answers the os step's questions and records
// everything else: the JDK check must stop a run before any of it.
type fakeNode struct {
	name, osRelease, libc string
	mu                    sync.Mutex
	calls                 []string
}

func (f *fakeNode) NodeName() string { return f.name }
func (f *fakeNode) Lost() error      { return nil }
func (f *fakeNode) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}
func (f *fakeNode) Run(_ context.Context, _ io.Reader, argv ...string) (lab.Result, error) {
	cmd := strings.Join(argv, " ")
	switch cmd {
	case strings.Join(catOSRelease.Argv(), " "):
		return lab.Result{Node: f.name, Command: cmd, Stdout: []byte(f.osRelease)}, nil
	case strings.Join(getconfLibc.Argv(), " "):
		return lab.Result{Node: f.name, Command: cmd, Stdout: []byte(f.libc)}, nil
	}
	f.record(cmd)
	return lab.Result{Node: f.name, Command: cmd, ExitCode: 1}, nil
}
func (f *fakeNode) Sudo(ctx context.Context, stdin io.Reader, argv ...string) (lab.Result, error) {
	f.record("sudo " + strings.Join(argv, " "))
	return lab.Result{Node: f.name, ExitCode: 1}, nil
}
func (f *fakeNode) SudoScript(_ context.Context, script string, args ...string) (lab.Result, error) {
	f.record(fmt.Sprintf("script %.40q %v", script, args))
	return lab.Result{Node: f.name, ExitCode: 1}, nil
}
func (f *fakeNode) SFTP(context.Context) (*sftp.Client, error) {
	f.record("sftp")
	return nil, errors.New("no SFTP in this test")
}

const preciseOSRelease = `NAME="Ubuntu"
VERSION="12.04.5 LTS, Precise Pangolin"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu precise (12.04.5 LTS)"
VERSION_ID="12.04"
`

// On precise nodes, `halab provision` with the host's JDK stops after the
// os step, naming both glibc versions, before installing or pushing
// anything.
func TestProvisionStopsBeforePushingATooNewJDK(t *testing.T) {
	t.Parallel()
	archive := packJDK(t, hostJDK(t))
	cfg := lab.Defaults()
	cfg.Path = filepath.Join(filepath.Dir(archive), "lab.yaml")
	cfg.Service.JDKArchive = filepath.Base(archive)
	nodes := []*fakeNode{
		{name: "node1", osRelease: preciseOSRelease, libc: "glibc 2.15\n"},
		{name: "node2", osRelease: preciseOSRelease, libc: "glibc 2.15\n"},
	}
	var out bytes.Buffer
	p := &Provisioner{Lab: &lab.Lab{Cfg: &cfg}, Opts: Options{Out: &out}, Params: ParamsFrom(&cfg),
		osInfo: map[string]OSInfo{}, glibc: map[string]Glibc{}, msgChg: map[string]bool{}}
	for _, n := range nodes {
		p.Nodes = append(p.Nodes, n)
	}
	err := p.Run(context.Background())
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepJDK {
		t.Fatalf("Run: %v, want a failure of step jdk", err)
	}
	if !lab.IsConfigError(err) || !strings.Contains(err.Error(), "glibc 2.15") || !strings.Contains(err.Error(), "GLIBC_2.") {
		t.Errorf("message: %v", err)
	}
	t.Logf("halab: %v", err)
	if !strings.Contains(out.String(), "glibc 2.15") {
		t.Errorf("the os step does not show the node's glibc:\n%s", out.String())
	}
	for _, n := range nodes {
		if len(n.calls) > 0 {
			t.Errorf("%s: ran %q before the JDK check stopped the run", n.name, n.calls)
		}
	}
}
