package provision

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"halab/lab"
	"halab/templates"
)

// Step names, in order.
const (
	StepOS         = "os"
	StepPackages   = "packages"
	StepJDK        = "jdk"
	StepService    = "service"
	StepMessaging  = "messaging"
	StepDaemons    = "daemons"
	StepMembership = "membership"
	StepCRM        = "crm"
	StepVIP        = "vip"
)

// StepResult is one step on one node ("*" for cluster-wide steps).
type StepResult struct {
	Node    string
	Step    string
	Changed bool
	Detail  string
	Took    time.Duration
}

// StepError is a failed step: which step, on which node, and why (the
// wrapped error names the command and its stderr).
type StepError struct {
	Node, Step string
	Err        error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("step %s on %s: %v", e.Step, e.Node, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Options steer a provisioning run.
type Options struct {
	// Stack overrides lab.yaml's stack ("" = as configured).
	Stack string
	// Out receives progress lines.
	Out io.Writer
	// VIPTimeout bounds the final wait for the VIP (0 = derived).
	VIPTimeout time.Duration
	// stopBeforeVIP ends Run before the vip step, which dials the VIP from
	// this host. Only the package's tests set it.
	stopBeforeVIP bool
}

// Provisioner runs the steps against connected nodes.
type Provisioner struct {
	Lab     *lab.Lab
	Nodes   []lab.Runner
	Opts    Options
	Stack   *Stack
	Secrets *Secrets
	Params  templates.Params

	mu          sync.Mutex
	results     []StepResult
	configAudit *ConfigAudit
	osInfo      map[string]OSInfo
	glibc       map[string]Glibc
	msgChg      map[string]bool
	bars        map[string]*Bar
	standIn     struct {
		once    sync.Once
		classes map[string][]byte
		err     error
	}
}

func (p *Provisioner) record(r StepResult) {
	mark := "ok"
	if r.Changed {
		mark = "changed"
	}
	detail := ""
	if r.Detail != "" {
		detail = " (" + r.Detail + ")"
	}
	// One lock for the results and the line: the nodes' steps finish
	// concurrently, and Out need not be safe for concurrent writes.
	p.mu.Lock()
	defer p.mu.Unlock()
	p.results = append(p.results, r)
	fmt.Fprintf(p.Opts.Out, "    %-6s %-10s %-7s %s%s\n", r.Node, r.Step, mark, r.Took.Round(10*time.Millisecond), detail)
}

// Results returns the step results so far.
func (p *Provisioner) Results() []StepResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]StepResult(nil), p.results...)
}

// Changed counts the steps that changed something.
func (p *Provisioner) Changed() int {
	n := 0
	for _, r := range p.Results() {
		if r.Changed {
			n++
		}
	}
	return n
}

// nodeStep is one step's work on one node: it says whether it changed
// anything and, optionally, a detail for the summary.
type nodeStep func(ctx context.Context, n lab.Runner) (changed bool, detail string, err error)

// eachNode runs a step on every node in parallel and records the results.
func (p *Provisioner) eachNode(ctx context.Context, step string, fn nodeStep) error {
	errs := make([]error, len(p.Nodes))
	var wg sync.WaitGroup
	for i, n := range p.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			changed, detail, err := fn(ctx, n)
			if err != nil {
				errs[i] = &StepError{Node: n.NodeName(), Step: step, Err: err}
				return
			}
			p.record(StepResult{Node: n.NodeName(), Step: step, Changed: changed, Detail: detail, Took: time.Since(start)})
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// clusterStep runs a step once for the whole cluster.
func (p *Provisioner) clusterStep(ctx context.Context, step string, fn func(ctx context.Context) (bool, string, error)) error {
	start := time.Now()
	changed, detail, err := fn(ctx)
	if err != nil {
		return &StepError{Node: "*", Step: step, Err: err}
	}
	p.record(StepResult{Node: "*", Step: step, Changed: changed, Detail: detail, Took: time.Since(start)})
	return nil
}

// New prepares a provisioning run on connected nodes.
func New(l *lab.Lab, nodes []lab.Runner, opts Options) (*Provisioner, error) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if err := l.Cfg.CheckFiles(); err != nil {
		return nil, err
	}
	sec, err := LoadSecrets(l.State)
	if err != nil {
		return nil, err
	}
	return &Provisioner{Lab: l, Nodes: nodes, Opts: opts, Secrets: sec, Params: ParamsFrom(l.Cfg),
		osInfo: map[string]OSInfo{}, glibc: map[string]Glibc{}, msgChg: map[string]bool{}}, nil
}

// ParamsFrom maps lab.yaml onto the templates' parameters.
func ParamsFrom(c *lab.Config) templates.Params {
	p := templates.Params{
		NIC: c.VIP.NIC, VIP: c.VIP.Address, Netmask: c.DottedNetmask(), Prefix: c.Prefix(),
		Keepalive: c.Timings.Keepalive, Warntime: c.Timings.Warntime, Deadtime: c.Timings.Deadtime, Initdead: c.Timings.Initdead,
		TokenMS: c.Timings.TokenMS, ConsensusMS: c.Timings.ConsensusMS, DCDeadtime: c.Timings.DCDeadtime, ClusterName: c.Name,
		Stickiness: c.CRM.ResourceStickiness, MigrationThreshold: c.CRM.MigrationThreshold,
		ServiceName: c.Service.Name, User: c.Service.User, JavaHome: c.Service.JavaHome,
		ProductHome: c.Service.ProductHome, Port: c.Service.Port,
		StartTimeout: c.Service.StartTimeout, StopTimeout: c.Service.StopTimeout,
	}
	for _, n := range c.Nodes {
		p.Nodes = append(p.Nodes, templates.Node{Name: n.Name, IP: n.IP})
	}
	if len(c.Nodes) > 0 {
		p.PreferredNode = c.Nodes[0].Name
	}
	return p
}

// Run provisions every node: the article, step by step, idempotently.
func (p *Provisioner) Run(ctx context.Context) error {
	out := p.Opts.Out
	fmt.Fprintln(out, "==> detecting node OS and stack")
	if err := p.eachNode(ctx, StepOS, p.detectOS); err != nil {
		return err
	}
	stack, err := p.resolveStack()
	if err != nil {
		return &StepError{Node: "*", Step: StepOS, Err: err}
	}
	p.Stack = stack
	// A JDK that needs a newer glibc than a node has would not even
	// start there: say so before minutes of packages and pushes.
	if err := p.checkJDK(); err != nil {
		return err
	}
	if p.Params.Fencing, err = FencingFor(p.Lab.Cfg, stack); err != nil {
		return &StepError{Node: "*", Step: StepOS, Err: err}
	}
	fmt.Fprintf(out, "==> stack %s; installing packages, JDK, service, %s files\n", stack.Name, stack.Messaging)
	steps := []struct {
		name string
		fn   nodeStep
	}{
		{StepPackages, p.packages},
		{StepJDK, p.jdk},
		{StepService, p.service},
		{StepMessaging, p.messaging},
		{StepDaemons, p.daemons},
	}
	if p.Params.Fencing != nil {
		if err := p.ensurePKI(); err != nil {
			return &StepError{Node: "*", Step: StepFencing, Err: err}
		}
		steps = slices.Insert(steps, 3, struct {
			name string
			fn   nodeStep
		}{StepFencing, p.fencing})
	}
	for _, s := range steps {
		if err := p.eachNode(ctx, s.name, s.fn); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "==> waiting for %s membership of %s\n", stack.Messaging, strings.Join(p.Lab.Cfg.NodeNames(), ", "))
	if err := p.clusterStep(ctx, StepMembership, p.membership); err != nil {
		return err
	}
	if stack.Caps.ResourceManager {
		fmt.Fprintln(out, "==> applying the crm configuration")
		if err := p.clusterStep(ctx, StepCRM, p.crm); err != nil {
			return err
		}
	} else if stack.NoVerifier != "" {
		fmt.Fprintf(out, "==> configuration audit: not applicable: %s\n", stack.NoVerifier)
	}
	if p.Opts.stopBeforeVIP {
		return nil
	}
	fmt.Fprintf(out, "==> waiting for the VIP http://%s:%d/ to serve from one node\n", p.Lab.Cfg.VIP.Address, p.Lab.Cfg.Service.Port)
	return p.clusterStep(ctx, StepVIP, p.waitVIP)
}

// checkJDK refuses a JDK archive that needs a newer glibc than a node
// has, before anything is pushed. A node that does not say which glibc
// it has is left to the check after unpacking (java -version).
func (p *Provisioner) checkJDK() error {
	for _, n := range p.Nodes {
		name := n.NodeName()
		has, ok := p.glibc[name]
		if !ok {
			continue
		}
		who := fmt.Sprintf("node %s (%s)", name, p.osInfo[name].describe())
		if err := CheckJDKFits(p.Lab.Cfg, p.Lab.State, has, who, "stopped before pushing anything"); err != nil {
			return &StepError{Node: name, Step: StepJDK, Err: err}
		}
	}
	return nil
}

func (p *Provisioner) resolveStack() (*Stack, error) {
	want := p.Lab.Cfg.Stack
	if p.Opts.Stack != "" {
		want = p.Opts.Stack
	}
	var stack *Stack
	for _, n := range p.Nodes {
		info := p.osInfo[n.NodeName()]
		var s *Stack
		if want == AutoStack {
			var ok bool
			if s, ok = info.AutoStack(); !ok {
				return nil, fmt.Errorf("node %s runs %s %s: no default stack for it; set stack: in lab.yaml", n.NodeName(), info.ID, info.VersionID)
			}
		} else {
			var ok bool
			if s, ok = StackByName(want); !ok {
				return nil, fmt.Errorf("unknown stack %q (use one of %s)", want, strings.Join(StackNames(), ", "))
			}
		}
		if err := s.Runs(info); err != nil {
			return nil, fmt.Errorf("node %s: %w (stacks that run there: %s)", n.NodeName(), err, strings.Join(info.Stacks(), ", "))
		}
		if stack != nil && s != stack {
			return nil, fmt.Errorf("nodes disagree on the stack (%s vs %s): run the same OS on every node", stack.Name, s.Name)
		}
		stack = s
	}
	return stack, nil
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
