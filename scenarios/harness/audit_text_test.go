package harness

import (
	"slices"
	"strings"
	"testing"
)

// The testdata/crm_mon-1.1.6-*.txt fixtures are what `crm_mon -1 -r -f`
// prints on Pacemaker 1.1.6 (Ubuntu 12.04's, with heartbeat, whose node
// ids are UUIDs). No 12.04 node runs here: each fixture is written from
// 1.1.6's print code, at tag Pacemaker-1.1.6 of ClusterLabs/pacemaker:
//
//   - tools/crm_mon.c print_status (l. 937-1180): "============", "Last
//     updated: %s" (ctime, l. 973), "Last change: %s via %s on %s" (l. 982),
//     "Stack: %s" (l. 997), "Current DC: NONE" (l. 1002) or "Current DC: %s
//     (%s)" when uname != id (l. 1006) + " - partition %s quorum" with
//     "with"/"WITHOUT" (l. 1011), "Version: %s", "%d Nodes configured, %s
//     expected votes" (l. 1023), "%d Resources configured."; online and
//     offline nodes gathered into "Online: [%s ]" / "OFFLINE: [%s ]" (l.
//     1089, 1093) with " name" per node (add_list_element), other modes as
//     "Node %s (%s): %s" (l. 1074: "standby", "UNCLEAN (offline)"...,
//     l. 1029-1063); with -r "\nFull list of resources:\n" then "\n" (l.
//     1098); "\nFailed actions:\n" and "    %s (node=%s, call=%s, rc=%s,
//     status=%s): %s" (l. 1146).
//   - tools/crm_mon.c print_node_summary (l. 872-916, for -f): "\nMigration
//     summary:\n" (l. 882), "* Node %s: " then "\n" per online node (l. 892),
//     and print_rsc_summary (l. 663-696) "   %s: migration-threshold=%d"
//     (l. 677) + " fail-count=%d" (l. 683) + " last-failure='%s'".
//   - lib/pengine/group.c group_print (l. 143-179): pre_text " " so
//     " Resource Group: %s", members with crm_concat(" ", "   ", ' '):
//     five spaces (l. 150).
//   - lib/pengine/native.c native_print (l. 284-446), pe_print_printf: on
//     one node or none "%s%s\t(%s%s%s:%s):\t%s%s %s%s%s%s" (l. 337): id, TAB,
//     "(ocf::heartbeat:IPaddr):", TAB, [" ORPHANED "], role ("Started",
//     "Stopped": lib/pengine/common.c role2text), " ", node or "",
//     [" (unmanaged)"][" FAILED"]; on several nodes "%s%s\t(%s%s%s:%s%s) %s
//     %s%s%s%s%s" (l. 325) then "[", "\t%s" per node, " ]".
func TestParseCrmMonText116(t *testing.T) {
	for _, c := range []struct {
		file       string
		dc         string
		quorum     bool
		online     []string
		standby    string
		owners     []string // where both resources run
		failed     bool     // STRATOS flagged FAILED
		failCounts map[string]int
	}{
		{"crm_mon-1.1.6-healthy.txt", "node1", true, []string{"node1", "node2"}, "", []string{"node1"}, false, nil},
		{"crm_mon-1.1.6-failcount.txt", "node1", true, []string{"node1", "node2"}, "", []string{"node1"}, false, map[string]int{"STRATOS@node1": 1}},
		{"crm_mon-1.1.6-monitor-failed.txt", "node1", true, []string{"node1", "node2"}, "", []string{"node1"}, true, map[string]int{"STRATOS@node1": 1}},
		// node2's view after node1 was powered off: heartbeat's ccm gives the
		// survivor of a two-node cluster quorum (docs/running-the-article.md)
		{"crm_mon-1.1.6-survivor.txt", "node2", true, []string{"node2"}, "", []string{"node2"}, false, nil},
		{"crm_mon-1.1.6-standby.txt", "node2", true, []string{"node1", "node2"}, "node1", []string{"node2"}, false, nil},
		{"crm_mon-1.1.6-two-owners.txt", "node2", true, []string{"node1", "node2"}, "", []string{"node1", "node2"}, false, nil},
		{"crm_mon-1.1.6-no-dc.txt", "", false, []string{"node1"}, "", nil, false, nil},
	} {
		t.Run(c.file, func(t *testing.T) {
			m, err := ParseCrmMonText(readTestdata(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if m.DC != c.dc || m.WithQuorum != c.quorum {
				t.Errorf("DC %q quorum %v, want %q %v", m.DC, m.WithQuorum, c.dc, c.quorum)
			}
			if got := m.Online(); !slices.Equal(got, c.online) {
				t.Errorf("online %v, want %v", got, c.online)
			}
			for _, n := range m.Nodes {
				if n.Standby != (n.Name == c.standby) {
					t.Errorf("node %+v: standby wrong (want standby %q)", n, c.standby)
				}
			}
			if len(m.Resources) != 2 {
				t.Fatalf("resources %+v, want FAILOVER-IP and STRATOS", m.Resources)
			}
			for _, id := range []string{"FAILOVER-IP", "STRATOS"} {
				r, ok := m.Resource(id)
				if !ok {
					t.Fatalf("no %s", id)
				}
				if !slices.Equal(r.Nodes, c.owners) || r.Active != (len(c.owners) > 0) || !r.Managed {
					t.Errorf("%s = %+v, want on %v", id, r, c.owners)
				}
				wantRole := "Started"
				if len(c.owners) == 0 {
					wantRole = "Stopped"
				}
				if r.Role != wantRole {
					t.Errorf("%s role %q, want %q", id, r.Role, wantRole)
				}
				if r.Failed != (c.failed && id == "STRATOS") {
					t.Errorf("%s failed = %v", id, r.Failed)
				}
			}
			if r, _ := m.Resource("FAILOVER-IP"); r.Agent != "ocf:heartbeat:IPaddr" {
				t.Errorf("agent %q", r.Agent)
			}
			if len(m.FailCounts) != len(c.failCounts) {
				t.Errorf("fail counts %v, want %v", m.FailCounts, c.failCounts)
			}
			for k, v := range c.failCounts {
				if m.FailCounts[k] != v {
					t.Errorf("fail count %s = %d, want %d", k, m.FailCounts[k], v)
				}
			}
		})
	}
}

// What 1.1.6 prints when it cannot reach the CIB ("\nConnection to cluster
// failed: %s\n", tools/crm_mon.c main l. 516) is no status.
func TestParseCrmMonTextGarbage(t *testing.T) {
	for _, out := range []string{"\nConnection to cluster failed: connection failed\n", "crm_mon - Provides a summary of cluster's current state.\nUsage: crm_mon mode [options]\n"} {
		if m, err := ParseCrmMonText([]byte(out)); err == nil {
			t.Errorf("%q parsed as %+v", out, m)
		}
	}
}

// The heartbeat stack's status on a 1.1.6 node goes through ParseAudit:
// the version line, then the text after "--- crm_mon text"; a healthy
// cluster is healthy, the survivor view names node1 missing.
func TestAuditPacemaker116(t *testing.T) {
	healthy := string(readTestdata(t, "crm_mon-1.1.6-healthy.txt"))
	a := auditOf(t, "heartbeat", map[string]string{
		"node1": "vip yes\nservice 0\npacemaker 1.1.6\n--- crm_mon text\n" + healthy,
		"node2": "vip no\nservice 3\npacemaker 1.1.6\n--- crm_mon text\n" + healthy,
	})
	if p := a.Problems(); len(p) != 0 {
		t.Errorf("healthy 1.1.6 cluster: problems %v", p)
	}
	if a.Nodes[0].Pacemaker != "1.1.6" || !slices.Equal(a.Nodes[0].Members, []string{"node1", "node2"}) {
		t.Errorf("node1 audit %+v", a.Nodes[0])
	}
	survivor := string(readTestdata(t, "crm_mon-1.1.6-survivor.txt"))
	a = auditOf(t, "heartbeat", map[string]string{
		"node2": "vip yes\nservice 0\npacemaker 1.1.6\n--- crm_mon text\n" + survivor,
	})
	if !a.Nodes[1].CrmMon.WithQuorum || !slices.Equal(a.Nodes[1].Members, []string{"node2"}) {
		t.Errorf("survivor %+v", a.Nodes[1])
	}
	if p := strings.Join(a.Problems(), "; "); !strings.Contains(p, "node1: unreachable") {
		t.Errorf("problems %q", p)
	}
}
