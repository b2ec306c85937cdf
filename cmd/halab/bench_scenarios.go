package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"halab/lab"
	"halab/provision"
	"halab/scenarios/prober"
)

// suiteRun is one Ginkgo run of the scenario suite.
type suiteRun struct {
	took             time.Duration
	passed, failed   int
	skipped          int
	outages          []prober.Entry
	err              error
	failureSummaries []string
}

// ginkgo runs the scenario suite against cfg through the Ginkgo CLI, as
// `make scenarios` does, and reads its JSON report.
func (b *bench) ginkgo(ctx context.Context, name, cfg, labelFilter string) (suiteRun, error) {
	report := filepath.Join(b.out, "logs", fmt.Sprintf("%03d-%s.json", b.logSeq+1, name))
	var r suiteRun
	// The suite is compiled once per bench into its own directory: ginkgo
	// would compile each run to scenarios/scenarios.test, which a lab's
	// `halab test` in the same checkout uses too.
	if b.suiteBin == "" {
		bin, err := filepath.Abs(filepath.Join(b.out, "suite", "scenarios.test"))
		if err != nil {
			return r, err
		}
		if _, err := b.runLogged(ctx, "compile-suite", nil, "go", "run", "github.com/onsi/ginkgo/v2/ginkgo", "build", "-o", bin, "./scenarios"); err != nil {
			return r, fmt.Errorf("compiling the scenario suite: %w", err)
		}
		b.suiteBin = bin
	}
	args := []string{"run", "github.com/onsi/ginkgo/v2/ginkgo", "-v", "--json-report=" + report}
	if labelFilter != "" {
		args = append(args, "--label-filter="+labelFilter)
	}
	args = append(args, b.suiteBin, "--", "-config="+cfg)
	r.took, r.err = b.runLogged(ctx, name, []string{"HALAB_SCENARIOS=1"}, "go", args...)
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	data, err := os.ReadFile(report)
	if err != nil {
		// No report: the suite did not run at all (compile error, bad flag).
		return r, fmt.Errorf("no Ginkgo report: %w (run error: %v)", err, r.err)
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		return r, fmt.Errorf("%s: %w", report, err)
	}
	for _, rep := range reports {
		for _, s := range rep.SpecReports {
			if s.LeafNodeType != types.NodeTypeIt {
				continue
			}
			switch {
			case s.State == types.SpecStatePassed:
				r.passed++
			case s.State == types.SpecStateSkipped:
				r.skipped++
			case s.State.Is(types.SpecStateFailureStates):
				r.failed++
				r.failureSummaries = append(r.failureSummaries, s.LeafNodeText+": "+s.Failure.Message)
			}
			r.outages = append(r.outages, outagesOf(s)...)
		}
	}
	return r, nil
}

// outagesOf are the scenario entries a spec reported that measure a
// failover (the baseline's has no bound).
func outagesOf(s types.SpecReport) []prober.Entry {
	var out []prober.Entry
	for _, e := range prober.Entries(s) {
		if e.Bound > 0 {
			out = append(out, e)
		}
	}
	return out
}

// failoverFigure runs the power-off spec once per repetition, per stack
// and timing profile, and reports the prober's outage and outage/bound.
func (b *bench) failoverFigure(ctx context.Context) error {
	stacks, err := b.stacks(ctx)
	if err != nil {
		return err
	}
	for _, stack := range stacks {
		for _, profile := range b.o.profiles {
			cfg, err := b.provisionStack(ctx, stack, profile)
			if err != nil {
				return err
			}
			out := newSeries("failover-"+stack+"-"+profile, fmt.Sprintf("power-off outage, %s, %s timings", stack, profile), "s")
			ratio := newSeries("failover-ratio-"+stack+"-"+profile, fmt.Sprintf("power-off outage / bound, %s, %s timings", stack, profile), "×")
			ratio.setTargetAll("≤ 1 every rep", 1.000001)
			out.Baseline = againstArticle(out.ID, profile)
			if fastDetection(stack, profile) {
				out.setTargetAll("< 5 s every rep", 5)
			}
			failed := 0
			var bound time.Duration
			for i := range b.o.reps {
				b.say("failover %s/%s %d/%d: power-off spec", stack, profile, i+1, b.o.reps)
				outages, ok, err := b.powerOffSpec(ctx, "failover-"+stack+"-"+profile, cfg)
				if err != nil {
					return err
				}
				if !ok {
					failed++
				}
				for _, o := range outages {
					out.add(o.Outage.Seconds())
					ratio.add(float64(o.Outage) / float64(o.Bound))
					bound = o.Bound
					b.say("    outage %s (bound %s)", o.Outage.Round(10*time.Millisecond), o.Bound)
				}
			}
			out.Note = fmt.Sprintf("bound %s", bound)
			if failed > 0 {
				out.Note += fmt.Sprintf("; spec failed in %d of %d reps", failed, b.o.reps)
			}
			b.report.add(out, ratio)
			if err := b.write(); err != nil {
				return err
			}
		}
	}
	return nil
}

// suiteFigure times the whole scenario suite per stack, with the lab
// file's own timings.
func (b *bench) suiteFigure(ctx context.Context) error {
	if b.o.suiteReps == 0 {
		return nil
	}
	stacks, err := b.stacks(ctx)
	if err != nil {
		return err
	}
	for _, stack := range stacks {
		cfg, err := b.provisionStack(ctx, stack, b.l.Cfg.Timings.Profile)
		if err != nil {
			return err
		}
		s := newSeries("suite-"+stack, fmt.Sprintf("full scenario suite, %s, %s timings (wall)", stack, b.l.Cfg.Timings.Profile), "s")
		s.setTargetAll("< 600 s", 600)
		passed, failed, skipped := 0, 0, 0
		for i := range b.o.suiteReps {
			b.say("suite %s %d/%d", stack, i+1, b.o.suiteReps)
			r, err := b.ginkgo(ctx, "suite-"+stack, cfg, "")
			if err != nil {
				return err
			}
			s.add(r.took.Seconds())
			passed, failed, skipped = passed+r.passed, failed+r.failed, skipped+r.skipped
			b.say("    %s: %d passed, %d failed, %d skipped", r.took.Round(time.Second), r.passed, r.failed, r.skipped)
			for _, f := range r.failureSummaries {
				b.say("    failed: %s", strings.SplitN(f, "\n", 2)[0])
			}
		}
		s.Note = fmt.Sprintf("%d specs passed, %d failed, %d skipped", passed, failed, skipped)
		b.report.add(s)
		if err := b.write(); err != nil {
			return err
		}
	}
	return nil
}

// stacks are the stacks to measure: --stacks, or every stack the nodes'
// OS runs.
func (b *bench) stacks(ctx context.Context) ([]string, error) {
	if len(b.o.stacks) > 0 {
		return b.o.stacks, nil
	}
	nodes, err := b.l.Connect(ctx, b.l.Cfg.NodeNames()[0])
	if err != nil {
		return nil, err
	}
	defer closeAll(nodes)
	info, err := provision.NodeOS(ctx, nodes[0])
	if err != nil {
		return nil, err
	}
	b.o.stacks = info.Stacks()
	return b.o.stacks, nil
}

// fastDetection: a stack that declares a dead peer within about a second
// with these timings, which the fast profile's 5 s outage target is for.
func fastDetection(stack, profile string) bool {
	s, ok := provision.StackByName(stack)
	t, okp := lab.TimingProfile(profile)
	return ok && okp && s.Detection(t) <= 3*time.Second
}

// powerOffSpec runs the suite's power-off spec (the bench's failLabel)
// once against cfg and returns its power-off entries, and whether the
// spec passed; a run that matched no spec is an error.
func (b *bench) powerOffSpec(ctx context.Context, name, cfg string) ([]prober.Entry, bool, error) {
	r, err := b.ginkgo(ctx, name, cfg, b.o.failLabel)
	if err != nil {
		return nil, false, err
	}
	if r.passed+r.failed == 0 {
		return nil, false, fmt.Errorf("no spec matched --label-filter=%s (%v)", b.o.failLabel, r.err)
	}
	if r.failed > 0 {
		b.say("    spec failed: %v", r.failureSummaries)
	}
	var out []prober.Entry
	for _, o := range r.outages {
		if o.Scenario == "power-off" {
			out = append(out, o)
		}
	}
	return out, r.failed == 0, nil
}
