package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"halab/provision"
	"halab/scenarios/harness"
)

// What `halab status` says of the article's configuration: the cluster's
// verifiers' findings (their real output on a corosync lab), each with
// what it means; heartbeat v1 says it has nothing to verify.
func TestStatusShowsConfigAudit(t *testing.T) {
	a := auditFromFixtures(t, map[string][2]string{
		"node1": {"vip yes\nservice 0\n", "crm_mon-2.1-healthy.xml"},
		"node2": {"vip no\nservice 3\n", "crm_mon-2.1-healthy.xml"},
	})
	ca := &provision.ConfigAudit{Node: "node1"}
	for i, file := range []string{"pcmk2.1.5-crm_verify-L-VV-article.exit0.txt", "crmsh4.4-configure-verify-article.exit0.txt"} {
		out, err := os.ReadFile(filepath.Join("..", "..", "provision", "testdata", "verify", file))
		if err != nil {
			t.Fatal(err)
		}
		fs, err := provision.ParseVerifier(provision.Pacemaker2Verifiers[i], string(out), 0)
		if err != nil {
			t.Fatal(err)
		}
		ca.Add(fs)
	}
	a.Config = ca
	v := a.View("192.168.56.20", "stratos")
	var b bytes.Buffer
	printCluster(&b, statusCluster{View: &v})
	out := b.String()
	for _, want := range []string{
		"configuration audit (the cluster's verifiers, on node1): 3 warnings",
		"  - warning (crm_verify, crm configure verify): Blind faith: not fencing unseen nodes\n        means: a node the cluster has not seen is trusted to be down, not fenced",
		"  - warning (crm configure verify): FAILOVER-IP-RESOURCE-GROUP-COLOCATION: resource STRATOS is grouped, constraints should apply to the group\n        means: the colocation FAILOVER-IP-RESOURCE-GROUP-COLOCATION only repeats what the group already does",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "configuration audit") < strings.Index(out, "problems: none") {
		t.Errorf("the configuration audit comes after the problems:\n%s", out)
	}

	for _, c := range []struct {
		audit *harness.Audit
		want  string
	}{
		{&harness.Audit{Stack: "heartbeat-v1", Config: &provision.ConfigAudit{NotApplicable: provision.HeartbeatV1NoVerifier}}, "configuration audit: not applicable: heartbeat v1 has no CIB"},
		{&harness.Audit{Stack: "corosync", ConfigErr: "node1: connection refused"}, "configuration audit: could not run: node1: connection refused"},
		{&harness.Audit{Stack: "corosync"}, "configuration audit: not run (no node's resource manager answers)"},
	} {
		v := c.audit.View("192.168.56.20", "stratos")
		b.Reset()
		printCluster(&b, statusCluster{View: &v})
		if !strings.Contains(b.String(), c.want) {
			t.Errorf("status lacks %q:\n%s", c.want, b.String())
		}
	}
}
