package lab

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	hostnameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	nicRe      = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$`)
	userRe     = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	serviceRe  = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	// Remote paths end up in shell scripts on the nodes (the init script's
	// variables); allow only characters that need no quoting at all.
	remotePathRe = regexp.MustCompile(`^/[A-Za-z0-9._/+-]*$`)
	imageRe      = regexp.MustCompile(`^[a-z0-9]+([._/-][a-z0-9]+)*$`)
)

// validate returns one message per problem, each naming its field.
func (c *Config) validate() []string {
	var p []string
	bad := func(field, format string, a ...any) {
		p = append(p, field+": "+fmt.Sprintf(format, a...))
	}

	if !hostnameRe.MatchString(c.Name) {
		bad("name", "%q: use lowercase letters, digits and '-' (it prefixes machine names)", c.Name)
	}
	if !slices.Contains(ProviderNames(), c.Provider) {
		bad("provider", "%q: unknown provider (use one of %s)", c.Provider, strings.Join(ProviderNames(), ", "))
	}
	if k, ok := providerKindOf(c.Provider); ok && k.validate != nil {
		p = append(p, k.validate(c)...)
	}
	// What a stack name means (and which timings it needs) is the
	// provisioning's to check: see the ConfigCheck it passes to Load.
	if c.Stack == "" {
		bad("stack", "missing")
	}

	// The VIP's subnet is the lab's private network.
	vip, vipErr := netip.ParseAddr(c.VIP.Address)
	if vipErr != nil || !vip.Is4() {
		bad("vip.address", "%q: not an IPv4 address", c.VIP.Address)
	}
	prefix, maskErr := ParseNetmask(c.VIP.Netmask)
	if maskErr != nil {
		bad("vip.netmask", "%q: %v", c.VIP.Netmask, maskErr)
	} else if prefix < 8 || prefix > 29 {
		bad("vip.netmask", "%q: /%d leaves no room for two nodes and a VIP (use /8 to /29)", c.VIP.Netmask, prefix)
	}
	if !nicRe.MatchString(c.VIP.NIC) {
		bad("vip.nic", "%q: not a network interface name (e.g. eth1)", c.VIP.NIC)
	}
	var subnet netip.Prefix
	subnetOK := vipErr == nil && vip.Is4() && maskErr == nil && prefix >= 8 && prefix <= 29
	if subnetOK {
		subnet = netip.PrefixFrom(vip, prefix).Masked()
		if vip == subnet.Addr() || vip == broadcast(subnet) {
			bad("vip.address", "%s is the network or broadcast address of %s", vip, subnet)
		}
	}

	if len(c.Nodes) != 2 {
		bad("nodes", "%d nodes given: a halab lab has exactly two nodes", len(c.Nodes))
	}
	names := map[string]int{}
	ips := map[netip.Addr]int{}
	for i, n := range c.Nodes {
		f := fmt.Sprintf("nodes[%d]", i)
		switch {
		case n.Name == "":
			bad(f+".name", "missing (e.g. node%d)", i+1)
		case !hostnameRe.MatchString(n.Name):
			bad(f+".name", "%q: not usable as a hostname (lowercase letters, digits, '-', at most 63)", n.Name)
		default:
			if j, dup := names[n.Name]; dup {
				bad(f+".name", "%q: same name as nodes[%d]", n.Name, j)
			}
			names[n.Name] = i
		}
		ip, err := netip.ParseAddr(n.IP)
		if err != nil || !ip.Is4() {
			bad(f+".ip", "%q: not an IPv4 address", n.IP)
			continue
		}
		if j, dup := ips[ip]; dup {
			bad(f+".ip", "%s: same address as nodes[%d]", ip, j)
		}
		ips[ip] = i
		if subnetOK {
			switch {
			case ip == vip:
				bad(f+".ip", "%s: same address as vip.address", ip)
			case !subnet.Contains(ip):
				bad(f+".ip", "%s: not in the VIP's subnet %s (nodes and VIP share one network)", ip, subnet)
			case ip == subnet.Addr() || ip == broadcast(subnet):
				bad(f+".ip", "%s is the network or broadcast address of %s", ip, subnet)
			}
		}
	}

	vb := c.Providers.VirtualBox
	if vb.Box == "" {
		bad("providers.virtualbox.box", "missing (the article's is hashicorp/precise64)")
	}
	if vb.Memory < 256 {
		bad("providers.virtualbox.memory", "%d MB: at least 256", vb.Memory)
	}
	if vb.CPUs < 1 {
		bad("providers.virtualbox.cpus", "%d: at least 1", vb.CPUs)
	}
	if !imageRe.MatchString(c.Providers.Docker.Image) {
		bad("providers.docker.image", "%q: not a docker image name without tag (e.g. halab/node)", c.Providers.Docker.Image)
	}
	if p := c.Providers.Docker.SSHPort; p < 1024 || p+len(c.Nodes) > 65536 {
		bad("providers.docker.ssh_port", "%d: a host port from 1024 to %d (node i uses ssh_port+i)", p, 65536-len(c.Nodes))
	}

	t := c.Timings
	positive := func(field string, v int) bool {
		if v <= 0 {
			bad(field, "%d: must be greater than zero", v)
			return false
		}
		return true
	}
	if !slices.Contains(TimingProfiles, t.Profile) {
		bad("timings.profile", "%q: use one of %s", t.Profile, strings.Join(TimingProfiles, ", "))
	}
	if t.DCDeadtime < 0 {
		bad("timings.dc_deadtime", "%d: must be zero (Pacemaker's default) or more", t.DCDeadtime)
	}
	positive("timings.keepalive", t.Keepalive)
	positive("timings.warntime", t.Warntime)
	positive("timings.deadtime", t.Deadtime)
	positive("timings.initdead", t.Initdead)
	positive("timings.token_ms", t.TokenMS)
	positive("timings.consensus_ms", t.ConsensusMS)

	s := c.Service
	if !serviceRe.MatchString(s.Name) {
		bad("service.name", "%q: lowercase letters, digits, '-' or '_' (it names /etc/init.d/<name> and lsb:<name>)", s.Name)
	}
	if !userRe.MatchString(s.User) {
		bad("service.user", "%q: not a valid user name", s.User)
	}
	if s.Port < 1 || s.Port > 65535 {
		bad("service.port", "%d: not a TCP port (1-65535)", s.Port)
	}
	homes := []struct{ field, v string }{{"service.java_home", s.JavaHome}, {"service.product_home", s.ProductHome}}
	homesOK := true
	for _, f := range homes {
		if !remotePathRe.MatchString(f.v) || path.Clean(f.v) != f.v || f.v == "/" {
			bad(f.field, "%q: must be an absolute path below / made of letters, digits and ._/+- (it is written into the init script)", f.v)
			homesOK = false
		} else if why := nodeHomeProblem(f.v); why != "" {
			bad(f.field, "%q: %s; halab replaces java_home with a symlink and gives product_home to the service user: use a directory of its own under %s (e.g. /opt/jdk, /opt/stratos)", f.v, why, nodeHomeRootList)
			homesOK = false
		}
	}
	if homesOK {
		j, pr := s.JavaHome, s.ProductHome
		switch {
		case j == pr:
			bad("service.product_home", "%q: same as service.java_home: give the product a directory of its own (e.g. /opt/stratos)", pr)
		case strings.HasPrefix(pr, j+"/"):
			bad("service.product_home", "%q: inside service.java_home %q, which a new JDK replaces: give the product a directory of its own (e.g. /opt/stratos)", pr, j)
		case strings.HasPrefix(j, pr+"/"):
			bad("service.java_home", "%q: inside service.product_home %q: give the JDK a directory of its own (e.g. /opt/jdk)", j, pr)
		}
	}
	if s.JDKArchive == "" {
		bad("service.jdk_archive", "missing: run `make jdk` or name the JDK tarball to push")
	}
	positive("service.start_timeout", s.StartTimeout)
	positive("service.stop_timeout", s.StopTimeout)

	p = append(p, c.validateFencing()...)
	return p
}

// nodeHomeRoots are the directories java_home and product_home may live
// under, below their own top directory: the node's software (dpkg's
// /usr, /bin, /lib, /etc, /var and the rest) lives elsewhere.
var nodeHomeRoots = []string{"/opt", "/srv", "/usr/local", "/home"}

const nodeHomeRootList = "/opt, /srv, /usr/local or /home/<user>"

// nodeHomeReserved are the directories right below a root that belong to
// the system or to halab, and what they are: /usr/local's FHS directories
// (on PATH, read by ldconfig and update-ca-certificates) and the store of
// halab's unpacked archives.
var nodeHomeReserved = map[string]string{
	"/opt/.halab":        "halab's store of unpacked archives",
	"/usr/local/bin":     "a system directory",
	"/usr/local/etc":     "a system directory",
	"/usr/local/games":   "a system directory",
	"/usr/local/include": "a system directory",
	"/usr/local/lib":     "a system directory",
	"/usr/local/lib64":   "a system directory",
	"/usr/local/libexec": "a system directory",
	"/usr/local/man":     "a system directory",
	"/usr/local/sbin":    "a system directory",
	"/usr/local/share":   "a system directory",
	"/usr/local/src":     "a system directory",
}

// fhsTop are the system's top directories (Debian 12's and precise's).
var fhsTop = map[string]bool{
	"bin": true, "boot": true, "dev": true, "etc": true, "lib": true, "lib32": true,
	"lib64": true, "libx32": true, "media": true, "mnt": true, "proc": true, "root": true,
	"run": true, "sbin": true, "sys": true, "tmp": true, "usr": true, "var": true,
}

// nodeHomeProblem says why p (a clean absolute path) cannot be a java_home
// or product_home on the nodes, or "" when it can: it must lie below one
// of nodeHomeRoots, neither be nor lie inside one of the system's or
// halab's directories there, and under /home be inside a user's home but
// not the home itself nor one of its dot directories (~/.ssh).
func nodeHomeProblem(p string) string {
	for _, root := range nodeHomeRoots {
		if p == root || strings.HasPrefix(root, p+"/") {
			return "a system directory"
		}
		rest, ok := strings.CutPrefix(p, root+"/")
		if !ok {
			continue
		}
		parts := strings.Split(rest, "/")
		top := root + "/" + parts[0]
		if what, ok := nodeHomeReserved[top]; ok {
			if len(parts) == 1 {
				return what
			}
			return "inside " + top + ", " + what
		}
		if root == "/home" {
			switch {
			case len(parts) == 1:
				return "a user's home directory"
			case strings.HasPrefix(parts[1], ".") && len(parts) == 2:
				return "a user's own configuration directory"
			case strings.HasPrefix(parts[1], "."):
				return "inside " + top + "/" + parts[1] + ", a user's own configuration directory"
			}
		}
		return ""
	}
	top, _, _ := strings.Cut(p[1:], "/")
	switch {
	case !fhsTop[top]:
		return "not under " + nodeHomeRootList
	case top == p[1:]:
		return "a system directory"
	}
	return "inside /" + top + ", a system directory"
}

// ParseNetmask accepts a dotted netmask ("255.255.255.0") or a prefix
// length ("24" or "/24") and returns the prefix length.
func ParseNetmask(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("missing (e.g. 255.255.255.0)")
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(s, "/")); err == nil {
		if n < 0 || n > 32 {
			return 0, fmt.Errorf("prefix length must be 0-32")
		}
		return n, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, fmt.Errorf("not a netmask (use 255.255.255.0 or 24)")
	}
	b := a.As4()
	m := binary.BigEndian.Uint32(b[:])
	ones := 0
	for m&(1<<31) != 0 {
		ones++
		m <<= 1
	}
	if m != 0 {
		return 0, fmt.Errorf("not a contiguous netmask")
	}
	return ones, nil
}

func broadcast(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	v := binary.BigEndian.Uint32(b[:]) | (1<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// Prefix is the VIP's prefix length; valid only after Load.
func (c *Config) Prefix() int {
	n, _ := ParseNetmask(c.VIP.Netmask)
	return n
}

// DottedNetmask is the VIP's netmask in dotted form.
func (c *Config) DottedNetmask() string {
	n := c.Prefix()
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], ^uint32(0)<<(32-n))
	return netip.AddrFrom4(b).String()
}

// Node returns the named node's spec.
func (c *Config) Node(name string) (NodeSpec, bool) {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return NodeSpec{}, false
}

// NodeNames lists the nodes in lab.yaml order.
func (c *Config) NodeNames() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Name
	}
	return out
}

// Subnet is the lab's private network (the VIP's subnet).
func (c *Config) Subnet() netip.Prefix {
	a, _ := netip.ParseAddr(c.VIP.Address)
	return netip.PrefixFrom(a, c.Prefix()).Masked()
}
