package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"halab/lab"
	"halab/scenarios/harness"
)

func (a *app) faultCmd() *cobra.Command {
	var long strings.Builder
	long.WriteString(`Injects one of the scenarios' faults by hand, with the scenarios' own code.
Every fault is undone by "halab fault heal NODE" (all nodes without NODE),
which is idempotent and says what it healed.

Faults:
`)
	var kinds []string
	for _, f := range harness.Faults {
		fmt.Fprintf(&long, "  %-15s %s\n", f.Kind, f.What)
		kinds = append(kinds, f.Kind)
	}
	return &cobra.Command{
		Use:       "fault FAULT [NODE]",
		Short:     "Inject a fault into the lab (power-off, kill-service, partition, ...) or heal it",
		Long:      long.String(),
		ValidArgs: kinds,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || !slices.Contains(kinds, args[0]) {
				return &usageError{fmt.Sprintf("fault: want one of %s, then a node", strings.Join(kinds, ", "))}
			}
			if len(args) > 2 || (len(args) == 1 && args[0] != harness.Heal) {
				return &usageError{fmt.Sprintf("fault %s: want exactly one node", args[0])}
			}
			return nil
		},
		RunE: a.withLab(true, func(cmd *cobra.Command, l *lab.Lab, args []string) error {
			ctx := cmd.Context()
			c, err := harness.Open(ctx, l)
			if err != nil {
				return err
			}
			defer c.Close()
			kind := args[0]
			nodes := args[1:]
			if kind == harness.Heal {
				if len(nodes) == 0 {
					nodes = l.Cfg.NodeNames()
				}
				for _, n := range nodes {
					if _, ok := l.Cfg.Node(n); !ok {
						return &usageError{fmt.Sprintf("node %q: not in %s (known: %s)", n, l.Cfg.Path, strings.Join(l.Cfg.NodeNames(), ", "))}
					}
					did, err := c.Heal(ctx, n)
					for _, d := range did {
						fmt.Fprintf(l.Out, "==> %s: %s\n", n, d)
					}
					if err != nil {
						return err
					}
					if len(did) == 0 {
						fmt.Fprintf(l.Out, "==> %s: nothing to heal\n", n)
					}
				}
				// A fence endpoint set to refuse is the lab's fault, not a
				// node's: every heal undoes it.
				did, err := c.HealFencing(ctx)
				for _, d := range did {
					fmt.Fprintf(l.Out, "==> %s: %s\n", harness.FenceEndpoint, d)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(l.Out, "==> cluster now: %s\n", c.Audit(ctx))
				return nil
			}
			node := nodes[0]
			if _, ok := l.Cfg.Node(node); !ok {
				return &usageError{fmt.Sprintf("node %q: not in %s (known: %s)", node, l.Cfg.Path, strings.Join(l.Cfg.NodeNames(), ", "))}
			}
			fmt.Fprintf(l.Out, "==> %s %s (stack %s)\n", kind, node, c.Stack)
			if err := c.Inject(ctx, kind, node); err != nil {
				return err
			}
			fmt.Fprintf(l.Out, "==> done; undo with: %s\n", a.command(harness.HealCommand(node)))
			return nil
		}),
	}
}

func (a *app) testCmd() *cobra.Command {
	var labels, junit, jsonReport string
	var repeat, partitions int
	var bound time.Duration
	var heavy bool
	var badLogLine string
	c := &cobra.Command{
		Use:   "test [-- GINKGO_ARGS...]",
		Short: "Run the failover scenarios (the Ginkgo suite in scenarios/) against the lab",
		Long: `Runs the Ginkgo scenario suite against the lab of --config, with the Ginkgo
CLI pinned in go.mod, the same as "make scenarios". The lab must be up and
provisioned (make lab-up). Arguments after -- go to ginkgo, e.g.
  halab test --labels 'node && !repeat'
  halab test -- --focus partition
Reports: build/scenarios-junit.xml, build/scenarios.json (Ginkgo's JSON),
build/scenarios-summary.md, the HTML page build/report/index.html (pass or
fail; "halab report" makes it again from a JSON report), and on failure
build/artifacts/<run>/<scenario>/.`,
		RunE: a.withLab(false, func(cmd *cobra.Command, l *lab.Lab, args []string) error {
			cfg, err := filepath.Abs(a.configPath)
			if err != nil {
				return err
			}
			// The Ginkgo CLI pinned in go.mod, built into build/ (by way of
			// a file of its own renamed into place: another lab's run may be
			// executing it), and the suite compiled into a directory of
			// this run's own: ginkgo would otherwise compile every run's
			// suite to the same scenarios/scenarios.test, and two labs'
			// runs in one checkout would replace each other's.
			ginkgo, err := buildGinkgo(cmd.Context(), l.Root, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			suiteDir, err := os.MkdirTemp(filepath.Join(l.Root, "build"), "suite-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(suiteDir)
			suiteBin := filepath.Join(suiteDir, "scenarios.test")
			compile := exec.CommandContext(cmd.Context(), ginkgo, "build", "-o", suiteBin, "./scenarios")
			compile.Dir, compile.Stdout, compile.Stderr = l.Root, cmd.ErrOrStderr(), cmd.ErrOrStderr()
			if err := compile.Run(); err != nil {
				return fmt.Errorf("compiling the scenario suite: %w", err)
			}
			// --grace-period: on an interrupt each heal may take that long
			// (power a node on, restart daemons) before Ginkgo moves on.
			argv := []string{"-v", "--grace-period=3m", "--junit-report=" + junit, "--json-report=" + jsonReport, "--output-dir=" + filepath.Join(l.Root, "build")}
			// A JSON report left by an earlier run must not become this
			// run's page when this one writes none.
			jsonPath := filepath.Join(l.Root, "build", jsonReport)
			_ = os.Remove(jsonPath)
			if labels != "" {
				argv = append(argv, "--label-filter="+labels)
			}
			argv = append(argv, args...)
			argv = append(argv, suiteBin, "--", "-config="+cfg, fmt.Sprintf("-repeat=%d", repeat), fmt.Sprintf("-partitions=%d", partitions), "-bound="+bound.String(), fmt.Sprintf("-heavy=%t", heavy))
			if badLogLine != "" {
				argv = append(argv, "-bad-log-line="+badLogLine)
			}
			run := exec.Command(ginkgo, argv...)
			run.Dir = l.Root
			faults := newFaultWatch(cmd.OutOrStdout())
			run.Stdout, run.Stderr, run.Stdin = faults, cmd.ErrOrStderr(), nil
			run.Env = append(os.Environ(), "HALAB_SCENARIOS=1")
			// Its own process group, so that an interrupt of halab reaches
			// ginkgo and the suite together, as Ctrl-C in a terminal does:
			// the suite then runs its DeferCleanup heals before it exits.
			run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := run.Start(); err != nil {
				return err
			}
			done := make(chan error, 1)
			go func() { done <- run.Wait() }()
			select {
			case err = <-done:
			case <-cmd.Context().Done():
				fmt.Fprintln(cmd.ErrOrStderr(), "halab: interrupted: the scenarios heal their faults before they stop (interrupt again to stop at once)")
				_ = syscall.Kill(-run.Process.Pid, syscall.SIGINT)
				select {
				case err = <-done:
				case <-lab.HardStop(cmd.Context()):
					// The heals are cut short: kill the run, say what
					// may be left.
					_ = syscall.Kill(-run.Process.Pid, syscall.SIGKILL)
					<-done
					return fmt.Errorf("heals were interrupted%s; run `halab fault heal` to undo what is left, and `halab status` to see it", faults.left())
				}
			}
			rerr := writeRunReport(cmd.OutOrStdout(), jsonPath, filepath.Join(l.Root, "build", "report", "index.html"))
			if err != nil {
				if ee, ok := err.(*exec.ExitError); ok {
					return &exitCode{code: ee.ExitCode(), err: fmt.Errorf("scenarios failed (ginkgo exited %d); see the summary above and build/artifacts", ee.ExitCode())}
				}
				return err
			}
			return rerr
		}),
	}
	c.Flags().StringVar(&jsonReport, "json-report", "scenarios.json", "Ginkgo JSON report file name under build/ (the HTML report is made from it)")
	c.Flags().StringVar(&labels, "labels", "", "Ginkgo label filter, e.g. 'node || network', '!repeat'")
	c.Flags().StringVar(&junit, "junit-report", "scenarios-junit.xml", "JUnit report file name under build/")
	c.Flags().IntVar(&repeat, "repeat", 2, "power-offs in the repeated-failover scenario")
	c.Flags().IntVar(&partitions, "partitions", 5, "partitions in a row in the fenced partition scenario (fencing.agent auto)")
	c.Flags().DurationVar(&bound, "bound", 0, "override the failover bound derived from lab.yaml (0 = derived)")
	c.Flags().BoolVar(&heavy, "heavy", false, "also run the specs labelled heavy (long CTS and Jepsen-style specs; CI runs them)")
	c.Flags().StringVar(&badLogLine, "bad-log-line", "", "write this line into node1's cluster log as the stack's daemon at the start of the baseline scenario: the log audit must fail it (the audit's own check)")
	return c
}

// faultWatch passes the scenario suite's output through and follows, from
// its steps (By), the faults the run injected and the heals that finished,
// to say what may be left when the heals are cut short.
type faultWatch struct {
	w     io.Writer
	mu    sync.Mutex
	line  []byte
	kinds map[string]bool
	// injected are the faults ("kind node") not known to be healed.
	injected []string
}

func newFaultWatch(w io.Writer) *faultWatch {
	f := &faultWatch{w: w, kinds: map[string]bool{}}
	for _, k := range harness.Faults {
		if k.Kind != harness.Heal && k.Kind != harness.PowerOn && k.Kind != harness.StartMessaging {
			f.kinds[k.Kind] = true
		}
	}
	return f
}

// ansi are terminal colour sequences, which Ginkgo puts around "STEP:".
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func (f *faultWatch) Write(p []byte) (int, error) {
	f.mu.Lock()
	f.line = append(f.line, p...)
	for {
		i := bytes.IndexByte(f.line, '\n')
		if i < 0 {
			break
		}
		f.see(ansi.ReplaceAllString(string(f.line[:i]), ""))
		f.line = f.line[i+1:]
	}
	f.mu.Unlock()
	return f.w.Write(p)
}

// see reads one line: "STEP: KIND NODE @ time" is a fault injected (the
// scenarios' inject), "healed ... on NODE: ..." a heal that finished on
// a node (the suite's healAll, which heals every fault of the node).
func (f *faultWatch) see(line string) {
	line = strings.TrimSpace(line)
	if step, ok := strings.CutPrefix(line, "STEP: "); ok {
		if at := strings.Index(step, " @ "); at >= 0 {
			step = step[:at]
		}
		if w := strings.Fields(step); len(w) == 2 && f.kinds[w[0]] {
			f.injected = append(f.injected, step)
		}
		return
	}
	if rest, ok := strings.CutPrefix(line, "healed "); ok {
		if i := strings.Index(rest, " on "); i >= 0 {
			node, _, _ := strings.Cut(rest[i+len(" on "):], ":")
			f.injected = slices.DeleteFunc(f.injected, func(s string) bool { return strings.HasSuffix(s, " "+node) })
		}
	}
}

// left names the faults the run injected that no finished heal undid.
func (f *faultWatch) left() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.injected) == 0 {
		return ""
	}
	return " (this run injected, and no heal is known to have undone: " + strings.Join(slices.Compact(slices.Clone(f.injected)), ", ") + ")"
}

// buildGinkgo builds the Ginkgo CLI pinned in go.mod into root's build/
// and returns its path. It is built to a file of its own and renamed into
// place, so that a run that executes the one there is not disturbed.
func buildGinkgo(ctx context.Context, root string, out io.Writer) (string, error) {
	ginkgo := filepath.Join(root, "build", "ginkgo")
	if err := os.MkdirAll(filepath.Dir(ginkgo), 0o755); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", ginkgo, os.Getpid())
	build := exec.CommandContext(ctx, "go", "build", "-o", tmp, "github.com/onsi/ginkgo/v2/ginkgo")
	build.Dir, build.Stdout, build.Stderr = root, out, out
	if err := build.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("building the Ginkgo CLI: %w", err)
	}
	if err := os.Rename(tmp, ginkgo); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return ginkgo, nil
}
