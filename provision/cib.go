package provision

import (
	"time"

	"context"
	"encoding/xml"
	"fmt"
	"halab/templates"
	"strconv"

	"halab/lab"
)

// CIB is the part of Pacemaker's configuration halab checks.
type CIB struct {
	XMLName       xml.Name `xml:"cib"`
	Configuration struct {
		CrmConfig struct {
			Sets []nvset `xml:"cluster_property_set"`
		} `xml:"crm_config"`
		RscDefaults struct {
			Sets []nvset `xml:"meta_attributes"`
		} `xml:"rsc_defaults"`
		Resources struct {
			Primitives []Primitive `xml:"primitive"`
			Groups     []struct {
				ID         string      `xml:"id,attr"`
				Meta       []nvset     `xml:"meta_attributes"`
				Primitives []Primitive `xml:"primitive"`
			} `xml:"group"`
		} `xml:"resources"`
		Constraints struct {
			Colocations []struct {
				ID      string `xml:"id,attr"`
				Score   string `xml:"score,attr"`
				Rsc     string `xml:"rsc,attr"`
				WithRsc string `xml:"with-rsc,attr"`
			} `xml:"rsc_colocation"`
			Locations []struct {
				ID    string `xml:"id,attr"`
				Rsc   string `xml:"rsc,attr"`
				Node  string `xml:"node,attr"`
				Score string `xml:"score,attr"`
			} `xml:"rsc_location"`
		} `xml:"constraints"`
	} `xml:"configuration"`
}

type nvset struct {
	ID    string   `xml:"id,attr"`
	Pairs []nvpair `xml:"nvpair"`
}

type nvpair struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Primitive is one resource.
type Primitive struct {
	ID       string  `xml:"id,attr"`
	Class    string  `xml:"class,attr"`
	Provider string  `xml:"provider,attr"`
	Type     string  `xml:"type,attr"`
	Params   []nvset `xml:"instance_attributes"`
	Meta     []nvset `xml:"meta_attributes"`
	Ops      []struct {
		Name     string `xml:"name,attr"`
		Interval string `xml:"interval,attr"`
	} `xml:"operations>op"`
}

func (p Primitive) param(name string) string {
	for _, s := range p.Params {
		for _, nv := range s.Pairs {
			if nv.Name == name {
				return nv.Value
			}
		}
	}
	return ""
}

func lookup(sets []nvset, name string) string {
	for _, s := range sets {
		for _, nv := range s.Pairs {
			if nv.Name == name {
				return nv.Value
			}
		}
	}
	return ""
}

// ParseCIB decodes `cibadmin -Q` output.
func ParseCIB(b []byte) (*CIB, error) {
	var c CIB
	if err := xml.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("parsing the CIB: %w", err)
	}
	return &c, nil
}

// ReadCIB asks a node for the live CIB.
func ReadCIB(ctx context.Context, n lab.Runner) (*CIB, error) {
	res, err := lab.Check(n.Sudo(ctx, nil, cibQuery.Argv()...))
	if err != nil {
		return nil, err
	}
	return ParseCIB(res.Stdout)
}

// Expected is what the article's configuration must look like in the CIB.
type Expected struct {
	VIP, Netmask, NIC string
	Prefix            int
	Service           string
	Stickiness        int
	DCDeadtime        int // seconds; 0 = Pacemaker's default, not checked
	// Fencing is the fencing the configuration was rendered with; nil:
	// stonith-enabled=false, the article's.
	Fencing *templates.Fencing
}

// ExpectedCIB derives the expectation from lab.yaml.
func ExpectedCIB(c *lab.Config) Expected {
	return Expected{VIP: c.VIP.Address, Prefix: c.Prefix(), Netmask: c.DottedNetmask(), NIC: c.VIP.NIC,
		Service: c.Service.Name, Stickiness: c.CRM.ResourceStickiness, DCDeadtime: c.Timings.DCDeadtime}
}

// The article's resources, as the crm configuration names them.
const (
	IPResource      = templates.IPResource
	ServiceResource = templates.ServiceResource
	GroupResource   = templates.GroupResource
	ColocationID    = templates.ColocationID
)

// Check lists every difference between the CIB and the expectation.
func (e Expected) Check(c *CIB) []string {
	var probs []string
	cfg := c.Configuration
	if want := strconv.FormatBool(e.Fencing != nil); lookup(cfg.CrmConfig.Sets, "stonith-enabled") != want {
		probs = append(probs, fmt.Sprintf("stonith-enabled is %q, want %s", lookup(cfg.CrmConfig.Sets, "stonith-enabled"), want))
	}
	probs = append(probs, e.checkFencing(c)...)
	if e.DCDeadtime > 0 {
		if v := lookup(cfg.CrmConfig.Sets, "dc-deadtime"); v != fmt.Sprintf("%ds", e.DCDeadtime) {
			probs = append(probs, fmt.Sprintf("dc-deadtime is %q, want %ds", v, e.DCDeadtime))
		}
	}
	if e.Stickiness > 0 {
		if v := lookup(cfg.RscDefaults.Sets, "resource-stickiness"); v != strconv.Itoa(e.Stickiness) {
			probs = append(probs, fmt.Sprintf("rsc_defaults resource-stickiness is %q, want %d", v, e.Stickiness))
		}
	}
	var group []Primitive
	found := false
	for _, g := range cfg.Resources.Groups {
		if g.ID == GroupResource {
			group, found = g.Primitives, true
		}
	}
	if !found {
		probs = append(probs, "group "+GroupResource+" missing")
	}
	if len(group) != 2 || (len(group) == 2 && (group[0].ID != IPResource || group[1].ID != ServiceResource)) {
		ids := []string{}
		for _, p := range group {
			ids = append(ids, p.ID)
		}
		probs = append(probs, fmt.Sprintf("group %s holds %v, want [%s %s]", GroupResource, ids, IPResource, ServiceResource))
	}
	byID := map[string]Primitive{}
	for _, p := range append(cfg.Resources.Primitives, group...) {
		byID[p.ID] = p
	}
	if ip, ok := byID[IPResource]; !ok {
		probs = append(probs, "primitive "+IPResource+" missing")
	} else {
		if ip.Class != templates.IPAgentClass || ip.Provider != templates.IPAgentProvider || (ip.Type != templates.IPAgent && ip.Type != templates.IPAgent2) {
			probs = append(probs, fmt.Sprintf("%s is %s:%s:%s, want %s:%s:%s", IPResource, ip.Class, ip.Provider, ip.Type, templates.IPAgentClass, templates.IPAgentProvider, templates.IPAgent))
		}
		if v := ip.param("ip"); v != e.VIP {
			probs = append(probs, fmt.Sprintf("%s ip=%q, want %s", IPResource, v, e.VIP))
		}
		if v := ip.param("cidr_netmask"); v != strconv.Itoa(e.Prefix) && v != e.Netmask {
			probs = append(probs, fmt.Sprintf("%s cidr_netmask=%q, want %d", IPResource, v, e.Prefix))
		}
		if v := ip.param("nic"); v != e.NIC {
			probs = append(probs, fmt.Sprintf("%s nic=%q, want %s", IPResource, v, e.NIC))
		}
		if !hasMonitor(ip, templates.IPMonitor) {
			probs = append(probs, fmt.Sprintf("%s has no monitor op every %s", IPResource, templates.IPMonitor))
		}
	}
	if s, ok := byID[ServiceResource]; !ok {
		probs = append(probs, "primitive "+ServiceResource+" missing")
	} else {
		if s.Class != "lsb" || s.Type != e.Service {
			probs = append(probs, fmt.Sprintf("%s is %s:%s, want lsb:%s", ServiceResource, s.Class, s.Type, e.Service))
		}
		if !hasMonitor(s, templates.ServiceMonitor) {
			probs = append(probs, fmt.Sprintf("%s has no monitor op every %s", ServiceResource, templates.ServiceMonitor))
		}
	}
	coloc := false
	for _, cl := range cfg.Constraints.Colocations {
		if cl.ID == ColocationID && cl.Rsc == IPResource && cl.WithRsc == ServiceResource && (cl.Score == "INFINITY" || cl.Score == "inf") {
			coloc = true
		}
	}
	if !coloc {
		probs = append(probs, fmt.Sprintf("colocation %s (inf: %s %s) missing", ColocationID, IPResource, ServiceResource))
	}
	return probs
}

// hasMonitor: a monitor op whose interval (as Pacemaker writes it: "10s",
// "10", "10000ms", "1m") is every.
func hasMonitor(p Primitive, every time.Duration) bool {
	for _, op := range p.Ops {
		if op.Name == "monitor" && parseInterval(op.Interval) == every {
			return true
		}
	}
	return false
}

// parseInterval reads a Pacemaker interval: a bare number is seconds.
func parseInterval(s string) time.Duration {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return -1
	}
	return d
}
