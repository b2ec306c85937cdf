package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"halab/lab"
	"halab/provision"
)

// TestE2EFaults drives the real binary against a lab of its own ("hard":
// nodes hard1/hard2 on 192.168.58.0/24, SSH on 127.0.0.1:2242-2243, so it
// never touches the default lab) and breaks it the ways users' nodes
// break: sshd gone, a refused key, a changed host key, a command that
// hangs, a paused node, a full disk during the JDK push, SIGINT and
// SIGTERM mid-push, a second command while one runs, apt without a
// network. Each must end with a clear message on stderr, the right exit
// code, no stack trace, and nothing half-written on the nodes. Around it
// all, every command line that reached a node, the nodes' process lists
// and journals, halab's output and its state directory are scanned for
// the cluster secrets.
func TestE2EFaults(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	f := newFaultLab(t)

	t.Run("bad input exits 2", func(t *testing.T) {
		r := f.run("-c", filepath.Join(t.TempDir(), "missing.yaml"), "status")
		f.expectFail(t, r, 2, "missing.yaml")
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(bad, []byte(strings.Replace(f.yaml, "user: vagrant", `user: "vagrant; reboot"`, 1)), 0o644)
		r = f.run("-c", bad, "provision")
		f.expectFail(t, r, 2, "service.user", `"vagrant; reboot"`)
		r = f.run("--command-timeout", "0s", "status")
		f.expectFail(t, r, 2, "--command-timeout")
	})

	f.mustRun("up")
	f.logCommands()

	t.Run("arguments stay one word on a real sshd", func(t *testing.T) {
		name := `a;b $(touch pwned) "c" 'd' *`
		f.mustRun("ssh", "hard1", "--", "mkdir", "-p", "/tmp/q")
		f.mustRun("ssh", "hard1", "--", "touch", "/tmp/q/"+name)
		got := f.node("hard1", "ls -1A /tmp/q; ls -1A ~vagrant | grep -c pwned || true")
		if want := name + "\n0\n"; got != want {
			t.Errorf("the node made %q, want exactly one file %q and no command run", got, name)
		}
	})

	t.Run("lock refuses a second command", func(t *testing.T) {
		unlock, err := lab.Lock(f.state)
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		r := f.run("provision")
		f.expectFail(t, r, 1, "another halab command is using this lab", filepath.Join(f.state, "lock"))
		if r.took > 5*time.Second {
			t.Errorf("refusal took %s: it must not wait", r.took)
		}
	})

	// Vagrant runs in a process group of its own (a terminal's Ctrl-C
	// reaches halab alone) and gets one SIGINT from halab, with time to
	// finish, not a SIGKILL. The SIGINT is sent once vagrant's action
	// runs (its first "==> hardN:" line), where vagrant handles it itself
	// and says so; the machines are stopped first, so that starting them
	// keeps the action running for seconds. (Sent as soon as vagrant
	// appeared, the SIGINT raced vagrant's own start: on a busy host a
	// `vagrant up` of running machines once finished before it.)
	t.Run("SIGINT during up reaches vagrant as SIGINT", func(t *testing.T) {
		for _, c := range f.containers {
			f.docker("stop", "-t", "1", c)
		}
		bg := f.start("up")
		bg.waitOutput("==> hard")
		var vagrant procStat
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if c, ok := childOf(bg.cmd.Process.Pid, "vagrant"); ok {
				vagrant = c
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no vagrant child of halab:\n%s", bg.out())
			}
		}
		if self := statOf(t, bg.cmd.Process.Pid); vagrant.pgrp == self.pgrp || vagrant.pgrp != vagrant.pid {
			t.Errorf("vagrant (pid %d) in process group %d, want its own, not halab's (%d)", vagrant.pid, vagrant.pgrp, self.pgrp)
		}
		bg.cmd.Process.Signal(syscall.SIGINT)
		r := bg.wait()
		// vagrant's SIGINT handler says it got the signal
		if !strings.Contains(r.stdout, "Waiting for cleanup before exiting") {
			t.Errorf("vagrant did not say it got the SIGINT (\"Waiting for cleanup before exiting...\"):\n%s", r.stdout)
		}
		if strings.Contains(r.stderr, "vagrant up") {
			// vagrant stopped its action: halab names it and how it ended
			f.expectFail(t, r, 130, "halab: interrupted:", "vagrant up", "it stopped on SIGINT")
		} else {
			// vagrant finished its action first: halab stops at its next step
			f.expectFail(t, r, 130, "halab: interrupted:")
		}
		if strings.Contains(r.stderr, "killed") {
			t.Errorf("vagrant was killed")
		}
		f.mustRun("up")
	})

	t.Run("ssh port closed", func(t *testing.T) {
		f.node("hard1", "systemctl stop ssh")
		defer f.node("hard1", "systemctl start ssh")
		r := f.run("ssh", "hard1", "--", "true")
		f.expectFail(t, r, 1, "node hard1 (127.0.0.1:", "): cannot connect over SSH", "sshd running")
	})

	t.Run("wrong key", func(t *testing.T) {
		f.node("hard1", "mv /home/vagrant/.ssh/authorized_keys /home/vagrant/.ssh/ak.off")
		defer f.node("hard1", "mv /home/vagrant/.ssh/ak.off /home/vagrant/.ssh/authorized_keys")
		r := f.run("ssh", "hard1", "--", "true")
		f.expectFail(t, r, 1, "node hard1", "unable to authenticate", "refused the key", "private_key")
	})

	t.Run("changed host key", func(t *testing.T) {
		kh := filepath.Join(f.state, "known_hosts")
		orig, err := os.ReadFile(kh)
		if err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(kh, orig, 0o600)
		changePinnedKey(kh, orig, "hard1")
		r := f.run("provision")
		f.expectFail(t, r, 1, "node hard1: SSH host key changed", kh)
	})

	t.Run("command hangs", func(t *testing.T) {
		r := f.run("--command-timeout", "3s", "ssh", "hard1", "--", "sleep", "30")
		f.expectFail(t, r, 1, "node hard1", "`sleep 30`", "no result within the command timeout (3s)", "halab ended it on the node", "--command-timeout")
		if r.took > 10*time.Second {
			t.Errorf("gave up after %s, bound was 3s", r.took)
		}
		f.noneLeft(t, "hard1", "sleep 30")
		// As root: sudo resets the environment and takes no signal from
		// the vagrant user; the session's end never reached its child.
		r = f.run("--command-timeout", "3s", "ssh", "hard1", "--", "sudo", "-n", "--", "sleep", "31")
		f.expectFail(t, r, 1, "node hard1", "`sudo -n -- sleep 31`", "no result within the command timeout (3s)", "halab ended it on the node")
		f.noneLeft(t, "hard1", "sleep 31")
	})

	t.Run("SIGINT of a remote command ends it on the node", func(t *testing.T) {
		bg := f.start("ssh", "hard1", "--", "sudo", "-n", "--", "sleep", "600")
		f.node("hard1", "for i in $(seq 200); do pgrep -fx 'sleep 600' >/dev/null && exit 0; sleep 0.05; done; exit 1")
		bg.cmd.Process.Signal(syscall.SIGINT)
		r := bg.wait()
		f.expectFail(t, r, 130, "halab: interrupted:", "`sudo -n -- sleep 600`", "halab ended it on the node")
		if r.took > 15*time.Second {
			t.Errorf("stopping took %s", r.took)
		}
		f.noneLeft(t, "hard1", "sleep 600")
	})

	t.Run("node paused mid-command, then on connect", func(t *testing.T) {
		bg := f.start("--command-timeout", "6s", "ssh", "hard1", "--", "sleep", "4.25")
		f.node("hard1", "for i in $(seq 100); do pgrep -f 'sleep 4.25' >/dev/null && exit 0; sleep 0.05; done; exit 1")
		f.docker("pause", "hard-hard1")
		defer f.docker("unpause", "hard-hard1")
		r := bg.wait()
		f.expectFail(t, r, 1, "node hard1", "`sleep 4.25`", "no result within the command timeout (6s)")
		r = f.run("--connect-timeout", "2s", "ssh", "hard1", "--", "true")
		f.expectFail(t, r, 1, "node hard1 (127.0.0.1:", "): cannot connect over SSH", "no SSH handshake within 2s", "--connect-timeout")
		if r.took > 8*time.Second {
			t.Errorf("connect gave up after %s, bound was 2s", r.took)
		}
	})

	// hard1's /opt/.halab becomes a 4 MiB tmpfs: the JDK cannot fit.
	t.Run("full disk during the JDK push", func(t *testing.T) {
		f.node("hard1", "mkdir -p /opt/.halab && mount -t tmpfs -o size=4m tmpfs /opt/.halab")
		defer f.node("hard1", "umount /opt/.halab")
		r := f.run("provision")
		f.expectFail(t, r, 1, "step jdk on hard1", "the node's disk is full", "KiB free", "the partial file /opt/.halab/.jdk-", "was removed", "re-run")
		if left := f.node("hard1", "ls -A /opt/.halab"); left != "" {
			t.Errorf("left on the full disk: %q", left)
		}
	})

	// A node that freezes during the push: no command is running, only
	// SFTP writes, which the SSH keepalive bounds.
	t.Run("node paused mid-push", func(t *testing.T) {
		bg := f.start("--connect-timeout", "3s", "provision")
		f.waitPush("hard1")
		f.docker("pause", "hard-hard1")
		defer f.docker("unpause", "hard-hard1")
		r := bg.wait()
		f.expectFail(t, r, 1, "step jdk on hard1", "the node stopped answering SSH (no keepalive reply within 3s)", "halab status", "re-run",
			"could not be removed now; the next push to that node removes it")
		if r.took > 30*time.Second {
			t.Errorf("gave up after %s", r.took)
		}
	})

	// SIGINT, then SIGTERM, while hard1 receives the JDK (the first also
	// sweeps what the frozen push could not remove); then a run that
	// completes while a second command is refused.
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String()+" mid-push", func(t *testing.T) {
			bg := f.start("provision")
			f.waitPush("hard1")
			bg.cmd.Process.Signal(sig)
			r := bg.wait()
			f.expectFail(t, r, 130, "halab: interrupted:")
			f.checkNoPartialFiles(t)
		})
	}

	// The packages step hangs on hard1 in a dpkg-query that waits (as apt
	// waits for the dpkg lock), as root under sudo -n -- sh -s: SIGINT
	// must leave nothing of it, nor of anything else halab ran, on either
	// node.
	t.Run("SIGINT while provision runs a remote command", func(t *testing.T) {
		f.node("hard1", `set -e
cat >/usr/local/bin/dpkg-query <<'SHIM'
#!/bin/sh
if [ -e /run/halab-hold ]; then
  echo $$ >>/run/halab-held
  sleep 601
fi
exec /usr/bin/dpkg-query "$@"
SHIM
chmod 0755 /usr/local/bin/dpkg-query
rm -f /run/halab-held
: >/run/halab-hold`)
		defer f.node("hard1", "rm -f /usr/local/bin/dpkg-query /run/halab-hold /run/halab-held")
		bg := f.start("provision")
		f.node("hard1", "for i in $(seq 1200); do [ -s /run/halab-held ] && exit 0; sleep 0.05; done; echo no hold >&2; exit 1")
		held := strings.Fields(f.node("hard1", "cat /run/halab-held"))
		bg.cmd.Process.Signal(syscall.SIGINT)
		r := bg.wait()
		f.expectFail(t, r, 130, "halab: interrupted:", "step packages on hard1", "halab ended it on the node")
		if r.took > 60*time.Second {
			t.Errorf("stopping took %s", r.took)
		}
		for _, pid := range held {
			if ps := f.node("hard1", "tr '\\0' ' ' </proc/"+pid+"/cmdline 2>/dev/null; true"); ps != "" {
				t.Errorf("hard1: the held dpkg-query (pid %s) still runs: %s", pid, ps)
			}
		}
		f.noneLeft(t, "hard1", "sleep 601")
		f.noneLeft(t, "hard2", "")
	})

	t.Run("re-run completes while a second command is refused", func(t *testing.T) {
		f.samplePS()
		bg := f.start("provision")
		bg.waitOutput("==> detecting node OS")
		r := f.run("provision")
		f.expectFail(t, r, 1, "another halab command is using this lab", filepath.Join(f.state, "lock"))
		if r := bg.wait(); r.code != 0 || !strings.Contains(r.stdout, "provisioned stack corosync") {
			t.Fatalf("provision after the interrupts: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout+bg.out(), "pushed and unpacked") {
			t.Errorf("the re-run did not finish the interrupted JDK push")
		}
		if got := vipGetAt(t, "192.168.58.20"); got != "hard1" && got != "hard2" {
			t.Errorf("VIP answered %q", got)
		}
		f.checkNoPartialFiles(t)
	})

	t.Run("secrets", func(t *testing.T) {
		f.stopPS()
		secrets, err := provision.ReadSecretValues(f.state)
		if err != nil || len(secrets) != 3 {
			t.Fatalf("secrets: %d values, %v", len(secrets), err)
		}
		// On the host: private files in a private directory.
		for name, mode := range map[string]os.FileMode{".": 0o700, "authkeys.secret": 0o600, "corosync.authkey": 0o600} {
			if st, err := os.Stat(filepath.Join(f.state, name)); err != nil || st.Mode().Perm() != mode {
				t.Errorf("host %s: %v (%v), want %v", name, st.Mode().Perm(), err, mode)
			}
		}
		// On the nodes: the right content, root only.
		key, _ := os.ReadFile(filepath.Join(f.state, "corosync.authkey"))
		sum := sha256.Sum256(key)
		for _, n := range []string{"hard1", "hard2"} {
			want := "400 root root " + hex.EncodeToString(sum[:])
			if got := f.node(n, "echo $(stat -c '%a %U %G' /etc/corosync/authkey) $(sha256sum </etc/corosync/authkey | cut -d' ' -f1)"); got != want+"\n" {
				t.Errorf("%s /etc/corosync/authkey: %q, want %q", n, got, want)
			}
		}
		// Never on a remote command line, in a process list or a node's log.
		for _, n := range []string{"hard1", "hard2"} {
			cmds := f.node(n, "cat /var/log/halab-cmdlog")
			if !strings.Contains(cmds, "sftp-server") || strings.Count(cmds, "\n") < 20 {
				t.Errorf("%s: the command log did not capture halab's commands (%d lines)", n, strings.Count(cmds, "\n"))
			}
			ps := f.node(n, "cat /var/log/halab-ps.log")
			if strings.Count(ps, "\n") < 100 {
				t.Errorf("%s: too few process samples (%d lines)", n, strings.Count(ps, "\n"))
			}
			journal := f.node(n, "journalctl --no-pager -o cat")
			for what, text := range map[string]string{"remote command lines": cmds, "ps samples": ps, "journal": journal} {
				if found := provision.FindSecrets([]byte(text), secrets); len(found) > 0 {
					t.Errorf("%s: %s hold %v", n, what, found)
				}
			}
		}
		// Never printed, never in what halab keeps on the host.
		if found := provision.FindSecrets(f.transcript(), secrets); len(found) > 0 {
			t.Errorf("halab's output holds %v", found)
		}
		found, err := provision.ScanForSecrets(f.state, secrets, nil)
		if err != nil || len(found) > 0 {
			t.Errorf("state directory: %v %v", found, err)
		}
		// The scanner can see a leak: the secret files themselves.
		if len(provision.FindSecrets(key, secrets)) == 0 {
			t.Fatalf("scanner blind to the corosync key")
		}
	})

	// Ctrl-C during the partition scenario, and again while its heal runs:
	// halab says what may be left and how to undo it, and exits 130. The
	// heal is held on the node (iptables -X waits while a hold file
	// exists), so that the second Ctrl-C lands in it.
	t.Run("second SIGINT during the scenarios' heal", func(t *testing.T) {
		nodes := []string{"hard1", "hard2"}
		for _, n := range nodes {
			f.node(n, `set -e
cat >/usr/local/sbin/iptables <<'SHIM'
#!/bin/sh
if [ -e /run/halab-hold-heal ]; then
  case " $* " in *" -X "*) sleep 602 & echo "$$ $!" >>/run/halab-held-heal; wait ;; esac
fi
exec /usr/sbin/iptables "$@"
SHIM
chmod 0755 /usr/local/sbin/iptables
rm -f /run/halab-held-heal
: >/run/halab-hold-heal`)
		}
		defer func() {
			for _, n := range nodes {
				f.node(n, `rm -f /usr/local/sbin/iptables /run/halab-hold-heal
[ -e /run/halab-held-heal ] && kill $(cat /run/halab-held-heal) 2>/dev/null
rm -f /run/halab-held-heal; true`)
			}
		}()
		bg := f.start("test", "--labels", "network", "--junit-report", "e2e-faults-interrupted.xml")
		defer func() {
			if bg.cmd.ProcessState == nil {
				bg.cmd.Process.Kill()
				bg.cmd.Wait()
			}
		}()
		bg.waitOutputWithin("waiting for both sides to claim the VIP", 10*time.Minute)
		bg.cmd.Process.Signal(syscall.SIGINT)
		held := func() bool {
			for _, n := range nodes {
				if f.node(n, "[ -s /run/halab-held-heal ] && echo held; true") != "" {
					return true
				}
			}
			return false
		}
		for deadline := time.Now().Add(3 * time.Minute); !held(); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the heal never reached iptables -X:\n%s", bg.out())
			}
		}
		bg.cmd.Process.Signal(syscall.SIGINT)
		r := bg.wait()
		// Not expectFail: Ginkgo's own report of the interrupt names
		// source lines.
		if r.code != 130 {
			t.Errorf("exit %d, want 130", r.code)
		}
		for _, want := range []string{
			"halab: SIGINT again: killing what still runs",
			"halab: interrupted: heals were interrupted (this run injected, and no heal is known to have undone: partition hard",
			"run `halab fault heal` to undo what is left, and `halab status` to see it",
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q", want)
			}
		}
		if r.took > 8*time.Minute {
			t.Errorf("took %s", r.took)
		}
		for _, n := range nodes {
			f.node(n, `rm -f /run/halab-hold-heal
[ -e /run/halab-held-heal ] && kill $(cat /run/halab-held-heal) 2>/dev/null; true`)
		}
		heal := f.mustRun("fault", "heal")
		if !strings.Contains(heal.stdout, "removed the partition rules") {
			t.Errorf("`halab fault heal` did not find the partition left:\n%s", heal.stdout)
		}
		for _, n := range nodes {
			if rules := f.node(n, "/usr/sbin/iptables -S"); strings.Contains(rules, "HALAB") {
				t.Errorf("%s: rules left after `halab fault heal`:\n%s", n, rules)
			}
		}
	})

	// Last, as it leaves hard1 without a package: net-tools removed, apt
	// pointed at a proxy on the node's loopback that refuses, and new
	// outbound connections rejected, so that nothing leaves the machine.
	t.Run("apt fails", func(t *testing.T) {
		f.node("hard1", `set -e
printf 'Acquire::http::Proxy "http://127.0.0.1:9/";\nAcquire::https::Proxy "http://127.0.0.1:9/";\nAcquire::Retries "0";\n' >/etc/apt/apt.conf.d/99halab-offline
iptables -A OUTPUT ! -o lo -m conntrack --ctstate NEW -j REJECT
dpkg -r net-tools >/dev/null`)
		r := f.run("provision")
		f.expectFail(t, r, 1, "step packages on hard1", "apt-get could not install", "Could not connect to 127.0.0.1:9",
			"fix apt on the node", "halab ssh hard1 -- sudo apt-get update", "re-run `halab provision`")
	})
}

// faultLab is the test's own lab and a record of everything halab printed.
type faultLab struct {
	t          *testing.T
	bin, cfg   string
	yaml       string
	state      string
	mu         sync.Mutex
	all        bytes.Buffer
	containers []string
}

const faultLabYAML = "hard"

func newFaultLab(t *testing.T) *faultLab {
	jdk := paddedJDK(t)
	src, err := os.ReadFile(filepath.Join(repoRoot, "lab.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	y := string(src)
	for _, r := range [][2]string{
		{"name: halab", "name: " + faultLabYAML}, {"provider: auto", "provider: docker"}, {"stack: auto", "stack: corosync"},
		{"name: node1\n    ip: 192.168.56.11", "name: hard1\n    ip: 192.168.58.11"},
		{"name: node2\n    ip: 192.168.56.12", "name: hard2\n    ip: 192.168.58.12"},
		{"address: 192.168.56.20", "address: 192.168.58.20"}, {"ssh_port: 2222", "ssh_port: 2242"},
		{"jdk_archive: build/jdk.tar.gz", "jdk_archive: " + jdk},
	} {
		if !strings.Contains(y, r[0]) {
			t.Fatalf("lab.yaml has no %q to replace", r[0])
		}
		y = strings.Replace(y, r[0], r[1], 1)
	}
	f := &faultLab{t: t, bin: buildHalab(t), yaml: y, state: filepath.Join(repoRoot, ".halab", faultLabYAML),
		containers: []string{"hard-hard1", "hard-hard2"}}
	f.cfg = writeE2ELabFile(t, faultLabYAML, y)
	f.mustRun("down")
	t.Cleanup(func() {
		exec.Command("docker", "unpause", "hard-hard1").Run()
		if os.Getenv("HALAB_E2E_KEEP") == "" {
			f.run("down")
		}
	})
	return f
}

// paddedJDK is the lab's JDK with 192 MiB more inside its top directory,
// as an uncompressed tar: the push then lasts long enough to interrupt.
func paddedJDK(t *testing.T) string {
	out := filepath.Join(repoRoot, "build", "jdk-padded.tar")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	src := filepath.Join(repoRoot, "build", "jdk.tar.gz")
	if _, err := os.Stat(src); err != nil {
		t.Fatalf("%s: %v (run `make jdk`)", src, err)
	}
	top, err := exec.Command("sh", "-c", `tar -tzf "$1" | head -1 | cut -d/ -f1`, "sh", src).Output()
	if err != nil || len(bytes.TrimSpace(top)) == 0 {
		t.Fatalf("top directory of %s: %v", src, err)
	}
	stage := t.TempDir()
	script := `set -e
gzip -dc "$1" > "$4.tmp"
mkdir -p "$2/$3"
head -c 192M /dev/zero > "$2/$3/halab-padding.bin"
tar -rf "$4.tmp" -C "$2" "$3/halab-padding.bin"
mv "$4.tmp" "$4"`
	if b, err := exec.Command("sh", "-c", script, "sh", src, stage, string(bytes.TrimSpace(top)), out).CombinedOutput(); err != nil {
		t.Fatalf("making %s: %v\n%s", out, err, b)
	}
	return out
}

type cliResult struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

type bgRun struct {
	f              *faultLab
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	start          time.Time
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs halab against the fault lab (the first arguments may replace
// -c) without waiting.
func (f *faultLab) start(args ...string) *bgRun {
	f.t.Helper()
	if len(args) == 0 || args[0] != "-c" {
		args = append([]string{"-c", f.cfg}, args...)
	}
	b := &bgRun{f: f, stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	b.cmd = exec.Command(f.bin, args...)
	b.cmd.Dir = repoRoot
	b.cmd.Stdout, b.cmd.Stderr = b.stdout, b.stderr
	f.t.Logf("$ halab %s", strings.Join(args, " "))
	b.start = time.Now()
	if err := b.cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (b *bgRun) out() string { return b.stdout.String() }

func (b *bgRun) waitOutput(s string) {
	b.f.t.Helper()
	b.waitOutputWithin(s, time.Minute)
}

func (b *bgRun) waitOutputWithin(s string, d time.Duration) {
	b.f.t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if strings.Contains(b.stdout.String(), s) {
			return
		}
	}
	b.f.t.Fatalf("no %q in %s:\n%s%s", s, d, b.stdout.String(), b.stderr.String())
}

func (b *bgRun) wait() cliResult {
	err := b.cmd.Wait()
	r := cliResult{stdout: b.stdout.String(), stderr: b.stderr.String(), took: time.Since(b.start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.code = 128 + int(ws.Signal()) // killed by the signal: no handler ran
		}
	} else if err != nil {
		b.f.t.Fatalf("halab: %v", err)
	}
	b.f.mu.Lock()
	b.f.all.WriteString(r.stdout + r.stderr)
	b.f.mu.Unlock()
	b.f.t.Logf("exit %d after %s\n%s%s", r.code, r.took.Round(10*time.Millisecond), r.stdout, r.stderr)
	return r
}

func (f *faultLab) run(args ...string) cliResult { return f.start(args...).wait() }

func (f *faultLab) mustRun(args ...string) cliResult {
	f.t.Helper()
	r := f.run(args...)
	if r.code != 0 {
		f.t.Fatalf("halab %s: exit %d", strings.Join(args, " "), r.code)
	}
	return r
}

func (f *faultLab) transcript() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byte(nil), f.all.Bytes()...)
}

// expectFail checks what a user sees when halab fails: the exit code, one
// "halab: " line on stderr holding every want, and no Go stack trace.
func (f *faultLab) expectFail(t *testing.T, r cliResult, code int, wants ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d", r.code, code)
	}
	// The error starts with "halab: " and may go on with the remote
	// command's own lines.
	msg := ""
	if i := strings.Index(r.stderr, "halab: "); i >= 0 && (i == 0 || r.stderr[i-1] == '\n') {
		msg = r.stderr[i:]
	}
	if msg == "" {
		t.Errorf("no `halab: ` error line on stderr: %q", r.stderr)
	}
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("error line lacks %q:\n%s", w, msg)
		}
	}
	for _, trace := range []string{"goroutine ", "panic:", ".go:"} {
		if strings.Contains(r.stdout+r.stderr, trace) {
			t.Errorf("output holds %q (a stack trace?)", trace)
		}
	}
}

func (f *faultLab) docker(args ...string) string {
	f.t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		f.t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// node runs a root shell script on a node through docker, not through
// halab, so that the test's own setup is independent of what it tests.
func (f *faultLab) node(node, script string) string {
	f.t.Helper()
	cmd := exec.Command("docker", "exec", "-i", "hard-"+node, "sh", "-s")
	cmd.Stdin = strings.NewReader(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		f.t.Fatalf("%s: %s: %v %s", node, script, err, stderr.String())
	}
	return string(out)
}

// logCommands makes each node's sshd log every command line it is asked
// to run (ForceCommand keeps the original in SSH_ORIGINAL_COMMAND).
func (f *faultLab) logCommands() {
	for _, n := range []string{"hard1", "hard2"} {
		f.node(n, `set -e
cat >/usr/local/bin/halab-cmdlog <<'EOF'
#!/bin/sh
printf '%s\n' "$SSH_ORIGINAL_COMMAND" >>/var/log/halab-cmdlog
[ -n "$SSH_ORIGINAL_COMMAND" ] || exec /bin/bash -l
exec /bin/bash -c "$SSH_ORIGINAL_COMMAND"
EOF
chmod 0755 /usr/local/bin/halab-cmdlog
install -m 0666 /dev/null /var/log/halab-cmdlog
echo 'ForceCommand /usr/local/bin/halab-cmdlog' >/etc/ssh/sshd_config.d/halab-cmdlog.conf
systemctl reload ssh`)
	}
	f.mustRun("ssh", "hard1", "--", "echo", "logged")
	if got := f.node("hard1", "cat /var/log/halab-cmdlog"); !strings.Contains(got, "echo logged") {
		f.t.Fatalf("command log does not work: %q", got)
	}
}

// noneLeft checks that nothing of halab's remote commands runs on a node:
// at once, no process whose command line is exactly cmdline (if given);
// and no process that holds halab's run marker (lab.RunMarker), allowing
// a moment for an SFTP server whose session ended to exit.
func (f *faultLab) noneLeft(t *testing.T, node, cmdline string) {
	t.Helper()
	if cmdline != "" {
		if ps := f.node(node, "pgrep -afx "+lab.Quote(cmdline)+" || true"); ps != "" {
			t.Errorf("%s: %q still runs:\n%s", node, cmdline, ps)
		}
	}
	script := `for i in $(seq 50); do
  left=$(for e in $(grep -lsz '^` + lab.RunMarker + `=' /proc/[0-9]*/environ); do p=${e#/proc/}; p=${p%/environ}; echo "$p $(tr '\0' ' ' <"/proc/$p/cmdline")"; done)
  [ -z "$left" ] && exit 0
  sleep 0.1
done
echo "$left"`
	if left := f.node(node, script); left != "" {
		t.Errorf("%s: processes of halab's commands still run:\n%s", node, left)
	}
}

type procStat struct{ pid, ppid, pgrp int }

// statOf reads a process's parent and process group from /proc.
func statOf(t *testing.T, pid int) procStat {
	t.Helper()
	st, ok := readStat(pid)
	if !ok {
		t.Fatalf("no process %d", pid)
	}
	return st
}

func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	st := procStat{pid: pid}
	if len(f) < 3 {
		return st, false
	}
	fmt.Sscan(f[1], &st.ppid)
	fmt.Sscan(f[2], &st.pgrp)
	return st, true
}

// childOf finds a child of parent whose command line holds name.
func childOf(parent int, name string) (procStat, bool) {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		var pid int
		if _, err := fmt.Sscan(filepath.Base(d), &pid); err != nil {
			continue
		}
		st, ok := readStat(pid)
		if !ok || st.ppid != parent {
			continue
		}
		if cl, err := os.ReadFile(d + "/cmdline"); err == nil && strings.Contains(string(cl), name) {
			return st, true
		}
	}
	return procStat{}, false
}

// samplePS records every node's full process list ten times a second.
func (f *faultLab) samplePS() {
	for _, c := range f.containers {
		f.docker("exec", "-d", c, "sh", "-c", "echo $$ >/run/halab-ps.pid; while :; do ps -eo args >>/var/log/halab-ps.log; sleep 0.1; done")
	}
}

func (f *faultLab) stopPS() {
	for _, n := range []string{"hard1", "hard2"} {
		f.node(n, "kill $(cat /run/halab-ps.pid)")
	}
}

// waitPush returns as soon as a push of the JDK to node has begun. A temp
// file left by an earlier run is swept before the new one is made, so the
// wait is for a new name.
func (f *faultLab) waitPush(node string) {
	f.t.Helper()
	f.node(node, `old=$(ls /opt/.halab/.jdk-*.halab-* 2>/dev/null)
for i in $(seq 1200); do
  for p in /opt/.halab/.jdk-*.halab-*; do
    [ -e "$p" ] && ! echo "$old" | grep -qxF "$p" && exit 0
  done
  sleep 0.05
done
echo no push seen >&2; exit 1`)
}

// checkNoPartialFiles: no temporary file is left, and the archive, if it
// exists under its real name, is the whole archive.
func (f *faultLab) checkNoPartialFiles(t *testing.T) {
	t.Helper()
	sum := fileSHA256(t, filepath.Join(repoRoot, "build", "jdk-padded.tar"))
	for _, n := range []string{"hard1", "hard2"} {
		out := f.node(n, `cd /opt/.halab 2>/dev/null || exit 0
for p in .*.halab-* *.tmp; do [ -e "$p" ] && echo "temp $p"; done
for p in *.archive; do [ -e "$p" ] && echo "archive $(sha256sum < "$p" | cut -d' ' -f1)"; done
[ -e /opt/jdk ] && { [ -x /opt/jdk/bin/java ] || echo "broken /opt/jdk"; }
true`)
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			switch {
			case l == "":
			case l == "archive "+sum:
			default:
				t.Errorf("%s: %s", n, l)
			}
		}
	}
}

func vipGetAt(t *testing.T, addr string) string {
	t.Helper()
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s:8080/", addr))
	if err != nil {
		t.Fatalf("GET VIP %s: %v", addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

func fileSHA256(t *testing.T, p string) string {
	t.Helper()
	fh, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
