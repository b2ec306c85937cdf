package scenarios

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"halab/lab"
	"halab/provision"
	"halab/scenarios/harness"
	"halab/scenarios/prober"
)

// The Jepsen-style faults (docs/scenarios.md): a frozen owner or messaging
// daemon, random packet loss, a one-way and a flapping partition. Each
// spec registers its heal before it injects (inject, or guard for the
// flapping partition), watches the cluster's audits in the background
// while the fault lasts, undoes the fault with Thaw (nothing but the
// fault: what the cluster does next is its own doing) and waits for it to
// converge to one owner.

// watch polls the cluster audit every second in the background, with a
// short timeout per audit (a frozen node answers nothing), and keeps what
// a report needs: the most VIP holders seen at once, when two nodes held
// the VIP, and the membership changes.
type watch struct {
	mu      sync.Mutex
	stop    chan struct{}
	done    chan struct{}
	max     int
	dual    []prober.Window
	members []string // each distinct membership view seen, in order
	holders []string // each distinct VIP holder set seen, in order
}

func (e *env) watch(ctx context.Context) *watch {
	w := &watch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			actx, cancel := context.WithTimeout(ctx, 8*time.Second)
			a := e.c.Audit(actx)
			cancel()
			timeline.audited(a)
			w.saw(a, time.Now())
			select {
			case <-w.stop:
				return
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	return w
}

func (w *watch) saw(a *harness.Audit, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	vip := a.VIPHolders()
	w.max = max(w.max, len(vip))
	n := len(w.dual)
	switch {
	case len(vip) > 1 && (n == 0 || !w.dual[n-1].End.IsZero()):
		w.dual = append(w.dual, prober.Window{Start: at})
	case len(vip) <= 1 && n > 0 && w.dual[n-1].End.IsZero():
		w.dual[n-1].End = at
	}
	var views []string
	for _, nd := range a.Nodes {
		if nd.Reachable && nd.DaemonUp {
			views = append(views, fmt.Sprintf("%s:%v", nd.Node, nd.Members))
		}
	}
	if v := strings.Join(views, " "); v != "" && (len(w.members) == 0 || w.members[len(w.members)-1] != v) {
		w.members = append(w.members, v)
	}
	if h := fmt.Sprint(vip); len(w.holders) == 0 || w.holders[len(w.holders)-1] != h {
		w.holders = append(w.holders, h)
	}
}

// Stop ends the watch and returns its summary.
func (w *watch) Stop() *watch {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.dual); n > 0 && w.dual[n-1].End.IsZero() {
		w.dual[n-1].End = time.Now()
	}
	return w
}

// dualTime is how long the audits found the VIP on two nodes.
func (w *watch) dualTime() time.Duration {
	var d time.Duration
	for _, win := range w.dual {
		d += win.End.Sub(win.Start)
	}
	return d
}

func (w *watch) String() string {
	s := fmt.Sprintf("VIP holders %s", strings.Join(w.holders, " -> "))
	if len(w.dual) > 0 {
		s += fmt.Sprintf("; VIP on two nodes %d time(s), %s in all (audits)", len(w.dual), w.dualTime().Round(time.Second))
	}
	return s + fmt.Sprintf("; %d membership view(s)", len(w.members))
}

// expectTwoOwners declares the log lines of a cluster that finds its
// resources active on both nodes once they hear each other again (after a
// freeze, a loss that broke the membership, a partition), and recovers:
// Pacemaker stops them everywhere and starts them on one node, saying so
// as errors; heartbeat v1 calls the peer's return after a partition
// critical, finds both nodes owning the resources and restarts itself on
// one of them, which gives them up (a start of heartbeat in a container
// logs that it may neither set its scheduler nor lock its memory).
func (e *env) expectTwoOwners(why string) {
	if e.c.Pacemaker() {
		e.expectLogs(why,
			`error: (ocf|lsb) resource (`+regexp.QuoteMeta(provision.IPResource)+`|`+regexp.QuoteMeta(provision.ServiceResource)+`) might be active on 2 nodes \(attempting recovery\)`,
			`error: Calculated transition \d+ \(with errors\), saving inputs in /var/lib/pacemaker/pengine/pe-error-\d+\.bz2`)
		return
	}
	e.expectLogs(why,
		`CRIT: Cluster node \S+ returning after partition\.`,
		`CRIT: Late heartbeat: Node \S+: interval \d+ ms \(> deadtime\)`,
		`ERROR: Both machines own (our|foreign) resources!`,
		`ERROR: Unable to set scheduler parameters\.: Operation not permitted`,
		`ERROR: Cannot lock ourselves into memory:  System limits on locked-in memory are too small\.`,
		// The restart of a heartbeat that was frozen may find its
		// communication children not reading: a write to their pipes
		// fails (EAGAIN; after the first kill, EINVAL on the next pipe),
		// heartbeat kills and restarts them all, has no channel to send
		// on meanwhile, and says each child's death (CI: the restart
		// after pause-daemon logged the whole sequence at once).
		`ERROR: Cannot write to media pipe \d+: (Resource temporarily unavailable|Invalid argument)`,
		`ERROR: Killing and restarting communications processes\.: (Resource temporarily unavailable|Invalid argument)`,
		`CRIT: send_to_all_media: No working comm channels to write to\.`,
		`ERROR: (HBREAD|HBWRITE) process died\.  Beginning communications restart process for comm channel \d+\.`,
		`ERROR: Both comm processes for channel \d+ have died\.  Restarting\.`)
}

// expectSendDropped declares what a packet dropped on its way out costs
// heartbeat v1: iptables' DROP in OUTPUT fails its sendto with EPERM,
// which it logs as errors (corosync's knet says nothing at that level).
func (e *env) expectSendDropped(why string) {
	if e.c.Pacemaker() {
		return
	}
	e.expectLogs(why,
		`ERROR: glib: ucast_write: Unable to send HBcomm packet \S+ [\d.]+:\d+ len=\d+ \[-?\d+\]: Operation not permitted`,
		`ERROR: write_child: write failure on ucast \S+\.: Operation not permitted`)
}

// fencing says whether the lab fences lost nodes (fencing.agent set and
// the stack able to): the pause specs then expect the frozen node fenced.
func (e *env) fencing() bool { return e.lab.Cfg.FencingOn() && e.c.Stack.Fence != nil }

// guard registers the heal of a fault before it is injected, as inject
// does, but heals again while the nodes do not all become members:
// heartbeat v1, after it found both nodes owning the resources, restarts
// itself, and the restarted daemon may stop again after a heal that found
// it running.
func (e *env) guard(kind, node string) {
	DeferCleanup(func(ctx SpecContext) {
		By("healing " + node)
		for round := 1; round <= 3; round++ {
			e.healAll(ctx, "after "+kind)
			if e.members(ctx, 150*time.Second) {
				break
			}
			fmt.Fprintf(GinkgoWriter, "not every node a member %d heal(s) after %s: healing again\n", round, kind)
		}
		e.converged(ctx)
	}, NodeTimeout(12*time.Minute))
}

// injectJepsen is env.inject with guard's heal.
func (e *env) injectJepsen(ctx context.Context, kind, node string) {
	e.guard(kind, node)
	By(kind + " " + node)
	timeline.injecting(kind, node)
	ExpectWithOffset(1, e.c.Inject(ctx, kind, node)).To(Succeed())
}

// members waits up to d for every node's daemon to run and see every
// node; it says whether they did.
func (e *env) members(ctx context.Context, d time.Duration) bool {
	all := slices.Sorted(slices.Values(e.c.Names())) // as ParseAudit sorts members
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		a := e.c.Audit(ctx)
		ok := true
		for _, n := range a.Nodes {
			if !n.DaemonUp || !slices.Equal(n.Members, all) {
				ok = false
			}
		}
		if ok {
			return true
		}
		if sleep(ctx, 2*time.Second) != nil {
			return false
		}
	}
	return false
}

// thaw undoes the fault on node (and only the fault) and waits for one
// owner; it returns the owner, how long that took and, when a node's
// cluster daemon did not come back by itself, which (heartbeat v1 may
// stop itself after it found both nodes owning the resources; the spec's
// heal restarts it).
func (e *env) thaw(ctx context.Context, node string) (string, time.Duration, []string) {
	By("undoing the fault on " + node + ": the cluster must converge to one owner")
	start := time.Now()
	timeline.healing()
	did, err := e.c.Thaw(ctx, node)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	fmt.Fprintf(GinkgoWriter, "thawed %s: %s\n", node, strings.Join(did, "; "))
	final, down := e.oneOwner(ctx)
	took := time.Since(start)
	fmt.Fprintf(GinkgoWriter, "one owner, %s, %s after the fault was undone; daemons down: %v\n", final, took.Round(time.Second), down)
	for _, rules := range []func(context.Context, string) ([]string, error){e.c.DropRules, e.c.PartitionRules} {
		left, err := rules(ctx, node)
		ExpectWithOffset(1, err).NotTo(HaveOccurred())
		ExpectWithOffset(1, left).To(BeEmpty(), "the harness's rules left behind")
	}
	return final, took, down
}

// oneOwner waits until the VIP answers from one node, which alone holds
// the VIP and runs the service, the same for 10 s. On Pacemaker every
// node must also be a member again in every view (converged). Heartbeat
// v1 resolves two owners by restarting itself on both nodes: the one
// that comes back waits initdead before it takes the resources, and the
// other may stay down; the wait covers initdead, and the nodes whose
// daemon is down at the end are returned, not failed.
func (e *env) oneOwner(ctx context.Context) (string, []string) {
	if e.c.Pacemaker() {
		return e.converged(ctx), nil
	}
	t := e.lab.Cfg.Timings
	var owner string
	var down []string
	EventuallyWithOffset(2, func(g Gomega) {
		check := func() string {
			o, err := e.owner(ctx)
			g.Expect(err).NotTo(HaveOccurred(), "GET %s", e.vipURL())
			a := e.c.Audit(ctx)
			timeline.audited(a)
			g.Expect(a.VIPHolders()).To(Equal([]string{o}), a.String())
			g.Expect(a.ServiceOn()).To(Equal([]string{o}), a.String())
			down = nil
			for _, n := range a.Nodes {
				if !n.DaemonUp {
					down = append(down, n.Node)
				}
			}
			return o
		}
		first := check()
		g.Expect(sleep(ctx, 10*time.Second)).To(Succeed())
		g.Expect(check()).To(Equal(first), "owner changed while settling")
		owner = first
	}).WithContext(ctx).WithTimeout(time.Duration(t.Initdead+t.Deadtime)*time.Second + 2*time.Minute).WithPolling(time.Second).Should(Succeed())
	return owner, down
}

// expectHeartbeatClientGone declares heartbeat's refusal of an audit's
// API client that is gone by the time heartbeat, frozen, reads its
// registration. An audit's cl_status (or crm_mon) that asked to register
// while heartbeat was frozen gave up when its SSH session ended
// (pause-daemon), or was frozen with the machine and dies of the closed
// session's SIGHUP on resume (pause). heartbeat's api_add_client finds no
// such pid ("bad pid") and logs the refusal with the client's id still
// empty.
func (e *env) expectHeartbeatClientGone() {
	if e.c.Stack.Messaging != "heartbeat" {
		return
	}
	e.expectLogs("an audit's heartbeat API client that gave up while heartbeat was frozen is gone when heartbeat reads its registration",
		`heartbeat: \[\d+\]: ERROR: api_process_registration_msg: cannot add client\(\)$`)
}

// expectFrozenIPCClient declares the line of a Pacemaker daemon whose IPC
// client, frozen with the machine in the middle of its handshake, went
// away before the daemon's reply: libqb logs "Error in connection setup
// (/dev/shm/qb-SERVER-CLIENT-FD-X/qb): Broken pipe". Two clients do that:
//   - pacemakerd checks each subdaemon's IPC every few seconds and waits
//     at most 2 s for the reply (Pacemaker 2.1.5): frozen in that wait,
//     it finds the time gone on resume and hangs up (the CIB manager
//     logs the line);
//   - a tool (an audit's crm_mon asks pacemakerd) frozen in its handshake
//     dies on resume with its ended SSH session, or when a fence kills the
//     frozen container: docker thaws a paused container it kills, and its
//     processes run for an instant before they die (measured: a loop in a
//     paused container advanced after `docker kill`), pacemakerd answering
//     a client already dead (CI: the fenced node's first line).
//
// Which daemon logs it is a race, so the line is declared for every
// Pacemaker daemon, and only for this errno: any other setup failure is
// news.
func (e *env) expectFrozenIPCClient() {
	if !e.c.Pacemaker() {
		return
	}
	e.expectLogs("a client frozen with the machine in its IPC handshake gave up on resume before the daemon's reply",
		`(pacemakerd|pacemaker-(based|fenced|execd|attrd|schedulerd|controld))\[\d+\]:\s+error: Error in connection setup \(/dev/shm/qb-\d+-\d+-\d+-\w+/qb\): Broken pipe \(32\)$`)
}

// downNote says whose cluster daemon was down when one owner settled.
func downNote(down []string) string {
	if len(down) == 0 {
		return "every node's daemon up"
	}
	return fmt.Sprintf("the cluster daemon of %v down then (restarting itself, or stopped: the heal starts it)", down)
}

// pause is the shape of both pause specs: freeze the owner (the machine
// or its messaging daemon) until the peer has taken over and a little
// longer, then resume it.
func (e *env) pause(ctx context.Context, kind string) {
	owner := e.stable(ctx)
	survivor, bound := e.c.Peer(owner), e.bound()
	e.expectTwoOwners("after the freeze both nodes held the resources; the cluster recovers to one")
	if kind == harness.Pause {
		e.expectFrozenIPCClient()
	}
	e.expectHeartbeatClientGone()
	// the heal may start the frozen node's stack again, and with fencing
	// the fence reboots the node
	e.expectStackStart()
	mark, err := e.c.BootMark(ctx, owner)
	Expect(err).NotTo(HaveOccurred())
	e.probe(ctx)
	w := e.watch(ctx)
	defer w.Stop()
	e.injectJepsen(ctx, kind, owner)
	frozen := time.Now()

	if e.fencing() {
		// With fencing, the survivor must fence the node it lost before it
		// takes the resources: the frozen node is powered off or rebooted,
		// and it never holds the VIP beside the survivor.
		By("with fencing: " + survivor + " fences " + owner + " and serves")
		Eventually(func(g Gomega) {
			g.Expect(e.fenced(ctx, owner, mark)).To(BeTrue(), owner+" was not fenced")
		}).WithContext(ctx).WithTimeout(bound + 2*time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		e.servedBy(ctx, survivor, bound+time.Minute)
		w.Stop()
		rep, _ := e.report(kind, bound, prober.Passed, fmt.Sprintf("%s fenced after the freeze; %s", owner, w))
		Expect(rep.DualOwner).To(BeFalse(), rep.String())
		Expect(w.max).To(BeNumerically("<=", 1), "two VIP holders with fencing on: "+w.String())
		return
	}

	// Without fencing: the peer takes over, whatever the frozen node holds.
	By("waiting for " + survivor + " to take over while " + owner + " is frozen")
	var takeover time.Duration
	if kind == harness.Pause {
		// The frozen node answers nothing: the clients see the survivor.
		e.servedBy(ctx, survivor, bound+30*time.Second)
		takeover = time.Since(frozen)
	}
	Eventually(func(g Gomega) {
		actx, cancel := context.WithTimeout(ctx, 8*time.Second)
		defer cancel()
		a := e.c.Audit(actx)
		g.Expect(a.VIPHolders()).To(ContainElement(survivor), a.String())
		g.Expect(a.ServiceOn()).To(ContainElement(survivor), a.String())
	}).WithContext(ctx).WithTimeout(bound + 30*time.Second).Should(Succeed())
	if takeover == 0 {
		takeover = time.Since(frozen) // as the audits saw it
	}
	// Longer than the detection time, by construction: frozen until the
	// peer took over, and 5 s more.
	time.Sleep(5 * time.Second)
	held := time.Since(frozen)

	final, took, down := e.thaw(ctx, owner)
	w.Stop()
	note := fmt.Sprintf("frozen %s (peer took over after %s); after resume one owner, %s, in %s, %s; %s; %s",
		held.Round(time.Second), takeover.Round(time.Second), final, took.Round(time.Second), downNote(down), w, e.noFencing())
	rep, _ := e.report(kind, bound, prober.Passed, note)
	if len(rep.Outages) > 0 {
		Expect(rep.Outages[0].Length).To(BeNumerically("<=", bound), "the takeover's outage beyond the bound: "+rep.String())
	}
	Expect(rep.Recovered).To(BeTrue(), rep.String())
}

// fenced says whether node's machine was fenced since mark (its boot
// mark): the provider says it is off, or it booted again.
func (e *env) fenced(ctx context.Context, node, mark string) bool {
	if on, err := e.lab.Provider.Running(ctx, node); err == nil && !on {
		return true
	}
	if p, ok := e.lab.Provider.(lab.Pauser); ok {
		if paused, err := p.Paused(ctx, node); err != nil || paused {
			return false
		}
	}
	actx, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	now, err := e.c.BootMark(actx, node)
	return err == nil && now != mark
}

// drop is the shape of the packet-loss specs: the owner loses a share of
// its cluster packets for a while; the watch says what the cluster did.
func (e *env) drop(ctx context.Context, kind string, hold time.Duration) (owner string, rep prober.Report, w *watch, took time.Duration) {
	owner = e.stable(ctx)
	bound := e.bound()
	e.expectSendDropped("the " + kind + " rules drop the owner's packets on their way out")
	e.probe(ctx)
	w = e.watch(ctx)
	defer w.Stop()
	e.injectJepsen(ctx, kind, owner)
	rules, err := e.c.DropRules(ctx, owner)
	Expect(err).NotTo(HaveOccurred())
	Expect(rules).NotTo(BeEmpty(), "no packet-fault rule on "+owner)
	By(fmt.Sprintf("holding the loss for %s", hold))
	Expect(sleep(ctx, hold)).To(Succeed())
	final, took, down := e.thaw(ctx, owner)
	w.Stop()
	rep, _ = e.report(kind, bound, prober.Passed, fmt.Sprintf("%s on %s for %s; %s; one owner, %s, %s after the heal, %s",
		kind, owner, hold, w, final, took.Round(time.Second), downNote(down)))
	return owner, rep, w, took
}

// note sets the note of the entry the current spec reported last.
func (l *specLog) note(n string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.entry != nil {
		l.entry.Note = n
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// lossHold is how long the packet loss lasts: two detection times,
// and at least 30 s: long enough for a loss that breaks the membership
// to break it.
func (e *env) lossHold() time.Duration {
	return max(30*time.Second, 2*e.c.Stack.Detection(e.lab.Cfg.Timings))
}

// HeavyLabel marks the specs that take more than a minute or two per
// stack (heartbeat v1's restart after a freeze waits its initdead): the
// default run, which must stay within 10 minutes per stack, leaves them
// out; halab test --heavy (and CI) runs them.
var _ = Describe("jepsen", Serial, Label("jepsen"), func() {
	It("pause of the owner's machine: the peer takes over; after resume, one owner", Label("pause", HeavyLabel), func(ctx SpecContext) {
		if _, ok := E.lab.Provider.(lab.Pauser); !ok {
			Skip("the " + E.lab.Provider.Name() + " provider cannot freeze a machine: only the pause-daemon spec applies")
		}
		E.pause(ctx, harness.Pause)
	}, SpecTimeout(12*time.Minute))

	It("pause of the owner's messaging daemon: the peer takes over; after resume, one owner", Label("pause-daemon", HeavyLabel), func(ctx SpecContext) {
		E.pause(ctx, harness.PauseDaemon)
	}, SpecTimeout(12*time.Minute))

	It("20 % packet loss on the owner's private NIC: the VIP keeps serving (heartbeat: one owner throughout); one owner after the heal", Label("no-fencing", "loss-20", HeavyLabel), func(ctx SpecContext) {
		E.expectTwoOwners("corosync's membership may break under 20 % loss (measured: once in three runs); the cluster recovers to one owner")
		owner, rep, w, _ := E.drop(ctx, harness.Loss20, E.lossHold())
		// What holds on every stack: the VIP never stops answering for
		// longer than the bound, and one owner after the heal.
		Expect(rep.LongestOutage).To(BeNumerically("<=", E.bound()), rep.String())
		Expect(rep.Recovered).To(BeTrue(), rep.String())
		// Heartbeat declares a node dead only after deadtime/keepalive
		// heartbeats lost in a row: at 20 %, 0.2^10 with the article's
		// timings. There the membership must hold: one owner throughout.
		// Corosync's knet and token can break under 20 % loss: reported.
		t := E.lab.Cfg.Timings
		if E.c.Stack.Messaging == "heartbeat" && t.Keepalive > 0 && t.Deadtime/t.Keepalive >= 6 {
			Expect(rep.Owners).To(Equal([]string{owner}), rep.String())
			Expect(rep.Failures).To(BeZero(), rep.String())
			Expect(w.max).To(Equal(1), w.String())
		}
	}, SpecTimeout(12*time.Minute))

	It("50 % packet loss on the owner's private NIC: reported; one owner after the heal", Label("no-fencing", "loss-50", HeavyLabel), func(ctx SpecContext) {
		E.expectTwoOwners("50 % loss breaks the membership: both sides take the resources; the cluster recovers to one")
		_, rep, _, _ := E.drop(ctx, harness.Loss50, E.lossHold())
		Expect(rep.Recovered).To(BeTrue(), rep.String())
	}, SpecTimeout(12*time.Minute))

	It("one-way partition (the owner's packets to its peer dropped): the peer takes over; one owner after the heal", Label("no-fencing", "one-way"), func(ctx SpecContext) {
		owner := E.stable(ctx)
		survivor, bound := E.c.Peer(owner), E.bound()
		E.expectTwoOwners("the one-way partition splits the membership: both sides hold the resources until it heals")
		E.expectSendDropped("the one-way partition drops the owner's packets on their way out")
		E.probe(ctx)
		w := E.watch(ctx)
		defer w.Stop()
		E.injectJepsen(ctx, harness.OneWay, owner)
		By("waiting for " + survivor + " to take over: it hears nothing from " + owner)
		Eventually(func(g Gomega) {
			a := E.c.Audit(ctx)
			g.Expect(a.VIPHolders()).To(ContainElement(survivor), a.String())
			g.Expect(a.ServiceOn()).To(ContainElement(survivor), a.String())
		}).WithContext(ctx).WithTimeout(bound + 30*time.Second).Should(Succeed())
		a := E.c.Audit(ctx)
		timeline.audited(a)
		holders := a.VIPHolders()
		if !E.fencing() {
			// The owner hears its peer but is not heard: the peer takes
			// over, the owner keeps what it holds (no fencing to stop it).
			Expect(holders).To(ConsistOf(owner, survivor), "both hold the VIP: "+a.String())
		}
		final, took, down := E.thaw(ctx, owner)
		w.Stop()
		E.report(harness.OneWay, bound, prober.Passed, fmt.Sprintf("VIP on %v when %s took over; one owner, %s, %s after the heal, %s; %s; %s",
			holders, survivor, final, took.Round(time.Second), downNote(down), w, E.noFencing()))
	}, SpecTimeout(12*time.Minute))

	It("flapping partition (cut and healed every 5 s for a minute): one owner after, the total outage reported", Label("no-fencing", "flap", HeavyLabel), func(ctx SpecContext) {
		owner := E.stable(ctx)
		bound := E.bound()
		E.expectTwoOwners("each cut longer than the detection time splits the membership; each heal recovers to one owner")
		E.expectSendDropped("each cut drops the owner's packets on their way out")
		E.probe(ctx)
		w := E.watch(ctx)
		defer w.Stop()
		E.guard(harness.Flap, owner)
		// "flap NODE", as inject says it: halab test's interrupt names it.
		By(harness.Flap + " " + owner)
		fmt.Fprintf(GinkgoWriter, "flapping the partition of %s every %s for %s\n", owner, harness.FlapEvery, harness.FlapFor)
		timeline.injecting(harness.Flap, owner)
		cuts, err := E.c.Flap(ctx, owner, harness.FlapEvery, harness.FlapFor, nil)
		Expect(err).NotTo(HaveOccurred())
		final, took, down := E.thaw(ctx, owner)
		w.Stop()
		rep, _ := E.report(harness.Flap, bound, prober.Passed, "")
		note := fmt.Sprintf("%d cuts; total outage %s in %d outage(s); one owner, %s, %s after the last heal, %s; %s",
			cuts, rep.TotalOutage.Round(10*time.Millisecond), len(rep.Outages), final, took.Round(time.Second), downNote(down), w)
		fmt.Fprintln(GinkgoWriter, note)
		timeline.note(note)
		Expect(cuts).To(BeNumerically(">=", 5))
		Expect(rep.Recovered).To(BeTrue(), rep.String())
		Expect(slices.Contains(E.c.Names(), final)).To(BeTrue())
	}, SpecTimeout(12*time.Minute))
})
