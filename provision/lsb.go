package provision

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"halab/lab"
)

// ScriptRunner runs an init script's actions somewhere (a node over SSH,
// or locally in tests), and lists and kills processes there, so that the
// check can kill the service behind the script's back without knowing
// where (or whether) the script keeps a pid file.
type ScriptRunner interface {
	// Action runs `script ACTION` and returns its exit code and output;
	// timedOut reports that it did not return within the bound.
	Action(ctx context.Context, action string) (code int, out string, timedOut bool, err error)
	// Processes lists the live processes (procs.sh list).
	Processes(ctx context.Context) (ProcTable, error)
	// Kill sends SIGKILL to those of procs that still run (same pid, same
	// start time) and waits until they are gone; it returns how many it
	// killed.
	Kill(ctx context.Context, procs []Proc) (killed int, err error)
}

// LSBResult is one line of the conformance report.
type LSBResult struct {
	Check  string
	Action string
	Want   []int
	Got    int // -1: did not return, or not run
	Pass   bool
	// NotRun: the check could not be made (its precondition failed, as
	// when there is no service process to kill); it is neither a pass
	// nor a violation, and Note says why.
	NotRun bool
	Note   string
}

// Result is the report's word for r: pass, FAIL or not run.
func (r LSBResult) Result() string {
	switch {
	case r.NotRun:
		return "not run"
	case r.Pass:
		return "pass"
	}
	return "FAIL"
}

func (r LSBResult) WantString() string {
	s := make([]string, len(r.Want))
	for i, w := range r.Want {
		s[i] = strconv.Itoa(w)
	}
	return strings.Join(s, "|")
}

// lsbStep is one entry of the plan: run action, expect one of want.
type lsbStep struct {
	check  string
	action string
	want   []int
	kill   bool // kill the processes the last snap step left running, first
	snap   bool // note the processes this step leaves running, for a later kill
	why    string
}

// LSBPlan is Pacemaker's LSB compliance list ("Is This init Script LSB
// Compatible?", Pacemaker Explained), in an order where each step's
// precondition is the previous step's outcome.
var LSBPlan = []lsbStep{
	{check: "stop to begin from stopped", action: "stop", want: []int{0}, why: "stop must succeed whatever the state"},
	{check: "status when stopped", action: "status", want: []int{3}, why: "LSB: 3 = not running; 0 makes the cluster think it runs everywhere"},
	{check: "stop when stopped", action: "stop", want: []int{0}, why: "stopping a stopped service is a success"},
	{check: "start when stopped", action: "start", want: []int{0}},
	{check: "status when running", action: "status", want: []int{0}},
	{check: "start when running", action: "start", want: []int{0}, why: "starting a running service is a success"},
	{check: "restart when running", action: "restart", want: []int{0}},
	{check: "status after restart", action: "status", want: []int{0}},
	{check: "stop when running", action: "stop", want: []int{0}},
	{check: "status after stop", action: "status", want: []int{3}},
	{check: "restart when stopped", action: "restart", want: []int{0}, snap: true, why: "restart starts a stopped service"},
	{check: "status when the process died", action: "status", want: []int{1, 2, 3}, kill: true, why: "a dead service with a pid file left must not be reported running"},
	{check: "stop when the process died", action: "stop", want: []int{0}},
	{check: "start after the process died", action: "start", want: []int{0}, why: "a stale pid file must not block start"},
	{check: "stop to end stopped", action: "stop", want: []int{0}},
	{check: "unknown action", action: "no-such-action", want: []int{2}, why: "LSB: 2 = invalid argument"},
}

// CheckLSB runs the plan and reports every step; it does not stop at the
// first violation, so a user sees all of them at once. The service's
// process, for the checks after its death, is what `restart when
// stopped` left running: the processes that appeared during that action
// and were handed to init (see Started), whatever the script's pid file.
// When the plan ends, whatever the script started and did not stop is
// killed, so that the node is left as found.
func CheckLSB(ctx context.Context, r ScriptRunner) (out []LSBResult, err error) {
	first, err := r.Processes(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		cctx := context.WithoutCancel(ctx)
		if last, perr := r.Processes(cctx); perr == nil {
			if left := Started(first, last); len(left) > 0 {
				if _, kerr := r.Kill(cctx, left); kerr != nil && err == nil {
					err = kerr
				}
			}
		} else if err == nil {
			err = perr
		}
	}()
	var snapBefore, snapAfter ProcTable
	var snapAction string
	for _, s := range LSBPlan {
		res := LSBResult{Check: s.check, Action: s.action, Want: s.want}
		if s.kill {
			procs := Started(snapBefore, snapAfter)
			killed := 0
			if len(procs) > 0 {
				if killed, err = r.Kill(ctx, procs); err != nil {
					return out, err
				}
			}
			if killed == 0 {
				res.NotRun, res.Got = true, -1
				res.Note = fmt.Sprintf("not run: `%s` left no new process running to kill (did it start the service?)", snapAction)
				out = append(out, res)
				continue
			}
		}
		if s.snap {
			if snapBefore, err = r.Processes(ctx); err != nil {
				return out, err
			}
			snapAction = s.action
		}
		code, text, timedOut, err := r.Action(ctx, s.action)
		if err != nil {
			return out, err
		}
		if s.snap {
			if snapAfter, err = r.Processes(ctx); err != nil {
				return out, err
			}
		}
		res.Got = code
		switch {
		case timedOut:
			res.Got = -1
			res.Note = "did not return in time (an unbounded wait?)"
		default:
			for _, w := range s.want {
				if code == w {
					res.Pass = true
				}
			}
			if !res.Pass {
				res.Note = s.why
				if t := lastLineOf(text); t != "" {
					if res.Note != "" {
						res.Note += "; "
					}
					res.Note += "said: " + t
				}
			}
		}
		out = append(out, res)
	}
	return out, nil
}

func lastLineOf(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 100 {
		l = l[:100] + "..."
	}
	return l
}

// Violations counts failed checks (a check not run is not one).
func Violations(rs []LSBResult) int {
	n := 0
	for _, r := range rs {
		if !r.Pass && !r.NotRun {
			n++
		}
	}
	return n
}

// NotRun counts the checks that could not be made.
func NotRun(rs []LSBResult) int {
	n := 0
	for _, r := range rs {
		if r.NotRun {
			n++
		}
	}
	return n
}

// NodeScript runs an init script on a node as root, each action bounded
// with coreutils' timeout so that a script that waits forever (the
// article's start loop) is reported instead of hanging the check.
type NodeScript struct {
	Node    lab.Runner
	Script  string // path on the node
	Timeout time.Duration
}

func (s *NodeScript) Action(ctx context.Context, action string) (int, string, bool, error) {
	res, err := s.Node.Sudo(ctx, nil, timeoutKill.Argv(TimeoutSeconds(s.Timeout), s.Script, action)...)
	if err != nil {
		return -1, "", false, err
	}
	text := string(res.Stdout) + string(res.Stderr)
	// timeout(1) exits 137 when it had to KILL the script.
	return res.ExitCode, text, res.ExitCode == 137 || res.ExitCode == 124 || res.ExitCode < 0, nil
}

// TimeoutSeconds is a bound as timeout(1) takes it: whole seconds, rounded
// up, and at least 1, since `timeout 0` means no bound at all.
func TimeoutSeconds(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}

var procsScript = Script("procs")

// Processes lists the node's live processes.
func (s *NodeScript) Processes(ctx context.Context) (ProcTable, error) {
	res, err := lab.Check(s.Node.SudoScript(ctx, procsScript, "list"))
	if err != nil {
		return ProcTable{}, err
	}
	return ParseProcs(string(res.Stdout))
}

// Kill SIGKILLs procs on the node.
func (s *NodeScript) Kill(ctx context.Context, procs []Proc) (int, error) {
	res, err := s.Node.SudoScript(ctx, procsScript, KillArgs(procs)...)
	if err != nil {
		return 0, err
	}
	return KilledCount(res)
}

// KillArgs are procs.sh's arguments to kill procs.
func KillArgs(procs []Proc) []string {
	args := []string{"kill"}
	for _, p := range procs {
		args = append(args, fmt.Sprintf("%d:%d", p.PID, p.Start))
	}
	return args
}

// KilledCount reads procs.sh kill's result: exit 3 is "none was alive".
func KilledCount(res lab.Result) (int, error) {
	if res.ExitCode == 3 {
		return 0, nil
	}
	if err := res.Err(); err != nil {
		return 0, err
	}
	return strings.Count(string(res.Stdout), "killed "), nil
}

// CheckScriptPath is where `check-initd --script` puts a user's script.
func CheckScriptPath(service string) string {
	return fmt.Sprintf("/var/lib/halab/check-initd/%s", service)
}

var killPIDFileScript = Script("kill-pidfile")

// KillPIDFile SIGKILLs the process named in pidFile on n, leaving the
// file behind as a crash would (the kill-service fault, on halab's own
// init script, whose pid file is known); false when no live process is
// named there.
func KillPIDFile(ctx context.Context, n lab.Runner, pidFile string) (bool, error) {
	res, err := n.SudoScript(ctx, killPIDFileScript, pidFile)
	switch {
	case err != nil:
		return false, err
	case res.ExitCode == 3:
		return false, nil
	}
	return true, res.Err()
}
