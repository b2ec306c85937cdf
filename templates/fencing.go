package templates

import (
	"fmt"
	"strconv"
	"strings"
)

// FenceAgent is how the crm configuration fences a node: the stonith agent
// its devices run, which decides how a device's parameters are written.
type FenceAgent string

const (
	// FenceDocker is fence-agents' fence_docker (Debian 12 ships it in
	// fence-agents 4.12), pointed at the lab's fence endpoint.
	FenceDocker FenceAgent = "fence_docker"
	// FencePlugin is halab's cluster-glue external plugin, for nodes whose
	// fence-agents has no fence_docker (Ubuntu 12.04: 3.1.5).
	FencePlugin FenceAgent = "external/halab-fence"
)

// The race guards: how a partitioned two-node cluster avoids both nodes
// fencing each other at once.
const (
	// GuardPriority: Pacemaker delays the fencing of the node that runs
	// the resource group (priority-fencing-delay, Pacemaker 2.0.4 and
	// later), so the node serving the VIP wins the race.
	GuardPriority = "priority"
	// GuardRandom: each device waits a random delay up to the bound
	// (pcmk_delay_max, Pacemaker 1.1.13 and later).
	GuardRandom = "random"
	// GuardStatic: the device that fences the first node waits (the first
	// node always wins): pcmk_delay_base (Pacemaker 1.1.17, 2.0), or the
	// plugin's own delay where Pacemaker has neither.
	GuardStatic = "static"
	// GuardNone: no guard; both nodes may fence each other.
	GuardNone = "none"
)

// On the nodes: what a fence device's agent reads to reach the endpoint.
const (
	FenceDir        = "/etc/halab/fence"
	FenceCAFile     = "ca.crt"
	FenceCertFile   = "client.crt"
	FenceKeyFile    = "client.key"
	FencePluginPath = "/usr/lib/stonith/plugins/external/halab-fence"
)

// Time budget of a fence_docker run: each request may take shell_timeout
// (fence_docker's default, 3 s, is short for a VirtualBox power-off), and
// after a power action the agent polls the state for up to power_timeout.
// A reboot (delay, off, on) stays inside Pacemaker's stonith-timeout
// (60 s); the power-on of a reboot may time out without failing the fence.
const (
	fenceShellTimeout = 10
	fencePowerTimeout = 30
)

// FenceTarget is a node and the machine that is it, as the provider names
// it (what the fence endpoint powers).
type FenceTarget struct {
	Node, Machine string
}

// Fencing is the crm configuration's fencing. Params.Fencing nil is the
// article's stonith-enabled=false.
type Fencing struct {
	Agent FenceAgent
	// Address and Port are the fence endpoint's, on the lab network.
	Address string
	Port    int
	// APIVersion is the Docker Engine API version the endpoint speaks
	// (fence_docker's default, 1.11, is refused).
	APIVersion string
	// Dir holds ca.crt, client.crt and client.key on the nodes ("":
	// FenceDir).
	Dir string
	// Targets are the nodes and their machines in lab order; GuardStatic
	// protects the first.
	Targets []FenceTarget
	Guard   string
	// Delay is the guard's delay in seconds.
	Delay int
}

// Param is one name=value of a crm object.
type Param struct {
	Name, Value string
}

// FenceDevice is one fence resource: it fences Target and may never run
// there (LocationID bans it from Target).
type FenceDevice struct {
	ID         string
	Class      string
	Type       string
	Target     string
	Machine    string
	Params     []Param
	LocationID string
}

func (f *Fencing) dir() string {
	if f.Dir == "" {
		return FenceDir
	}
	return f.Dir
}

// CAFile, CertFile and KeyFile are the TLS files' paths on the nodes.
func (f *Fencing) CAFile() string   { return f.dir() + "/" + FenceCAFile }
func (f *Fencing) CertFile() string { return f.dir() + "/" + FenceCertFile }
func (f *Fencing) KeyFile() string  { return f.dir() + "/" + FenceKeyFile }

// check refuses what the agent cannot express and values crmsh would have
// to quote.
func (f *Fencing) check() error {
	var missing []string
	for _, fl := range []field{
		{"Fencing.Agent", f.Agent != ""}, {"Fencing.Address", f.Address != ""}, {"Fencing.Port", f.Port > 0},
		{"Fencing.Targets", len(f.Targets) > 0}, {"Fencing.Guard", f.Guard != ""},
		{"Fencing.APIVersion", f.APIVersion != "" || f.Agent != FenceDocker},
	} {
		if !fl.set {
			missing = append(missing, fl.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	switch f.Agent {
	case FenceDocker:
	case FencePlugin:
		if f.Guard == GuardPriority || f.Guard == GuardRandom {
			return fmt.Errorf("fence agent %s: race guard %s needs a Pacemaker the plugin's stack does not have (use %s or %s)", f.Agent, f.Guard, GuardStatic, GuardNone)
		}
	default:
		return fmt.Errorf("unknown fence agent %q", f.Agent)
	}
	switch f.Guard {
	case GuardPriority, GuardRandom, GuardStatic:
		if f.Delay <= 0 {
			return fmt.Errorf("race guard %s needs a delay", f.Guard)
		}
	case GuardNone:
	default:
		return fmt.Errorf("unknown race guard %q", f.Guard)
	}
	for _, d := range f.devices() {
		for _, p := range d.Params {
			if p.Value == "" || strings.ContainsAny(p.Value, " \t\r\n\"'\\") {
				return fmt.Errorf("device %s: %s=%q: empty or needs quoting", d.ID, p.Name, p.Value)
			}
		}
	}
	return nil
}

// Devices are the fence resources: one per node, each fencing its node
// and banned from it, so that a node never runs the device that fences
// itself.
func (f *Fencing) Devices() ([]FenceDevice, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	return f.devices(), nil
}

func (f *Fencing) devices() []FenceDevice {
	var out []FenceDevice
	for i, t := range f.Targets {
		d := FenceDevice{ID: FenceResource(t.Node), Class: "stonith", Target: t.Node, Machine: t.Machine, LocationID: FenceLocation(t.Node)}
		delayed := f.Guard == GuardStatic && i == 0
		switch f.Agent {
		case FenceDocker:
			d.Type = string(FenceDocker)
			d.Params = []Param{
				{"ip", f.Address}, {"ipport", strconv.Itoa(f.Port)}, {"ssl_secure", "1"},
				{"tlscacert", f.CAFile()}, {"tlscert", f.CertFile()}, {"tlskey", f.KeyFile()},
				{"api_version", f.APIVersion},
				{"shell_timeout", strconv.Itoa(fenceShellTimeout)}, {"power_timeout", strconv.Itoa(fencePowerTimeout)},
				{"pcmk_host_list", t.Node}, {"pcmk_host_map", t.Node + ":" + t.Machine},
			}
			switch {
			case f.Guard == GuardRandom:
				d.Params = append(d.Params, Param{"pcmk_delay_max", fmt.Sprintf("%ds", f.Delay)})
			case delayed:
				d.Params = append(d.Params, Param{"pcmk_delay_base", fmt.Sprintf("%ds", f.Delay)})
			}
		case FencePlugin:
			d.Type = string(FencePlugin)
			// Names of the plugin's own: Pacemaker 1.1's fence_legacy
			// passes the target as "port" to cluster-glue agents.
			d.Params = []Param{
				{"hostlist", t.Node}, {"machine", t.Machine},
				{"endpoint_ip", f.Address}, {"endpoint_port", strconv.Itoa(f.Port)},
				{"tls_cacert", f.CAFile()}, {"tls_cert", f.CertFile()}, {"tls_key", f.KeyFile()},
			}
			if delayed {
				d.Params = append(d.Params, Param{"race_delay", strconv.Itoa(f.Delay)})
			}
		}
		out = append(out, d)
	}
	return out
}

// Properties are the cluster properties fencing sets besides
// stonith-enabled=true.
func (f *Fencing) Properties() []Param {
	if f.Guard == GuardPriority {
		return []Param{{"priority-fencing-delay", fmt.Sprintf("%ds", f.Delay)}}
	}
	return nil
}

// GroupMeta are the resource group's meta attributes fencing sets: its
// priority, which priority-fencing-delay weighs.
func (f *Fencing) GroupMeta() []Param {
	if f.Guard == GuardPriority {
		return []Param{{"priority", strconv.Itoa(GroupPriority)}}
	}
	return nil
}
