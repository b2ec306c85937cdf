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
	"strings"
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
func (p endpointsProvider) CheckFree(context.Context) error               { return nil }
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

// A lab file below another Vagrant project is not that project's: halab
// would otherwise run `vagrant destroy` there.
func TestFindRootSkipsForeignVagrantfiles(t *testing.T) {
	top := t.TempDir()
	if err := os.WriteFile(filepath.Join(top, "Vagrantfile"), []byte("Vagrant.configure('2') do |c| end\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	labs := filepath.Join(top, "labs")
	if err := os.MkdirAll(labs, 0o755); err != nil {
		t.Fatal(err)
	}
	if root, err := FindRoot(labs); err == nil {
		t.Fatalf("FindRoot took the foreign project %s", root)
	} else if !strings.Contains(err.Error(), "another Vagrant project") {
		t.Errorf("error does not say why: %v", err)
	}
	// halab's own Vagrantfile above the foreign one is found.
	own := filepath.Join(top, "halab")
	inner := filepath.Join(own, "sub")
	if err := os.MkdirAll(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(own, "Vagrantfile"), []byte("lab = YAML.safe_load(File.read(ENV['HALAB_RESOLVED']))\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if root, err := FindRoot(inner); err != nil || root != own {
		t.Errorf("FindRoot(%s) = %s, %v; want %s", inner, root, err, own)
	}
	// The checkout's own Vagrantfile carries the mark.
	if root, err := FindRoot("."); err != nil || filepath.Base(root) == "lab" {
		t.Errorf("FindRoot(.) = %s, %v", root, err)
	}
}
