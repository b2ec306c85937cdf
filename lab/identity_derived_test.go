package lab

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A copy of the lab file made for a measurement (the bench's timing
// profile or fencing variant, at DerivedPath) opens as the same lab: the
// original's identity and state. Any other file of the same name is
// still refused.
func TestDerivedLabFileIsTheSameLab(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "Vagrantfile"), []byte("# "+vagrantfileMark+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The docker provider reads the node image's inputs.
	images, _ := filepath.Abs("../images")
	if err := os.Symlink(images, filepath.Join(root, "images")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), "provider: auto", "provider: docker", 1))
	config := filepath.Join(root, "my.local.yaml")
	if err := os.WriteFile(config, data, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Open(config, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Claim(); err != nil {
		t.Fatal(err)
	}
	derived := DerivedPath(config, "fencing-auto")
	if want := filepath.Join(root, ".my.local.fencing-auto.yaml"); derived != want {
		t.Fatalf("DerivedPath = %s, want %s", derived, want)
	}
	if err := os.WriteFile(derived, data, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Open(derived, io.Discard)
	if err != nil {
		t.Fatalf("the derived file: %v", err)
	}
	if d.ID != l.ID || d.State != l.State || d.ConfigPath != derived {
		t.Errorf("derived lab: id %+v state %s config %s; original id %+v state %s", d.ID, d.State, d.ConfigPath, l.ID, l.State)
	}
	if err := d.Claim(); err != nil {
		t.Errorf("the derived file's claim: %v", err)
	}
	for _, other := range []string{"other.yaml", ".my.yaml", ".other.fast.yaml", "sub/.my.local.fast.yaml"} {
		p := filepath.Join(root, other)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(p, io.Discard); err == nil || !strings.Contains(err.Error(), "is the name of another lab") {
			t.Errorf("%s: %v, want the other lab's refusal", other, err)
		}
	}
}
