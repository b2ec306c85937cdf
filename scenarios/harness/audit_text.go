package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Pacemaker 1.1.6 (Ubuntu 12.04, the article's heartbeat stack) has no
// XML output in crm_mon: `--as-xml` came with 1.1.7. Its status is read
// from the text of `crm_mon -1 -r -f` (every resource, inactive ones too,
// and the fail counts), printed by tools/crm_mon.c's print_status and
// print_node_summary, lib/pengine/group.c's group_print and
// lib/pengine/native.c's native_print; the test fixtures follow that code
// line by line and cite it.

var (
	textDCRe       = regexp.MustCompile(`^Current DC: (\S+)(?: \([^)]*\))? - partition (with|WITHOUT) quorum$`)
	textNodeListRe = regexp.MustCompile(`^(Online|OFFLINE): \[(.*) \]$`)
	textNodeRe     = regexp.MustCompile(`^Node (\S+)(?: \([^)]*\))?: (.+)$`)
	// native_print, one node or none: "ID\t(class::provider:type):\t[ ORPHANED ]Role [node][ (unmanaged)][ FAILED][ (failure ignored)]"
	textRscRe = regexp.MustCompile(`^\s+(\S+)\t\(([^)]*)\):\t(.*)$`)
	// native_print, several nodes: "ID\t(agent) [ ORPHANED] Role[ (unmanaged)][ FAILED]...[\tnode1\tnode2 ]"
	textRscManyRe = regexp.MustCompile(`^\s+(\S+)\t\(([^)]*)\) (.*)\[((?:\t\S+)+) \]$`)
	// print_rsc_summary: "   ID: migration-threshold=N[ fail-count=N][ last-failure='...']"
	textFailRe = regexp.MustCompile(`^   (\S+): migration-threshold=-?\d+(?: fail-count=(\d+))?`)
)

// ParseCrmMonText reads the text of Pacemaker 1.1.6's `crm_mon -1 -r -f`
// into the same view as crm_mon's XML.
func ParseCrmMonText(data []byte) (*CrmMon, error) {
	m := &CrmMon{FailCounts: map[string]int{}}
	seenDC := false
	section := ""
	summaryNode := ""
	nodeIdx := map[string]int{}
	node := func(name string) *CrmNode {
		if i, ok := nodeIdx[name]; ok {
			return &m.Nodes[i]
		}
		nodeIdx[name] = len(m.Nodes)
		m.Nodes = append(m.Nodes, CrmNode{Name: name})
		return &m.Nodes[len(m.Nodes)-1]
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "Current DC: "):
			seenDC = true
			if mm := textDCRe.FindStringSubmatch(line); mm != nil {
				m.DC, m.WithQuorum = mm[1], mm[2] == "with"
			}
			continue
		case line == "Full list of resources:", line == "Inactive resources:":
			section = "resources"
			continue
		case line == "Migration summary:", line == "Operations:":
			section = "summary"
			continue
		case line == "Failed actions:":
			section = "failed"
			continue
		case line == "Node Attributes:":
			section = "attributes"
			continue
		}
		if mm := textNodeListRe.FindStringSubmatch(line); mm != nil {
			for _, n := range strings.Fields(mm[2]) {
				node(n).Online = mm[1] == "Online"
			}
			continue
		}
		if mm := textNodeRe.FindStringSubmatch(line); mm != nil && section == "" {
			n := node(mm[1])
			switch mode := mm[2]; {
			case mode == "online":
				n.Online = true
			case mode == "standby", mode == "standby (on-fail)":
				n.Online, n.Standby = true, true
			case mode == "OFFLINE (standby)":
				n.Standby = true
			case mode == "UNCLEAN (online)":
				n.Online, n.Unclean = true, true
			case strings.HasPrefix(mode, "UNCLEAN"):
				n.Unclean = true
			}
			continue
		}
		switch section {
		case "resources":
			if r, ok := parseTextResource(line); ok {
				m.Resources = append(m.Resources, r)
			}
		case "summary":
			if strings.HasPrefix(line, "* Node ") {
				summaryNode = strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(line, "* Node ")), ":")
			} else if mm := textFailRe.FindStringSubmatch(line); mm != nil && mm[2] != "" && summaryNode != "" {
				if n, err := strconv.Atoi(mm[2]); err == nil && n > 0 {
					m.FailCounts[mm[1]+"@"+summaryNode] = n
				}
			}
		}
	}
	if !seenDC {
		return nil, fmt.Errorf("crm_mon text: no \"Current DC:\" line: %.80q", data)
	}
	return m, nil
}

// parseTextResource reads one line of native_print; group headers
// (" Resource Group: ID") are skipped, their members follow indented.
func parseTextResource(line string) (CrmResource, bool) {
	var id, agent, rest string
	var nodes []string
	if mm := textRscRe.FindStringSubmatch(line); mm != nil {
		id, agent, rest = mm[1], mm[2], mm[3]
		f := strings.Fields(rest)
		if len(f) > 0 && f[0] == "ORPHANED" {
			f = f[1:]
		}
		// the role, then the node unless a flag follows at once
		if len(f) > 1 && f[1] != "(unmanaged)" && f[1] != "FAILED" && f[1] != "(failure" {
			nodes = []string{f[1]}
		}
	} else if mm := textRscManyRe.FindStringSubmatch(line); mm != nil {
		id, agent, rest = mm[1], mm[2], mm[3]
		nodes = strings.Fields(mm[4])
	} else {
		return CrmResource{}, false
	}
	f := strings.Fields(rest)
	if len(f) > 0 && f[0] == "ORPHANED" {
		f = f[1:]
	}
	r := CrmResource{ID: id, Agent: strings.Replace(agent, "::", ":", 1), Managed: true, Nodes: nodes}
	if len(f) > 0 {
		r.Role = f[0]
	}
	r.Failed = strings.Contains(rest, " FAILED") || strings.HasPrefix(rest, "FAILED")
	r.Managed = !strings.Contains(rest, "(unmanaged)")
	r.Active = r.Role != "" && r.Role != "Stopped" && len(nodes) > 0
	return r, true
}
