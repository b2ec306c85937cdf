package harness

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"halab/lab"
)

// Kinds of fault a run can leave on the lab: what Leftovers reports.
const (
	LeftPoweredOff    = "powered-off"
	LeftPartition     = "partition"
	LeftKilledDaemon  = "killed-daemon"
	LeftFailedDaemon  = "failed-daemon"
	LeftStoppedDaemon = "stopped-daemon"
	LeftStandby       = "standby"
	LeftFailCount     = "fail-count"
	// The Jepsen-style faults' (jepsen.go).
	LeftPaused       = "paused"
	LeftPacketFault  = "packet-fault"
	LeftFrozenDaemon = "frozen-daemon"
)

// Leftover is one fault left on the lab (by `halab fault`, or a run killed
// before its heals ran) and the command that heals it.
type Leftover struct {
	Node string `json:"node"`
	Kind string `json:"fault"`
	What string `json:"what"`
	Heal string `json:"heal"`
}

// HealCommand is the command that heals what faults left on a node (on
// every node when node is "").
func HealCommand(node string) string {
	return strings.TrimSpace("halab fault " + Heal + " " + node)
}

// DaemonState is one of the stack's daemons on a node, as
// leftovers-node.sh sees it.
type DaemonState struct {
	Name   string `json:"name"`
	State  string `json:"state"` // running, stopped, killed, failed, or systemd's word
	Detail string `json:"detail,omitempty"`
}

// NodeCheck is what the leftover check gathered on one node: the
// provider's word on the machine, and the node's own (partition rules,
// daemons) when it runs and answers.
type NodeCheck struct {
	Node      string
	Created   bool // the provider has a machine for it
	Running   bool // the provider says the machine runs
	Paused    bool // the provider says the machine is frozen (nothing else is asked)
	Err       string
	Partition []string // rules of the harness's chain
	Drop      []string // rules of the packet faults' chain
	Daemons   []DaemonState
}

var leftoversNodeScript = script("leftovers-node")

// infinity is how ParseCrmMon counts Pacemaker's INFINITY fail count.
const infinity = 1000000

// ParseNodeCheck reads leftovers-node.sh's output into c.
func ParseNodeCheck(c *NodeCheck, out string) {
	for _, l := range strings.Split(out, "\n") {
		kind, rest, _ := strings.Cut(strings.TrimSpace(l), " ")
		switch kind {
		case "partition":
			if rest != "" {
				c.Partition = append(c.Partition, rest)
			}
		case "drop":
			if rest != "" {
				c.Drop = append(c.Drop, rest)
			}
		case "daemon":
			f := strings.SplitN(rest, " ", 3)
			if len(f) < 2 {
				continue
			}
			d := DaemonState{Name: f[0], State: f[1]}
			if len(f) == 3 {
				d.Detail = f[2]
			}
			c.Daemons = append(c.Daemons, d)
		}
	}
}

// CheckNodes asks the provider about every machine and, on those that
// run, the node about the partition chain and the stack's daemons (only
// the chain when the stack is not known). In parallel; a node that does
// not answer is recorded, not an error.
func (c *Cluster) CheckNodes(ctx context.Context) []NodeCheck {
	names := c.Names()
	checks := make([]NodeCheck, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc := NodeCheck{Node: name, Created: c.Lab.Provider.MachineID(name) != ""}
			defer func() { checks[i] = nc }()
			if !nc.Created {
				return
			}
			running, err := c.Lab.Provider.Running(ctx, name)
			if err != nil {
				nc.Err = fmt.Sprintf("asking the %s provider whether it runs: %v", c.Lab.Provider.Name(), err)
				return
			}
			if nc.Running = running; !running {
				c.Forget(name)
				return
			}
			// A frozen machine answers nothing: the provider's word only.
			if p, ok := c.Lab.Provider.(lab.Pauser); ok {
				if nc.Paused, err = p.Paused(ctx, name); err != nil || nc.Paused {
					if err != nil {
						nc.Err = fmt.Sprintf("asking the %s provider whether it is paused: %v", c.Lab.Provider.Name(), err)
					}
					return
				}
			}
			args := []string{PartitionChain, DropChain, "-"}
			if c.Stack != nil {
				args = append([]string{PartitionChain, DropChain, c.Stack.Messaging}, c.Stack.Daemons...)
			}
			res, err := lab.Check(c.run(ctx, name, leftoversNodeScript, args...))
			if err != nil {
				nc.Err = err.Error()
				return
			}
			ParseNodeCheck(&nc, string(res.Stdout))
		}()
	}
	wg.Wait()
	return checks
}

// Leftovers finds the faults left on the lab: CheckNodes, and on a stack
// with a resource manager the audit's standby nodes and fail counts (a is
// that audit; nil audits now).
func (c *Cluster) Leftovers(ctx context.Context, a *Audit) []Leftover {
	checks := c.CheckNodes(ctx)
	var crm *Audit
	if c.Stack != nil && c.Pacemaker() {
		if crm = a; crm == nil {
			crm = c.Audit(ctx)
		}
	}
	return FindLeftovers(checks, crm)
}

// FindLeftovers decides which faults are left, node by node in the
// checks' order: a machine the provider says is off (only that: a node
// that is off tells nothing else), the partition chain, daemons killed,
// failed or stopped, then from the resource manager's views (a, nil
// without one) standby and fail counts, which the survivor's view keeps
// for a node that is off too.
func FindLeftovers(checks []NodeCheck, a *Audit) []Leftover {
	var out []Leftover
	add := func(node, kind, what string) {
		out = append(out, Leftover{Node: node, Kind: kind, What: what, Heal: HealCommand(node)})
	}
	standby, fails := crmLeftovers(a)
	for _, c := range checks {
		if c.Created && !c.Running && c.Err == "" {
			add(c.Node, LeftPoweredOff, "the machine is powered off (the provider says it does not run)")
		}
		if c.Paused {
			add(c.Node, LeftPaused, "the machine is frozen (the provider says it is paused)")
		}
		if len(c.Partition) > 0 {
			add(c.Node, LeftPartition, partitionWhat(c.Partition))
		}
		if len(c.Drop) > 0 {
			add(c.Node, LeftPacketFault, dropWhat(c.Drop))
		}
		for _, d := range c.Daemons {
			switch d.State {
			case "killed":
				add(c.Node, LeftKilledDaemon, fmt.Sprintf("%s was killed (%s)", d.Name, signalName(d.Detail)))
			case "failed":
				add(c.Node, LeftFailedDaemon, fmt.Sprintf("%s failed (%s)", d.Name, d.Detail))
			case "stopped":
				add(c.Node, LeftStoppedDaemon, fmt.Sprintf("%s is stopped", d.Name))
			case "frozen":
				add(c.Node, LeftFrozenDaemon, fmt.Sprintf("%s is frozen (SIGSTOP)", d.Name))
			}
		}
		if standby[c.Node] != "" {
			add(c.Node, LeftStandby, fmt.Sprintf("in standby (as %s sees it): the cluster runs nothing on it", standby[c.Node]))
		}
		if f := fails[c.Node]; len(f) > 0 {
			add(c.Node, LeftFailCount, "fail counts not cleared: "+strings.Join(f, ", "))
		}
	}
	return out
}

// crmLeftovers reads the resource manager's views: the nodes any view
// has in standby (and which view says so), and each node's fail counts
// ("RESOURCE N", INFINITY for Pacemaker's).
func crmLeftovers(a *Audit) (standby map[string]string, fails map[string][]string) {
	standby, fails = map[string]string{}, map[string][]string{}
	if a == nil {
		return
	}
	for _, n := range a.Nodes {
		if n.CrmMon == nil {
			continue
		}
		for _, cn := range n.CrmMon.Nodes {
			if cn.Standby && standby[cn.Name] == "" {
				standby[cn.Name] = n.Node
			}
		}
	}
	fc := a.FailCounts()
	keys := make([]string, 0, len(fc))
	for k := range fc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		res, node, _ := strings.Cut(k, "@")
		n := fmt.Sprint(fc[k])
		if fc[k] >= infinity {
			n = "INFINITY"
		}
		fails[node] = append(fails[node], res+" "+n)
	}
	return
}

// partitionWhat says what the chain's rules drop: the cluster traffic
// with the peers its rules name.
func partitionWhat(rules []string) string {
	var peers []string
	for _, r := range rules {
		f := strings.Fields(r)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "-s" || f[i] == "-d" {
				ip := strings.TrimSuffix(f[i+1], "/32")
				if !slices.Contains(peers, ip) {
					peers = append(peers, ip)
				}
			}
		}
	}
	with := "its peers"
	if len(peers) > 0 {
		with = joinAnd(peers)
	}
	return fmt.Sprintf("the %s chain drops its cluster traffic with %s", PartitionChain, with)
}

// dropWhat says what the packet faults' rules drop: all or a share of
// the cluster packets, both ways or only what the node sends.
func dropWhat(rules []string) string {
	what, ways := "all", "to and from its peer"
	in := false
	for _, r := range rules {
		if i := strings.Index(r, "--probability "); i >= 0 {
			p := strings.Fields(r[i+len("--probability "):])[0]
			if f, err := strconv.ParseFloat(p, 64); err == nil {
				what = fmt.Sprintf("%.0f %%", f*100)
			}
		}
		if strings.HasPrefix(r, "-A INPUT ") {
			in = true
		}
	}
	if !in {
		ways = "that it sends (a one-way partition)"
	}
	return fmt.Sprintf("the %s chain drops %s of the cluster packets %s", DropChain, what, ways)
}

// signalName names the usual signals in "by signal N".
func signalName(detail string) string {
	names := map[string]string{"6": "SIGABRT", "9": "SIGKILL", "11": "SIGSEGV", "15": "SIGTERM"}
	if n, ok := strings.CutPrefix(detail, "by signal "); ok && names[n] != "" {
		return "by " + names[n]
	}
	return detail
}

// joinAnd joins names as prose: "node1", "node1 and node2", "a, b and c".
func joinAnd(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
