package harness

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"halab/lab"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Live captures from a corosync lab (Pacemaker 2.1.5).
func TestParseCrmMonHealthy(t *testing.T) {
	m, err := ParseCrmMon(readTestdata(t, "crm_mon-2.1-healthy.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Online(); !slices.Equal(got, []string{"node1", "node2"}) {
		t.Errorf("online = %v", got)
	}
	if m.DC == "" {
		t.Error("no DC")
	}
	if len(m.Resources) != 2 {
		t.Fatalf("resources = %+v, want the group's two", m.Resources)
	}
	for _, id := range []string{"FAILOVER-IP", "STRATOS"} {
		r, ok := m.Resource(id)
		if !ok || !r.Active || r.Failed || r.Role != "Started" || len(r.Nodes) != 1 {
			t.Errorf("%s = %+v, %v", id, r, ok)
		}
	}
	if len(m.FailCounts) != 0 {
		t.Errorf("fail counts = %v, want none", m.FailCounts)
	}
}

func TestParseCrmMonFailCount(t *testing.T) {
	m, err := ParseCrmMon(readTestdata(t, "crm_mon-2.1-failcount.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.FailCounts["STRATOS@node2"]; got != 1 {
		t.Errorf("fail count STRATOS@node2 = %d, want 1 (all: %v)", got, m.FailCounts)
	}
}

// Pacemaker 1.1.7 and later 1.1 releases: `crm_mon --as-xml` (-X), as
// tools/crm_mon.c print_xml_status and lib/pengine/native.c
// native_print_xml print it at tag Pacemaker-1.1.7 (current_dc with
// with_quorum, node attributes, resource_agent "ocf::heartbeat:IPaddr",
// the nodes a resource runs on as children). Ubuntu 12.04's 1.1.6 has no
// XML output: see TestParseCrmMonText116.
func TestParseCrmMonAsXML117(t *testing.T) {
	x := `<?xml version="1.0"?>
<crm_mon version="1.1.7">
    <summary>
        <last_update time="Wed Nov 26 10:00:00 2026" />
        <last_change time="Wed Nov 26 09:59:30 2026" user="" client="crmd" origin="node1" />
        <stack type="Heartbeat" />
        <current_dc present="true" version="1.1.7-ee0730e13d124c3d58f00016c3376a1de5323cff" name="node1" id="0b1f1a8e-6c1d-4f39-9d0a-7c2b8f7d3a11" with_quorum="true" />
        <nodes_configured number="2" expected_votes="unknown" />
        <resources_configured number="2" />
    </summary>
    <nodes>
        <node name="node1" id="0b1f1a8e-6c1d-4f39-9d0a-7c2b8f7d3a11" online="true" standby="false" standby_onfail="false" pending="false" unclean="false" shutdown="false" expected_up="true" is_dc="true" resources_running="1" type="member" />
        <node name="node2" id="5e2d7c40-91a3-4b6e-8f0c-2d4e6a8b0c22" online="false" standby="false" standby_onfail="false" pending="false" unclean="true" shutdown="false" expected_up="true" is_dc="false" resources_running="0" type="member" />
    </nodes>
    <resources>
        <group id="FAILOVER-IP-RESOURCE-GROUP" number_resources="2" >
             <resource id="FAILOVER-IP" resource_agent="ocf::heartbeat:IPaddr" role="Started" active="true" orphaned="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1" >
                 <node name="node1" id="0b1f1a8e-6c1d-4f39-9d0a-7c2b8f7d3a11" />
             </resource>
             <resource id="STRATOS" resource_agent="lsb:stratos" role="Stopped" active="false" orphaned="false" managed="true" failed="true" failure_ignored="false" nodes_running_on="0" />
        </group>
    </resources>
</crm_mon>`
	m, err := ParseCrmMon([]byte(x))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Online(), []string{"node1"}) || m.DC != "node1" || !m.WithQuorum || !m.Nodes[1].Unclean {
		t.Errorf("nodes = %+v dc %q quorum %v", m.Nodes, m.DC, m.WithQuorum)
	}
	if r, _ := m.Resource("STRATOS"); !r.Failed || r.Active {
		t.Errorf("STRATOS = %+v", r)
	}
	if r, _ := m.Resource("FAILOVER-IP"); r.Agent != "ocf:heartbeat:IPaddr" || !slices.Equal(r.Nodes, []string{"node1"}) {
		t.Errorf("FAILOVER-IP = %+v", r)
	}
}

func TestParseCrmMonGarbage(t *testing.T) {
	if _, err := ParseCrmMon([]byte("Could not connect to the CIB")); err == nil {
		t.Error("no error for non-XML")
	}
}

func auditOf(t *testing.T, stack string, outs map[string]string) *Audit {
	t.Helper()
	a := &Audit{Stack: stack}
	for _, n := range []string{"node1", "node2"} {
		out, ok := outs[n]
		if !ok {
			a.Nodes = append(a.Nodes, NodeAudit{Node: n, Err: "connection refused"})
			continue
		}
		na, err := ParseAudit(n, []byte(out))
		if err != nil {
			t.Fatal(err)
		}
		a.Nodes = append(a.Nodes, na)
	}
	return a
}

func TestAuditHealthyPacemaker(t *testing.T) {
	x := string(readTestdata(t, "crm_mon-2.1-healthy.xml"))
	m, _ := ParseCrmMon([]byte(x))
	r, _ := m.Resource("STRATOS")
	owner, other := r.Nodes[0], "node1"
	if owner == "node1" {
		other = "node2"
	}
	a := auditOf(t, "corosync", map[string]string{
		owner: "vip yes\nservice 0\n--- crm_mon\n" + x,
		other: "vip no\nservice 3\n--- crm_mon\n" + x,
	})
	if p := a.Problems(); len(p) != 0 {
		t.Errorf("problems in a healthy cluster: %v", p)
	}
	if !slices.Equal(a.VIPHolders(), []string{owner}) || !slices.Equal(a.ServiceOn(), []string{owner}) {
		t.Errorf("holders %v service %v", a.VIPHolders(), a.ServiceOn())
	}
}

func TestAuditProblems(t *testing.T) {
	hb := func(vip, svc string, members ...string) string {
		s := "vip " + vip + "\nservice " + svc + "\n"
		for _, m := range members {
			s += "member " + m + "\n"
		}
		return s
	}
	cases := []struct {
		name string
		outs map[string]string
		want []string // substrings, one per expected problem
	}{
		{"healthy heartbeat v1", map[string]string{
			"node1": hb("yes", "0", "node1 active", "node2 active"),
			"node2": hb("no", "3", "node1 active", "node2 active"),
		}, nil},
		{"split brain", map[string]string{
			"node1": hb("yes", "0", "node1 active", "node2 dead"),
			"node2": hb("yes", "0", "node1 dead", "node2 active"),
		}, []string{"membership differs", "the VIP is on 2 nodes"}},
		{"service elsewhere", map[string]string{
			"node1": hb("yes", "3", "node1 active", "node2 active"),
			"node2": hb("no", "0", "node1 active", "node2 active"),
		}, []string{"the VIP is on [node1] but the service runs on [node2]"}},
		{"no VIP", map[string]string{
			"node1": hb("no", "3", "node1 active", "node2 active"),
			"node2": hb("no", "3", "node1 active", "node2 active"),
		}, []string{"the VIP is on 0 nodes"}},
		{"daemon down and unreachable", map[string]string{
			"node1": "vip yes\nservice 0\ndaemon down\n",
		}, []string{"node1: the cluster daemon does not answer", "node2: unreachable"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := auditOf(t, "heartbeat-v1", c.outs).Problems()
			if len(p) != len(c.want) {
				t.Fatalf("problems = %q, want %d matching %q", p, len(c.want), c.want)
			}
			for i, w := range c.want {
				if !strings.Contains(p[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, p[i], w)
				}
			}
		})
	}
}

func TestAuditPacemakerViewDisagrees(t *testing.T) {
	x := string(readTestdata(t, "crm_mon-2.1-healthy.xml"))
	m, _ := ParseCrmMon([]byte(x))
	r, _ := m.Resource("STRATOS")
	crmOwner := r.Nodes[0]
	other := "node1"
	if crmOwner == "node1" {
		other = "node2"
	}
	// Ground truth: the VIP and service are on the node crm_mon does not
	// say: the audit must catch the disagreement.
	a := auditOf(t, "corosync", map[string]string{
		crmOwner: "vip no\nservice 3\n--- crm_mon\n" + x,
		other:    "vip yes\nservice 0\n--- crm_mon\n" + x,
	})
	p := strings.Join(a.Problems(), "\n")
	if !strings.Contains(p, "sees FAILOVER-IP on ["+crmOwner+"], but the VIP is on ["+other+"]") {
		t.Errorf("problems = %s", p)
	}
	failed := strings.Replace(x, `id="STRATOS" resource_agent="lsb:stratos" role="Started" active="true" orphaned="false" blocked="false" managed="true" failed="false"`,
		`id="STRATOS" resource_agent="lsb:stratos" role="Started" active="true" orphaned="false" blocked="false" managed="true" failed="true"`, 1)
	if failed == x {
		t.Fatal("fixture changed: cannot mark STRATOS failed")
	}
	a = auditOf(t, "corosync", map[string]string{
		crmOwner: "vip yes\nservice 0\n--- crm_mon\n" + failed,
		other:    "vip no\nservice 3\n--- crm_mon\n" + x,
	})
	if p := strings.Join(a.Problems(), "\n"); !strings.Contains(p, crmOwner+" sees STRATOS failed") {
		t.Errorf("problems = %s", p)
	}
}

// Only the harness's own chain is touched: partition adds jumps to it and
// heal removes exactly those, never flushing INPUT or OUTPUT.
func TestPartitionTouchesOnlyItsChain(t *testing.T) {
	for _, s := range []string{partitionScript, healPartitionScript} {
		for _, l := range strings.Split(s, "\n") {
			if !strings.Contains(l, "iptables ") {
				continue
			}
			if strings.Contains(l, "-F INPUT") || strings.Contains(l, "-F OUTPUT") || strings.Contains(l, "-P ") ||
				(strings.Contains(l, "-F") && !strings.Contains(l, `"$chain"`)) {
				t.Errorf("rule outside %s: %s", PartitionChain, l)
			}
		}
	}
	if !strings.Contains(partitionScript, "-p udp") {
		t.Error("the partition should drop only the cluster's UDP")
	}
}

func TestPartitionArgs(t *testing.T) {
	cfg := lab.Defaults()
	c := &Cluster{Lab: &lab.Lab{Cfg: &cfg}}
	got := c.partitionArgs("node1")
	if !slices.Equal(got, []string{PartitionChain, cfg.VIP.NIC, cfg.Nodes[1].IP}) {
		t.Errorf("args = %v", got)
	}
	if err := c.Inject(t.Context(), "explode", "node1"); !lab.IsConfigError(err) || !strings.Contains(err.Error(), "unknown fault") {
		t.Errorf("unknown fault: %v", err)
	}
	if err := c.Inject(t.Context(), PowerOff, "node9"); !lab.IsConfigError(err) || !strings.Contains(err.Error(), `"node9"`) {
		t.Errorf("unknown node: %v", err)
	}
}

// Artifacts never read a secret file (and are redacted anyway).
func TestArtifactsReadNoSecretFile(t *testing.T) {
	for _, a := range artifactCommands {
		if strings.Contains(a.Script, "authkey") {
			t.Errorf("%s reads a secret file: %s", a.File, a.Script)
		}
	}
}

// With fencing, each fence device runs on the node it does not fence,
// away from the VIP: a healthy cluster (crm_mon of a live fencing lab);
// a device on the node it fences is a problem.
func TestAuditFencingPacemaker(t *testing.T) {
	x := string(readTestdata(t, "crm_mon-2.1-fencing.xml"))
	a := auditOf(t, "corosync", map[string]string{
		"node1": "vip yes\nservice 0\n--- crm_mon\n" + x,
		"node2": "vip no\nservice 3\n--- crm_mon\n" + x,
	})
	if p := a.Problems(); len(p) != 0 {
		t.Errorf("problems in a healthy fencing cluster: %v", p)
	}
	m, _ := ParseCrmMon([]byte(x))
	if r, ok := m.Resource("FENCE-node1"); !ok || !slices.Equal(r.Nodes, []string{"node2"}) {
		t.Fatalf("FENCE-node1 in the fixture: %+v", r)
	}
	bad := strings.Replace(x, `<resource id="FENCE-node1" resource_agent="stonith:fence_docker" role="Started" active="true" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1">
      <node name="node2"`, `<resource id="FENCE-node1" resource_agent="stonith:fence_docker" role="Started" active="true" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1">
      <node name="node1"`, 1)
	if bad == x {
		t.Fatal("the fixture's FENCE-node1 line changed: update the test")
	}
	a = auditOf(t, "corosync", map[string]string{
		"node1": "vip yes\nservice 0\n--- crm_mon\n" + bad,
		"node2": "vip no\nservice 3\n--- crm_mon\n" + bad,
	})
	if p := strings.Join(a.Problems(), "; "); !strings.Contains(p, "FENCE-node1 on node1, the node it fences") {
		t.Errorf("a device on the node it fences: problems %q", p)
	}
}

// With its only allowed node in standby, a fence device is stopped: not
// a problem (Pacemaker fences with a configured device all the same).
func TestAuditFencingDeviceStopped(t *testing.T) {
	x := string(readTestdata(t, "crm_mon-2.1-fencing.xml"))
	stopped := strings.Replace(x, `<resource id="FENCE-node2" resource_agent="stonith:fence_docker" role="Started" active="true"`, `<resource id="FENCE-node2" resource_agent="stonith:fence_docker" role="Stopped" active="false"`, 1)
	if stopped == x {
		t.Fatal("the fixture's FENCE-node2 line changed: update the test")
	}
	a := auditOf(t, "corosync", map[string]string{
		"node1": "vip yes\nservice 0\n--- crm_mon\n" + stopped,
		"node2": "vip no\nservice 3\n--- crm_mon\n" + stopped,
	})
	if p := a.Problems(); len(p) != 0 {
		t.Errorf("a stopped fence device taken for a problem: %v", p)
	}
	failed := strings.Replace(x, `<resource id="FENCE-node2" resource_agent="stonith:fence_docker" role="Started" active="true" orphaned="false" blocked="false" managed="true" failed="false"`, `<resource id="FENCE-node2" resource_agent="stonith:fence_docker" role="Started" active="true" orphaned="false" blocked="false" managed="true" failed="true"`, 1)
	a = auditOf(t, "corosync", map[string]string{
		"node1": "vip yes\nservice 0\n--- crm_mon\n" + failed,
		"node2": "vip no\nservice 3\n--- crm_mon\n" + failed,
	})
	if p := strings.Join(a.Problems(), "; "); !strings.Contains(p, "FENCE-node2 failed") {
		t.Errorf("a failed fence device: problems %q", p)
	}
}
