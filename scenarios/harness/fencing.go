package harness

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"halab/lab"
	"halab/lab/fence"
	"halab/templates"
)

// FenceEndpoint names the lab's fence endpoint where heals say what they
// did (HealAll's keys are node names otherwise).
const FenceEndpoint = "fence endpoint"

var (
	// stonithReboot asks the cluster to fence a node (reboot), as an admin
	// or CTS's Stonithd test does.
	stonithReboot = lab.Remote("stonith_admin", "--reboot")
	// crmCleanupFence clears a fence device's history on the cluster: a
	// new transition, in which a fence that Pacemaker gave up on (after
	// stonith-max-attempts failures) is tried again.
	crmCleanupFence = lab.Remote("crm_resource", "--cleanup", "-r")
)

// RefuseFencing makes the lab's fence endpoint refuse every request (a
// fence device that fails), or answer again. HealFencing undoes it.
func (c *Cluster) RefuseFencing(on bool) error {
	return fence.SetRefusing(fence.Dir(c.Lab.State), on)
}

// HealFencing undoes a failing fence device: when the lab's endpoint was
// set to refuse, it answers again, and every node that answers asks its
// cluster to try the fence devices again (Pacemaker gives up on a node
// after stonith-max-attempts failed fences, until its next transition).
// Idempotent; it says what it did.
func (c *Cluster) HealFencing(ctx context.Context) ([]string, error) {
	dir := fence.Dir(c.Lab.State)
	if !fence.Refusing(dir) {
		return nil, nil
	}
	if err := fence.SetRefusing(dir, false); err != nil {
		return nil, fmt.Errorf("heal the fence endpoint: %w", err)
	}
	did := []string{"stopped refusing fence requests"}
	if c.Stack == nil || !c.Pacemaker() || !c.Lab.Cfg.FencingOn() {
		return did, nil
	}
	for _, n := range c.Names() {
		if running, err := c.Lab.Provider.Running(ctx, n); err != nil || !running {
			continue
		}
		node, err := c.Node(ctx, n)
		if err != nil {
			continue
		}
		for _, target := range c.Names() {
			res, err := node.Sudo(ctx, nil, crmCleanupFence.Argv(templates.FenceResource(target))...)
			if err != nil {
				c.Forget(n)
				break
			}
			if res.ExitCode == 0 {
				did = append(did, fmt.Sprintf("%s: cleaned up %s (the cluster tries its fences again)", n, templates.FenceResource(target)))
			}
		}
		break
	}
	return did, nil
}

// StonithReboot asks the cluster, from node from, to fence target by
// reboot (stonith_admin --reboot), and waits for its answer.
func (c *Cluster) StonithReboot(ctx context.Context, from, target string) error {
	if err := c.check(from); err != nil {
		return err
	}
	if err := c.check(target); err != nil {
		return err
	}
	c.Forget(target)
	return c.sudo(ctx, from, stonithReboot.Argv(target)...)
}

// FenceLog reads the fences of the lab's endpoint's request log that
// began at or after since, and how many requests it refused on purpose.
func (c *Cluster) FenceLog(since time.Time) ([]fence.Fence, int, error) {
	entries, err := fence.ReadLog(fence.Dir(c.Lab.State))
	if err != nil {
		return nil, 0, err
	}
	return fence.Fences(entries, since), fence.Refusals(entries, since), nil
}

// PowerWatch samples the provider's power state of every node, as the
// provider (not the node) sees it, until stopped: the proof that a fence
// powered a machine off, besides the endpoint's log.
type PowerWatch struct {
	mu     sync.Mutex
	offs   map[string][]time.Time
	errs   int
	cancel context.CancelFunc
	done   chan struct{}
}

// WatchPower starts sampling every interval, for at most limit.
func (c *Cluster) WatchPower(ctx context.Context, interval, limit time.Duration) *PowerWatch {
	ctx, cancel := context.WithTimeout(ctx, limit)
	w := &PowerWatch{offs: map[string][]time.Time{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			for _, n := range c.Names() {
				running, err := c.Lab.Provider.Running(ctx, n)
				w.mu.Lock()
				switch {
				case err != nil && ctx.Err() == nil:
					w.errs++
				case err == nil && !running:
					w.offs[n] = append(w.offs[n], time.Now())
				}
				w.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// Stop ends the sampling; Off then says which nodes were seen off.
func (w *PowerWatch) Stop() {
	w.cancel()
	<-w.done
}

// Off is when node was seen powered off (none: never).
func (w *PowerWatch) Off(node string) []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Time(nil), w.offs[node]...)
}

// OffNodes are the nodes seen powered off at least once.
func (w *PowerWatch) OffNodes() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for n, t := range w.offs {
		if len(t) > 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
