package lab

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Each lab runs vagrant from a root of its own that loads the checkout's
// Vagrantfile: real vagrant reads the lab's machines through it, and two
// labs' roots differ, so that Vagrant's machine index never makes one
// entry of their same-named nodes.
func TestVagrantLabRoot(t *testing.T) {
	if _, err := exec.LookPath("vagrant"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("vagrant not found (.ci/deps installs it)")
		}
		t.Skip("vagrant not found")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("VAGRANT_HOME", t.TempDir())
	labs := map[string]*Vagrant{}
	for _, name := range []string{"one", "two"} {
		cfg := Defaults()
		cfg.Name = name
		state := filepath.Join(t.TempDir(), name)
		labs[name] = &Vagrant{Root: root, DotDir: filepath.Join(state, "vagrant"), Config: filepath.Join(root, "lab.yaml"), Cfg: &cfg,
			ID: NewIdentity(name, filepath.Join(root, name+".yaml")), Provider: dockerName, State: state}
	}
	if labs["one"].LabRoot() == labs["two"].LabRoot() {
		t.Fatalf("two labs share the vagrant root %s", labs["one"].LabRoot())
	}
	out, err := labs["one"].run(context.Background(), nil, "status")
	if err != nil {
		t.Fatalf("vagrant status through the lab's root: %v\n%s", err, out)
	}
	for _, want := range []string{"node1", "node2", "not created (docker)"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("vagrant status lacks %q:\n%s", want, out)
		}
	}
	stub, err := os.ReadFile(filepath.Join(labs["one"].LabRoot(), "Vagrantfile"))
	if err != nil || !strings.Contains(string(stub), "load '"+filepath.Join(root, "Vagrantfile")+"'") {
		t.Errorf("the root's Vagrantfile: %q, %v", stub, err)
	}
	if info, err := os.Stat(filepath.Join(labs["one"].LabRoot(), "Vagrantfile")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the root's Vagrantfile: %v, %v", info, err)
	}
}

func TestRubyString(t *testing.T) {
	for in, want := range map[string]string{
		"/srv/halab/Vagrantfile":    `'/srv/halab/Vagrantfile'`,
		`/srv/it's/Vagrantfile`:     `'/srv/it\'s/Vagrantfile'`,
		`/srv/a\b/#{x}/Vagrantfile`: `'/srv/a\\b/#{x}/Vagrantfile'`,
	} {
		if got := rubyString(in); got != want {
			t.Errorf("rubyString(%q) = %s, want %s", in, got, want)
		}
	}
}
