package scenarios

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"halab/provision"
	"halab/scenarios/harness"
	"halab/scenarios/prober"
	"halab/templates"
)

// Pacemaker's CTS resource and component tests (python/pacemaker/_cts/
// tests: MaintenanceMode, ResourceRecover, Reattach, ResyncCIB,
// ComponentFail), as specs against the article's two-node cluster: each
// asserts what CTS expects of the test, with the VIP probed from the host
// throughout. They need a resource manager (label needs-crm): heartbeat v1
// has none, so its suite leaves them out.

// resources is every node's view of the cluster's resources.
func (e *env) resources(ctx context.Context, g Gomega) []harness.CrmResource {
	a := e.c.Audit(ctx)
	timeline.audited(a)
	var rs []harness.CrmResource
	for _, n := range a.Nodes {
		g.Expect(n.CrmMon).NotTo(BeNil(), "%s: no crm_mon view: %s", n.Node, a)
		g.Expect(n.CrmMon.Resources).NotTo(BeEmpty(), "%s sees no resources", n.Node)
		rs = append(rs, n.CrmMon.Resources...)
	}
	return rs
}

// allManaged waits until every node sees every resource managed (or
// unmanaged).
func (e *env) allManaged(ctx context.Context, managed bool) {
	EventuallyWithOffset(1, func(g Gomega) {
		for _, r := range e.resources(ctx, g) {
			g.Expect(r.Managed).To(Equal(managed), "%s managed", r.ID)
		}
	}).WithContext(ctx).WithTimeout(time.Minute).Should(Succeed())
}

// serviceStarted is the pid and start time of the service on a node.
func (e *env) serviceStarted(ctx context.Context, node string) string {
	s, err := e.c.ServiceStarted(ctx, node)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "the service on %s", node)
	return s
}

// servesFromOne waits until the VIP answers and one node alone holds it
// and runs the service; it returns that node.
func (e *env) servesFromOne(ctx context.Context, within time.Duration) string {
	var owner string
	EventuallyWithOffset(1, func(g Gomega) {
		o, err := e.owner(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		a := e.c.Audit(ctx)
		timeline.audited(a)
		g.Expect(a.VIPHolders()).To(Equal([]string{o}), a.String())
		g.Expect(a.ServiceOn()).To(Equal([]string{o}), a.String())
		owner = o
	}).WithContext(ctx).WithTimeout(within).WithPolling(time.Second).Should(Succeed())
	return owner
}

// settledOwner waits until one node alone holds the VIP and runs the
// service, and the VIP answers from it on every probe for 10 s: a
// recovery from two nodes may stop what answered a moment ago.
func (e *env) settledOwner(ctx context.Context, within time.Duration) string {
	var owner string
	EventuallyWithOffset(1, func(g Gomega) {
		o, err := e.owner(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
			again, err := e.owner(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(again).To(Equal(o), "the owner changed")
		}
		a := e.c.Audit(ctx)
		timeline.audited(a)
		g.Expect(a.VIPHolders()).To(Equal([]string{o}), a.String())
		g.Expect(a.ServiceOn()).To(Equal([]string{o}), a.String())
		owner = o
	}).WithContext(ctx).WithTimeout(within).WithPolling(time.Second).Should(Succeed())
	return owner
}

// wantAfterFailure is where the service serves again after a failure on
// owner, as the kill-service spec decides: migration-threshold 1 moves
// it, stickiness > 0 keeps it, stickiness 0 is the scheduler's choice
// ("").
func (e *env) wantAfterFailure(owner string) string {
	switch {
	case e.lab.Cfg.CRM.MigrationThreshold == 1:
		return e.c.Peer(owner)
	case e.lab.Cfg.CRM.ResourceStickiness > 0:
		return owner
	}
	return ""
}

// component is one of pacemakerd's subdaemons as CTS's ComponentFail
// kills it, with what Pacemaker 2.1.5 does about it.
type component struct {
	name string
	// onDC: CTS's pattern for it is the DC's (the scheduler only works
	// there); else it is killed on the owner.
	onDC bool
	// respawned are the subdaemons pacemakerd starts again (new pids).
	respawned []string
	// keeps: the resources stay where they run, not restarted, and the
	// VIP never stops answering.
	keeps  bool
	expect string
	// logs are the error and crit lines the kill causes (Pacemaker 2.1.5).
	logs []string
}

// When pacemakerd leaves a subdaemon dead: the other outcome of every
// ComponentFail spec on Pacemaker 2.1.5, seen often, on a quiet host too.
// pacemakerd respawns a subdaemon that needs the cluster (the CIB
// manager, the fencer, the attribute manager, the controller) only when a
// fresh CPG connection to corosync succeeds at that moment, and corosync
// may still be tearing down the connection of the daemon that just died
// ("Error in connection setup ... Broken pipe"). pacemakerd then notes
// "Not respawning ... until cluster returns", and the cluster never left,
// so the subdaemon stays dead until the stack restarts. When that is the
// owner's CIB manager or controller, the node's controller cannot come
// back (pacemakerd kills one that cannot register with the CIB every
// 30 s), the peer sees it gone and, with nothing to fence the node,
// starts the resources too while the node keeps them: two owners until
// the heal, a split brain reported UNSAFE (no fencing). Otherwise the
// resources stay where they run, and the dead subdaemon is Pacemaker's
// defect, not the configuration's: a known limitation, never a pass. The
// heal starts the node's Pacemaker afresh (leftDead, leftDeadOutcome).
//
// leftDeadLogs are what a node logs while pacemakerd leaves its CIB
// manager or its controller dead, and what the heal's fresh start logs.
var leftDeadLogs = []string{
	`pacemaker-fenced\[\d+\]:\s+error: Could not connect to the CIB manager: Transport endpoint is not connected \(-107\)$`,
	`pacemakerd\[\d+\]:\s+error: pacemaker-(controld|fenced|attrd)\[\d+\] is unresponsive to ipc after \d+ tries but we found the pid so have it killed that we can restart$`,
	`pacemakerd\[\d+\]:\s+warning: pacemaker-(controld|fenced|attrd)\[\d+\] terminated with signal 9 \(Killed\)$`,
	`pacemaker-controld\[\d+\]:\s+error: Could not connect to attrd: Connection refused$`,
	`pacemaker-controld\[\d+\]:\s+error: Could not update attribute \S+ for cluster node \S+: Connection refused$`,
	`pacemaker-controld\[\d+\]:\s+error: Connection to stonith-ng (IPC failed|closed)$`,
	`pacemaker-controld\[\d+\]:\s+crit: Fencing daemon connection failed$`,
}

// twoActive are the scheduler's errors when the DC saw the owner's
// controller leave, could not fence it (stonith-enabled=false), started
// the resources itself and then found them active on both nodes.
var twoActive = []string{
	`pacemaker-schedulerd.*error: ocf resource FAILOVER-IP might be active on 2 nodes \(attempting recovery\)`,
	`pacemaker-schedulerd.*error: lsb resource STRATOS might be active on 2 nodes \(attempting recovery\)`,
	`pacemaker-schedulerd.*error: Calculated transition [0-9]+ \(with errors\)`,
}

// The owner's controller leaving (killed, or exiting after losing the
// CIB manager, the executor or, on the DC, the scheduler) races with its
// respawn: when the DC's scheduler runs first, it holds the owner unclean
// ("peer is unexpectedly down"), cannot fence it, starts the resources on
// the peer and then recovers them from two nodes: a short outage, one
// owner afterwards. With fencing the owner would be shot instead (what
// CTS's ComponentFail then accepts).
const controllerRace = "; the owner's controller leaving races with its respawn: the DC may hold the owner unclean, start the resources too and recover them from two nodes (a short outage)"

var components = []component{
	{
		name: "pacemaker-based", respawned: []string{"pacemaker-based", "pacemaker-fenced", "pacemaker-attrd", "pacemaker-controld"},
		expect: "the fencer, the attribute manager and the controller exit with it; pacemakerd respawns it and them" + controllerRace,
		logs: []string{
			`pacemaker-(fenced|attrd|controld).*error: Connection to cib_(rw|shm) (IPC failed|closed)`,
			`pacemaker-(fenced|attrd|controld).*crit: Lost connection to the CIB manager, shutting down`,
			`pacemaker-controld.*error: Input I_ERROR received in state \S+ from crmd_cib_connection_destroy`,
			`pacemaker-controld.*error: Input I_TERMINATE received in state S_RECOVERY from do_recover`,
			`pacemaker-controld.*error: [0-9]+ resources? (was|were) active at shutdown`,
			`pacemaker-controld.*error: Could not recover from internal error`,
			`pacemakerd.*error: pacemaker-controld\[[0-9]+\] exited with status 1 \(Error occurred\)`,
			`pacemakerd.*error: pacemaker-attrd\[[0-9]+\] exited with status 102 \(Not connected\)`,
			`pacemaker-controld.*error: Could not connect to attrd: Connection refused`,
			`pacemaker-controld.*error: Could not update attribute \S+ for cluster node \S+: Connection refused`,
		},
	},
	{
		name: "pacemaker-fenced", respawned: []string{"pacemaker-fenced"}, keeps: true,
		expect: "pacemakerd respawns it, the controller reconnects; the resources stay",
		logs: []string{
			`pacemaker-controld.*error: Connection to stonith-ng (IPC failed|closed)`,
			`pacemaker-controld.*crit: Fencing daemon connection failed`,
		},
	},
	{
		name: "pacemaker-execd", respawned: []string{"pacemaker-execd", "pacemaker-controld"},
		expect: "pacemakerd respawns it; the controller loses the executor, exits (1) and is respawned, re-probes the resources and finds them running" + controllerRace,
		logs: []string{
			`pacemaker-controld.*error: Connection to lrmd (IPC failed|closed)`,
			`pacemaker-controld.*crit: Connection to executor failed`,
			`pacemaker-controld.*error: Input I_ERROR received in state \S+ from lrm_connection_destroy`,
			`pacemaker-controld.*error: Input I_TERMINATE received in state S_RECOVERY from do_recover`,
			`pacemaker-controld.*error: [0-9]+ resources? (was|were) active at shutdown`,
			`pacemaker-controld.*error: Could not recover from internal error`,
			`pacemakerd.*error: pacemaker-controld\[[0-9]+\] exited with status 1 \(Error occurred\)`,
		},
	},
	{
		name: "pacemaker-attrd", respawned: []string{"pacemaker-attrd"}, keeps: true,
		expect: "pacemakerd respawns it; nothing else notices: the resources stay",
	},
	{
		name: "pacemaker-schedulerd", onDC: true, respawned: []string{"pacemaker-schedulerd", "pacemaker-controld"},
		expect: "pacemakerd respawns it; the DC's controller loses the scheduler, exits (1) and is respawned, a new DC is elected; when the DC is the owner," + controllerRace[1:],
		logs: []string{
			`pacemaker-controld.*error: Connection to pengine (IPC failed|closed)`,
			`pacemaker-controld.*crit: Connection to the scheduler failed`,
			`pacemaker-controld.*error: Input I_ERROR received in state \S+ from save_cib_contents`,
			`pacemaker-controld.*error: Input I_TERMINATE received in state S_RECOVERY from do_recover`,
			`pacemaker-controld.*error: [0-9]+ resources? (was|were) active at shutdown`,
			`pacemaker-controld.*error: Could not recover from internal error`,
			`pacemakerd.*error: pacemaker-controld\[[0-9]+\] exited with status 1 \(Error occurred\)`,
		},
	},
	{
		name: "pacemaker-controld", respawned: []string{"pacemaker-controld"},
		expect: "pacemakerd respawns it, it rejoins and re-probes the resources" + controllerRace,
	},
}

// The CTS and Jepsen-style specs assert what happens without fencing (the
// article's stonith-enabled=false); their outcomes with fencing are not
// written yet, so a lab that fences leaves them out (label no-fencing) and
// says so.
var _ = Describe("CTS resource and component tests", Serial, Label("no-fencing"), func() {
	It("CTS MaintenanceMode: in maintenance mode the resources are unmanaged and a killed service stays dead; leaving it recovers the service",
		Label("cts", "cts-maintenance", HeavyLabel, "needs-crm", "needs-monitor"), func(ctx SpecContext) {
			owner := E.stable(ctx)
			watch := templates.ServiceMonitor + 10*time.Second
			bound := watch + templates.ServiceMonitor + *serviceFlag
			E.probe(ctx)
			E.inject(ctx, harness.Maintenance, owner)
			By("every resource unmanaged, as every node sees it")
			E.allManaged(ctx, false)
			before := E.c.Audit(ctx).FailCounts()[provision.ServiceResource+"@"+owner]

			By("SIGKILL of the service on " + owner + ": nothing restarts it for " + watch.String())
			timeline.injecting(harness.KillService, owner)
			Expect(E.c.Inject(ctx, harness.KillService, owner)).To(Succeed())
			Consistently(func(g Gomega) {
				_, err := E.owner(ctx)
				g.Expect(err).To(HaveOccurred(), "the VIP answers again in maintenance mode")
			}).WithContext(ctx).WithTimeout(watch).WithPolling(time.Second).Should(Succeed())
			a := E.c.Audit(ctx)
			timeline.audited(a)
			Expect(a.ServiceOn()).To(BeEmpty(), "the service came back in maintenance mode: "+a.String())
			Expect(a.VIPHolders()).To(Equal([]string{owner}), "the VIP stays: "+a.String())

			By("leaving maintenance mode: the cluster notices the dead service and recovers it")
			timeline.healing()
			left := time.Now()
			E.healAll(ctx, "maintenance")
			got := E.servesFromOne(ctx, templates.ServiceMonitor+*serviceFlag+30*time.Second)
			recovered := time.Since(left)
			E.allManaged(ctx, true)
			rep, _ := E.report("cts-maintenance", bound, prober.Passed,
				fmt.Sprintf("unmanaged: the killed service stayed dead for %s; recovered on %s %s after leaving maintenance mode",
					watch, got, recovered.Round(100*time.Millisecond)))
			Expect(rep.Recovered).To(BeTrue(), rep.String())
			Expect(rep.DualOwner).To(BeFalse(), rep.String())
			Expect(rep.LongestOutage).To(BeNumerically(">=", watch), "the outage must span the maintenance window: "+rep.String())
			Expect(rep.LongestOutage).To(BeNumerically("<=", bound), rep.String())
			fmt.Fprintf(GinkgoWriter, "fail count of %s on %s: %d before, %v after\n", provision.ServiceResource, owner, before, E.c.Audit(ctx).FailCounts())
		}, SpecTimeout(10*time.Minute))

	It("CTS ResourceRecover: crm_resource --fail of the service: its fail count exactly +1, the service recovered on one node",
		Label("cts", "cts-resource-recover", "needs-crm"), func(ctx SpecContext) {
			owner := E.stable(ctx)
			// CTS reads the fail count of the operation crm_resource
			// --fail records: asyncmon, interval 0, on the node.
			failCount := func() (int, error) {
				return E.c.OpFailCount(ctx, owner, provision.ServiceResource, "asyncmon", 0)
			}
			before, err := failCount()
			Expect(err).NotTo(HaveOccurred())
			want := E.wantAfterFailure(owner)
			// a stop and a start of the service
			bound := 2 * *serviceFlag
			E.probe(ctx)
			E.expectLogs("crm_resource --fail records a simulated failure, which the scheduler recovers",
				`pacemaker-schedulerd.*warning: Unexpected result \(error: Simulated failure\) was recorded for asyncmon of STRATOS on \S+`)
			E.inject(ctx, harness.FailResource, owner)
			By(fmt.Sprintf("waiting for the recovery (on %q; empty: either node) and the fail count to rise", want))
			var got string
			Eventually(func(g Gomega) {
				o, err := E.owner(ctx)
				g.Expect(err).NotTo(HaveOccurred())
				if want != "" {
					g.Expect(o).To(Equal(want))
				}
				g.Expect(failCount()).To(BeNumerically(">", before))
				a := E.c.Audit(ctx)
				timeline.audited(a)
				g.Expect(a.VIPHolders()).To(Equal([]string{o}), a.String())
				g.Expect(a.ServiceOn()).To(Equal([]string{o}), a.String())
				got = o
			}).WithContext(ctx).WithTimeout(bound + 30*time.Second).Should(Succeed())
			By("the fail count settles")
			var after int
			Eventually(func(g Gomega) {
				first, err := failCount()
				g.Expect(err).NotTo(HaveOccurred())
				time.Sleep(3 * time.Second)
				after, err = failCount()
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(after).To(Equal(first))
			}).WithContext(ctx).WithTimeout(time.Minute).Should(Succeed())
			result, note := prober.Passed, fmt.Sprintf("recovered on %s; asyncmon fail count %d -> %d", got, before, after)
			if after == before+2 {
				// Pacemaker before 2.1.6 counts one simulated failure
				// twice (its "_last_0" and "_last_failure_0" events):
				// fixed upstream by a457eb83fe, the release in which
				// CTS's ResourceRecover began to check the fail count.
				result = prober.KnownLimitation
				note += ": Pacemaker 2.1.5 counts a crm_resource --fail twice (fixed in 2.1.6)"
			}
			rep, entry := E.report("cts-resource-recover", bound, result, note)
			Expect(rep.Recovered).To(BeTrue(), rep.String())
			Expect(rep.DualOwner).To(BeFalse(), rep.String())
			Expect(rep.LongestOutage).To(BeNumerically("<=", bound), rep.String())
			if result == prober.KnownLimitation {
				Skip("known limitation of Pacemaker 2.1.5, not a pass: " + entry.String())
			}
			Expect(after).To(Equal(before+1), "CTS expects the fail count exactly +1")
		}, SpecTimeout(8*time.Minute))

	It("CTS Reattach: the stack stops and starts on both nodes with the resources unmanaged; the VIP keeps serving and nothing restarts",
		Label("cts", "cts-reattach", HeavyLabel, "needs-crm"), func(ctx SpecContext) {
			owner := E.stable(ctx)
			peer := E.c.Peer(owner)
			started := E.serviceStarted(ctx, owner)
			E.probe(ctx)
			E.expectStackStart()
			E.expectLogs("the stack stops with resources running, unmanaged (CTS Reattach ignores it too)",
				`pacemaker-controld.*error: [0-9]+ resources? (was|were) active at shutdown`)
			E.inject(ctx, harness.Unmanage, owner)
			E.allManaged(ctx, false)

			for _, n := range []string{peer, owner} {
				By("stopping the stack on " + n)
				timeline.injecting(harness.StopMessaging, n)
				Expect(E.c.Inject(ctx, harness.StopMessaging, n)).To(Succeed())
			}
			a := E.c.Audit(ctx)
			timeline.audited(a)
			Expect(a.VIPHolders()).To(Equal([]string{owner}), "with the stack stopped: "+a.String())
			Expect(a.ServiceOn()).To(Equal([]string{owner}), "with the stack stopped: "+a.String())
			for _, n := range []string{owner, peer} {
				By("starting the stack on " + n + ", the resources still unmanaged")
				timeline.healing()
				Expect(E.c.StartStack(ctx, n)).To(Succeed())
			}
			Eventually(func(g Gomega) {
				a := E.c.Audit(ctx)
				timeline.audited(a)
				for _, n := range a.Nodes {
					g.Expect(n.Members).To(ConsistOf(E.c.Names()), "members as %s sees them; %s", n.Node, a)
				}
				g.Expect(a.VIPHolders()).To(Equal([]string{owner}), a.String())
				g.Expect(a.ServiceOn()).To(Equal([]string{owner}), a.String())
				for _, r := range E.resources(ctx, g) {
					g.Expect(r.Managed).To(BeFalse(), "%s managed", r.ID)
					g.Expect(r.Nodes).To(Equal([]string{owner}), "%s reattached where it runs", r.ID)
				}
			}).WithContext(ctx).WithTimeout(3 * time.Minute).Should(Succeed())
			Expect(E.serviceStarted(ctx, owner)).To(Equal(started), "the service was restarted during the stack's restart")

			By("managing the resources again: nothing stops or starts")
			timeline.healing()
			E.healAll(ctx, "reattach")
			E.allManaged(ctx, true)
			Consistently(func(g Gomega) {
				a := E.c.Audit(ctx)
				g.Expect(a.VIPHolders()).To(Equal([]string{owner}), a.String())
			}).WithContext(ctx).WithTimeout(10 * time.Second).WithPolling(time.Second).Should(Succeed())
			Expect(E.serviceStarted(ctx, owner)).To(Equal(started), "the service was restarted after the resources were managed again")
			rep, _ := E.report("cts-reattach", E.bound(), prober.Passed, "the stack restarted on both nodes under unmanaged resources; the service ("+started+") kept running")
			Expect(rep.Failures).To(BeZero(), rep.String())
			Expect(rep.Owners).To(Equal([]string{owner}), rep.String())
		}, SpecTimeout(10*time.Minute))

	It("CTS ResyncCIB: a node started with an empty CIB gets the cluster's",
		Label("cts", "cts-resync-cib", HeavyLabel, "needs-crm", "needs-subdaemons"), func(ctx SpecContext) {
			owner := E.stable(ctx)
			peer := E.c.Peer(owner)
			E.probe(ctx)
			E.expectStackStart()
			E.inject(ctx, harness.WipeCIB, peer)
			By("starting " + peer + " with an empty CIB")
			timeline.healing()
			Expect(E.c.StartStack(ctx, peer)).To(Succeed())
			var got harness.CIBVersion
			Eventually(func(g Gomega) {
				want, err := E.c.LocalCIB(ctx, owner)
				g.Expect(err).NotTo(HaveOccurred())
				got, err = E.c.LocalCIB(ctx, peer)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(got.String()).To(Equal(want.String()), "the version of %s's CIB", peer)
				g.Expect(got.Configuration).To(Equal(want.Configuration), "the configuration of %s's CIB", peer)
				g.Expect(got.Configuration).To(ContainSubstring(`id="` + provision.ServiceResource + `"`))
			}).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
			E.converged(ctx)
			rep, _ := E.report("cts-resync-cib", E.bound(), prober.Passed, fmt.Sprintf("%s started with an empty CIB and got the cluster's (%s)", peer, got))
			Expect(rep.Failures).To(BeZero(), "the owner was not touched: "+rep.String())
		}, SpecTimeout(8*time.Minute))

	for _, comp := range components {
		short := strings.TrimPrefix(comp.name, "pacemaker-")
		where := "the owner"
		if comp.onDC {
			where = "the DC"
		}
		It(fmt.Sprintf("CTS ComponentFail %s: SIGKILL on %s; %s", comp.name, where, comp.expect),
			Label(componentLabels(short)...), func(ctx SpecContext) {
				owner := E.stable(ctx)
				target := owner
				if comp.onDC {
					target = E.dc(ctx, owner)
				}
				before, err := E.c.ComponentPIDs(ctx, target)
				Expect(err).NotTo(HaveOccurred())
				started := E.serviceStarted(ctx, owner)
				bound := E.bound()
				E.probe(ctx)
				if len(comp.logs) > 0 {
					E.expectLogs("SIGKILL of "+comp.name+" on "+target+" (CTS ComponentFail)", comp.logs...)
				}
				E.expectLogs("pacemakerd reaps the "+comp.name+" it sees killed",
					`pacemakerd\[[0-9]+\]:\s+warning: `+comp.name+`\[[0-9]+\] terminated with signal 9 \(Killed\)$`)
				// a pacemakerd that adopted its subdaemons (after a heal)
				// sees them die by polling, and says so as an error
				E.expectLogs("pacemakerd finds the killed "+comp.name+" (and the subdaemons that exit with it) gone",
					`pacemakerd.*error: `+comp.name+`\[[0-9]+\] terminated$`,
					`pacemakerd.*error: pacemaker-(controld|attrd|fenced)\[[0-9]+\] terminated$`)
				if !comp.keeps {
					E.expectLogs("the DC recovers the resources from two nodes after the owner's controller left (no fencing)", twoActive...)
				}
				E.inject(ctx, harness.KillComponent+short, target)
				if stuck := E.leftDead(ctx, target, comp.respawned, before); len(stuck) > 0 {
					E.leftDeadOutcome(ctx, "cts-component-"+short, stuck, owner, target, bound)
					return
				}
				By("pacemakerd respawns " + strings.Join(comp.respawned, ", "))
				var after map[string]string
				Eventually(func(g Gomega) {
					after, err = E.c.ComponentPIDs(ctx, target)
					g.Expect(err).NotTo(HaveOccurred())
					for _, d := range comp.respawned {
						g.Expect(after[d]).NotTo(BeEmpty(), "%s runs", d)
						g.Expect(after[d]).NotTo(Equal(before[d]), "%s has a new pid", d)
					}
				}).WithContext(ctx).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(Succeed())
				By("the VIP serves from one node, steadily")
				got := E.settledOwner(ctx, bound+time.Minute)
				By("the subdaemons settle")
				Eventually(func(g Gomega) {
					first, err := E.c.ComponentPIDs(ctx, target)
					g.Expect(err).NotTo(HaveOccurred())
					time.Sleep(3 * time.Second)
					after, err = E.c.ComponentPIDs(ctx, target)
					g.Expect(err).NotTo(HaveOccurred())
					g.Expect(after).To(Equal(first))
				}).WithContext(ctx).WithTimeout(time.Minute).Should(Succeed())
				var dead, restarted []string
				for _, d := range E.c.Stack.Subdaemons {
					switch {
					case after[d] == "":
						dead = append(dead, d)
					case after[d] != before[d]:
						restarted = append(restarted, d)
					}
				}
				if len(dead) > 0 {
					E.leftDeadOutcome(ctx, "cts-component-"+short, dead, owner, target, bound)
					return
				}
				note := fmt.Sprintf("killed on %s; new pids: %s; VIP on %s", target, strings.Join(restarted, ", "), got)
				rep, _ := E.report("cts-component-"+short, bound, prober.Passed, note)
				Expect(rep.Recovered).To(BeTrue(), rep.String())
				Expect(rep.DualOwner).To(BeFalse(), rep.String())
				Expect(rep.LongestOutage).To(BeNumerically("<=", bound), rep.String())
				if comp.keeps {
					Expect(rep.Failures).To(BeZero(), "the resources should stay: "+rep.String())
					Expect(got).To(Equal(owner))
					Expect(E.serviceStarted(ctx, owner)).To(Equal(started), "the service was restarted")
				}
			}, SpecTimeout(8*time.Minute))
	}
})

// leftDead waits for pacemakerd to respawn the subdaemons ds on node (a
// new pid each, where before were their pids) and returns those it left
// dead: no new pid after 15 s (a respawn takes well under a second).
func (e *env) leftDead(ctx context.Context, node string, ds []string, before map[string]string) []string {
	var dead []string
	for end := time.Now().Add(15 * time.Second); ; time.Sleep(time.Second) {
		pids, err := e.c.ComponentPIDs(ctx, node)
		Expect(err).NotTo(HaveOccurred())
		dead = nil
		for _, d := range ds {
			if pids[d] == "" || pids[d] == before[d] {
				dead = append(dead, d)
			}
		}
		if len(dead) == 0 || time.Now().After(end) {
			return dead
		}
	}
}

// leftDeadOutcome is ComponentFail's outcome when pacemakerd left
// subdaemons dead on target (the race described above leftDeadLogs): a split brain reported
// UNSAFE (no fencing) when the owner lost its CIB manager or its
// controller for good, else a known limitation; then the heal starts
// target's Pacemaker afresh and the cluster recovers to one owner with
// every subdaemon running.
func (e *env) leftDeadOutcome(ctx context.Context, scenario string, dead []string, owner, target string, bound time.Duration) {
	peer := e.c.Peer(owner)
	gone := strings.Join(dead, ", ")
	e.expectLogs("pacemakerd left "+gone+" dead on "+target+" (its corosync check failed at the respawn): what depends on it fails until the heal", leftDeadLogs...)
	e.expectLogs("the heal starts "+target+"'s Pacemaker afresh: the peer may see its controller leave and start the resources too, then recover them from two nodes", twoActive...)
	e.expectLogs("the heal starts "+target+"'s Pacemaker afresh: the new pacemakerd looks in /proc for subdaemons the killed ones left", pacemakerdLookupRace)
	e.expectStackStart()
	why := fmt.Sprintf("pacemakerd on %s left %s dead: its corosync check failed at the respawn, and Pacemaker 2.1.5 waits for the cluster to return, which never left", target, gone)
	heal := func() {
		By("the heal starts " + target + "'s Pacemaker afresh: every subdaemon runs, one owner")
		e.healAll(ctx, scenario)
		Eventually(func(g Gomega) {
			pids, err := e.c.ComponentPIDs(ctx, target)
			g.Expect(err).NotTo(HaveOccurred())
			for _, s := range e.c.Stack.Subdaemons {
				g.Expect(pids[s]).NotTo(BeEmpty(), "%s runs after the heal", s)
			}
		}).WithContext(ctx).WithTimeout(time.Minute).Should(Succeed())
		e.converged(ctx)
	}
	if target == owner && (slices.Contains(dead, "pacemaker-based") || slices.Contains(dead, "pacemaker-controld")) {
		By(why + ": " + peer + " takes the resources, " + owner + " keeps them")
		Eventually(func(g Gomega) {
			a := e.c.Audit(ctx)
			timeline.audited(a)
			g.Expect(a.VIPHolders()).To(ConsistOf(owner, peer), a.String())
			g.Expect(a.ServiceOn()).To(ContainElement(peer), a.String())
		}).WithContext(ctx).WithTimeout(bound + time.Minute).WithPolling(time.Second).Should(Succeed())
		e.report(scenario, bound, prober.Unsafe, fmt.Sprintf("split brain: %s, so its controller could not come back; %s took the resources over, %s kept them; %s", why, peer, owner, e.noFencing()))
		heal()
		return
	}
	By(why + ": the resources stay")
	got := e.settledOwner(ctx, bound+time.Minute)
	_, entry := e.report(scenario, bound, prober.KnownLimitation, fmt.Sprintf("%s (a defect of Pacemaker's, not of the configuration; the heal restarts the node's Pacemaker); the VIP on %s", why, got))
	heal()
	Skip("known limitation of Pacemaker 2.1.5, not a pass: " + entry.String())
}

// dc is the designated controller as node sees it.
func (e *env) dc(ctx context.Context, node string) string {
	var dc string
	EventuallyWithOffset(1, func(g Gomega) {
		a := e.c.Audit(ctx)
		for _, n := range a.Nodes {
			if n.Node == node {
				g.Expect(n.CrmMon).NotTo(BeNil())
				dc = n.CrmMon.DC
			}
		}
		g.Expect(e.c.Names()).To(ContainElement(dc), "the DC as %s sees it", node)
	}).WithContext(ctx).WithTimeout(time.Minute).Should(Succeed())
	return dc
}

// componentLabels are a ComponentFail spec's labels: the subdaemons whose
// kill moves nothing (the fencer, the attribute manager, the scheduler)
// are heavy, left out of the default run for time; those whose kill races
// the controller stay in it.
func componentLabels(short string) []string {
	l := []string{"cts", "cts-component-fail", "cts-component-" + short, "needs-crm", "needs-subdaemons"}
	switch short {
	case "fenced", "attrd", "schedulerd":
		l = append(l, HeavyLabel)
	}
	return l
}
