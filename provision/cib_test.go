package provision

import (
	"os"
	"strings"
	"testing"

	"halab/lab"
)

// testdata/cib-corosync.xml is `cibadmin -Q` of a lab provisioned by halab
// (Pacemaker 2.1, corosync stack) after `crm configure load update`.
func TestCIBCheck(t *testing.T) {
	raw, err := os.ReadFile("testdata/cib-corosync.xml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := lab.Defaults()
	want := ExpectedCIB(&cfg)
	cib, err := ParseCIB(raw)
	if err != nil {
		t.Fatal(err)
	}
	if probs := want.Check(cib); len(probs) != 0 {
		t.Fatalf("the live CIB fails the check: %v", probs)
	}
	cases := []struct {
		name, from, to, want string
	}{
		{"other VIP", `name="ip" value="192.168.56.20"`, `name="ip" value="192.168.56.21"`, `ip="192.168.56.21", want 192.168.56.20`},
		{"stonith on", `name="stonith-enabled" value="false"`, `name="stonith-enabled" value="true"`, "stonith-enabled"},
		{"no colocation", `rsc_colocation id="FAILOVER-IP-RESOURCE-GROUP-COLOCATION"`, `rsc_colocation id="other"`, "colocation"},
		{"wrong agent", `type="stratos"`, `type="apache"`, "want lsb:stratos"},
		{"no monitor", `name="monitor" interval="15s"`, `name="monitor" interval="60s"`, "monitor op every 15s"},
		{"wrong nic", `name="nic" value="eth1"`, `name="nic" value="eth0"`, "nic="},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(string(raw), c.from) {
				t.Fatalf("fixture lacks %q", c.from)
			}
			cib, err := ParseCIB([]byte(strings.Replace(string(raw), c.from, c.to, 1)))
			if err != nil {
				t.Fatal(err)
			}
			probs := strings.Join(want.Check(cib), "; ")
			if !strings.Contains(probs, c.want) {
				t.Errorf("problems %q lack %q", probs, c.want)
			}
		})
	}
	if _, err := ParseCIB([]byte("not xml")); err == nil {
		t.Error("garbage parsed")
	}
}
