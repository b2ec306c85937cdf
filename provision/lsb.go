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
// or locally in tests) and can kill the service's process behind its back.
type ScriptRunner interface {
	// Action runs `script ACTION` and returns its exit code and output;
	// timedOut reports that it did not return within the bound.
	Action(ctx context.Context, action string) (code int, out string, timedOut bool, err error)
	// KillService sends SIGKILL to the service's process, leaving its pid
	// file behind as a crash would. found is false without a live pid.
	KillService(ctx context.Context) (found bool, err error)
}

// LSBResult is one line of the conformance report.
type LSBResult struct {
	Check  string
	Action string
	Want   []int
	Got    int // -1: did not return
	Pass   bool
	Note   string
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
	kill   bool // kill the service's process first
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
	{check: "restart when stopped", action: "restart", want: []int{0}, why: "restart starts a stopped service"},
	{check: "status when the process died", action: "status", want: []int{1, 2, 3}, kill: true, why: "a dead service with a pid file left must not be reported running"},
	{check: "stop when the process died", action: "stop", want: []int{0}},
	{check: "start after the process died", action: "start", want: []int{0}, why: "a stale pid file must not block start"},
	{check: "stop to end stopped", action: "stop", want: []int{0}},
	{check: "unknown action", action: "no-such-action", want: []int{2}, why: "LSB: 2 = invalid argument"},
}

// CheckLSB runs the plan and reports every step; it does not stop at the
// first violation, so a user sees all of them at once.
func CheckLSB(ctx context.Context, r ScriptRunner) ([]LSBResult, error) {
	var out []LSBResult
	for _, s := range LSBPlan {
		res := LSBResult{Check: s.check, Action: s.action, Want: s.want}
		if s.kill {
			found, err := r.KillService(ctx)
			if err != nil {
				return out, err
			}
			if !found {
				res.Note = "skipped: no live service process to kill (did start work?)"
				res.Got = -1
				out = append(out, res)
				continue
			}
		}
		code, text, timedOut, err := r.Action(ctx, s.action)
		if err != nil {
			return out, err
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

// Violations counts failed checks.
func Violations(rs []LSBResult) int {
	n := 0
	for _, r := range rs {
		if !r.Pass {
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
	PIDFile string // the service's pid file, for the died-process checks
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

var killPIDFileScript = Script("kill-pidfile")

// KillService SIGKILLs the process named in the pid file; false when no
// live process is named there.
func (s *NodeScript) KillService(ctx context.Context) (bool, error) {
	res, err := s.Node.SudoScript(ctx, killPIDFileScript, s.PIDFile)
	switch {
	case err != nil:
		return false, err
	case res.ExitCode == 3:
		return false, nil
	}
	return true, res.Err()
}

// CheckScriptPath is where `check-initd --script` puts a user's script.
func CheckScriptPath(service string) string {
	return fmt.Sprintf("/var/lib/halab/check-initd/%s", service)
}
