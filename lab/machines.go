package lab

import "context"

// vagrantMachines is what the Vagrant-driven providers share: Vagrant
// makes, boots and describes the machines; the provider adds power and
// state, which it asks of its hypervisor directly (cheaper than Vagrant).
type vagrantMachines struct {
	v *Vagrant
}

func (m vagrantMachines) Up(ctx context.Context, nodes ...string) error { return m.v.Up(ctx, nodes...) }

// PowerOn boots a node again through Vagrant, which also restores what
// the provider needs (networks, port forwards).
func (m vagrantMachines) PowerOn(ctx context.Context, node string) error {
	return m.v.Up(ctx, node)
}

func (m vagrantMachines) Endpoints(ctx context.Context, nodes []string) ([]SSHEndpoint, error) {
	return m.v.SSHConfig(ctx, nodes)
}

func (m vagrantMachines) MachineID(node string) string { return m.v.MachineID(node) }
