package labtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"halab/lab"
)

// FakeProvider is a lab.Provider whose machines are power states in
// memory: PowerOff and PowerOn flip them, Running reads them, every call
// is recorded. Nodes not made by NewFakeProvider or Up do not exist (no
// machine id, never running), as with a real provider before `halab up`.
type FakeProvider struct {
	mu      sync.Mutex
	on      map[string]bool
	calls   []string
	fail    func(op, node string) error
	onDelay time.Duration
}

var _ lab.Provider = (*FakeProvider)(nil)

// NewFakeProvider makes a provider whose named machines exist and run.
func NewFakeProvider(nodes ...string) *FakeProvider {
	p := &FakeProvider{on: map[string]bool{}}
	for _, n := range nodes {
		p.on[n] = true
	}
	return p
}

// SetFail sets what is asked before every power action and state query
// ("power-off", "power-on", "running"): a non-nil error is what the
// provider returns. nil: nothing fails.
func (p *FakeProvider) SetFail(fail func(op, node string) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = fail
}

// SetPowerOnDelay sets how long a power-on takes (a boot).
func (p *FakeProvider) SetPowerOnDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onDelay = d
}

func (p *FakeProvider) record(op, node string) error {
	p.mu.Lock()
	p.calls = append(p.calls, op+" "+node)
	fail := p.fail
	p.mu.Unlock()
	if fail != nil {
		return fail(op, node)
	}
	return nil
}

// Calls are the power actions and queries so far ("power-off node1").
func (p *FakeProvider) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// IsOn reads a machine's power state.
func (p *FakeProvider) IsOn(node string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.on[node]
}

// SetOn sets a machine's power state (it exists from then on).
func (p *FakeProvider) SetOn(node string, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.on[node] = on
}

func (p *FakeProvider) exists(node string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.on[node]
	return ok
}

func (p *FakeProvider) Name() string                                   { return "fake" }
func (p *FakeProvider) Runnable() error                                { return nil }
func (p *FakeProvider) Prepare(ctx context.Context, _ io.Writer) error { return nil }
func (p *FakeProvider) CheckFree(ctx context.Context) error            { return nil }

// Up makes and boots the named machines.
func (p *FakeProvider) Up(ctx context.Context, nodes ...string) error {
	for _, n := range nodes {
		p.SetOn(n, true)
	}
	return nil
}

// Destroy removes every machine.
func (p *FakeProvider) Destroy(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.on = map[string]bool{}
	return nil
}

func (p *FakeProvider) PowerOff(ctx context.Context, node string) error {
	if err := p.record("power-off", node); err != nil {
		return err
	}
	if !p.exists(node) {
		return fmt.Errorf("power-off %s: no fake machine (run `halab up`)", node)
	}
	p.SetOn(node, false)
	return nil
}

func (p *FakeProvider) PowerOn(ctx context.Context, node string) error {
	if err := p.record("power-on", node); err != nil {
		return err
	}
	if !p.exists(node) {
		return fmt.Errorf("power-on %s: no fake machine (run `halab up`)", node)
	}
	p.mu.Lock()
	delay := p.onDelay
	p.mu.Unlock()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(delay):
	}
	p.SetOn(node, true)
	return nil
}

func (p *FakeProvider) Running(ctx context.Context, node string) (bool, error) {
	if err := p.record("running", node); err != nil {
		return false, err
	}
	return p.IsOn(node), nil
}

func (p *FakeProvider) Endpoints(ctx context.Context, nodes []string) ([]lab.SSHEndpoint, error) {
	return nil, errors.New("the fake provider has no SSH endpoints")
}

func (p *FakeProvider) MachineID(node string) string {
	if !p.exists(node) {
		return ""
	}
	return "fake-" + node
}
