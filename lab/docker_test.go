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
	dir := t.TempDir()
	script := "#!/bin/sh\ncat <<'EOF'\n" + out + "\nEOF\nexit " + itoa(code) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
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
	rows := strings.Join([]string{
		"halab\t" + id.ID + "\t/mine/lab.yaml\t192.168.56.0/24\t127.0.0.1:2222->22/tcp",
		"halab\tothers00id00\t/theirs/lab.yaml\t192.168.56.0/24\t127.0.0.1:2223->22/tcp",
		"bench\tbench0000000\t/theirs/bench.yaml\t192.168.57.0/24\t127.0.0.1:2232->22/tcp",
	}, "\n")
	shimDocker(t, rows, 0)
	d := &dockerProvider{l: &Lab{Cfg: &cfg, ID: id}}
	err := d.CheckFree(context.Background())
	if !IsConfigError(err) {
		t.Fatalf("want a ConfigError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{`name: "halab" is taken by the lab of /theirs/lab.yaml`, "vip.address: the subnet 192.168.56.0/24 overlaps", "providers.docker.ssh_port: host port 2223"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "bench.yaml") || strings.Contains(msg, "2222") {
		t.Errorf("a lab that does not collide, or this lab itself, was named:\n%s", msg)
	}
	// Alone on the engine: free.
	shimDocker(t, rows[:strings.Index(rows, "\n")], 0)
	if err := d.CheckFree(context.Background()); err != nil {
		t.Errorf("own containers refused: %v", err)
	}
}
