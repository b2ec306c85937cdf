package provision

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// simService models an init script over a service that can run or not;
// buggy switches on the article's status bug and its unbounded start.
type simService struct {
	running, stalePID bool
	statusStopped     int // exit code of status when stopped
	startHangs        bool
	unknownExit       int
	// attached: the service stays under the SSH session that ran start
	// (not a daemon), so no process is handed to init
	attached bool
	calls    []string
	gen      uint64 // start time of the service's current process
	killed   []Proc
}

// Processes is a machine with init, sshd and a cluster daemon; every
// action opens a new SSH session, and the cluster daemon runs a new
// monitor now and then: neither is the service's.
func (s *simService) Processes(context.Context) (ProcTable, error) {
	n := uint64(len(s.calls))
	t := ProcTable{Reaper: 1, Self: map[int]bool{900: true, 901: true}, Procs: []Proc{
		{PID: 1, Start: 1, Comm: "systemd"}, {PID: 50, PPID: 1, Start: 5, Comm: "sshd"},
		{PID: 60, PPID: 1, Start: 6, Comm: "pacemaker-execd"},
		{PID: 900, PPID: 50, Start: 1000 + n, Comm: "sshd"}, {PID: 901, PPID: 900, Start: 1000 + n, Comm: "sh"},
		{PID: 700, PPID: 60, Start: 2000 + n, Comm: "IPaddr2"},
	}}
	if s.running {
		parent := 1
		if s.attached {
			parent = 900
		}
		t.Procs = append(t.Procs, Proc{PID: 300, PPID: parent, Start: s.gen, Comm: "sh"},
			Proc{PID: 301, PPID: 300, Start: s.gen, Comm: "java"})
	}
	return t, nil
}

func (s *simService) Kill(_ context.Context, procs []Proc) (int, error) {
	s.killed = append(s.killed, procs...)
	n := 0
	for _, p := range procs {
		if s.running && p.Start == s.gen && (p.PID == 300 || p.PID == 301) {
			n++
		}
		if p.PID < 300 || p.PID > 301 {
			return 0, fmt.Errorf("killed %d (%s), not the service's", p.PID, p.Comm)
		}
	}
	if n > 0 {
		s.running, s.stalePID = false, true
	}
	return n, nil
}

func (s *simService) Action(_ context.Context, a string) (int, string, bool, error) {
	s.calls = append(s.calls, a)
	switch a {
	case "start":
		if s.startHangs && !s.running {
			return 0, "", true, nil
		}
		if !s.running {
			s.gen = uint64(len(s.calls)) * 10
		}
		s.running, s.stalePID = true, false
		return 0, "started", false, nil
	case "stop":
		s.running, s.stalePID = false, false
		return 0, "stopped", false, nil
	case "restart":
		s.running, s.gen = true, uint64(len(s.calls))*10
		return 0, "", false, nil
	case "status":
		if s.running {
			return 0, "running", false, nil
		}
		return s.statusStopped, "service is stopped", false, nil
	}
	return s.unknownExit, "usage", false, nil
}

func TestCheckLSB(t *testing.T) {
	cases := []struct {
		name     string
		svc      *simService
		failures []string // checks that must fail, all others pass
		notRun   []string // checks that cannot run
	}{
		{"conforming", &simService{statusStopped: 3, unknownExit: 2}, nil, nil},
		{"article: status 0 when stopped, exit 1 on unknown action",
			&simService{statusStopped: 0, unknownExit: 1},
			[]string{"status when stopped", "status after stop", "status when the process died", "unknown action"}, nil},
		{"start never returns", &simService{statusStopped: 3, unknownExit: 2, startHangs: true},
			[]string{"start when stopped", "status when running", "start when running", "start after the process died"}, nil},
		{"a service that start does not leave to init: the died-process check is not run, not failed",
			&simService{statusStopped: 3, unknownExit: 2, attached: true}, nil,
			[]string{"status when the process died"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := CheckLSB(context.Background(), c.svc)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != len(LSBPlan) {
				t.Fatalf("%d results for %d checks: a violation must not stop the run", len(res), len(LSBPlan))
			}
			fail, notRun := map[string]bool{}, map[string]bool{}
			for _, f := range c.failures {
				fail[f] = true
			}
			for _, f := range c.notRun {
				notRun[f] = true
			}
			for _, r := range res {
				if r.Pass == (fail[r.Check] || notRun[r.Check]) || r.NotRun != notRun[r.Check] {
					t.Errorf("%s: %s got=%d note=%q", r.Check, r.Result(), r.Got, r.Note)
				}
				if !r.Pass && r.Note == "" {
					t.Errorf("%s: a violation must say why", r.Check)
				}
				if r.NotRun && (r.Result() != "not run" || !strings.HasPrefix(r.Note, "not run: `restart` left no new process")) {
					t.Errorf("%s: not run reported as %q, %q", r.Check, r.Result(), r.Note)
				}
				if r.Got == -1 && !r.Pass && !strings.Contains(r.Note, "did not return") && !r.NotRun {
					t.Errorf("%s: note %q", r.Check, r.Note)
				}
			}
			if Violations(res) != len(c.failures) {
				t.Errorf("Violations = %d, want %d", Violations(res), len(c.failures))
			}
			if NotRun(res) != len(c.notRun) {
				t.Errorf("NotRun = %d, want %d", NotRun(res), len(c.notRun))
			}
			// Only the service was killed: never the SSH sessions, nor the
			// cluster daemon's monitor that appeared meanwhile.
			for _, p := range c.svc.killed {
				if p.PID != 300 && p.PID != 301 {
					t.Errorf("killed %+v", p)
				}
			}
		})
	}
}
