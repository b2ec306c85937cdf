package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"halab/scenarios/prober"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// probes every 100 ms over [0, until): owner(t) names who answered at t,
// "" for a failed probe.
func probes(until float64, owner func(t float64) string) []prober.Probe {
	var ps []prober.Probe
	for i := 0; float64(i)*0.1 < until-1e-9; i++ {
		t := float64(i) / 10
		p := prober.Probe{T: sec(t), Latency: 3 * time.Millisecond, Owner: owner(t)}
		if p.Owner == "" {
			p.Err = "dial tcp 192.168.77.20:8080: connect: no route to host"
		}
		ps = append(ps, p)
	}
	return ps
}

// A power-off: node1 answers until 3.0 s, nothing until 5.3 s, node2
// after; injected at 2.95 s, healed at 11 s, bound 10 s.
func powerOff() prober.Entry {
	tl := &prober.Timeline{
		Start: t0,
		Probes: probes(8, func(t float64) string {
			switch {
			case t < 3.0-1e-9:
				return "node1"
			case t < 5.3-1e-9:
				return ""
			}
			return "node2"
		}),
		Fault: "power-off", Node: "node1",
		Injected: t0.Add(sec(2.95)), BoundFrom: t0.Add(sec(2.95)), Healed: t0.Add(sec(11)),
		Events: []prober.Event{
			{At: t0.Add(-sec(1)), Kind: prober.AuditEvent, Text: "VIP on [node1], service on [node1]; node1 sees [node1 node2]; node2 sees [node1 node2]"},
			{At: t0.Add(sec(7.5)), Kind: prober.AuditEvent, Text: "VIP on [node2], service on [node2]; node1 unreachable; node2 sees [node2]"},
		},
	}
	rep := prober.Analyze(tl.Samples(), time.Second)
	e := prober.NewEntry("power-off", "corosync", 10*time.Second, rep)
	e.Timeline = tl
	return e
}

// A flapping VIP: node1, then node2 for 0.3 s, then node1 again.
func flapping() prober.Entry {
	tl := &prober.Timeline{
		Start: t0,
		Probes: probes(6, func(t float64) string {
			if t > 2.95 && t < 3.35 {
				return "node2"
			}
			return "node1"
		}),
		Fault: "partition", Node: "node1", Injected: t0.Add(sec(1)), BoundFrom: t0.Add(sec(1)),
	}
	rep := prober.Analyze(tl.Samples(), time.Second)
	e := prober.NewEntry("partition", "corosync", 10*time.Second, rep)
	e.Timeline = tl
	return e
}

// elem is an SVG element with its attributes, in document order.
type elem struct {
	Name  string
	Attrs map[string]string
	Text  string
}

func (e elem) class() string { return e.Attrs["class"] }

func (e elem) num(t *testing.T, a string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(e.Attrs[a], 64)
	if err != nil {
		t.Fatalf("%s %s=%q: %v", e.Name, a, e.Attrs[a], err)
	}
	return v
}

// svgOf renders e's scenario section alone and parses its timeline.
func svgOf(t *testing.T, e prober.Entry, lab *Lab) ([]elem, *timelineView) {
	t.Helper()
	run := &Run{Lab: lab, Scenarios: []Scenario{{ID: "sc-x", Name: e.Scenario, Result: prober.Passed, Entry: e, HasEntry: true}}}
	var b bytes.Buffer
	if err := Render(&b, run, Options{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	i, j := strings.Index(page, `<svg class="timeline"`), strings.LastIndex(page, "</svg>")
	if i < 0 || j < 0 {
		t.Fatalf("no timeline in the page")
	}
	d := xml.NewDecoder(strings.NewReader(page[i : j+len("</svg>")]))
	var out []elem
	var stack []int
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			el := elem{Name: tk.Name.Local, Attrs: map[string]string{}}
			for _, a := range tk.Attr {
				el.Attrs[a.Name.Local] = a.Value
			}
			out = append(out, el)
			stack = append(stack, len(out)-1)
		case xml.CharData:
			if len(stack) > 0 {
				out[stack[len(stack)-1]].Text += string(tk)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 || len(out) == 0 {
		t.Fatalf("the timeline is not well-formed SVG")
	}
	var names []string
	if lab != nil {
		for _, n := range lab.Nodes {
			names = append(names, n.Name)
		}
	}
	return out, layoutTimeline(e, names, lab.FencingOn())
}

func find(els []elem, name, class string) []elem {
	var out []elem
	for _, e := range els {
		if e.Name == name && (class == "" || strings.Contains(" "+e.class()+" ", " "+class+" ")) {
			out = append(out, e)
		}
	}
	return out
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 0.011 {
		t.Errorf("%s: %.3f, want %.3f", what, got, want)
	}
}

var twoNodes = &Lab{Name: "halab", Stack: "corosync", Fencing: "none", Nodes: []Node{{Name: "node1"}, {Name: "node2"}}}

func TestOutageWidthIsLengthTimesScale(t *testing.T) {
	e := powerOff()
	els, v := svgOf(t, e, twoNodes)
	if e.Outage != 2300*time.Millisecond {
		t.Fatalf("fixture: outage %s", e.Outage)
	}
	// The scale is the axis': one second between ticks is Scale px.
	ticks := find(els, "line", "tick")
	if len(ticks) < 3 {
		t.Fatalf("%d ticks", len(ticks))
	}
	step := ticks[1].num(t, "x1") - ticks[0].num(t, "x1")
	stepSec := tickSeconds(t, els)
	near(t, "px per second on the axis", step/stepSec, v.Scale)

	out := find(els, "rect", "outage")
	if len(out) != 1 {
		t.Fatalf("%d outage windows, want 1", len(out))
	}
	near(t, "outage width", out[0].num(t, "width"), e.Outage.Seconds()*v.Scale)
	near(t, "outage start", out[0].num(t, "x"), v.Left+3.0*v.Scale)
	if !strings.Contains(out[0].class(), "longest") {
		t.Error("the only outage is not marked the longest")
	}
	labels := find(els, "text", "outage")
	if len(labels) != 1 || !strings.Contains(labels[0].Text, "2.30 s") {
		t.Errorf("outage label: %+v", labels)
	}
}

// tickSeconds reads the step between the first two tick labels.
func tickSeconds(t *testing.T, els []elem) float64 {
	t.Helper()
	var vals []float64
	for _, e := range find(els, "text", "") {
		s, ok := strings.CutSuffix(strings.TrimPrefix(strings.ReplaceAll(e.Text, "−", "-"), "+"), " s")
		if v, err := strconv.ParseFloat(s, 64); ok && err == nil {
			vals = append(vals, v)
		}
	}
	if len(vals) < 2 {
		t.Fatalf("tick labels: %v", vals)
	}
	return vals[1] - vals[0]
}

func TestMarkersSitAtTheirTimes(t *testing.T) {
	e := powerOff()
	els, v := svgOf(t, e, twoNodes)
	x := func(s float64) float64 { return v.Left + s*v.Scale }
	for _, m := range []struct {
		class string
		at    float64
	}{{"inject", 2.95}, {"heal", 11}} {
		ls := find(els, "line", m.class)
		if len(ls) != 1 {
			t.Fatalf("%d %s markers", len(ls), m.class)
		}
		near(t, m.class+" x1", ls[0].num(t, "x1"), x(m.at))
		near(t, m.class+" x2", ls[0].num(t, "x2"), x(m.at))
	}
	// The fault's window: from the injection to the heal.
	f := find(els, "rect", "fault")
	if len(f) != 1 {
		t.Fatalf("%d fault windows", len(f))
	}
	near(t, "fault x", f[0].num(t, "x"), x(2.95))
	near(t, "fault width", f[0].num(t, "width"), (11-2.95)*v.Scale)
	// The bound: a bracket from the injection, 10 s long.
	b := find(els, "path", "bound")
	if len(b) != 1 {
		t.Fatalf("%d bounds", len(b))
	}
	var x1, y1, y2, x2, y3 float64
	if _, err := fmt.Sscanf(b[0].Attrs["d"], "M %f %f V %f H %f V %f", &x1, &y1, &y2, &x2, &y3); err != nil {
		t.Fatalf("bound path %q: %v", b[0].Attrs["d"], err)
	}
	near(t, "bound from", x1, x(2.95))
	near(t, "bound to", x2, x(12.95))
	if !strings.Contains(b[0].class(), "within") {
		t.Errorf("an outage of 2.3 s within a 10 s bound drawn as %q", b[0].class())
	}
	// The audit during the picture at its time; the one before the first
	// probe is listed, not drawn.
	ev := find(els, "circle", "audit")
	if len(ev) != 1 {
		t.Fatalf("%d audit markers, want 1", len(ev))
	}
	near(t, "audit x", ev[0].num(t, "cx"), x(7.5))
	// Every probe in its lane, at its time.
	probes := find(els, "rect", "probe")
	if len(probes) != len(e.Timeline.Probes) {
		t.Fatalf("%d probe marks for %d probes", len(probes), len(e.Timeline.Probes))
	}
	// Lanes in order (node1, node2, no answer), each lane's probes in time.
	var want []float64
	for _, lane := range []func(p prober.Probe) bool{
		func(p prober.Probe) bool { return p.Owner == "node1" },
		func(p prober.Probe) bool { return p.Owner == "node2" },
		func(p prober.Probe) bool { return p.Owner == "" },
	} {
		for _, p := range e.Timeline.Probes {
			if lane(p) {
				want = append(want, x(p.T.Seconds()))
			}
		}
	}
	for i := range want {
		near(t, fmt.Sprintf("probe mark %d", i), probes[i].num(t, "x"), want[i])
	}
	if len(find(els, "rect", "dual")) != 0 {
		t.Error("a two-owner window drawn where the prober saw none")
	}
}

func TestTwoOwnerWindowDrawnWhenTheProberSawOne(t *testing.T) {
	e := flapping()
	if !e.DualOwner {
		t.Fatal("fixture: the prober saw no two owners")
	}
	els, v := svgOf(t, e, twoNodes)
	d := find(els, "rect", "dual")
	if len(d) != 1 {
		t.Fatalf("%d two-owner windows, want 1", len(d))
	}
	// From node1's last answer before node2 (2.9 s) to its first after (3.4 s).
	near(t, "two owners x", d[0].num(t, "x"), v.Left+2.9*v.Scale)
	near(t, "two owners width", d[0].num(t, "width"), 0.5*v.Scale)
	if len(find(els, "rect", "outage")) != 0 {
		t.Error("an outage drawn where no probe failed")
	}
}

func TestLanesAreTheLabsNodesInOrder(t *testing.T) {
	e := flapping()
	lab := &Lab{Name: "x", Fencing: "none", Nodes: []Node{{Name: "node2"}, {Name: "node1"}, {Name: "node3"}}}
	els, _ := svgOf(t, e, lab)
	var got []string
	for _, l := range find(els, "text", "lane-label") {
		got = append(got, strings.TrimSpace(l.Text))
	}
	want := []string{"node2", "node1", "node3", "no answer"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("lanes %v, want %v", got, want)
	}
}

func TestFenceEventsDrawnWhenFencingIsOn(t *testing.T) {
	e := powerOff()
	e.Timeline.Events = append(e.Timeline.Events, prober.Event{At: t0.Add(sec(4)), Kind: prober.FenceEvent, Node: "node1", Text: "rebooted by stonith"})
	lab := &Lab{Name: "x", Fencing: "external/ssh", Nodes: twoNodes.Nodes}
	els, v := svgOf(t, e, lab)
	f := find(els, "path", "fence")
	if len(f) != 1 {
		t.Fatalf("%d fence markers", len(f))
	}
	var x, y float64
	fmt.Sscanf(f[0].Attrs["d"], "M %f %f", &x, &y)
	near(t, "fence x", x, v.Left+4*v.Scale)
}

func TestNotRecoveredOutageAndBoundExceeded(t *testing.T) {
	tl := &prober.Timeline{Start: t0, Probes: probes(5, func(t float64) string {
		if t < 1 {
			return "node1"
		}
		return ""
	}), Fault: "kill-service", Node: "node1", Injected: t0.Add(sec(0.95))}
	rep := prober.Analyze(tl.Samples(), time.Second)
	e := prober.NewEntry("kill-service", "heartbeat-v1", 3*time.Second, rep)
	e.Timeline = tl
	els, v := svgOf(t, e, twoNodes)
	out := find(els, "rect", "outage")
	if len(out) != 1 {
		t.Fatalf("%d outages", len(out))
	}
	near(t, "open outage width", out[0].num(t, "width"), 3.9*v.Scale)
	if l := find(els, "text", "outage"); len(l) != 1 || !strings.Contains(l[0].Text, "not recovered") {
		t.Errorf("label %+v", l)
	}
	if b := find(els, "path", "bound"); len(b) != 1 || !strings.Contains(b[0].class(), "beyond") {
		t.Errorf("bound exceeded not drawn as such: %+v", b)
	}
	// Not healed: the fault's window runs to the end of the picture.
	f := find(els, "rect", "fault")
	near(t, "open fault window", f[0].num(t, "x")+f[0].num(t, "width"), v.Right)
}
