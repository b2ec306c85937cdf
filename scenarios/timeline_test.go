package scenarios

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"halab/lab"
	"halab/provision"
	"halab/scenarios/harness"
	"halab/scenarios/prober"
	"halab/scenarios/report"
)

// What the HTML report draws besides the probes: when the current spec
// injected its fault and began to heal it, and what the audits saw change
// meanwhile. The spec's entry is reported through a pointer, so a heal
// or an audit after report() still gets into the report.
type specLog struct {
	mu       sync.Mutex
	entry    *prober.Entry // the last one reported, until the next injection
	kind     string
	node     string
	injected time.Time
	healed   time.Time
	pending  []prober.Event // not yet in an entry
	last     *prober.Event  // the last audit recorded, to report changes only
	config   []string       // the last audit's configuration findings
}

// timeline is the current spec's log.
var timeline = &specLog{}

var _ = BeforeEach(func() { timeline.reset() })

func (l *specLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entry, l.kind, l.node, l.injected, l.healed, l.pending, l.last, l.config = nil, "", "", time.Time{}, time.Time{}, nil, nil, nil
}

// injecting: a fault is about to be injected into node. The entry of the
// previous fault of the spec (the repeated failover) is complete.
func (l *specLog) injecting(kind, node string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entry = nil
	l.kind, l.node, l.injected, l.healed = kind, node, time.Now(), time.Time{}
}

// injectedAt is when the current fault was injected (zero: none yet).
func (l *specLog) injectedAt() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.injected
}

// healing: the heal of the current fault begins (the first heal counts).
func (l *specLog) healing() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.injected.IsZero() || !l.healed.IsZero() {
		return
	}
	l.healed = time.Now()
	if l.entry != nil && l.entry.Timeline != nil {
		l.entry.Timeline.Healed = l.healed
	}
}

// audited records what an audit saw, when it differs from the last.
func (l *specLog) audited(a *harness.Audit) {
	if a == nil {
		return
	}
	ev := prober.Event{At: time.Now(), Kind: prober.AuditEvent, Text: a.String(), VIP: a.VIPHolders()}
	l.mu.Lock()
	defer l.mu.Unlock()
	if a.Config != nil {
		l.config = a.ConfigFindings()
	}
	if l.last != nil && l.last.Text == ev.Text {
		return
	}
	l.last = &ev
	if l.entry != nil && l.entry.Timeline != nil {
		l.entry.Timeline.Events = append(l.entry.Timeline.Events, ev)
		return
	}
	l.pending = append(l.pending, ev)
}

// reported gives the entry to report, with its timeline: the samples,
// the current fault's moments and the audits since the last entry (or,
// when none changed since, the last one: the state the fault started
// from).
func (l *specLog) reported(e prober.Entry, samples []prober.Sample) *prober.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := &e
	p.Config = l.config
	tl := prober.NewTimeline(samples)
	if tl == nil {
		return p
	}
	if !l.injected.IsZero() {
		tl.Fault, tl.Node, tl.Injected, tl.BoundFrom, tl.Healed = l.kind, l.node, l.injected, l.injected, l.healed
	}
	if len(l.pending) == 0 && l.last != nil {
		l.pending = []prober.Event{*l.last}
	}
	tl.Events, l.pending = l.pending, nil
	p.Timeline = tl
	l.entry = p
	return p
}

// labInfo is the report's lab entry: lab.yaml's facts and the versions
// found on each node.
func (e *env) labInfo(ctx context.Context) report.Lab {
	cfg := e.lab.Cfg
	t := cfg.Timings
	info := report.Lab{
		Name: cfg.Name, Provider: e.lab.Provider.Name(), Stack: e.stack, Profile: t.Profile, Bound: e.bound(),
		VIP: fmt.Sprintf("%s:%d", cfg.VIP.Address, cfg.Service.Port),
	}
	if info.Fencing, info.FencingNote = provision.FencingAbout(cfg, e.c.Stack); !info.FencingOn() {
		info.FencingNote = e.noFencing()
	}
	info.Timings = e.c.Stack.TimingsAbout(t)
	info.Uses = e.c.Stack.Packages
	_, info.SharedKernel = e.lab.Provider.(lab.Container)
	if t.DCDeadtime > 0 && e.c.Pacemaker() {
		info.Timings += fmt.Sprintf(", dc-deadtime %d s", t.DCDeadtime)
	}
	for _, n := range cfg.Nodes {
		info.Nodes = append(info.Nodes, e.versions(ctx, n.Name, n.IP))
	}
	return info
}

// versionsScript prints "key value" lines: the cluster packages'
// versions (empty when not installed), the kernel, the OS and the JDK
// the service runs with ($1 is service.java_home).
const versionsScript = `v() { s=$(dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null) || s=; case $s in *" installed "*) echo "$2 ${s##* }" ;; *) echo "$2" ;; esac; }
v corosync corosync; v pacemaker pacemaker; v heartbeat heartbeat
echo "kernel $(uname -r)"
echo "os $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
echo "jdk $("$1/bin/java" -version 2>&1 | head -n 1)"`

func (e *env) versions(ctx context.Context, name, ip string) report.Node {
	n := report.Node{Name: name, IP: ip}
	node, err := e.c.Node(ctx, name)
	var res lab.Result
	if err == nil {
		res, err = node.Run(ctx, nil, "sh", "-c", versionsScript, "versions", e.lab.Cfg.Service.JavaHome)
	}
	if err != nil {
		n.Err = err.Error()
		return n
	}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch v = strings.TrimSpace(v); k {
		case "corosync":
			n.Corosync = v
		case "pacemaker":
			n.Pacemaker = v
		case "heartbeat":
			n.Heartbeat = v
		case "kernel":
			n.Kernel = v
		case "os":
			n.OS = v
		case "jdk":
			n.JDK = v
		}
	}
	return n
}
