package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshLabYAML is a provider ssh lab file: two nodes on 127.0.0.1 at the
// given ports, with the given key file, host keys and extra lines.
func sshLabYAML(key string, ports [2]int, hostKeys [2]string, extra string) string {
	var b strings.Builder
	b.WriteString("name: mylab\nprovider: ssh\nvip: {address: 192.168.66.20, netmask: 255.255.255.0, nic: eth1}\nnodes:\n")
	for i := range 2 {
		fmt.Fprintf(&b, "  - name: node%d\n    ip: 192.168.66.1%d\n    ssh: {host: 127.0.0.1, port: %d, user: vagrant, key: %s", i+1, i+1, ports[i], key)
		if hostKeys[i] != "" {
			fmt.Fprintf(&b, ", host_key: %q", hostKeys[i])
		}
		b.WriteString("}\n")
	}
	b.WriteString(extra)
	return b.String()
}

func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want a *ConfigError, got %T %v", err, err)
	}
	return ce.Problems
}

func hasProblem(problems []string, prefix string, parts ...string) bool {
	for _, p := range problems {
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		all := true
		for _, s := range parts {
			all = all && strings.Contains(p, s)
		}
		if all {
			return true
		}
	}
	return false
}

func TestSSHNodesValidation(t *testing.T) {
	key, _ := clientKey(t)
	dir := filepath.Dir(key)
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte("x"), 0o644)
	notKey := filepath.Join(dir, "notkey")
	os.WriteFile(notKey, []byte("hello"), 0o600)
	hk := AuthorizedLine(newSigner(t, "ed25519").PublicKey())
	base := func(extra string) string { return sshLabYAML(key, [2]int{2201, 2202}, [2]string{hk, ""}, extra) }

	if _, err := Parse([]byte(base("")), "lab.yaml"); err != nil {
		t.Fatalf("a valid lab file: %v", err)
	}
	power := "    power: {off: [docker, kill, n%d], on: [docker, start, n%[1]d], status: [docker, inspect, -f, '{{.State.Running}}', n%[1]d]}\n"
	withPower := strings.Replace(base(""), "    ip: 192.168.66.11\n", "    ip: 192.168.66.11\n"+fmt.Sprintf(power, 1), 1)
	cases := []struct {
		name, yaml, field string
		parts             []string
	}{
		{"no ssh", strings.Replace(base(""), "    ssh: {host: 127.0.0.1, port: 2202, user: vagrant, key: "+key+"}\n", "", 1), "nodes[1].ssh: ", []string{"missing"}},
		{"no host", strings.Replace(base(""), "host: 127.0.0.1, port: 2202", "port: 2202", 1), "nodes[1].ssh.host: ", []string{"missing", "node2"}},
		{"bad host", strings.Replace(base(""), "host: 127.0.0.1, port: 2202", "host: -oProxyCommand=x, port: 2202", 1), "nodes[1].ssh.host: ", []string{"not a host"}},
		{"same machine", strings.Replace(base(""), "port: 2202", "port: 2201", 1), "nodes[1].ssh: ", []string{"127.0.0.1:2201", "nodes[0]"}},
		{"bad port", strings.Replace(base(""), "port: 2202", "port: 70000", 1), "nodes[1].ssh.port: ", []string{"70000"}},
		{"no user", strings.Replace(base(""), "port: 2202, user: vagrant, ", "port: 2202, ", 1), "nodes[1].ssh.user: ", []string{"sudo"}},
		{"no key", strings.Replace(base(""), "user: vagrant, key: "+key+"}\n", "user: vagrant}\n", 1), "nodes[1].ssh.key: ", []string{"missing"}},
		{"key missing", strings.Replace(base(""), "key: "+key+"}", "key: nope/id}", 1), "nodes[1].ssh.key: ", []string{"nope/id", "no such file"}},
		{"key readable by others", strings.Replace(base(""), "key: "+key+"}", "key: "+open+"}", 1), "nodes[1].ssh.key: ", []string{"0644", "chmod 600 " + open}},
		{"not a key", strings.Replace(base(""), "key: "+key+"}", "key: "+notKey+"}", 1), "nodes[1].ssh.key: ", []string{"not a private key"}},
		{"bad host key", strings.Replace(base(""), hk, "SHA256:abc", 1), "nodes[0].ssh.host_key: ", []string{"ssh_host_ed25519_key.pub"}},
		{"power half", strings.Replace(base(""), "    ip: 192.168.66.11\n", "    ip: 192.168.66.11\n    power: {off: [docker, kill, n1]}\n", 1), "nodes[0].power.on: ", []string{"off, on and status go together"}},
		{"power on one node only", withPower, "nodes[1].power: ", []string{"nodes[0] has power commands"}},
		{"power as one string", strings.Replace(withPower, "off: [docker, kill, n1]", "off: ['docker kill n1']", 1), "nodes[0].power.off: ", []string{"list of arguments", "[docker, kill, n1]", "without a shell"}},
		{"empty argument", strings.Replace(withPower, "off: [docker, kill, n1]", "off: [docker, '', n1]", 1), "nodes[0].power.off[1]: ", []string{"empty"}},
		{"typo under ssh", strings.Replace(base(""), "host: 127.0.0.1, port: 2202", "hots: 127.0.0.1, port: 2202", 1), "line ", []string{"nodes[1].ssh.hots: unknown key", `"host"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml), "lab.yaml")
			if err == nil {
				t.Fatalf("accepted:\n%s", c.yaml)
			}
			if p := problemsOf(t, err); !hasProblem(p, c.field, c.parts...) {
				t.Errorf("problems %q lack %q with %q", p, c.field, c.parts)
			}
		})
	}
	t.Run("both nodes with power", func(t *testing.T) {
		y := strings.Replace(withPower, "    ip: 192.168.66.12\n", "    ip: 192.168.66.12\n"+fmt.Sprintf(power, 2), 1)
		cfg, err := Parse([]byte(y), "lab.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Nodes[1].Power.Status; !slices.Equal(got, []string{"docker", "inspect", "-f", "{{.State.Running}}", "n2"}) {
			t.Errorf("status argv %q", got)
		}
	})
	t.Run("other providers ignore ssh and power", func(t *testing.T) {
		y := strings.Replace(strings.Replace(withPower, "provider: ssh", "provider: docker", 1), "key: "+key+"}", "key: nope}", 1)
		if _, err := Parse([]byte(y), "lab.yaml"); err != nil {
			t.Errorf("provider docker with nodes[].ssh and power: %v", err)
		}
	})
	t.Run("~/ is the home directory", func(t *testing.T) {
		cfg := Defaults()
		home, _ := os.UserHomeDir()
		if got := sshKeyPath(&cfg, "~/.ssh/id"); got != filepath.Join(home, ".ssh/id") {
			t.Errorf("sshKeyPath = %s", got)
		}
	})
}

// auto never picks ssh: its machines are not halab's to make.
func TestAutoNeverPicksSSH(t *testing.T) {
	if !slices.Contains(ProviderNames(), "ssh") {
		t.Fatal("ssh is not a provider name")
	}
	cfg := Defaults()
	name, reason := selectProvider(&cfg, t.TempDir())
	if name == sshNodesName {
		t.Errorf("auto picked ssh (%s)", reason)
	}
	for _, k := range providerKinds {
		if k.name == sshNodesName && !k.manual {
			t.Error("the ssh kind is not manual")
		}
	}
}

func TestParsePowerState(t *testing.T) {
	for out, want := range map[string]bool{
		"true\n": true, "false\n": false, "running\n": true, "shut off\n": false,
		"Chassis Power is on\n": true, "Chassis Power is off": false, "stopped": false, "ACTIVE.": true,
	} {
		got, err := parsePowerState(out)
		if err != nil || got != want {
			t.Errorf("parsePowerState(%q) = %v, %v; want %v", out, got, err, want)
		}
	}
	for _, out := range []string{"", "pending\n", "error: no such domain"} {
		if _, err := parsePowerState(out); err == nil || !strings.Contains(err.Error(), "last word") {
			t.Errorf("parsePowerState(%q): %v", out, err)
		}
	}
}

// testSSHLab is a provider ssh lab over two in-process sshds.
type testSSHLab struct {
	l     *Lab
	out   *syncBuf
	srv   [2]*testSSHServer
	host  [2]ssh.Signer
	key   string
	path  string
	ports [2]int
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// nodeExec answers what `up` asks a healthy node named name.
func nodeExec(name, ip string, sudo bool, vipAnswers bool) execFunc {
	return func(cmd string, stdin []byte) (string, string, int) {
		// halab marks every command (env HALAB_RUN=ID ..., again inside
		// sudo) so that it can end one it gave up on: what the node
		// runs is the command without the markers.
		cmd = WithoutRunMarkers(cmd)
		switch {
		case cmd == "uname -n":
			return name + "\n", "", 0
		case cmd == "id -u -- vagrant":
			if name == "nouser" {
				return "", "id: 'vagrant': no such user\n", 1
			}
			return "1000\n", "", 0
		case cmd == "sudo -n true":
			if !sudo {
				return "", "sudo: a password is required\n", 1
			}
			return "", "", 0
		case cmd == "ip -4 -o addr show":
			return "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n" +
				"7: eth0@if8    inet 172.17.0.9/16 brd 172.17.255.255 scope global eth0\\       valid_lft forever\n" +
				"9: eth1@if10    inet " + ip + "/24 brd 192.168.66.255 scope global eth1\\       valid_lft forever\n", "", 0
		case strings.HasPrefix(cmd, "sudo -n -- sh -s -- eth1 192.168.66.20") && bytes.Contains(stdin, []byte("ping")):
			if vipAnswers {
				return "", "", 0
			}
			return "", "", 1
		}
		return "", "unknown command " + cmd, 127
	}
}

func newTestSSHLab(t *testing.T, hostKeysInFile bool, extra string, exec [2]execFunc) *testSSHLab {
	t.Helper()
	tl := &testSSHLab{out: &syncBuf{}}
	var pub ssh.PublicKey
	tl.key, pub = clientKey(t)
	var hk [2]string
	for i := range 2 {
		tl.host[i] = newSigner(t, "ed25519")
		tl.srv[i] = startSSHServer(t, pub, []ssh.Signer{newSigner(t, "ecdsa"), tl.host[i]}, exec[i])
		tl.ports[i] = tl.srv[i].Port
		if hostKeysInFile {
			hk[i] = AuthorizedLine(tl.host[i].PublicKey())
		}
	}
	dir := t.TempDir()
	tl.path = filepath.Join(dir, "lab.yaml")
	if err := os.WriteFile(tl.path, []byte(sshLabYAML(tl.key, tl.ports, hk, extra)), 0o644); err != nil {
		t.Fatal(err)
	}
	tl.open(t)
	return tl
}

// open loads the lab file as a command does.
func (tl *testSSHLab) open(t *testing.T) {
	t.Helper()
	cfg, err := Load(tl.path)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(tl.path)
	state := StateDir(root, cfg)
	l := &Lab{Cfg: cfg, ConfigPath: tl.path, ID: NewIdentity(cfg.Name, tl.path), Root: root, State: state, Out: tl.out,
		Keys: &HostKeys{File: filepath.Join(state, "known_hosts")}, DialTimeout: 5 * time.Second, CommandTimeout: 10 * time.Second}
	if l.Provider, err = newProvider(l, cfg.Provider); err != nil {
		t.Fatal(err)
	}
	tl.l = l
}

func (tl *testSSHLab) logins() int32 { return tl.srv[0].Logins.Load() + tl.srv[1].Logins.Load() }

// Without host keys, up shows each node's fingerprint and stops, having
// logged in nowhere; --accept-host-keys pins exactly the keys shown; a key
// that changed in between is not pinned.
func TestSSHNodesUpHostKeys(t *testing.T) {
	ctx := context.Background()
	tl := newTestSSHLab(t, false, "", [2]execFunc{nodeExec("node1", "192.168.66.11", true, false), nodeExec("node2", "192.168.66.12", true, false)})
	if _, err := tl.l.Connect(ctx); err == nil || !hasProblem(problemsOf(t, err), "nodes[0].ssh.host_key: ", "missing", "halab up") {
		t.Fatalf("Connect without host keys: %v", err)
	}
	err := tl.l.Provider.Up(ctx)
	p := problemsOf(t, err)
	for i := range 2 {
		fp := ssh.FingerprintSHA256(tl.host[i].PublicKey())
		if !hasProblem(p, fmt.Sprintf("nodes[%d].ssh.host_key: ", i), "missing", fp, "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub", "--accept-host-keys", AuthorizedLine(tl.host[i].PublicKey())) {
			t.Errorf("problems lack node%d's fingerprint and the way on: %q", i+1, p)
		}
		if !strings.Contains(tl.out.String(), fp) {
			t.Errorf("output lacks %s:\n%s", fp, tl.out)
		}
	}
	if tl.logins() != 0 {
		t.Error("up logged in to nodes whose host keys it does not know")
	}
	if _, err := os.Stat(tl.l.Keys.File); err == nil {
		t.Error("up without --accept-host-keys pinned keys")
	}

	tl.l.AcceptHostKeys = true
	if err := tl.l.Provider.Up(ctx); err != nil {
		t.Fatalf("up --accept-host-keys: %v", err)
	}
	for i := range 2 {
		k, ok, _ := tl.l.Keys.Lookup(tl.l.HostKeyAlias(fmt.Sprintf("node%d", i+1)))
		if !ok || ssh.FingerprintSHA256(k) != ssh.FingerprintSHA256(tl.host[i].PublicKey()) {
			t.Errorf("node%d: pinned %v", i+1, k)
		}
	}
	if !strings.Contains(tl.out.String(), "host_key: "+AuthorizedLine(tl.host[0].PublicKey())) {
		t.Errorf("the pin's lab file line is not shown:\n%s", tl.out)
	}
	nodes, err := tl.l.Connect(ctx)
	if err != nil {
		t.Fatalf("Connect after the pins: %v", err)
	}
	for _, n := range nodes {
		if !strings.Contains(n.Endpoint.HostKeyFrom, "--accept-host-keys") {
			t.Errorf("%s: host key from %q", n.Name, n.Endpoint.HostKeyFrom)
		}
		n.Close()
	}

	// Shown one key, presented another: nothing pinned.
	tl.l.Keys.Forget()
	tl.l.AcceptHostKeys = false
	tl.l.Provider.Up(ctx)
	other := newSigner(t, "ed25519").PublicKey()
	replaceKnownHost(tl.l.Provider.(*sshNodes).offeredFile(), tl.l.HostKeyAlias("node2"), other)
	tl.l.AcceptHostKeys = true
	p = problemsOf(t, tl.l.Provider.Up(ctx))
	if !hasProblem(p, "nodes[1].ssh.host_key: ", "now presents", ssh.FingerprintSHA256(other)) {
		t.Errorf("a key changed since it was shown: %q", p)
	}
	if _, ok, _ := tl.l.Keys.Lookup(tl.l.HostKeyAlias("node2")); ok {
		t.Error("a key other than the one shown was pinned")
	}
}

// up reports every problem of every node at once, each naming its field,
// and runs nothing on a node but its read-only checks.
func TestSSHNodesUpReportsEveryProblem(t *testing.T) {
	ctx := context.Background()
	tl := newTestSSHLab(t, true, "", [2]execFunc{
		nodeExec("db1", "192.168.66.99", true, true),      // another hostname, wrong address on eth1, VIP answers
		nodeExec("nouser", "192.168.66.12", false, false), // no sudo, no service user
	})
	tl.l.NodeChecks = []NodeCheck{func(_ context.Context, _ *Config, n Runner) []string {
		return []string{"stack: " + n.NodeName() + " runs nothing halab knows"}
	}}
	p := problemsOf(t, tl.l.Provider.Up(ctx))
	for _, w := range []struct {
		prefix string
		parts  []string
	}{
		{"nodes[0].ip: ", []string{"192.168.66.11", "eth1", "192.168.66.99"}},
		{"nodes[1].ssh.user: ", []string{"vagrant has no passwordless sudo on node2", "a password is required", "NOPASSWD", "/etc/sudoers.d/"}},
		{"vip.address: ", []string{"192.168.66.20 answers ping from node1"}},
		{"nodes[0].name: ", []string{`"node1" is not the hostname`, `"db1"`, "uname -n"}},
		{"service.user: ", []string{"node2 has no user vagrant", "useradd"}},
		{"stack: ", []string{"node1 runs nothing"}},
		{"stack: ", []string{"node2 runs nothing"}},
	} {
		if !hasProblem(p, w.prefix, w.parts...) {
			t.Errorf("problems lack %s%q:\n%s", w.prefix, w.parts, strings.Join(p, "\n"))
		}
	}
	for i, srv := range tl.srv {
		for _, c := range srv.Commands() {
			c = WithoutRunMarkers(c)
			if !slices.Contains([]string{"sudo -n true", "uname -n", "id -u -- vagrant", "ip -4 -o addr show"}, c) && !strings.HasPrefix(c, "sudo -n -- sh -s -- eth1 192.168.66.20") {
				t.Errorf("node%d: up ran %q", i+1, c)
			}
		}
	}

	// A wrong lab-file host key: refused in the handshake, named by field.
	tl2 := newTestSSHLab(t, true, "", [2]execFunc{nodeExec("node1", "192.168.66.11", true, false), nodeExec("node2", "192.168.66.12", true, false)})
	data, _ := os.ReadFile(tl2.path)
	data = bytes.Replace(data, []byte(AuthorizedLine(tl2.host[0].PublicKey())), []byte(AuthorizedLine(tl2.host[1].PublicKey())), 1)
	os.WriteFile(tl2.path, data, 0o644)
	tl2.open(t)
	p = problemsOf(t, tl2.l.Provider.Up(ctx))
	if !hasProblem(p, "nodes[0].ssh.host_key: ", ssh.FingerprintSHA256(tl2.host[0].PublicKey()), "nodes[0].ssh.host_key", "before logging in") || len(p) != 1 {
		t.Errorf("wrong host key: %q", p)
	}
	if tl2.srv[0].Logins.Load() != 0 || len(tl2.srv[0].Commands()) != 0 {
		t.Error("a node with the wrong host key was logged in to")
	}
	// A healthy lab passes.
	tl2 = newTestSSHLab(t, true, "", [2]execFunc{nodeExec("node1", "192.168.66.11", true, false), nodeExec("node2", "192.168.66.12", true, false)})
	if err := tl2.l.Provider.Up(ctx); err != nil {
		t.Fatalf("healthy nodes: %v", err)
	}
}

// Power goes through the lab file's commands, run without a shell; a lab
// without them cannot power, and says which keys are missing.
func TestSSHNodesPower(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	state := filepath.Join(dir, "power-state")
	script := filepath.Join(dir, "power")
	os.WriteFile(script, []byte("#!/bin/sh\ncase $1 in\n off) echo off > \"$2\";;\n on) echo on > \"$2\";;\n status) printf 'Chassis Power is %s\\n' \"$(cat \"$2\")\";;\nesac\n"), 0o755)
	os.WriteFile(state, []byte("on\n"), 0o644)
	power := ""
	for range 2 {
		power += fmt.Sprintf("    power: {off: [%[1]s, off, %[2]s], on: [%[1]s, on, %[2]s], status: [%[1]s, status, %[2]s]}\n", script, state)
	}
	exec := [2]execFunc{nodeExec("node1", "192.168.66.11", true, false), nodeExec("node2", "192.168.66.12", true, false)}
	tl := newTestSSHLab(t, true, "", exec)
	y, _ := os.ReadFile(tl.path)
	lines := strings.SplitAfter(string(y), "\n")
	var out []string
	n := 0
	for _, line := range lines {
		out = append(out, line)
		if strings.Contains(line, "ssh: {host") {
			out = append(out, strings.SplitAfter(power, "\n")[n])
			n++
		}
	}
	os.WriteFile(tl.path, []byte(strings.Join(out, "")), 0o644)
	tl.open(t)
	p := tl.l.Provider
	if err := tl.l.CanPower(); err != nil {
		t.Fatalf("CanPower: %v", err)
	}
	if on, err := p.Running(ctx, "node1"); err != nil || !on {
		t.Fatalf("Running: %v %v", on, err)
	}
	if err := p.PowerOff(ctx, "node1"); err != nil {
		t.Fatal(err)
	}
	if on, err := p.Running(ctx, "node1"); err != nil || on {
		t.Fatalf("Running after power-off: %v %v", on, err)
	}
	if err := p.PowerOn(ctx, "node1"); err != nil {
		t.Fatal(err)
	}
	if on, _ := p.Running(ctx, "node1"); !on {
		t.Fatal("not running after power-on")
	}
	if tl.srv[0].Logins.Load() == 0 {
		t.Error("power-on did not wait for SSH")
	}

	// Without power commands.
	bare := newTestSSHLab(t, true, "", exec)
	if err := bare.l.CanPower(); err == nil || !strings.Contains(err.Error(), "nodes[0].power is not set") {
		t.Errorf("CanPower without power: %v", err)
	}
	err := bare.l.Provider.PowerOff(ctx, "node2")
	if !IsConfigError(err) || !strings.Contains(err.Error(), "nodes[1].power: not set") {
		t.Errorf("PowerOff without power: %v", err)
	}
	if on, err := bare.l.Provider.Running(ctx, "node2"); err != nil || !on {
		t.Errorf("Running without power, sshd up: %v %v", on, err)
	}
}

// down destroys nothing and runs nothing on the nodes; another lab of
// the checkout on the same machines is refused at up.
func TestSSHNodesDestroyAndCheckFree(t *testing.T) {
	ctx := context.Background()
	tl := newTestSSHLab(t, true, "", [2]execFunc{nodeExec("node1", "192.168.66.11", true, false), nodeExec("node2", "192.168.66.12", true, false)})
	if tl.l.MadeByHalab() {
		t.Fatal("provider ssh counts as made by halab")
	}
	if err := tl.l.Provider.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if tl.logins() != 0 {
		t.Error("Destroy logged in to a node")
	}
	if !strings.Contains(tl.out.String(), "leaves them as they are") || !strings.Contains(tl.out.String(), fmt.Sprintf("node1 (vagrant@127.0.0.1:%d)", tl.ports[0])) {
		t.Errorf("Destroy does not say it leaves the nodes alone:\n%s", tl.out)
	}
	if err := tl.l.Provider.CheckFree(ctx); err != nil {
		t.Fatalf("CheckFree alone: %v", err)
	}
	if err := tl.l.Claim(); err != nil {
		t.Fatal(err)
	}
	// A second lab file in the same checkout, on node2's machine.
	other := filepath.Join(filepath.Dir(tl.path), "other.yaml")
	y, _ := os.ReadFile(tl.path)
	os.WriteFile(other, bytes.Replace(y, []byte("name: mylab"), []byte("name: otherlab"), 1), 0o644)
	cfg, err := Load(other)
	if err != nil {
		t.Fatal(err)
	}
	l2 := &Lab{Cfg: cfg, ConfigPath: other, Root: tl.l.Root, State: StateDir(tl.l.Root, cfg), Out: tl.out}
	l2.Provider, _ = newProvider(l2, cfg.Provider)
	p := problemsOf(t, l2.Provider.CheckFree(ctx))
	if !hasProblem(p, "nodes[1].ssh: ", fmt.Sprintf("127.0.0.1:%d is node node2 of the lab of %s", tl.ports[1], tl.path)) {
		t.Errorf("CheckFree: %q", p)
	}
	if a, b := tl.l.Provider.MachineID("node1"), tl.l.Provider.MachineID("node2"); a == "" || a == b || a != tl.l.Provider.MachineID("node1") {
		t.Errorf("machine ids %q %q", a, b)
	}
}
