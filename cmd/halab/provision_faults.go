package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"halab/lab"
	"halab/scenarios/harness"
)

// blocksProvision says whether provisioning cannot get through a fault
// left on the lab: a powered-off node cannot be reached; a partition
// makes the wait for membership time out; a killed daemon leaves what
// provisioning's start does not clean up (pacemakerd without its
// corosync, the resources of a killed heartbeat v1); a frozen machine
// answers nothing, a frozen daemon or dropped packets break the
// membership wait too. A stopped or failed
// daemon is started again by provisioning, standby and fail counts do not
// keep it from finishing: those are only reported.
func blocksProvision(kind string) bool {
	switch kind {
	case harness.LeftPoweredOff, harness.LeftPartition, harness.LeftKilledDaemon,
		harness.LeftPaused, harness.LeftFrozenDaemon, harness.LeftPacketFault:
		return true
	}
	return false
}

// faultsBeforeProvision looks for faults left on the lab before
// provisioning: it lists them with their heals, and refuses to go on
// through one that provisioning cannot get through, naming the command
// that heals it; with heal, it heals every node with a fault left first.
func (a *app) faultsBeforeProvision(ctx context.Context, l *lab.Lab, heal bool) error {
	in := a.inspect(ctx, l, false)
	if len(in.FaultsLeft) == 0 {
		return nil
	}
	fmt.Fprintln(l.Out, "==> faults left on the lab")
	var nodes, blocking []string
	for _, f := range in.FaultsLeft {
		fmt.Fprintf(l.Out, "    %s  %s: %s (heal: %s)\n", f.Node, f.Kind, f.What, f.Heal)
		if !slices.Contains(nodes, f.Node) {
			nodes = append(nodes, f.Node)
		}
		if blocksProvision(f.Kind) {
			blocking = append(blocking, f.Node+" "+f.Kind)
		}
	}
	if heal {
		return a.healBeforeProvision(ctx, l, nodes)
	}
	if len(blocking) == 0 {
		fmt.Fprintln(l.Out, "    provisioning goes on through these: it starts daemons that do not run; standby and fail counts stay until healed")
		return nil
	}
	cmd := in.HealAll
	if len(nodes) == 1 {
		cmd = in.FaultsLeft[0].Heal
	}
	return fmt.Errorf("faults left on the lab would make provisioning fail (%s): heal them first with `%s`, or run `%s`",
		strings.Join(blocking, ", "), cmd, a.command("halab provision --heal"))
}

// healBeforeProvision heals the nodes with faults left, as `halab fault
// heal` does, and says what it did.
func (a *app) healBeforeProvision(ctx context.Context, l *lab.Lab, nodes []string) error {
	fmt.Fprintf(l.Out, "==> healing %s first (--heal)\n", strings.Join(nodes, " "))
	c, _ := harness.OpenAny(ctx, l)
	defer c.Close()
	var errs []error
	for _, n := range nodes {
		did, err := c.Heal(ctx, n)
		for _, d := range did {
			fmt.Fprintf(l.Out, "    %s: %s\n", n, d)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
