package fence

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// agentRun is one run of fence_docker.
type agentRun struct {
	out  string
	code int
}

// runAgent runs Debian's fence_docker against the endpoint with a node's
// client certificate, as a node's fencer would: mutual TLS, the API
// version set.
func (e *testEndpoint) runAgent(t *testing.T, node, plug, action string, extra ...string) agentRun {
	t.Helper()
	args := []string{
		"--ip", "127.0.0.1", "--ipport", e.port(), "--ssl-secure",
		"--tlscacert", e.pki.CACert(), "--tlscert", e.pki.ClientCert(node), "--tlskey", e.pki.ClientKey(node),
		"--api-version", APIVersion, "--plug", plug, "-o", action,
	}
	return runFenceDocker(t, append(args, extra...), "")
}

func runFenceDocker(t *testing.T, args []string, stdin string) agentRun {
	t.Helper()
	cmd := exec.Command(fenceDocker(t), args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("fence_docker: %v", err)
	}
	return agentRun{out: string(out), code: code}
}

// The real fence_docker: status, off, on and reboot of a lab machine
// succeed and change the provider's power state; each request is logged
// with the node's certificate, the target and the result.
func TestFenceDocker(t *testing.T) {
	e := startEndpoint(t)
	want := func(r agentRun, code int, says string) {
		t.Helper()
		if r.code != code || !strings.Contains(r.out, says) {
			t.Fatalf("fence_docker exited %d (want %d) saying:\n%s\n(want %q)\nendpoint: %s", r.code, code, r.out, says, e.out.String())
		}
	}
	want(e.runAgent(t, "node1", "halab-node2", "status"), 0, "Status: ON")

	want(e.runAgent(t, "node1", "halab-node2", "off"), 0, "Success: Powered OFF")
	if e.fake.IsOn("node2") {
		t.Fatal("node2 still on after off")
	}
	if !e.fake.IsOn("node1") {
		t.Fatal("node1 was powered off too")
	}
	// fence-agents: status of a machine that is off exits 2.
	want(e.runAgent(t, "node1", "halab-node2", "status"), 2, "Status: OFF")
	want(e.runAgent(t, "node1", "halab-node2", "off"), 0, "Success: Already OFF")

	want(e.runAgent(t, "node1", "halab-node2", "on"), 0, "Success: Powered ON")
	if !e.fake.IsOn("node2") {
		t.Fatal("node2 off after on")
	}

	// reboot as Pacemaker's default stonith-action runs it (method onoff):
	// off, then on.
	before := len(e.fake.Calls())
	want(e.runAgent(t, "node2", "halab-node1", "reboot"), 0, "Success: Rebooted")
	if !e.fake.IsOn("node1") {
		t.Fatal("node1 off after reboot")
	}
	calls := strings.Join(e.fake.Calls()[before:], ",")
	if !strings.Contains(calls, "power-off node1") || !strings.Contains(calls, "power-on node1") ||
		strings.Index(calls, "power-off node1") > strings.Index(calls, "power-on node1") {
		t.Errorf("reboot did not power off then on: %s", calls)
	}
	// reboot --method cycle uses the restart endpoint.
	before = len(e.fake.Calls())
	r := e.runAgent(t, "node1", "halab-node2", "reboot", "--method", "cycle")
	calls = strings.Join(e.fake.Calls()[before:], ",")
	if !strings.Contains(calls, "power-off node2") || !strings.Contains(calls, "power-on node2") {
		t.Errorf("reboot --method cycle: %s\n%s", calls, r.out)
	}
	waitOn(t, e, "node2")

	// monitor (Pacemaker's recurring check of the device) lists the
	// containers: the lab's machines only.
	want(e.runAgent(t, "node1", "halab-node2", "monitor"), 0, "")
	want(e.runAgent(t, "node1", "halab-node2", "list-status"), 0, "halab-node1,halab-node1,on\nhalab-node2,halab-node2,on")

	var kills []Entry
	for _, en := range e.entries(t) {
		if en.Action == "kill" && en.Result == "ok" {
			kills = append(kills, en)
		}
	}
	if len(kills) < 2 {
		t.Fatalf("want at least 2 logged kills (off, reboot), got %+v", kills)
	}
	k := kills[0]
	if k.Target != "halab-node2" || k.Node != "node2" || !strings.Contains(k.Client, "CN=node1") || !strings.Contains(k.Client, "OU=node") ||
		k.Serial == "" || k.Status != 204 || k.Power != "off" || k.Time.IsZero() || k.Remote == "" || !strings.HasPrefix(k.Path, "/v"+APIVersion+"/containers/halab-node2/kill") {
		t.Errorf("kill entry: %+v", k)
	}
}

func waitOn(t *testing.T, e *testEndpoint, node string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !e.fake.IsOn(node) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never came back on", node)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fence_docker's own default API version (1.11) is refused, as current
// Docker engines refuse it: a configuration must set api_version.
func TestFenceDockerDefaultAPIVersionRefused(t *testing.T) {
	e := startEndpoint(t)
	args := []string{
		"--ip", "127.0.0.1", "--ipport", e.port(), "--ssl-secure",
		"--tlscacert", e.pki.CACert(), "--tlscert", e.pki.ClientCert("node1"), "--tlskey", e.pki.ClientKey("node1"),
		"--plug", "halab-node2", "-o", "off",
	}
	r := runFenceDocker(t, args, "")
	if r.code == 0 {
		t.Fatalf("fence_docker without --api-version succeeded:\n%s", r.out)
	}
	if !e.fake.IsOn("node2") {
		t.Fatal("node2 powered off through API version 1.11")
	}
	found := false
	for _, en := range e.entries(t) {
		if strings.HasPrefix(en.Path, "/v1.11/") && strings.Contains(en.Result, "client version 1.11 is too old. Minimum supported API version is "+MinAPIVersion) && en.Status == 400 {
			found = true
		}
	}
	if !found {
		t.Errorf("no refused 1.11 request in the log: %+v", e.entries(t))
	}
	// One too new is refused the same way.
	r = e.runAgent(t, "node1", "halab-node2", "status", "--api-version", "1.99")
	if r.code == 0 {
		t.Errorf("API version 1.99 accepted:\n%s", r.out)
	}
}

// A failing provider fails the fence: never reported as done.
func TestFenceDockerProviderFailure(t *testing.T) {
	e := startEndpoint(t)
	e.fake.SetFail(func(op, node string) error {
		if op == "power-off" {
			return fmt.Errorf("docker kill: engine unreachable")
		}
		return nil
	})
	r := e.runAgent(t, "node1", "halab-node2", "off", "--power-timeout", "2")
	if r.code == 0 {
		t.Fatalf("off succeeded while the provider failed:\n%s", r.out)
	}
	found := false
	for _, en := range e.entries(t) {
		if en.Action == "kill" && strings.Contains(en.Result, "error: power-off halab-node2: docker kill: engine unreachable") && en.Status == 500 {
			found = true
		}
	}
	if !found {
		t.Errorf("the failure is not logged: %+v", e.entries(t))
	}
	// A power state the provider cannot tell is no "off".
	e.fake.SetFail(func(op, node string) error {
		if op == "running" {
			return fmt.Errorf("VBoxManage: no answer")
		}
		return nil
	})
	if r := e.runAgent(t, "node1", "halab-node2", "status"); r.code == 0 || r.code == 2 {
		t.Errorf("status with an unknown power state exited %d:\n%s", r.code, r.out)
	}
}

// A power-on that takes a while (a boot): the endpoint answers at once,
// the agent polls until the machine runs.
func TestFenceDockerSlowPowerOn(t *testing.T) {
	e := startEndpoint(t)
	e.fake.SetPowerOnDelay(2500 * time.Millisecond) // beyond fence_docker's 3 s request timeout with the agent's start-up
	e.fake.SetOn("node2", false)
	start := time.Now()
	r := e.runAgent(t, "node1", "halab-node2", "on")
	if r.code != 0 || !strings.Contains(r.out, "Success: Powered ON") {
		t.Fatalf("on exited %d:\n%s", r.code, r.out)
	}
	if time.Since(start) < 2500*time.Millisecond {
		t.Errorf("on returned before the machine booted (%s)", time.Since(start))
	}
	var started, booted bool
	for _, en := range e.entries(t) {
		started = started || (en.Action == "start" && en.Event == "request" && en.Result == "ok: power-on started" && en.Status == 204)
		booted = booted || (en.Event == "power-on" && en.Result == "ok" && en.Node == "node2" && en.TookMS >= 2500)
	}
	if !started || !booted {
		t.Errorf("log lacks the start request or its completion: %+v", e.entries(t))
	}
}

// The endpoint set to refuse (the fence device failing on purpose): every
// request fails, no power changes; set back, it fences again.
func TestFenceDockerRefusing(t *testing.T) {
	e := startEndpoint(t)
	if err := SetRefusing(e.dir, true); err != nil {
		t.Fatal(err)
	}
	if !Refusing(e.dir) {
		t.Fatal("Refusing() = false after SetRefusing(true)")
	}
	if r := e.runAgent(t, "node1", "halab-node2", "off", "--power-timeout", "2"); r.code == 0 {
		t.Fatalf("off succeeded while refusing:\n%s", r.out)
	}
	if r := e.runAgent(t, "node1", "halab-node2", "monitor"); r.code == 0 {
		t.Fatalf("monitor succeeded while refusing:\n%s", r.out)
	}
	if !e.fake.IsOn("node2") {
		t.Fatal("node2 powered off while refusing")
	}
	for _, c := range e.fake.Calls() {
		t.Errorf("the provider was asked %q while refusing", c)
	}
	refusedLogged := false
	for _, en := range e.entries(t) {
		refusedLogged = refusedLogged || (en.Status == 503 && strings.Contains(en.Result, "refused: the fence endpoint of lab halab refuses every request"))
	}
	if !refusedLogged {
		t.Errorf("no refusal logged: %+v", e.entries(t))
	}
	if err := SetRefusing(e.dir, false); err != nil {
		t.Fatal(err)
	}
	if r := e.runAgent(t, "node1", "halab-node2", "off"); r.code != 0 {
		t.Fatalf("off after refuse off exited %d:\n%s", r.code, r.out)
	}
	if e.fake.IsOn("node2") {
		t.Fatal("node2 on after off")
	}
}
