package scenarios

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"halab/lab"
	"halab/provision"
	"halab/scenarios/prober"
)

func (e *env) vipURL() string {
	return fmt.Sprintf("http://%s:%d/", e.lab.Cfg.VIP.Address, e.lab.Cfg.Service.Port)
}

// owner asks the VIP who serves it, as a client would: a new connection
// each time, so a kept-alive one to the old owner cannot hide a move.
func (e *env) owner(ctx context.Context) (string, error) {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	return provision.HTTPGet(ctx, c, e.vipURL())
}

// vipHolders counts, over SSH, the nodes with the VIP on their NIC.
func (e *env) vipHolders(ctx context.Context, names ...string) []string {
	var holders []string
	for _, name := range names {
		ips, err := lab.NodeIP(ctx, e.nodes[name], e.lab.Cfg.VIP.NIC)
		ExpectWithOffset(1, err).NotTo(HaveOccurred())
		if slices.Contains(ips, e.lab.Cfg.VIP.Address) {
			holders = append(holders, name)
		}
	}
	return holders
}

// serviceOn lists the nodes whose init script says the service runs.
func (e *env) serviceOn(ctx context.Context, names ...string) []string {
	var on []string
	for _, name := range names {
		running, err := provision.ServiceRunning(ctx, e.nodes[name], e.lab.Cfg.Service.Name)
		ExpectWithOffset(1, err).NotTo(HaveOccurred(), "status on %s", name)
		if running {
			on = append(on, name)
		}
	}
	return on
}

// stable waits for the precondition of every scenario: the VIP answers
// from one node, which alone holds the VIP and runs the service.
func (e *env) stable(ctx context.Context, names ...string) string {
	if len(names) == 0 {
		names = e.lab.Cfg.NodeNames()
	}
	var owner string
	EventuallyWithOffset(1, func(g Gomega) {
		o, err := e.owner(ctx)
		g.Expect(err).NotTo(HaveOccurred(), "GET %s", e.vipURL())
		g.Expect(names).To(ContainElement(o))
		g.Expect(e.vipHolders(ctx, names...)).To(Equal([]string{o}), "nodes holding the VIP")
		g.Expect(e.serviceOn(ctx, names...)).To(Equal([]string{o}), "nodes running the service")
		owner = o
	}).WithContext(ctx).Should(Succeed())
	return owner
}

func (e *env) other(name string) string {
	for _, n := range e.lab.Cfg.NodeNames() {
		if n != name {
			return n
		}
	}
	return ""
}

var _ = Describe("failover", Ordered, Serial, func() {
	It("baseline: the VIP serves from one node, the other is ready", Label("baseline"), func(ctx SpecContext) {
		owner := E.stable(ctx)
		By("probing the VIP for 3 s")
		samples := (&prober.Prober{URL: E.vipURL(), Interval: 100 * time.Millisecond}).Run(ctx, 3*time.Second)
		rep := prober.Analyze(samples, time.Second)
		AddReportEntry("baseline", rep.String())
		Expect(rep.Failures).To(BeZero(), rep.String())
		Expect(rep.Owners).To(Equal([]string{owner}))
		_, err := E.nodes[E.other(owner)].Run(ctx, nil, "test", "-x", E.lab.Cfg.Service.JavaHome+"/bin/java")
		Expect(err).NotTo(HaveOccurred(), "the standby node has the JDK")
	}, SpecTimeout(3*time.Minute))

	It("hard power-off of the owner: the VIP moves and serves within the bound", Label("node"), func(ctx SpecContext) {
		owner := E.stable(ctx)
		survivor := E.other(owner)
		bound := E.bound()
		run := (&prober.Prober{URL: E.vipURL(), Interval: 100 * time.Millisecond}).Start(ctx, 3*time.Minute)
		time.Sleep(time.Second)

		By("powering off " + owner)
		Expect(E.lab.Vagrant.PowerOff(ctx, owner)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) {
			By("powering " + owner + " back on")
			Expect(E.lab.Vagrant.PowerOn(ctx, owner)).To(Succeed())
			E.connect(ctx)
			E.rejoined(ctx, owner)
			E.settled(ctx)
		}, NodeTimeout(4*time.Minute))

		By("waiting for " + survivor + " to serve the VIP")
		Eventually(func() (string, error) { return E.owner(ctx) }).WithContext(ctx).
			WithTimeout(bound + 30*time.Second).Should(Equal(survivor))
		time.Sleep(2 * time.Second)
		rep := prober.Analyze(run.Stop(), time.Second)
		AddReportEntry("power-off outage", fmt.Sprintf("%s (bound %s, stack %s)", rep.LongestOutage.Round(10*time.Millisecond), bound, E.stack))
		fmt.Fprintf(GinkgoWriter, "prober: %s\n", rep)
		Expect(rep.Recovered).To(BeTrue(), rep.String())
		Expect(rep.DualOwner).To(BeFalse(), rep.String())
		Expect(rep.Owners).To(Equal([]string{owner, survivor}), rep.String())
		Expect(rep.LongestOutage).To(BeNumerically("<=", bound), "outage beyond the bound: "+rep.String())
		Expect(E.vipHolders(ctx, survivor)).To(Equal([]string{survivor}))
		Expect(E.serviceOn(ctx, survivor)).To(Equal([]string{survivor}))
	}, SpecTimeout(8*time.Minute))
})

// rejoined waits until the survivor's membership layer sees node again.
func (e *env) rejoined(ctx context.Context, node string) {
	peer := e.nodes[e.other(node)]
	EventuallyWithOffset(1, func(g Gomega) {
		if e.stack == "heartbeat-v1" {
			res, err := peer.Sudo(ctx, nil, "cl_status", "nodestatus", node)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(strings.TrimSpace(string(res.Stdout))).To(Equal("active"), "%s as seen by %s", node, peer.Name)
			return
		}
		res, err := peer.Sudo(ctx, nil, "crm_mon", "-1")
		g.Expect(err).NotTo(HaveOccurred())
		online, _ := provision.ParseCrmMonOnline(string(res.Stdout))
		g.Expect(online).To(ContainElement(node), "online as seen by %s", peer.Name)
	}).WithContext(ctx).WithTimeout(3 * time.Minute).Should(Succeed())
}

// settled waits until the cluster is stable and stays on one owner for
// 10 s: a rejoined node may take the resources back (heartbeat's
// auto_failback, or placement scores), and the next scenario must not
// start in the middle of that move.
func (e *env) settled(ctx context.Context) string {
	var owner string
	EventuallyWithOffset(1, func(g Gomega) {
		first := e.stable(ctx)
		time.Sleep(10 * time.Second)
		g.Expect(e.stable(ctx)).To(Equal(first), "owner changed while settling")
		owner = first
	}).WithContext(ctx).WithTimeout(3 * time.Minute).Should(Succeed())
	return owner
}
