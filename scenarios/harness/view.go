package harness

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"halab/provision"
)

// View is the cluster as `halab status` shows it, from one audit: each
// node's view of membership and resources, where the VIP and the service
// really are, what is failed or stopped, and whether it is split brain.
type View struct {
	Stack   string     `json:"stack"`
	VIP     Placement  `json:"vip"`
	Service Placement  `json:"service"`
	Nodes   []NodeView `json:"nodes"`
	// NotStarted are the resources a view has failed or not started.
	NotStarted []ResourceState `json:"failed_or_stopped"`
	FailCounts map[string]int  `json:"fail_counts,omitempty"`
	// SplitBrain says why the cluster is split brain; empty when not.
	SplitBrain []string `json:"split_brain"`
	// Problems are Audit.Problems: everything unlike a healthy cluster.
	Problems []string `json:"problems"`
	// Configuration is the configuration audit: the cluster's own
	// verifiers' findings (nil when no node's resource manager answered;
	// ConfigurationError says why they could not run).
	Configuration      *provision.ConfigAudit `json:"configuration,omitempty"`
	ConfigurationError string                 `json:"configuration_error,omitempty"`
}

// Placement is where something runs, by ground truth (the VIP on a NIC,
// the init script's status), not by any node's view.
type Placement struct {
	Name string   `json:"name"`
	On   []string `json:"on"`
}

// NodeView is one node's ground truth and its daemon's view.
type NodeView struct {
	Node      string `json:"node"`
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	VIP       bool   `json:"vip"`
	Service   bool   `json:"service"`
	DaemonUp  bool   `json:"daemon_up"`
	// Members are the nodes this node's daemon holds online.
	Members   []string        `json:"members"`
	DC        string          `json:"dc,omitempty"`
	Standby   []string        `json:"standby,omitempty"`
	Resources []ResourceState `json:"resources,omitempty"`
}

// ResourceState is a resource as one node's resource manager sees it.
type ResourceState struct {
	View   string   `json:"view"`
	ID     string   `json:"id"`
	Role   string   `json:"role"`
	Failed bool     `json:"failed"`
	On     []string `json:"on"`
}

// Started says whether the view has the resource running and not failed.
func (r ResourceState) Started() bool { return !r.Failed && r.Role == "Started" && len(r.On) > 0 }

// SplitBrain says why the audit shows a split brain, none when it does
// not: the VIP (or the service) on more than one node, or two daemons
// whose views of membership differ, each side acting on its own.
func (a *Audit) SplitBrain() []string {
	var why []string
	if vip := a.VIPHolders(); len(vip) > 1 {
		why = append(why, fmt.Sprintf("the VIP is on %s", joinAnd(vip)))
	}
	if svc := a.ServiceOn(); len(svc) > 1 {
		why = append(why, fmt.Sprintf("the service runs on %s", joinAnd(svc)))
	}
	var views []string
	var first *NodeAudit
	for i, n := range a.Nodes {
		if !n.Reachable || !n.DaemonUp {
			continue
		}
		if first == nil {
			first = &a.Nodes[i]
			continue
		}
		if !slices.Equal(first.Members, n.Members) {
			if len(views) == 0 {
				views = append(views, fmt.Sprintf("%s sees %s", first.Node, members(first.Members)))
			}
			views = append(views, fmt.Sprintf("%s sees %s", n.Node, members(n.Members)))
		}
	}
	if len(views) > 0 {
		why = append(why, "the nodes disagree on membership: "+strings.Join(views, ", "))
	}
	return why
}

// View summarizes the audit for `halab status`: vip is the VIP's address,
// service the service's name.
func (a *Audit) View(vip, service string) View {
	v := View{
		Stack:      a.Stack,
		VIP:        Placement{Name: vip, On: nonNil(a.VIPHolders())},
		Service:    Placement{Name: service, On: nonNil(a.ServiceOn())},
		NotStarted: []ResourceState{},
		FailCounts: a.FailCounts(),
		SplitBrain: nonNil(a.SplitBrain()),
		Problems:   nonNil(a.Problems()),

		Configuration:      a.Config,
		ConfigurationError: a.ConfigErr,
	}
	for _, n := range a.Nodes {
		nv := NodeView{Node: n.Node, Reachable: n.Reachable, Error: n.Err, VIP: n.VIP, Service: n.Service,
			DaemonUp: n.DaemonUp, Members: nonNil(n.Members)}
		if m := n.CrmMon; m != nil {
			nv.DC = m.DC
			for _, cn := range m.Nodes {
				if cn.Standby {
					nv.Standby = append(nv.Standby, cn.Name)
				}
			}
			for _, r := range m.Resources {
				rs := ResourceState{View: n.Node, ID: r.ID, Role: r.Role, Failed: r.Failed, On: nonNil(r.Nodes)}
				nv.Resources = append(nv.Resources, rs)
				if !rs.Started() {
					v.NotStarted = append(v.NotStarted, rs)
				}
			}
		}
		v.Nodes = append(v.Nodes, nv)
	}
	return v
}

func members(m []string) string {
	if len(m) == 0 {
		return "no one online"
	}
	return "[" + strings.Join(m, " ") + "]"
}

// nonNil makes an empty list [] rather than null in JSON.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ExplainUnreachable asks the provider about the nodes the audit could
// not reach: of a machine that does not run, the audit says so rather
// than why SSH failed.
func (c *Cluster) ExplainUnreachable(ctx context.Context, a *Audit) {
	for i, n := range a.Nodes {
		if n.Reachable {
			continue
		}
		if running, err := c.Lab.Provider.Running(ctx, n.Node); err == nil && !running {
			a.Nodes[i].Err = fmt.Sprintf("the %s machine does not run (powered off, or never created)", c.Lab.Provider.Name())
		}
	}
}
