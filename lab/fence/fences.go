package fence

import (
	"strings"
	"time"
)

// Fence is one power-off of a machine as the request log tells it: which
// node's agent asked, when the agent began (the start of its status query
// just before the power-off), when the machine was confirmed off (the
// first answer after the power-off that reports it off), and when the
// endpoint had powered it on again (a reboot's second half; zero when it
// did not, or not yet).
type Fence struct {
	// By is the node whose agent fenced (the client certificate's CN),
	// Node the node fenced and Machine its machine.
	By, Node, Machine string
	Began             time.Time
	// Off is when the machine was confirmed off; zero when the power-off
	// failed (Result says why).
	Off time.Time
	// On is when the endpoint's power-on of the machine completed, after
	// Off.
	On time.Time
	// Result is the power-off's: ok, ok: already off, or the error.
	Result string
}

// Time is the fence time: from the agent's request to the machine
// confirmed off (0 when it never was).
func (f Fence) Time() time.Duration {
	if f.Off.IsZero() {
		return 0
	}
	return f.Off.Sub(f.Began)
}

// Reboot is from the agent's request to the machine powered on again (0
// when it was not): what a reboot fence costs the cluster, which waits for
// the whole of it.
func (f Fence) Reboot() time.Duration {
	if f.On.IsZero() {
		return 0
	}
	return f.On.Sub(f.Began)
}

// OK says whether the machine was confirmed off.
func (f Fence) OK() bool { return !f.Off.IsZero() }

// statusLead is how long before a power-off the agent's status query may
// have begun and still count as the fence's start (fence_docker asks the
// state, then kills: well under a second apart).
const statusLead = 5 * time.Second

// Fences reads the fences of the request log's entries that began at or
// after since, in order. A request's entry is written when it ends: its
// start is Time minus TookMS.
func Fences(entries []Entry, since time.Time) []Fence {
	start := func(e Entry) time.Time { return e.Time.Add(-time.Duration(e.TookMS) * time.Millisecond) }
	var out []Fence
	for i, e := range entries {
		if e.Event != "request" || e.Target == "" {
			continue
		}
		// A reboot of a machine that was already off: fence_docker finds
		// it off and only starts it (no power-off request).
		if e.Action == "start" && !strings.HasPrefix(e.Result, "refused") {
			if f, ok := offAtStart(entries, i, since); ok {
				out = append(out, f)
			}
			continue
		}
		if e.Action != "kill" && e.Action != "restart" {
			continue
		}
		began := start(e)
		if began.Before(since) {
			continue
		}
		serial := e.Serial
		// The agent's status query just before, if any.
		for j := i - 1; j >= 0; j-- {
			p := entries[j]
			if p.Event != "request" || p.Serial != serial || p.Target != e.Target {
				continue
			}
			if p.Action != "inspect" || start(e).Sub(start(p)) > statusLead || start(p).Before(since) {
				break
			}
			began = start(p)
		}
		f := Fence{By: commonName(e.Client), Node: e.Node, Machine: e.Target, Began: began, Result: e.Result}
		if !strings.HasPrefix(e.Result, "ok") {
			out = append(out, f)
			continue
		}
		f.Off = e.Time
		if e.Status != 409 { // 409: it was already off when asked
			// Confirmed by the agent's next status query that says off.
			for _, n := range entries[i+1:] {
				if n.Event == "request" && n.Serial == serial && n.Target == e.Target && n.Action == "inspect" && n.Power == "off" {
					f.Off = n.Time
					break
				}
				if n.Event == "request" && n.Target == e.Target && (n.Action == "kill" || n.Action == "start") {
					break
				}
			}
		}
		for _, n := range entries[i+1:] {
			if n.Event == "request" && n.Target == e.Target && (n.Action == "kill" || n.Action == "restart") {
				break // the next fence's
			}
			if n.Event == "power-on" && n.Target == e.Target && strings.HasPrefix(n.Result, "ok") {
				f.On = n.Time
				break
			}
		}
		out = append(out, f)
	}
	return out
}

// sameReboot is how far back a power-off may be and still make a start
// the second half of the same reboot: the agent polls the power state
// for up to its power_timeout between the two.
const sameReboot = time.Minute

// offAtStart reads entries[i], a start, as a fence when the agent found
// the machine off just before (its status query says off) and had not
// powered it off itself: the machine was confirmed off by that query.
func offAtStart(entries []Entry, i int, since time.Time) (Fence, bool) {
	e := entries[i]
	start := func(e Entry) time.Time { return e.Time.Add(-time.Duration(e.TookMS) * time.Millisecond) }
	var status *Entry
	for j := i - 1; j >= 0; j-- {
		p := entries[j]
		if p.Event != "request" || p.Target != e.Target {
			continue
		}
		if start(e).Sub(p.Time) > sameReboot {
			break
		}
		if p.Action == "kill" || p.Action == "restart" {
			return Fence{}, false // a reboot's power-on
		}
		if p.Serial == e.Serial && p.Action == "inspect" && status == nil {
			if p.Power != "off" || start(e).Sub(start(p)) > statusLead {
				return Fence{}, false
			}
			status = &entries[j]
		}
	}
	if status == nil || start(*status).Before(since) {
		return Fence{}, false
	}
	f := Fence{By: commonName(e.Client), Node: e.Node, Machine: e.Target, Began: start(*status), Off: status.Time, Result: "ok: already off"}
	for _, n := range entries[i+1:] {
		if n.Event == "request" && n.Target == e.Target && (n.Action == "kill" || n.Action == "restart") {
			break
		}
		if n.Event == "power-on" && n.Target == e.Target && strings.HasPrefix(n.Result, "ok") {
			f.On = n.Time
			break
		}
	}
	return f, true
}

// Refusals counts the requests the endpoint refused on purpose (fence.
// SetRefusing) at or after since: the attempts of a fence device that
// fails.
func Refusals(entries []Entry, since time.Time) int {
	n := 0
	for _, e := range entries {
		if e.Event == "request" && e.Status == 503 && !e.Time.Before(since) && strings.HasPrefix(e.Result, "refused:") {
			n++
		}
	}
	return n
}

// commonName is the CN= of a subject as Subject writes it.
func commonName(subject string) string {
	for _, part := range strings.Split(subject, ",") {
		if cn, ok := strings.CutPrefix(strings.TrimSpace(part), "CN="); ok {
			return cn
		}
	}
	return subject
}
