package prober

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

// Entries reads an Entry in the process that reported it (raw value) and
// from a JSON report file (AsJSON), and nothing else.
func TestEntries(t *testing.T) {
	e := Entry{Scenario: "power-off", Stack: "corosync", Result: Passed, Outage: 7 * time.Second, Bound: 16 * time.Second, Owners: []string{"node1", "node2"}}
	spec := types.SpecReport{ReportEntries: types.ReportEntries{
		{Name: EntryName, Value: types.WrapEntryValue(e)},
		{Name: "artifacts", Value: types.WrapEntryValue("/tmp/x")},
	}}
	if got := Entries(spec); len(got) != 1 || !reflect.DeepEqual(got[0], e) {
		t.Fatalf("in-process: %+v", got)
	}
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var back types.SpecReport
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if got := Entries(back); len(got) != 1 || !reflect.DeepEqual(got[0], e) {
		t.Fatalf("from JSON: %+v", got)
	}
}

// An entry reported through a pointer carries what was set after it was
// added (the heal), in the process and in the JSON report; its timeline
// gives back the samples, so the outage drawn is the outage measured.
func TestEntryPointerAndTimeline(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC)
	var samples []Sample
	for i := range 40 {
		s := Sample{At: t0.Add(time.Duration(i)*100*time.Millisecond + time.Duration(i%7)*time.Microsecond), Latency: 2 * time.Millisecond, OK: true, Owner: "node1"}
		switch {
		case i >= 10 && i < 23:
			s = Sample{At: s.At, Latency: 500 * time.Millisecond, Err: "timeout"}
		case i >= 23:
			s.Owner = "node2"
		}
		samples = append(samples, s)
	}
	rep := Analyze(samples, time.Second)
	e := NewEntry("power-off", "corosync", 16*time.Second, rep)
	e.Timeline = NewTimeline(samples)
	e.Timeline.Fault, e.Timeline.Node, e.Timeline.Injected = "power-off", "node1", t0.Add(950*time.Millisecond)
	p := &e
	spec := types.SpecReport{ReportEntries: types.ReportEntries{{Name: EntryName, Value: types.WrapEntryValue(p)}}}
	healed := t0.Add(9 * time.Second)
	p.Timeline.Healed = healed // after AddReportEntry, as the heal does

	if got := Entries(spec); len(got) != 1 || !got[0].Timeline.Healed.Equal(healed) {
		t.Fatalf("in-process: %+v", got)
	}
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var back types.SpecReport
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	got := Entries(back)
	if len(got) != 1 || got[0].Timeline == nil {
		t.Fatalf("from JSON: %+v", got)
	}
	tl := got[0].Timeline
	if !tl.Healed.Equal(healed) || !tl.Injected.Equal(e.Timeline.Injected) || tl.Fault != "power-off" || len(tl.Probes) != 40 {
		t.Errorf("timeline from JSON: %+v", tl)
	}
	again := Analyze(tl.Samples(), time.Second)
	if again.LongestOutage != e.Outage || again.String() != rep.String() {
		t.Errorf("outage from the timeline %s, measured %s (%s vs %s)", again.LongestOutage, e.Outage, again, rep)
	}
	// Reports of older halab versions have no timeline: still read.
	old := `{"scenario":"power-off","stack":"corosync","result":"passed","outage_ns":1,"bound_ns":2,"owners":["a"],"dual_owner":false}`
	spec = types.SpecReport{ReportEntries: types.ReportEntries{{Name: EntryName, Value: types.ReportEntryValue{AsJSON: old}}}}
	if got := Entries(spec); len(got) != 1 || got[0].Timeline != nil || got[0].Outage != 1 {
		t.Errorf("old entry: %+v", got)
	}
}

// The fence fields survive the JSON report, and say themselves in the
// summary's column and the entry's line.
func TestEntryFence(t *testing.T) {
	e := Entry{Scenario: "partition 1/5", Stack: "corosync", Result: Passed, Outage: 0, Bound: 16 * time.Second,
		Owners: []string{"node1"}, Fenced: []string{"node2"}, FenceTime: 453 * time.Millisecond}
	spec := types.SpecReport{ReportEntries: types.ReportEntries{{Name: EntryName, Value: types.WrapEntryValue(e)}}}
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var back types.SpecReport
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	got := Entries(back)
	if len(got) != 1 || !reflect.DeepEqual(got[0], e) {
		t.Fatalf("from JSON: %+v", got)
	}
	if c := got[0].FenceColumn(); c != "node2 453ms" {
		t.Errorf("fence column %q", c)
	}
	if c := (Entry{}).FenceColumn(); c != "-" {
		t.Errorf("no fence: column %q", c)
	}
	if s := got[0].String(); !strings.Contains(s, "fenced node2 (fence time 453ms)") {
		t.Errorf("entry line %q", s)
	}
}
