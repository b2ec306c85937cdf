package prober

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

// Results of a scenario, as Entry.Result.
const (
	Passed          = "passed"
	Failed          = "failed"
	KnownLimitation = "known-limitation"
	// Unsafe is a scenario that ends as the configuration decides, in a
	// state only fencing makes safe: kill-daemon and partition on a lab
	// without fencing end with two nodes serving the VIP (split brain).
	Unsafe = "UNSAFE (no fencing)"
)

// Entry is what a fault scenario reports: the Ginkgo report entry named
// EntryName, read back by the suite's summary table and by `halab bench`
// from the JSON report (its value's AsJSON).
type Entry struct {
	Scenario  string        `json:"scenario"`
	Stack     string        `json:"stack"`
	Result    string        `json:"result"`
	Outage    time.Duration `json:"outage_ns"`
	Bound     time.Duration `json:"bound_ns"`
	Owners    []string      `json:"owners"`
	DualOwner bool          `json:"dual_owner"`
	Note      string        `json:"note,omitempty"`
	// Fenced are the nodes fenced during the scenario, in order, and
	// FenceTime the longest fence's time, from the agent's request to the
	// machine confirmed off, as the fence endpoint's request log tells it
	// (fencing.agent auto only).
	Fenced    []string      `json:"fenced,omitempty"`
	FenceTime time.Duration `json:"fence_ns,omitempty"`
	// Config are the configuration audit's findings in the spec's last
	// audit (the cluster's own verifiers: crm_verify, crm configure
	// verify), one line each.
	Config []string `json:"config_findings,omitempty"`
	// Timeline is the probe run and the fault's moments, for the HTML
	// report; reported through a pointer to the Entry, the heal that
	// comes after the entry was added still gets into the report.
	Timeline *Timeline `json:"timeline,omitempty"`
}

// EntryName names the report entries that carry an Entry.
const EntryName = "outage"

// NewEntry fills an Entry from a prober report.
func NewEntry(scenario, stack string, bound time.Duration, r Report) Entry {
	return Entry{Scenario: scenario, Stack: stack, Result: Passed, Outage: r.LongestOutage, Bound: bound,
		Owners: r.Owners, DualOwner: r.DualOwner}
}

// FenceColumn is the entry's fence for the summary: "node2 0.45s", "-"
// when the scenario fenced nothing.
func (e Entry) FenceColumn() string {
	if len(e.Fenced) == 0 {
		return "-"
	}
	return strings.Join(e.Fenced, ",") + " " + roundDur(e.FenceTime).String()
}

func (e Entry) String() string {
	s := fmt.Sprintf("%s on %s: %s, outage %s (bound %s), owners %s", e.Scenario, e.Stack, e.Result,
		roundDur(e.Outage), roundDur(e.Bound), strings.Join(e.Owners, " -> "))
	if e.DualOwner {
		s += ", two owners answered"
	}
	if len(e.Fenced) > 0 {
		s += fmt.Sprintf(", fenced %s (fence time %s)", strings.Join(e.Fenced, ", "), roundDur(e.FenceTime))
	}
	if e.Note != "" {
		s += "; " + e.Note
	}
	return s
}

// Entries reads the Entry values a spec reported: the raw values (Entry
// or *Entry) in the process that ran it, their JSON when read back from a
// report file.
func Entries(s types.SpecReport) []Entry {
	var out []Entry
	for _, re := range s.ReportEntries {
		if re.Name != EntryName {
			continue
		}
		switch e := re.GetRawValue().(type) {
		case Entry:
			out = append(out, e)
			continue
		case *Entry:
			out = append(out, *e)
			continue
		}
		var e Entry
		if json.Unmarshal([]byte(re.Value.AsJSON), &e) == nil && e.Scenario != "" {
			out = append(out, e)
		}
	}
	return out
}
