package lab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Two labs that need the same missing image at once build it once: the
// second waits for the first and finds the image built.
func TestPrepareBuildsAnImageOnce(t *testing.T) {
	dir := t.TempDir()
	built := filepath.Join(dir, "built")
	runs := filepath.Join(dir, "runs")
	release := filepath.Join(dir, "release")
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	putOnPath(t, map[string]string{
		// docker: the image exists once build.sh made it.
		"docker": "#!/bin/sh\ncase \"$1 $2\" in\n" +
			"'image inspect') test -e " + built + " ;;\n" +
			"'version --format') echo 20.10 ;;\n" +
			"*) exit 0 ;;\nesac\n",
		"vagrant": "#!/bin/sh\nexit 0\n",
	})
	// build.sh: lasts until the test has seen the second lab wait.
	build := "#!/bin/sh\necho run >> " + runs + "\nwhile [ ! -e " + release + " ]; do sleep 0.05; done\ntouch " + built + "\n"
	if err := os.WriteFile(filepath.Join(root, "images", "build.sh"), []byte(build), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VAGRANT_HOME", t.TempDir())

	cfg := Defaults()
	var wg sync.WaitGroup
	outs := []*lockedBuffer{{}, {}}
	errs := make([]error, 2)
	start := func(i int) {
		d := &dockerProvider{vagrantMachines{&Vagrant{Image: "halab/node:0123456789ab"}}, &Lab{Cfg: &cfg, Root: root}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.Prepare(context.Background(), outs[i])
		}()
	}
	until := func(what string, cond func() bool) {
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s:\n%s\n%s", what, outs[0], outs[1])
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	start(0)
	until("the first build", func() bool { _, err := os.Stat(runs); return err == nil })
	start(1)
	until("the second lab to wait", func() bool {
		return strings.Contains(outs[1].String(), "waiting for another lab's build of halab/node:0123456789ab")
	})
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("lab %d: %v\n%s", i, err, outs[i])
		}
	}
	b, _ := os.ReadFile(runs)
	if n := strings.Count(string(b), "run"); n != 1 {
		t.Errorf("build.sh ran %d times, want 1", n)
	}
	if !strings.Contains(outs[1].String(), "was built meanwhile by another lab") {
		t.Errorf("the second lab did not say it found the first's build:\n%s", outs[1])
	}
}

func (l *lockedBuffer) String() string { return string(l.Bytes()) }
