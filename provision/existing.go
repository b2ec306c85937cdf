package provision

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"halab/lab"
)

// Machines halab did not make (lab.ExistingMachines) may run a cluster
// that is not halab's: a staging copy of production, someone's test
// cluster. Provisioning would replace its corosync.conf and keys and
// restart its daemons, so halab refuses such a machine unless the lab
// file says adopt: true, and marks the nodes it provisions as the lab's,
// so that the next run of the same lab file finds its own cluster.

// MarkFile holds the identity of the lab that provisioned the node.
const MarkFile = "/var/lib/halab/lab"

var (
	clusterFactsScript = Script("cluster-facts")
	markLabScript      = Script("mark-lab")
)

// ClusterFacts are what cluster-facts.sh reports of a node.
type ClusterFacts struct {
	Active, Enabled, Config []string
	// Mark is the lab mark's fields (id, config, name), nil without one.
	Mark map[string]string
}

// ParseClusterFacts reads cluster-facts.sh's output.
func ParseClusterFacts(out string) ClusterFacts {
	var f ClusterFacts
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), " ")
		if !ok {
			continue
		}
		switch k {
		case "active":
			f.Active = append(f.Active, v)
		case "enabled":
			f.Enabled = append(f.Enabled, v)
		case "config":
			f.Config = append(f.Config, v)
		case "owner":
			mk, mv, _ := strings.Cut(v, " ")
			if f.Mark == nil {
				f.Mark = map[string]string{}
			}
			f.Mark[mk] = mv
		}
	}
	return f
}

// Signs says what shows a cluster on the node, none when there is none.
func (f ClusterFacts) Signs() []string {
	var s []string
	for _, d := range f.Active {
		s = append(s, d+" running")
	}
	for _, d := range f.Enabled {
		s = append(s, d+" enabled at boot")
	}
	for _, c := range f.Config {
		s = append(s, c+" set up (not as its package ships it)")
	}
	return s
}

// Adopt refuses, before any step changes a node, to provision a machine
// that runs (or is set up for) a cluster this lab did not set up, unless
// the lab file says adopt: true; then it marks every node as this lab's.
// Every refused node is named at once.
func Adopt(ctx context.Context, l *lab.Lab, nodes []lab.Runner) error {
	facts := make([]ClusterFacts, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := lab.Check(n.SudoScript(ctx, clusterFactsScript, append([]string{MarkFile}, allDaemons()...)...))
			if err != nil {
				errs[i] = fmt.Errorf("node %s: reading whether it runs a cluster: %w", n.NodeName(), err)
				return
			}
			facts[i] = ParseClusterFacts(string(res.Stdout))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	var problems []string
	for i, n := range nodes {
		f := facts[i]
		signs := f.Signs()
		if len(signs) == 0 || f.Mark["id"] == l.ID.ID {
			continue
		}
		whose := "that this lab did not set up"
		if f.Mark["config"] != "" {
			whose = fmt.Sprintf("that halab set up for another lab, %s", f.Mark["config"])
		}
		if l.Cfg.Adopt {
			fmt.Fprintf(l.Out, "==> %s runs a cluster %s (%s): adopting it (adopt: true)\n", n.NodeName(), whose, strings.Join(signs, "; "))
			continue
		}
		problems = append(problems, fmt.Sprintf("adopt: %s already runs a cluster %s (%s): provisioning would replace its configuration and keys and restart its daemons. "+
			"Nothing was changed. If this cluster is yours to take over, set adopt: true in the lab file",
			n.NodeName(), whose, strings.Join(signs, "; ")))
	}
	if len(problems) > 0 {
		return &lab.ConfigError{File: l.Cfg.Path, Problems: problems}
	}
	for i, n := range nodes {
		m := facts[i].Mark
		if m["id"] == l.ID.ID && m["config"] == l.ID.Config && m["name"] == l.ID.Name {
			continue
		}
		if _, err := lab.Check(n.SudoScript(ctx, markLabScript, MarkFile, l.ID.ID, l.ID.Config, l.ID.Name)); err != nil {
			return fmt.Errorf("node %s: marking it as the lab's: %w", n.NodeName(), err)
		}
	}
	return nil
}

// CheckNode is the lab.NodeCheck of what provisioning needs of a node's
// OS: a stack that runs there (the lab file's, or auto's pick).
func CheckNode(ctx context.Context, c *lab.Config, n lab.Runner) []string {
	info, err := NodeOS(ctx, n)
	if err != nil {
		return []string{fmt.Sprintf("stack: cannot read %s's /etc/os-release: %v", n.NodeName(), err)}
	}
	runs := strings.Join(info.Stacks(), ", ")
	if runs == "" {
		runs = "none"
	}
	var s *Stack
	if c.Stack == AutoStack {
		var ok bool
		if s, ok = info.AutoStack(); !ok {
			return []string{fmt.Sprintf("stack: auto picks no stack on %s's %s: name one that runs there in stack: (%s)", n.NodeName(), info.describe(), runs)}
		}
	} else if s, _ = StackByName(c.Stack); s == nil {
		return nil // CheckConfig names it
	}
	if err := s.Runs(info); err != nil {
		return []string{fmt.Sprintf("stack: %s does not run on %s: %v (stacks that run there: %s)", s.Name, n.NodeName(), err, runs)}
	}
	return nil
}

var _ lab.NodeCheck = CheckNode
