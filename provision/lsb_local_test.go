package provision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"halab/lab"
)

// localScript runs the check on this machine: the init script under sh,
// as the node's root would run it, and procs.sh as it runs on the nodes.
// This machine is shared (other tests, other checkouts run daemons that
// land under init too): every action carries a mark in its environment,
// and Kill kills only marked processes, logging any other that the plan
// picked; a lab's node has no one else's daemons.
type localScript struct {
	t      *testing.T
	script string
	env    []string
	mark   string
}

const lsbTestMark = "HALAB_LSB_TEST"

func newLocalScript(t *testing.T, script string, env ...string) *localScript {
	return &localScript{t: t, script: script, env: env, mark: lsbTestMark + "=" + strconv.Itoa(os.Getpid()) + "-" + t.Name()}
}

func (s *localScript) ours(pid int) bool {
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	return err == nil && slices.Contains(strings.Split(string(env), "\x00"), s.mark)
}

func (s *localScript) Action(ctx context.Context, action string) (int, string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", s.script, action)
	cmd.Env = append(append(os.Environ(), s.env...), s.mark)
	cmd.WaitDelay = 5 * time.Second // a daemon that kept our stdout
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return -1, string(out), true, nil
	case err == nil:
		return 0, string(out), false, nil
	case errors.As(err, &exit) && exit.Exited():
		return exit.ExitCode(), string(out), false, nil
	}
	return -1, string(out), false, err
}

func (s *localScript) procs(args ...string) lab.Result {
	cmd := exec.Command("sh", append([]string{"-s"}, args...)...)
	cmd.Stdin = strings.NewReader(procsScript)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	return lab.Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: code}
}

func (s *localScript) Processes(context.Context) (ProcTable, error) {
	return ParseProcs(string(s.procs("list").Stdout))
}

func (s *localScript) Kill(_ context.Context, procs []Proc) (int, error) {
	var mine []Proc
	for _, p := range procs {
		if s.ours(p.PID) {
			mine = append(mine, p)
		} else {
			s.t.Logf("not this test's, not killed: %+v", p)
		}
	}
	if len(mine) == 0 {
		return 0, nil
	}
	return KilledCount(s.procs(KillArgs(mine)...))
}

// A compliant script that keeps its own pid file (/run/NAME.pid, not the
// stand-in's wso2carbon.pid) passes all 16 checks: the died-process
// checks kill the daemon its restart left running, found without its
// pid file; and nothing of it is left running afterwards.
func TestCheckLSBOwnPidFile(t *testing.T) {
	script, err := filepath.Abs("testdata/lsb/own-pidfile.sh")
	if err != nil {
		t.Fatal(err)
	}
	// /run/NAME.pid, NAME unique to this run (other checkouts may run
	// this test at the same time); without root, /run is not ours: the
	// same script, its pid file moved.
	pidFile := fmt.Sprintf("/run/halab-demo-test-%d.pid", os.Getpid())
	if os.Geteuid() != 0 {
		pidFile = filepath.Join(t.TempDir(), "halab-demo.pid")
	}
	r := newLocalScript(t, script, "PIDFILE="+pidFile)
	res, err := CheckLSB(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(LSBPlan) {
		t.Fatalf("%d results for %d checks", len(res), len(LSBPlan))
	}
	for _, x := range res {
		if !x.Pass {
			t.Errorf("%s: %s want %s got %d: %s %s", x.Check, x.Action, x.WantString(), x.Got, x.Result(), x.Note)
		}
	}
	if _, err := os.Stat(pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the plan ends with stop, and %s is still there: %v", pidFile, err)
	}
	if out, err := exec.Command("pgrep", "-f", pidFile).Output(); err == nil {
		t.Errorf("left running: %s", out)
	}
}

// The same check when the script's start leaves nothing to kill: the
// died-process check is reported not run, and it is no violation.
func TestCheckLSBNothingToKill(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "oneshot")
	// a "service" that is a state file, not a process
	os.WriteFile(script, []byte(`#!/bin/sh
f="$(dirname "$0")/on"
case "$1" in
start|restart|force-reload) : >"$f" ;;
stop) rm -f "$f" ;;
status) [ -e "$f" ] && exit 0; exit 3 ;;
*) exit 2 ;;
esac
`), 0o755)
	res, err := CheckLSB(context.Background(), newLocalScript(t, script))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range res {
		switch {
		case x.Check == "status when the process died":
			if !x.NotRun || x.Result() != "not run" || !strings.Contains(x.Note, "left no new process running") {
				t.Errorf("%s: %s %q", x.Check, x.Result(), x.Note)
			}
		case !x.Pass:
			t.Errorf("%s: %s %s", x.Check, x.Result(), x.Note)
		}
	}
	if Violations(res) != 0 || NotRun(res) != 1 {
		t.Errorf("violations %d, not run %d; want 0 and 1", Violations(res), NotRun(res))
	}
}

// procs.sh's listing, as the nodes print it: a command name with spaces
// and parentheses stays whole, the listing's own processes are marked.
func TestParseProcs(t *testing.T) {
	out := "reaper 1\nself 4242\nself 4240\n1 0 6 systemd\n" +
		"812 1 1523 pacemaker-execd\n4240 300 90000 sshd: vagrant@notty\n4242 4240 90001 sh\n" +
		"5000 1 90100 (sd-pam)\n5001 5000 90101 my (odd) name\n"
	tab, err := ParseProcs(out)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Reaper != 1 || !tab.Self[4242] || !tab.Self[4240] || len(tab.Procs) != 6 {
		t.Fatalf("%+v", tab)
	}
	if p := tab.Procs[5]; p.Comm != "my (odd) name" || p.PPID != 5000 || p.Start != 90101 {
		t.Errorf("%+v", p)
	}
	before, _ := ParseProcs("reaper 1\n1 0 6 systemd\n812 1 1523 pacemaker-execd\n5000 1 100 old-java\n")
	got := Started(before, tab)
	// 5000 is a new process (same pid, later start); 4240/4242 are the
	// listing's own; 812's children would be the cluster's
	if len(got) != 2 || got[0].PID != 5000 || got[1].PID != 5001 {
		t.Errorf("Started = %+v", got)
	}
	for _, bad := range []string{"", "reaper x\n1 0 1 init", "1 0\n", "reaper 1\n"} {
		if _, err := ParseProcs(bad); err == nil {
			t.Errorf("ParseProcs(%q) accepted", bad)
		}
	}
}
