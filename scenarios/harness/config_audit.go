package harness

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"halab/provision"
)

// auditConfig runs the stack's configuration verifiers (provision's
// configuration audit) on one node whose resource manager answered in
// this audit: the configuration is the cluster's, one CIB, so one node
// says it. Nil when no node can: every daemon down, or none reachable.
func (c *Cluster) auditConfig(ctx context.Context, a *Audit) {
	if len(c.Stack.Verifiers) == 0 {
		a.Config = &provision.ConfigAudit{NotApplicable: c.Stack.NoVerifier, Findings: []provision.Finding{}}
		return
	}
	for _, n := range a.Nodes {
		if !n.Reachable || n.CrmMon == nil {
			continue
		}
		node, err := c.Node(ctx, n.Node)
		if err == nil {
			var ca *provision.ConfigAudit
			if ca, err = provision.VerifyConfig(ctx, node, c.Stack); err == nil {
				a.Config, a.ConfigErr = ca, ""
				return
			}
		}
		a.ConfigErr = n.Node + ": " + err.Error()
	}
}

// ConfigFindings are the configuration audit's findings, one line each
// ("warning (crm_verify): ..."), without their meaning; none when there
// is no audit.
func (a *Audit) ConfigFindings() []string {
	if a == nil || a.Config == nil {
		return nil
	}
	var s []string
	for _, f := range a.Config.Findings {
		s = append(s, f.Level+" ("+strings.Join(f.By, ", ")+"): "+f.Text)
	}
	return s
}

// configArtifact is the configuration audit for a failed spec's
// artifacts: each verifier's output as it ran on the first node that
// could run them, then the findings with what they mean.
func (c *Cluster) configArtifact(ctx context.Context) []byte {
	if len(c.Stack.Verifiers) == 0 {
		return []byte("not applicable: " + c.Stack.NoVerifier + "\n")
	}
	var b strings.Builder
	for _, name := range c.Names() {
		n, err := c.Node(ctx, name)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", name, err)
			continue
		}
		ca, err := provision.VerifyConfig(ctx, n, c.Stack)
		for _, v := range slices.Sorted(maps.Keys(ca.Output)) {
			fmt.Fprintf(&b, "== %s on %s\n%s\n", v, name, ca.Output[v])
		}
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", name, err)
			continue
		}
		fmt.Fprintf(&b, "== findings: %s\n", ca.Count())
		for _, f := range ca.Findings {
			fmt.Fprintf(&b, "- %s\n", f)
		}
		break
	}
	return []byte(b.String())
}
