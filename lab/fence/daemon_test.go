package fence

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"halab/lab/labtest"
)

// helperArg makes the test binary serve an endpoint instead of running
// tests: the detached process Start runs, as `halab fence-endpoint serve`
// runs in a lab (with an in-memory provider here).
const helperArg = "fence-endpoint-test-helper"

func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == helperArg {
		os.Exit(helperServe(os.Args[2]))
	}
	os.Exit(m.Run())
}

func helperServe(dir string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := Serve(ctx, ServeOptions{Dir: dir, Addr: "127.0.0.1:0", Lab: "halab", Machines: labMachines(),
		Power: labtest.NewFakeProvider("node1", "node2"), Out: os.Stdout})
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	return 0
}

func helperArgv(dir string) []string { return []string{os.Args[0], helperArg, dir} }

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// sessionID reads a process's session from /proc.
func sessionID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	// pid (comm) state ppid pgrp session ...
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	s, _ := strconv.Atoi(f[3])
	return s
}

// The lifecycle as up, status, provision and down drive it: Start runs the
// endpoint detached (a session of its own, its pid and address recorded,
// answering halab's certificate), a second Start leaves it alone, Stop ends
// only that process, and Start after it was killed starts it again.
func TestStartStopStatus(t *testing.T) {
	dir := t.TempDir() + "/fence"
	p := &PKI{Dir: dir, Lab: "halab"}
	if err := p.Ensure([]string{"node1", "node2"}, loopback); err != nil {
		t.Fatal(err)
	}
	if st, err := ReadState(dir); err != nil || st.Running {
		t.Fatalf("before start: %+v, %v", st, err)
	}
	if stopped, err := Stop(dir, time.Second); stopped || err != nil {
		t.Fatalf("Stop with nothing running: %v, %v", stopped, err)
	}
	ctx := context.Background()
	ready := func(ctx context.Context, st State) error { return p.Ping(ctx, st.Addr) }
	st, err := Start(ctx, dir, helperArgv(dir), 10*time.Second, ready)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Stop(dir, 5*time.Second) })
	if !st.Running || st.PID == os.Getpid() || !alive(st.PID) || !strings.HasPrefix(st.Addr, "127.0.0.1:") || st.Lab != "halab" || len(st.Machines) != 2 {
		t.Fatalf("started: %+v", st)
	}
	if sid := sessionID(t, st.PID); sid != st.PID {
		t.Errorf("the endpoint runs in session %d, not a session of its own (%d): a Ctrl-C at halab's terminal would stop it", sid, st.PID)
	}
	if err := p.Ping(ctx, st.Addr); err != nil {
		t.Fatalf("ping: %v", err)
	}
	again, err := Start(ctx, dir, helperArgv(dir), 10*time.Second, ready)
	if err != nil || again.PID != st.PID {
		t.Fatalf("second Start: %+v, %v (want the running pid %d)", again, err, st.PID)
	}
	// A second server on the same directory refuses to run.
	err = Serve(ctx, ServeOptions{Dir: dir, Addr: "127.0.0.1:0", Lab: "halab", Machines: labMachines(), Power: labtest.NewFakeProvider()})
	if err == nil || !strings.Contains(err.Error(), ErrRunning.Error()) || !strings.Contains(err.Error(), strconv.Itoa(st.PID)) {
		t.Fatalf("second Serve: %v", err)
	}

	stopped, err := Stop(dir, 10*time.Second)
	if !stopped || err != nil {
		t.Fatalf("Stop: %v, %v", stopped, err)
	}
	if now, _ := ReadState(dir); now.Running {
		t.Fatalf("running after Stop: %+v", now)
	}
	waitDead(t, st.PID)
	if _, err := os.Stat(filepath.Join(dir, pidName)); !os.IsNotExist(err) {
		t.Errorf("pid file left: %v", err)
	}
	if err := p.Ping(ctx, st.Addr); err == nil {
		t.Error("still answering after Stop")
	}
	es, err := ReadLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) < 2 || es[0].Event != "start" || es[len(es)-1].Event != "stop" || es[len(es)-1].PID != st.PID {
		t.Errorf("log: %+v", es)
	}
	out, _ := os.ReadFile(filepath.Join(dir, OutName))
	if !strings.Contains(string(out), "listening on https://127.0.0.1:") {
		t.Errorf("endpoint output: %s", out)
	}

	// Killed outright (SIGKILL leaves the pid file): gone for ReadState,
	// and Start brings it back.
	st, err = Start(ctx, dir, helperArgv(dir), 10*time.Second, ready)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Kill(st.PID, syscall.SIGKILL)
	waitDead(t, st.PID)
	if now, _ := ReadState(dir); now.Running {
		t.Fatalf("running after SIGKILL: %+v", now)
	}
	back, err := Start(ctx, dir, helperArgv(dir), 10*time.Second, ready)
	if err != nil || back.PID == st.PID || !alive(back.PID) {
		t.Fatalf("restart: %+v, %v", back, err)
	}
	if _, err := Stop(dir, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	waitDead(t, back.PID)
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	// Start's wait reaps the processes it started.
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still alive", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// An endpoint that cannot start (its PKI is missing) fails Start with its
// own words.
func TestStartFailureSaysWhy(t *testing.T) {
	dir := t.TempDir() + "/fence"
	_, err := Start(context.Background(), dir, helperArgv(dir), 10*time.Second, nil)
	if err == nil {
		Stop(dir, 5*time.Second)
		t.Fatal("started without a PKI")
	}
	if !strings.Contains(err.Error(), "exited at start") || !strings.Contains(err.Error(), "fence endpoint certificate") {
		t.Errorf("error: %v", err)
	}
}

// Nothing secret leaves the key files: not in the request log, the
// endpoint's output, the pid file, or the agent's output, whether the
// requests succeed or are refused.
func TestNoKeyMaterialInLogsOrOutput(t *testing.T) {
	e := startEndpoint(t)
	var outputs []string
	if _, err := fenceDockerPath(); err == nil {
		outputs = append(outputs,
			e.runAgent(t, "node1", "halab-node2", "off").out,
			e.runAgent(t, "node1", "halab-node2", "on", "--verbose").out,
			e.runAgent(t, "node2", "other-node1", "status", "--verbose").out)
	}
	// a refused handshake too
	client(nil).Get("https://" + e.addr + "/_ping")
	e.stop()
	secrets, err := e.pki.SecretValues()
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) < 10 {
		t.Fatalf("only %d secret forms", len(secrets))
	}
	var texts = map[string]string{"endpoint output": e.out.String()}
	for i, o := range outputs {
		texts[fmt.Sprintf("fence_docker run %d", i)] = o
	}
	entries, _ := os.ReadDir(e.dir)
	for _, en := range entries {
		if strings.HasSuffix(en.Name(), ".key") {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(e.dir, en.Name()))
		texts[en.Name()] = string(b)
	}
	if !strings.Contains(texts[RequestLogName], `"event":"handshake"`) {
		t.Errorf("the refused handshake is not in the log")
	}
	for name, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, string(s)) {
				t.Errorf("%s holds key material", name)
			}
		}
		if strings.Contains(text, "PRIVATE KEY") {
			t.Errorf("%s holds a private key", name)
		}
	}
}
