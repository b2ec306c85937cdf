package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Lab is one lab.yaml resolved on this machine: its provider and its
// state directory. It is passed around, never global.
type Lab struct {
	Cfg *Config
	// ConfigPath is the lab file's absolute path.
	ConfigPath string
	// ID is the lab's identity: name and lab file.
	ID       Identity
	Root     string
	State    string
	Provider Provider
	// ProviderReason says why Provider was chosen (printed at start).
	ProviderReason string
	Keys           *HostKeys
	Out            io.Writer
	// DialTimeout and CommandTimeout bound each SSH connect and each remote
	// command of the nodes Connect returns (0: the lab package defaults).
	DialTimeout    time.Duration
	CommandTimeout time.Duration
	// AcceptHostKeys: `up` pins the host keys the nodes present where
	// none is given or pinned, on the user's word (machines halab did
	// not make; see ExistingMachines).
	AcceptHostKeys bool
	// NodeChecks are run by `up` on machines halab did not make.
	NodeChecks []NodeCheck
}

// Open loads and validates the lab file (with the checks of the packages
// that know what its stack means) and resolves the provider.
func Open(configPath string, out io.Writer, checks ...ConfigCheck) (*Lab, error) {
	cfg, err := Load(configPath, checks...)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(configPath)
	if err != nil {
		return nil, err
	}
	root, err := FindRoot(filepath.Dir(abs))
	if err != nil {
		// A lab file outside the checkout: use the checkout we run in.
		if root, err = FindRoot("."); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = io.Discard
	}
	state := StateDir(root, cfg)
	l := &Lab{
		Cfg: cfg, ConfigPath: abs, ID: NewIdentity(cfg.Name, abs), Root: root, State: state, Out: out,
		Keys: &HostKeys{File: filepath.Join(state, "known_hosts")},
	}
	if id, ok, err := ReadIdentity(state); err != nil {
		return nil, err
	} else if ok && id.Config != abs {
		if !DerivedFrom(abs, id.Config) {
			return nil, claimState(state, l.ID) // says whose state it is
		}
		// A copy of the lab file changed for a measurement (DerivedPath):
		// the same lab, its machines and state.
		l.ID = id
	}
	name, reason := selectProvider(cfg, l.VagrantDir())
	if l.Provider, err = newProvider(l, name); err != nil {
		return nil, err
	}
	l.ProviderReason = reason
	return l, nil
}

// VagrantDir is the lab's own Vagrant state (VAGRANT_DOTFILE_PATH): its
// machine ids. Kept per lab, so that two lab files in one checkout never
// share a machine.
func (l *Lab) VagrantDir() string { return filepath.Join(l.State, "vagrant") }

// Claim records the lab's identity in its state directory before it makes
// machines; Release forgets it once they are gone.
func (l *Lab) Claim() error   { return claimState(l.State, l.ID) }
func (l *Lab) Release() error { return releaseState(l.State) }

// Endpoints asks the provider how to reach each node.
func (l *Lab) Endpoints(ctx context.Context) (map[string]SSHEndpoint, error) {
	eps, err := l.Provider.Endpoints(ctx, l.Cfg.NodeNames())
	if err != nil {
		return nil, err
	}
	m := map[string]SSHEndpoint{}
	for _, e := range eps {
		m[e.Node] = e
	}
	return m, nil
}

// Connect opens SSH to the named nodes (all when none are named), in
// parallel. On error, connections already made are closed.
func (l *Lab) Connect(ctx context.Context, names ...string) ([]*Node, error) {
	if len(names) == 0 {
		names = l.Cfg.NodeNames()
	}
	eps, err := l.Endpoints(ctx)
	if err != nil {
		return nil, err
	}
	// Every name is checked before the first dial starts, so that a bad
	// name never returns while other dials (and their keepalives) run on.
	specs := make([]NodeSpec, len(names))
	for i, name := range names {
		spec, ok := l.Cfg.Node(name)
		if !ok {
			return nil, &ConfigError{File: l.Cfg.Path, Problems: []string{fmt.Sprintf("node %q: not in nodes (known: %s)", name, strings.Join(l.Cfg.NodeNames(), ", "))}}
		}
		if _, ok := eps[name]; !ok {
			return nil, fmt.Errorf("node %s: the %s provider has no SSH endpoint for it (run `halab up`)", name, l.Provider.Name())
		}
		specs[i] = spec
	}
	nodes := make([]*Node, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes[i], errs[i] = Dial(ctx, name, specs[i].IP, eps[name], l.HostKeyAlias(name), l.Keys, l.DialTimeout)
			if nodes[i] != nil {
				nodes[i].CommandTimeout = l.CommandTimeout
				if nodes[i].CommandTimeout == 0 {
					nodes[i].CommandTimeout = CommandTimeout
				}
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			for _, n := range nodes {
				n.Close()
			}
			return nil, e
		}
	}
	return nodes, nil
}

// HostKeyAlias names a machine in the pin file: node name plus provider
// id. OpenSSH's HostKeyAlias takes the same name for `halab ssh NODE`.
func (l *Lab) HostKeyAlias(node string) string {
	id := l.Provider.MachineID(node)
	if len(id) > 12 {
		id = id[:12]
	}
	return node + "." + id
}

// WaitSSH polls until every node answers over SSH or the timeout passes,
// saying what it waits for.
func (l *Lab) WaitSSH(ctx context.Context, timeout time.Duration) ([]*Node, error) {
	deadline := time.Now().Add(timeout)
	var last error
	for attempt := 1; ; attempt++ {
		nodes, err := l.Connect(ctx)
		if err == nil {
			return nodes, nil
		}
		var hk *HostKeyChangedError
		var hm *HostKeyMismatchError
		if errors.As(err, &hk) || errors.As(err, &hm) || IsConfigError(err) {
			return nil, err
		}
		last = err
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("waiting for SSH on every node (%s): %w", timeout, last)
		}
		if attempt == 1 || attempt%5 == 0 {
			fmt.Fprintf(l.Out, "    waiting for SSH: %v\n", last)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// NodeIP reads the IPv4 addresses on the lab's NIC as the node sees them.
func NodeIP(ctx context.Context, n *Node, nic string) ([]string, error) {
	res, err := n.Run(ctx, nil, nicAddrCmd.Argv(nic)...)
	if err != nil {
		return nil, err
	}
	return ParseIPAddr(string(res.Stdout)), nil
}

// ParseIPAddr extracts addresses from `ip -4 -o addr show` output.
func ParseIPAddr(out string) []string {
	var ips []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "inet" {
				if p, err := netip.ParsePrefix(f[i+1]); err == nil {
					ips = append(ips, p.Addr().String())
				}
			}
		}
	}
	return ips
}
