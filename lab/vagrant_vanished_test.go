package lab

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// What vagrant up printed in a CI run when another test removed a container
// while this lab's vagrant read every container's ports.
const vanishedOutput = `Bringing machine 'node1' up with 'docker' provider...
Bringing machine 'node2' up with 'docker' provider...
==> node2: Creating and configuring docker networks...
==> node1: Creating and configuring docker networks...
==> node2: An error occurred. The error will be shown after all tasks complete.
==> node1: An error occurred. The error will be shown after all tasks complete.
An error occurred while executing multiple actions in parallel.
Any errors that occurred are shown below.

An error occurred while executing the action on the 'node1'
machine. Please handle this error then try again:

A Docker command executed by Vagrant didn't complete successfully!
The command run along with the output from the command is shown
below.

Command: ["docker", "inspect", "7b080fa12225a87221f344d9f348a644520f745ea8c9fcc037024d3eef6dc3d8", {:notify=>[:stdout, :stderr]}]

Stderr: Error: No such object: 7b080fa12225a87221f344d9f348a644520f745ea8c9fcc037024d3eef6dc3d8


Stdout: []`

func TestVanishedContainer(t *testing.T) {
	id, ok := vanishedContainer([]byte(vanishedOutput))
	if !ok || id != "7b080fa12225a87221f344d9f348a644520f745ea8c9fcc037024d3eef6dc3d8" {
		t.Errorf("vanishedContainer: %q, %v", id, ok)
	}
	for name, out := range map[string]string{
		"another command failed": strings.Replace(vanishedOutput, `"docker", "inspect"`, `"docker", "run"`, 1),
		"another object":         strings.Replace(vanishedOutput, "No such object: 7b08", "No such object: 9b08", 1),
		"another error":          strings.Replace(vanishedOutput, "No such object", "permission denied", 1),
		"no error":               "==> node1: Machine already provisioned.",
	} {
		if id, ok := vanishedContainer([]byte(out)); ok {
			t.Errorf("%s: taken for a vanished container %q", name, id)
		}
	}
}

// shimVagrantUp puts on PATH a vagrant whose up fails with outputs[i] on its
// i-th run (an empty one succeeds), and a docker that says whether the
// container exists. It returns how to read the number of vagrant runs.
func shimVagrantUp(t *testing.T, outputs []string, containerExists bool) func() int {
	t.Helper()
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	var vg strings.Builder
	vg.WriteString("#!/bin/sh\nn=$(cat " + count + " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " + count + "\n")
	for i, out := range outputs {
		if out == "" {
			continue
		}
		vg.WriteString("if [ $n -eq " + strconv.Itoa(i+1) + " ]; then cat <<'EOF'\n" + out + "\nEOF\nexit 1; fi\n")
	}
	vg.WriteString("echo '==> node1: Machine booted and ready!'\n")
	docker := "#!/bin/sh\n"
	if containerExists {
		docker += "echo 7b080fa12225a87221f344d9f348a644520f745ea8c9fcc037024d3eef6dc3d8\n"
	}
	putOnPath(t, map[string]string{"vagrant": vg.String(), "docker": docker})
	t.Setenv("VAGRANT_HOME", t.TempDir())
	return func() int {
		b, _ := os.ReadFile(count)
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
}

func testVagrant(t *testing.T, out *bytes.Buffer) *Vagrant {
	cfg := Defaults()
	return &Vagrant{Root: t.TempDir(), DotDir: t.TempDir(), Cfg: &cfg, Provider: dockerName, State: t.TempDir(), Out: out}
}

// A container that vanished under vagrant's read of the host's ports costs
// another vagrant up, at most upAttempts in all; any other failure, or a
// container that is still there, is returned as it is.
func TestVagrantUpRunsAgainWhenAContainerVanished(t *testing.T) {
	ctx := context.Background()
	t.Run("vanished once", func(t *testing.T) {
		var out bytes.Buffer
		runs := shimVagrantUp(t, []string{vanishedOutput, ""}, false)
		if err := testVagrant(t, &out).Up(ctx); err != nil {
			t.Fatalf("up: %v", err)
		}
		if runs() != 2 {
			t.Errorf("vagrant up ran %d times, want 2", runs())
		}
		if !strings.Contains(out.String(), "container 7b080fa12225 vanished while it read every container's ports") || !strings.Contains(out.String(), "(2 of 3)") {
			t.Errorf("no word of the second run:\n%s", out.String())
		}
	})
	t.Run("vanishing every time", func(t *testing.T) {
		runs := shimVagrantUp(t, []string{vanishedOutput, vanishedOutput, vanishedOutput, ""}, false)
		err := testVagrant(t, &bytes.Buffer{}).Up(ctx)
		if err == nil || runs() != upAttempts {
			t.Errorf("up: %v after %d runs, want an error after %d", err, runs(), upAttempts)
		}
	})
	t.Run("still there", func(t *testing.T) {
		runs := shimVagrantUp(t, []string{vanishedOutput, ""}, true)
		if err := testVagrant(t, &bytes.Buffer{}).Up(ctx); err == nil || runs() != 1 {
			t.Errorf("up: %v after %d runs, want the error after 1", err, runs())
		}
	})
	t.Run("another failure", func(t *testing.T) {
		runs := shimVagrantUp(t, []string{"Stderr: Error response from daemon: Conflict. The container name \"/halab-node1\" is already in use", ""}, false)
		if err := testVagrant(t, &bytes.Buffer{}).Up(ctx); err == nil || runs() != 1 {
			t.Errorf("up: %v after %d runs, want the error after 1", err, runs())
		}
	})
}

// Destroy's after (the docker provider's removal of what vagrant left)
// runs while this host's lock is still held: removing containers while
// another lab's vagrant up reads them is what makes that up fail.
func TestVagrantDestroyRunsAfterUnderTheLock(t *testing.T) {
	shimVagrantUp(t, nil, false)
	v := testVagrant(t, &bytes.Buffer{})
	ran := false
	err := v.Destroy(context.Background(), func(ctx context.Context) error {
		ran = true
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if unlock, err := (&Vagrant{}).lockIndex(short); err == nil {
			unlock()
			t.Error("another lab took the lock during destroy's after")
		}
		return nil
	})
	if err != nil || !ran {
		t.Fatalf("destroy: %v, after ran: %v", err, ran)
	}
	unlock, err := (&Vagrant{}).lockIndex(context.Background())
	if err != nil {
		t.Fatalf("the lock was kept after destroy: %v", err)
	}
	unlock()
}
