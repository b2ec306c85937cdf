package lab

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childScript is a stand-in for vagrant: it records its pid, process
// group and a background grandchild, says it is ready, and then runs
// until a signal. onInt is its INT trap.
func childScript(t *testing.T, onInt string) (dir string, argv []string) {
	t.Helper()
	dir = t.TempDir()
	script := `d=$1
trap '` + onInt + `' INT
sleep 600 >/dev/null 2>&1 &
echo $! >"$d/grandchild"
echo $$ >"$d/pid"
cut -d' ' -f5 /proc/$$/stat >"$d/pgid"
: >"$d/ready"
while :; do sleep 0.05; done
`
	return dir, []string{"sh", "-c", script, "sh", dir}
}

func waitFile(t *testing.T, p string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(p); err == nil {
			return
		}
	}
	t.Fatalf("%s never appeared", p)
}

func readInt(t *testing.T, p string) int {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return n
}

// alive says whether pid runs (a zombie waiting for its reaper does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || !strings.HasPrefix(s[i+1:], " Z")
}

func gone(t *testing.T, what string, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if !alive(pid) {
			return
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("%s (pid %d) still runs", what, pid)
}

// start runs argv through runLocal in the background; cancel is the
// first interrupt, hard the second.
func startLocal(t *testing.T, stop Stop, argv []string) (cancel func(), result <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(WithStop(context.Background(), stop))
	t.Cleanup(cancel)
	ch := make(chan error, 1)
	go func() {
		_, err := runLocal(ctx, "", nil, nil, argv...)
		ch <- err
	}()
	return cancel, ch
}

func waitResult(t *testing.T, ch <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(within):
		t.Fatalf("runLocal did not return within %s", within)
		return nil
	}
}

// The first interrupt is a SIGINT to the child, which runs its cleanup
// and exits; it runs in a process group of its own, so that a terminal's
// Ctrl-C reaches halab alone.
func TestRunLocalInterruptIsSIGINTWithCleanup(t *testing.T) {
	dir, argv := childScript(t, `echo cleaned >"$d/cleanup"; exit 3`)
	cancel, result := startLocal(t, Stop{Grace: time.Minute}, argv)
	waitFile(t, filepath.Join(dir, "ready"))
	pid := readInt(t, filepath.Join(dir, "pid"))
	if pgid := readInt(t, filepath.Join(dir, "pgid")); pgid != pid || pgid == syscall.Getpgrp() {
		t.Errorf("child's process group %d, want its own (%d), not halab's (%d)", pgid, pid, syscall.Getpgrp())
	}
	cancel()
	err := waitResult(t, result, 10*time.Second)
	if b, rerr := os.ReadFile(filepath.Join(dir, "cleanup")); rerr != nil || strings.TrimSpace(string(b)) != "cleaned" {
		t.Errorf("the child's INT trap did not run: %q %v", b, rerr)
	}
	var ce *CommandError
	if !errors.As(err, &ce) || !errors.Is(err, context.Canceled) || errors.Is(err, ErrKilled) {
		t.Fatalf("err = %v, want a *CommandError for the interrupt, not a kill", err)
	}
	if !strings.Contains(err.Error(), "stopped on SIGINT") {
		t.Errorf("error does not say how the child ended: %v", err)
	}
	// The background grandchild ignores SIGINT (as sh makes it); it is
	// the child's to end, and is left alone here.
	syscall.Kill(readInt(t, filepath.Join(dir, "grandchild")), syscall.SIGKILL)
}

// A child that does not stop on SIGINT is killed, with its whole group,
// on the second interrupt.
func TestRunLocalSecondInterruptKillsGroup(t *testing.T) {
	dir, argv := childScript(t, `echo int >>"$d/ints"`)
	hard := make(chan struct{})
	cancel, result := startLocal(t, Stop{Hard: hard, Grace: time.Minute}, argv)
	waitFile(t, filepath.Join(dir, "ready"))
	pid := readInt(t, filepath.Join(dir, "pid"))
	grandchild := readInt(t, filepath.Join(dir, "grandchild"))
	cancel()
	waitFile(t, filepath.Join(dir, "ints"))
	select {
	case err := <-result:
		t.Fatalf("returned before the second interrupt: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	start := time.Now()
	close(hard)
	err := waitResult(t, result, 10*time.Second)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("kill took %s", took)
	}
	if !errors.Is(err, ErrKilled) || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted twice") {
		t.Errorf("err = %v, want a kill on the second interrupt", err)
	}
	gone(t, "child", pid)
	gone(t, "grandchild in its group", grandchild)
}

// Without a second interrupt, a child still running after its grace is
// killed.
func TestRunLocalGraceThenKill(t *testing.T) {
	dir, argv := childScript(t, `echo int >>"$d/ints"`)
	cancel, result := startLocal(t, Stop{Grace: 400 * time.Millisecond}, argv)
	waitFile(t, filepath.Join(dir, "ready"))
	grandchild := readInt(t, filepath.Join(dir, "grandchild"))
	start := time.Now()
	cancel()
	err := waitResult(t, result, 10*time.Second)
	if took := time.Since(start); took < 400*time.Millisecond || took > 5*time.Second {
		t.Errorf("killed after %s, grace was 400ms", took)
	}
	if !errors.Is(err, ErrKilled) || !strings.Contains(err.Error(), "still running 400ms after SIGINT") {
		t.Errorf("err = %v, want a kill after the grace", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ints")); err != nil {
		t.Errorf("no SIGINT before the kill: %v", err)
	}
	gone(t, "grandchild in its group", grandchild)
}

// A child that bounds its own stop (halab) gets the second interrupt as a
// second SIGINT (its own hard stop), and no grace timer of the parent's.
func TestRunGroupOwnStopGetsSecondSIGINT(t *testing.T) {
	dir, argv := childScript(t, `echo int >>"$d/ints"; [ "$(wc -l <"$d/ints")" -ge 2 ] && exit 4`)
	hard := make(chan struct{})
	ctx, cancel := context.WithCancel(WithStop(context.Background(), Stop{Hard: hard, Grace: 100 * time.Millisecond}))
	defer cancel()
	result := make(chan error, 1)
	go func() { result <- RunGroup(ctx, exec.Command(argv[0], argv[1:]...), true) }()
	waitFile(t, filepath.Join(dir, "ready"))
	cancel()
	waitFile(t, filepath.Join(dir, "ints"))
	select {
	case err := <-result:
		t.Fatalf("returned before the second interrupt (a grace timer?): %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	close(hard)
	err := waitResult(t, result, 10*time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 4 || errors.Is(err, ErrKilled) {
		t.Errorf("err = %v, want the child's own exit 4 after its second SIGINT", err)
	}
	syscall.Kill(readInt(t, filepath.Join(dir, "grandchild")), syscall.SIGKILL)
}

// A command that ends by itself is not signalled.
func TestRunLocalUninterrupted(t *testing.T) {
	out, err := runLocal(context.Background(), "", nil, nil, "sh", "-c", "echo ok; exit 0")
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("runLocal: %q %v", out, err)
	}
	_, err = runLocal(context.Background(), "", nil, nil, "sh", "-c", "echo failing; exit 5")
	var ce *CommandError
	if !errors.As(err, &ce) || ce.ExitCode != 5 || errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want exit status 5", err)
	}
}
