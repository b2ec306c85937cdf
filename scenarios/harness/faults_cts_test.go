package harness

import (
	"slices"
	"strings"
	"testing"
)

func TestParseCIB(t *testing.T) {
	cib := `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="7" num_updates="3" admin_epoch="0" cib-last-written="x" have-quorum="1" dc-uuid="2">
  <configuration>
    <crm_config/>
    <resources><primitive id="STRATOS" class="lsb" type="stratos"/></resources>
  </configuration>
  <status><node_state id="1"/></status>
</cib>`
	v, err := ParseCIB([]byte(cib))
	if err != nil {
		t.Fatal(err)
	}
	if v.AdminEpoch != "0" || v.Epoch != "7" || v.String() != "admin_epoch 0, epoch 7" {
		t.Errorf("version %+v", v)
	}
	if !strings.HasPrefix(v.Configuration, "<crm_config/>") || !strings.Contains(v.Configuration, `id="STRATOS"`) || strings.Contains(v.Configuration, "node_state") {
		t.Errorf("configuration %q", v.Configuration)
	}
	for _, bad := range []string{"", "not xml", `<cib admin_epoch="0"><configuration/></cib>`} {
		if _, err := ParseCIB([]byte(bad)); err == nil {
			t.Errorf("ParseCIB(%q): no error", bad)
		}
	}
}

func TestParseComponentPIDs(t *testing.T) {
	got := parseComponentPIDs("pacemaker-based 4661\npacemaker-fenced -\n\ngarbage\npacemaker-execd 12 extra\n")
	if len(got) != 2 || got["pacemaker-based"] != "4661" || got["pacemaker-fenced"] != "" {
		t.Errorf("got %v", got)
	}
	if _, ok := got["pacemaker-fenced"]; !ok {
		t.Error("a subdaemon that does not run must be listed, with no pid")
	}
}

// Every CTS fault is offered by `halab fault`, heal stays the last.
func TestCTSFaultKinds(t *testing.T) {
	var kinds []string
	for _, f := range Faults {
		kinds = append(kinds, f.Kind)
	}
	for _, k := range []string{Maintenance, Unmanage, FailResource, WipeCIB, "kill-based", "kill-fenced", "kill-execd", "kill-attrd", "kill-schedulerd", "kill-controld"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("fault %s missing from %v", k, kinds)
		}
	}
	if kinds[len(kinds)-1] != Heal {
		t.Errorf("heal is not last: %v", kinds)
	}
}
