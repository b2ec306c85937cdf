package lab

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Fencing is lab.yaml's fencing section: whether the cluster fences a lost
// node through the lab's fence endpoint, where the endpoint listens, and how
// the two nodes avoid fencing each other at once in a partition. Which agent
// and which race guards a stack has is the provisioning's to check (see the
// ConfigCheck it passes to Load).
type Fencing struct {
	// Agent is "none" (the article's stonith-enabled=false) or "auto": the
	// fence agent of the stack, talking to the lab's fence endpoint.
	Agent string `yaml:"agent"`
	// Address is the host's address on the lab network, where the fence
	// endpoint listens; empty: the first address of the VIP's subnet (the
	// docker network's gateway, VirtualBox's host-only interface).
	Address string `yaml:"address"`
	// Port is the fence endpoint's TCP port on Address.
	Port int `yaml:"port"`
	// RaceGuard keeps both nodes of a partition from fencing each other:
	// auto (the stack's best), priority, random, static or none.
	RaceGuard string `yaml:"race_guard"`
	// Delay is the race guard's delay in seconds.
	Delay int `yaml:"delay"`
}

// The fencing.agent values.
const (
	FenceAgentNone = "none"
	FenceAgentAuto = "auto"
)

// FenceAgents are the values fencing.agent takes.
var FenceAgents = []string{FenceAgentNone, FenceAgentAuto}

// The fencing.race_guard values. What each means for a stack's Pacemaker
// (priority-fencing-delay, pcmk_delay_max, a static delay on the device that
// fences the first node) is the provisioning's.
const (
	RaceGuardAuto     = "auto"
	RaceGuardPriority = "priority"
	RaceGuardRandom   = "random"
	RaceGuardStatic   = "static"
	RaceGuardNone     = "none"
)

// RaceGuards are the values fencing.race_guard takes.
var RaceGuards = []string{RaceGuardAuto, RaceGuardPriority, RaceGuardRandom, RaceGuardStatic, RaceGuardNone}

// DefaultFencePort is the fence endpoint's default port: Docker's TLS port
// (2376) plus 10, so that a Docker engine listening on 2376 never collides
// with it. Each lab listens on its own network's address, so several labs
// share the number.
const DefaultFencePort = 2386

// MaxFenceDelay bounds fencing.delay: the delay adds to every fence of the
// protected node, and must stay well inside Pacemaker's stonith-timeout
// (60 s).
const MaxFenceDelay = 30

func fencingDefaults() Fencing {
	return Fencing{Agent: FenceAgentNone, Port: DefaultFencePort, RaceGuard: RaceGuardAuto, Delay: 5}
}

// FencingOn says whether the lab fences (fencing.agent is not none).
func (c *Config) FencingOn() bool { return c.Fencing.Agent != "" && c.Fencing.Agent != FenceAgentNone }

// FenceAddress is where the fence endpoint listens: fencing.address, or the
// first address of the VIP's subnet. Valid only after Load.
func (c *Config) FenceAddress() netip.Addr {
	if a, err := netip.ParseAddr(c.Fencing.Address); err == nil {
		return a
	}
	return c.Subnet().Addr().Next()
}

// FenceEndpoint is the fence endpoint's host:port.
func (c *Config) FenceEndpoint() string {
	return netip.AddrPortFrom(c.FenceAddress(), uint16(c.Fencing.Port)).String()
}

// MachineName is the name the provider gives a node's machine (the
// container or VM name, NAME-NODE): what a fence agent names when it powers
// the node off, as the cluster's host map says.
func (c *Config) MachineName(node string) string { return c.Name + "-" + node }

func (c *Config) validateFencing() []string {
	var p []string
	bad := func(field, format string, a ...any) {
		p = append(p, "fencing."+field+": "+fmt.Sprintf(format, a...))
	}
	f := c.Fencing
	if !slices.Contains(FenceAgents, f.Agent) {
		bad("agent", "%q: use one of %s (none: the article's stonith-enabled=false; auto: the stack's fence agent through the lab's fence endpoint)", f.Agent, strings.Join(FenceAgents, ", "))
	}
	if f.Port < 1024 || f.Port > 65535 {
		bad("port", "%d: a host port from 1024 to 65535 (the fence endpoint listens there)", f.Port)
	}
	if !slices.Contains(RaceGuards, f.RaceGuard) {
		bad("race_guard", "%q: use one of %s", f.RaceGuard, strings.Join(RaceGuards, ", "))
	}
	if f.RaceGuard != RaceGuardNone && (f.Delay < 1 || f.Delay > MaxFenceDelay) {
		bad("delay", "%d s: from 1 to %d (the race guard's delay; race_guard: none has none)", f.Delay, MaxFenceDelay)
	}
	vip, vipErr := netip.ParseAddr(c.VIP.Address)
	prefix, maskErr := ParseNetmask(c.VIP.Netmask)
	subnetOK := vipErr == nil && vip.Is4() && maskErr == nil && prefix >= 8 && prefix <= 29
	var a netip.Addr
	why := ""
	if f.Address != "" {
		var err error
		if a, err = netip.ParseAddr(f.Address); err != nil || !a.Is4() {
			bad("address", "%q: not an IPv4 address (the host's address on the lab network; leave it empty for the subnet's first address)", f.Address)
			return p
		}
	} else if c.FencingOn() && subnetOK {
		// The default must be free too: say which key to set.
		a = netip.PrefixFrom(vip, prefix).Masked().Addr().Next()
		why = " (the default, the subnet's first address: set fencing.address to the host's address on the lab network)"
	} else {
		return p
	}
	if !subnetOK {
		return p // the VIP's problems are reported; the subnet is unknown
	}
	subnet := netip.PrefixFrom(vip, prefix).Masked()
	switch {
	case !subnet.Contains(a):
		bad("address", "%s: not in the lab's subnet %s (the nodes reach the endpoint there)", a, subnet)
	case a == subnet.Addr() || a == broadcast(subnet):
		bad("address", "%s is the network or broadcast address of %s", a, subnet)
	case a == vip:
		bad("address", "%s: same address as vip.address%s", a, why)
	default:
		for i, n := range c.Nodes {
			if n.IP == a.String() {
				bad("address", "%s: same address as nodes[%d]%s; the endpoint listens on the host, not on a node", a, i, why)
			}
		}
	}
	return p
}
