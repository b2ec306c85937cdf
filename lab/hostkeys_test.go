package lab

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func newHostKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Pinning a key writes a new known_hosts and renames it into place: a
// reader that opened the file before (another halab command checking a
// key) reads the old file whole, never one being appended to; the new
// file is 0600 whatever the old one was, holds every key, and no
// temporary file is left beside it.
func TestHostKeysPinAtomically(t *testing.T) {
	dir := t.TempDir()
	h := &HostKeys{File: filepath.Join(dir, "known_hosts")}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}
	k1, k2 := newHostKey(t), newHostKey(t)

	if err := h.callback("node1.a", "node1")("127.0.0.1:2222", addr, k1); err != nil {
		t.Fatalf("first contact of node1: %v", err)
	}
	before, err := os.ReadFile(h.File)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(h.File, 0o644); err != nil {
		t.Fatal(err)
	}
	reader, err := os.Open(h.File)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	if err := h.callback("node2.b", "node2")("127.0.0.1:2223", addr, k2); err != nil {
		t.Fatalf("first contact of node2: %v", err)
	}
	seen, err := io.ReadAll(reader)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(seen, before) {
		t.Errorf("a reader that opened known_hosts before the pin read %q, want the old file %q: the file was written in place", seen, before)
	}
	after, err := os.ReadFile(h.File)
	if err != nil {
		t.Fatal(err)
	}
	want := knownhosts.Line([]string{"node1.a"}, k1) + "\n" + knownhosts.Line([]string{"node2.b"}, k2) + "\n"
	if string(after) != want {
		t.Errorf("known_hosts = %q, want %q", after, want)
	}
	if st, err := os.Stat(h.File); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("known_hosts mode = %v (%v), want 0600", st.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "known_hosts" && e.Name() != "known_hosts.lock" {
			t.Errorf("left beside known_hosts: %s", e.Name())
		}
	}
	// Both keys check out; another key for node1 is a change.
	for alias, k := range map[string]ssh.PublicKey{"node1.a": k1, "node2.b": k2} {
		if err := h.callback(alias, strings.Split(alias, ".")[0])("x", addr, k); err != nil {
			t.Errorf("%s: pinned key refused: %v", alias, err)
		}
	}
	var changed *HostKeyChangedError
	if err := h.callback("node1.a", "node1")("x", addr, k2); !errors.As(err, &changed) {
		t.Errorf("node1 with another key: %v, want HostKeyChangedError", err)
	}
}

// A file whose last line lacks its newline (edited by hand) still gets
// the new key on a line of its own.
func TestHostKeysPinAfterUnterminatedLine(t *testing.T) {
	h := &HostKeys{File: filepath.Join(t.TempDir(), "known_hosts")}
	k1, k2 := newHostKey(t), newHostKey(t)
	if err := os.WriteFile(h.File, []byte(knownhosts.Line([]string{"node1.a"}, k1)), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}
	if err := h.callback("node2.b", "node2")("x", addr, k2); err != nil {
		t.Fatal(err)
	}
	for alias, k := range map[string]ssh.PublicKey{"node1.a": k1, "node2.b": k2} {
		if err := h.callback(alias, "n")("x", addr, k); err != nil {
			t.Errorf("%s: %v", alias, err)
		}
	}
}
