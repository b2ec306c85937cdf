package fence

import (
	"testing"
	"time"
)

// The shape of a live reboot fence (stonith_admin --reboot node2 on a
// docker lab, fence_docker onoff): status, kill, status until off, start,
// status until on, then the endpoint's power-on completion.
func rebootLog(t0 time.Time) []Entry {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	n1 := "CN=node1,OU=node,O=halab lab fen"
	req := func(ms int, action, power string, status int, took int64, result string) Entry {
		return Entry{Time: at(ms), Event: "request", Client: n1, Serial: "aa", Target: "fen-node2", Node: "node2",
			Action: action, Power: power, Status: status, TookMS: took, Result: result}
	}
	return []Entry{
		{Time: at(-20000), Event: "request", Client: n1, Serial: "aa", Action: "list", Status: 200, Result: "ok"},
		req(0, "inspect", "on", 200, 15, "ok"),
		req(368, "kill", "off", 204, 318, "ok"),
		req(438, "inspect", "off", 200, 20, "ok"),
		req(511, "start", "off", 204, 19, "ok: power-on started"),
		req(1620, "inspect", "off", 200, 48, "ok"),
		req(3965, "inspect", "on", 200, 41, "ok"),
		{Time: at(4743), Event: "power-on", Client: n1, Serial: "aa", Target: "fen-node2", Node: "node2", Action: "start", Result: "ok", Power: "on", TookMS: 4231},
	}
}

func TestFencesReadsAReboot(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 13, 40, 37, 776e6, time.UTC)
	fs := Fences(rebootLog(t0), t0.Add(-time.Second))
	if len(fs) != 1 {
		t.Fatalf("fences %+v, want one", fs)
	}
	f := fs[0]
	if f.By != "node1" || f.Node != "node2" || f.Machine != "fen-node2" || !f.OK() {
		t.Errorf("fence %+v", f)
	}
	// From the start of the status query (15 ms before its end) to the
	// first status after the kill that says off.
	if want := 453 * time.Millisecond; f.Time() != want {
		t.Errorf("fence time %s, want %s", f.Time(), want)
	}
	if want := 4758 * time.Millisecond; f.Reboot() != want {
		t.Errorf("reboot %s, want %s", f.Reboot(), want)
	}
	// A fence that began before since is not this one.
	if fs := Fences(rebootLog(t0), t0.Add(time.Second)); len(fs) != 0 {
		t.Errorf("fences before since counted: %+v", fs)
	}
}

func TestFencesAlreadyOffFailedAndTwo(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	n2 := "CN=node2,OU=node,O=halab lab fen"
	log := []Entry{
		// A refused attempt (the endpoint refusing on purpose: no target).
		{Time: t0, Event: "request", Client: n2, Serial: "bb", Status: 503, Result: "refused: the fence endpoint of lab fen refuses every request"},
		// A power-off that failed.
		{Time: t0.Add(time.Second), Event: "request", Client: n2, Serial: "bb", Target: "fen-node1", Node: "node1", Action: "kill", Status: 500, Power: "unknown", TookMS: 100, Result: "error: power-off fen-node1: boom"},
		// Already off (the node lost power before the fence): confirmed
		// at once.
		{Time: t0.Add(2 * time.Second), Event: "request", Client: n2, Serial: "bb", Target: "fen-node1", Node: "node1", Action: "kill", Status: 409, Power: "off", TookMS: 30, Result: "ok: already off"},
		{Time: t0.Add(8 * time.Second), Event: "power-on", Client: n2, Serial: "bb", Target: "fen-node1", Node: "node1", Result: "ok", Power: "on", TookMS: 4000},
	}
	fs := Fences(log, t0.Add(-time.Minute))
	if len(fs) != 2 {
		t.Fatalf("fences %+v, want two", fs)
	}
	if fs[0].OK() || fs[0].Time() != 0 || fs[0].Result != "error: power-off fen-node1: boom" || fs[0].By != "node2" {
		t.Errorf("failed fence read as %+v", fs[0])
	}
	if !fs[1].OK() || fs[1].Time() != 30*time.Millisecond || fs[1].Reboot() != 6030*time.Millisecond {
		t.Errorf("already-off fence read as %+v (time %s, reboot %s)", fs[1], fs[1].Time(), fs[1].Reboot())
	}
	if n := Refusals(log, t0.Add(-time.Minute)); n != 1 {
		t.Errorf("refusals %d, want 1", n)
	}
	if n := Refusals(log, t0.Add(time.Millisecond)); n != 0 {
		t.Errorf("refusals before since counted: %d", n)
	}
}

// A fence's power-on belongs to it only up to the next power-off of the
// machine.
func TestFencesPowerOnNotTakenFromTheNextFence(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	a := rebootLog(t0)
	// An "off" fence (no start), then the reboot above 20 s later.
	off := []Entry{
		{Time: t0.Add(-20 * time.Second), Event: "request", Client: "CN=node1,OU=node,O=halab lab fen", Serial: "aa", Target: "fen-node2", Node: "node2", Action: "kill", Status: 204, Power: "off", TookMS: 300, Result: "ok"},
	}
	fs := Fences(append(off, a...), t0.Add(-time.Minute))
	if len(fs) != 2 {
		t.Fatalf("fences %+v", fs)
	}
	if !fs[0].On.IsZero() {
		t.Errorf("the off fence took the next fence's power-on: %+v", fs[0])
	}
	if fs[0].Time() != 300*time.Millisecond {
		t.Errorf("off fence time %s (no status after it: the kill's own time)", fs[0].Time())
	}
}

// A reboot of a machine already off (powered off before the fence, as
// when the fence device failed until then): the agent's status query
// says off, it starts the machine, no power-off request. That query
// confirms the machine off. The live shape, after a failing device healed.
func TestFencesOfAMachineAlreadyOff(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 13, 47, 29, 138e6, time.UTC)
	n1 := "CN=node1,OU=node,O=halab lab fen"
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	req := func(ms int, action, power string, status int, took int64, result string) Entry {
		return Entry{Time: at(ms), Event: "request", Client: n1, Serial: "aa", Target: "fen-node2", Node: "node2",
			Action: action, Power: power, Status: status, TookMS: took, Result: result}
	}
	log := []Entry{
		{Time: at(-12000), Event: "request", Client: n1, Serial: "aa", Status: 503, Result: "refused: the fence endpoint of lab fen refuses every request"},
		req(0, "inspect", "off", 200, 19, "ok"),
		req(116, "start", "off", 204, 34, "ok: power-on started"),
		req(922, "inspect", "off", 200, 125, "ok"),
		req(9182, "inspect", "on", 200, 39, "ok"),
		{Time: at(11981), Event: "power-on", Client: n1, Serial: "aa", Target: "fen-node2", Node: "node2", Action: "start", Result: "ok", Power: "on", TookMS: 11864},
	}
	fs := Fences(log, t0.Add(-time.Minute))
	if len(fs) != 1 {
		t.Fatalf("fences %+v, want one", fs)
	}
	f := fs[0]
	if !f.OK() || f.Node != "node2" || f.By != "node1" || f.Result != "ok: already off" || f.Time() != 19*time.Millisecond || f.Reboot() != 12000*time.Millisecond {
		t.Errorf("fence %+v (time %s, reboot %s)", f, f.Time(), f.Reboot())
	}
	// The power-on of a reboot that powered the machine off is not a
	// fence of its own.
	if fs := Fences(rebootLog(t0), t0.Add(-time.Minute)); len(fs) != 1 {
		t.Errorf("a reboot read as %d fences: %+v", len(fs), fs)
	}
}
