package lab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shimDocker puts a `docker` on PATH that prints out and exits with code.
func shimDocker(t *testing.T, out string, code int) {
	t.Helper()
	putOnPath(t, map[string]string{"docker": "#!/bin/sh\ncat <<'EOF'\n" + out + "\nEOF\nexit " + itoa(code) + "\n"})
}

// putOnPath writes the scripts (name: content) into a directory it puts
// first on PATH, and returns that directory.
func putOnPath(t *testing.T, scripts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, script := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

// A docker engine that does not answer is an error, never "the network
// is not there" (down used to take it for nothing to do).
func TestNetworkExistsEngineDown(t *testing.T) {
	shimDocker(t, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", 1)
	if ok, err := networkExists(context.Background(), "vagrant_network_192.168.56.0/24"); err == nil || ok {
		t.Fatalf("engine down: %v, %v", ok, err)
	} else if !strings.Contains(err.Error(), "Is the docker daemon running?") {
		t.Errorf("the error hides the engine's answer: %v", err)
	}
}

func TestNetworkExists(t *testing.T) {
	shimDocker(t, "bridge\nhost\nvagrant_network_192.168.56.0/24\nnone", 0)
	if ok, err := networkExists(context.Background(), "vagrant_network_192.168.56.0/24"); err != nil || !ok {
		t.Errorf("listed network: %v, %v", ok, err)
	}
	if ok, err := networkExists(context.Background(), "vagrant_network_192.168.57.0/24"); err != nil || ok {
		t.Errorf("absent network: %v, %v", ok, err)
	}
}

// CheckFree names every collision with another lab's containers, and
// ignores this lab's own.
func TestDockerCheckFree(t *testing.T) {
	cfg := Defaults()
	cfg.Path = "lab.yaml"
	id := NewIdentity(cfg.Name, "/mine/lab.yaml")
	theirs := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(theirs, []byte("name: halab\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rows := strings.Join([]string{
		"halab\t" + id.ID + "\t/mine/lab.yaml\t192.168.56.0/24\t127.0.0.1:2222->22/tcp\thalab-node1",
		"halab\tothers00id00\t" + theirs + "\t192.168.56.0/24\t127.0.0.1:2223->22/tcp\ttheirs-node1",
		"bench\tbench0000000\t/theirs/bench.yaml\t192.168.57.0/24\t127.0.0.1:2232->22/tcp\tbench-node1",
	}, "\n")
	shimDocker(t, rows, 0)
	d := &dockerProvider{l: &Lab{Cfg: &cfg, ID: id}}
	err := d.CheckFree(context.Background())
	if !IsConfigError(err) {
		t.Fatalf("want a ConfigError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{`name: "halab" is taken by the lab of ` + theirs, "vip.address: the subnet 192.168.56.0/24 overlaps", "providers.docker.ssh_port: host port 2223"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "bench.yaml") || strings.Contains(msg, "2222") {
		t.Errorf("a lab that does not collide, or this lab itself, was named:\n%s", msg)
	}
	if strings.Contains(msg, "no longer exists") {
		t.Errorf("a lab whose file exists was called left behind:\n%s", msg)
	}
	// The other lab's file is gone (a deleted checkout): its containers
	// are named, for docker rm, since halab cannot remove them any more.
	if err := os.Remove(theirs); err != nil {
		t.Fatal(err)
	}
	rows2 := rows + "\nhalab\tothers00id00\t" + theirs + "\t192.168.56.0/24\t127.0.0.1:2224->22/tcp\ttheirs-node2"
	shimDocker(t, rows2, 0)
	msg = d.CheckFree(context.Background()).Error()
	if want := "the lab file " + theirs + " no longer exists, so its machines were left behind: if they are no longer wanted, remove them with `docker rm -f theirs-node1 theirs-node2`"; !strings.Contains(msg, want) {
		t.Errorf("missing %q in:\n%s", want, msg)
	}
	if strings.Contains(msg, "bench-node1") {
		t.Errorf("a lab that does not collide is called left behind:\n%s", msg)
	}
	// Alone on the engine: free.
	shimDocker(t, rows[:strings.Index(rows, "\n")], 0)
	if err := d.CheckFree(context.Background()); err != nil {
		t.Errorf("own containers refused: %v", err)
	}
}
