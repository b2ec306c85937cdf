package provision_test

import (
	"context"
	"os"
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

// halab against an sshd that offers only what Ubuntu 12.04's OpenSSH 5.9p1
// offers, with the key type Vagrant 2.3.4 inserts into such a box (RSA,
// PKCS#1 PEM: lib/vagrant/util/keypair.rb Keypair.create, called by
// plugins/communicators/ssh/communicator.rb ready? whatever the guest's
// sshd): lab.Dial pins the host key, Run, Sudo and SudoScript run
// commands with their exit status, PushFiles writes over the root SFTP
// session, idempotently.
func TestOpenSSH59(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		hostKey string
		kex     []string
	}{
		{ssh.KeyAlgoRSA, nil},
		{ssh.KeyAlgoECDSA256, nil},
		// 5.9's oldest exchange halab's client still has
		{ssh.KeyAlgoRSA, []string{"diffie-hellman-group14-sha1"}},
	} {
		hostKey := c.hostKey
		name := hostKey
		if c.kex != nil {
			name += " kex " + strings.Join(c.kex, ",")
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := oldssh.Start(t, hostKey, c.kex...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			keys := &lab.HostKeys{File: filepath.Join(t.TempDir(), "known_hosts")}
			ep := lab.SSHEndpoint{Node: "node1", Host: "127.0.0.1", Port: srv.Port, User: srv.User, IdentityFile: srv.KeyFile}
			n, err := lab.Dial(ctx, "node1", "192.168.56.11", ep, "node1.0123456789ab", keys, 10*time.Second)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer n.Close()
			if v := string(n.Client.ServerVersion()); v != oldssh.Version {
				t.Errorf("server version %q", v)
			}

			res, err := n.Run(ctx, nil, "printf", "%s|", "a b", "it's", "$HOME")
			if err != nil || string(res.Stdout) != "a b|it's|$HOME|" {
				t.Errorf("Run: %q, %v", res.Stdout, err)
			}
			res, err = n.Sudo(ctx, nil, "sh", "-c", "exit 3")
			if err != nil || res.ExitCode != 3 {
				t.Errorf("Sudo exit status: %+v, %v", res, err)
			}
			res, err = n.SudoScript(ctx, "echo \"[$1]\"; cat /dev/null", "x y")
			if err != nil || strings.TrimSpace(string(res.Stdout)) != "[x y]" {
				t.Errorf("SudoScript: %q, %v", res.Stdout, err)
			}

			dest := filepath.Join(t.TempDir(), "etc", "ha.d", "authkeys")
			files := []provision.File{{Path: dest, Data: []byte("auth 1\n1 sha1 secret\n"), Mode: 0o600, Owner: me.Username}}
			changed, err := provision.PushFiles(ctx, n, files)
			if err != nil || !slices.Equal(changed, []string{"authkeys"}) {
				t.Fatalf("PushFiles: %v, %v", changed, err)
			}
			got, err := os.ReadFile(dest)
			st, _ := os.Stat(dest)
			if err != nil || string(got) != "auth 1\n1 sha1 secret\n" || st.Mode().Perm() != 0o600 {
				t.Errorf("pushed file: %q mode %v, %v", got, st.Mode(), err)
			}
			if changed, err := provision.PushFiles(ctx, n, files); err != nil || len(changed) != 0 {
				t.Errorf("second push changed %v, %v", changed, err)
			}

			if len(srv.Negotiated()) == 0 {
				t.Fatal("the server recorded no negotiated algorithms")
			}
			for _, a := range srv.Negotiated() {
				if a.HostKey != hostKey || !slices.Contains(oldssh.KeyExchanges, a.KeyExchange) || (c.kex != nil && a.KeyExchange != c.kex[0]) ||
					!slices.Contains(oldssh.Ciphers, a.Read.Cipher) || !slices.Contains(oldssh.MACs, a.Read.MAC) {
					t.Errorf("negotiated %+v: outside OpenSSH 5.9's", a)
				}
			}
			pinned, _ := os.ReadFile(keys.File)
			if !strings.Contains(string(pinned), "node1.0123456789ab "+srv.HostKey.Type()+" ") {
				t.Errorf("pinned host keys: %q", pinned)
			}
			t.Logf("negotiated %+v", srv.Negotiated()[0])
		})
	}
}

// The stand-in is as strict as 5.9: a user key signed with rsa-sha2-256
// (what clients that ignore server-sig-algs might pick) is refused.
func TestOpenSSH59RefusesSHA2Signatures(t *testing.T) {
	srv := oldssh.Start(t, ssh.KeyAlgoRSA)
	pem, err := os.ReadFile(srv.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	sha2, err := ssh.NewSignerWithAlgorithms(signer.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSASHA256})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ClientConfig{User: srv.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(sha2)}, HostKeyCallback: ssh.FixedHostKey(srv.HostKey), Timeout: 10 * time.Second}
	if c, err := ssh.Dial("tcp", srv.Addr, cfg); err == nil {
		c.Close()
		t.Fatal("an rsa-sha2-256 signature was accepted")
	}
}
