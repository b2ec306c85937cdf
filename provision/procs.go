package provision

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Proc is one process of a ProcTable.
type Proc struct {
	PID, PPID int
	// Start is when it started (clock ticks since boot): with PID, it
	// names one process, not a later one that was given the same pid.
	Start uint64
	Comm  string
}

// ProcTable is procs.sh list's view of a machine's live processes.
type ProcTable struct {
	// Reaper is the process orphans are handed to there (init, or a
	// subreaper): where a daemon lands once the script that started it
	// exits.
	Reaper int
	// Self are the listing's own process and its ancestors.
	Self  map[int]bool
	Procs []Proc
}

// ParseProcs reads procs.sh list's output.
func ParseProcs(out string) (ProcTable, error) {
	t := ProcTable{Self: map[int]bool{}}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.SplitN(strings.TrimSpace(line), " ", 4)
		switch {
		case len(f) == 2 && (f[0] == "reaper" || f[0] == "self"):
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return t, fmt.Errorf("procs.sh: bad line %q", line)
			}
			if f[0] == "reaper" {
				t.Reaper = n
			} else {
				t.Self[n] = true
			}
		case len(f) >= 3:
			pid, err1 := strconv.Atoi(f[0])
			ppid, err2 := strconv.Atoi(f[1])
			start, err3 := strconv.ParseUint(f[2], 10, 64)
			if err1 != nil || err2 != nil || err3 != nil {
				return t, fmt.Errorf("procs.sh: bad line %q", line)
			}
			p := Proc{PID: pid, PPID: ppid, Start: start}
			if len(f) == 4 {
				p.Comm = f[3]
			}
			t.Procs = append(t.Procs, p)
		case strings.TrimSpace(line) == "":
		default:
			return t, fmt.Errorf("procs.sh: bad line %q", line)
		}
	}
	if t.Reaper == 0 || len(t.Procs) == 0 {
		return t, fmt.Errorf("procs.sh: no reaper or no process in its output")
	}
	return t, nil
}

// Started are the processes that an action left running: those of after
// that before did not have (same pid and start time), less the listing's
// own, whose oldest new ancestor was handed to the reaper, as a daemon is
// once the script that started it exits; with their new descendants.
// A new process under an old one (a cluster daemon's monitor, an SSH
// session) is someone else's and is left out.
func Started(before, after ProcTable) []Proc {
	type key struct {
		pid   int
		start uint64
	}
	old := map[key]bool{}
	for _, p := range before.Procs {
		old[key{p.PID, p.Start}] = true
	}
	isNew := map[int]Proc{}
	for _, p := range after.Procs {
		if !old[key{p.PID, p.Start}] && !after.Self[p.PID] {
			isNew[p.PID] = p
		}
	}
	var out []Proc
	for _, p := range isNew {
		top := p
		for i := 0; i < len(isNew); i++ { // bounded: a cycle cannot hang it
			up, ok := isNew[top.PPID]
			if !ok {
				break
			}
			top = up
		}
		if top.PPID == after.Reaper {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}
