package provision

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"halab/lab"
	"halab/templates"
)

// Caps are what a stack can do, as data: the scenarios select their specs
// from them before they run, instead of skipping inside a spec.
type Caps struct {
	// ResourceManager: Pacemaker runs the resources (crm configuration,
	// standby, fail counts).
	ResourceManager bool
	// Monitor: the resources are monitored, so a killed service is
	// noticed and restarted.
	Monitor bool
}

// capLabels are the scenario labels that need (or need the absence of) a
// capability: a spec labelled "needs-crm" runs only where there is a
// resource manager, one labelled "without-monitor" only where there is no
// monitor.
var capLabels = []struct {
	name string
	has  func(Caps) bool
}{
	{"crm", func(c Caps) bool { return c.ResourceManager }},
	{"monitor", func(c Caps) bool { return c.Monitor }},
}

// LabelFilter is the Ginkgo label filter that leaves out the specs this
// stack cannot run.
func (c Caps) LabelFilter() string {
	var f []string
	for _, l := range capLabels {
		if l.has(c) {
			f = append(f, "!without-"+l.name)
		} else {
			f = append(f, "!needs-"+l.name)
		}
	}
	return strings.Join(f, " && ")
}

// Stack is one cluster stack halab provisions and faults: what it runs on,
// installs, renders, starts, checks and heals. Each stack is a file of its
// own (stack_*.go) and an entry of stacks; nothing else branches on a
// stack's name.
type Stack struct {
	Name string
	// About is a line for help texts.
	About string
	// Runs says why the stack cannot run on a node's OS (nil: it can).
	Runs func(OSInfo) error
	// AutoOn says whether stack: auto picks this stack on that OS.
	AutoOn func(OSInfo) bool
	// Packages are what the stack needs installed on a node.
	Packages []string
	// Daemons are the services it runs, in start order.
	Daemons []string
	// Messaging is the messaging layer's process (what kill-daemon
	// kills) and its name in messages.
	Messaging string
	// Stop stops the stack's daemons as an admin would, resources first
	// (run as root).
	Stop lab.RemoteCommand
	// Start starts the stack's daemons as an admin would (run as root);
	// it returns once they are launched, not when the node has joined.
	Start lab.RemoteCommand
	Caps  Caps
	// Files renders the messaging layer's configuration; secrets go only
	// into the files' Data, which only SFTP carries.
	Files func(p templates.Params, s *Secrets) ([]File, error)
	// SeedCIB: a fresh node's CIB gets dc-deadtime before the first
	// start of Pacemaker (see seed-cib.sh).
	SeedCIB bool
	// Detect says whether a provisioned node's facts are this stack's.
	Detect func(NodeFacts) bool
	// Detection is how long the messaging layer takes to declare a silent
	// peer dead, from the lab's timings.
	Detection func(lab.Timings) time.Duration
	// TimingsAbout says which of the lab's timings the stack uses, for
	// reports.
	TimingsAbout func(lab.Timings) string
	// MembershipTimeout bounds the wait for every node to join.
	MembershipTimeout func(lab.Timings) time.Duration
	// Membership looks once at every node's view of the cluster: done, or
	// what it still waits for. An error is a transport that failed.
	Membership func(ctx context.Context, nodes []lab.Runner, names []string) (done bool, waiting string, err error)
	// CheckTimings validates the timings this stack uses, one message per
	// problem naming its field.
	CheckTimings func(lab.Timings) []string
	// Heal restarts the stack's daemons when they were killed or stopped
	// (and releases what they left behind): a script and its arguments.
	Heal func(c *lab.Config) (script string, args []string)
	// Subdaemons are the resource manager's daemons that its master
	// process supervises and respawns (Pacemaker 2's pacemakerd), which
	// the CTS ComponentFail scenarios kill one by one; none where the
	// stack has no such master.
	Subdaemons []string
	// HealCRM clears what the resource manager keeps of a fault on a node
	// (standby, fail counts), for the Pacemaker that stack runs: a script
	// run with the node's name; "" without a resource manager.
	HealCRM string
	// Status prints the node's view of the cluster, in a form
	// harness.ParseAudit reads.
	Status string
	// Verifiers are the cluster's own configuration checkers (the
	// configuration audit); none: NoVerifier says why.
	Verifiers  []Verifier
	NoVerifier string
	// Fence is how the stack fences a node when fencing.agent is auto;
	// nil: it cannot (no resource manager to run a fence device).
	Fence *FenceSupport
}

// stacks is the registry, in the order help texts list them.
var stacks = []*Stack{corosyncStack, heartbeatStack, heartbeatV1Stack}

// AutoStack is the stack: value that picks the stack from the nodes' OS.
const AutoStack = "auto"

// Stacks lists the registered stacks.
func Stacks() []*Stack { return slices.Clone(stacks) }

// StackNames lists the stacks' names (without auto).
func StackNames() []string {
	var names []string
	for _, s := range stacks {
		names = append(names, s.Name)
	}
	return names
}

// StackByName finds a registered stack.
func StackByName(name string) (*Stack, bool) {
	for _, s := range stacks {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// Conflicts are the daemons of the other stacks, which must not run beside
// this one's.
func (s *Stack) Conflicts() []string {
	var out []string
	for _, o := range stacks {
		for _, d := range o.Daemons {
			if !slices.Contains(s.Daemons, d) && !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

func (s *Stack) String() string { return s.Name }

// CheckConfig is the lab.ConfigCheck of what the stack gives meaning to:
// its name, the timings of the stack (of every stack when auto), and the
// crm settings.
func CheckConfig(c *lab.Config) []string {
	var p []string
	var chosen []*Stack
	if c.Stack == AutoStack {
		chosen = stacks
	} else if s, ok := StackByName(c.Stack); ok {
		chosen = []*Stack{s}
	} else {
		p = append(p, fmt.Sprintf("stack: %q: unknown stack (use one of %s)", c.Stack, strings.Join(append([]string{AutoStack}, StackNames()...), ", ")))
	}
	for _, s := range chosen {
		for _, msg := range s.CheckTimings(c.Timings) {
			if !slices.Contains(p, msg) {
				p = append(p, msg)
			}
		}
	}
	if c.CRM.ResourceStickiness < 0 {
		p = append(p, fmt.Sprintf("crm.resource_stickiness: %d: must be zero or more", c.CRM.ResourceStickiness))
	}
	if c.CRM.MigrationThreshold < 0 {
		p = append(p, fmt.Sprintf("crm.migration_threshold: %d: must be zero or more (0 = Pacemaker's default)", c.CRM.MigrationThreshold))
	}
	p = append(p, checkFencingConfig(c)...)
	return p
}

// NodeFacts are what node-facts.sh reports of a provisioned node.
type NodeFacts struct {
	Enabled []string // cluster daemons enabled at boot
	CRM     string   // heartbeat's crm setting: "yes", "no", "" (no ha.cf)
}

// ParseNodeFacts reads node-facts.sh's output.
func ParseNodeFacts(out string) NodeFacts {
	var f NodeFacts
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), " ")
		switch {
		case !ok:
		case k == "enabled":
			f.Enabled = append(f.Enabled, v)
		case k == "crm":
			f.CRM = v
		}
	}
	return f
}

// allDaemons are every stack's daemons, for node-facts.sh.
func allDaemons() []string {
	var out []string
	for _, s := range stacks {
		for _, d := range s.Daemons {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

var nodeFactsScript = Script("node-facts")

// DetectStack reads which stack a provisioned node belongs to.
func DetectStack(ctx context.Context, n lab.Runner) (*Stack, error) {
	res, err := lab.Check(n.SudoScript(ctx, nodeFactsScript, allDaemons()...))
	if err != nil {
		return nil, err
	}
	facts := ParseNodeFacts(string(res.Stdout))
	for _, s := range stacks {
		if s.Detect(facts) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("node %s runs no cluster stack: run `halab provision` first", n.NodeName())
}
