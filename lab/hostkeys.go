package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/melbahja/goph"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Host keys known before first contact. The nodes of the Vagrant
// providers are machines halab just made, pinned on first contact
// (HostKeys); a machine halab did not make must present a key given
// beforehand: its endpoint carries that key (SSHEndpoint.HostKey), and
// Dial accepts no other and pins nothing.

// ParseHostKey reads a public host key as it appears in a *.pub file or
// in known_hosts: "ssh-ed25519 AAAA... [comment]", or "HOST ssh-ed25519
// AAAA...". Certificates are not host keys here.
func ParseHostKey(s string) (ssh.PublicKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty")
	}
	if key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s)); err == nil {
		return checkHostKeyType(key)
	}
	if _, _, key, _, _, err := ssh.ParseKnownHosts([]byte(s)); err == nil {
		return checkHostKeyType(key)
	}
	return nil, errors.New("not a public key: paste the node's /etc/ssh/ssh_host_ed25519_key.pub, e.g. \"ssh-ed25519 AAAAC3Nza...\"")
}

func checkHostKeyType(k ssh.PublicKey) (ssh.PublicKey, error) {
	if _, ok := k.(*ssh.Certificate); ok {
		return nil, errors.New("a certificate, not a host key: give the node's plain public host key")
	}
	return k, nil
}

// HostKeyAlgorithms are the algorithms that prove possession of key: a
// client that offers only these makes a server with several host keys
// present this one (Go's client prefers ECDSA to Ed25519 otherwise).
func HostKeyAlgorithms(key ssh.PublicKey) []string {
	if key.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{key.Type()}
}

// Fingerprint is how OpenSSH shows a key: type and SHA256 fingerprint.
func Fingerprint(key ssh.PublicKey) string {
	return key.Type() + " " + ssh.FingerprintSHA256(key)
}

// AuthorizedLine is a key as one line of a *.pub file, without comment.
func AuthorizedLine(key ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}

// HostKeyMismatchError is a node that presented another host key than the
// one it must present: halab stopped in the handshake, before logging in.
type HostKeyMismatchError struct {
	Node, Addr string
	// From says where the expected key comes from.
	From      string
	Want, Got string // fingerprints
}

func (e *HostKeyMismatchError) Error() string {
	return fmt.Sprintf("node %s (%s): presents the host key %s, not the %s given in %s; halab refused it before logging in. "+
		"If the machine was reinstalled on purpose, check its new key on its console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and put it there; "+
		"otherwise someone may be intercepting the connection", e.Node, e.Addr, e.Got, e.Want, e.From)
}

// expectHostKey accepts want and nothing else, and writes no pin.
func expectHostKey(node string, ep SSHEndpoint, want ssh.PublicKey) ssh.HostKeyCallback {
	return func(_ string, _ net.Addr, got ssh.PublicKey) error {
		if bytes.Equal(got.Marshal(), want.Marshal()) {
			return nil
		}
		return &HostKeyMismatchError{Node: node, Addr: ep.Addr(), From: ep.HostKeyFrom, Want: Fingerprint(want), Got: Fingerprint(got)}
	}
}

// scanAlgorithms are tried in order by ScanHostKey: the key a user finds
// first in /etc/ssh (ed25519) first.
var scanAlgorithms = [][]string{
	{ssh.KeyAlgoED25519},
	{ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521},
	{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256},
}

var errScanned = errors.New("host key read")

// ScanHostKey reads the host key a node presents, as ssh-keyscan does: a
// handshake that stops at the key, before any login. It prefers ed25519,
// then ECDSA, then RSA. It trusts nothing: the caller shows the key to the
// user or compares it.
func ScanHostKey(ctx context.Context, host string, port int, timeout time.Duration) (ssh.PublicKey, error) {
	if timeout <= 0 {
		timeout = DialTimeout
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	var errs []error
	for _, algos := range scanAlgorithms {
		var got ssh.PublicKey
		cfg := &ssh.ClientConfig{
			User:              "halab-keyscan",
			HostKeyAlgorithms: algos,
			Timeout:           timeout,
			HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
				got = key
				return errScanned
			},
		}
		d := net.Dialer{Timeout: timeout}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		conn.SetDeadline(time.Now().Add(timeout))
		c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
		if err == nil {
			// Cannot happen (the callback always refuses); do not leak it.
			ssh.NewClient(c, chans, reqs).Close()
		}
		conn.Close()
		if got != nil {
			return got, nil
		}
		if err != nil && strings.Contains(err.Error(), "no common algorithm for host key") {
			errs = append(errs, fmt.Errorf("no %s host key", algos[0]))
			continue
		}
		return nil, err
	}
	return nil, fmt.Errorf("%s offers no host key halab reads: %w", addr, errors.Join(errs...))
}

// dialSSH is goph.NewConn, with the client offering only hostKeyAlgos
// when given.
func dialSSH(cfg *goph.Config, hostKeyAlgos []string) (*goph.Client, error) {
	if len(hostKeyAlgos) == 0 {
		return goph.NewConn(cfg)
	}
	c, err := ssh.Dial("tcp", net.JoinHostPort(cfg.Addr, strconv.Itoa(int(cfg.Port))), &ssh.ClientConfig{
		User: cfg.User, Auth: cfg.Auth, Timeout: cfg.Timeout,
		HostKeyCallback: cfg.Callback, HostKeyAlgorithms: hostKeyAlgos,
	})
	if err != nil {
		return nil, err
	}
	return &goph.Client{Client: c, Config: cfg}, nil
}

// Lookup finds the key pinned for alias, if any.
func (h *HostKeys) Lookup(alias string) (ssh.PublicKey, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return lookupKnownHost(h.File, alias)
}

// Pin records key for alias, replacing what was pinned for it: only on
// the user's word (halab up --accept-host-keys).
func (h *HostKeys) Pin(alias string, key ssh.PublicKey) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return replaceKnownHost(h.File, alias, key)
}

func lookupKnownHost(file, alias string) (ssh.PublicKey, bool, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	want := knownhosts.Normalize(alias)
	for len(data) > 0 {
		marker, hosts, key, _, rest, err := ssh.ParseKnownHosts(data)
		if err != nil {
			break // io.EOF: no more entries
		}
		data = rest
		if marker != "" {
			continue
		}
		for _, h := range hosts {
			if h == want {
				return key, true, nil
			}
		}
	}
	return nil, false, nil
}

// replaceKnownHost rewrites file with alias's lines replaced by one for key.
func replaceKnownHost(file, alias string, key ssh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	var keep []string
	if data, err := os.ReadFile(file); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := sc.Text()
			if f := strings.Fields(line); len(f) > 0 && f[0] == knownhosts.Normalize(alias) {
				continue
			}
			keep = append(keep, line)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	keep = append(keep, knownhosts.Line([]string{alias}, key))
	return WriteFileAtomic(file, []byte(strings.Join(keep, "\n")+"\n"), 0o600)
}
