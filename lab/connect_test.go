package lab

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// endpointsProvider is a Provider that only knows endpoints: enough for
// Connect, which must not need a hypervisor.
type endpointsProvider struct{ eps []SSHEndpoint }

func (p endpointsProvider) Name() string                                  { return "test" }
func (p endpointsProvider) Runnable() error                               { return nil }
func (p endpointsProvider) Prepare(context.Context, io.Writer) error      { return nil }
func (p endpointsProvider) Up(context.Context, ...string) error           { return nil }
func (p endpointsProvider) Destroy(context.Context) error                 { return nil }
func (p endpointsProvider) PowerOff(context.Context, string) error        { return nil }
func (p endpointsProvider) PowerOn(context.Context, string) error         { return nil }
func (p endpointsProvider) Running(context.Context, string) (bool, error) { return true, nil }
func (p endpointsProvider) MachineID(string) string                       { return "test-id" }
func (p endpointsProvider) Endpoints(context.Context, []string) ([]SSHEndpoint, error) {
	return p.eps, nil
}

// A bad node name among good ones is refused before any dial starts: an
// early return must not leave dials (and their keepalives) running.
func TestConnectChecksNamesBeforeDialling(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	cfg := Defaults()
	l := &Lab{Cfg: &cfg, State: t.TempDir(), Out: io.Discard, Keys: &HostKeys{File: filepath.Join(t.TempDir(), "known_hosts")},
		Provider: endpointsProvider{eps: []SSHEndpoint{{Node: "node1", Host: "127.0.0.1", Port: port, User: "vagrant", IdentityFile: keyFile}}}}

	for _, names := range [][]string{{"node1", "node9"}, {"node1", "node2"}} {
		_, err := l.Connect(context.Background(), names...)
		if err == nil {
			t.Fatalf("Connect(%v) succeeded", names)
		}
		time.Sleep(300 * time.Millisecond)
		if n := accepted.Load(); n != 0 {
			t.Fatalf("Connect(%v) returned %v, but %d dial(s) reached the node anyway", names, err, n)
		}
	}
}
