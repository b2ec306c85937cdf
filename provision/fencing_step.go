package provision

import (
	"context"
	"slices"
	"strings"

	"halab/lab"
	"halab/lab/fence"
	"halab/templates"
)

// StepFencing puts on each node what its fence devices need to reach the
// lab's fence endpoint; it runs only when fencing.agent is not none.
const StepFencing = "fencing"

// packageList is what the packages step installs: the stack's packages,
// and its fence agent's when the lab fences.

// What the fencing cleanup runs on a node (registered for the 12.04 scan).
var (
	crmForceDelete    = lab.Remote("crm", "-F", "configure", "delete")
	crmDeleteProperty = lab.Remote("crm_attribute", "--type", "crm_config", "--delete", "--name")
)

func (p *Provisioner) packageList() []string {
	pkgs := slices.Clone(p.Stack.Packages)
	if p.Params.Fencing != nil && p.Stack.Fence != nil {
		for _, pkg := range p.Stack.Fence.Packages {
			if !slices.Contains(pkgs, pkg) {
				pkgs = append(pkgs, pkg)
			}
		}
	}
	return pkgs
}

// ensurePKI makes the lab's fence CA and certificates (once; the endpoint
// uses the same), before the nodes get theirs.
func (p *Provisioner) ensurePKI() error {
	return fence.LabPKI(p.Lab).Ensure(p.Lab.Cfg.NodeNames(), p.Lab.Cfg.FenceAddress())
}

// fencing pushes a node's fence files: the lab CA's certificate, the
// node's own client certificate and key (0400 root: only the fencer, as
// root, reads it), and the stack's plugin where the agent is halab's.
// Each node gets its own key, so the endpoint's log says which node asked.
func (p *Provisioner) fencing(ctx context.Context, n lab.Runner) (bool, string, error) {
	f := p.Params.Fencing
	ca, cert, key, err := fence.LabPKI(p.Lab).NodeFiles(n.NodeName())
	if err != nil {
		return false, "", err
	}
	files := []File{
		{Path: f.CAFile(), Data: ca, Mode: 0o644},
		{Path: f.CertFile(), Data: cert, Mode: 0o644},
		{Path: f.KeyFile(), Data: key, Mode: 0o400},
	}
	if f.Agent == templates.FencePlugin {
		files = append(files, File{Path: templates.FencePluginPath, Data: []byte(Script(pluginScript)), Mode: 0o755})
	}
	names, err := PushFiles(ctx, n, files)
	if err != nil {
		return false, "", err
	}
	return len(names) > 0, strings.Join(names, ", "), nil
}

// pluginScript is the cluster-glue plugin under scripts/.
const pluginScript = "stonith-halab-fence"

// dropStaleFencing removes from the CIB what an earlier configuration's
// fencing left and `crm configure load update` would keep: fence devices
// (and their constraints) the configuration no longer has, and
// priority-fencing-delay when the race guard is no longer priority.
func dropStaleFencing(ctx context.Context, n lab.Runner, cib *CIB, want *templates.Fencing) error {
	keep := map[string]bool{}
	if want != nil {
		devices, err := want.Devices()
		if err != nil {
			return err
		}
		for _, d := range devices {
			keep[d.ID] = true
			keep[d.LocationID] = true
		}
	}
	var drop []string
	for _, pr := range cib.Configuration.Resources.Primitives {
		if pr.Class == "stonith" && strings.HasPrefix(pr.ID, templates.FenceResource("")) && !keep[pr.ID] {
			drop = append(drop, pr.ID)
		}
	}
	for _, l := range cib.Configuration.Constraints.Locations {
		if strings.HasPrefix(l.ID, templates.FenceResource("")) && !keep[l.ID] {
			drop = append(drop, l.ID)
		}
	}
	if len(drop) > 0 {
		// -F: a running device is stopped and deleted, its constraints too.
		if _, err := lab.Check(n.Sudo(ctx, nil, crmForceDelete.Argv(drop...)...)); err != nil {
			return err
		}
	}
	if lookup(cib.Configuration.CrmConfig.Sets, "priority-fencing-delay") != "" && (want == nil || want.Guard != templates.GuardPriority) {
		if _, err := lab.Check(n.Sudo(ctx, nil, crmDeleteProperty.Argv("priority-fencing-delay")...)); err != nil {
			return err
		}
	}
	return nil
}
