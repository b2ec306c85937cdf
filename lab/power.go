package lab

import (
	"context"
	"fmt"
	"strings"
)

// PowerOff cuts a node's power: the one fault that cannot go over SSH.
// docker kill sends SIGKILL to the container's init; VirtualBox's poweroff
// pulls the virtual plug. Neither lets the node say goodbye to its peer.
func (v *Vagrant) PowerOff(ctx context.Context, node string) error {
	id := v.MachineID(node)
	if id == "" {
		return fmt.Errorf("power-off %s: no %s machine id under .vagrant/machines/%s (run `halab up`)", node, v.Provider, node)
	}
	_, err := runLocal(ctx, v.Root, nil, nil, PowerOffCommand(v.Provider, id)...)
	if err != nil {
		return fmt.Errorf("power-off %s: %w", node, err)
	}
	return nil
}

// PowerOffCommand is the provider's hard power-off of one machine.
func PowerOffCommand(provider, id string) []string {
	if provider == "virtualbox" {
		return []string{"VBoxManage", "controlvm", id, "poweroff"}
	}
	return []string{"docker", "kill", "--signal", "KILL", id}
}

// PowerOn boots a node again through Vagrant, which also restores what
// the provider needs (networks, port forwards).
func (v *Vagrant) PowerOn(ctx context.Context, node string) error {
	if err := v.Up(ctx, node); err != nil {
		return fmt.Errorf("power-on %s: %w", node, err)
	}
	return nil
}

// Running reports whether the provider says the machine is running, asked
// of the provider directly (cheap) rather than of Vagrant.
func (v *Vagrant) Running(ctx context.Context, node string) (bool, error) {
	id := v.MachineID(node)
	if id == "" {
		return false, nil
	}
	var argv []string
	if v.Provider == "virtualbox" {
		argv = []string{"VBoxManage", "showvminfo", id, "--machinereadable"}
	} else {
		argv = []string{"docker", "inspect", "--format", "{{.State.Running}}", id}
	}
	out, err := runLocal(ctx, v.Root, nil, nil, argv...)
	if err != nil {
		return false, err
	}
	s := string(out)
	if v.Provider == "virtualbox" {
		return strings.Contains(s, `VMState="running"`), nil
	}
	return strings.TrimSpace(s) == "true", nil
}

// CleanupDocker removes what a lab may leave behind on the docker engine
// when .vagrant/ was lost or vagrant was interrupted: containers labelled
// with the lab's name and Vagrant's private network for the lab's subnet,
// if nothing uses it any more.
func CleanupDocker(ctx context.Context, cfg *Config) error {
	out, err := runLocal(ctx, "", nil, nil, "docker", "ps", "-aq", "--filter", "label=halab.lab="+cfg.Name)
	if err != nil {
		return err
	}
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		if _, err := runLocal(ctx, "", nil, nil, append([]string{"docker", "rm", "-f"}, ids...)...); err != nil {
			return err
		}
	}
	subnet := fmt.Sprintf("%s/%d", cfg.Subnet().Addr(), cfg.Prefix())
	name := "vagrant_network_" + subnet
	if _, err := runLocal(ctx, "", nil, nil, "docker", "network", "inspect", name); err != nil {
		return nil // not there: nothing to do
	}
	if _, err := runLocal(ctx, "", nil, nil, "docker", "network", "rm", name); err != nil {
		return fmt.Errorf("docker network %s is still in use by containers outside this lab: %w", name, err)
	}
	return nil
}
