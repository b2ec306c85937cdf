package provision

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"halab/lab"
)

// OSInfo is a node's /etc/os-release.
type OSInfo struct {
	ID        string // ubuntu, debian
	VersionID string // 12.04, 12
	Pretty    string
}

// ParseOSRelease reads /etc/os-release's KEY=value lines.
func ParseOSRelease(s string) OSInfo {
	var o OSInfo
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			o.ID = v
		case "VERSION_ID":
			o.VersionID = v
		case "PRETTY_NAME":
			o.Pretty = v
		}
	}
	return o
}

func (o OSInfo) describe() string {
	if o.Pretty != "" {
		return o.Pretty
	}
	return o.ID + " " + o.VersionID
}

// Precise reports Ubuntu 12.04, whose archive moved to old-releases.
func (o OSInfo) Precise() bool { return o.ID == "ubuntu" && o.VersionID == "12.04" }

// Debian12 reports Debian 12 (bookworm), the docker provider's nodes.
func (o OSInfo) Debian12() bool { return o.ID == "debian" && o.VersionID == "12" }

// Stacks names the stacks that run on this OS.
func (o OSInfo) Stacks() []string {
	var names []string
	for _, s := range stacks {
		if s.Runs(o) == nil {
			names = append(names, s.Name)
		}
	}
	return names
}

// AutoStack is the stack `stack: auto` picks on this OS, if any.
func (o OSInfo) AutoStack() (*Stack, bool) {
	for _, s := range stacks {
		if s.AutoOn(o) {
			return s, true
		}
	}
	return nil, false
}

// NodeOS reads a node's /etc/os-release.
func NodeOS(ctx context.Context, n lab.Runner) (OSInfo, error) {
	res, err := lab.Check(n.Run(ctx, nil, catOSRelease.Argv()...))
	if err != nil {
		return OSInfo{}, err
	}
	return ParseOSRelease(string(res.Stdout)), nil
}

func (p *Provisioner) detectOS(ctx context.Context, n lab.Runner) (bool, string, error) {
	info, err := NodeOS(ctx, n)
	if err != nil {
		return false, "", err
	}
	glibc, known, err := NodeGlibc(ctx, n)
	if err != nil {
		return false, "", err
	}
	p.mu.Lock()
	p.osInfo[n.NodeName()] = info
	if known {
		p.glibc[n.NodeName()] = glibc
	}
	p.mu.Unlock()
	if known {
		return false, info.describe() + ", glibc " + glibc.String(), nil
	}
	return false, info.describe(), nil
}

var packagesScript = Script("packages")

func (p *Provisioner) packages(ctx context.Context, n lab.Runner) (bool, string, error) {
	pkgs := p.packageList()
	res, err := n.SudoScript(ctx, packagesScript, pkgs...)
	if err != nil {
		return false, "", err
	}
	if !res.OK() {
		return false, "", fmt.Errorf("apt-get could not install the cluster packages %v: %w; fix apt on the node (its network, proxy and /etc/apt/sources.list; try `halab ssh %s -- sudo apt-get update`), then re-run `halab provision`", pkgs, res.Err(), n.NodeName())
	}
	if got := strings.TrimSpace(string(res.Stdout)); got != "" {
		return true, "installed " + got, nil
	}
	return false, "", nil
}
