package harness

import (
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"

	"halab/lab"
	"halab/provision"
)

// The faults of Pacemaker's CTS resource and component tests
// (MaintenanceMode, ResourceRecover, Reattach, ResyncCIB, ComponentFail),
// for stacks with a resource manager. Each is undone by Heal: the stack's
// heal starts a stopped stack, heal-crm clears fail counts, and heal-cts
// leaves maintenance mode, manages the resources again and restarts
// Pacemaker when pacemakerd left one of its subdaemons dead.
const (
	Maintenance  = "maintenance"
	Unmanage     = "unmanage"
	FailResource = "fail-resource"
	WipeCIB      = "wipe-cib"
	// KillComponent prefixes a Pacemaker subdaemon's short name:
	// kill-based, kill-fenced, kill-execd, kill-attrd, kill-schedulerd,
	// kill-controld.
	KillComponent = "kill-"
)

// CIBDir is where Pacemaker 2 keeps the CIB on disk.
const CIBDir = "/var/lib/pacemaker/cib"

// pacemakerPrefix is what a Pacemaker 2 subdaemon's name starts with; its
// fault is kill- and the rest (pacemaker-execd: kill-execd).
const pacemakerPrefix = "pacemaker-"

// componentKinds are the kill faults of Pacemaker 2.1's subdaemons, listed
// for the help texts (the stack's Subdaemons say which a lab has).
var componentKinds = []string{"based", "fenced", "execd", "attrd", "schedulerd", "controld"}

func init() {
	var heal []struct{ Kind, What string }
	if i := slices.IndexFunc(Faults, func(f struct{ Kind, What string }) bool { return f.Kind == Heal }); i >= 0 {
		heal = slices.Clone(Faults[i:])
		Faults = Faults[:i]
	}
	Faults = append(Faults,
		struct{ Kind, What string }{Maintenance, "set maintenance-mode=true: every resource unmanaged, nothing monitored (crm stacks)"},
		struct{ Kind, What string }{Unmanage, "set the resource default is-managed=false: the resources run on, unmanaged (crm stacks)"},
		struct{ Kind, What string }{FailResource, "crm_resource --fail the service's resource on the node: a failed operation, fail count +1"},
		struct{ Kind, What string }{WipeCIB, "stop the node's stack and remove its CIB files (heal starts it with an empty CIB)"},
	)
	for _, k := range componentKinds {
		Faults = append(Faults, struct{ Kind, What string }{KillComponent + k, "SIGKILL Pacemaker's pacemaker-" + k + " (pacemakerd is to respawn it)"})
	}
	Faults = append(Faults, heal...)
}

var (
	killComponentScript  = script("kill-component")
	componentPIDsScript  = script("component-pids")
	serviceStartedScript = script("service-started")
	wipeCIBScript        = script("wipe-cib")
	healCTSScript        = script("heal-cts")
	startStackScript     = script("start-stack")

	crmMaintenance = lab.Remote("crm_attribute", "--type", "crm_config", "--name", "maintenance-mode", "--update", "true")
	crmUnmanage    = lab.Remote("crm_attribute", "--type", "rsc_defaults", "--name", "is-managed", "--update", "false")
	crmFailService = lab.Remote("crm_resource", "--fail", "--resource", provision.ServiceResource, "--node")
	cibQueryLocal  = lab.Remote("cibadmin", "--query", "--local")
)

// injectCTS applies the CTS faults; ok is false for a kind it does not
// know.
func (c *Cluster) injectCTS(ctx context.Context, kind, node string) (ok bool, err error) {
	crm := func() error {
		if !c.Pacemaker() {
			return fmt.Errorf("%s: stack %s has no resource manager (crm stacks only)", kind, c.Stack)
		}
		return nil
	}
	switch {
	case kind == Maintenance:
		if err := crm(); err != nil {
			return true, err
		}
		return true, c.sudo(ctx, node, crmMaintenance.Argv()...)
	case kind == Unmanage:
		if err := crm(); err != nil {
			return true, err
		}
		return true, c.sudo(ctx, node, crmUnmanage.Argv()...)
	case kind == FailResource:
		if err := crm(); err != nil {
			return true, err
		}
		return true, c.sudo(ctx, node, crmFailService.Argv(node)...)
	case kind == WipeCIB:
		if err := crm(); err != nil {
			return true, err
		}
		if len(c.Stack.Subdaemons) == 0 {
			return true, fmt.Errorf("%s: stack %s keeps its CIB elsewhere than %s (Pacemaker 2 stacks only)", kind, c.Stack, CIBDir)
		}
		if err := c.sudo(ctx, node, c.Stack.Stop.Argv()...); err != nil {
			return true, err
		}
		return true, c.must(ctx, node, wipeCIBScript, CIBDir, c.Stack.Subdaemons[0])
	case strings.HasPrefix(kind, KillComponent) && slices.Contains(componentKinds, strings.TrimPrefix(kind, KillComponent)):
		d := pacemakerPrefix + strings.TrimPrefix(kind, KillComponent)
		if !slices.Contains(c.Stack.Subdaemons, d) {
			return true, fmt.Errorf("%s: stack %s has no %s", kind, c.Stack, d)
		}
		return true, c.must(ctx, node, killComponentScript, d)
	}
	return false, nil
}

// healCTS is heal-cts's step of Heal: the script and its arguments.
func (c *Cluster) healCTS(node string) (string, []string) {
	return healCTSScript, append([]string{node}, c.Stack.Subdaemons...)
}

// ComponentPIDs maps each of the stack's subdaemons on a node to its pid
// ("" when it does not run).
func (c *Cluster) ComponentPIDs(ctx context.Context, node string) (map[string]string, error) {
	res, err := lab.Check(c.run(ctx, node, componentPIDsScript, c.Stack.Subdaemons...))
	if err != nil {
		return nil, err
	}
	return parseComponentPIDs(string(res.Stdout)), nil
}

func parseComponentPIDs(out string) map[string]string {
	pids := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		if f[1] == "-" {
			f[1] = ""
		}
		pids[f[0]] = f[1]
	}
	return pids
}

// ServiceStarted says which process runs the service on a node and when
// it started ("PID START"), for the specs that check it was not
// restarted; an error when it does not run there.
func (c *Cluster) ServiceStarted(ctx context.Context, node string) (string, error) {
	res, err := lab.Check(c.run(ctx, node, serviceStartedScript, PIDFile(c.Lab.Cfg)))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

// CIBVersion is a node's own copy of the CIB: its version and its
// configuration section.
type CIBVersion struct {
	AdminEpoch, Epoch string
	Configuration     string
}

func (v CIBVersion) String() string { return "admin_epoch " + v.AdminEpoch + ", epoch " + v.Epoch }

// LocalCIB reads the CIB a node holds (cibadmin --local), not the DC's.
func (c *Cluster) LocalCIB(ctx context.Context, node string) (CIBVersion, error) {
	n, err := c.Node(ctx, node)
	if err != nil {
		return CIBVersion{}, err
	}
	res, err := lab.Check(n.Sudo(ctx, nil, cibQueryLocal.Argv()...))
	if err != nil {
		return CIBVersion{}, err
	}
	return ParseCIB(res.Stdout)
}

// ParseCIB reads the version and the configuration section of a CIB.
func ParseCIB(data []byte) (CIBVersion, error) {
	var x struct {
		AdminEpoch    string `xml:"admin_epoch,attr"`
		Epoch         string `xml:"epoch,attr"`
		Configuration struct {
			Inner string `xml:",innerxml"`
		} `xml:"configuration"`
	}
	if err := xml.Unmarshal(data, &x); err != nil {
		return CIBVersion{}, fmt.Errorf("CIB XML: %w", err)
	}
	if x.Epoch == "" {
		return CIBVersion{}, fmt.Errorf("CIB XML: no epoch in the root element")
	}
	return CIBVersion{AdminEpoch: x.AdminEpoch, Epoch: x.Epoch, Configuration: strings.TrimSpace(x.Configuration.Inner)}, nil
}

// StartStack starts a node's stack as an admin would (the stack's
// daemons, in order), with nothing else of Heal: the resources stay
// unmanaged, the fail counts stay, and nothing left in the daemons'
// control groups is killed (the stack's heal does that after a killed
// daemon).
func (c *Cluster) StartStack(ctx context.Context, node string) error {
	return c.must(ctx, node, startStackScript, c.Stack.Daemons...)
}

var crmFailCount = lab.Remote("crm_attribute", "-l", "reboot", "-G", "-q", "-N")

// exitNoSuch is crm_attribute's exit status for an attribute that is not
// set (CRM_EX_NOSUCH).
const exitNoSuch = 105

// OpFailCount is the fail count of one operation of a resource on a node,
// as CTS's ResourceRecover reads it (crm_failcount --operation
// --interval): Pacemaker 2's transient attribute
// fail-count-RESOURCE#OP_INTERVALMS; 0 when it is not set.
func (c *Cluster) OpFailCount(ctx context.Context, node, resource, op string, intervalMS int) (int, error) {
	n, err := c.Node(ctx, node)
	if err != nil {
		return 0, err
	}
	name := fmt.Sprintf("fail-count-%s#%s_%d", resource, op, intervalMS)
	res, err := n.Sudo(ctx, nil, crmFailCount.Argv(node, "-n", name)...)
	if err != nil {
		return 0, err
	}
	if res.ExitCode == exitNoSuch {
		return 0, nil
	}
	if _, err := lab.Check(res, nil); err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(res.Stdout))
	if s == "INFINITY" {
		return infinity, nil
	}
	var v int
	if _, err := fmt.Sscanf(s, "%d", &v); err != nil {
		return 0, fmt.Errorf("%s on %s: %q is not a fail count", name, node, s)
	}
	return v, nil
}
