package provision

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nodeScripts are every script halab runs on a node: the files under a
// scripts/ directory of the module's packages (lab's, provision's, the
// harness's).
func nodeScripts(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "build" || d.Name() == ".halab" || d.Name() == ".vagrant") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".sh") && filepath.Base(filepath.Dir(p)) == "scripts" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("found only %d node scripts: %v", len(files), files)
	}
	return files
}

// tool finds a checker; under CI a missing one fails the test, elsewhere
// it skips that checker.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed (Debian/Ubuntu: apt-get install %s; .ci/deps installs it)", name, pkg)
	}
	t.Skipf("%s is not installed (apt-get install %s)", name, pkg)
	return ""
}

// Every node script parses under dash (Debian's and Ubuntu's /bin/sh) and
// bash, and passes shellcheck as POSIX sh: a mistake would otherwise show
// only on a live node.
func TestNodeScripts(t *testing.T) {
	files := nodeScripts(t)
	for _, shell := range []struct{ name, pkg string }{{"dash", "dash"}, {"bash", "bash"}} {
		t.Run(shell.name, func(t *testing.T) {
			sh := tool(t, shell.name, shell.pkg)
			for _, f := range files {
				if out, err := exec.Command(sh, "-n", f).CombinedOutput(); err != nil {
					t.Errorf("%s -n %s: %v\n%s", shell.name, f, err, out)
				}
			}
		})
	}
	t.Run("shellcheck", func(t *testing.T) {
		sc := tool(t, "shellcheck", "shellcheck")
		args := append([]string{"--shell=sh", "--severity=info", "--format=gcc"}, files...)
		if out, err := exec.Command(sc, args...).CombinedOutput(); err != nil {
			t.Errorf("shellcheck: %v\n%s", err, out)
		}
	})
}

// The checks catch what they are for: a syntax error, and a bashism that
// dash runs differently.
func TestNodeScriptCheckersCatchMistakes(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.sh")
	if err := os.WriteFile(broken, []byte("#!/bin/sh\nif [ -n \"$1\" ]; then echo x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if exec.Command(tool(t, "dash", "dash"), "-n", broken).Run() == nil {
		t.Error("dash -n accepted an unterminated if")
	}
	bashism := filepath.Join(dir, "bashism.sh")
	if err := os.WriteFile(bashism, []byte("#!/bin/sh\nif [[ -n \"$1\" ]]; then echo x; fi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if exec.Command(tool(t, "shellcheck", "shellcheck"), "--shell=sh", bashism).Run() == nil {
		t.Error("shellcheck accepted [[ ]] in a POSIX sh script")
	}
}
