package main

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"halab/lab"
)

// `halab up` on the virtualbox provider with hashicorp/precise64 refuses
// the host's JDK before any machine boots (and before vagrant runs at
// all): `make lab-up` stops at once with the fix, not after minutes of
// booting and installing.
func TestUpRefusesAJDKTooNewForTheBox(t *testing.T) {
	java := "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
	data, err := os.ReadFile(java)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no host JDK (apt-get install openjdk-17-jdk-headless): %v", err)
		}
		t.Skipf("no host JDK: %v", err)
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "jdk.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "jdk/bin/java", Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg})
	tw.Write(data)
	tw.Close()
	gz.Close()
	f.Close()
	cfg := "name: uptest\nprovider: virtualbox\nservice:\n  jdk_archive: jdk.tar.gz\n"
	if err := os.WriteFile(filepath.Join(dir, "lab.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := lab.Open(filepath.Join(dir, "lab.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = checkJDKBeforeUp(l)
	if err == nil {
		t.Fatal("the host JDK was accepted for hashicorp/precise64 (glibc 2.15)")
	}
	for _, want := range []string{"glibc 2.15", "Ubuntu 12.04", "stopped before bringing any machine up", "service.jdk_archive"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	if !lab.IsConfigError(err) {
		t.Errorf("not bad input (exit 2): %v", err)
	}
	// An unknown box is left to provision's check on the nodes.
	other := cfg + "providers:\n  virtualbox:\n    box: someone/other-box\n"
	if err := os.WriteFile(filepath.Join(dir, "other.yaml"), []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = lab.Open(filepath.Join(dir, "other.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkJDKBeforeUp(l); err != nil {
		t.Errorf("box someone/other-box (unknown glibc): %v", err)
	}
}
