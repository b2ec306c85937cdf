package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"halab/lab"
	"halab/lab/fence"
)

// fenceEndpointCmd is the lab's fence endpoint: `up` and `provision` start
// it (serve, detached), `down` stops it, `status` reports it; these
// subcommands do the same by hand.
func (a *app) fenceEndpointCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "fence-endpoint",
		Short: "The lab's fence endpoint (fencing.agent auto): the fence agents' Docker Engine API over mutual TLS, mapped to the provider's power-off and power-on",
	}
	c.AddCommand(&cobra.Command{
		Use:    "serve",
		Short:  "Serve the endpoint in the foreground (what halab up runs detached)",
		Hidden: true,
		Args:   cobra.NoArgs,
		// No lab lock: it runs for the lab's whole life, beside the other
		// commands; the endpoint's own lock keeps it to one per lab.
		RunE: a.withLab(false, func(cmd *cobra.Command, l *lab.Lab, _ []string) error {
			return fence.ServeLab(cmd.Context(), l, cmd.OutOrStdout())
		}),
	})
	c.AddCommand(&cobra.Command{
		Use:   "start",
		Short: "Start the endpoint (restart it if it runs on another address or does not answer)",
		Args:  cobra.NoArgs,
		RunE: a.withLab(true, func(cmd *cobra.Command, l *lab.Lab, _ []string) error {
			if !l.Cfg.FencingOn() {
				return &usageError{fmt.Sprintf("fencing.agent is none in %s: the lab has no fence endpoint", l.Cfg.Path)}
			}
			if err := ensureFenceEndpoint(cmd.Context(), l); err != nil {
				return err
			}
			fmt.Fprintln(l.Out, fence.Status(cmd.Context(), l))
			return nil
		}),
	})
	c.AddCommand(&cobra.Command{
		Use:   "stop",
		Short: "Stop the endpoint (fencing fails until it runs again)",
		Args:  cobra.NoArgs,
		RunE: a.withLab(true, func(cmd *cobra.Command, l *lab.Lab, _ []string) error {
			return stopFenceEndpoint(l)
		}),
	})
	c.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Say whether the endpoint runs, where, and whether it answers",
		Args:  cobra.NoArgs,
		RunE: a.withLab(false, func(cmd *cobra.Command, l *lab.Lab, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), fence.Status(cmd.Context(), l))
			return nil
		}),
	})
	c.AddCommand(&cobra.Command{
		Use:   "refuse on|off",
		Short: "Make the endpoint refuse every request (the fence device failing, on purpose), or answer again",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || (args[0] != "on" && args[0] != "off") {
				return &usageError{"fence-endpoint refuse: say on or off"}
			}
			return nil
		},
		ValidArgs: []string{"on", "off"},
		RunE: a.withLab(false, func(cmd *cobra.Command, l *lab.Lab, args []string) error {
			if err := fence.SetRefusing(fence.Dir(l.State), args[0] == "on"); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), fence.Status(cmd.Context(), l))
			return nil
		}),
	})
	return c
}

// serveArgv runs `halab fence-endpoint serve` for the lab: this binary, the
// lab file by its absolute path.
func serveArgv(l *lab.Lab) ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("fence endpoint: cannot find halab's own binary: %w", err)
	}
	return []string{exe, "-c", l.ConfigPath, "fence-endpoint", "serve"}, nil
}

// ensureFenceEndpoint brings the endpoint to what the lab file says (up and
// provision call it): started when fencing is on and it is not running,
// stopped when fencing is off.
func ensureFenceEndpoint(ctx context.Context, l *lab.Lab) error {
	if !l.Cfg.FencingOn() {
		if st, err := fence.ReadState(fence.Dir(l.State)); err != nil || !st.Running {
			return err
		}
	}
	argv, err := serveArgv(l)
	if err != nil {
		return err
	}
	did, err := fence.Ensure(ctx, l, argv)
	if err != nil {
		return err
	}
	switch did {
	case "stopped":
		fmt.Fprintln(l.Out, "==> fence endpoint stopped (fencing.agent: none)")
	case "started", "restarted":
		st, _ := fence.ReadState(fence.Dir(l.State))
		fmt.Fprintf(l.Out, "==> fence endpoint %s: https://%s (mutual TLS), pid %d, requests logged in %s\n",
			did, st.Addr, st.PID, fence.Dir(l.State)+"/"+fence.RequestLogName)
		for _, a := range fence.ExposedEngine(l.Cfg.FenceAddress(), fence.DockerPorts) {
			fmt.Fprintf(l.Out, "==> warning: something listens on %s, a Docker engine's TCP port, on the lab network: the nodes can reach it; serve the engine on its unix socket only\n", a)
		}
	}
	return nil
}

// printFenceStatus is status's line about the endpoint, when the lab
// fences or one runs.
func printFenceStatus(ctx context.Context, w io.Writer, l *lab.Lab) {
	if r := fence.Status(ctx, l); r.Agent != lab.FenceAgentNone || r.Running {
		fmt.Fprintln(w, r)
	}
}

// stopFenceEndpoint stops the lab's endpoint, if one runs (down calls it).
func stopFenceEndpoint(l *lab.Lab) error {
	stopped, err := fence.Stop(fence.Dir(l.State), fence.StopTimeout)
	if err != nil {
		return err
	}
	if stopped {
		fmt.Fprintln(l.Out, "==> fence endpoint stopped")
	}
	return nil
}
