// Package prober is a client-side HTTP prober of a floating virtual IP.
//
// It issues sequential GET requests at a fixed interval, each on a fresh TCP
// connection, and records which node answered (the trimmed response body).
// Analyze turns the samples into outages, owner changes and a flapping /
// split-brain indicator.
package prober

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	defaultInterval   = 100 * time.Millisecond
	maxDefaultTimeout = time.Second
	defaultMaxSamples = 20000
	defaultWindow     = time.Second
	maxBody           = 4096
	maxErrLen         = 120
)

// Sample is the result of one probe.
type Sample struct {
	At      time.Time     // when the request was sent
	Latency time.Duration // time until the body was read or the request failed
	OK      bool          // HTTP 200 with a non-empty body
	Owner   string        // trimmed response body (the node's hostname) when OK
	Err     string        // error text when !OK (short)
}

// Prober probes URL. Zero fields take their defaults.
type Prober struct {
	URL        string
	Interval   time.Duration // between request starts; default 100ms
	Timeout    time.Duration // per request; default = Interval*5 but at most 1s
	MaxSamples int           // hard bound on requests, default 20000
}

func (p *Prober) params() (interval, timeout time.Duration, maxN int) {
	interval = p.Interval
	if interval <= 0 {
		interval = defaultInterval
	}
	timeout = p.Timeout
	if timeout <= 0 {
		timeout = min(interval*5, maxDefaultTimeout)
	}
	maxN = p.MaxSamples
	if maxN <= 0 {
		maxN = defaultMaxSamples
	}
	return interval, timeout, maxN
}

// Run probes until ctx is done, d has passed, or MaxSamples were sent —
// whichever comes first (d <= 0 means no time limit; MaxSamples still bounds
// the run). Requests are sequential: one that takes longer than Interval
// delays the next, there is no pile-up. A request aborted because the run
// itself ended (ctx cancelled or d elapsed) is not recorded, so stopping a
// run never fabricates a failure.
func (p *Prober) Run(ctx context.Context, d time.Duration) []Sample {
	interval, timeout, maxN := p.params()
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}

	tr := &http.Transport{
		Proxy:             nil, // never go through an env proxy: we want the VIP itself
		DialContext:       (&net.Dialer{Timeout: timeout}).DialContext,
		DisableKeepAlives: true, // new TCP connection per probe, so a move is visible
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}

	samples := make([]Sample, 0, min(maxN, 1024))
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for len(samples) < maxN {
		if ctx.Err() != nil {
			break
		}
		s := p.probe(ctx, client, timeout)
		if !s.OK && ctx.Err() != nil {
			break // aborted by the end of the run, not a real failure
		}
		samples = append(samples, s)
		if len(samples) >= maxN {
			break
		}
		select {
		case <-ctx.Done():
			return samples
		case <-ticker.C:
		}
	}
	return samples
}

func (p *Prober) probe(ctx context.Context, client *http.Client, timeout time.Duration) Sample {
	start := time.Now()
	s := Sample{At: start}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	fail := func(msg string) Sample {
		s.Latency = time.Since(start)
		s.Err = msg
		return s
	}
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, p.URL, nil)
	if err != nil {
		return fail(shortErr(err))
	}
	resp, err := client.Do(req)
	if err != nil {
		return fail(shortErr(err))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Sprintf("HTTP %d", resp.StatusCode))
	}
	if err != nil {
		return fail(shortErr(err))
	}
	owner := strings.TrimSpace(string(body))
	if owner == "" {
		return fail("empty body")
	}
	s.Latency = time.Since(start)
	s.OK = true
	s.Owner = owner
	return s
}

func shortErr(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return "timeout"
	}
	msg := err.Error()
	if len(msg) > maxErrLen {
		msg = msg[:maxErrLen] + "..."
	}
	return msg
}

// Run is a background probe started by Prober.Start.
type Run struct {
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
	samples []Sample
}

// Start runs p.Run(ctx, d) in the background.
func (p *Prober) Start(ctx context.Context, d time.Duration) *Run {
	ctx, cancel := context.WithCancel(ctx)
	r := &Run{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.samples = p.Run(ctx, d)
	}()
	return r
}

// Done is closed when the background run has finished on its own
// (d elapsed, MaxSamples reached, ctx done) or after Stop.
func (r *Run) Done() <-chan struct{} { return r.done }

// Stop ends the run, waits for it and returns the samples. Calling it more
// than once returns the same samples.
func (r *Run) Stop() []Sample {
	r.once.Do(r.cancel)
	<-r.done
	return r.samples
}

// Outage is a maximal run of failed samples.
type Outage struct {
	Start     time.Time // At of the first failed sample
	End       time.Time // At of the first OK sample after it, or the last sample's At if never recovered
	Length    time.Duration
	Failed    int  // failed samples in the outage
	Recovered bool // an OK sample followed
}

// Report summarises a probe run.
type Report struct {
	Samples, OKs, Failures int
	Outages                []Outage
	Recovered              bool // last sample OK
	LongestOutage          time.Duration
	TotalOutage            time.Duration
	Owners                 []string // owner sequence, consecutive duplicates collapsed (failures in between do not split a run)
	OwnerChanges           int
	// DualOwner: two different owners answered within Window of each other
	// and alternated back (A,B,A with the two A answers at most window apart)
	// -> flapping/split-brain indicator. DualOwnerAt holds the At of each
	// sample where the owner flipped back.
	DualOwner   bool
	DualOwnerAt []time.Time
	// DualOwnerWindows: for each flip back, from the last answer of the
	// owner before the other one answered to its first answer after.
	DualOwnerWindows []Window
}

// Window is a span of time.
type Window struct{ Start, End time.Time }

type ownerRun struct {
	owner       string
	first, last time.Time
}

// Analyze computes a Report. window <= 0 means 1s.
func Analyze(samples []Sample, window time.Duration) Report {
	if window <= 0 {
		window = defaultWindow
	}
	var r Report
	r.Samples = len(samples)
	var cur *Outage
	var runs []ownerRun
	for _, s := range samples {
		if !s.OK {
			r.Failures++
			if cur == nil {
				cur = &Outage{Start: s.At}
			}
			cur.Failed++
			continue
		}
		r.OKs++
		if cur != nil {
			cur.End, cur.Recovered = s.At, true
			r.addOutage(*cur)
			cur = nil
		}
		if n := len(runs); n > 0 && runs[n-1].owner == s.Owner {
			runs[n-1].last = s.At
		} else {
			runs = append(runs, ownerRun{owner: s.Owner, first: s.At, last: s.At})
		}
	}
	if cur != nil {
		cur.End = samples[len(samples)-1].At
		r.addOutage(*cur)
	}
	r.Recovered = len(samples) > 0 && samples[len(samples)-1].OK
	for _, o := range runs {
		r.Owners = append(r.Owners, o.owner)
	}
	if len(runs) > 0 {
		r.OwnerChanges = len(runs) - 1
	}
	for i := 0; i+2 < len(runs); i++ {
		a, back := runs[i], runs[i+2]
		if a.owner == back.owner && back.first.Sub(a.last) <= window {
			r.DualOwner = true
			r.DualOwnerAt = append(r.DualOwnerAt, back.first)
			r.DualOwnerWindows = append(r.DualOwnerWindows, Window{Start: a.last, End: back.first})
		}
	}
	return r
}

func (r *Report) addOutage(o Outage) {
	o.Length = o.End.Sub(o.Start)
	r.Outages = append(r.Outages, o)
	r.TotalOutage += o.Length
	r.LongestOutage = max(r.LongestOutage, o.Length)
}

// String is a one-line human summary, e.g.
// "1200 probes, 3 failed; outages: 1 (longest 2.3s); owners: node1 -> node2".
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d probes, %d failed; outages: %d", r.Samples, r.Failures, len(r.Outages))
	if len(r.Outages) > 0 {
		fmt.Fprintf(&b, " (longest %s)", roundDur(r.LongestOutage))
	}
	owners := "none"
	if len(r.Owners) > 0 {
		owners = strings.Join(r.Owners, " -> ")
	}
	fmt.Fprintf(&b, "; owners: %s", owners)
	if r.DualOwner {
		fmt.Fprintf(&b, "; DUAL OWNER x%d", len(r.DualOwnerAt))
	}
	if r.Samples > 0 && !r.Recovered {
		b.WriteString("; NOT RECOVERED")
	}
	return b.String()
}

func roundDur(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// WriteTimeline writes one tab-separated line per sample:
// RFC3339Nano time (UTC), "ok"/"fail", owner or error, latency.
func WriteTimeline(w io.Writer, samples []Sample) error {
	for _, s := range samples {
		status, what := "ok", s.Owner
		if !s.OK {
			status, what = "fail", s.Err
		}
		what = strings.NewReplacer("\t", " ", "\n", " ").Replace(what)
		if _, err := fmt.Fprintf(w, "%s\t%s\t%s\t%s\n",
			s.At.UTC().Format(time.RFC3339Nano), status, what, s.Latency.Round(time.Microsecond)); err != nil {
			return err
		}
	}
	return nil
}
