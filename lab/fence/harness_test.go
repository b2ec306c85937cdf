package fence

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"halab/lab/labtest"
)

// syncBuffer is a bytes.Buffer the endpoint and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testEndpoint is a lab's fence endpoint served in this process on
// loopback, for the machines halab-node1 and halab-node2, powered by an
// in-memory provider.
type testEndpoint struct {
	dir  string
	pki  *PKI
	addr string
	fake *labtest.FakeProvider
	out  *syncBuffer
	stop func()
}

var loopback = netip.MustParseAddr("127.0.0.1")

func labMachines() []Machine {
	return []Machine{{Name: "halab-node1", Node: "node1"}, {Name: "halab-node2", Node: "node2"}}
}

// startEndpoint serves lab "halab" from a fresh fence directory. The PKI
// also holds a client certificate for clients (beyond node1 and node2),
// so that tests can present a certificate of this CA that is no node's.
func startEndpoint(t *testing.T, extraClients ...string) *testEndpoint {
	t.Helper()
	dir := t.TempDir() + "/fence"
	p := &PKI{Dir: dir, Lab: "halab"}
	if err := p.Ensure(append([]string{"node1", "node2"}, extraClients...), loopback); err != nil {
		t.Fatal(err)
	}
	fake := labtest.NewFakeProvider("node1", "node2")
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeOptions{Dir: dir, Addr: "127.0.0.1:0", Lab: "halab", Machines: labMachines(), Power: fake, Out: out})
	}()
	var addr string
	deadline := time.Now().Add(5 * time.Second)
	for addr == "" {
		select {
		case err := <-done:
			t.Fatalf("endpoint exited: %v\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if st, err := ReadState(dir); err == nil && st.Running && st.Addr != "127.0.0.1:0" && st.Addr != "" {
			addr = st.Addr
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("endpoint did not come up:\n%s", out.String())
		}
	}
	e := &testEndpoint{dir: dir, pki: p, addr: addr, fake: fake, out: out}
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(e.stop)
	return e
}

func (e *testEndpoint) port() string {
	return strconv.Itoa(int(netip.MustParseAddrPort(e.addr).Port()))
}

// entries reads the request log.
func (e *testEndpoint) entries(t *testing.T) []Entry {
	t.Helper()
	es, err := ReadLog(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// fenceDocker finds Debian's fence_docker (fence-agents); under CI a
// missing one fails the test, elsewhere it skips.
func fenceDocker(t *testing.T) string {
	t.Helper()
	if path, err := fenceDockerPath(); err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatal("fence_docker is not installed (Debian/Ubuntu: apt-get install fence-agents; .ci/deps installs it)")
	}
	t.Skip("fence_docker is not installed (apt-get install fence-agents)")
	return ""
}

func fenceDockerPath() (string, error) {
	var err error
	for _, p := range []string{"fence_docker", "/usr/sbin/fence_docker"} {
		var path string
		if path, err = exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", err
}
