package report

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"halab/scenarios/prober"
)

// The timeline picture: time across, one lane per node with the probes it
// answered, a lane of failed probes, and over them the fault's window, the
// outages, the two-owner windows and the bound. Everything is placed by
// one linear scale, x(t) = Left + (t - From) * Scale, t an offset from the
// first probe.
const (
	tlWidth    = 960.0
	tlLeft     = 112.0 // lane labels to the left
	tlRight    = tlWidth - 28
	labelRowH  = 15.0 // rows of marker labels above the lanes
	laneH      = 26.0
	laneGap    = 6.0
	eventRowH  = 22.0
	bracketH   = 30.0
	axisH      = 34.0
	charW      = 7.0 // width of a (bold) label character, for placing labels
	labelRows  = 3
	dualWindow = time.Second // as the scenarios' prober.Analyze
)

// timelineView is the laid-out picture; the template only prints it.
type timelineView struct {
	W, H        float64
	Left, Right float64
	From, To    time.Duration
	Scale       float64 // px per second
	Interval    time.Duration
	Origin      time.Duration // where the axis labels count from
	OriginWhat  string
	LanesTop    float64
	LanesBottom float64
	Lanes       []lane
	Fault       *span
	Outages     []span
	Dual        []span
	Split       []span   // the audits found the VIP on two nodes
	Markers     []marker // injection, heal
	Bound       *bracket
	EventsY     float64
	Events      []eventMark
	Labels      []label
	Ticks       []tick
	AxisY       float64
	Title       string // accessible description
}

type lane struct {
	Name   string
	Class  string // node, failed
	Color  string
	Y, H   float64
	Note   string // e.g. "faulted"
	Runs   []span // consecutive probes of this lane, as one bar
	Probes []mark
}

type mark struct{ X, W float64 }

type span struct {
	X, W    float64
	From    time.Duration // offsets from the first probe
	To      time.Duration
	Class   string
	Tip     string
	Label   string
	Longest bool
}

type marker struct {
	X     float64
	At    time.Duration
	Class string // inject, heal
	Tip   string
}

type bracket struct {
	X, W, Y float64
	// LabelX and LabelAnchor place the label: centred under the bracket,
	// or from its start when it is wider than the bracket.
	LabelX      float64
	LabelAnchor string
	From        time.Duration
	Length      time.Duration
	Class       string // within, beyond
	Label       string
}

type eventMark struct {
	X, Y  float64
	At    time.Duration
	N     int
	Class string // audit, fence
	Tip   string
}

type label struct {
	X, Y  float64
	Text  string
	Class string
}

type tick struct {
	X     float64
	Label string
	Major bool
}

// x places an offset from the first probe.
func (v *timelineView) x(t time.Duration) float64 {
	return v.Left + (t-v.From).Seconds()*v.Scale
}

var laneColors = []string{"#2b6cb0", "#1a9b73", "#b7791f", "#6b46c1"}

// layoutTimeline lays out the timeline of e; nodes are the lab's nodes in
// lab.yaml order (nil: the owners the prober saw), fencing says whether
// fence events get a row even when there are none.
func layoutTimeline(e prober.Entry, nodes []string, fencing bool) *timelineView {
	tl := e.Timeline
	if tl == nil || len(tl.Probes) == 0 {
		return nil
	}
	samples := tl.Samples()
	rep := prober.Analyze(samples, dualWindow)
	v := &timelineView{W: tlWidth, Left: tlLeft, Right: tlRight, Interval: probeInterval(tl.Probes)}

	// The time range: the probes, the heal and the end of the bound.
	v.From = 0
	end := tl.End() + v.Interval
	injected, healed, boundFrom := offsetOf(tl, tl.Injected), offsetOf(tl, tl.Healed), offsetOf(tl, tl.BoundFrom)
	if boundFrom == nil {
		boundFrom = injected
	}
	if healed != nil {
		end = max(end, *healed)
	}
	if boundFrom != nil && e.Bound > 0 {
		end = max(end, *boundFrom+e.Bound)
	}
	v.To = end + end/50
	v.Scale = (v.Right - v.Left) / (v.To - v.From).Seconds()
	v.Origin, v.OriginWhat = 0, "the first probe"
	if injected != nil {
		v.Origin, v.OriginWhat = *injected, "the injection"
	}

	// Lanes: the lab's nodes, then any other owner, then failed probes.
	names := slices.Clone(nodes)
	for _, o := range rep.Owners {
		if !slices.Contains(names, o) {
			names = append(names, o)
		}
	}
	if tl.Node != "" && !slices.Contains(names, tl.Node) {
		names = append(names, tl.Node)
	}
	y := labelRowH*labelRows + 8
	v.LanesTop = y
	byName := map[string]int{}
	for i, n := range names {
		l := lane{Name: n, Class: "node", Color: laneColors[i%len(laneColors)], Y: y, H: laneH}
		if n == tl.Node && tl.Fault != "" {
			l.Note = tl.Fault
		}
		byName[n] = len(v.Lanes)
		v.Lanes = append(v.Lanes, l)
		y += laneH + laneGap
	}
	failed := len(v.Lanes)
	v.Lanes = append(v.Lanes, lane{Name: "no answer", Class: "failed", Color: "#c53030", Y: y, H: laneH})
	y += laneH
	v.LanesBottom = y

	// Probes, and runs of consecutive probes in one lane as bars.
	pw := min(max(v.Interval.Seconds()*v.Scale*0.7, 1), 6)
	runStart := -1
	for i, p := range tl.Probes {
		li := failed
		if p.Owner != "" {
			li = byName[p.Owner]
		}
		v.Lanes[li].Probes = append(v.Lanes[li].Probes, mark{X: v.x(p.T), W: pw})
		if runStart < 0 {
			runStart = i
		}
		if i+1 < len(tl.Probes) && laneOf(tl.Probes[i+1], byName, failed) == li {
			continue
		}
		v.Lanes[li].Runs = append(v.Lanes[li].Runs, v.runSpan(tl, runStart, i, pw))
		runStart = -1
	}

	// The fault's window, from the injection to the heal (or the end).
	if injected != nil {
		to, open := v.To, true
		if healed != nil {
			to, open = *healed, false
		}
		f := v.spanOf(*injected, to, "fault")
		f.Tip = fmt.Sprintf("%s of %s from %s", tl.Fault, tl.Node, clock(tl.Injected))
		if open {
			f.Tip += ", not healed while the scenario ran"
		} else {
			f.Tip += fmt.Sprintf(" to %s (%s)", clock(tl.Healed), seconds(*healed-*injected))
		}
		v.Fault = &f
		v.Markers = append(v.Markers, marker{X: v.x(*injected), At: *injected, Class: "inject", Tip: f.Tip})
		v.addLabel(v.x(*injected), "start", "inject", fmt.Sprintf("%s %s", tl.Fault, tl.Node))
	}
	if healed != nil {
		v.Markers = append(v.Markers, marker{X: v.x(*healed), At: *healed, Class: "heal", Tip: "heal from " + clock(tl.Healed)})
		v.addLabel(v.x(*healed), "start", "heal", "heal")
	}

	// Outages: every run of failed probes, the longest labelled.
	longest := -1
	for i, o := range rep.Outages {
		if longest < 0 || o.Length > rep.Outages[longest].Length {
			longest = i
		}
	}
	for i, o := range rep.Outages {
		s := v.spanOf(tl.Offset(o.Start), tl.Offset(o.End), "outage")
		s.Longest = i == longest
		s.Label = "no answer " + seconds(o.Length)
		if !o.Recovered {
			s.Label += ", not recovered"
		}
		s.Tip = fmt.Sprintf("%s: %d failed probes from %s to %s", s.Label, o.Failed, clock(o.Start), clock(o.End))
		v.Outages = append(v.Outages, s)
		if s.Longest || s.W > float64(len(s.Label))*charW {
			v.addLabel(s.X+s.W/2, "middle", "outage", s.Label)
		}
	}

	// Two-owner windows: an owner answered again within a second of the
	// other's answers (A, B, A), as the prober flags it.
	for _, w := range mergeWindows(rep.DualOwnerWindows) {
		s := v.spanOf(tl.Offset(w.Start), tl.Offset(w.End), "dual")
		s.Label = "two owners"
		s.Tip = fmt.Sprintf("two nodes answered from %s to %s", clock(w.Start), clock(w.End))
		v.Dual = append(v.Dual, s)
		v.addLabel(s.X+s.W/2, "middle", "dual", s.Label)
	}

	// Audit and fence events within the picture.
	var evs []prober.Event
	n := 0
	for _, ev := range tl.Events {
		if ev.Kind == prober.FenceEvent || ev.Kind == prober.AuditEvent {
			n++
			if at := tl.Offset(ev.At); at >= v.From && at <= v.To {
				evs = append(evs, ev)
				v.Events = append(v.Events, eventMark{X: v.x(at), At: at, N: n, Class: ev.Kind, Tip: eventTip(ev)})
			}
		}
	}
	if len(evs) > 0 || fencing {
		y += laneGap
		v.EventsY = y + eventRowH/2
		for i := range v.Events {
			v.Events[i].Y = v.EventsY
		}
		y += eventRowH
	}
	// Where the audits found the VIP on two nodes: from the first audit
	// that saw it to the first that did not (between audits, unknown).
	for _, w := range splitWindows(tl, v.To) {
		from, to := max(w.from, v.From), min(w.to, v.To)
		if to <= from {
			continue
		}
		s := v.spanOf(from, to, "split")
		s.Label = "VIP on two nodes"
		s.Tip = w.tip
		v.Split = append(v.Split, s)
		v.addLabel(s.X+s.W/2, "middle", "split", s.Label)
	}

	// The bound, as a bracket from where the scenario counts it.
	if boundFrom != nil && e.Bound > 0 {
		y += 8
		b := &bracket{X: v.x(*boundFrom), W: e.Bound.Seconds() * v.Scale, Y: y, From: *boundFrom, Length: e.Bound, Class: "within"}
		b.Label = "bound " + seconds(e.Bound)
		if e.Outage > e.Bound {
			b.Class = "beyond"
			b.Label += fmt.Sprintf(": outage %s beyond it", seconds(e.Outage))
		}
		b.LabelX, b.LabelAnchor = b.X+b.W/2, "middle"
		if lw := float64(len(b.Label)) * charW; lw > b.W {
			b.LabelX, b.LabelAnchor = b.X, "start"
			if b.X+lw > v.W {
				b.LabelX, b.LabelAnchor = b.X+b.W, "end"
			}
		}
		v.Bound = b
		y += bracketH - 8
	}

	v.AxisY = y + 6
	v.Ticks = ticks(v)
	v.H = v.AxisY + axisH
	v.Title = fmt.Sprintf("%s: %d probes over %s; %s", e.Scenario, len(tl.Probes), seconds(tl.End()), rep.String())
	return v
}

type splitWindow struct {
	from, to time.Duration
	tip      string
}

func splitWindows(tl *prober.Timeline, end time.Duration) []splitWindow {
	var out []splitWindow
	var open *splitWindow
	for _, ev := range tl.Events {
		if ev.Kind != prober.AuditEvent {
			continue
		}
		at := tl.Offset(ev.At)
		switch {
		case len(ev.VIP) >= 2 && open == nil:
			open = &splitWindow{from: at, tip: fmt.Sprintf("the audit at %s found the VIP on %s", clock(ev.At), strings.Join(ev.VIP, " and "))}
		case len(ev.VIP) < 2 && open != nil:
			open.to = at
			open.tip += fmt.Sprintf("; the audit at %s on %s alone", clock(ev.At), strings.Join(ev.VIP, ", "))
			out = append(out, *open)
			open = nil
		}
	}
	if open != nil {
		open.to = end
		open.tip += "; no later audit in the scenario saw one holder"
		out = append(out, *open)
	}
	return out
}

func laneOf(p prober.Probe, byName map[string]int, failed int) int {
	if p.Owner == "" {
		return failed
	}
	return byName[p.Owner]
}

func offsetOf(tl *prober.Timeline, at time.Time) *time.Duration {
	if at.IsZero() {
		return nil
	}
	d := tl.Offset(at)
	return &d
}

func (v *timelineView) spanOf(from, to time.Duration, class string) span {
	return span{X: v.x(from), W: (to - from).Seconds() * v.Scale, From: from, To: to, Class: class}
}

func (v *timelineView) runSpan(tl *prober.Timeline, first, last int, pw float64) span {
	a, b := tl.Probes[first], tl.Probes[last]
	s := v.spanOf(a.T, b.T, "run")
	s.W += pw
	n := last - first + 1
	if a.Owner != "" {
		s.Tip = fmt.Sprintf("%s answered %d probe(s), %s to %s", a.Owner, n, clock(tl.Start.Add(a.T)), clock(tl.Start.Add(b.T)))
	} else {
		errs := map[string]int{}
		for _, p := range tl.Probes[first : last+1] {
			errs[p.Err]++
		}
		var es []string
		for e, c := range errs {
			es = append(es, fmt.Sprintf("%s (%d)", e, c))
		}
		sort.Strings(es)
		s.Tip = fmt.Sprintf("%d probe(s) failed, %s to %s: %s", n, clock(tl.Start.Add(a.T)), clock(tl.Start.Add(b.T)), strings.Join(es, "; "))
	}
	return s
}

// addLabel puts a label in the first row above the lanes where it
// overlaps no other label (the last row when none is free).
func (v *timelineView) addLabel(x float64, anchor, class, text string) {
	w := float64(len(text)) * charW
	left := x
	if anchor == "middle" {
		left = x - w/2
	}
	left = max(left, 2)
	if left+w > v.W-2 {
		left = v.W - 2 - w
	}
	row := labelRows - 1
	for r := range labelRows {
		free := true
		for _, l := range v.Labels {
			if l.Y != labelY(r) {
				continue
			}
			lw := float64(len(l.Text)) * charW
			if left < l.X+lw+6 && l.X < left+w+6 {
				free = false
				break
			}
		}
		if free {
			row = r
			break
		}
	}
	v.Labels = append(v.Labels, label{X: left, Y: labelY(row), Text: text, Class: class})
}

func labelY(row int) float64 { return labelRowH*float64(row) + 12 }

// probeInterval is the median time between probes.
func probeInterval(ps []prober.Probe) time.Duration {
	if len(ps) < 2 {
		return 100 * time.Millisecond
	}
	gaps := make([]time.Duration, len(ps)-1)
	for i := range gaps {
		gaps[i] = ps[i+1].T - ps[i].T
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}

// mergeWindows joins overlapping windows, so that a flapping VIP gives
// one highlighted window, not dozens.
func mergeWindows(ws []prober.Window) []prober.Window {
	ws = slices.Clone(ws)
	slices.SortFunc(ws, func(a, b prober.Window) int { return a.Start.Compare(b.Start) })
	var out []prober.Window
	for _, w := range ws {
		if n := len(out); n > 0 && !w.Start.After(out[n-1].End) {
			if w.End.After(out[n-1].End) {
				out[n-1].End = w.End
			}
			continue
		}
		out = append(out, w)
	}
	return out
}

// ticks are the axis' ticks, every step from the origin.
func ticks(v *timelineView) []tick {
	span := (v.To - v.From).Seconds()
	step := 0.1
	for _, s := range []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600} {
		step = s
		if span/s <= 12 {
			break
		}
	}
	origin := v.Origin.Seconds()
	var out []tick
	for k := math.Ceil((v.From.Seconds() - origin) / step); ; k++ {
		t := origin + k*step
		if t > v.To.Seconds()+1e-9 {
			break
		}
		lbl := trimFloat(k*step+0) + " s" // +0: no "-0"
		if k > 0 {
			lbl = "+" + lbl
		}
		out = append(out, tick{X: v.x(time.Duration(t * float64(time.Second))), Label: strings.Replace(lbl, "-", "−", 1), Major: k == 0})
	}
	return out
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	return strings.TrimSuffix(s, ".0")
}

func eventTip(ev prober.Event) string {
	what := "audit"
	if ev.Kind == prober.FenceEvent {
		what = "fence " + ev.Node
	}
	return fmt.Sprintf("%s at %s: %s", what, clock(ev.At), ev.Text)
}

// seconds prints a duration as the page does: 7.71 s, 480 ms.
func seconds(d time.Duration) string {
	switch {
	case d < 0:
		return "−" + seconds(-d)
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d < 100*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05.000") }
