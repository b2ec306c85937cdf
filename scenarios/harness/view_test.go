package harness

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// After `halab fault partition node1` on a corosync lab: each side sees
// only itself, is its own DC and runs the group (live captures).
func partitionAudit(t *testing.T) *Audit {
	return auditOf(t, "corosync", map[string]string{
		"node1": "vip yes\nservice 0\n--- crm_mon\n" + string(readTestdata(t, "crm_mon-2.1-partition-node1.xml")),
		"node2": "vip yes\nservice 0\n--- crm_mon\n" + string(readTestdata(t, "crm_mon-2.1-partition-node2.xml")),
	})
}

func TestSplitBrainPartition(t *testing.T) {
	a := partitionAudit(t)
	got := a.SplitBrain()
	want := []string{
		"the VIP is on node1 and node2",
		"the service runs on node1 and node2",
		"the nodes disagree on membership: node1 sees [node1], node2 sees [node2]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("split brain = %q, want %q", got, want)
	}
	v := a.View("192.168.56.20", "stratos")
	if !slices.Equal(v.VIP.On, []string{"node1", "node2"}) || v.Nodes[0].DC != "node1" || v.Nodes[1].DC != "node2" {
		t.Errorf("view = %+v", v)
	}
	for _, n := range v.Nodes {
		for _, r := range n.Resources {
			if !r.Started() || !slices.Equal(r.On, []string{n.Node}) {
				t.Errorf("%s sees %+v, want it started on itself", n.Node, r)
			}
		}
	}
}

func TestSplitBrainNone(t *testing.T) {
	hb := func(vip, svc string, members ...string) string {
		s := "vip " + vip + "\nservice " + svc + "\n"
		for _, m := range members {
			s += "member " + m + "\n"
		}
		return s
	}
	x := string(readTestdata(t, "crm_mon-2.1-healthy.xml"))
	cases := []struct {
		name  string
		stack string
		outs  map[string]string
		want  int
	}{
		{"healthy corosync", "corosync", map[string]string{
			"node1": "vip yes\nservice 0\n--- crm_mon\n" + x, "node2": "vip no\nservice 3\n--- crm_mon\n" + x,
		}, 0},
		// A dead peer is not a split: one side, one view.
		{"peer powered off", "corosync", map[string]string{
			"node1": "vip yes\nservice 0\n--- crm_mon\n" + string(readTestdata(t, "crm_mon-2.1-partition-node1.xml")),
		}, 0},
		{"peer's daemon down", "heartbeat-v1", map[string]string{
			"node1": hb("yes", "0", "node1 active", "node2 dead"), "node2": "vip no\nservice 3\ndaemon down\n",
		}, 0},
		{"heartbeat v1 partition", "heartbeat-v1", map[string]string{
			"node1": hb("yes", "0", "node1 active", "node2 dead"), "node2": hb("yes", "0", "node1 dead", "node2 active"),
		}, 3},
		{"views differ, one VIP", "heartbeat-v1", map[string]string{
			"node1": hb("yes", "0", "node1 active", "node2 active"), "node2": hb("no", "3", "node1 dead", "node2 active"),
		}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := auditOf(t, c.stack, c.outs).SplitBrain(); len(got) != c.want {
				t.Errorf("split brain = %q, want %d reasons", got, c.want)
			}
		})
	}
}

// Standby (live capture: node2 in standby, node1's daemons stopped, so
// the group runs nowhere): the view lists what is not started.
func TestViewNotStarted(t *testing.T) {
	a := auditOf(t, "corosync", map[string]string{
		"node2": "vip no\nservice 3\n--- crm_mon\n" + string(readTestdata(t, "crm_mon-2.1-standby.xml")),
	})
	v := a.View("192.168.56.20", "stratos")
	if !slices.Equal(v.Nodes[1].Standby, []string{"node2"}) {
		t.Errorf("standby = %v", v.Nodes[1].Standby)
	}
	var ids []string
	for _, r := range v.NotStarted {
		ids = append(ids, r.View+" "+r.ID+" "+r.Role)
	}
	if !slices.Equal(ids, []string{"node2 FAILOVER-IP Stopped", "node2 STRATOS Stopped"}) {
		t.Errorf("not started = %q", ids)
	}
	if v.Nodes[0].Reachable || v.Nodes[0].Error == "" {
		t.Errorf("node1 = %+v, want unreachable with why", v.Nodes[0])
	}
	// JSON: lists are [] rather than null, for scripts that iterate.
	b, err := json.Marshal(auditOf(t, "heartbeat-v1", map[string]string{}).View("v", "s"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"split_brain":[]`, `"problems":[`, `"failed_or_stopped":[]`, `"on":[]`, `"members":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
}
