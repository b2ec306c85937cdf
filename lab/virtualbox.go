package lab

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

const virtualboxName = "virtualbox"

// virtualboxProvider runs each node as a VirtualBox VM from a Vagrant box
// (the article's hashicorp/precise64). Power-off pulls the virtual plug.
type virtualboxProvider struct {
	vagrantMachines
	box string
}

func newVirtualBox(l *Lab) (Provider, error) {
	return &virtualboxProvider{vagrantMachines{newVagrant(l, virtualboxName)}, l.Cfg.Providers.VirtualBox.Box}, nil
}

// NodeOS is what the nodes of a box run, known before they boot.
type NodeOS struct {
	OS    string // e.g. "Ubuntu 12.04"
	Glibc string // e.g. "2.15"
}

// KnownNodes is a provider that can tell what its nodes will run before
// it makes them, so that `halab up` refuses what could not run there
// (a JDK built for a newer glibc) before minutes of booting.
type KnownNodes interface {
	NodesOS() (NodeOS, bool)
}

// knownBoxes are the boxes whose OS halab knows: hashicorp/precise64 is
// Ubuntu 12.04 (precise), whose libc6 is 2.15.
var knownBoxes = map[string]NodeOS{
	"hashicorp/precise64": {OS: "Ubuntu 12.04", Glibc: "2.15"},
}

// NodesOS is what the lab's box runs, when halab knows the box.
func (p *virtualboxProvider) NodesOS() (NodeOS, bool) {
	o, ok := knownBoxes[p.box]
	return o, ok
}

func (p *virtualboxProvider) Name() string { return virtualboxName }

func (p *virtualboxProvider) Runnable() error { return virtualboxRunnable() }

func virtualboxRunnable() error {
	if err := vagrantRunnable(); err != nil {
		return err
	}
	if err := exec.Command("VBoxManage", "--version").Run(); err != nil {
		return fmt.Errorf("VBoxManage does not run: %v (install VirtualBox, or use provider: %s)", err, dockerName)
	}
	return nil
}

// CheckFree refuses a lab whose VM names (NAME-NODE) belong to VMs that
// are not this lab's machines.
func (p *virtualboxProvider) CheckFree(ctx context.Context) error {
	out, err := runLocal(ctx, "", nil, nil, "VBoxManage", "list", "vms")
	if err != nil {
		return err
	}
	cfg := p.v.Cfg
	var problems []string
	for _, line := range strings.Split(string(out), "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), "\" {")
		if !ok {
			continue
		}
		name, uuid := strings.TrimPrefix(name, "\""), strings.TrimSuffix(rest, "}")
		for _, n := range cfg.Nodes {
			if name == cfg.Name+"-"+n.Name && uuid != p.MachineID(n.Name) {
				problems = append(problems, fmt.Sprintf("name: a VirtualBox VM %q (%s) exists and is not this lab's machine: give this lab a name of its own, or remove that VM", name, uuid))
			}
		}
	}
	if len(problems) > 0 {
		return &ConfigError{File: cfg.Path, Problems: problems}
	}
	return nil
}

// Prepare has nothing to build: Vagrant downloads the box on first up.
func (p *virtualboxProvider) Prepare(ctx context.Context, out io.Writer) error { return p.Runnable() }

func (p *virtualboxProvider) Destroy(ctx context.Context) error { return p.v.Destroy(ctx) }

func (p *virtualboxProvider) PowerOff(ctx context.Context, node string) error {
	id := p.MachineID(node)
	if id == "" {
		return fmt.Errorf("power-off %s: no %s machine (run `halab up`)", node, virtualboxName)
	}
	if _, err := runLocal(ctx, "", nil, nil, virtualboxPowerOff(id)...); err != nil {
		return fmt.Errorf("power-off %s: %w", node, err)
	}
	return nil
}

// virtualboxPowerOff is the hard power-off of one VM.
func virtualboxPowerOff(id string) []string {
	return []string{"VBoxManage", "controlvm", id, "poweroff"}
}

func (p *virtualboxProvider) PowerOn(ctx context.Context, node string) error {
	if err := p.vagrantMachines.PowerOn(ctx, node); err != nil {
		return fmt.Errorf("power-on %s: %w", node, err)
	}
	return nil
}

func (p *virtualboxProvider) Running(ctx context.Context, node string) (bool, error) {
	return p.inState(ctx, node, "running")
}

// inState says whether the node's VM is in VirtualBox's state (running,
// paused, ...); a node without a VM is in none.
func (p *virtualboxProvider) inState(ctx context.Context, node, state string) (bool, error) {
	id := p.MachineID(node)
	if id == "" {
		return false, nil
	}
	out, err := runLocal(ctx, "", nil, nil, "VBoxManage", "showvminfo", id, "--machinereadable")
	if err != nil {
		return false, err
	}
	return strings.Contains(string(out), `VMState="`+state+`"`), nil
}
