package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"halab/lab"
	"halab/scenarios/harness"
)

// statusCluster is the cluster section of `halab status`: the audit's
// view, or why there is none (not provisioned, no node answers).
type statusCluster struct {
	*harness.View
	Error string `json:"error,omitempty"`
}

// inspection is what `halab status` and `halab provision` learn of the
// cluster beyond the machines: its view and the faults left on it.
type inspection struct {
	Cluster    statusCluster      `json:"cluster"`
	FaultsLeft []harness.Leftover `json:"faults_left"`
	// HealAll heals every node; empty when nothing is left.
	HealAll string `json:"heal_all,omitempty"`
}

// inspect audits the cluster (when a node tells its stack) and finds the
// faults left on it; audit false skips the audit of membership and
// resources except where the leftover check needs it (the resource
// manager's standby and fail counts).
func (a *app) inspect(ctx context.Context, l *lab.Lab, audit bool) inspection {
	c, err := harness.OpenAny(ctx, l)
	defer c.Close()
	var in inspection
	var au *harness.Audit
	if err != nil {
		in.Cluster.Error = err.Error()
	} else if audit || c.Pacemaker() {
		au = c.Audit(ctx)
		c.ExplainUnreachable(ctx, au)
		if audit {
			v := au.View(l.Cfg.VIP.Address, l.Cfg.Service.Name)
			in.Cluster.View = &v
		}
	}
	in.FaultsLeft = c.Leftovers(ctx, au)
	if in.FaultsLeft == nil {
		in.FaultsLeft = []harness.Leftover{}
	}
	for i := range in.FaultsLeft {
		in.FaultsLeft[i].Heal = a.command(in.FaultsLeft[i].Heal)
	}
	if len(in.FaultsLeft) > 0 {
		in.HealAll = a.command(harness.HealCommand(""))
	}
	return in
}

// command is a halab command line as the user should type it: with the
// -c of this run when it is not the default lab file.
func (a *app) command(cmd string) string {
	rest, ok := strings.CutPrefix(cmd, "halab ")
	if !ok || a.configPath == lab.DefaultFile {
		return cmd
	}
	return "halab -c " + lab.Quote(a.configPath) + " " + rest
}

// printCluster writes the cluster section of `halab status`: split brain
// first, then each node's view, what is failed or stopped, the problems.
func printCluster(w io.Writer, sc statusCluster) {
	fmt.Fprintln(w)
	if sc.View == nil {
		fmt.Fprintf(w, "CLUSTER: unknown: %s\n", sc.Error)
		return
	}
	v := sc.View
	if len(v.SplitBrain) > 0 {
		fmt.Fprintf(w, "SPLIT BRAIN: %s\n\n", strings.Join(v.SplitBrain, "; "))
	}
	fmt.Fprintf(w, "CLUSTER (stack %s): VIP %s on %s; service %s on %s\n", v.Stack, v.VIP.Name, onNodes(v.VIP.On), v.Service.Name, onNodes(v.Service.On))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VIEW OF\tDAEMON\tSEES ONLINE\tDC\tSTANDBY\tRESOURCES")
	for _, n := range v.Nodes {
		daemon, online, dc, standby, res := "up", strings.Join(n.Members, ","), dash(n.DC), dash(strings.Join(n.Standby, ",")), "-"
		switch {
		case !n.Reachable:
			daemon, online = "unreachable", "-"
		case !n.DaemonUp:
			daemon, online = "down", "-"
		}
		if online == "" {
			online = "no one"
		}
		if len(n.Resources) > 0 {
			var rs []string
			for _, r := range n.Resources {
				rs = append(rs, resource(r))
			}
			res = strings.Join(rs, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n.Node, daemon, online, dc, standby, res)
	}
	tw.Flush()
	if len(v.NotStarted) > 0 {
		var rs []string
		for _, r := range v.NotStarted {
			rs = append(rs, r.View+" sees "+resource(r))
		}
		fmt.Fprintf(w, "failed or stopped: %s\n", strings.Join(rs, "; "))
	}
	for _, k := range slices.Sorted(maps.Keys(v.FailCounts)) {
		res, node, _ := strings.Cut(k, "@")
		fmt.Fprintf(w, "fail count: %s on %s: %d\n", res, node, v.FailCounts[k])
	}
	if len(v.Problems) == 0 {
		fmt.Fprintln(w, "problems: none")
	} else {
		fmt.Fprintln(w, "problems:")
		for _, p := range v.Problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
	printConfigAudit(w, v)
}

// printConfigAudit writes the configuration audit: the cluster's own
// verifiers' findings, each with what it means.
func printConfigAudit(w io.Writer, v *harness.View) {
	ca := v.Configuration
	switch {
	case ca == nil && v.ConfigurationError != "":
		fmt.Fprintf(w, "configuration audit: could not run: %s\n", v.ConfigurationError)
		return
	case ca == nil:
		fmt.Fprintln(w, "configuration audit: not run (no node's resource manager answers)")
		return
	case ca.NotApplicable != "":
		fmt.Fprintf(w, "configuration audit: not applicable: %s\n", ca.NotApplicable)
		return
	}
	fmt.Fprintf(w, "configuration audit (the cluster's verifiers, on %s): %s\n", ca.Node, ca.Count())
	for _, f := range ca.Findings {
		fmt.Fprintf(w, "  - %s\n", strings.ReplaceAll(f.String(), "\n", "\n  "))
	}
	for _, m := range ca.Missing {
		fmt.Fprintf(w, "  - %s: not installed on %s, not run\n", m, ca.Node)
	}
}

// printFaultsLeft writes the faults left on the lab and their heals.
func printFaultsLeft(w io.Writer, in inspection) {
	fmt.Fprintln(w)
	if len(in.FaultsLeft) == 0 {
		fmt.Fprintln(w, "FAULTS LEFT: none")
		return
	}
	fmt.Fprintln(w, "FAULTS LEFT")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tFAULT\tWHAT\tHEAL WITH")
	for _, f := range in.FaultsLeft {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Node, f.Kind, f.What, f.Heal)
	}
	tw.Flush()
	fmt.Fprintf(w, "heal every node: %s\n", in.HealAll)
}

// resource is one resource as a view has it: "STRATOS on node1",
// "STRATOS stopped", "STRATOS FAILED on node2".
func resource(r harness.ResourceState) string {
	s := r.ID
	if r.Failed {
		s += " FAILED"
	} else if !r.Started() {
		s += " " + strings.ToLower(dash(r.Role))
	}
	if len(r.On) > 0 {
		s += " on " + strings.Join(r.On, ",")
	}
	return s
}

func onNodes(nodes []string) string {
	if len(nodes) == 0 {
		return "no node"
	}
	return strings.Join(nodes, " and ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
