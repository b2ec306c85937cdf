package scenarios

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"halab/lab/fence"
	"halab/provision"
	"halab/scenarios/harness"
	"halab/scenarios/prober"
	"halab/templates"
)

// The fencing scenarios (label fencing) run where the lab file fences
// (fencing.agent auto); the split-brain variants of kill-daemon and
// partition (label no-fencing) where it does not. capsFilter picks.

var (
	partitionsFlag = flag.Int("partitions", 5, "partitions in a row in the fencing partition scenario")
	fenceTimeFlag  = flag.Duration("fence-time", 30*time.Second, "allowance for a fence (the agent's power-off, and a reboot's power-on, which the cluster waits for), added to the failover bound in the fencing scenarios")
)

// fenceBound is the failover bound where the owner must be fenced first:
// the bound, plus the race guard's delay (the owner's fence waits for it
// with the priority and static guards, and up to it with random), plus
// the fence's own allowance.
func (e *env) fenceBound() time.Duration {
	return e.bound() + time.Duration(e.lab.Cfg.Fencing.Delay)*time.Second + *fenceTimeFlag
}

// fenceAllowance is what a failover may take longer on a lab that fences
// (the race guard's delay and a fence), for the waits; none without
// fencing.
func (e *env) fenceAllowance() time.Duration {
	if !e.lab.Cfg.FencingOn() {
		return 0
	}
	return time.Duration(e.lab.Cfg.Fencing.Delay)*time.Second + *fenceTimeFlag
}

// fencedBound is a failover's bound on a lab that fences, when the fault
// was fenced: the bound, plus the race guard's delay (the lost owner's
// fence waits for it with the priority guard), plus the longest fence's
// measured duration since the injection (a reboot: the cluster waits for
// the power-on too). Without a fence, the bound as it is.
func (e *env) fencedBound(bound time.Duration) time.Duration {
	since := timeline.injectedAt()
	if !e.lab.Cfg.FencingOn() || since.IsZero() {
		return bound
	}
	// A reboot's power-on completes (and is logged) a moment after the
	// agent saw the machine run: wait for it, a bounded while.
	var fs []fence.Fence
	for range 30 {
		var err error
		if fs, _, err = e.c.FenceLog(since.Add(-time.Second)); err != nil {
			fmt.Fprintf(GinkgoWriter, "reading the fence endpoint's log: %v\n", err)
			return bound
		}
		if !slices.ContainsFunc(fs, func(f fence.Fence) bool { return f.OK() && f.On.IsZero() }) {
			break
		}
		time.Sleep(time.Second)
	}
	var took time.Duration
	for _, f := range fs {
		if f.OK() {
			took = max(took, f.Time(), f.Reboot())
		}
	}
	if took == 0 {
		return bound
	}
	b := bound + time.Duration(e.lab.Cfg.Fencing.Delay)*time.Second + took
	if r := b % (100 * time.Millisecond); r != 0 {
		b += 100*time.Millisecond - r // up to the next 100 ms, as bounds are shown
	}
	return b
}

// raceWinner is the node the race guard lets win a partition: the owner
// with priority (its fencing waits), the first node with static; "" when
// the race is random or unguarded.
func (e *env) raceWinner(owner string) string {
	f, err := provision.FencingFor(e.lab.Cfg, e.c.Stack)
	Expect(err).NotTo(HaveOccurred())
	switch f.Guard {
	case templates.GuardPriority:
		return owner
	case templates.GuardStatic:
		return e.lab.Cfg.Nodes[0].Name
	}
	return ""
}

// fencesOf waits until the endpoint's log shows a fence of want since
// since, confirmed off (and, with on, powered on again), and returns every
// fence since then.
func (e *env) fencesOf(ctx context.Context, since time.Time, want string, on bool, within time.Duration) []fence.Fence {
	var fs []fence.Fence
	EventuallyWithOffset(1, func(g Gomega) {
		var err error
		fs, _, err = e.c.FenceLog(since)
		g.Expect(err).NotTo(HaveOccurred())
		i := slices.IndexFunc(fs, func(f fence.Fence) bool { return f.Node == want && f.OK() && (!on || !f.On.IsZero()) })
		g.Expect(i).To(BeNumerically(">=", 0), "no fence of %s in the endpoint's log since %s: %+v", want, since.Format(time.TimeOnly), fs)
	}).WithContext(ctx).WithTimeout(within).WithPolling(time.Second).Should(Succeed())
	return fs
}

// fenced sums up the fences for the entry: the nodes fenced and the
// longest fence time.
func fenced(fs []fence.Fence) (nodes []string, longest time.Duration) {
	for _, f := range fs {
		if !f.OK() {
			continue
		}
		nodes = append(nodes, f.Node)
		longest = max(longest, f.Time())
	}
	return nodes, longest
}

// dualHolders tracks, over a fault's audits, the longest stretch with two
// nodes holding the VIP.
type dualHolders struct {
	since   time.Time
	longest time.Duration
}

func (d *dualHolders) saw(a *harness.Audit) {
	if len(a.VIPHolders()) > 1 {
		if d.since.IsZero() {
			d.since = time.Now()
		}
		d.longest = max(d.longest, time.Since(d.since))
		return
	}
	d.since = time.Time{}
}

// addFences puts into a scenario's entry the fences since its fault was
// injected, on a lab that fences: the power-off, stop-messaging and
// other scenarios that fence as a side effect report them too.
func (e *env) addFences(entry *prober.Entry) {
	since := timeline.injectedAt()
	if !e.lab.Cfg.FencingOn() || since.IsZero() {
		return
	}
	fs, _, err := e.c.FenceLog(since.Add(-time.Second))
	if err != nil {
		fmt.Fprintf(GinkgoWriter, "reading the fence endpoint's log: %v\n", err)
		return
	}
	entry.Fenced, entry.FenceTime = fenced(fs)
	if n := fenceNote(fs); n != "" {
		entry.Note = strings.TrimPrefix(entry.Note+"; "+n, "; ")
	}
}

// reportFence adds the scenario's entry with its fences.
func (e *env) reportFence(scenario string, bound time.Duration, fs []fence.Fence, note string) (prober.Report, *prober.Entry) {
	time.Sleep(2 * time.Second) // see the owner serve for a while
	samples := e.run.Stop()
	rep := prober.Analyze(samples, time.Second)
	entry := prober.NewEntry(scenario, e.stack, bound, rep)
	entry.Fenced, entry.FenceTime = fenced(fs)
	entry.Note = note
	p := timeline.reported(entry, samples)
	AddReportEntry(prober.EntryName, p)
	fmt.Fprintf(GinkgoWriter, "prober: %s\n%s\n", rep, entry)
	return rep, p
}

// fenceNote says what the log tells of the fences.
func fenceNote(fs []fence.Fence) string {
	var s []string
	for _, f := range fs {
		switch {
		case !f.OK():
			s = append(s, fmt.Sprintf("%s's fence of %s failed (%s)", f.By, f.Node, f.Result))
		case f.On.IsZero():
			s = append(s, fmt.Sprintf("%s fenced %s: off in %s", f.By, f.Node, f.Time().Round(time.Millisecond)))
		default:
			s = append(s, fmt.Sprintf("%s fenced %s: off in %s, on again after %s", f.By, f.Node, f.Time().Round(time.Millisecond), f.Reboot().Round(100*time.Millisecond)))
		}
	}
	return strings.Join(s, "; ")
}

// healFault registers the heal of a fault the spec injects itself (and of
// the fence endpoint), before the injection, as env.inject does.
func (e *env) healFault(what string) {
	DeferCleanup(func(ctx SpecContext) {
		By("healing after " + what)
		e.healAll(ctx, "after "+what)
		e.converged(ctx)
	}, NodeTimeout(8*time.Minute))
}

var _ = Describe("fencing", Serial, Label("fencing"), func() {
	It("network partition of the owner: one node keeps the VIP, the other is fenced, reboots and rejoins after the heal; repeated", Label("network", "needs-power"), func(ctx SpecContext) {
		n := *partitionsFlag
		if n < 1 {
			Skip("-partitions=0")
		}
		E.expectStackStart()
		E.healFault("the partitions")
		bound := E.fenceBound()
		detection := E.c.Stack.Detection(E.lab.Cfg.Timings)
		var outages, fenceTimes []time.Duration
		for i := 1; i <= n; i++ {
			scenario := fmt.Sprintf("fenced partition %d/%d", i, n)
			By(scenario)
			owner := E.stable(ctx)
			power := E.c.WatchPower(ctx, 250*time.Millisecond, 5*time.Minute)
			since := time.Now()
			E.probe(ctx)
			timeline.injecting(harness.Partition, owner)
			Expect(E.c.Inject(ctx, harness.Partition, owner)).To(Succeed())

			By("waiting for one side to fence the other, and the VIP to serve from the winner")
			var dual dualHolders
			var fs []fence.Fence
			var winner string
			Eventually(func(g Gomega) {
				a := E.c.Audit(ctx)
				timeline.audited(a)
				dual.saw(a)
				var err error
				fs, _, err = E.c.FenceLog(since)
				g.Expect(err).NotTo(HaveOccurred())
				done := slices.IndexFunc(fs, func(f fence.Fence) bool { return f.OK() && !f.On.IsZero() })
				g.Expect(done).To(BeNumerically(">=", 0), "no completed fence yet: %+v", fs)
				winner = E.c.Peer(fs[done].Node)
				o, err := E.owner(ctx)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(o).To(Equal(winner))
				g.Expect(a.VIPHolders()).To(Equal([]string{winner}), a.String())
			}).WithContext(ctx).WithTimeout(bound + 30*time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
			power.Stop()
			loser := E.c.Peer(winner)
			if want := E.raceWinner(owner); want != "" {
				Expect(winner).To(Equal(want), "the race guard decides the winner (%s kept the VIP, %s was fenced)", winner, loser)
			}
			nodes, ft := fenced(fs)
			rep, _ := E.reportFence(scenario, bound, fs, fenceNote(fs)+fmt.Sprintf("; %s kept the VIP", winner))
			Expect(nodes).To(Equal([]string{loser}), "exactly one node fenced, once: %s", fenceNote(fs))
			Expect(power.OffNodes()).To(Equal([]string{loser}), "the provider saw only the fenced node off")
			Expect(dual.longest).To(BeNumerically("<=", detection), "two nodes held the VIP for %s", dual.longest)
			Expect(rep.DualOwner).To(BeFalse(), rep.String())
			Expect(rep.LongestOutage).To(BeNumerically("<=", bound), rep.String())
			outages, fenceTimes = append(outages, rep.LongestOutage), append(fenceTimes, ft)

			By("healing the partition: " + loser + " rejoins")
			timeline.healing()
			Expect(E.c.Inject(ctx, harness.Heal, owner)).To(Succeed())
			E.converged(ctx)
			Expect(E.c.PartitionRules(ctx, owner)).To(BeEmpty(), "rules left behind")
			// Never both: the rebooted node, without quorum while the
			// partition held, fenced nobody, before the heal or after.
			fs, _, err := E.c.FenceLog(since)
			Expect(err).NotTo(HaveOccurred())
			nodes, _ = fenced(fs)
			Expect(nodes).To(Equal([]string{loser}), "fences of round %d, through its heal: %s", i, fenceNote(fs))
		}
		fmt.Fprintf(GinkgoWriter, "partitions: outages %s; fence times %s\n", figures(outages), figures(fenceTimes))
		AddReportEntry("fenced partitions", fmt.Sprintf("%d partitions: outage %s; fence time %s", n, figures(outages), figures(fenceTimes)))
	}, SpecTimeout(40*time.Minute))

	It("SIGKILL of the messaging daemon on the owner: the peer fences it and takes over, one owner", Label("daemon", "needs-power"), func(ctx SpecContext) {
		E.expectCorosyncKilled()
		E.expectStackStart()
		E.expectLogs("the fenced owner's daemons lose the fencer while corosync is gone",
			`pacemaker-execd\[\d+\]:\s+error: Connection to stonith-ng (IPC failed|closed)$`)
		owner := E.stable(ctx)
		survivor := E.c.Peer(owner)
		bound := E.fenceBound()
		power := E.c.WatchPower(ctx, 250*time.Millisecond, 5*time.Minute)
		since := time.Now()
		E.probe(ctx)
		E.inject(ctx, harness.KillDaemon, owner)
		By("waiting for " + survivor + " to fence " + owner + " and serve the VIP")
		var dual dualHolders
		Eventually(func(g Gomega) {
			a := E.c.Audit(ctx)
			timeline.audited(a)
			dual.saw(a)
			o, err := E.owner(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(o).To(Equal(survivor))
			g.Expect(a.VIPHolders()).To(Equal([]string{survivor}), a.String())
		}).WithContext(ctx).WithTimeout(bound + 30*time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		fs := E.fencesOf(ctx, since, owner, false, 30*time.Second)
		power.Stop()
		nodes, _ := fenced(fs)
		rep, _ := E.reportFence("fenced kill-daemon", bound, fs, fenceNote(fs))
		Expect(nodes).To(Equal([]string{owner}), fenceNote(fs))
		Expect(fs[slices.IndexFunc(fs, func(f fence.Fence) bool { return f.OK() })].By).To(Equal(survivor))
		Expect(power.OffNodes()).To(Equal([]string{owner}), "the provider saw the fenced node off")
		Expect(dual.longest).To(BeNumerically("<=", E.c.Stack.Detection(E.lab.Cfg.Timings)), "two nodes held the VIP for %s", dual.longest)
		Expect(rep.DualOwner).To(BeFalse(), rep.String())
		Expect(rep.Owners).To(Equal([]string{owner, survivor}), rep.String())
		Expect(rep.LongestOutage).To(BeNumerically("<=", bound), rep.String())
	}, SpecTimeout(12*time.Minute))

	It("stonith_admin --reboot of the owner: the VIP serves again within the bound plus the fence time, the node returns", Label("node", "needs-power"), func(ctx SpecContext) {
		E.expectStackStart()
		owner := E.stable(ctx)
		survivor := E.c.Peer(owner)
		bound := E.bound()
		power := E.c.WatchPower(ctx, 250*time.Millisecond, 5*time.Minute)
		since := time.Now()
		E.probe(ctx)
		E.healFault("stonith_admin --reboot " + owner)
		By("stonith_admin --reboot " + owner + " on " + survivor)
		timeline.injecting("fence", owner)
		Expect(E.c.StonithReboot(ctx, survivor, owner)).To(Succeed())
		// The cluster recovers once the whole reboot (off, then on) is
		// confirmed. Where the VIP comes back is the configuration's:
		// with stickiness > 0 on the survivor; with 0 the scheduler may
		// put it back on the rebooted owner when it rejoins first (a
		// docker node boots in seconds, before the token times out).
		fs := E.fencesOf(ctx, since, owner, true, bound+*fenceTimeFlag)
		i := slices.IndexFunc(fs, func(f fence.Fence) bool { return f.OK() })
		By("waiting for the VIP to serve again")
		var got string
		Eventually(func(g Gomega) {
			o, err := E.owner(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			got = o
		}).WithContext(ctx).WithTimeout(bound + *fenceTimeFlag).WithPolling(200 * time.Millisecond).Should(Succeed())
		power.Stop()
		rep, _ := E.reportFence("fence (stonith_admin --reboot)", bound, fs, fenceNote(fs)+"; the VIP came back on "+got)
		Expect(fs[i].Node).To(Equal(owner))
		Expect(fs[i].By).To(Equal(survivor))
		Expect(power.Off(owner)).NotTo(BeEmpty(), "the provider never saw %s off", owner)
		Expect(power.Off(survivor)).To(BeEmpty())
		Expect(rep.DualOwner).To(BeFalse(), rep.String())
		Expect(rep.Failures).To(BeNumerically(">", 0), "the prober saw no outage: the owner's service went with its power; "+rep.String())
		if E.lab.Cfg.CRM.ResourceStickiness > 0 {
			Expect(got).To(Equal(survivor), "resource stickiness > 0: the survivor keeps the resources")
		}
		// The cluster waits for the whole reboot before it recovers: the
		// bound plus that fence.
		Expect(rep.LongestOutage).To(BeNumerically("<=", bound+fs[i].Reboot()), "outage beyond the bound plus the fence (%s): %s", fs[i].Reboot(), rep)
		By(owner + " returns")
		E.converged(ctx)
	}, SpecTimeout(12*time.Minute))

	It("fence device failing: no second owner while the owner's state is unknown; healing the device lets the cluster recover", Label("node", "needs-power"), func(ctx SpecContext) {
		E.expectStackStart()
		E.expectLogs("the fence endpoint refuses on purpose: fence_docker cannot read the machine's state and each reboot fails",
			`pacemaker-fenced\[\d+\]:\s+warning: fence_docker\[\d+\] stderr: \[ [0-9 :,-]+ERROR: Failed: Unable to obtain correct plug status or plug is not available \]$`,
			`pacemaker-fenced\[\d+\]:\s+error: Operation 'reboot' \[\d+\] targeting node\d+ using FENCE-node\d+ returned 1$`,
			`pacemaker-fenced\[\d+\]:\s+error: Operation 'reboot' targeting node\d+ by node\d+ for pacemaker-controld\.\d+@node\d+: Error occurred \(complete\)$`)
		owner := E.stable(ctx)
		survivor := E.c.Peer(owner)
		bound := E.bound()
		// The heals are registered before either fault: the endpoint
		// answers again and the node is powered on, whatever happens.
		E.healFault("the failing fence device")
		By("the fence endpoint refuses every request")
		Expect(E.c.RefuseFencing(true)).To(Succeed())
		since := time.Now()
		E.probe(ctx)
		timeline.injecting(harness.PowerOff, owner)
		Expect(E.c.Inject(ctx, harness.PowerOff, owner)).To(Succeed())

		watch := bound + 10*time.Second
		By(fmt.Sprintf("watching for %s: %s cannot fence %s, so it must not start the resources", watch, survivor, owner))
		Consistently(func(g Gomega) {
			_, err := E.owner(ctx)
			g.Expect(err).To(HaveOccurred(), "the VIP answers while %s's state is unknown", owner)
			a := E.c.Audit(ctx)
			timeline.audited(a)
			g.Expect(a.VIPHolders()).To(BeEmpty(), a.String())
			g.Expect(a.ServiceOn()).To(BeEmpty(), a.String())
		}).WithContext(ctx).WithTimeout(watch).WithPolling(time.Second).Should(Succeed())
		_, refused, err := E.c.FenceLog(since)
		Expect(err).NotTo(HaveOccurred())
		Expect(refused).To(BeNumerically(">", 0), "the cluster never tried to fence %s", owner)

		By("healing the fence device: " + survivor + " fences " + owner + " and takes over")
		healed := time.Now()
		timeline.healing()
		did, err := E.c.HealFencing(ctx)
		Expect(err).NotTo(HaveOccurred())
		fmt.Fprintf(GinkgoWriter, "healed the fence endpoint: %s\n", strings.Join(did, "; "))
		E.servedBy(ctx, survivor, *fenceTimeFlag+*serviceFlag+30*time.Second)
		fs := E.fencesOf(ctx, healed, owner, false, 30*time.Second)
		rep, _ := E.reportFence("fence device failing", bound, fs,
			fmt.Sprintf("%d requests refused while the device failed; outage until the device was healed %s after the power-off; then %s",
				refused, healed.Sub(since).Round(time.Second), fenceNote(fs)))
		Expect(rep.DualOwner).To(BeFalse(), rep.String())
		Expect(rep.Owners).To(Equal([]string{owner, survivor}), rep.String())
		Expect(rep.LongestOutage).To(BeNumerically(">=", watch), "the outage lasted while the device failed: "+rep.String())
		a := E.c.Audit(ctx)
		Expect(a.VIPHolders()).To(Equal([]string{survivor}), a.String())
	}, SpecTimeout(12*time.Minute))
})

// figures is min/median/max of ds.
func figures(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	r := func(d time.Duration) string { return d.Round(10 * time.Millisecond).String() }
	return fmt.Sprintf("min %s, median %s, max %s (n=%d)", r(s[0]), r(med), r(s[len(s)-1]), len(s))
}
