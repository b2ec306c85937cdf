// Package oldssh is an SSH server for tests that offers only what the
// sshd of Ubuntu 12.04 (OpenSSH 5.9p1) can: key exchange up to
// ecdh-sha2-nistp256 and diffie-hellman-group14-sha1 (no curve25519, 6.5),
// aes*-ctr ciphers, hmac-sha1 and hmac-sha2-256 MACs, host keys ssh-rsa
// (SHA-1 signatures) or ecdsa-sha2-nistp256, and user keys accepted only
// as ssh-rsa signed with SHA-1 (no rsa-sha2-256/512: OpenSSH 7.2). It runs
// the commands it is given with /bin/sh on this machine, as the node's
// passwordless sudo would (the "sudo -n --" in front is dropped), and
// serves halab's root SFTP session (sudo -n -- sh -c SFTP-SERVER-SCRIPT)
// with github.com/pkg/sftp's server, since 12.04's sftp-server is not
// here.
//
// What it cannot be: OpenSSH 5.9 sends no server-sig-algs extension (RFC
// 8308 came with 7.2); golang.org/x/crypto's server sends it to every
// client that asks (ext-info-c), listing only ssh-rsa here. A client that
// signs with the key's own format when the extension is absent (x/crypto:
// client_auth.go pickSignatureAlgorithm's fallback) makes the same choice
// either way.
package oldssh

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"halab/lab"
)

// OpenSSH 5.9p1's defaults (myproposal.h), less what x/crypto does not
// implement; the ciphers and MACs are the subset the issue names.
var (
	KeyExchanges = []string{"ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
		"diffie-hellman-group-exchange-sha256", "diffie-hellman-group-exchange-sha1",
		"diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1"}
	Ciphers = []string{"aes128-ctr", "aes192-ctr", "aes256-ctr"}
	MACs    = []string{"hmac-sha1", "hmac-sha2-256"}
)

// Version is the banner of Ubuntu 12.04's sshd.
const Version = "SSH-2.0-OpenSSH_5.9p1 Debian-5ubuntu1.10"

// Server is a running stand-in.
type Server struct {
	Addr    string
	Port    int
	User    string
	HostKey ssh.PublicKey
	// KeyFile is the user's private key: RSA, PKCS#1 PEM ("BEGIN RSA
	// PRIVATE KEY"), as Vagrant 2.3.4's Keypair.create writes the key it
	// inserts into a box.
	KeyFile string
	// Dir is where commands run.
	Dir string

	mu         sync.Mutex
	negotiated []ssh.NegotiatedAlgorithms
	commands   []string
	ln         net.Listener
}

// keys are the RSA user and host keys (2048 bits, as Vagrant's), made once
// per test binary: RSA key generation is most of a server's start.
var keys struct {
	once       sync.Once
	user, host *rsa.PrivateKey
	err        error
}

func rsaKeys() (user, host *rsa.PrivateKey, err error) {
	keys.once.Do(func() {
		if keys.user, keys.err = rsa.GenerateKey(rand.Reader, 2048); keys.err == nil {
			keys.host, keys.err = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	return keys.user, keys.host, keys.err
}

// Start runs a server on 127.0.0.1 with a host key of hostKeyAlgo
// ("ssh-rsa" or "ecdsa-sha2-nistp256"), until the test ends. kex, when
// given, narrows the key exchanges to some of 5.9's.
func Start(t testing.TB, hostKeyAlgo string, kex ...string) *Server {
	t.Helper()
	dir := t.TempDir()
	s := &Server{User: "vagrant", Dir: dir}

	userKey, hostRSA, err := rsaKeys()
	if err != nil {
		t.Fatal(err)
	}
	s.KeyFile = filepath.Join(dir, "private_key")
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(userKey)})
	if err := os.WriteFile(s.KeyFile, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	userPub, err := ssh.NewPublicKey(&userKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	var hostSigner ssh.Signer
	switch hostKeyAlgo {
	case ssh.KeyAlgoRSA:
		base, err := ssh.NewSignerFromKey(hostRSA)
		if err != nil {
			t.Fatal(err)
		}
		// ssh-rsa only: no rsa-sha2-256/512 host key signatures
		hostSigner, err = ssh.NewSignerWithAlgorithms(base.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSA})
		if err != nil {
			t.Fatal(err)
		}
	case ssh.KeyAlgoECDSA256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if hostSigner, err = ssh.NewSignerFromKey(k); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("oldssh: OpenSSH 5.9 has no host key %q here", hostKeyAlgo)
	}
	s.HostKey = hostSigner.PublicKey()

	cfg := &ssh.ServerConfig{
		Config:        ssh.Config{KeyExchanges: KeyExchanges, Ciphers: Ciphers, MACs: MACs},
		ServerVersion: Version,
		// SHA-1 RSA signatures only, as 5.9 verifies them
		PublicKeyAuthAlgorithms: []string{ssh.KeyAlgoRSA},
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if am, ok := meta.(ssh.AlgorithmsConnMetadata); ok {
				s.mu.Lock()
				s.negotiated = append(s.negotiated, am.Algorithms())
				s.mu.Unlock()
			}
			if meta.User() == s.User && bytes.Equal(key.Marshal(), userPub.Marshal()) {
				return nil, nil
			}
			return nil, fmt.Errorf("oldssh: key %s refused for %s", ssh.FingerprintSHA256(key), meta.User())
		},
	}
	cfg.AddHostKey(hostSigner)
	if len(kex) > 0 {
		cfg.KeyExchanges = kex
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.Addr = ln.Addr().String()
	s.Port = ln.Addr().(*net.TCPAddr).Port
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c, cfg)
		}
	}()
	return s
}

// Negotiated are the algorithms of every connection so far.
func (s *Server) Negotiated() []ssh.NegotiatedAlgorithms {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ssh.NegotiatedAlgorithms(nil), s.negotiated...)
}

// Commands are the command lines received so far.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

func (s *Server) serve(c net.Conn, cfg *ssh.ServerConfig) {
	defer c.Close()
	conn, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	defer conn.Close()
	// keepalive@openssh.com and the like: refused, which is an answer
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go s.session(ch, creqs)
	}
}

// sudoPrefix is how halab runs a command as root (lab.Node.Sudo).
const sudoPrefix = "sudo -n -- "

func (s *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		switch req.Type {
		case "env", "pty-req":
			req.Reply(true, nil)
		case "exec":
			var p struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &p); err != nil {
				req.Reply(false, nil)
				return
			}
			req.Reply(true, nil)
			s.mu.Lock()
			s.commands = append(s.commands, p.Command)
			s.mu.Unlock()
			code := s.exec(ch, p.Command)
			ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(code)))
			return
		default:
			req.Reply(false, nil)
		}
	}
}

func (s *Server) exec(ch ssh.Channel, command string) int {
	command = lab.WithoutRunMarkers(command)
	if strings.HasPrefix(command, sudoPrefix+"sh -c ") && strings.Contains(command, "sftp-server") {
		srv, err := sftp.NewServer(ch)
		if err != nil {
			fmt.Fprintln(ch.Stderr(), err)
			return 1
		}
		if err := srv.Serve(); err != nil && err != io.EOF {
			return 1
		}
		return 0
	}
	command = strings.TrimPrefix(command, sudoPrefix)
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Dir = s.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintln(ch.Stderr(), err)
		return 127
	}
	return 0
}
