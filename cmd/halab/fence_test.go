package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"halab/lab"
	"halab/lab/fence"
)

// fenceLab is a lab file whose network is loopback (127.0.0.0/8), so that
// its fence endpoint listens on 127.0.0.1 without any machine: what the
// halab binary does with the endpoint, for real, without a lab.
type fenceLab struct {
	bin, file, state string
	port             int
}

func newFenceLab(t *testing.T) *fenceLab {
	t.Helper()
	name := fmt.Sprintf("fencetest%d", os.Getpid())
	f := &fenceLab{bin: buildHalab(t), file: filepath.Join(t.TempDir(), "lab.yaml"), state: filepath.Join(repoRoot, ".halab", name)}
	f.write(t, "auto", freePort(t))
	t.Cleanup(func() {
		fence.Stop(fence.Dir(f.state), 10*time.Second)
		os.RemoveAll(f.state)
	})
	return f
}

func (f *fenceLab) write(t *testing.T, agent string, port int) {
	t.Helper()
	f.port = port
	y := fmt.Sprintf(`name: %s
provider: docker
stack: corosync
nodes:
  - {name: node1, ip: 127.0.0.11}
  - {name: node2, ip: 127.0.0.12}
vip: {address: 127.0.0.20, netmask: 255.0.0.0, nic: lo}
fencing: {agent: %s, address: 127.0.0.1, port: %d}
`, filepath.Base(f.state), agent, port)
	if err := os.WriteFile(f.file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs halab against the lab file; it must return on its own (the
// endpoint it starts holds none of its output).
func (f *fenceLab) run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.bin, append([]string{"-c", f.file}, args...)...)
	cmd.Dir = repoRoot
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("halab %v did not return: %s", args, buf.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return buf.String(), code
}

func (f *fenceLab) must(t *testing.T, args ...string) string {
	t.Helper()
	out, code := f.run(t, args...)
	if code != 0 {
		t.Fatalf("halab %v: exit %d\n%s", args, code, out)
	}
	return out
}

func (f *fenceLab) state_(t *testing.T) fence.State {
	t.Helper()
	st, err := fence.ReadState(fence.Dir(f.state))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func processAlive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// fenceDockerStatus asks the endpoint for a machine's power as node1's
// fence_docker does.
func (f *fenceLab) fenceDockerStatus(t *testing.T, machine string) (string, int) {
	t.Helper()
	agent, err := exec.LookPath("fence_docker")
	if err != nil {
		return "", -1
	}
	p := &fence.PKI{Dir: fence.Dir(f.state)}
	out, err := exec.Command(agent, "--ip", "127.0.0.1", "--ipport", fmt.Sprint(f.port), "--ssl-secure",
		"--tlscacert", p.CACert(), "--tlscert", p.ClientCert("node1"), "--tlskey", p.ClientKey("node1"),
		"--api-version", fence.APIVersion, "--plug", machine, "-o", "status").CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return string(out), code
}

// The endpoint's lifecycle through the halab binary: `fence-endpoint
// start` (what up and provision do) leaves a detached endpoint that
// outlives it and answers with the lab's provider behind it, `status`
// reports it, a second start leaves it alone, a killed one is started
// again, a changed port restarts it, `refuse` makes it fail on purpose,
// `stop` (what down does) ends it.
func TestFenceEndpointCommands(t *testing.T) {
	f := newFenceLab(t)
	out := f.must(t, "fence-endpoint", "start")
	want := fmt.Sprintf("==> fence endpoint started: https://127.0.0.1:%d (mutual TLS)", f.port)
	if !strings.Contains(out, want) {
		t.Fatalf("start said:\n%s\nwant %q", out, want)
	}
	st := f.state_(t)
	if !st.Running || !processAlive(st.PID) {
		t.Fatalf("after halab exited, the endpoint is %+v", st)
	}
	if !strings.Contains(out, "fence endpoint: running, pid "+fmt.Sprint(st.PID)) || !strings.Contains(out, ", answers;") {
		t.Errorf("start's status line:\n%s", out)
	}
	// Its state: keys 0600 in the lab's state directory, nothing of them
	// printed.
	keys, _ := filepath.Glob(filepath.Join(fence.Dir(f.state), "*.key"))
	if len(keys) != 5 {
		t.Errorf("keys: %v", keys)
	}
	for _, k := range keys {
		if fi, err := os.Stat(k); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", k, fi.Mode(), err)
		}
	}

	// The endpoint asks the lab's own provider (docker here, which has no
	// machine for this lab: off, and no docker command run).
	if o, code := f.fenceDockerStatus(t, "fencetest-node1"); code >= 0 && code != 1 {
		t.Errorf("a machine of another name: exit %d\n%s", code, o)
	}
	if o, code := f.fenceDockerStatus(t, filepath.Base(f.state)+"-node1"); code >= 0 && (code != 2 || !strings.Contains(o, "Status: OFF")) {
		t.Errorf("status of this lab's node1: exit %d\n%s", code, o)
	}

	status := f.must(t, "fence-endpoint", "status")
	if !strings.Contains(status, fmt.Sprintf("fence endpoint: running, pid %d, https://127.0.0.1:%d (mutual TLS), answers; requests logged in ", st.PID, f.port)) {
		t.Errorf("status:\n%s", status)
	}
	// halab status shows it under the nodes, and --json carries it.
	if table := f.must(t, "status"); !strings.Contains(table, "not_created") || !strings.Contains(table, fmt.Sprintf("fence endpoint: running, pid %d", st.PID)) {
		t.Errorf("halab status:\n%s", table)
	}
	js := f.must(t, "status", "--json")
	var doc struct {
		Fence fence.Report `json:"fence_endpoint"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil || !doc.Fence.Running || !doc.Fence.Answers || doc.Fence.PID != st.PID || doc.Fence.Agent != "auto" {
		t.Errorf("status --json: %v\n%s", err, js)
	}

	if out := f.must(t, "fence-endpoint", "start"); strings.Contains(out, "started") || f.state_(t).PID != st.PID {
		t.Errorf("a second start touched the running endpoint:\n%s", out)
	}

	out = f.must(t, "fence-endpoint", "refuse", "on")
	if !strings.Contains(out, "refusing every request on purpose") {
		t.Errorf("refuse on:\n%s", out)
	}
	if o, code := f.fenceDockerStatus(t, filepath.Base(f.state)+"-node1"); code >= 0 && (code == 0 || code == 2) {
		t.Errorf("status while refusing: exit %d\n%s", code, o)
	}
	f.must(t, "fence-endpoint", "refuse", "off")
	if _, code := f.run(t, "fence-endpoint", "refuse", "maybe"); code != 2 {
		t.Errorf("refuse maybe: exit %d", code)
	}

	// Gone (killed): the next start (provision's) brings it back.
	syscall.Kill(st.PID, syscall.SIGKILL)
	for deadline := time.Now().Add(5 * time.Second); f.state_(t).Running; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still running after SIGKILL")
		}
	}
	if out := f.must(t, "fence-endpoint", "status"); !strings.Contains(out, "fence endpoint: not running: halab up or halab provision starts it") {
		t.Errorf("status of a killed endpoint:\n%s", out)
	}
	out = f.must(t, "fence-endpoint", "start")
	st2 := f.state_(t)
	if !strings.Contains(out, "fence endpoint started") || st2.PID == st.PID || !processAlive(st2.PID) {
		t.Fatalf("start after a kill:\n%s", out)
	}

	// Another port in the lab file: restarted there.
	f.write(t, "auto", freePort(t))
	out = f.must(t, "fence-endpoint", "start")
	st3 := f.state_(t)
	if !strings.Contains(out, fmt.Sprintf("fence endpoint restarted: https://127.0.0.1:%d", f.port)) || st3.PID == st2.PID {
		t.Fatalf("start after a port change:\n%s", out)
	}
	for deadline := time.Now().Add(5 * time.Second); processAlive(st2.PID); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("the old endpoint (pid %d) still runs", st2.PID)
			break
		}
	}

	out = f.must(t, "fence-endpoint", "stop")
	if !strings.Contains(out, "==> fence endpoint stopped") || f.state_(t).Running {
		t.Fatalf("stop:\n%s", out)
	}
	for deadline := time.Now().Add(5 * time.Second); processAlive(st3.PID); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still runs after stop", st3.PID)
		}
	}
	if out := f.must(t, "fence-endpoint", "stop"); strings.Contains(out, "stopped") {
		t.Errorf("a second stop said %q", out)
	}

	// fencing.agent none: nothing to start, and status says so.
	f.write(t, lab.FenceAgentNone, f.port)
	if out, code := f.run(t, "fence-endpoint", "start"); code != 2 || !strings.Contains(out, "fencing.agent is none") {
		t.Errorf("start with fencing none: exit %d\n%s", code, out)
	}
	if out := f.must(t, "fence-endpoint", "status"); !strings.Contains(out, "fence endpoint: not used (fencing.agent: none)") {
		t.Errorf("status with fencing none:\n%s", out)
	}
	if out := f.must(t, "status"); strings.Contains(out, "fence endpoint") {
		t.Errorf("halab status of a lab that does not fence mentions the endpoint:\n%s", out)
	}
	// Nothing secret in anything halab printed or logged.
	p := &fence.PKI{Dir: fence.Dir(f.state)}
	secrets, err := p.SecretValues()
	if err != nil || len(secrets) == 0 {
		t.Fatalf("secrets: %v", err)
	}
	logs, _ := os.ReadFile(filepath.Join(fence.Dir(f.state), fence.RequestLogName))
	endpointOut, _ := os.ReadFile(filepath.Join(fence.Dir(f.state), fence.OutName))
	for _, s := range secrets {
		for name, text := range map[string]string{"request log": string(logs), "endpoint output": string(endpointOut), "halab output": out + status + js} {
			if strings.Contains(text, string(s)) {
				t.Errorf("%s holds key material", name)
			}
		}
	}
}

// The endpoint helpers with fencing.agent none: a running endpoint (left
// from a lab file that fenced) is stopped, as up and provision do.
func TestEnsureFenceEndpointStopsWhenNone(t *testing.T) {
	f := newFenceLab(t)
	f.must(t, "fence-endpoint", "start")
	pid := f.state_(t).PID
	f.write(t, lab.FenceAgentNone, f.port)
	if out := f.must(t, "fence-endpoint", "status"); !strings.Contains(out, "although fencing.agent is none") {
		t.Errorf("status:\n%s", out)
	}
	l, err := lab.Open(f.file, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	l.Out = &buf
	if err := ensureFenceEndpoint(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "==> fence endpoint stopped (fencing.agent: none)") || f.state_(t).Running {
		t.Errorf("ensure with none: %s", buf.String())
	}
	for deadline := time.Now().Add(5 * time.Second); processAlive(pid); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still runs", pid)
		}
	}
	// And with nothing running, nothing is said.
	buf.Reset()
	if err := ensureFenceEndpoint(context.Background(), l); err != nil || buf.Len() != 0 {
		t.Errorf("second ensure: %v %q", err, buf.String())
	}
}
