package prober

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// phasedServer answers according to the time elapsed since its first request.
func phasedServer(t *testing.T, h func(elapsed time.Duration, w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	var once sync.Once
	var t0 time.Time
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { mu.Lock(); t0 = time.Now(); mu.Unlock() })
		mu.Lock()
		el := time.Since(t0)
		mu.Unlock()
		h(el, w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSteadyOwner(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("node1\n"))
	}))
	defer srv.Close()
	p := &Prober{URL: srv.URL, Interval: 20 * time.Millisecond}
	s := p.Run(context.Background(), 300*time.Millisecond)
	rep := Analyze(s, 0)
	t.Log(rep)
	if rep.Samples < 5 || rep.Failures != 0 || len(rep.Outages) != 0 || !rep.Recovered {
		t.Fatalf("unexpected report: %+v", rep)
	}
	if !reflect.DeepEqual(rep.Owners, []string{"node1"}) || rep.OwnerChanges != 0 || rep.DualOwner {
		t.Fatalf("owners: %+v", rep)
	}
}

func TestFailover(t *testing.T) {
	srv := phasedServer(t, func(el time.Duration, w http.ResponseWriter, r *http.Request) {
		switch {
		case el < 300*time.Millisecond:
			w.Write([]byte("node1"))
		case el < 800*time.Millisecond:
			http.Error(w, "down", http.StatusServiceUnavailable)
		default:
			w.Write([]byte("node2\n"))
		}
	})
	p := &Prober{URL: srv.URL, Interval: 20 * time.Millisecond}
	s := p.Run(context.Background(), 1500*time.Millisecond)
	rep := Analyze(s, time.Second)
	t.Log(rep)
	if len(rep.Outages) != 1 {
		t.Fatalf("want 1 outage, got %+v", rep.Outages)
	}
	o := rep.Outages[0]
	if o.Length < 300*time.Millisecond || o.Length > 1500*time.Millisecond || !o.Recovered {
		t.Fatalf("outage %+v", o)
	}
	if !reflect.DeepEqual(rep.Owners, []string{"node1", "node2"}) || rep.OwnerChanges != 1 || rep.DualOwner || !rep.Recovered {
		t.Fatalf("report %+v", rep)
	}
	for _, x := range s {
		if !x.OK && x.Err != "HTTP 503" {
			t.Fatalf("unexpected error %q", x.Err)
		}
	}
	var buf bytes.Buffer
	if err := WriteTimeline(&buf, s); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(s) || !strings.Contains(buf.String(), "\tfail\tHTTP 503\t") || !strings.Contains(lines[0], "\tok\tnode1\t") {
		t.Fatalf("timeline:\n%s", buf.String())
	}
}

func TestHangCountsAsTimeout(t *testing.T) {
	srv := phasedServer(t, func(el time.Duration, w http.ResponseWriter, r *http.Request) {
		if el > 150*time.Millisecond && el < 500*time.Millisecond {
			select { // hang well past the prober's Timeout
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
			return
		}
		w.Write([]byte("node1"))
	})
	p := &Prober{URL: srv.URL, Interval: 30 * time.Millisecond, Timeout: 100 * time.Millisecond}
	s := p.Run(context.Background(), 1200*time.Millisecond)
	rep := Analyze(s, 0)
	t.Log(rep)
	timeouts := 0
	for _, x := range s {
		if !x.OK {
			if x.Err != "timeout" {
				t.Errorf("want timeout error, got %q", x.Err)
			}
			if x.Latency < 90*time.Millisecond || x.Latency > time.Second {
				t.Errorf("timeout latency %v", x.Latency)
			}
			timeouts++
		}
	}
	// The 350 ms hang is one outage of at least 200 ms; on a loaded
	// machine a probe outside it may time out too (a 100 ms timeout), so
	// other, shorter outages are not an error.
	if timeouts == 0 || rep.LongestOutage < 200*time.Millisecond || !rep.Recovered {
		t.Fatalf("timeouts=%d report %+v", timeouts, rep)
	}
	// sequential: no two requests in flight at once
	for i := 1; i < len(s); i++ {
		if s[i].At.Before(s[i-1].At.Add(s[i-1].Latency)) {
			t.Fatalf("sample %d started before %d finished", i, i-1)
		}
	}
}

func TestBounds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("node1"))
	}))
	defer srv.Close()

	t.Run("MaxSamples", func(t *testing.T) {
		p := &Prober{URL: srv.URL, Interval: 10 * time.Millisecond, MaxSamples: 5}
		start := time.Now()
		s := p.Run(context.Background(), time.Hour)
		if len(s) != 5 || time.Since(start) > 5*time.Second {
			t.Fatalf("got %d samples in %v", len(s), time.Since(start))
		}
	})

	t.Run("ctxCancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(150*time.Millisecond, cancel)
		p := &Prober{URL: srv.URL, Interval: 20 * time.Millisecond}
		start := time.Now()
		s := p.Run(ctx, time.Hour)
		if el := time.Since(start); el > time.Second || len(s) == 0 {
			t.Fatalf("Run returned after %v with %d samples", el, len(s))
		}
	})

	t.Run("ctxCancelInFlight", func(t *testing.T) {
		hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}))
		defer hang.Close()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		p := &Prober{URL: hang.URL, Interval: time.Second, Timeout: 10 * time.Second}
		start := time.Now()
		s := p.Run(ctx, time.Hour)
		if el := time.Since(start); el > time.Second {
			t.Fatalf("Run returned after %v", el)
		}
		if len(s) != 0 {
			t.Fatalf("aborted request should not be recorded: %+v", s)
		}
	})

	t.Run("StartStop", func(t *testing.T) {
		p := &Prober{URL: srv.URL, Interval: 20 * time.Millisecond}
		r := p.Start(context.Background(), time.Hour)
		time.Sleep(150 * time.Millisecond)
		start := time.Now()
		s := r.Stop()
		if el := time.Since(start); el > time.Second || len(s) == 0 {
			t.Fatalf("Stop took %v, %d samples", el, len(s))
		}
		if s2 := r.Stop(); len(s2) != len(s) {
			t.Fatalf("second Stop returned %d samples, want %d", len(s2), len(s))
		}
		select {
		case <-r.Done():
		default:
			t.Fatal("Done not closed after Stop")
		}
	})
}

func TestAnalyze(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	ok := func(n int, owner string) Sample { return Sample{At: ms(n), OK: true, Owner: owner} }
	bad := func(n int) Sample { return Sample{At: ms(n), Err: "timeout"} }

	tests := []struct {
		name         string
		in           []Sample
		want         Report // checked fields only, see below
		wantOutages  []Outage
		wantDualAtMs []int
		// the two-owner windows, [from, to] in ms
		wantDualWindowsMs [][2]int
	}{
		{
			name: "empty",
			in:   nil,
			want: Report{},
		},
		{
			name:              "flap A,B,A within window",
			in:                []Sample{ok(0, "A"), ok(100, "B"), ok(200, "A"), ok(300, "A")},
			want:              Report{Samples: 4, OKs: 4, Recovered: true, Owners: []string{"A", "B", "A"}, OwnerChanges: 2, DualOwner: true},
			wantDualAtMs:      []int{200},
			wantDualWindowsMs: [][2]int{{0, 200}},
		},
		{
			name: "A then B after a gap",
			in:   []Sample{ok(0, "A"), bad(100), bad(200), ok(3000, "B"), ok(3100, "B")},
			want: Report{Samples: 5, OKs: 3, Failures: 2, Recovered: true, Owners: []string{"A", "B"}, OwnerChanges: 1,
				LongestOutage: 2900 * time.Millisecond, TotalOutage: 2900 * time.Millisecond},
			wantOutages: []Outage{{Start: ms(100), End: ms(3000), Length: 2900 * time.Millisecond, Failed: 2, Recovered: true}},
		},
		{
			name: "A,B,A but slower than window",
			in:   []Sample{ok(0, "A"), ok(1000, "B"), ok(2500, "A")},
			want: Report{Samples: 3, OKs: 3, Recovered: true, Owners: []string{"A", "B", "A"}, OwnerChanges: 2},
		},
		{
			name: "never recovered",
			in:   []Sample{ok(0, "A"), bad(100), ok(200, "A"), bad(300), bad(400), bad(500)},
			want: Report{Samples: 6, OKs: 2, Failures: 4, Recovered: false, Owners: []string{"A"},
				LongestOutage: 200 * time.Millisecond, TotalOutage: 300 * time.Millisecond},
			wantOutages: []Outage{
				{Start: ms(100), End: ms(200), Length: 100 * time.Millisecond, Failed: 1, Recovered: true},
				{Start: ms(300), End: ms(500), Length: 200 * time.Millisecond, Failed: 3, Recovered: false},
			},
		},
		{
			name:        "all failed",
			in:          []Sample{bad(0), bad(100)},
			want:        Report{Samples: 2, Failures: 2, LongestOutage: 100 * time.Millisecond, TotalOutage: 100 * time.Millisecond},
			wantOutages: []Outage{{Start: ms(0), End: ms(100), Length: 100 * time.Millisecond, Failed: 2}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Analyze(tc.in, time.Second)
			t.Log(got)
			want := tc.want
			want.Outages = tc.wantOutages
			for _, m := range tc.wantDualAtMs {
				want.DualOwnerAt = append(want.DualOwnerAt, ms(m))
			}
			for _, w := range tc.wantDualWindowsMs {
				want.DualOwnerWindows = append(want.DualOwnerWindows, Window{Start: ms(w[0]), End: ms(w[1])})
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestReportString(t *testing.T) {
	r := Report{Samples: 1200, Failures: 3, Outages: make([]Outage, 1), LongestOutage: 2345 * time.Millisecond,
		Owners: []string{"node1", "node2"}, Recovered: true}
	want := "1200 probes, 3 failed; outages: 1 (longest 2.3s); owners: node1 -> node2"
	if got := r.String(); got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if got := Analyze(nil, 0).String(); got != "0 probes, 0 failed; outages: 0; owners: none" {
		t.Fatalf("empty: %q", got)
	}
}
