package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"halab/lab"
	"halab/provision"
)

func (a *app) provisionCmd() *cobra.Command {
	var stack string
	var heal bool
	c := &cobra.Command{
		Use:   "provision",
		Short: "Provision the HA stack on every node (idempotent): packages, JDK, service, messaging layer, crm configuration",
		Args:  cobra.NoArgs,
		RunE: a.withLab(true, func(cmd *cobra.Command, l *lab.Lab, _ []string) error {
			ctx := cmd.Context()
			if _, ok := provision.StackByName(stack); stack != "" && stack != provision.AutoStack && !ok {
				return &usageError{fmt.Sprintf("--stack %q: use one of %s", stack, strings.Join(provision.StackNames(), ", "))}
			}
			start := time.Now()
			if err := ensureFenceEndpoint(ctx, l); err != nil {
				return err
			}
			if err := a.faultsBeforeProvision(ctx, l, heal); err != nil {
				return err
			}
			nodes, err := l.Connect(ctx)
			if err != nil {
				return err
			}
			defer closeAll(nodes)
			p, err := provision.New(l, lab.Runners(nodes), provision.Options{Stack: stack, Out: l.Out})
			if err != nil {
				return err
			}
			if !l.MadeByHalab() {
				// Never over a cluster that is not this lab's, unless adopted.
				if err := provision.Adopt(ctx, l, lab.Runners(nodes)); err != nil {
					return err
				}
			}
			runErr := p.Run(ctx)
			printSummary(l.Out, p.Results())
			if runErr != nil {
				return runErr
			}
			fmt.Fprintf(l.Out, "==> provisioned stack %s in %s: %d step(s) changed\n", p.Stack, time.Since(start).Round(100*time.Millisecond), p.Changed())
			return nil
		}),
	}
	c.Flags().StringVar(&stack, "stack", "", "override lab.yaml's stack (heartbeat, heartbeat-v1, corosync)")
	c.Flags().BoolVar(&heal, "heal", false, "first heal the faults left on the lab (as `halab fault heal` does), instead of refusing those provisioning cannot get through")
	return c
}

func printSummary(w io.Writer, results []provision.StepResult) {
	fmt.Fprintln(w, "==> summary")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTEP\tRESULT\tTIME\tDETAIL")
	for _, r := range results {
		res := "ok"
		if r.Changed {
			res = "changed"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Node, r.Step, res, r.Took.Round(10*time.Millisecond), r.Detail)
	}
	tw.Flush()
}
