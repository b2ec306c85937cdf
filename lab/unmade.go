package lab

import "context"

// ExistingMachines is a provider of machines halab did not make and does
// not own (provider: ssh): `up` checks them instead of creating them,
// `down` forgets the lab instead of destroying them, and provisioning
// refuses a machine that already runs a cluster this lab did not set up,
// unless the lab file says adopt: true.
type ExistingMachines interface {
	Provider
	// Machines says which machine each node is, for messages
	// ("node1 (vagrant@10.0.0.5:22)").
	Machines() []string
}

// MadeByHalab says whether halab made the lab's machines (and so may
// destroy them and write over them).
func (l *Lab) MadeByHalab() bool {
	_, existing := l.Provider.(ExistingMachines)
	return !existing
}

// PowerSwitch is a provider that may have no power control over the
// nodes (provider: ssh without power commands).
type PowerSwitch interface {
	// CanPower says why nodes cannot be powered off and on; nil when they
	// can.
	CanPower() error
}

// CanPower says why the lab's nodes cannot be powered off and on (the
// power-off faults and scenarios); nil when they can.
func (l *Lab) CanPower() error {
	if p, ok := l.Provider.(PowerSwitch); ok {
		return p.CanPower()
	}
	return nil
}

// NodeCheck checks one connected node for what a package other than lab
// gives meaning to (the OS a stack runs on), one message per problem,
// each naming the lab file's field it concerns. `up` runs them on
// machines halab did not make, with its own checks, and reports every
// problem at once.
type NodeCheck func(ctx context.Context, cfg *Config, n Runner) []string
