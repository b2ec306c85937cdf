package provision

import (
	"context"
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
	calls             []string
}

func (s *simService) Action(_ context.Context, a string) (int, string, bool, error) {
	s.calls = append(s.calls, a)
	switch a {
	case "start":
		if s.startHangs && !s.running {
			return 0, "", true, nil
		}
		s.running, s.stalePID = true, false
		return 0, "started", false, nil
	case "stop":
		s.running, s.stalePID = false, false
		return 0, "stopped", false, nil
	case "restart":
		s.running = true
		return 0, "", false, nil
	case "status":
		if s.running {
			return 0, "running", false, nil
		}
		return s.statusStopped, "service is stopped", false, nil
	}
	return s.unknownExit, "usage", false, nil
}

func (s *simService) KillService(context.Context) (bool, error) {
	if !s.running {
		return false, nil
	}
	s.running, s.stalePID = false, true
	return true, nil
}

func TestCheckLSB(t *testing.T) {
	cases := []struct {
		name     string
		svc      *simService
		failures []string // checks that must fail, all others pass
	}{
		{"conforming", &simService{statusStopped: 3, unknownExit: 2}, nil},
		{"article: status 0 when stopped, exit 1 on unknown action",
			&simService{statusStopped: 0, unknownExit: 1},
			[]string{"status when stopped", "status after stop", "status when the process died", "unknown action"}},
		{"start never returns", &simService{statusStopped: 3, unknownExit: 2, startHangs: true},
			[]string{"start when stopped", "status when running", "start when running", "start after the process died"}},
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
			fail := map[string]bool{}
			for _, f := range c.failures {
				fail[f] = true
			}
			for _, r := range res {
				if r.Pass == fail[r.Check] {
					t.Errorf("%s: pass=%v got=%d note=%q", r.Check, r.Pass, r.Got, r.Note)
				}
				if !r.Pass && r.Note == "" {
					t.Errorf("%s: a violation must say why", r.Check)
				}
				if r.Got == -1 && !r.Pass && !strings.Contains(r.Note, "did not return") && !strings.Contains(r.Note, "skipped") {
					t.Errorf("%s: note %q", r.Check, r.Note)
				}
			}
			if Violations(res) != len(c.failures) {
				t.Errorf("Violations = %d, want %d", Violations(res), len(c.failures))
			}
		})
	}
}
