package scenarios

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"halab/scenarios/harness"
	"halab/scenarios/prober"
)

// Pacemaker's Cluster Test Suite (CTS, python/pacemaker/_cts/tests in
// ClusterLabs/pacemaker) tests the cluster's life cycle: nodes' stacks
// stopped and started one by one, all at once, or interrupted while they
// start. These are its tests that apply to two nodes, with the outcome
// CTS expects, on every stack: starting and stopping the stack is what
// every stack can do. Standby is the "standby" spec of failover_test.go.

// armHeal registers, before any fault of the spec, the heal of every
// node (it starts stopped stacks) and the wait for the cluster to
// converge: on failure, timeout and interrupt too.
func (e *env) armHeal(why string) {
	DeferCleanup(func(ctx SpecContext) {
		By("healing every node")
		e.healAll(ctx, "after "+why)
		e.converged(ctx)
	}, NodeTimeout(8*time.Minute))
}

// lifecycle starts or stops the stack (harness.StartMessaging or
// StopMessaging) on the nodes, all at once when there are several, as
// CTS's SimulStartLite and SimulStopLite do; armHeal must come first.
func (e *env) lifecycle(ctx context.Context, kind string, nodes ...string) {
	// one step per node: "KIND NODE" is what halab test follows to name
	// the faults a cut-short run may leave
	for _, n := range nodes {
		By(kind + " " + n)
	}
	timeline.injecting(kind, strings.Join(nodes, "+"))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.c.Inject(ctx, kind, n)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		ExpectWithOffset(1, err).NotTo(HaveOccurred())
	}
}

// stopped waits until the stack no longer answers on node and nothing of
// the resources is left there: no VIP on its NIC, the service stopped.
func (e *env) stopped(ctx context.Context, node string) {
	EventuallyWithOffset(1, func(g Gomega) {
		a := e.c.Audit(ctx)
		timeline.audited(a)
		for _, n := range a.Nodes {
			if n.Node != node {
				continue
			}
			g.Expect(n.Reachable).To(BeTrue(), n.Err)
			g.Expect(n.DaemonUp).To(BeFalse(), "the stack still answers on %s: %s", node, a)
			g.Expect(n.VIP).To(BeFalse(), "%s stopped its stack but holds the VIP: %s", node, a)
			g.Expect(n.Service).To(BeFalse(), "%s stopped its stack but runs the service: %s", node, a)
		}
	}).WithContext(ctx).WithTimeout(e.stopWithin()).WithPolling(time.Second).Should(Succeed())
}

// stopWithin bounds a clean stop of the stack: the service's stop, the
// VIP's, the daemons' own shutdown, and the membership's detection.
func (e *env) stopWithin() time.Duration {
	return time.Duration(e.lab.Cfg.Service.StopTimeout)*time.Second + e.c.Stack.Detection(e.lab.Cfg.Timings) + 30*time.Second
}

// startWithin bounds a start of the stack until the resources serve: the
// membership layer's own wait for its peers, and the service's start.
func (e *env) startWithin() time.Duration {
	return e.c.Stack.MembershipTimeout(e.lab.Cfg.Timings) + *serviceFlag
}

// alone waits until node serves the VIP alone and sees itself as the only
// member: its peer's stack is stopped, as CTS's "They_stopped" says.
func (e *env) alone(ctx context.Context, node string, within time.Duration) {
	EventuallyWithOffset(1, func(g Gomega) {
		o, err := e.owner(ctx)
		g.Expect(err).NotTo(HaveOccurred(), "GET %s", e.vipURL())
		g.Expect(o).To(Equal(node))
		a := e.c.Audit(ctx)
		timeline.audited(a)
		g.Expect(a.VIPHolders()).To(Equal([]string{node}), a.String())
		g.Expect(a.ServiceOn()).To(Equal([]string{node}), a.String())
		for _, n := range a.Nodes {
			if n.Node == node {
				g.Expect(n.Members).To(Equal([]string{node}), "members as %s sees them: %s", node, a)
			}
		}
	}).WithContext(ctx).WithTimeout(within).WithPolling(time.Second).Should(Succeed())
}

// joined waits until every node is a member in every node's view and one
// node serves, holding the VIP and the service alone: the cluster as CTS's
// SimulStartLite leaves it. It returns the owner.
func (e *env) joined(ctx context.Context, within time.Duration) string {
	var owner string
	EventuallyWithOffset(1, func(g Gomega) {
		a := e.c.Audit(ctx)
		timeline.audited(a)
		for _, n := range a.Nodes {
			g.Expect(n.Members).To(ConsistOf(e.c.Names()), "members as %s sees them: %s", n.Node, a)
		}
		owner = e.checkStable(ctx, g)
	}).WithContext(ctx).WithTimeout(within).WithPolling(time.Second).Should(Succeed())
	return owner
}

// stopAll stops every node's stack at once, as CTS's SimulStopLite does,
// and waits until each has stopped and nothing serves.
func (e *env) stopAll(ctx context.Context) {
	By("stopping every node's stack (CTS's SimulStopLite)")
	e.lifecycle(ctx, harness.StopMessaging, e.c.Names()...)
	for _, n := range e.c.Names() {
		e.stopped(ctx, n)
	}
	e.nothingServes(ctx)
}

// nothingServes checks that no node holds the VIP or runs the service and
// that the VIP does not answer: the whole cluster is stopped.
func (e *env) nothingServes(ctx context.Context) {
	a := e.c.Audit(ctx)
	timeline.audited(a)
	ExpectWithOffset(1, a.VIPHolders()).To(BeEmpty(), a.String())
	ExpectWithOffset(1, a.ServiceOn()).To(BeEmpty(), a.String())
	_, err := e.owner(ctx)
	ExpectWithOffset(1, err).To(HaveOccurred(), "the VIP answers with every stack stopped")
}

// ctsReport stops the probe and reports the spec's entry, with the probes
// before since (zero: none) analysed apart, and returns both reports.
func (e *env) ctsReport(scenario string, bound time.Duration, note string, since time.Time) (all, before prober.Report) {
	all, _ = e.report(scenario, bound, prober.Passed, note)
	samples := e.run.Stop()
	i := slices.IndexFunc(samples, func(s prober.Sample) bool { return !s.At.Before(since) })
	if i < 0 {
		i = len(samples)
	}
	return all, prober.Analyze(samples[:i], time.Second)
}

var _ = Describe("cts", Serial, Label("cts", "no-fencing"), func() {
	It("CTS Flip: the standby node's stack stops and starts again; the owner serves throughout", Label("cts-flip", "graceful"), func(ctx SpecContext) {
		owner := E.stable(ctx)
		peer := E.c.Peer(owner)
		bound := E.bound()
		E.armHeal("Flip")
		E.expectStackStart()
		E.probe(ctx)

		E.lifecycle(ctx, harness.StopMessaging, peer)
		E.stopped(ctx, peer)
		E.alone(ctx, owner, E.stopWithin())

		started := time.Now()
		E.lifecycle(ctx, harness.StartMessaging, peer)
		E.joined(ctx, E.startWithin())
		// converged: a rejoin may move the resources (auto_failback), not at once
		final := E.converged(ctx)
		want, why := E.afterRejoin(peer, owner)
		note := fmt.Sprintf("%s stopped and started; the VIP on %s after (%s)", peer, final, why)
		rep, down := E.ctsReport("cts-flip", bound, note, started)
		Expect(down.Failures).To(BeZero(), "the owner stopped serving while its peer's stack was down: "+down.String())
		Expect(rep.Recovered).To(BeTrue(), rep.String())
		Expect(rep.DualOwner).To(BeFalse(), rep.String())
		Expect(rep.LongestOutage).To(BeNumerically("<=", bound), "outage beyond the bound: "+rep.String())
		if want != "" {
			Expect(final).To(Equal(want), why)
		}
	}, SpecTimeout(10*time.Minute))

	It("CTS Restart: the owner's stack stops and starts; the VIP moves within the bound, the node rejoins", Label("cts-restart", HeavyLabel, "graceful"), func(ctx SpecContext) {
		owner := E.stable(ctx)
		peer := E.c.Peer(owner)
		bound := E.bound()
		E.armHeal("Restart")
		E.expectStackStart()
		E.probe(ctx)

		E.lifecycle(ctx, harness.StopMessaging, owner)
		E.stopped(ctx, owner)
		E.alone(ctx, peer, bound+E.stopWithin())

		E.lifecycle(ctx, harness.StartMessaging, owner)
		E.joined(ctx, E.startWithin())
		// converged: a rejoin may move the resources (auto_failback), not at once
		final := E.converged(ctx)
		want, why := E.afterRejoin(owner, peer)
		rep, _ := E.ctsReport("cts-restart", bound, fmt.Sprintf("%s stopped, %s served, %s rejoined; the VIP on %s after (%s)", owner, peer, owner, final, why), time.Time{})
		Expect(rep.Recovered).To(BeTrue(), rep.String())
		Expect(rep.DualOwner).To(BeFalse(), rep.String())
		Expect(slices.Equal(rep.Owners[:min(2, len(rep.Owners))], []string{owner, peer})).To(BeTrue(), "the VIP moves from %s to %s first: %s", owner, peer, rep)
		Expect(rep.LongestOutage).To(BeNumerically("<=", bound), "outage beyond the bound: "+rep.String())
		if want != "" {
			Expect(final).To(Equal(want), why)
		}
	}, SpecTimeout(10*time.Minute))

	It("CTS StartOnebyOne: with every stack stopped, the nodes start one after the other; one owner", Label("cts-startonebyone", HeavyLabel), func(ctx SpecContext) {
		E.stable(ctx)
		E.armHeal("StartOnebyOne")
		E.expectStackStart()
		E.stopAll(ctx)

		E.probe(ctx)
		for _, n := range E.c.Names() {
			E.lifecycle(ctx, harness.StartMessaging, n)
			E.up(ctx, n)
		}
		owner := E.joined(ctx, E.startWithin())
		rep, _ := E.ctsReport("cts-startonebyone", E.startWithin(), "outage: from the first start until the VIP served; owner "+owner, time.Time{})
		Expect(rep.Recovered).To(BeTrue(), rep.String())
		Expect(rep.DualOwner).To(BeFalse(), rep.String())
		Expect(rep.Owners).To(Equal([]string{owner}), rep.String())
		Expect(rep.LongestOutage).To(BeNumerically("<=", E.startWithin()), rep.String())
	}, SpecTimeout(12*time.Minute))

	It("CTS StopOnebyOne: the nodes' stacks stop one after the other; the VIP moves, then nothing is left running", Label("cts-stoponebyone", HeavyLabel), func(ctx SpecContext) {
		owner := E.stable(ctx)
		peer := E.c.Peer(owner)
		bound := E.bound()
		E.armHeal("StopOnebyOne")
		E.expectStackStart()
		E.probe(ctx)

		E.lifecycle(ctx, harness.StopMessaging, owner)
		E.stopped(ctx, owner)
		E.alone(ctx, peer, bound+E.stopWithin())
		rep, _ := E.ctsReport("cts-stoponebyone", bound, fmt.Sprintf("outage: %s stopped first, %s served; then %s stopped: nothing serves", owner, peer, peer), time.Time{})
		Expect(rep.Recovered).To(BeTrue(), rep.String())
		Expect(rep.DualOwner).To(BeFalse(), rep.String())
		Expect(rep.Owners).To(Equal([]string{owner, peer}), rep.String())
		Expect(rep.LongestOutage).To(BeNumerically("<=", bound), "outage beyond the bound: "+rep.String())

		E.lifecycle(ctx, harness.StopMessaging, peer)
		E.stopped(ctx, peer)
		E.nothingServes(ctx)
	}, SpecTimeout(12*time.Minute))

	It("CTS RestartOnebyOne: each node's stack is restarted in turn; one owner after each, within the bound", Label("cts-restartonebyone", HeavyLabel), func(ctx SpecContext) {
		E.stable(ctx)
		bound := E.bound()
		E.armHeal("RestartOnebyOne")
		E.expectStackStart()
		E.probe(ctx)
		var owners []string
		for _, n := range E.c.Names() {
			E.lifecycle(ctx, harness.StopMessaging, n)
			E.stopped(ctx, n)
			E.alone(ctx, E.c.Peer(n), bound+E.stopWithin())
			E.lifecycle(ctx, harness.StartMessaging, n)
			owners = append(owners, E.joined(ctx, E.startWithin()))
		}
		rep, _ := E.ctsReport("cts-restartonebyone", bound, fmt.Sprintf("restarted %s in turn; owner after each: %s", strings.Join(E.c.Names(), ", "), strings.Join(owners, ", ")), time.Time{})
		Expect(rep.Recovered).To(BeTrue(), rep.String())
		Expect(rep.DualOwner).To(BeFalse(), rep.String())
		Expect(rep.LongestOutage).To(BeNumerically("<=", bound), "outage beyond the bound: "+rep.String())
	}, SpecTimeout(15*time.Minute))

	It("CTS SimulStart: with every stack stopped, all start at once; one owner within the bound", Label("cts-simulstart", HeavyLabel), func(ctx SpecContext) {
		E.stable(ctx)
		E.armHeal("SimulStart")
		E.expectStackStart()
		E.stopAll(ctx)

		E.probe(ctx)
		E.lifecycle(ctx, harness.StartMessaging, E.c.Names()...)
		owner := E.joined(ctx, E.startWithin())
		rep, _ := E.ctsReport("cts-simulstart", E.startWithin(), "outage: from the simultaneous start until the VIP served; owner "+owner, time.Time{})
		Expect(rep.Recovered).To(BeTrue(), rep.String())
		Expect(rep.DualOwner).To(BeFalse(), rep.String())
		Expect(rep.Owners).To(Equal([]string{owner}), "one owner, no move: "+rep.String())
		Expect(rep.LongestOutage).To(BeNumerically("<=", E.startWithin()), rep.String())
	}, SpecTimeout(12*time.Minute))

	It("CTS SimulStop: all stacks stop at once; the resources stop without moving, nothing is left running", Label("cts-simulstop", HeavyLabel), func(ctx SpecContext) {
		owner := E.stable(ctx)
		E.armHeal("SimulStop")
		E.expectStackStart()
		E.probe(ctx)
		E.stopAll(ctx)
		samples := E.run.Stop()
		rep := prober.Analyze(samples, time.Second)
		AddReportEntry(prober.EntryName, timeline.reported(prober.Entry{Scenario: "cts-simulstop", Stack: E.stack, Result: prober.Passed,
			Owners: rep.Owners, DualOwner: rep.DualOwner, Note: "both stacks stopped at once from owner " + owner + ": the VIP does not answer after"}, samples))
		fmt.Fprintf(GinkgoWriter, "prober: %s\n", rep)
		Expect(rep.DualOwner).To(BeFalse(), rep.String())
		Expect(rep.Owners).To(Equal([]string{owner}), "the resources stopped where they ran, no move: "+rep.String())
		Expect(rep.Recovered).To(BeFalse(), rep.String())
	}, SpecTimeout(12*time.Minute))

	It("CTS PartialStart: a node's stack stopped before its start finished stops cleanly; then one owner", Label("cts-partialstart", HeavyLabel), func(ctx SpecContext) {
		owner := E.stable(ctx)
		peer := E.c.Peer(owner)
		E.armHeal("PartialStart")
		E.expectStackStart()
		if E.c.Pacemaker() {
			E.partialStartPacemaker(ctx, peer)
			return
		}
		// heartbeat v1 has no controller to wait for: its init script
		// returns with heartbeat started, and the stop interrupts the
		// node's initdead wait for its peer while the owner serves.
		E.lifecycle(ctx, harness.StopMessaging, peer)
		E.stopped(ctx, peer)
		E.alone(ctx, owner, E.stopWithin())

		E.probe(ctx)
		E.lifecycle(ctx, harness.StartMessaging, peer)
		E.lifecycle(ctx, harness.StopMessaging, peer)
		E.stopped(ctx, peer)
		E.alone(ctx, owner, E.stopWithin())
		rep, _ := E.ctsReport("cts-partialstart", E.bound(), fmt.Sprintf("%s started and stopped at once; %s served throughout", peer, owner), time.Time{})
		Expect(rep.Failures).To(BeZero(), rep.String())
		Expect(rep.Owners).To(Equal([]string{owner}), rep.String())
	}, SpecTimeout(10*time.Minute))
})

// partialStartPacemaker is CTS's PartialStart (Pacemaker-2.1.5
// cts/lab/CTStests.py): every node's stack stopped, node started and,
// once its controller connects to the cluster layer (harness.
// ControllerConnecting), stopped; it must stop within the stop bound.
// Then every node starts (SimulStartLite) and the cluster settles on one
// owner.
//
// Not sooner: a stop that reaches pacemakerd while it forks its daemons
// is lost for the controller (Pacemaker 2.1.5 signals it between fork and
// exec), and the stop hangs for the unit's 30-minute stop timeout. Not
// with the peer running either: a DC makes the joining node probe its
// resources, and the stop then disconnects the executor under a probe in
// flight (the controller logs GLib assertions and "No executor
// connection" errors); CTS stops every node first.
func (e *env) partialStartPacemaker(ctx context.Context, node string) {
	// seen when the stop finds daemons that have not yet set up their
	// signal handlers: pacemakerd says each was terminated, as an error
	e.expectLogs("Pacemaker stopped while its daemons were still starting",
		`pacemakerd\[\d+\]:\s+error: pacemaker-(based|fenced|execd|attrd|schedulerd|controld)\[\d+\] terminated with signal 15 \(Terminated\)$`)
	e.stopAll(ctx)

	e.probe(ctx)
	mark := e.c.LogMark(ctx, node)
	Expect(mark.Err).NotTo(HaveOccurred())
	e.lifecycle(ctx, harness.StartMessaging, node)
	l, err := e.c.WaitLog(ctx, mark, harness.ControllerConnecting, e.startWithin())
	Expect(err).NotTo(HaveOccurred())
	fmt.Fprintf(GinkgoWriter, "stopping %s after: %s\n", node, l)
	e.lifecycle(ctx, harness.StopMessaging, node)
	e.stopped(ctx, node)
	e.nothingServes(ctx)

	By("starting every node's stack (CTS's SimulStartLite)")
	e.lifecycle(ctx, harness.StartMessaging, e.c.Names()...)
	owner := e.joined(ctx, e.startWithin())
	rep, _ := e.ctsReport("cts-partialstart", e.startWithin(), fmt.Sprintf("every stack stopped; %s started and stopped once its controller connected; then every stack started: owner %s", node, owner), time.Time{})
	Expect(rep.Recovered).To(BeTrue(), rep.String())
	Expect(rep.DualOwner).To(BeFalse(), rep.String())
	Expect(rep.Owners).To(Equal([]string{owner}), rep.String())
	Expect(rep.LongestOutage).To(BeNumerically("<=", e.startWithin()), rep.String())
}

// up waits until the node's stack answers and counts the node itself as
// a member: CTS's "Local_started"/"NonDC_started", before the next node
// starts.
func (e *env) up(ctx context.Context, node string) {
	EventuallyWithOffset(1, func(g Gomega) {
		a := e.c.Audit(ctx)
		timeline.audited(a)
		for _, n := range a.Nodes {
			if n.Node == node {
				g.Expect(n.DaemonUp).To(BeTrue(), "%s's stack does not answer yet: %s", node, a)
				g.Expect(n.Members).To(ContainElement(node), "%s does not count itself a member yet: %s", node, a)
			}
		}
	}).WithContext(ctx).WithTimeout(e.startWithin()).WithPolling(time.Second).Should(Succeed())
}
