package lab

import (
	"context"
	"fmt"
	"strings"
)

// Pauser is a provider that can freeze a whole node and thaw it again:
// every process stops at once, the clock of the cluster's peers goes on
// (the Jepsen-style pause). The docker provider freezes the container's
// cgroup (`docker pause`), VirtualBox pauses the VM (`VBoxManage controlvm
// pause`). A provider without it cannot inject the whole-node pause.
type Pauser interface {
	// Pause freezes the node's machine.
	Pause(ctx context.Context, node string) error
	// Resume thaws it; resuming a machine that is not paused is fine.
	Resume(ctx context.Context, node string) error
	// Paused asks the provider whether the machine is frozen.
	Paused(ctx context.Context, node string) (bool, error)
}

var (
	_ Pauser = (*dockerProvider)(nil)
	_ Pauser = (*virtualboxProvider)(nil)
)

// The argv of each provider's pause and resume, one machine id each.
func dockerPause(id string) []string  { return []string{"docker", "pause", id} }
func dockerResume(id string) []string { return []string{"docker", "unpause", id} }
func dockerPaused(id string) []string {
	return []string{"docker", "inspect", "--format", "{{.State.Paused}}", id}
}
func virtualboxPause(id string) []string  { return []string{"VBoxManage", "controlvm", id, "pause"} }
func virtualboxResume(id string) []string { return []string{"VBoxManage", "controlvm", id, "resume"} }

func pauseID(p Provider, op, node string) (string, error) {
	id := p.MachineID(node)
	if id == "" {
		return "", fmt.Errorf("%s %s: no %s machine (run `halab up`)", op, node, p.Name())
	}
	return id, nil
}

func (d *dockerProvider) Pause(ctx context.Context, node string) error {
	id, err := pauseID(d, "pause", node)
	if err == nil {
		_, err = runLocal(ctx, "", nil, nil, dockerPause(id)...)
	}
	if err != nil {
		return fmt.Errorf("pause %s: %w", node, err)
	}
	return nil
}

func (d *dockerProvider) Resume(ctx context.Context, node string) error {
	paused, err := d.Paused(ctx, node)
	if err != nil || !paused {
		return err
	}
	if _, err := runLocal(ctx, "", nil, nil, dockerResume(d.MachineID(node))...); err != nil {
		return fmt.Errorf("resume %s: %w", node, err)
	}
	return nil
}

func (d *dockerProvider) Paused(ctx context.Context, node string) (bool, error) {
	id := d.MachineID(node)
	if id == "" {
		return false, nil
	}
	out, err := runLocal(ctx, "", nil, nil, dockerPaused(id)...)
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(string(out)) == "true", nil
}

func (p *virtualboxProvider) Pause(ctx context.Context, node string) error {
	id, err := pauseID(p, "pause", node)
	if err == nil {
		_, err = runLocal(ctx, "", nil, nil, virtualboxPause(id)...)
	}
	if err != nil {
		return fmt.Errorf("pause %s: %w", node, err)
	}
	return nil
}

func (p *virtualboxProvider) Resume(ctx context.Context, node string) error {
	paused, err := p.Paused(ctx, node)
	if err != nil || !paused {
		return err
	}
	if _, err := runLocal(ctx, "", nil, nil, virtualboxResume(p.MachineID(node))...); err != nil {
		return fmt.Errorf("resume %s: %w", node, err)
	}
	return nil
}

func (p *virtualboxProvider) Paused(ctx context.Context, node string) (bool, error) {
	return p.inState(ctx, node, "paused")
}
