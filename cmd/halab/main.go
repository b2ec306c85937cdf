// Command halab brings up a two-node HA lab, provisions the article's
// Pacemaker stack on it and runs failover scenarios against it.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"halab/lab"
	"halab/provision"
)

// usageError is bad input on the command line: exit 2 like a bad lab.yaml.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

type app struct {
	configPath     string
	connectTimeout time.Duration
	commandTimeout time.Duration
	// interruptGrace is how long a local child (vagrant) has to finish
	// after the first interrupt.
	interruptGrace time.Duration
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	a := &app{}
	root := &cobra.Command{
		Use:           "halab",
		Short:         "Two-node HA lab: bring-up, Pacemaker provisioning, failover scenarios",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&a.configPath, "config", "c", envOr("HALAB_CONFIG", lab.DefaultFile), "lab description file")
	root.PersistentFlags().DurationVar(&a.connectTimeout, "connect-timeout", lab.DialTimeout, "give up on a node whose SSH connect and handshake take longer")
	root.PersistentFlags().DurationVar(&a.commandTimeout, "command-timeout", lab.CommandTimeout, "give up on any one remote command that runs longer (names the command)")
	root.PersistentFlags().DurationVar(&a.interruptGrace, "interrupt-grace", lab.DefaultGrace, "on Ctrl-C, give vagrant and other local commands this long to finish before they are killed (a second Ctrl-C kills at once)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	root.AddCommand(a.configCmd(), a.upCmd(), a.statusCmd(), a.sshCmd(), a.downCmd(), a.imageCmd(), a.provisionCmd(), a.checkInitdCmd(), a.faultCmd(), a.testCmd(), a.benchCmd(), a.reportCmd())
	root.AddCommand(a.fenceEndpointCmd())
	root.SetArgs(args)

	// SIGINT/SIGTERM cancel the context: steps stop, deferred cleanups
	// run, local children get SIGINT and the grace. A second one kills
	// what still runs, a third exits at once.
	sigs := make(chan os.Signal, 3)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, hard, stop := interrupts(sigs, os.Stderr, os.Exit)
	defer stop()
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if a.interruptGrace <= 0 {
			return &usageError{"--interrupt-grace must be greater than zero"}
		}
		cmd.SetContext(lab.WithStop(cmd.Context(), lab.Stop{Hard: hard, Grace: a.interruptGrace}))
		return nil
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "halab: interrupted:", err)
	} else {
		fmt.Fprintln(os.Stderr, "halab:", err)
		if flag := timeoutFlag(err); flag != "" {
			fmt.Fprintf(os.Stderr, "halab: to allow more time, raise %s\n", flag)
		}
	}
	var ue *usageError
	var ee *exitCode
	switch {
	case errors.As(err, &ee):
		return ee.code
	case lab.IsConfigError(err), errors.As(err, &ue):
		return 2
	case ctx.Err() != nil:
		return 130
	}
	return 1
}

// timeoutFlag names the flag that raises the bound an error ran into, if
// it ran into one of the SSH bounds.
func timeoutFlag(err error) string {
	var te *lab.TimeoutError
	var lost *lab.LostError
	switch {
	case errors.As(err, &te) && te.Command:
		return "--command-timeout"
	case errors.As(err, &te), errors.As(err, &lost):
		return "--connect-timeout"
	}
	return ""
}

// exitCode carries a remote command's exit status out of `halab ssh`.
type exitCode struct {
	code int
	err  error
}

func (e *exitCode) Error() string { return e.err.Error() }

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// withLab makes a command body that runs against the lab: loaded and
// validated, and with lock, holding the lab's lock so that two commands
// never interleave against one lab.
func (a *app) withLab(lock bool, fn func(cmd *cobra.Command, l *lab.Lab, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if a.connectTimeout <= 0 || a.commandTimeout <= 0 {
			return &usageError{"--connect-timeout and --command-timeout must be greater than zero"}
		}
		l, err := lab.Open(a.configPath, cmd.OutOrStdout(), provision.CheckConfig)
		if err != nil {
			return err
		}
		l.DialTimeout, l.CommandTimeout = a.connectTimeout, a.commandTimeout
		if !lock {
			if err := lab.EnsureStateDir(l.State); err != nil {
				return err
			}
			return fn(cmd, l, args)
		}
		unlock, err := lab.Lock(l.State)
		if err != nil {
			return err
		}
		defer unlock()
		return fn(cmd, l, args)
	}
}
