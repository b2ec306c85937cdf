package lab

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

const sshNodesName = "ssh"

// SSHSpec is how halab reaches a machine it did not make (provider: ssh).
type SSHSpec struct {
	// Host is the name or address halab connects to; it may differ from
	// the node's ip on the cluster network.
	Host string `yaml:"host"`
	// Port is sshd's port (0: 22).
	Port int    `yaml:"port,omitempty"`
	User string `yaml:"user"`
	// Key is a private key file the node accepts for User, relative to
	// the lab file's directory or starting with ~/.
	Key string `yaml:"key"`
	// HostKey is the node's public host key as in known_hosts or a *.pub
	// file ("ssh-ed25519 AAAA..."); without it `halab up` shows the key
	// the node presents and pins it only with --accept-host-keys.
	HostKey string `yaml:"host_key,omitempty"`
}

// What up runs on a machine it did not make (registered for the scan of
// what runs on the nodes' oldest OS).
var (
	sudoTrueCmd = Remote("sudo", "-n", "true")
	unameCmd    = Remote("uname", "-n")
	idUserCmd   = Remote("id", "-u", "--")
	allAddrsCmd = Remote("ip", "-4", "-o", "addr", "show")
)

func (s SSHSpec) port() int {
	if s.Port == 0 {
		return 22
	}
	return s.Port
}

func (s SSHSpec) addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.port())) }

// PowerSpec cuts and restores a machine's power: argument lists run on
// this machine without a shell (ipmitool, virsh, a cloud CLI, docker).
type PowerSpec struct {
	Off []string `yaml:"off,omitempty"`
	On  []string `yaml:"on,omitempty"`
	// Status prints the power state; halab reads its last word (on,
	// running, true, up, active / off, stopped, false, down, ...).
	Status []string `yaml:"status,omitempty"`
}

func (p PowerSpec) set() bool { return len(p.Off)+len(p.On)+len(p.Status) > 0 }

// sshKeyPath resolves ssh.key: ~/ is the user's home, a relative path is
// relative to the lab file.
func sshKeyPath(c *Config, key string) string {
	if rest, ok := strings.CutPrefix(key, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return c.Resolve(key)
}

// validateSSHNodes checks what provider ssh reads: each node's ssh and
// power, one message per problem naming its field.
func validateSSHNodes(c *Config) []string {
	var p []string
	bad := func(field, format string, a ...any) {
		p = append(p, field+": "+fmt.Sprintf(format, a...))
	}
	addrs := map[string]int{}
	withPower, withoutPower := -1, -1
	for i, n := range c.Nodes {
		f := fmt.Sprintf("nodes[%d].ssh", i)
		s := n.SSH
		if s == (SSHSpec{}) {
			bad(f, "missing: provider ssh reaches each node over SSH (give host, user, key and host_key; port defaults to 22)")
		} else {
			switch {
			case s.Host == "":
				bad(f+".host", "missing: the name or address halab reaches %s at over SSH", n.Name)
			case strings.HasPrefix(s.Host, "-") || strings.ContainsAny(s.Host, " \t\n/@[]"):
				bad(f+".host", "%q: not a host name or address", s.Host)
			default:
				if j, dup := addrs[s.addr()]; dup {
					bad(f, "%s: the same machine as nodes[%d]", s.addr(), j)
				}
				addrs[s.addr()] = i
			}
			if s.Port < 0 || s.Port > 65535 {
				bad(f+".port", "%d: not a TCP port (1-65535; default 22)", s.Port)
			}
			switch {
			case s.User == "":
				bad(f+".user", "missing: the user halab logs in as (it needs passwordless sudo)")
			case !userRe.MatchString(s.User):
				bad(f+".user", "%q: not a valid user name", s.User)
			}
			if s.Key == "" {
				bad(f+".key", "missing: a private key file the node accepts for its user")
			} else if msg := checkKeyFile(sshKeyPath(c, s.Key)); msg != "" {
				bad(f+".key", "%s", msg)
			}
			if s.HostKey != "" {
				if _, err := ParseHostKey(s.HostKey); err != nil {
					bad(f+".host_key", "%v", err)
				}
			}
		}
		pw := n.Power
		if !pw.set() {
			withoutPower = i
			continue
		}
		withPower = i
		for _, a := range []struct {
			name string
			argv []string
		}{{"off", pw.Off}, {"on", pw.On}, {"status", pw.Status}} {
			field := fmt.Sprintf("nodes[%d].power.%s", i, a.name)
			if len(a.argv) == 0 {
				bad(field, "missing: off, on and status go together (the scenarios cut the power, watch it and restore it)")
				continue
			}
			for j, arg := range a.argv {
				if strings.TrimSpace(arg) == "" {
					bad(fmt.Sprintf("%s[%d]", field, j), "empty argument")
				}
			}
			if len(a.argv) == 1 && strings.ContainsAny(a.argv[0], " \t") {
				bad(field, "%q: one string with spaces: give the command as a list of arguments, e.g. [%s]; it runs without a shell",
					a.argv[0], strings.Join(strings.Fields(a.argv[0]), ", "))
			}
		}
	}
	if withPower >= 0 && withoutPower >= 0 {
		bad(fmt.Sprintf("nodes[%d].power", withoutPower), "missing, but nodes[%d] has power commands: give every node power commands, or none (then the power-off scenarios are skipped)", withPower)
	}
	return p
}

// checkKeyFile says what is wrong with a private key file for halab's
// SSH client, "" when nothing is.
func checkKeyFile(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Sprintf("%s: %v", path, unwrapPathErr(err))
	}
	if !st.Mode().IsRegular() {
		return fmt.Sprintf("%s: not a file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Sprintf("%s: mode %04o lets other users read a private key (OpenSSH refuses such a key too): chmod 600 %s", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("%s: %v (it must be readable by you)", path, unwrapPathErr(err))
	}
	if _, err := ssh.ParsePrivateKey(data); err != nil {
		var pm *ssh.PassphraseMissingError
		if errors.As(err, &pm) {
			return fmt.Sprintf("%s: encrypted with a passphrase, which halab cannot ask for: make a key without one (ssh-keygen -t ed25519 -N '' -f FILE) and authorize it on the nodes", path)
		}
		return fmt.Sprintf("%s: not a private key: %v", path, err)
	}
	return ""
}

// sshNodes is the provider of machines halab did not make: VMs in a cloud
// or on a hypervisor, bare metal, containers someone else started. halab
// reaches them over SSH with the key and host key the lab file gives,
// powers them off and on only through the lab file's power commands, and
// never creates, destroys or resets them.
type sshNodes struct {
	l *Lab
}

var (
	_ ExistingMachines = (*sshNodes)(nil)
	_ PowerSwitch      = (*sshNodes)(nil)
)

func newSSHNodes(l *Lab) (Provider, error) { return &sshNodes{l: l}, nil }

func (p *sshNodes) Name() string { return sshNodesName }

// node finds a node's index and spec.
func (p *sshNodes) node(name string) (int, NodeSpec, error) {
	for i, n := range p.l.Cfg.Nodes {
		if n.Name == name {
			return i, n, nil
		}
	}
	return 0, NodeSpec{}, fmt.Errorf("node %q: not in %s (known: %s)", name, p.l.Cfg.Path, strings.Join(p.l.Cfg.NodeNames(), ", "))
}

// Runnable finds the power commands' programs on this machine.
func (p *sshNodes) Runnable() error {
	var problems []string
	for i, n := range p.l.Cfg.Nodes {
		for _, a := range []struct {
			name string
			argv []string
		}{{"off", n.Power.Off}, {"on", n.Power.On}, {"status", n.Power.Status}} {
			if len(a.argv) == 0 {
				continue
			}
			if _, err := exec.LookPath(a.argv[0]); err != nil {
				problems = append(problems, fmt.Sprintf("nodes[%d].power.%s: %s: not found on this machine (install it, or give its full path)", i, a.name, a.argv[0]))
			}
		}
	}
	if len(problems) > 0 {
		return &ConfigError{File: p.l.Cfg.Path, Problems: problems}
	}
	return nil
}

// Prepare has nothing to make: the machines exist.
func (p *sshNodes) Prepare(context.Context, io.Writer) error { return nil }

// CheckFree refuses a lab whose machines are nodes of another lab of this
// checkout that is up: the two would provision one machine.
func (p *sshNodes) CheckFree(ctx context.Context) error {
	mine := map[string]int{}
	for i, n := range p.l.Cfg.Nodes {
		mine[n.SSH.addr()] = i
	}
	ids, _ := filepath.Glob(filepath.Join(p.l.Root, ".halab", "*", "identity.json"))
	var problems []string
	for _, f := range ids {
		id, ok, err := ReadIdentity(filepath.Dir(f))
		if err != nil || !ok || id.Config == p.l.ConfigPath {
			continue
		}
		other, err := Load(id.Config)
		if err != nil || other.Provider != sshNodesName {
			continue
		}
		for _, o := range other.Nodes {
			if i, taken := mine[o.SSH.addr()]; taken {
				problems = append(problems, fmt.Sprintf("nodes[%d].ssh: %s is node %s of the lab of %s, which is up: two labs would provision one machine (`halab -c %s down` forgets that lab)",
					i, o.SSH.addr(), o.Name, id.Config, id.Config))
			}
		}
	}
	if len(problems) > 0 {
		return &ConfigError{File: p.l.Cfg.Path, Problems: problems}
	}
	return nil
}

// MachineID names the machine by its SSH address: another address is
// another machine, whose host key is pinned afresh.
func (p *sshNodes) MachineID(node string) string {
	_, n, err := p.node(node)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(n.SSH.addr()))
	return hex.EncodeToString(sum[:])[:12]
}

// Machines says which machine each node is.
func (p *sshNodes) Machines() []string {
	var out []string
	for _, n := range p.l.Cfg.Nodes {
		out = append(out, fmt.Sprintf("%s (%s@%s)", n.Name, n.SSH.User, n.SSH.addr()))
	}
	return out
}

// hostKey is the key a node must present and where it comes from: the
// lab file, else a pin `halab up --accept-host-keys` wrote; nil when
// neither has one.
func (p *sshNodes) hostKey(i int, n NodeSpec) (key, from string, err error) {
	if n.SSH.HostKey != "" {
		return n.SSH.HostKey, fmt.Sprintf("%s (nodes[%d].ssh.host_key)", p.l.Cfg.Path, i), nil
	}
	k, ok, err := p.l.Keys.Lookup(p.l.HostKeyAlias(n.Name))
	if err != nil || !ok {
		return "", "", err
	}
	return AuthorizedLine(k), p.l.Keys.File + " (pinned by `halab up --accept-host-keys`)", nil
}

// Endpoints are the lab file's, each with the host key the node must
// present. A node without one is refused here, before any connection:
// halab never trusts a machine it did not make on first use.
func (p *sshNodes) Endpoints(ctx context.Context, nodes []string) ([]SSHEndpoint, error) {
	var eps []SSHEndpoint
	var problems []string
	for _, name := range nodes {
		i, n, err := p.node(name)
		if err != nil {
			return nil, err
		}
		key, from, err := p.hostKey(i, n)
		if err != nil {
			return nil, err
		}
		if key == "" {
			problems = append(problems, fmt.Sprintf("nodes[%d].ssh.host_key: missing, and no key is pinned for %s: `halab up` shows the key it presents, `halab up --accept-host-keys` pins it", i, name))
			continue
		}
		eps = append(eps, SSHEndpoint{
			Node: name, Host: n.SSH.Host, Port: n.SSH.port(), User: n.SSH.User,
			IdentityFile: sshKeyPath(p.l.Cfg, n.SSH.Key), HostKey: key, HostKeyFrom: from,
		})
	}
	if len(problems) > 0 {
		return nil, &ConfigError{File: p.l.Cfg.Path, Problems: problems}
	}
	return eps, nil
}

// offeredFile keeps the keys `halab up` showed, so that --accept-host-keys
// pins those and not others presented in between.
func (p *sshNodes) offeredFile() string { return filepath.Join(p.l.State, "host-keys-shown") }

// hostKeyFile is the file in /etc/ssh a key of this type is read from.
func hostKeyFile(key ssh.PublicKey) string {
	t := strings.TrimPrefix(key.Type(), "ssh-")
	switch {
	case strings.HasPrefix(t, "ecdsa"):
		t = "ecdsa"
	case strings.HasPrefix(t, "rsa"):
		t = "rsa"
	}
	return "/etc/ssh/ssh_host_" + t + "_key.pub"
}

// checkHostKeys makes sure every node has a host key to be checked
// against: given, pinned, or (with AcceptHostKeys) pinned now. It returns
// a problem per node that has none, with the key the node presents.
func (p *sshNodes) checkHostKeys(ctx context.Context, names []string) []string {
	type scan struct {
		i       int
		n       NodeSpec
		key     ssh.PublicKey
		problem string
	}
	scans := make([]scan, len(names))
	var wg sync.WaitGroup
	for j, name := range names {
		i, n, _ := p.node(name)
		scans[j] = scan{i: i, n: n}
		if k, _, err := p.hostKey(i, n); err != nil {
			scans[j].problem = fmt.Sprintf("nodes[%d].ssh.host_key: %v", i, err)
			continue
		} else if k != "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			key, err := ScanHostKey(ctx, n.SSH.Host, n.SSH.port(), p.l.DialTimeout)
			if err != nil {
				scans[j].problem = fmt.Sprintf("nodes[%d].ssh: cannot read the host key of %s at %s: %v (is the machine up, and sshd listening there?)", i, n.Name, n.SSH.addr(), err)
				return
			}
			scans[j].key = key
		}()
	}
	wg.Wait()
	var problems []string
	shown := false
	for _, s := range scans {
		if s.problem != "" {
			problems = append(problems, s.problem)
		}
		if s.key == nil {
			continue
		}
		alias := p.l.HostKeyAlias(s.n.Name)
		field := fmt.Sprintf("nodes[%d].ssh.host_key", s.i)
		if !shown {
			fmt.Fprintf(p.l.Out, "==> host keys the nodes present (%s):\n", map[bool]string{true: "accepted on your word", false: "not trusted"}[p.l.AcceptHostKeys])
			shown = true
		}
		fmt.Fprintf(p.l.Out, "    %s  %s  %s\n", s.n.Name, s.n.SSH.addr(), Fingerprint(s.key))
		before, wasShown, err := lookupKnownHost(p.offeredFile(), alias)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", field, err))
			continue
		}
		if !p.l.AcceptHostKeys {
			if err := EnsureStateDir(p.l.State); err == nil {
				err = replaceKnownHost(p.offeredFile(), alias, s.key)
			}
			problems = append(problems, fmt.Sprintf("%s: missing, and no key is pinned for %s, which presents %s at %s. "+
				"Compare that with `ssh-keygen -lf %s` run on the machine itself (its console, not over this network), "+
				"then pin it with `halab up --accept-host-keys`, or put it in the lab file as host_key: %s",
				field, s.n.Name, Fingerprint(s.key), s.n.SSH.addr(), hostKeyFile(s.key), AuthorizedLine(s.key)))
			continue
		}
		if wasShown && !bytes.Equal(before.Marshal(), s.key.Marshal()) {
			problems = append(problems, fmt.Sprintf("%s: %s now presents %s, but `halab up` showed %s: nothing pinned; check the key on the machine's console before you accept one",
				field, s.n.Name, Fingerprint(s.key), Fingerprint(before)))
			continue
		}
		if err := p.l.Keys.Pin(alias, s.key); err != nil {
			problems = append(problems, fmt.Sprintf("%s: pinning: %v", field, err))
			continue
		}
		fmt.Fprintf(p.l.Out, "==> %s: pinned %s in %s (until `halab down`); to keep it for good, put it in the lab file:\n        host_key: %s\n",
			s.n.Name, Fingerprint(s.key), p.l.Keys.File, AuthorizedLine(s.key))
	}
	return problems
}

// nodeProblems is what `up` found on one node.
type nodeProblems struct {
	problems []string
	sudo     bool     // passwordless sudo works
	vip      []string // interfaces holding the VIP
	node     *Node
}

// checkNode checks one node: SSH with its key and host key, passwordless
// sudo, its hostname, the service user, its cluster address on vip.nic,
// whether it holds the VIP, and the NodeChecks of the packages that know
// the stacks. It changes nothing.
func (p *sshNodes) checkNode(ctx context.Context, i int, n NodeSpec) nodeProblems {
	cfg := p.l.Cfg
	var r nodeProblems
	bad := func(field, format string, a ...any) {
		r.problems = append(r.problems, field+": "+fmt.Sprintf(format, a...))
	}
	nodes, err := p.l.Connect(ctx, n.Name)
	if err != nil {
		var hm *HostKeyMismatchError
		var ce *ConfigError
		switch {
		case errors.As(err, &hm):
			bad(fmt.Sprintf("nodes[%d].ssh.host_key", i), "%v", hm)
		case errors.As(err, &ce):
			r.problems = append(r.problems, ce.Problems...)
		case strings.Contains(err.Error(), "unable to authenticate"):
			key := sshKeyPath(cfg, n.SSH.Key)
			bad(fmt.Sprintf("nodes[%d].ssh.key", i), "%s (%s) refused the key %s for %s: put its public key (ssh-keygen -y -f %s) in ~%s/.ssh/authorized_keys on the machine",
				n.Name, n.SSH.addr(), key, n.SSH.User, key, n.SSH.User)
		default:
			bad(fmt.Sprintf("nodes[%d].ssh", i), "%v", err)
		}
		return r
	}
	node := nodes[0]
	r.node = node
	res, err := node.Run(ctx, nil, sudoTrueCmd.Argv()...)
	switch {
	case err != nil:
		bad(fmt.Sprintf("nodes[%d].ssh", i), "%v", err)
		return r
	case !res.OK():
		u := n.SSH.User
		said := strings.TrimSpace(string(res.Stderr))
		if said == "" {
			said = fmt.Sprintf("exit status %d", res.ExitCode)
		}
		bad(fmt.Sprintf("nodes[%d].ssh.user", i), "%s has no passwordless sudo on %s (`sudo -n true` said: %s); halab makes every change on a node as root through `sudo -n`. "+
			"Fix it as root on the machine: echo '%s ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/halab-%s && chmod 0440 /etc/sudoers.d/halab-%s",
			u, n.Name, strings.SplitN(said, "\n", 2)[0], u, u, u)
	default:
		r.sudo = true
	}
	// heartbeat and corosync know a node by its hostname (uname -n).
	if res, err := node.Run(ctx, nil, unameCmd.Argv()...); err != nil || !res.OK() {
		bad(fmt.Sprintf("nodes[%d]", i), "cannot read %s's hostname with `uname -n`: %v", n.Name, errors.Join(err, res.Err()))
	} else if h := strings.TrimSpace(string(res.Stdout)); h != n.Name {
		bad(fmt.Sprintf("nodes[%d].name", i), "%q is not the hostname of the machine at %s, which is %q (uname -n): heartbeat and corosync know a node by its hostname; name the node after it, or rename the machine (hostnamectl set-hostname %s)",
			n.Name, n.SSH.addr(), h, n.Name)
	}
	// The service runs as service.user, which provisioning does not create.
	if res, err := node.Run(ctx, nil, idUserCmd.Argv(cfg.Service.User)...); err == nil && !res.OK() {
		bad("service.user", "%s has no user %s to run the service as: create it on the machine (useradd -m %s), or set service.user to an existing user", n.Name, cfg.Service.User, cfg.Service.User)
	}
	all, err := node.Run(ctx, nil, allAddrsCmd.Argv()...)
	if err != nil || !all.OK() {
		bad(fmt.Sprintf("nodes[%d]", i), "cannot list %s's addresses with `ip -4 -o addr show` (is iproute2 installed?): %v", n.Name, errors.Join(err, all.Err()))
	} else {
		addrs := parseIfaceAddrs(string(all.Stdout))
		var onNIC, elsewhere []string
		nicExists := false
		var list []string
		for _, a := range addrs {
			list = append(list, a.nic+" "+a.addr)
			if a.nic == cfg.VIP.NIC {
				nicExists = true
				onNIC = append(onNIC, a.addr)
			}
			if a.addr == n.IP && a.nic != cfg.VIP.NIC {
				elsewhere = append(elsewhere, a.nic)
			}
			if a.addr == cfg.VIP.Address {
				r.vip = append(r.vip, a.nic)
			}
		}
		switch {
		case contains(onNIC, n.IP):
		case len(elsewhere) > 0:
			bad("vip.nic", "%s has its cluster address %s on %s, not on %s: set vip.nic: %s (the same interface name on every node)", n.Name, n.IP, elsewhere[0], cfg.VIP.NIC, elsewhere[0])
		case !nicExists:
			bad("vip.nic", "%s has no IPv4 address on %s (its addresses: %s): set vip.nic to its interface on the cluster network", n.Name, cfg.VIP.NIC, strings.Join(list, ", "))
		default:
			bad(fmt.Sprintf("nodes[%d].ip", i), "%s is not on %s's %s (it has %s there): set nodes[%d].ip to its address on the cluster network", n.IP, n.Name, cfg.VIP.NIC, strings.Join(onNIC, ", "), i)
		}
	}
	for _, check := range p.l.NodeChecks {
		r.problems = append(r.problems, check(ctx, cfg, node)...)
	}
	return r
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type ifaceAddr struct{ nic, addr string }

// parseIfaceAddrs reads `ip -4 -o addr show`: "2: eth1    inet 10.0.0.5/24 ...".
func parseIfaceAddrs(out string) []ifaceAddr {
	var r []ifaceAddr
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		nic, _, _ := strings.Cut(f[1], "@")
		for j := 2; j+1 < len(f); j++ {
			if f[j] == "inet" {
				if a, _, ok := strings.Cut(f[j+1], "/"); ok {
					r = append(r, ifaceAddr{nic: nic, addr: a})
				}
			}
		}
	}
	return r
}

//go:embed scripts/ping-vip.sh
var pingScript string

// Up checks the existing machines and changes nothing on them: the host
// keys (shown, or pinned on the user's word), SSH with the key, passwordless
// sudo, the cluster address on vip.nic, the VIP free, and the NodeChecks.
// Every problem is reported at once.
func (p *sshNodes) Up(ctx context.Context, only ...string) error {
	cfg := p.l.Cfg
	names := only
	if len(names) == 0 {
		names = cfg.NodeNames()
	}
	if problems := p.checkHostKeys(ctx, names); len(problems) > 0 {
		return &ConfigError{File: cfg.Path, Problems: problems}
	}
	results := make([]nodeProblems, len(names))
	var wg sync.WaitGroup
	for j, name := range names {
		i, n, err := p.node(name)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[j] = p.checkNode(ctx, i, n)
		}()
	}
	wg.Wait()
	var problems, holders []string
	var pinger *Node
	for j, r := range results {
		defer r.node.Close()
		problems = append(problems, r.problems...)
		for _, nic := range r.vip {
			holders = append(holders, names[j]+" ("+nic+")")
		}
		if r.sudo && pinger == nil {
			pinger = r.node
		}
	}
	switch {
	case len(holders) > 0:
		// A cluster on the nodes holds it: theirs to hold. Provisioning
		// decides whether halab may take that cluster over (adopt).
		fmt.Fprintf(p.l.Out, "==> the VIP %s is held by %s\n", cfg.VIP.Address, strings.Join(holders, ", "))
	case pinger != nil:
		res, err := pinger.SudoScript(ctx, pingScript, cfg.VIP.NIC, cfg.VIP.Address)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("vip.address: pinging it from %s: %v", pinger.Name, err))
		case res.ExitCode == 0:
			problems = append(problems, fmt.Sprintf("vip.address: %s answers ping from %s's %s, but no node holds it: another machine uses that address; pick a free one in %s",
				cfg.VIP.Address, pinger.Name, cfg.VIP.NIC, cfg.Subnet()))
		case res.ExitCode == 3:
			fmt.Fprintf(p.l.Out, "==> %s has no ping: whether another machine answers on the VIP %s was not checked\n", pinger.Name, cfg.VIP.Address)
		}
	}
	if len(problems) > 0 {
		return &ConfigError{File: cfg.Path, Problems: problems}
	}
	vip := "free"
	if len(holders) > 0 {
		vip = "held by a node of the lab"
	}
	fmt.Fprintf(p.l.Out, "==> %s: SSH with the pinned host keys, passwordless sudo, hostnames, the cluster addresses on %s, the VIP %s %s; nothing was changed on them\n",
		strings.Join(names, ", "), cfg.VIP.NIC, cfg.VIP.Address, vip)
	return nil
}

// Destroy destroys nothing: halab did not make these machines. It forgets
// the host keys it showed; `down` forgets the rest of the lab's state.
func (p *sshNodes) Destroy(ctx context.Context) error {
	fmt.Fprintf(p.l.Out, "==> halab did not make %s: it leaves them as they are, running whatever was provisioned on them\n", strings.Join(p.Machines(), ", "))
	if err := os.Remove(p.offeredFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// CanPower says which lab file keys are missing for the power faults.
func (p *sshNodes) CanPower() error {
	for i, n := range p.l.Cfg.Nodes {
		if !n.Power.set() {
			return fmt.Errorf("nodes[%d].power is not set in %s: halab cannot cut or restore the power of machines it did not make without power.off, power.on and power.status", i, p.l.Cfg.Path)
		}
	}
	return nil
}

// powerTimeout bounds one power command; bootTimeout the wait for SSH
// after power-on (real machines take minutes to boot).
const (
	powerTimeout = 5 * time.Minute
	bootTimeout  = 10 * time.Minute
)

func (p *sshNodes) power(ctx context.Context, node, what string) ([]byte, error) {
	i, n, err := p.node(node)
	if err != nil {
		return nil, err
	}
	if !n.Power.set() {
		return nil, &ConfigError{File: p.l.Cfg.Path, Problems: []string{fmt.Sprintf("nodes[%d].power: not set: halab has no way to power %s %s (give power.off, power.on and power.status: argument lists run on this machine)", i, node, what)}}
	}
	argv := map[string][]string{"off": n.Power.Off, "on": n.Power.On, "status": n.Power.Status}[what]
	ctx, cancel := context.WithTimeout(ctx, powerTimeout)
	defer cancel()
	out, err := runLocal(ctx, "", nil, nil, argv...)
	if err != nil {
		return out, fmt.Errorf("nodes[%d].power.%s: %w", i, what, err)
	}
	return out, nil
}

// PowerOff runs the node's power.off.
func (p *sshNodes) PowerOff(ctx context.Context, node string) error {
	if _, err := p.power(ctx, node, "off"); err != nil {
		return fmt.Errorf("power-off %s: %w", node, err)
	}
	return nil
}

// PowerOn runs the node's power.on and waits until it answers SSH with
// its host key, as the other providers' power-on does.
func (p *sshNodes) PowerOn(ctx context.Context, node string) error {
	if _, err := p.power(ctx, node, "on"); err != nil {
		return fmt.Errorf("power-on %s: %w", node, err)
	}
	deadline := time.Now().Add(bootTimeout)
	for {
		nodes, err := p.l.Connect(ctx, node)
		if err == nil {
			nodes[0].Close()
			return nil
		}
		var hm *HostKeyMismatchError
		if errors.As(err, &hm) || IsConfigError(err) {
			return fmt.Errorf("power-on %s: %w", node, err)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("power-on %s: no SSH within %s: %w", node, bootTimeout, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// Running runs power.status; without power commands, a machine whose
// sshd accepts a connection counts as running.
func (p *sshNodes) Running(ctx context.Context, node string) (bool, error) {
	_, n, err := p.node(node)
	if err != nil {
		return false, err
	}
	if !n.Power.set() {
		d := net.Dialer{Timeout: 3 * time.Second}
		c, err := d.DialContext(ctx, "tcp", n.SSH.addr())
		if err != nil {
			return false, nil
		}
		c.Close()
		return true, nil
	}
	out, err := p.power(ctx, node, "status")
	if err != nil {
		return false, err
	}
	on, err := parsePowerState(string(out))
	if err != nil {
		i, _, _ := p.node(node)
		return false, fmt.Errorf("nodes[%d].power.status: %w", i, err)
	}
	return on, nil
}

var (
	powerOnWords  = []string{"on", "running", "true", "up", "active", "poweredon", "started"}
	powerOffWords = []string{"off", "false", "stopped", "down", "inactive", "exited", "terminated", "shutoff", "poweredoff", "dead", "crashed", "stopping", "created"}
)

// parsePowerState reads the last word power.status printed: `docker
// inspect -f {{.State.Running}}` (true/false), `virsh domstate` (running,
// shut off), `ipmitool chassis power status` (Chassis Power is on/off).
func parsePowerState(out string) (bool, error) {
	f := strings.Fields(strings.ToLower(out))
	if len(f) > 0 {
		w := strings.Trim(f[len(f)-1], ".:;,!\"'")
		switch {
		case contains(powerOnWords, w):
			return true, nil
		case contains(powerOffWords, w):
			return false, nil
		}
	}
	return false, fmt.Errorf("printed %q: halab reads its last word, one of %s (on) or %s (off)",
		strings.TrimSpace(out), strings.Join(powerOnWords, ", "), strings.Join(powerOffWords, ", "))
}
