package harness

import (
	"context"
	"fmt"
	"strings"
	"time"

	"halab/lab"
)

// The Jepsen-style faults: a frozen node or messaging daemon, random
// packet loss, a one-way partition and a flapping partition. Each is
// undone by Heal (resume, SIGCONT, the HALAB-DROP chain removed, the
// partition chain removed), so HealAll, `halab fault heal` and a spec's
// DeferCleanup reach them all.
const (
	Pause       = "pause"
	PauseDaemon = "pause-daemon"
	Loss20      = "loss-20"
	Loss50      = "loss-50"
	OneWay      = "one-way"
	Flap        = "flap"
)

// DropChain is the harness's iptables chain of the packet faults (loss
// and one-way), apart from the partition's: heal removes it and the jumps
// to it, and touches no other rule.
const DropChain = "HALAB-DROP"

// FlapEvery and FlapFor are `halab fault flap`'s rhythm: the partition is
// cut for FlapEvery, healed for FlapEvery, for FlapFor in all.
const (
	FlapEvery = 5 * time.Second
	FlapFor   = time.Minute
)

var jepsenFaults = []struct{ Kind, What string }{
	{Pause, "freeze the whole node (docker pause / VBoxManage controlvm pause); heal resumes it"},
	{PauseDaemon, "freeze (SIGSTOP) the stack's messaging daemon; heal sends SIGCONT"},
	{Loss20, "drop 20 % of the node's cluster packets (UDP to and from its peer) on the private NIC, at random"},
	{Loss50, "drop 50 % of them"},
	{OneWay, "drop only what the node sends to its peer (UDP) on the private NIC: a one-way partition"},
	{Flap, "cut and heal the partition every 5 s for a minute, then leave it healed"},
}

var (
	dropScript        = script("drop")
	healDropScript    = script("heal-drop")
	pauseDaemonScript = script("pause-daemon")
)

// dropArgs are drop.sh's arguments for a packet fault on node: the chain,
// the NIC, the direction, the probability of a drop, the peers' IPs.
func (c *Cluster) dropArgs(kind, node string) []string {
	dir, p := "both", "1"
	switch kind {
	case Loss20:
		p = "0.2"
	case Loss50:
		p = "0.5"
	case OneWay:
		dir = "out"
	}
	args := []string{DropChain, c.Lab.Cfg.VIP.NIC, dir, p}
	for _, n := range c.Lab.Cfg.Nodes {
		if n.Name != node {
			args = append(args, n.IP)
		}
	}
	return args
}

// healDropArgs are heal-drop.sh's: the chain, the processes to resume.
func (c *Cluster) healDropArgs() []string {
	args := []string{DropChain}
	if c.Stack != nil {
		args = append(args, c.Stack.Messaging)
	}
	return args
}

// injectJepsen applies one of the faults above; handled is false for a
// kind that is not one of them.
func (c *Cluster) injectJepsen(ctx context.Context, kind, node string) (handled bool, err error) {
	switch kind {
	case Pause:
		p, ok := c.Lab.Provider.(lab.Pauser)
		if !ok {
			return true, fmt.Errorf("the %s provider cannot freeze a machine (use %s to freeze the messaging daemon only)", c.Lab.Provider.Name(), PauseDaemon)
		}
		return true, p.Pause(ctx, node)
	case PauseDaemon:
		return true, c.must(ctx, node, pauseDaemonScript, c.Stack.Messaging)
	case Loss20, Loss50, OneWay:
		return true, c.must(ctx, node, dropScript, c.dropArgs(kind, node)...)
	case Flap:
		_, err := c.Flap(ctx, node, FlapEvery, FlapFor, nil)
		return true, err
	}
	return false, nil
}

// Flap cuts the node's partition (the partition fault) for every, heals
// it (the partition chain only) for every, and again until total has
// passed; it returns with the partition healed and the number of cuts.
// mark, when not nil, is told of each cut (true) and heal (false).
func (c *Cluster) Flap(ctx context.Context, node string, every, total time.Duration, mark func(cut bool)) (int, error) {
	cuts := 0
	end := time.Now().Add(total)
	for time.Now().Before(end) {
		if mark != nil {
			mark(true)
		}
		if err := c.must(ctx, node, partitionScript, c.partitionArgs(node)...); err != nil {
			return cuts, err
		}
		cuts++
		sleepErr := sleep(ctx, every)
		if mark != nil {
			mark(false)
		}
		if err := c.Unpartition(ctx, node); err != nil {
			return cuts, err
		}
		if sleepErr != nil {
			return cuts, sleepErr
		}
		if err := sleep(ctx, every); err != nil {
			return cuts, err
		}
	}
	return cuts, nil
}

// Unpartition removes the partition chain only (Heal does that and more).
func (c *Cluster) Unpartition(ctx context.Context, node string) error {
	return c.must(ctx, node, healPartitionScript, PartitionChain)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// resume thaws a frozen machine, the first step of a heal (nothing else
// reaches a frozen node). It says what it did, "" when nothing.
func (c *Cluster) resume(ctx context.Context, node string) (string, error) {
	p, ok := c.Lab.Provider.(lab.Pauser)
	if !ok {
		return "", nil
	}
	paused, err := p.Paused(ctx, node)
	if err != nil {
		return "", fmt.Errorf("heal %s: asking the provider whether it is paused: %w", node, err)
	}
	if !paused {
		return "", nil
	}
	// The connection stalled with the machine: dial again.
	c.Forget(node)
	if err := p.Resume(ctx, node); err != nil {
		return "", fmt.Errorf("heal %s: %w", node, err)
	}
	return "resumed the paused machine", nil
}

// DropRules lists the rules of the harness's packet-fault chain on a node
// (none after a heal).
func (c *Cluster) DropRules(ctx context.Context, node string) ([]string, error) {
	return c.chainRules(ctx, node, DropChain)
}

// Thaw undoes the faults of this file on a node and nothing else (no
// daemon restarted, no fail count cleared, as Heal does): resumes a frozen
// machine, sends SIGCONT to a frozen daemon, removes the packet-fault and
// partition chains. What the cluster does next is its own doing, which is
// what a spec watches. It returns what it did.
func (c *Cluster) Thaw(ctx context.Context, node string) ([]string, error) {
	var did []string
	d, err := c.resume(ctx, node)
	if err != nil {
		return nil, err
	}
	if d != "" {
		did = append(did, d)
	}
	for _, st := range [][]string{{healDropScript}, {healPartitionScript, PartitionChain}} {
		args := st[1:]
		if st[0] == healDropScript {
			args = c.healDropArgs()
		}
		res, err := lab.Check(c.run(ctx, node, st[0], args...))
		did = append(did, lines(string(res.Stdout))...)
		if err != nil {
			return did, fmt.Errorf("thaw %s: %w", node, err)
		}
	}
	return did, nil
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

var procOneStat = lab.Remote("cat", "/proc/1/stat")

// BootMark identifies the current boot of a node's machine: the start
// time of its PID 1 (a container's init, or the kernel's for a VM), which
// changes when the machine is restarted (fenced and rebooted, say).
func (c *Cluster) BootMark(ctx context.Context, node string) (string, error) {
	n, err := c.Node(ctx, node)
	if err != nil {
		return "", err
	}
	res, err := lab.Check(n.Run(ctx, nil, procOneStat.Argv()...))
	if err != nil {
		c.Forget(node)
		return "", err
	}
	// The command may contain spaces: fields count after its ")".
	s := string(res.Stdout)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 20 {
		return "", fmt.Errorf("%s: /proc/1/stat: %q", node, res.Stdout)
	}
	return f[19], nil // starttime, field 22 of proc(5)
}
