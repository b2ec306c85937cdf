package scenarios

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"halab/lab"
	"halab/provision"
)

var (
	configFlag  = flag.String("config", "", "lab file (default: lab.yaml of the checkout)")
	serviceFlag = flag.Duration("service-start", 10*time.Second, "allowance for the service to start on the new owner, added to the membership timeout to make the failover bound")
)

// env is the lab the specs run against, opened once per suite.
type env struct {
	lab   *lab.Lab
	stack string
	nodes map[string]*lab.Node
}

var E *env

func TestScenarios(t *testing.T) {
	// They fault a running lab: only on request (make scenarios, halab
	// test), never as a side effect of `go test ./...`.
	if os.Getenv("HALAB_SCENARIOS") == "" {
		t.Skip("failover scenarios need a provisioned lab: make lab-up, then make scenarios (HALAB_SCENARIOS=1)")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "halab failover scenarios")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	SetDefaultEventuallyTimeout(2 * time.Minute)
	SetDefaultEventuallyPollingInterval(500 * time.Millisecond)
	path := *configFlag
	if path == "" {
		path = filepath.Join("..", lab.DefaultFile)
	}
	l, err := lab.Open(path, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred(), "opening the lab (run `make lab-up` first)")
	E = &env{lab: l, nodes: map[string]*lab.Node{}}
	E.connect(ctx)
	E.stack, err = provision.DetectStack(ctx, E.nodes[l.Cfg.Nodes[0].Name])
	Expect(err).NotTo(HaveOccurred())
	fmt.Fprintf(GinkgoWriter, "lab %s, provider %s, stack %s\n", l.Cfg.Name, l.Provider, E.stack)
	DeferCleanup(func() {
		for _, n := range E.nodes {
			n.Close()
		}
	})
}, NodeTimeout(3*time.Minute))

// connect (re)opens SSH to every node that is up.
func (e *env) connect(ctx context.Context) {
	for _, name := range e.lab.Cfg.NodeNames() {
		if old := e.nodes[name]; old != nil {
			old.Close()
		}
		ns, err := e.lab.Connect(ctx, name)
		Expect(err).NotTo(HaveOccurred(), "SSH to %s", name)
		e.nodes[name] = ns[0]
	}
}

// bound is how long a client may see the VIP down after the owner dies:
// the membership layer's detection time plus the service's start.
func (e *env) bound() time.Duration {
	t := e.lab.Cfg.Timings
	var detect time.Duration
	if e.stack == "corosync" {
		detect = time.Duration(t.TokenMS+t.ConsensusMS) * time.Millisecond
	} else {
		detect = time.Duration(t.Deadtime) * time.Second
	}
	return detect + *serviceFlag
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}
