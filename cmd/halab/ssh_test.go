package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"halab/lab"
	"halab/lab/oldssh"
)

func TestSshdBefore72(t *testing.T) {
	for banner, want := range map[string]bool{
		oldssh.Version:                           true,
		"SSH-2.0-OpenSSH_7.1p2":                  true,
		"SSH-2.0-OpenSSH_7.2p2 Ubuntu-4ubuntu2":  false,
		"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6": false,
		"SSH-2.0-dropbear_2022.83":               false,
	} {
		if got := sshdBefore72(banner); got != want {
			t.Errorf("sshdBefore72(%q) = %v", banner, got)
		}
	}
}

// `halab ssh NODE` runs this machine's OpenSSH client: against Ubuntu
// 12.04's sshd (ssh-rsa host key, the RSA key Vagrant inserts, SHA-1
// signatures only) it connects with the pin halab made, where a client of
// OpenSSH 8.8 or later with its defaults cannot.
func TestHalabSSHAgainstOpenSSH59(t *testing.T) {
	client, err := exec.LookPath("ssh")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no ssh client (apt-get install openssh-client)")
		}
		t.Skip("no ssh client")
	}
	srv := oldssh.Start(t, ssh.KeyAlgoRSA)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	keys := &lab.HostKeys{File: filepath.Join(t.TempDir(), "known_hosts")}
	ep := lab.SSHEndpoint{Node: "node1", Host: "127.0.0.1", Port: srv.Port, User: srv.User, IdentityFile: srv.KeyFile}
	const alias = "node1.0123456789ab"
	n, err := lab.Dial(ctx, "node1", "192.168.56.11", ep, alias, keys, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	version := string(n.Client.ServerVersion())
	n.Close()

	run := func(args []string) (string, error) {
		cmd := exec.CommandContext(ctx, client, append([]string{"-F", "/dev/null", "-o", "BatchMode=yes"}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(interactiveArgs(ep, keys.File, alias, version, "echo", "on-the-node"))
	if err != nil || !strings.Contains(out, "on-the-node") {
		t.Fatalf("halab ssh's OpenSSH command against OpenSSH 5.9: %v\n%s", err, out)
	}
	plain := interactiveArgs(ep, keys.File, alias, "SSH-2.0-OpenSSH_9.2p1", "echo", "on-the-node")
	if out, err := run(plain); err == nil {
		t.Logf("note: this machine's OpenSSH client connects without the ssh-rsa options too:\n%s", out)
	} else {
		t.Logf("without the ssh-rsa options, as OpenSSH 8.8+ refuses SHA-1 RSA: %v: %s", err, strings.TrimSpace(out))
	}
}
