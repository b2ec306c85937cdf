// Package harness is the failover harness shared by the Ginkgo scenarios
// and `halab fault`: the faults it injects and heals, the audits of the
// cluster's own view of itself, and the artifacts kept when a scenario
// fails. Every fault has a heal that is idempotent, so that DeferCleanup,
// an interrupted run and `halab fault heal` all leave the lab as found.
package harness

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"halab/lab"
	"halab/provision"
)

// Cluster is a provisioned lab as the harness sees it: its nodes over SSH,
// connected on first use (a powered-off node is simply not connected).
type Cluster struct {
	Lab   *lab.Lab
	Stack *provision.Stack

	mu    sync.Mutex
	nodes map[string]*lab.Node
}

// Open connects to the lab's nodes and reads which stack they run. A
// node that does not answer is left for later: faults may have left it
// powered off, and Heal is what brings it back.
func Open(ctx context.Context, l *lab.Lab) (*Cluster, error) {
	c, err := OpenAny(ctx, l)
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// OpenAny is Open for a lab that may not run a stack yet (not provisioned,
// or every node off): the cluster it returns is never nil, and when no
// node tells its stack, its Stack is nil and the error says why. What
// needs no stack (CheckNodes, power, the partition's heal) works on it.
func OpenAny(ctx context.Context, l *lab.Lab) (*Cluster, error) {
	c := &Cluster{Lab: l, nodes: map[string]*lab.Node{}}
	var errs []error
	for _, name := range l.Cfg.NodeNames() {
		if running, err := l.Provider.Running(ctx, name); err == nil && !running {
			errs = append(errs, fmt.Errorf("node %s: the %s machine does not run", name, l.Provider.Name()))
			continue
		}
		n, err := c.Node(ctx, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		st, err := provision.DetectStack(ctx, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.Stack = st
		return c, nil
	}
	return c, fmt.Errorf("no node tells which stack it runs (run `halab up` and `halab provision`): %w", errors.Join(errs...))
}

// Node returns an SSH connection to the node, dialling it if needed.
func (c *Cluster) Node(ctx context.Context, name string) (*lab.Node, error) {
	c.mu.Lock()
	n := c.nodes[name]
	c.mu.Unlock()
	if n != nil {
		return n, nil
	}
	ns, err := c.Lab.Connect(ctx, name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.nodes[name]; old != nil {
		ns[0].Close()
		return old, nil
	}
	c.nodes[name] = ns[0]
	return ns[0], nil
}

// Forget closes the connection to a node (it was powered off, or its
// connection broke), so that the next use dials again.
func (c *Cluster) Forget(name string) {
	c.mu.Lock()
	n := c.nodes[name]
	delete(c.nodes, name)
	c.mu.Unlock()
	if n != nil {
		n.Close()
	}
}

// Close closes every connection.
func (c *Cluster) Close() {
	for _, name := range c.Lab.Cfg.NodeNames() {
		c.Forget(name)
	}
}

// Names are the lab's nodes in lab.yaml order.
func (c *Cluster) Names() []string { return c.Lab.Cfg.NodeNames() }

// Peer is the other node of the two.
func (c *Cluster) Peer(name string) string {
	for _, n := range c.Names() {
		if n != name {
			return n
		}
	}
	return ""
}

// Pacemaker says whether a cluster resource manager runs the resources
// (crm, standby, monitors, fail counts) or heartbeat v1's haresources.
func (c *Cluster) Pacemaker() bool { return c.Stack.Caps.ResourceManager }

// check names a node the lab does not have, for the CLI's arguments.
func (c *Cluster) check(node string) error {
	if !slices.Contains(c.Names(), node) {
		return &lab.ConfigError{File: c.Lab.Cfg.Path, Problems: []string{fmt.Sprintf("node %q: not in nodes (known: %v)", node, c.Names())}}
	}
	return nil
}

// run runs a script as root on a node, dropping the connection when it
// broke so that the next call dials again.
func (c *Cluster) run(ctx context.Context, node, script string, args ...string) (lab.Result, error) {
	n, err := c.Node(ctx, node)
	if err != nil {
		return lab.Result{ExitCode: -1}, err
	}
	res, err := n.SudoScript(ctx, script, args...)
	if err != nil {
		c.Forget(node)
	}
	return res, err
}
