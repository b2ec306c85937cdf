package prober

import (
	"encoding/json"
	"reflect"
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
