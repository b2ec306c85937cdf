package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// `.ci/deps virtualbox` (what `make lab-up` runs for a VirtualBox lab)
// checks vagrant and VBoxManage and never touches docker or debootstrap;
// without VBoxManage it stops with what to install. Every tool is a
// stand-in that logs its calls, first on PATH.
func TestDepsVirtualBoxNeedsNoDocker(t *testing.T) {
	root := workflowRepoRoot(t)
	bin := t.TempDir()
	log := filepath.Join(bin, "calls.log")
	stub := func(name, body string) {
		script := "#!/bin/sh\necho \"" + name + " $*\" >>\"" + log + "\"\n" + body + "\n"
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"docker", "dockerd", "debootstrap", "apt-get", "systemctl"} {
		stub(n, "exit 1")
	}
	for _, n := range []string{"ssh", "shellcheck", "dash", "checkbashisms", "fence_docker", "curl", "stonith", "chromium"} {
		stub(n, "exit 0")
	}
	stub("vagrant", `echo "Vagrant 2.3.4"`)
	jdk := filepath.Join(bin, "jdk")
	os.MkdirAll(filepath.Join(jdk, "bin"), 0o755)
	os.WriteFile(filepath.Join(jdk, "bin", "jlink"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(jdk, "bin", "javac"), []byte("#!/bin/sh\necho 'javac 17.0.15'\n"), 0o755)
	run := func() (string, error) {
		cmd := exec.Command(filepath.Join(root, ".ci", "deps"), "virtualbox")
		cmd.Env = append(os.Environ(), "PATH="+bin+":/usr/bin:/bin", "JAVA_HOME="+jdk)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run()
	if err == nil || !strings.Contains(out, "VirtualBox is not installed") {
		t.Errorf("without VBoxManage: %v\n%s", err, out)
	}
	stub("VBoxManage", `echo "7.0.20r163906"`)
	out, err = run()
	if err != nil || !strings.Contains(out, "deps ok: VirtualBox 7.0.20r163906, Vagrant 2.3.4") {
		t.Errorf("with VBoxManage: %v\n%s", err, out)
	}
	calls, _ := os.ReadFile(log)
	for _, never := range []string{"docker", "dockerd", "debootstrap", "apt-get", "systemctl"} {
		for _, l := range strings.Split(string(calls), "\n") {
			if strings.HasPrefix(l, never+" ") {
				t.Errorf(".ci/deps virtualbox ran %q", l)
			}
		}
	}
}
