package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"halab/lab"
	"halab/provision"
	"halab/templates"
)

// Fault kinds: what `halab fault` takes and what the scenarios label.
const (
	PowerOff      = "power-off"
	PowerOn       = "power-on"
	KillService   = "kill-service"
	KillDaemon    = "kill-daemon"
	StopMessaging = "stop-messaging"
	// StartMessaging starts what stop-messaging stopped: like power-on,
	// the end of a fault, which heal also does.
	StartMessaging = "start-messaging"
	Standby        = "standby"
	Partition      = "partition"
	Heal           = "heal"
)

// Faults lists the kinds with a one-line description, for help texts.
var Faults = []struct{ Kind, What string }{
	{PowerOff, "cut the node's power (the provider's hard power-off)"},
	{PowerOn, "boot the node again"},
	{KillService, "SIGKILL the service's JVM"},
	{KillDaemon, "SIGKILL the stack's messaging daemon"},
	{StopMessaging, "stop the stack's daemons cleanly, as an admin would"},
	{StartMessaging, "start the stack's daemons, as an admin would (returns once launched, before the node joins)"},
	{Standby, "put the node in standby (Pacemaker), or hand its resources to the peer (heartbeat v1's hb_standby)"},
	{Partition, "drop the node's cluster traffic (UDP to and from its peer) on the private NIC"},
}

func init() {
	// The Jepsen-style faults (jepsen.go), then heal, last.
	Faults = append(Faults, jepsenFaults...)
	Faults = append(Faults, struct{ Kind, What string }{Heal, "undo every fault above on the node; idempotent"})
}

// HbStandby is heartbeat's standby command, which without crm hands every
// resource the node holds to its peer (ha.cf's crm no).
const HbStandby = "/usr/share/heartbeat/hb_standby"

// PartitionChain is the only iptables chain the harness creates; heal
// removes it and the jumps to it, and touches no other rule.
const PartitionChain = "HALAB-PARTITION"

var (
	killDaemonScript     = script("kill-daemon")
	partitionScript      = script("partition")
	partitionRulesScript = script("partition-rules")
	healPartitionScript  = script("heal-partition")
	crmStandby           = lab.Remote("crm", "node", "standby")
	hbStandby            = lab.Remote(HbStandby, "all")
)

// Inject applies one fault to a node. Heal undoes any of them.
func (c *Cluster) Inject(ctx context.Context, kind, node string) error {
	if err := c.check(node); err != nil {
		return err
	}
	var err error
	switch kind {
	case PowerOff:
		c.Forget(node)
		err = c.Lab.Provider.PowerOff(ctx, node)
	case PowerOn:
		c.Forget(node)
		// A fence by reboot may have powered it on already (the fence
		// endpoint boots it through the same provider): not twice.
		var running bool
		if running, err = c.Lab.Provider.Running(ctx, node); err == nil && !running {
			err = c.Lab.Provider.PowerOn(ctx, node)
		}
	case KillService:
		err = c.killService(ctx, node)
	case KillDaemon:
		err = c.must(ctx, node, killDaemonScript, c.Stack.Messaging)
	case StopMessaging:
		err = c.sudo(ctx, node, c.Stack.Stop.Argv()...)
	case StartMessaging:
		err = c.sudo(ctx, node, c.Stack.Start.Argv()...)
	case Standby:
		if !c.Pacemaker() {
			// heartbeat v1 hands the node's resources to its peer; it
			// keeps no standby state, so there is nothing to heal
			err = c.sudo(ctx, node, hbStandby.Argv()...)
			break
		}
		err = c.sudo(ctx, node, crmStandby.Argv(node)...)
	case Partition:
		err = c.must(ctx, node, partitionScript, c.partitionArgs(node)...)
	case Heal:
		_, err = c.Heal(ctx, node)
	default:
		var ok bool
		if ok, err = c.injectCTS(ctx, kind, node); ok {
			break
		}
		if ok, err = c.injectJepsen(ctx, kind, node); ok {
			break
		}
		return &lab.ConfigError{File: "halab fault", Problems: []string{fmt.Sprintf("unknown fault %q (known: %s)", kind, kinds())}}
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", kind, node, err)
	}
	return nil
}

func kinds() string {
	var k []string
	for _, f := range Faults {
		k = append(k, f.Kind)
	}
	return strings.Join(k, ", ")
}

func (c *Cluster) killService(ctx context.Context, node string) error {
	n, err := c.Node(ctx, node)
	if err != nil {
		return err
	}
	pidFile := PIDFile(c.Lab.Cfg)
	killed, err := provision.KillPIDFile(ctx, n, pidFile)
	if err != nil {
		return err
	}
	if !killed {
		return fmt.Errorf("the service does not run on %s (no live pid in %s)", node, pidFile)
	}
	return nil
}

// PIDFile is the service's pid file, as the init script template writes it.
func PIDFile(cfg *lab.Config) string { return templates.PIDFile(cfg.Service.ProductHome) }

func (c *Cluster) partitionArgs(node string) []string {
	args := []string{PartitionChain, c.Lab.Cfg.VIP.NIC}
	for _, n := range c.Lab.Cfg.Nodes {
		if n.Name != node {
			args = append(args, n.IP)
		}
	}
	return args
}

// must runs a script that must succeed.
func (c *Cluster) must(ctx context.Context, node, script string, args ...string) error {
	_, err := lab.Check(c.run(ctx, node, script, args...))
	return err
}

// sudo runs argv as root on a node; it must succeed.
func (c *Cluster) sudo(ctx context.Context, node string, argv ...string) error {
	n, err := c.Node(ctx, node)
	if err != nil {
		return err
	}
	res, err := n.Sudo(ctx, nil, argv...)
	if err != nil {
		c.Forget(node)
		return err
	}
	return res.Err()
}

// Heal undoes every fault the harness can inject on a node: powers it on,
// removes the partition chain, restarts killed or stopped daemons (after
// releasing what a killed heartbeat v1 left), clears standby and fail
// counts. It returns what it did; nothing when the node was healthy.
func (c *Cluster) Heal(ctx context.Context, node string) ([]string, error) {
	var did []string
	// A frozen machine first: nothing else reaches it.
	if d, err := c.resume(ctx, node); err != nil {
		return nil, err
	} else if d != "" {
		did = append(did, d)
	}
	running, err := c.Lab.Provider.Running(ctx, node)
	if err != nil {
		return nil, fmt.Errorf("heal %s: asking the provider whether it runs: %w", node, err)
	}
	if !running {
		c.Forget(node)
		if err := c.Lab.Provider.PowerOn(ctx, node); err != nil {
			return nil, fmt.Errorf("heal %s: %w", node, err)
		}
		did = append(did, "powered on")
	}
	// The partition and the packet faults first, with a frozen daemon
	// (the daemons cannot rejoin through them), then the stack's daemons,
	// then what the resource manager remembers. Without a stack
	// (OpenAny), only the rules.
	steps := []struct {
		script string
		args   []string
	}{
		{healPartitionScript, []string{PartitionChain}},
		{healDropScript, c.healDropArgs()},
	}
	if c.Stack != nil {
		stackHeal, stackArgs := c.Stack.Heal(c.Lab.Cfg)
		steps = append(steps, struct {
			script string
			args   []string
		}{stackHeal, stackArgs})
	}
	if c.Stack != nil && c.Stack.HealCRM != "" {
		steps = append(steps, struct {
			script string
			args   []string
		}{c.Stack.HealCRM, []string{node}})
	}
	if c.Stack != nil && c.Pacemaker() {
		h, args := c.healCTS(node)
		steps = append(steps, struct {
			script string
			args   []string
		}{h, args})
	}
	for _, st := range steps {
		res, err := lab.Check(c.run(ctx, node, st.script, st.args...))
		for _, l := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
			if l != "" {
				did = append(did, l)
			}
		}
		if err != nil {
			return did, fmt.Errorf("heal %s: %w", node, err)
		}
	}
	return did, nil
}

// HealAll heals every node, all of them even when one fails, and then the
// lab's fence endpoint when it was set to refuse (HealFencing; its lines
// are under FenceEndpoint).
func (c *Cluster) HealAll(ctx context.Context) (map[string][]string, error) {
	did := map[string][]string{}
	var errs []error
	for _, n := range c.Names() {
		d, err := c.Heal(ctx, n)
		if len(d) > 0 {
			did[n] = d
		}
		errs = append(errs, err)
	}
	d, err := c.HealFencing(ctx)
	if len(d) > 0 {
		did[FenceEndpoint] = d
	}
	errs = append(errs, err)
	return did, errors.Join(errs...)
}

// PartitionRules lists the harness's iptables rules left on a node (none
// after a heal): what the interrupted-run test checks.
func (c *Cluster) PartitionRules(ctx context.Context, node string) ([]string, error) {
	return c.chainRules(ctx, node, PartitionChain)
}

// chainRules lists the rules of one of the harness's chains on a node.
func (c *Cluster) chainRules(ctx context.Context, node, chain string) ([]string, error) {
	res, err := lab.Check(c.run(ctx, node, partitionRulesScript, chain))
	if err != nil {
		return nil, err
	}
	var rules []string
	for _, l := range strings.Split(string(res.Stdout), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			rules = append(rules, l)
		}
	}
	return rules, nil
}
