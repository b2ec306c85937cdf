package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"halab/lab"
	"halab/provision"
)

// Fault kinds: what `halab fault` takes and what the scenarios label.
const (
	PowerOff      = "power-off"
	PowerOn       = "power-on"
	KillService   = "kill-service"
	KillDaemon    = "kill-daemon"
	StopMessaging = "stop-messaging"
	Standby       = "standby"
	Partition     = "partition"
	Heal          = "heal"
)

// Faults lists the kinds with a one-line description, for help texts.
var Faults = []struct{ Kind, What string }{
	{PowerOff, "cut the node's power (docker kill / VBoxManage poweroff)"},
	{PowerOn, "boot the node again (vagrant up NODE)"},
	{KillService, "SIGKILL the service's JVM"},
	{KillDaemon, "SIGKILL the messaging daemon (corosync or heartbeat)"},
	{StopMessaging, "stop the cluster daemons cleanly (pacemaker+corosync, or heartbeat)"},
	{Standby, "put the node in standby (pacemaker stacks)"},
	{Partition, "drop the node's cluster traffic (UDP to and from its peer) on the private NIC"},
	{Heal, "undo every fault above on the node; idempotent"},
}

// PartitionChain is the only iptables chain the harness creates; heal
// removes it and the jumps to it, and touches no other rule.
const PartitionChain = "HALAB-PARTITION"

// Daemon is the messaging daemon's process name for a stack.
func Daemon(stack string) string {
	if stack == "corosync" {
		return "corosync"
	}
	return "heartbeat"
}

// Inject applies one fault to a node. Heal undoes any of them.
func (c *Cluster) Inject(ctx context.Context, kind, node string) error {
	if err := c.check(node); err != nil {
		return err
	}
	var err error
	switch kind {
	case PowerOff:
		c.Forget(node)
		err = c.Lab.Vagrant.PowerOff(ctx, node)
	case PowerOn:
		c.Forget(node)
		err = c.Lab.Vagrant.PowerOn(ctx, node)
	case KillService:
		err = c.killService(ctx, node)
	case KillDaemon:
		_, err = c.run(ctx, node, killDaemonScript, Daemon(c.Stack))
	case StopMessaging:
		_, err = c.run(ctx, node, StopMessagingScript(c.Stack))
	case Standby:
		if !c.Pacemaker() {
			return fmt.Errorf("standby: stack %s has no resource manager to move resources (pacemaker stacks only)", c.Stack)
		}
		_, err = c.run(ctx, node, `crm node standby "$1"`, node)
	case Partition:
		_, err = c.run(ctx, node, partitionScript, c.partitionArgs(node)...)
	case Heal:
		_, err = c.Heal(ctx, node)
	default:
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
	s := &provision.NodeScript{Node: n, PIDFile: PIDFile(c.Lab.Cfg)}
	killed, err := s.KillService(ctx)
	if err != nil {
		return err
	}
	if !killed {
		return fmt.Errorf("the service does not run on %s (no live pid in %s)", node, s.PIDFile)
	}
	return nil
}

// PIDFile is the service's pid file, as the init script template writes it.
func PIDFile(cfg *lab.Config) string { return cfg.Service.ProductHome + "/wso2carbon.pid" }

func (c *Cluster) partitionArgs(node string) []string {
	args := []string{c.Lab.Cfg.VIP.NIC}
	for _, n := range c.Lab.Cfg.Nodes {
		if n.Name != node {
			args = append(args, n.IP)
		}
	}
	return args
}

const killDaemonScript = `pkill -KILL -x "$1" || { echo "no $1 process to kill" >&2; exit 3; }`

// StopMessagingScript stops the cluster daemons the way an admin would:
// Pacemaker first (it moves the resources away), then its messaging layer.
func StopMessagingScript(stack string) string {
	if stack == "corosync" {
		return "systemctl stop pacemaker corosync"
	}
	return "service heartbeat stop"
}

// partitionScript drops UDP between this node and its peers on the private
// NIC ($1; peers' IPs follow), in a chain of its own. It is idempotent.
// Only UDP: corosync (knet, 5405) and heartbeat (694) speak UDP, SSH from
// the host and the prober's HTTP do not cross this NIC's peer traffic.
const partitionScript = `nic=$1; shift
iptables -N ` + PartitionChain + ` 2>/dev/null || iptables -F ` + PartitionChain + `
for ip in "$@"; do
  iptables -A ` + PartitionChain + ` -p udp -s "$ip" -j DROP
  iptables -A ` + PartitionChain + ` -p udp -d "$ip" -j DROP
done
iptables -C INPUT -i "$nic" -j ` + PartitionChain + ` 2>/dev/null || iptables -I INPUT -i "$nic" -j ` + PartitionChain + `
iptables -C OUTPUT -o "$nic" -j ` + PartitionChain + ` 2>/dev/null || iptables -I OUTPUT -o "$nic" -j ` + PartitionChain

// healScript undoes every fault on one node and says what it did, one line
// per action; silent when there was nothing to heal. Arguments: stack,
// node, NIC, VIP, prefix, init script.
const healScript = `stack=$1 node=$2 nic=$3 vip=$4 prefix=$5 initd=$6
if iptables -S ` + PartitionChain + ` >/dev/null 2>&1; then
  for chain in INPUT OUTPUT; do
    iptables -S "$chain" | grep -- '-j ` + PartitionChain + `$' | sed 's/^-A /-D /' |
      while read -r rule; do iptables $rule; done
  done
  iptables -F ` + PartitionChain + ` && iptables -X ` + PartitionChain + ` && echo "removed the partition rules"
fi
case $stack in
corosync)
  if ! systemctl is-active --quiet corosync || ! pgrep -x pacemaker-contr >/dev/null; then
    # a killed corosync leaves pacemakerd without its cluster: restart both
    systemctl kill -s KILL pacemaker 2>/dev/null && sleep 1
    systemctl reset-failed corosync pacemaker 2>/dev/null
    # libqb IPC rings of dead processes stay in /dev/shm; a few of them
    # fill it and the restarted daemons cannot talk (ENOSPC)
    for f in /dev/shm/qb-*; do
      [ -e "$f" ] || continue
      p=${f#/dev/shm/qb-}; p=${p#corosync-}; p=${p%%-*}
      case $p in ''|*[!0-9]*) continue ;; esac
      kill -0 "$p" 2>/dev/null || rm -rf -- "$f"
    done
    systemctl start corosync pacemaker && echo "started corosync and pacemaker"
  fi ;;
*)
  if ! pgrep -x heartbeat >/dev/null; then
    if [ "$stack" = heartbeat-v1 ]; then
      # a killed heartbeat v1 leaves its resources behind: release them so
      # that the restarted daemon negotiates them with its peer
      "$initd" status >/dev/null 2>&1 && "$initd" stop >/dev/null 2>&1 && echo "stopped the service a killed heartbeat left"
      ip addr del "$vip/$prefix" dev "$nic" 2>/dev/null && echo "released the VIP a killed heartbeat left"
    fi
    command -v systemctl >/dev/null && systemctl reset-failed heartbeat 2>/dev/null
    service heartbeat start >/dev/null && echo "started heartbeat"
  elif [ "$stack" = heartbeat-v1 ] && ip -o -4 addr show dev "$nic" | grep -q "inet $vip/" && ! "$initd" status >/dev/null 2>&1; then
    # heartbeat v1 does not monitor resources: a killed service stays dead
    "$initd" start >/dev/null && echo "started the service heartbeat v1 does not restart"
  fi ;;
esac
if [ "$stack" != heartbeat-v1 ] && command -v crm_attribute >/dev/null; then
  case $(crm_attribute -N "$node" -n standby -G -q -l forever 2>/dev/null) in
  on|true|yes|1) crm node online "$node" >/dev/null && echo "put $node online (was standby)" ;;
  esac
  if crm_mon -1 --output-as=xml 2>/dev/null | grep -q 'fail-count="[1-9]'; then
    crm_resource --cleanup >/dev/null 2>&1 && echo "cleared the fail counts"
  fi
fi
exit 0`

// Heal undoes every fault the harness can inject on a node: powers it on,
// removes the partition chain, restarts killed or stopped daemons (after
// releasing what a killed heartbeat v1 left), clears standby and fail
// counts. It returns what it did; nothing when the node was healthy.
func (c *Cluster) Heal(ctx context.Context, node string) ([]string, error) {
	var did []string
	running, err := c.Lab.Vagrant.Running(ctx, node)
	if err != nil {
		return nil, fmt.Errorf("heal %s: asking the provider whether it runs: %w", node, err)
	}
	if !running {
		c.Forget(node)
		if err := c.Lab.Vagrant.PowerOn(ctx, node); err != nil {
			return nil, fmt.Errorf("heal %s: %w", node, err)
		}
		did = append(did, "powered on")
	}
	cfg := c.Lab.Cfg
	res, err := c.run(ctx, node, healScript, c.Stack, node, cfg.VIP.NIC, cfg.VIP.Address,
		strconv.Itoa(cfg.Prefix()), provision.InitScriptPath(cfg.Service.Name))
	for _, l := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		if l != "" {
			did = append(did, l)
		}
	}
	if err != nil {
		return did, fmt.Errorf("heal %s: %w", node, err)
	}
	return did, nil
}

// HealAll heals every node, all of them even when one fails.
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
	return did, errors.Join(errs...)
}

// PartitionRules lists the harness's iptables rules left on a node (none
// after a heal): what the interrupted-run test checks.
func (c *Cluster) PartitionRules(ctx context.Context, node string) ([]string, error) {
	res, err := c.run(ctx, node, `iptables -S | grep -F -- "$1" || true`, PartitionChain)
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
