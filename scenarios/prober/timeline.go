package prober

import (
	"time"
)

// Timeline is what the HTML report draws of a scenario: every probe of
// its run, the fault's injection and heal, and what the audits saw. It
// rides in Entry.Timeline (optional: older reports and scenarios that do
// not probe have none).
type Timeline struct {
	// Start is when the first probe was sent; probes are offsets from it.
	Start  time.Time `json:"start"`
	Probes []Probe   `json:"probes"`
	// Fault is the fault injected into Node (a harness fault kind, such
	// as power-off), none when the scenario injects nothing.
	Fault string `json:"fault,omitempty"`
	Node  string `json:"node,omitempty"`
	// Injected is when the injection began, Healed when its heal began
	// (zero: not healed while the scenario ran). BoundFrom is where the
	// scenario starts counting its bound: the injection.
	Injected  time.Time `json:"injected,omitzero"`
	Healed    time.Time `json:"healed,omitzero"`
	BoundFrom time.Time `json:"bound_from,omitzero"`
	Events    []Event   `json:"events,omitempty"`
}

// Probe is one sample, compact: its time as an offset from the
// timeline's Start, and the node that answered or the error.
type Probe struct {
	T       time.Duration `json:"t"`
	Latency time.Duration `json:"l"`
	Owner   string        `json:"n,omitempty"`
	Err     string        `json:"e,omitempty"`
}

// Kinds of Event.
const (
	// AuditEvent is a change in what the cluster audit saw: members as
	// each node sees them, where the VIP and the service are.
	AuditEvent = "audit"
	// FenceEvent is a node fenced by the cluster (only with fencing on).
	FenceEvent = "fence"
)

// Event is something that happened during the scenario, at a time.
type Event struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	Node string    `json:"node,omitempty"`
	Text string    `json:"text"`
	// VIP are the nodes an audit found holding the VIP.
	VIP []string `json:"vip,omitempty"`
}

// NewTimeline records samples (nil when there are none).
func NewTimeline(samples []Sample) *Timeline {
	if len(samples) == 0 {
		return nil
	}
	t := &Timeline{Start: samples[0].At, Probes: make([]Probe, len(samples))}
	for i, s := range samples {
		p := Probe{T: s.At.Sub(t.Start), Latency: s.Latency}
		if s.OK {
			p.Owner = s.Owner
		} else {
			p.Err = s.Err
		}
		t.Probes[i] = p
	}
	return t
}

// Samples gives the probes back as samples, for Analyze.
func (t *Timeline) Samples() []Sample {
	out := make([]Sample, len(t.Probes))
	for i, p := range t.Probes {
		out[i] = Sample{At: t.Start.Add(p.T), Latency: p.Latency, OK: p.Owner != "", Owner: p.Owner, Err: p.Err}
	}
	return out
}

// Offset is at as an offset from Start.
func (t *Timeline) Offset(at time.Time) time.Duration { return at.Sub(t.Start) }

// End is the offset of the last probe.
func (t *Timeline) End() time.Duration {
	if len(t.Probes) == 0 {
		return 0
	}
	return t.Probes[len(t.Probes)-1].T
}
