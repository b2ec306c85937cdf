package harness

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"halab/lab"
	"halab/provision"
	"halab/templates"
)

// CrmMon is what crm_mon says about the cluster: its XML
// (`--output-as=xml` on Pacemaker 2, `--as-xml` on 1.1.7 and later; both
// put nodes and resources in the same elements, only the root differs),
// or, on Pacemaker 1.1.6, its text (ParseCrmMonText).
type CrmMon struct {
	DC         string
	WithQuorum bool // the DC's partition has quorum
	Nodes      []CrmNode
	Resources  []CrmResource
	FailCounts map[string]int // "RESOURCE@NODE" -> fail count, only > 0
}

type CrmNode struct {
	Name                     string
	Online, Standby, Unclean bool
}

type CrmResource struct {
	ID, Agent, Role         string
	Active, Failed, Managed bool
	Nodes                   []string // where it runs
}

type xmlCrmMon struct {
	Summary struct {
		DC struct {
			Present string `xml:"present,attr"`
			Name    string `xml:"name,attr"`
			Quorum  string `xml:"with_quorum,attr"`
		} `xml:"current_dc"`
	} `xml:"summary"`
	Nodes []struct {
		Name    string `xml:"name,attr"`
		Online  string `xml:"online,attr"`
		Standby string `xml:"standby,attr"`
		Unclean string `xml:"unclean,attr"`
	} `xml:"nodes>node"`
	Resources struct {
		Direct []xmlResource `xml:"resource"`
		Groups []struct {
			Resources []xmlResource `xml:"resource"`
		} `xml:"group"`
	} `xml:"resources"`
	History []struct {
		Name      string `xml:"name,attr"`
		Resources []struct {
			ID        string `xml:"id,attr"`
			FailCount string `xml:"fail-count,attr"`
		} `xml:"resource_history"`
	} `xml:"node_history>node"`
}

type xmlResource struct {
	ID      string `xml:"id,attr"`
	Agent   string `xml:"resource_agent,attr"`
	Role    string `xml:"role,attr"`
	Active  string `xml:"active,attr"`
	Failed  string `xml:"failed,attr"`
	Managed string `xml:"managed,attr"`
	Nodes   []struct {
		Name string `xml:"name,attr"`
	} `xml:"node"`
}

// ParseCrmMon reads crm_mon's XML.
func ParseCrmMon(data []byte) (*CrmMon, error) {
	var x xmlCrmMon
	if err := xml.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("crm_mon XML: %w", err)
	}
	m := &CrmMon{FailCounts: map[string]int{}}
	if x.Summary.DC.Present == "true" {
		m.DC = x.Summary.DC.Name
		m.WithQuorum = x.Summary.DC.Quorum == "true" || x.Summary.DC.Quorum == "1"
	}
	for _, n := range x.Nodes {
		m.Nodes = append(m.Nodes, CrmNode{Name: n.Name, Online: n.Online == "true", Standby: n.Standby == "true", Unclean: n.Unclean == "true"})
	}
	rs := x.Resources.Direct
	for _, g := range x.Resources.Groups {
		rs = append(rs, g.Resources...)
	}
	for _, r := range rs {
		// 1.1's XML writes ocf::heartbeat:IPaddr, 2's ocf:heartbeat:IPaddr
		cr := CrmResource{ID: r.ID, Agent: strings.Replace(r.Agent, "::", ":", 1), Role: r.Role, Active: r.Active == "true", Failed: r.Failed == "true", Managed: r.Managed != "false"}
		for _, n := range r.Nodes {
			cr.Nodes = append(cr.Nodes, n.Name)
		}
		m.Resources = append(m.Resources, cr)
	}
	for _, h := range x.History {
		for _, r := range h.Resources {
			if n, err := strconv.Atoi(r.FailCount); err == nil && n > 0 {
				m.FailCounts[r.ID+"@"+h.Name] = n
			} else if r.FailCount == "INFINITY" {
				m.FailCounts[r.ID+"@"+h.Name] = infinity
			}
		}
	}
	return m, nil
}

// Online lists the nodes this view holds online, sorted.
func (m *CrmMon) Online() []string {
	var on []string
	for _, n := range m.Nodes {
		if n.Online {
			on = append(on, n.Name)
		}
	}
	sort.Strings(on)
	return on
}

// Resource finds a resource by id.
func (m *CrmMon) Resource(id string) (CrmResource, bool) {
	for _, r := range m.Resources {
		if r.ID == id {
			return r, true
		}
	}
	return CrmResource{}, false
}

// NodeAudit is one node's ground truth (VIP on its NIC, service status)
// and its cluster daemon's view of the cluster.
type NodeAudit struct {
	Node      string
	Reachable bool   // SSH answered
	Err       string // why not, when not
	VIP       bool   // the VIP is on the node's NIC
	Service   bool   // the init script's status says running
	DaemonUp  bool   // the cluster daemon answered
	Members   []string
	CrmMon    *CrmMon // pacemaker stacks
	Pacemaker string  // Pacemaker's version, when the status says
}

// Audit is the cluster as every node sees it at one moment.
type Audit struct {
	Stack string
	Nodes []NodeAudit
	// Config is the configuration audit: the cluster's own verifiers'
	// findings, from one node whose resource manager answered (nil when
	// none did; ConfigErr says why they could not run).
	Config    *provision.ConfigAudit
	ConfigErr string
}

// auditNodeScript is each node's ground truth; the stack's Status script
// follows it in the same round trip, with its view of the cluster.
var auditNodeScript = script("audit-node")

// ParseAudit reads one node's audit: audit-node.sh's lines, then the
// stack's status: member lines (heartbeat v1), or crm_mon's XML after a
// "--- crm_mon" line, or its text after "--- crm_mon text" (Pacemaker
// 1.1.6, which has no XML output), each reader for what that Pacemaker
// prints.
func ParseAudit(node string, out []byte) (NodeAudit, error) {
	a := NodeAudit{Node: node, Reachable: true}
	head, textPart, hasText := bytes.Cut(out, []byte("--- crm_mon text\n"))
	var xmlPart []byte
	hasXML := false
	if !hasText {
		head, xmlPart, hasXML = bytes.Cut(out, []byte("--- crm_mon\n"))
	}
	for _, l := range strings.Split(string(head), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 2 && f[0] == "pacemaker":
			a.Pacemaker = f[1]
		case len(f) == 2 && f[0] == "vip":
			a.VIP = f[1] == "yes"
		case len(f) == 2 && f[0] == "service":
			a.Service = f[1] == "0"
		case len(f) == 3 && f[0] == "member":
			a.DaemonUp = true
			if f[2] == "active" {
				a.Members = append(a.Members, f[1])
			}
		}
	}
	sort.Strings(a.Members)
	var m *CrmMon
	var err error
	switch {
	case hasText:
		m, err = ParseCrmMonText(textPart)
	case hasXML:
		m, err = ParseCrmMon(xmlPart)
	default:
		return a, nil
	}
	if err != nil {
		return a, fmt.Errorf("node %s: %w", node, err)
	}
	a.DaemonUp, a.CrmMon, a.Members = true, m, m.Online()
	return a, nil
}

// Audit asks every node, in parallel, for its ground truth and its view.
// An unreachable node is recorded as such, not an error: a fault may have
// powered it off.
func (c *Cluster) Audit(ctx context.Context) *Audit {
	cfg := c.Lab.Cfg
	names := c.Names()
	a := &Audit{Stack: c.Stack.Name, Nodes: make([]NodeAudit, len(names))}
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := lab.Check(c.run(ctx, name, auditNodeScript+"\n"+c.Stack.Status, cfg.VIP.NIC, cfg.VIP.Address,
				provision.InitScriptPath(cfg.Service.Name)))
			if err == nil {
				a.Nodes[i], err = ParseAudit(name, res.Stdout)
			}
			if err != nil {
				a.Nodes[i] = NodeAudit{Node: name, Err: err.Error()}
			}
		}()
	}
	wg.Wait()
	c.auditConfig(ctx, a)
	return a
}

// VIPHolders are the nodes with the VIP on their NIC.
func (a *Audit) VIPHolders() []string {
	return a.where(func(n NodeAudit) bool { return n.VIP })
}

// ServiceOn are the nodes whose init script says the service runs.
func (a *Audit) ServiceOn() []string {
	return a.where(func(n NodeAudit) bool { return n.Service })
}

func (a *Audit) where(f func(NodeAudit) bool) []string {
	var s []string
	for _, n := range a.Nodes {
		if n.Reachable && f(n) {
			s = append(s, n.Node)
		}
	}
	return s
}

// FailCounts merges the fail counts every view reports (the largest).
func (a *Audit) FailCounts() map[string]int {
	fc := map[string]int{}
	for _, n := range a.Nodes {
		if n.CrmMon == nil {
			continue
		}
		for k, v := range n.CrmMon.FailCounts {
			fc[k] = max(fc[k], v)
		}
	}
	return fc
}

// Problems checks the audit against a healthy cluster: every node whose
// daemon runs agrees on membership; the VIP and the service run on the
// same single node, by ground truth and by every view; no resource is
// stopped or failed. It returns one line per problem, none when healthy.
func (a *Audit) Problems() []string {
	var p []string
	var members []string
	var seen string
	for _, n := range a.Nodes {
		switch {
		case !n.Reachable:
			p = append(p, fmt.Sprintf("%s: unreachable: %s", n.Node, n.Err))
			continue
		case !n.DaemonUp:
			p = append(p, fmt.Sprintf("%s: the cluster daemon does not answer", n.Node))
			continue
		}
		if members == nil {
			members, seen = n.Members, n.Node
		} else if !slices.Equal(members, n.Members) {
			p = append(p, fmt.Sprintf("membership differs: %s sees %v, %s sees %v", seen, members, n.Node, n.Members))
		}
	}
	vip, svc := a.VIPHolders(), a.ServiceOn()
	if len(vip) != 1 {
		p = append(p, fmt.Sprintf("the VIP is on %d nodes %v, want exactly one", len(vip), vip))
	}
	if !slices.Equal(vip, svc) {
		p = append(p, fmt.Sprintf("the VIP is on %v but the service runs on %v", vip, svc))
	}
	for _, n := range a.Nodes {
		if n.CrmMon == nil {
			continue
		}
		for _, r := range n.CrmMon.Resources {
			// A fence device runs where it may (never on the node it
			// fences), not with the VIP; it may be stopped (its one
			// allowed node in standby or off: Pacemaker fences with a
			// configured device all the same, stopped only means not
			// monitored).
			fenceDevice := strings.HasPrefix(r.Agent, "stonith:")
			switch {
			case fenceDevice && !r.Failed:
				for _, on := range r.Nodes {
					if templates.FenceResource(on) == r.ID {
						p = append(p, fmt.Sprintf("%s sees %s on %s, the node it fences", n.Node, r.ID, on))
					}
				}
			case r.Failed:
				p = append(p, fmt.Sprintf("%s sees %s failed", n.Node, r.ID))
			case !r.Active || r.Role != "Started":
				p = append(p, fmt.Sprintf("%s sees %s %s (not started)", n.Node, r.ID, strings.ToLower(r.Role)))
			case !slices.Equal(r.Nodes, vip):
				p = append(p, fmt.Sprintf("%s sees %s on %v, but the VIP is on %v", n.Node, r.ID, r.Nodes, vip))
			}
		}
	}
	return p
}

// String is a compact one-line view for reports and failure messages.
func (a *Audit) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "VIP on %v, service on %v", a.VIPHolders(), a.ServiceOn())
	for _, n := range a.Nodes {
		switch {
		case !n.Reachable:
			fmt.Fprintf(&b, "; %s unreachable", n.Node)
		case !n.DaemonUp:
			fmt.Fprintf(&b, "; %s daemon down", n.Node)
		default:
			fmt.Fprintf(&b, "; %s sees %v", n.Node, n.Members)
		}
	}
	if fc := a.FailCounts(); len(fc) > 0 {
		fmt.Fprintf(&b, "; fail counts %v", fc)
	}
	if a.Config != nil && a.Config.NotApplicable == "" {
		fmt.Fprintf(&b, "; configuration: %s", a.Config.Count())
	}
	return b.String()
}
