package fence

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"time"

	"halab/lab"
)

// StartTimeout bounds the wait for a detached endpoint to answer.
const StartTimeout = 15 * time.Second

// StopTimeout is how long a stopping endpoint may finish its power actions
// before it is killed.
const StopTimeout = 40 * time.Second

// LabPKI is the lab's certificate authority and certificates.
func LabPKI(l *lab.Lab) *PKI { return &PKI{Dir: Dir(l.State), Lab: l.Cfg.Name} }

// Machines are the lab's machines as fence agents name them.
func Machines(c *lab.Config) []Machine {
	var out []Machine
	for _, n := range c.NodeNames() {
		out = append(out, Machine{Name: c.MachineName(n), Node: n})
	}
	return out
}

// ServeLab runs the lab's endpoint in the foreground (`halab
// fence-endpoint serve`): on the lab file's address and port, for the
// lab's machines, powering them through the lab's provider.
func ServeLab(ctx context.Context, l *lab.Lab, out io.Writer) error {
	return Serve(ctx, ServeOptions{
		Dir: Dir(l.State), Addr: l.Cfg.FenceEndpoint(), Lab: l.Cfg.Name,
		Machines: Machines(l.Cfg), Power: l.Provider, Out: out,
	})
}

// Ensure brings the lab's endpoint to what the lab file says: with
// fencing.agent none, none runs (one left running is stopped); otherwise
// the PKI exists and an endpoint runs on the configured address for the
// lab's machines and answers halab's own certificate. An endpoint that is
// gone (halab up after a reboot of the host, a killed process) is started,
// one on another address or for other machines is restarted. serve is the
// argv that runs `halab fence-endpoint serve` for this lab. It says what
// it did: "", "started", "restarted" or "stopped".
func Ensure(ctx context.Context, l *lab.Lab, serve []string) (string, error) {
	dir := Dir(l.State)
	if !l.Cfg.FencingOn() {
		stopped, err := Stop(dir, StopTimeout)
		if stopped && err == nil {
			return "stopped", nil
		}
		return "", err
	}
	p := LabPKI(l)
	if err := p.Ensure(l.Cfg.NodeNames(), l.Cfg.FenceAddress()); err != nil {
		return "", err
	}
	want := l.Cfg.FenceEndpoint()
	st, err := ReadState(dir)
	if err != nil {
		return "", err
	}
	did := "started"
	if st.Running {
		if st.Addr == want && slices.Equal(st.Machines, Machines(l.Cfg)) && (Refusing(dir) || p.Ping(ctx, want) == nil) {
			return "", nil
		}
		if _, err := Stop(dir, StopTimeout); err != nil {
			return "", err
		}
		did = "restarted"
	}
	_, err = Start(ctx, dir, serve, StartTimeout, func(ctx context.Context, st State) error {
		if Refusing(dir) {
			return nil
		}
		return p.Ping(ctx, want)
	})
	if err != nil {
		return "", err
	}
	return did, nil
}

// Report is the endpoint's state for `halab status`.
type Report struct {
	// Agent is fencing.agent; with none, nothing else is set.
	Agent   string `json:"agent"`
	Running bool   `json:"running"`
	PID     int    `json:"pid,omitempty"`
	Addr    string `json:"addr,omitempty"`
	// Answers: it answered halab's client certificate over mutual TLS.
	Answers bool `json:"answers"`
	// Refusing: it is set to refuse every request, on purpose.
	Refusing bool   `json:"refusing"`
	Error    string `json:"error,omitempty"`
	Log      string `json:"log,omitempty"`
}

// Status reports the lab's endpoint. It changes nothing.
func Status(ctx context.Context, l *lab.Lab) Report {
	r := Report{Agent: l.Cfg.Fencing.Agent}
	dir := Dir(l.State)
	st, err := ReadState(dir)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	if !l.Cfg.FencingOn() && !st.Running {
		return r
	}
	r.Running, r.PID, r.Addr, r.Refusing = st.Running, st.PID, st.Addr, Refusing(dir)
	r.Log = filepath.Join(dir, RequestLogName)
	if !st.Running {
		return r
	}
	if err := LabPKI(l).Ping(ctx, st.Addr); err != nil {
		r.Error = err.Error()
	} else {
		r.Answers = true
	}
	return r
}

// String is the report as one line.
func (r Report) String() string {
	switch {
	case r.Agent == lab.FenceAgentNone && !r.Running:
		return "fence endpoint: not used (fencing.agent: none)"
	case r.Agent == lab.FenceAgentNone:
		return fmt.Sprintf("fence endpoint: running (pid %d on %s) although fencing.agent is none: halab up or provision stops it", r.PID, r.Addr)
	case !r.Running && r.Error != "":
		return "fence endpoint: " + r.Error
	case !r.Running:
		return "fence endpoint: not running: halab up or halab provision starts it"
	}
	s := fmt.Sprintf("fence endpoint: running, pid %d, https://%s (mutual TLS)", r.PID, r.Addr)
	switch {
	case r.Refusing:
		s += ", refusing every request on purpose (halab fence-endpoint refuse off)"
	case r.Answers:
		s += ", answers"
	default:
		s += ", does not answer: " + r.Error
	}
	return s + "; requests logged in " + r.Log
}

// DockerPorts are where a Docker engine listens when it is configured to
// serve over TCP (plain and TLS).
var DockerPorts = []int{2375, 2376}

// ExposedEngine says which of ports on addr accept a TCP connection: on
// the lab network's host address, a Docker engine there would be reachable
// from every node, beside the fence endpoint, which the trust model rules
// out. Nothing is sent on a connection.
func ExposedEngine(addr netip.Addr, ports []int) []string {
	var open []string
	for _, p := range ports {
		a := netip.AddrPortFrom(addr, uint16(p)).String()
		c, err := net.DialTimeout("tcp", a, 500*time.Millisecond)
		if err == nil {
			c.Close()
			open = append(open, a)
		}
	}
	return open
}
