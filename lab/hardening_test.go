package lab

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Values that a shell would split, chain or expand.
var shellNasties = []struct{ why, v string }{
	{"space", "a b"},
	{"semicolon", "a;reboot"},
	{"command substitution", "$(id)"},
	{"backquotes", "`id`"},
	{"single quote", "a'b"},
	{"double quote", `a"b`},
	{"pipe", "a|b"},
	{"ampersand", "a&b"},
	{"newline", "a\nb"},
	{"variable", "$HOME"},
	{"glob", "a*"},
	{"redirect", "a>b"},
}

// Every lab.yaml value that ends up in a remote command, a script run on a
// node or a file the node's shell reads is validated to plain characters:
// each of these refuses every shell metacharacter, naming the field.
func TestShellMetacharactersRejected(t *testing.T) {
	fields := []struct {
		field string
		yaml  func(v string) string
	}{
		{"name", func(v string) string { return "name: " + yamlQuote(v) }},
		{"nodes[0].name", func(v string) string {
			return "nodes: [{name: " + yamlQuote(v) + ", ip: 192.168.56.11}, {name: node2, ip: 192.168.56.12}]"
		}},
		{"nodes[0].ip", func(v string) string {
			return "nodes: [{name: node1, ip: " + yamlQuote("192.168.56.11"+v) + "}, {name: node2, ip: 192.168.56.12}]"
		}},
		{"vip.address", func(v string) string { return "vip: {address: " + yamlQuote("192.168.56.20"+v) + "}" }},
		{"vip.netmask", func(v string) string { return "vip: {netmask: " + yamlQuote("24"+v) + "}" }},
		{"vip.nic", func(v string) string { return "vip: {nic: " + yamlQuote("eth1"+v) + "}" }},
		{"providers.docker.image", func(v string) string { return "providers: {docker: {image: " + yamlQuote("halab/node"+v) + "}}" }},
		{"service.name", func(v string) string { return "service: {name: " + yamlQuote("stratos"+v) + "}" }},
		{"service.user", func(v string) string { return "service: {user: " + yamlQuote("vagrant"+v) + "}" }},
		{"service.java_home", func(v string) string { return "service: {java_home: " + yamlQuote("/opt/jdk"+v) + "}" }},
		{"service.product_home", func(v string) string { return "service: {product_home: " + yamlQuote("/opt/stratos"+v) + "}" }},
	}
	for _, f := range fields {
		for _, n := range shellNasties {
			t.Run(f.field+" "+n.why, func(t *testing.T) {
				probs := parseProblems(t, f.yaml(n.v))
				for _, p := range probs {
					if strings.HasPrefix(p, f.field+": ") {
						return
					}
				}
				t.Errorf("%s = %q not refused by its own rule; problems: %q", f.field, n.v, probs)
			})
		}
	}
}

func yamlQuote(s string) string { return fmt.Sprintf("%q", s) }

// What QuoteArgs produces stays one argument per value in real POSIX
// shells, whatever the value holds: SSH hands the command line to the
// remote user's shell.
func TestQuoteArgsInRealShells(t *testing.T) {
	values := []string{"", "plain", "a b", "a;b $(x)", "'", "''", `"`, `\`, "a\nb", "$HOME", "`id`", "*", "-n", "--", "a'b\"c$d`e\\f", "é ü", "tab\there", "!x", "~", "#c"}
	for _, n := range shellNasties {
		values = append(values, n.v)
	}
	for _, shell := range []string{"sh", "dash", "bash"} {
		if _, err := exec.LookPath(shell); err != nil {
			continue
		}
		line := QuoteArgs(append([]string{"printf", `%s\0`}, values...))
		out, err := exec.Command(shell, "-c", line).Output()
		if err != nil {
			t.Fatalf("%s -c %s: %v", shell, line, err)
		}
		got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		if len(got) != len(values) {
			t.Fatalf("%s: %d arguments arrived, want %d: %q", shell, len(got), len(values), got)
		}
		for i := range values {
			if got[i] != values[i] {
				t.Errorf("%s: argument %d arrived as %q, want %q", shell, i, got[i], values[i])
			}
		}
	}
}

func FuzzQuote(f *testing.F) {
	for _, n := range shellNasties {
		f.Add(n.v)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return // no shell argument can hold NUL
		}
		out, err := exec.Command("sh", "-c", "printf %s "+Quote(s)).Output()
		if err != nil || string(out) != s {
			t.Fatalf("Quote(%q) = %s came back as %q (%v)", s, Quote(s), out, err)
		}
	})
}

// Host keys are always checked: no code, script, Vagrantfile or Makefile
// may turn checking off.
func TestNoHostKeyCheckingDisabled(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// Built at run time so that this file does not match itself.
	banned := []string{"Insecure" + "IgnoreHostKey", "StrictHostKeyChecking=" + "no", "StrictHostKeyChecking " + "no", "UserKnownHostsFile=" + "/dev/null"}
	scanned := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".halab", ".vagrant", "build", "bin", "testdata":
				// testdata holds captured `vagrant ssh-config` output,
				// which turns checking off; halab ignores that option.
				return filepath.SkipDir
			}
			return nil
		}
		// Code and configuration; prose (README) may name what is banned.
		switch filepath.Ext(p) {
		case ".go", ".rb", ".sh", ".yaml", ".tmpl", "":
		default:
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		scanned++
		for _, s := range banned {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains %s: pin host keys instead (lab.HostKeys)", p, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 20 {
		t.Fatalf("scanned only %d files under %s: wrong root?", scanned, root)
	}
}

// A second command against a lab is refused at once, naming the lock.
func TestLockRefusesSecondHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Lock(dir)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), filepath.Join(dir, "lock")) {
		t.Fatalf("second Lock: %v, want ErrLocked naming %s", err, filepath.Join(dir, "lock"))
	}
	if time.Since(start) > time.Second {
		t.Errorf("second Lock waited %s instead of refusing", time.Since(start))
	}
	unlock()
	unlock2, err := Lock(dir)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock2()
}

func testKeyFile(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(p, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Real sockets on this machine: a closed port is refused with what to do;
// a port that accepts but never speaks SSH times out within the bound.
func TestDialFaults(t *testing.T) {
	key := testKeyFile(t)
	keys := &HostKeys{File: filepath.Join(t.TempDir(), "known_hosts")}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ep := SSHEndpoint{Host: "127.0.0.1", Port: closedPort, User: "vagrant", IdentityFile: key}
	_, err = Dial(context.Background(), "node1", "192.168.56.11", ep, "node1.x", keys, 2*time.Second)
	var ce *ConnError
	if !errors.As(err, &ce) || ce.Node != "node1" {
		t.Fatalf("closed port: %T %v, want *ConnError for node1", err, err)
	}
	for _, want := range []string{"node node1 (127.0.0.1:", "cannot connect over SSH", "connection refused", "is the node up"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("closed port: %q lacks %q", err, want)
		}
	}

	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ep.Port = mute.Addr().(*net.TCPAddr).Port
	start := time.Now()
	_, err = Dial(context.Background(), "node2", "192.168.56.12", ep, "node2.x", keys, 700*time.Millisecond)
	took := time.Since(start)
	var te *TimeoutError
	if !errors.As(err, &te) || te.Command || !strings.Contains(err.Error(), "no SSH handshake within 700ms") || !strings.Contains(err.Error(), "allow more time to connect") {
		t.Errorf("mute port: %v, want a handshake timeout saying to allow more time", err)
	}
	if took > 3*time.Second {
		t.Errorf("mute port: gave up after %s, bound was 700ms", took)
	}
	if _, err := os.Stat(keys.File); err == nil {
		t.Errorf("a failed dial pinned a key")
	}
}

func TestConnErrorSaysWhatToDo(t *testing.T) {
	cases := []struct {
		err  *ConnError
		want []string
	}{
		{&ConnError{Node: "node1", Addr: "127.0.0.1:2222", Key: "/k", Err: errors.New("ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain")},
			[]string{"node node1", "refused the key /k", "halab down"}},
		{&ConnError{Node: "node1", Addr: "a", Command: "sleep 60", Err: &TimeoutError{After: 3 * time.Second, Command: true}},
			[]string{"`sleep 60`", "no result within the command timeout (3s)", "allow more time for each command"}},
		{&ConnError{Node: "node2", Addr: "a", Command: "true", Err: context.Canceled},
			[]string{"node node2", "interrupted", "re-run"}},
		{&ConnError{Node: "node1", Addr: "a", Err: errors.New("ssh: handshake failed: read tcp 127.0.0.1:5->127.0.0.1:2222: read: connection reset by peer")},
			[]string{"dropped it", "sshd running"}},
		{&ConnError{Node: "node1", Addr: "a", Err: errors.New("ssh: handshake failed: EOF")},
			[]string{"dropped it", "sshd running"}},
		{&ConnError{Node: "node2", Addr: "a", Err: errors.New("dial tcp 10.0.0.1:22: i/o timeout")},
			[]string{"does not answer", "halab status"}},
	}
	for _, c := range cases {
		msg := c.err.Error()
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%q lacks %q", msg, w)
			}
		}
	}
}
