package provision_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"halab/lab"
	"halab/lab/oldssh"
	"halab/provision"
)

// The same as TestOpenSSH59 against a real OpenSSH sshd (this machine's,
// Debian's openssh-server), configured down to what OpenSSH 5.9p1 offers:
// KexAlgorithms, Ciphers and MACs of 5.9, HostKeyAlgorithms ssh-rsa, and
// PubkeyAcceptedAlgorithms ssh-rsa (SHA-1 signatures only). It runs as a
// foreground process on a loopback port for this user; the node's
// passwordless sudo is a shim on the session's PATH (SetEnv), and halab's
// root SFTP session runs the real sftp-server. Skipped where there is no
// sshd (apt-get install openssh-server).
func TestRealSshdRestrictedToOpenSSH59(t *testing.T) {
	sshd := "/usr/sbin/sshd"
	sftpServer := "/usr/lib/openssh/sftp-server"
	for _, p := range []string{sshd, sftpServer} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s: %v (apt-get install openssh-server)", p, err)
		}
	}
	if os.Geteuid() == 0 {
		// sshd run by root separates privileges into this directory
		if _, err := os.Stat("/run/sshd"); err != nil {
			t.Skip("sshd as root needs /run/sshd (made when the ssh service starts)")
		}
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rsaPEM := func() ([]byte, ssh.PublicKey) {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := ssh.NewPublicKey(&k.PublicKey)
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), pub
	}
	hostPEM, hostPub := rsaPEM()
	userPEM, userPub := rsaPEM()
	hostKey := write("ssh_host_rsa_key", hostPEM, 0o600)
	userKey := write("private_key", userPEM, 0o600)
	authorized := write("authorized_keys", ssh.MarshalAuthorizedKey(userPub), 0o600)
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	write("bin/sudo", []byte("#!/bin/sh\n[ \"$1\" = -n ] && shift\n[ \"$1\" = -- ] && shift\nexec \"$@\"\n"), 0o755)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := write("sshd_config", []byte(fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile none
AuthorizedKeysFile %s
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers %s
SetEnv PATH=%s:/usr/bin:/bin:/usr/sbin:/sbin
KexAlgorithms %s
Ciphers %s
MACs %s
HostKeyAlgorithms ssh-rsa
PubkeyAcceptedAlgorithms ssh-rsa
LogLevel VERBOSE
`, port, hostKey, authorized, me.Username, bin,
		"ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group-exchange-sha1,diffie-hellman-group14-sha1",
		strings.Join(oldssh.Ciphers, ","), strings.Join(oldssh.MACs, ","))), 0o644)

	var log strings.Builder
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfg)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("sshd's log:\n%s", log.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not listen on %d:\n%s", port, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	keys := &lab.HostKeys{File: filepath.Join(dir, "known_hosts")}
	ep := lab.SSHEndpoint{Node: "node1", Host: "127.0.0.1", Port: port, User: me.Username, IdentityFile: userKey}
	n, err := lab.Dial(ctx, "node1", "192.168.56.11", ep, "node1.0123456789ab", keys, 10*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer n.Close()
	res, err := n.Run(ctx, nil, "printf", "%s|", "a b", "it's")
	if err != nil || string(res.Stdout) != "a b|it's|" {
		t.Errorf("Run: %q %q, %v", res.Stdout, res.Stderr, err)
	}
	res, err = n.SudoScript(ctx, "echo \"[$1]\"; exit 4", "x y")
	if err != nil || strings.TrimSpace(string(res.Stdout)) != "[x y]" || res.ExitCode != 4 {
		t.Errorf("SudoScript: %+v, %v", res, err)
	}
	dest := filepath.Join(dir, "node", "etc", "ha.d", "ha.cf")
	files := []provision.File{{Path: dest, Data: []byte("crm yes\n"), Mode: 0o644, Owner: me.Username}}
	if changed, err := provision.PushFiles(ctx, n, files); err != nil || !slices.Equal(changed, []string{"ha.cf"}) {
		t.Fatalf("PushFiles: %v, %v", changed, err)
	}
	if got, err := os.ReadFile(dest); err != nil || string(got) != "crm yes\n" {
		t.Errorf("pushed: %q, %v", got, err)
	}
	if changed, err := provision.PushFiles(ctx, n, files); err != nil || len(changed) != 0 {
		t.Errorf("second push: %v, %v", changed, err)
	}
	// sshd logs the accepted key's algorithm: ssh-rsa, i.e. SHA-1
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(log.String(), "Accepted publickey for "+me.Username) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if l := log.String(); !strings.Contains(l, "Accepted publickey for "+me.Username) || !strings.Contains(l, ": RSA SHA256:") {
		t.Errorf("sshd did not log an accepted RSA key:\n%s", l)
	}
	if pinned, _ := os.ReadFile(keys.File); !strings.Contains(string(pinned), "ssh-rsa") || hostPub.Type() != "ssh-rsa" {
		t.Errorf("pinned: %q", pinned)
	}
}
