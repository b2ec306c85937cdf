package lab

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func okExec(string, []byte) (string, string, int) { return "", "", 0 }

func TestParseHostKey(t *testing.T) {
	k := newSigner(t, "ed25519").PublicKey()
	line := AuthorizedLine(k)
	for _, in := range []string{line, line + " root@node1", "  " + line + "\n", "node1.abc " + line, "[127.0.0.1]:2201 " + line} {
		got, err := ParseHostKey(in)
		if err != nil {
			t.Errorf("ParseHostKey(%q): %v", in, err)
			continue
		}
		if ssh.FingerprintSHA256(got) != ssh.FingerprintSHA256(k) {
			t.Errorf("ParseHostKey(%q) = another key", in)
		}
	}
	for _, in := range []string{"", "ssh-ed25519", "ssh-ed25519 notbase64!", "SHA256:abcdef", "hello world"} {
		if _, err := ParseHostKey(in); err == nil {
			t.Errorf("ParseHostKey(%q) accepted", in)
		}
	}
}

// A node whose endpoint carries its host key is checked against that key
// alone: the right one logs in (whatever other keys the server has, the
// client asks for the pinned key's type), a wrong one is refused in the
// handshake, before any login, and nothing is pinned either way.
func TestDialExpectedHostKey(t *testing.T) {
	keyFile, pub := clientKey(t)
	ed, ec := newSigner(t, "ed25519"), newSigner(t, "ecdsa")
	srv := startSSHServer(t, pub, []ssh.Signer{ec, ed}, okExec)
	keys := &HostKeys{File: filepath.Join(t.TempDir(), "known_hosts")}
	ep := SSHEndpoint{Node: "node1", Host: "127.0.0.1", Port: srv.Port, User: "vagrant", IdentityFile: keyFile, HostKeyFrom: "lab.yaml (nodes[0].ssh.host_key)"}

	for _, want := range []ssh.PublicKey{ed.PublicKey(), ec.PublicKey()} {
		ep.HostKey = AuthorizedLine(want)
		n, err := Dial(context.Background(), "node1", "10.0.0.1", ep, "node1.x", keys, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", want.Type(), err)
		}
		res, err := n.Run(context.Background(), nil, "true")
		n.Close()
		if err != nil || !res.OK() {
			t.Fatalf("%s: run: %v %v", want.Type(), res, err)
		}
	}
	logins := srv.Logins.Load()

	ep.HostKey = AuthorizedLine(newSigner(t, "ed25519").PublicKey())
	_, err := Dial(context.Background(), "node1", "10.0.0.1", ep, "node1.x", keys, 5*time.Second)
	var hm *HostKeyMismatchError
	if !errors.As(err, &hm) {
		t.Fatalf("wrong host key: %T %v, want *HostKeyMismatchError", err, err)
	}
	for _, w := range []string{"node node1", ssh.FingerprintSHA256(ed.PublicKey()), "lab.yaml (nodes[0].ssh.host_key)", "before logging in", "intercepting"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q lacks %q", err, w)
		}
	}
	if srv.Logins.Load() != logins {
		t.Error("a node with the wrong host key got a login")
	}
	if _, err := os.Stat(keys.File); err == nil {
		t.Error("a key known beforehand was pinned in known_hosts")
	}
	// A type the node lacks is a failed connection, not a silent fallback.
	ep.HostKey = AuthorizedLine(newSigner(t, "rsa").PublicKey())
	if _, err := Dial(context.Background(), "node1", "10.0.0.1", ep, "node1.x", keys, 5*time.Second); err == nil {
		t.Error("a node without the pinned key's type was accepted")
	}
}

// ScanHostKey reads the key without logging in, ed25519 first.
func TestScanHostKey(t *testing.T) {
	_, pub := clientKey(t)
	for _, kinds := range [][]string{{"ecdsa", "ed25519", "rsa"}, {"ecdsa", "rsa"}, {"rsa"}} {
		var signers []ssh.Signer
		for _, k := range kinds {
			signers = append(signers, newSigner(t, k))
		}
		srv := startSSHServer(t, pub, signers, okExec)
		got, err := ScanHostKey(context.Background(), "127.0.0.1", srv.Port, 5*time.Second)
		if err != nil {
			t.Fatalf("%v: %v", kinds, err)
		}
		want := signers[0]
		if kinds[0] == "ecdsa" && len(kinds) == 3 {
			want = signers[1] // ed25519 is preferred
		}
		if ssh.FingerprintSHA256(got) != ssh.FingerprintSHA256(want.PublicKey()) {
			t.Errorf("%v: scanned %s, want %s", kinds, Fingerprint(got), Fingerprint(want.PublicKey()))
		}
		if srv.Logins.Load() != 0 {
			t.Errorf("%v: scanning logged in", kinds)
		}
	}
	if _, err := ScanHostKey(context.Background(), "127.0.0.1", 1, time.Second); err == nil {
		t.Error("scanning a closed port succeeded")
	}
}

func TestPinAndLookup(t *testing.T) {
	h := &HostKeys{File: filepath.Join(t.TempDir(), "state", "known_hosts")}
	if _, ok, err := h.Lookup("node1.abc"); ok || err != nil {
		t.Fatalf("empty: %v %v", ok, err)
	}
	a, b, c := newSigner(t, "ed25519").PublicKey(), newSigner(t, "ecdsa").PublicKey(), newSigner(t, "ed25519").PublicKey()
	for _, p := range []struct {
		alias string
		key   ssh.PublicKey
	}{{"node1.abc", a}, {"node2.def", b}, {"node1.abc", c}} {
		if err := h.Pin(p.alias, p.key); err != nil {
			t.Fatal(err)
		}
	}
	for alias, want := range map[string]ssh.PublicKey{"node1.abc": c, "node2.def": b} {
		got, ok, err := h.Lookup(alias)
		if err != nil || !ok || ssh.FingerprintSHA256(got) != ssh.FingerprintSHA256(want) {
			t.Errorf("Lookup(%s) = %v %v %v", alias, got, ok, err)
		}
	}
	data, _ := os.ReadFile(h.File)
	if n := strings.Count(string(data), "\n"); n != 2 {
		t.Errorf("a re-pin should replace the line:\n%s", data)
	}
	if st, _ := os.Stat(h.File); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	// The pins are what OpenSSH and the first-contact pinning read.
	check := h.callback("node1.abc", "node1")
	if err := check("x", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}, c); err != nil {
		t.Errorf("first-contact callback refuses the pinned key: %v", err)
	}
}
