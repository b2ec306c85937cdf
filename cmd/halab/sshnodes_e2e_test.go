package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"halab/lab"
	"halab/scenarios/prober"
)

// TestE2ESSHNodes points halab at machines it did not make: two
// containers started here with plain `docker run` from halab's node image,
// on a docker network of their own, reached over SSH on loopback ports,
// described by a lab file with provider: ssh and powered off and on with
// `docker kill` and `docker start`. halab must check them, provision them,
// run every scenario against them and forget them at down, leaving them
// running; and refuse a wrong host key, a node without passwordless sudo
// and a node that already runs corosync.

const (
	sshE2EPrefix  = "halab-sshnodes"
	sshE2ENetwork = sshE2EPrefix + "-net"
	sshE2ESubnet  = "192.168.66.0/24"
	sshE2EVIP     = "192.168.66.20"
)

// sshE2ENode is one container.
type sshE2ENode struct {
	name, container, ip string
	port                int
	hostKey             string // its ssh_host_ed25519_key.pub
}

type sshE2E struct {
	t       *testing.T
	bin     string
	file    string // the lab file
	key     string // the client's private key
	nodes   [2]*sshE2ENode
	state   string
	imageLb string // the state of the lab file that built the image
}

// labOpts vary the lab file between the subtests.
type labOpts struct {
	hostKeys [2]string // "" leaves host_key out
	noPower  bool
	adopt    bool
}

func (e *sshE2E) writeLab(o labOpts) {
	e.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by TestE2ESSHNodes: two containers it started itself.
name: %s
provider: ssh
stack: corosync
vip: {address: %s, netmask: 255.255.255.0, nic: eth1}
service: {jdk_archive: %s}
`, sshE2EPrefix, sshE2EVIP, filepath.Join(repoRoot, "build", "jdk.tar.gz"))
	if o.adopt {
		b.WriteString("adopt: true\n")
	}
	b.WriteString("nodes:\n")
	for i, n := range e.nodes {
		fmt.Fprintf(&b, "  - name: %s\n    ip: %s\n    ssh:\n      host: 127.0.0.1\n      port: %d\n      user: vagrant\n      key: %s\n", n.name, n.ip, n.port, e.key)
		if o.hostKeys[i] != "" {
			fmt.Fprintf(&b, "      host_key: %q\n", o.hostKeys[i])
		}
		if !o.noPower {
			fmt.Fprintf(&b, "    power:\n      off: [docker, kill, %[1]s]\n      on: [docker, start, %[1]s]\n      status: [docker, inspect, -f, \"{{.State.Running}}\", %[1]s]\n", n.container)
		}
	}
	if err := os.WriteFile(e.file, []byte(b.String()), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// pinned is the lab file with every node's real host key.
func (e *sshE2E) pinned() labOpts {
	return labOpts{hostKeys: [2]string{e.nodes[0].hostKey, e.nodes[1].hostKey}}
}

func (e *sshE2E) halab(t *testing.T, args ...string) halabRun {
	t.Helper()
	return runHalab(t, e.bin, append([]string{"-c", e.file}, args...)...)
}

func (e *sshE2E) mustHalab(t *testing.T, args ...string) string {
	t.Helper()
	r := e.halab(t, args...)
	if r.code != 0 {
		t.Fatalf("halab %s: exit %d", strings.Join(args, " "), r.code)
	}
	return r.out
}

func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// nodeSh runs a shell command in a node's container, as root.
func (n *sshE2ENode) sh(t *testing.T, script string) string {
	t.Helper()
	return docker(t, "exec", n.container, "sh", "-c", script)
}

func (n *sshE2ENode) running(t *testing.T) bool {
	return docker(t, "inspect", "-f", "{{.State.Running}}", n.container) == "true"
}

// logins counts the SSH logins the node's sshd accepted.
func (n *sshE2ENode) logins(t *testing.T) int {
	t.Helper()
	out := n.sh(t, "journalctl -u ssh --no-pager -o cat | grep -c 'Accepted publickey' || true")
	var c int
	fmt.Sscan(out, &c)
	return c
}

func (n *sshE2ENode) fingerprint(t *testing.T) string {
	t.Helper()
	k, err := lab.ParseHostKey(n.hostKey)
	if err != nil {
		t.Fatal(err)
	}
	return ssh.FingerprintSHA256(k)
}

// freePort is a loopback port nothing listens on now. The published port
// must be fixed: docker gives a container a new random port at each
// start, and power-on is a `docker start`.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// sshE2EImage prepares the docker provider's node image through halab
// (`halab image` with a docker lab file of its own) and returns its tag.
func sshE2EImage(t *testing.T, bin string) (string, string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "image.yaml")
	if err := os.WriteFile(f, []byte("name: "+sshE2EPrefix+"-image\nprovider: docker\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runHalab(t, bin, "-c", f, "image"); r.code != 0 {
		t.Fatalf("halab image: exit %d", r.code)
	}
	cfg, err := lab.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := lab.ImageTag(repoRoot, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tag, lab.StateDir(repoRoot, cfg)
}

// removeOurs removes this test's containers and network, if a run left
// them; they go by names no lab uses.
func removeOurs() {
	for i := 1; i <= 2; i++ {
		exec.Command("docker", "rm", "-f", fmt.Sprintf("%s-node%d", sshE2EPrefix, i)).Run()
	}
	exec.Command("docker", "network", "rm", sshE2ENetwork).Run()
}

// checkSubnetFree refuses to share the subnet with a network that is not
// this test's (another engineer's lab).
func checkSubnetFree(t *testing.T) {
	t.Helper()
	want := netip.MustParsePrefix(sshE2ESubnet)
	for _, name := range strings.Fields(docker(t, "network", "ls", "--format", "{{.Name}}")) {
		for _, s := range strings.Fields(docker(t, "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", name)) {
			if p, err := netip.ParsePrefix(s); err == nil && p.Overlaps(want) {
				t.Fatalf("docker network %s uses %s, which overlaps this test's %s", name, s, sshE2ESubnet)
			}
		}
	}
}

// The docker block of the Vagrantfile gives every node container these
// options (systemd as PID 1, the capabilities a cluster node needs; see
// the trust model in docs/provisioning.md); the halab.* labels it adds are
// left out: these containers are no lab's. TestNodeRunArgsMatchVagrantfile
// keeps the two in step.
var nodeRunArgs = []string{
	"--cap-add", "NET_ADMIN", "--cap-add", "SYS_ADMIN", "--cap-add", "SYS_PTRACE",
	"--security-opt", "apparmor=unconfined", "--cgroupns=private",
	"--tmpfs", "/run", "--tmpfs", "/run/lock", "--shm-size", "256m",
	"--stop-signal", "SIGRTMIN+3",
}

// startNode runs one node container: eth0 on docker's bridge with sshd
// published on a loopback port, eth1 on the test's network; its vagrant
// user accepts pub.
func startNode(t *testing.T, image string, i int, pub ssh.PublicKey) *sshE2ENode {
	t.Helper()
	n := &sshE2ENode{name: fmt.Sprintf("node%d", i), container: fmt.Sprintf("%s-node%d", sshE2EPrefix, i), ip: fmt.Sprintf("192.168.66.1%d", i), port: freePort(t)}
	args := append([]string{"run", "-d", "--name", n.container, "--hostname", n.name}, nodeRunArgs...)
	args = append(args, "-p", fmt.Sprintf("127.0.0.1:%d:22", n.port), image, "/sbin/init")
	docker(t, args...)
	docker(t, "network", "connect", "--ip", n.ip, sshE2ENetwork, n.container)
	n.sh(t, "timeout 120 sh -c 'until systemctl is-active --quiet ssh && [ -s /etc/ssh/ssh_host_ed25519_key.pub ]; do sleep 0.5; done'")
	cmd := exec.Command("docker", "exec", "-i", n.container, "sh", "-c", "cat > /home/vagrant/.ssh/authorized_keys")
	cmd.Stdin = strings.NewReader(string(ssh.MarshalAuthorizedKey(pub)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("authorizing the test's key on %s: %v %s", n.name, err, out)
	}
	n.hostKey = n.sh(t, "cat /etc/ssh/ssh_host_ed25519_key.pub")
	return n
}

func vipOwner() (string, error) {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	resp, err := c.Get("http://" + sshE2EVIP + ":8080/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b := make([]byte, 64)
	n, _ := resp.Body.Read(b)
	return strings.TrimSpace(string(b[:n])), nil
}

func TestE2ESSHNodes(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	if _, err := os.Stat(filepath.Join(repoRoot, "build", "jdk.tar.gz")); err != nil {
		t.Fatalf("no JDK archive: run `make jdk` first (%v)", err)
	}
	bin := buildHalab(t)
	image, imageState := sshE2EImage(t, bin)

	removeOurs()
	checkSubnetFree(t)
	e := &sshE2E{t: t, bin: bin, file: filepath.Join(t.TempDir(), "sshnodes.yaml"), imageLb: imageState}
	e.state = filepath.Join(repoRoot, ".halab", sshE2EPrefix)
	os.RemoveAll(e.state)
	t.Cleanup(func() {
		if os.Getenv("HALAB_E2E_KEEP") != "" {
			t.Logf("HALAB_E2E_KEEP: leaving %s-node1, -node2, %s and %s", sshE2EPrefix, sshE2ENetwork, e.file)
			return
		}
		removeOurs()
		os.RemoveAll(e.state)
		os.RemoveAll(e.imageLb)
	})
	docker(t, "network", "create", "--subnet", sshE2ESubnet, sshE2ENetwork)

	pubKey, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	e.key = filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(e.key, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(pubKey)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		e.nodes[i] = startNode(t, image, i+1, pub)
	}
	n1, n2 := e.nodes[0], e.nodes[1]
	knownHosts := filepath.Join(e.state, "known_hosts")

	t.Run("up without host keys shows the fingerprints and stops", func(t *testing.T) {
		e.writeLab(labOpts{})
		r := e.halab(t, "up")
		if r.code != 2 {
			t.Fatalf("exit %d, want 2", r.code)
		}
		for i, n := range e.nodes {
			for _, want := range []string{n.fingerprint(t), fmt.Sprintf("nodes[%d].ssh.host_key: missing", i)} {
				if !strings.Contains(r.out, want) {
					t.Errorf("output lacks %q", want)
				}
			}
		}
		if !strings.Contains(r.out, "--accept-host-keys") {
			t.Error("the output does not say how to pin")
		}
		if n1.logins(t)+n2.logins(t) != 0 {
			t.Error("halab logged in to nodes whose host keys it does not know")
		}
		if _, err := os.Stat(knownHosts); err == nil {
			t.Error("keys were pinned without --accept-host-keys")
		}
	})

	t.Run("up --accept-host-keys pins them, down forgets them and leaves the nodes", func(t *testing.T) {
		out := e.mustHalab(t, "up", "--accept-host-keys")
		kh, err := os.ReadFile(knownHosts)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range e.nodes {
			k, _ := lab.ParseHostKey(n.hostKey)
			if !strings.Contains(string(kh), lab.AuthorizedLine(k)) {
				t.Errorf("%s's key is not pinned:\n%s", n.name, kh)
			}
			if !strings.Contains(out, "host_key: "+lab.AuthorizedLine(k)) {
				t.Errorf("the lab file line for %s is not shown", n.name)
			}
		}
		e.mustHalab(t, "status")
		out = e.mustHalab(t, "down")
		if !strings.Contains(out, "forgot the lab") || !strings.Contains(out, "leaves them as they are") {
			t.Errorf("down does not say what it did:\n%s", out)
		}
		if _, err := os.Stat(knownHosts); err == nil {
			t.Error("down kept the pins")
		}
		if _, ok, _ := lab.ReadIdentity(e.state); ok {
			t.Error("down kept the lab's identity")
		}
		for _, n := range e.nodes {
			if !n.running(t) {
				t.Errorf("%s is not running after down", n.container)
			}
		}
	})

	t.Run("a node whose host key does not match is refused before anything runs", func(t *testing.T) {
		o := e.pinned()
		o.hostKeys[0] = n2.hostKey // node2's key for node1
		e.writeLab(o)
		before := n1.logins(t)
		r := e.halab(t, "up")
		if r.code != 2 || !strings.Contains(r.out, "nodes[0].ssh.host_key: node node1") || !strings.Contains(r.out, n1.fingerprint(t)) || !strings.Contains(r.out, "before logging in") {
			t.Errorf("up: exit %d, want 2 naming nodes[0].ssh.host_key and node1's key", r.code)
		}
		for _, args := range [][]string{{"provision"}, {"ssh", "node1", "--", "sudo", "touch", "/halab-was-here"}} {
			r := e.halab(t, args...)
			if r.code == 0 || !strings.Contains(r.out, "presents the host key") {
				t.Errorf("%v: exit %d, want a refusal naming the host key", args, r.code)
			}
		}
		if n1.logins(t) != before {
			t.Error("node1 was logged in to with the wrong host key")
		}
		if out := n1.sh(t, "ls /halab-was-here 2>&1 || true"); !strings.Contains(out, "No such file") {
			t.Errorf("a command ran on node1: %s", out)
		}
	})

	t.Run("a node without passwordless sudo is reported with the fix", func(t *testing.T) {
		e.writeLab(e.pinned())
		n2.sh(t, "mv /etc/sudoers.d/vagrant /root/sudoers-vagrant")
		defer n2.sh(t, "mv /root/sudoers-vagrant /etc/sudoers.d/vagrant")
		r := e.halab(t, "up")
		if r.code != 2 {
			t.Errorf("exit %d, want 2", r.code)
		}
		for _, want := range []string{"nodes[1].ssh.user: vagrant has no passwordless sudo on node2", "a password is required", "NOPASSWD", "/etc/sudoers.d/"} {
			if !strings.Contains(r.out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
	})

	t.Run("up", func(t *testing.T) {
		e.writeLab(e.pinned())
		out := e.mustHalab(t, "up")
		for _, want := range []string{"provider ssh", "checking machines halab did not make", "passwordless sudo", n1.ip, n2.ip} {
			if !strings.Contains(out, want) {
				t.Errorf("up output lacks %q", want)
			}
		}
	})

	t.Run("a node that already runs corosync is refused without adopt: true", func(t *testing.T) {
		n1.sh(t, "systemctl start corosync")
		sum := n1.sh(t, "md5sum /etc/corosync/corosync.conf")
		r := e.halab(t, "provision")
		if r.code != 2 {
			t.Errorf("exit %d, want 2", r.code)
		}
		for _, want := range []string{"adopt: node1 already runs a cluster that this lab did not set up", "corosync running", "adopt: true"} {
			if !strings.Contains(r.out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		if strings.Contains(r.out, "adopt: node2") {
			t.Error("node2 runs no cluster, yet it was refused")
		}
		if got := n1.sh(t, "md5sum /etc/corosync/corosync.conf"); got != sum {
			t.Error("node1's corosync.conf changed")
		}
		for _, n := range e.nodes {
			if out := n.sh(t, "ls /var/lib/halab 2>&1 || true"); !strings.Contains(out, "No such file") {
				t.Errorf("%s was changed: /var/lib/halab: %s", n.name, out)
			}
		}
	})

	t.Run("adopt: true provisions over it; the lab's own cluster needs no adopt", func(t *testing.T) {
		o := e.pinned()
		o.adopt = true
		e.writeLab(o)
		out := e.mustHalab(t, "provision")
		if !strings.Contains(out, "adopting it") || !strings.Contains(out, "provisioned stack corosync") {
			t.Errorf("provision with adopt: true did not adopt node1")
		}
		if owner, err := vipOwner(); err != nil || (owner != "node1" && owner != "node2") {
			t.Fatalf("the VIP answers %q, %v", owner, err)
		}
		if mark := n1.sh(t, "cat /var/lib/halab/lab"); !strings.Contains(mark, e.file) {
			t.Errorf("node1's mark: %s", mark)
		}
		e.writeLab(e.pinned())
		if n := changedSteps(t, e.mustHalab(t, "provision")); n != 0 {
			t.Errorf("the second provision changed %d steps", n)
		}
	})

	t.Run("check-initd", func(t *testing.T) {
		if out := e.mustHalab(t, "check-initd", "--action-timeout", "30s"); !strings.Contains(out, "passes all 16 checks") {
			t.Errorf("the installed init script did not pass")
		}
	})

	t.Run("status and ssh", func(t *testing.T) {
		out := e.mustHalab(t, "status")
		if strings.Count(out, "running") != 2 {
			t.Errorf("status:\n%s", out)
		}
		// OpenSSH, for `halab ssh NODE` without a command, checks the
		// lab file's host key too (stdin is empty: the shell exits).
		if r := e.halab(t, "ssh", "node2"); r.code != 0 || strings.Contains(r.out, "verification failed") {
			t.Errorf("halab ssh node2: exit %d", r.code)
		}
	})

	t.Run("scenarios, the power-off specs included", func(t *testing.T) {
		// The failover specs, which the provider changes; the CTS and
		// Jepsen-style ones are the lab tests' (provider-independent).
		r := e.halab(t, "test", "--junit-report", "scenarios-sshnodes.xml", "--", "--focus-file=scenarios/failover_test.go")
		if r.code != 0 {
			t.Fatalf("scenarios: exit %d", r.code)
		}
		sum := r.out[strings.LastIndex(r.out, "==> failover summary"):]
		for _, sc := range []string{"baseline", "power-off", "standby", "stop-messaging", "kill-service", "repeat 1/2", "repeat 2/2", "lsb"} {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sc) + `\s+corosync\s+passed\s`).MatchString(sum) {
				t.Errorf("summary lacks %s passed:\n%s", sc, sum)
			}
		}
		// Without fencing, split brain as the configuration decides.
		for _, sc := range []string{"kill-daemon", "partition"} {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sc) + `\s+corosync\s+` + regexp.QuoteMeta(prober.Unsafe) + `\s`).MatchString(sum) {
				t.Errorf("summary lacks %s %s:\n%s", sc, prober.Unsafe, sum)
			}
		}
		for _, n := range e.nodes {
			if !n.running(t) {
				t.Errorf("%s is not running after the suite", n.container)
			}
		}
	})

	t.Run("without power commands the power-off specs are left out, with the reason", func(t *testing.T) {
		o := e.pinned()
		o.noPower = true
		e.writeLab(o)
		defer e.writeLab(e.pinned())
		r := e.halab(t, "test", "--labels", "power-off || repeat", "--junit-report", "scenarios-sshnodes-nopower.xml")
		if r.code != 0 {
			t.Errorf("exit %d", r.code)
		}
		if !strings.Contains(r.out, "leaving out the scenarios that power nodes off") || !strings.Contains(r.out, "nodes[0].power is not set") {
			t.Errorf("the reason is not given")
		}
		if regexp.MustCompile(`(?m)^power-off\s+corosync\s+passed`).MatchString(r.out) {
			t.Error("the power-off spec ran")
		}
		if r := e.halab(t, "fault", "power-off", "node1"); r.code != 2 || !strings.Contains(r.out, "nodes[0].power: not set") {
			t.Errorf("fault power-off without power: exit %d", r.code)
		}
	})

	t.Run("down forgets the lab and leaves the nodes serving", func(t *testing.T) {
		owner, err := vipOwner()
		if err != nil {
			t.Fatal(err)
		}
		out := e.mustHalab(t, "down")
		if !strings.Contains(out, "no node was changed") {
			t.Errorf("down does not say it changed no node:\n%s", out)
		}
		for _, n := range e.nodes {
			if !n.running(t) {
				t.Errorf("%s is not running after down", n.container)
			}
		}
		if got, err := vipOwner(); err != nil || got != owner {
			t.Errorf("after down the VIP answers %q, %v; was %s", got, err, owner)
		}
		if _, ok, _ := lab.ReadIdentity(e.state); ok {
			t.Error("down kept the lab's identity")
		}
		// The same lab file takes its nodes up again: the VIP its cluster
		// holds is no other machine's, and its cluster is its own.
		if out := e.mustHalab(t, "up"); !strings.Contains(out, "the VIP "+sshE2EVIP+" is held by "+owner) {
			t.Errorf("up after down does not say who holds the VIP")
		}
		if n := changedSteps(t, e.mustHalab(t, "provision")); n != 0 {
			t.Errorf("provision after down and up changed %d steps", n)
		}
		e.mustHalab(t, "down")
	})
}

// nodeRunArgs are the Vagrantfile's docker options, less the labels.
func TestNodeRunArgsMatchVagrantfile(t *testing.T) {
	vf, err := os.ReadFile(filepath.Join(repoRoot, "Vagrantfile"))
	if err != nil {
		t.Fatal(err)
	}
	block := string(vf)
	block = block[strings.Index(block, "d.create_args = ["):]
	block = block[:strings.Index(block, "]\n")]
	var words []string
	for _, line := range strings.Split(block, "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "#") || strings.HasPrefix(l, "'--label'") {
			continue
		}
		for _, m := range regexp.MustCompile(`'([^']*)'`).FindAllStringSubmatch(line, -1) {
			words = append(words, m[1])
		}
	}
	if !slices.Equal(words, nodeRunArgs) {
		t.Errorf("the Vagrantfile's docker options %q differ from the e2e's %q", words, nodeRunArgs)
	}
}
