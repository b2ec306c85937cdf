package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"halab/lab"
	"halab/provision"
)

// fencingFigure measures what fencing costs a failover: the power-off
// spec's outage on the same lab without fencing (fencing.agent none, the
// article's) and with it (auto), alternated within each repetition so that
// both see the same machine load, and the fence time (the agent's request
// to the machine confirmed off, from the fence endpoint's log).
func (b *bench) fencingFigure(ctx context.Context) error {
	stacks, err := b.stacks(ctx)
	if err != nil {
		return err
	}
	stack := ""
	for _, s := range stacks {
		if st, ok := provision.StackByName(s); ok && st.Fence != nil {
			stack = s
			break
		}
	}
	if stack == "" {
		return fmt.Errorf("none of the stacks %s can fence", strings.Join(stacks, ", "))
	}
	profile := b.l.Cfg.Timings.Profile
	var cfgs [2]string
	for i, agent := range []string{lab.FenceAgentNone, lab.FenceAgentAuto} {
		if cfgs[i], err = b.fencingConfig(agent); err != nil {
			return err
		}
	}
	off := newSeries("fencing-off-"+stack, fmt.Sprintf("power-off outage without fencing (stonith-enabled=false), %s, %s timings", stack, profile), "s")
	on := newSeries("fencing-on-"+stack, fmt.Sprintf("power-off outage with fencing (fencing.agent auto), %s, %s timings", stack, profile), "s")
	on.Baseline = off.ID
	ft := newSeries("fence-time-"+stack, fmt.Sprintf("fence time (request to confirmed off), %s", stack), "s")
	outages := [2]*series{off, on}
	failed := 0
	for i := range b.o.reps {
		for j, cfg := range cfgs {
			name := []string{"nofence", "fence"}[j]
			b.say("fencing %d/%d, %s: provision --stack %s, then the power-off spec", i+1, b.o.reps, name, stack)
			if _, err := b.timed(ctx, "provision-"+name, nil, cfg, "provision", "--stack", stack); err != nil {
				return err
			}
			entries, ok, err := b.powerOffSpec(ctx, "fencing-"+name, cfg)
			if err != nil {
				return err
			}
			if !ok {
				failed++
			}
			for _, o := range entries {
				outages[j].add(o.Outage.Seconds())
				msg := fmt.Sprintf("    outage %s (bound %s)", o.Outage.Round(10*time.Millisecond), o.Bound)
				if len(o.Fenced) > 0 {
					ft.add(o.FenceTime.Seconds())
					msg += fmt.Sprintf(", fenced %s in %s", strings.Join(o.Fenced, ","), o.FenceTime.Round(time.Millisecond))
				}
				b.say("%s", msg)
			}
		}
	}
	if failed > 0 {
		on.Note = fmt.Sprintf("spec failed in %d of %d runs", failed, 2*b.o.reps)
	}
	// The power-off spec cuts the power itself: the fence finds the
	// machine off, which the agent's first status query confirms; the
	// reboot that follows is in the outage.
	ft.Note = "the machine is already off when the fence asks"
	if ft.Reps < on.Reps {
		ft.Note += fmt.Sprintf("; %d of %d power-offs with fencing fenced nothing", on.Reps-ft.Reps, on.Reps)
	}
	b.report.add(off, on, ft)
	// The figures after this one find the lab as its own file says.
	b.say("provision (not timed): back to %s", relTo(b.l.Root, b.config))
	return b.halab(ctx, "provision", nil)
}

// fencingConfig writes a copy of the lab file with fencing.agent set,
// beside it, as profileConfig does for timings: the same lab.
func (b *bench) fencingConfig(agent string) (string, error) {
	data, err := os.ReadFile(b.config)
	if err != nil {
		return "", err
	}
	out, err := lab.WithFencingAgent(data, agent)
	if err != nil {
		return "", fmt.Errorf("%s: %w", b.config, err)
	}
	p := lab.DerivedPath(b.config, "fencing-"+agent)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		return "", err
	}
	if !slices.Contains(b.derived, p) {
		b.derived = append(b.derived, p)
	}
	return p, nil
}
