package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"halab/lab"
	"halab/scenarios/harness"
)

// auditFromFixtures builds an audit from the harness's live captures:
// node -> audit-node.sh's lines, then a crm_mon XML file.
func auditFromFixtures(t *testing.T, nodes map[string][2]string) *harness.Audit {
	t.Helper()
	a := &harness.Audit{Stack: "corosync"}
	for _, n := range []string{"node1", "node2"} {
		f, ok := nodes[n]
		if !ok {
			a.Nodes = append(a.Nodes, harness.NodeAudit{Node: n, Err: "the docker machine does not run"})
			continue
		}
		x, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "harness", "testdata", f[1]))
		if err != nil {
			t.Fatal(err)
		}
		na, err := harness.ParseAudit(n, append([]byte(f[0]+"--- crm_mon\n"), x...))
		if err != nil {
			t.Fatal(err)
		}
		a.Nodes = append(a.Nodes, na)
	}
	return a
}

// What a new user sees after `halab fault partition node1`: split brain
// on top, each side's view, and the partition with its heal.
func TestStatusShowsSplitBrainAndHeal(t *testing.T) {
	a := auditFromFixtures(t, map[string][2]string{
		"node1": {"vip yes\nservice 0\n", "crm_mon-2.1-partition-node1.xml"},
		"node2": {"vip yes\nservice 0\n", "crm_mon-2.1-partition-node2.xml"},
	})
	v := a.View("192.168.56.20", "stratos")
	app := &app{configPath: lab.DefaultFile}
	in := inspection{Cluster: statusCluster{View: &v}, FaultsLeft: []harness.Leftover{
		{Node: "node1", Kind: harness.LeftPartition, What: "the HALAB-PARTITION chain drops its cluster traffic with 192.168.56.12", Heal: app.command(harness.HealCommand("node1"))},
	}, HealAll: app.command(harness.HealCommand(""))}
	var b bytes.Buffer
	printCluster(&b, in.Cluster)
	printFaultsLeft(&b, in)
	out := b.String()
	for _, re := range []string{
		`(?m)^SPLIT BRAIN: the VIP is on node1 and node2; the service runs on node1 and node2; the nodes disagree on membership: node1 sees \[node1\], node2 sees \[node2\]$`,
		`(?m)^CLUSTER \(stack corosync\): VIP 192.168.56.20 on node1 and node2; service stratos on node1 and node2$`,
		`(?m)^node1\s+up\s+node1\s+node1\s+-\s+FAILOVER-IP on node1, STRATOS on node1$`,
		`(?m)^node2\s+up\s+node2\s+node2\s+-\s+FAILOVER-IP on node2, STRATOS on node2$`,
		`(?m)^node1\s+partition\s+the HALAB-PARTITION chain .*\s+halab fault heal node1$`,
		`(?m)^heal every node: halab fault heal$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("status lacks %s:\n%s", re, out)
		}
	}
	if strings.Index(out, "SPLIT BRAIN") > strings.Index(out, "VIEW OF") {
		t.Errorf("split brain should come before the views:\n%s", out)
	}
}

func TestStatusHealthyAndUnknown(t *testing.T) {
	a := auditFromFixtures(t, map[string][2]string{
		"node1": {"vip yes\nservice 0\n", "crm_mon-2.1-healthy.xml"},
		"node2": {"vip no\nservice 3\n", "crm_mon-2.1-healthy.xml"},
	})
	// The fixture's owner is whichever node crm_mon names.
	v := a.View("192.168.56.20", "stratos")
	var b bytes.Buffer
	printCluster(&b, statusCluster{View: &v})
	printFaultsLeft(&b, inspection{FaultsLeft: []harness.Leftover{}})
	if out := b.String(); strings.Contains(out, "SPLIT BRAIN") || !strings.Contains(out, "FAULTS LEFT: none") {
		t.Errorf("healthy status:\n%s", out)
	}
	b.Reset()
	printCluster(&b, statusCluster{Error: "no node tells which stack it runs"})
	if !strings.Contains(b.String(), "CLUSTER: unknown: no node tells which stack it runs") {
		t.Errorf("no stack: %s", b.String())
	}
	// A powered-off peer and a stopped group: unreachable, not split.
	a = auditFromFixtures(t, map[string][2]string{"node2": {"vip no\nservice 3\n", "crm_mon-2.1-standby.xml"}})
	v = a.View("192.168.56.20", "stratos")
	b.Reset()
	printCluster(&b, statusCluster{View: &v})
	out := b.String()
	for _, want := range []string{"node1    unreachable", "failed or stopped: node2 sees FAILOVER-IP stopped; node2 sees STRATOS stopped", "VIP 192.168.56.20 on no node"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "SPLIT BRAIN") {
		t.Errorf("a powered-off peer is no split brain:\n%s", out)
	}
}

// The heal command is the one to type: with the -c of this run.
func TestCommandKeepsConfig(t *testing.T) {
	for _, c := range []struct{ config, want string }{
		{lab.DefaultFile, "halab fault heal node1"},
		{"build/my lab.yaml", "halab -c 'build/my lab.yaml' fault heal node1"},
		{"bench.yaml", "halab -c bench.yaml fault heal node1"},
	} {
		if got := (&app{configPath: c.config}).command(harness.HealCommand("node1")); got != c.want {
			t.Errorf("-c %s: %q, want %q", c.config, got, c.want)
		}
	}
}
