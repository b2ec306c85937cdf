package templates

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The stand-in compiled on this machine is Java 7 bytecode (class file
// version 51, what the article's JDK 7u60 runs), every class of it, and it
// serves on this machine's JDK.
func TestStandInJava7(t *testing.T) {
	t.Parallel() // JVMs that mostly wait: they overlap
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	classes := standInClasses(t)
	if _, ok := classes["Stratos.class"]; !ok || len(classes) < 1 {
		t.Fatalf("classes: %v", keys(classes))
	}
	for name, b := range classes {
		v, err := ClassFileVersion(b)
		if err != nil || v != 51 {
			t.Errorf("%s: class file version %d (%v), want 51 (Java 7)", name, v, err)
		}
	}
	dir := t.TempDir()
	for name, b := range classes {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	javaHome := findJDK(t)
	port := freePort(t)
	cmd := exec.Command(filepath.Join(javaHome, "bin", "java"), "-Xmx64m", "-cp", dir, "Stratos", fmt.Sprint(port))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port), 30*time.Second)
	if got, want := strings.TrimSpace(body), shortHostname(t); got != want {
		t.Errorf("GET / = %q, want %q", got, want)
	}
	if body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/health", port), 5*time.Second); body != "ok" {
		t.Errorf("GET /health = %q", body)
	}
	t.Logf("Java 7 classes (%s) on %s: %s", strings.Join(keys(classes), ", "), javaHome, strings.TrimSpace(out.String()))
}

func keys(m map[string][]byte) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

func TestJavacMajor(t *testing.T) {
	for out, want := range map[string]int{"javac 17.0.15\n": 17, "javac 1.8.0_392": 8, "javac 25": 25, "javac 9-ea": 9} {
		if got, ok := javacMajor(out); !ok || got != want {
			t.Errorf("javacMajor(%q) = %d, %v; want %d", out, got, ok, want)
		}
	}
	if _, ok := javacMajor("bash: javac: not found"); ok {
		t.Error("no version read as one")
	}
}

// Without lib/classes, stratos.sh runs the source file on a JDK of 11 or
// later, and refuses with a message on an older one instead of a JVM
// error in the log.
func TestStratosShSourceFallback(t *testing.T) {
	t.Parallel() // JVMs that mostly wait: they overlap
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("JDK 11 or later runs the source", func(t *testing.T) {
		t.Parallel()
		javaHome := findJDK(t)
		dir := t.TempDir()
		port := freePort(t)
		script := installProductSource(t, Params{ServiceName: "stratos", User: me.Username, JavaHome: javaHome, ProductHome: dir,
			Port: port, StartTimeout: 60, StopTimeout: 10}, nil)
		expect(t, script, "start", 0)
		if got := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port), 30*time.Second); strings.TrimSpace(got) != shortHostname(t) {
			t.Errorf("GET / = %q", got)
		}
		expect(t, script, "stop", 0)
	})
	t.Run("Java 7 without classes refuses", func(t *testing.T) {
		t.Parallel()
		javaHome := t.TempDir()
		os.Mkdir(filepath.Join(javaHome, "bin"), 0o755)
		java7 := "#!/bin/sh\necho 'java version \"1.7.0_60\"' >&2\necho 'Java(TM) SE Runtime Environment (build 1.7.0_60-b19)' >&2\n"
		if err := os.WriteFile(filepath.Join(javaHome, "bin", "java"), []byte(java7), 0o755); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		script := installProductSource(t, Params{ServiceName: "stratos", User: me.Username, JavaHome: javaHome, ProductHome: dir,
			Port: 1, StartTimeout: 5, StopTimeout: 2}, nil)
		out := expect(t, script, "start", 1)
		if !strings.Contains(out, "cannot run lib/Stratos.java (Java 11 or later can)") {
			t.Errorf("start output:\n%s", out)
		}
	})
}
