package main

import (
	"bytes"
	"strings"
	"testing"
)

// The output of an interrupted run says which faults no finished heal is
// known to have undone, from the suite's steps; the output passes through
// unchanged.
func TestFaultWatchNamesWhatIsLeft(t *testing.T) {
	var out bytes.Buffer
	f := newFaultWatch(&out)
	lines := []string{
		"healed left by an earlier run on node1: nothing",
		"  \x1b[1mSTEP:\x1b[0m waiting for a stable owner \x1b[90m@ 01/02/26 10:00:00.000\x1b[0m",
		"  \x1b[1mSTEP:\x1b[0m power-off node1 \x1b[90m@ 01/02/26 10:00:01.000\x1b[0m",
		"  STEP: healing node1 @ 01/02/26 10:00:05.000",
		"  healed after power-off on node1: powered on",
		"  STEP: partition node2 @ 01/02/26 10:01:00.000",
		"  STEP: waiting for both sides to claim the VIP @ 01/02/26 10:01:01.000",
		"  STEP: healing node2 @ 01/02/26 10:01:05.000",
	}
	all := strings.Join(lines, "\n") + "\n"
	// Written in pieces that split lines.
	for i := 0; i < len(all); i += 7 {
		f.Write([]byte(all[i:min(i+7, len(all))]))
	}
	if out.String() != all {
		t.Errorf("output changed on the way through")
	}
	if got, want := f.left(), " (this run injected, and no heal is known to have undone: partition node2)"; got != want {
		t.Errorf("left() = %q, want %q", got, want)
	}
	f.Write([]byte("healed after partition on node2: removed the partition rules\n"))
	if got := f.left(); got != "" {
		t.Errorf("after the heal: %q", got)
	}
}
