package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"halab/lab"
	"halab/lab/labtest"
)

func jepsenCluster() *Cluster {
	cfg := lab.Defaults()
	return &Cluster{Lab: &lab.Lab{Cfg: &cfg}}
}

// The packet faults' plans: drop.sh's arguments for each kind.
func TestDropArgs(t *testing.T) {
	c := jepsenCluster()
	cfg := c.Lab.Cfg
	peer := cfg.Nodes[1].IP
	for kind, want := range map[string][]string{
		Loss20: {DropChain, cfg.VIP.NIC, "both", "0.2", peer},
		Loss50: {DropChain, cfg.VIP.NIC, "both", "0.5", peer},
		OneWay: {DropChain, cfg.VIP.NIC, "out", "1", peer},
	} {
		if got := c.dropArgs(kind, "node1"); !slices.Equal(got, want) {
			t.Errorf("%s: args %v, want %v", kind, got, want)
		}
	}
	if got := c.dropArgs(OneWay, "node2"); got[len(got)-1] != cfg.Nodes[0].IP {
		t.Errorf("one-way of node2 drops what it sends to %v", got[4:])
	}
	if DropChain == PartitionChain || strings.Contains(DropChain, PartitionChain) || strings.Contains(PartitionChain, DropChain) {
		t.Errorf("the packet faults' chain %s must not be taken for the partition's %s (grep -F)", DropChain, PartitionChain)
	}
	// heal-drop resumes the stack's messaging daemon; without a stack,
	// only the chain.
	if got := c.healDropArgs(); !slices.Equal(got, []string{DropChain}) {
		t.Errorf("heal args without a stack: %v", got)
	}
}

// Every new kind is listed for `halab fault`, before heal, which stays
// last; a pause on a provider that cannot freeze machines names the one
// that works.
func TestJepsenKinds(t *testing.T) {
	var got []string
	for _, f := range Faults {
		got = append(got, f.Kind)
	}
	for _, k := range []string{Pause, PauseDaemon, Loss20, Loss50, OneWay, Flap} {
		if !slices.Contains(got, k) {
			t.Errorf("fault %s not listed: %v", k, got)
		}
	}
	if got[len(got)-1] != Heal || slices.Index(got, Heal) != len(got)-1 {
		t.Errorf("heal must be listed once, last: %v", got)
	}
	c := jepsenCluster()
	c.Lab.Provider = labtest.NewFakeProvider("node1", "node2")
	err := c.Inject(t.Context(), Pause, "node1")
	if err == nil || !strings.Contains(err.Error(), "cannot freeze") || !strings.Contains(err.Error(), PauseDaemon) {
		t.Errorf("pause on a provider without Pauser: %v", err)
	}
	if d, err := c.resume(t.Context(), "node1"); d != "" || err != nil {
		t.Errorf("resume on a provider without Pauser: %q %v", d, err)
	}
}

// The scripts touch only the harness's chain, as the partition's do.
func TestDropTouchesOnlyItsChain(t *testing.T) {
	for _, s := range []string{dropScript, healDropScript} {
		for _, l := range strings.Split(s, "\n") {
			if !strings.Contains(l, "iptables ") {
				continue
			}
			if strings.Contains(l, "-F INPUT") || strings.Contains(l, "-F OUTPUT") || strings.Contains(l, "-P ") ||
				(strings.Contains(l, "-F") && !strings.Contains(l, `"$chain"`)) {
				t.Errorf("rule outside the chain: %s", l)
			}
		}
	}
}

// netns runs the test only where it can use a network namespace of its
// own (root, unshare): real iptables, never the host's rules.
func netns(t *testing.T) string {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err == nil && os.Geteuid() == 0 {
		if _, err = exec.LookPath("iptables"); err == nil {
			err = exec.Command(unshare, "-n", "iptables", "-S").Run()
		}
	} else if err == nil {
		err = os.ErrPermission
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("iptables in a network namespace of its own (root, unshare, iptables): %v", err)
		}
		t.Skipf("no network namespace of its own here (root, unshare, iptables): %v", err)
	}
	return unshare
}

// drop.sh and heal-drop.sh against real iptables in a network namespace:
// each kind's rules as planned, idempotent, and the heal leaves exactly the
// rules that were there before, the partition's chain included.
func TestDropAndHealReal(t *testing.T) {
	unshare := netns(t)
	dir := t.TempDir()
	for name, s := range map[string]string{"drop.sh": dropScript, "heal.sh": healDropScript, "partition.sh": partitionScript} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := jepsenCluster()
	q := func(args []string) string { return "'" + strings.Join(args, "' '") + "'" }
	for _, kind := range []string{Loss20, Loss50, OneWay} {
		args := c.dropArgs(kind, "node1")
		body := strings.Join([]string{
			"set -e",
			"iptables -A INPUT -p tcp --dport 22 -j ACCEPT", // someone else's rule
			"sh " + dir + "/partition.sh " + q(c.partitionArgs("node1")),
			"iptables -S > " + dir + "/before",
			"sh " + dir + "/drop.sh " + q(args),
			"sh " + dir + "/drop.sh " + q(args), // twice: idempotent
			"iptables -S > " + dir + "/during",
			"sh " + dir + "/heal.sh " + DropChain + " > " + dir + "/said",
			"sh " + dir + "/heal.sh " + DropChain + " > " + dir + "/said2",
			"iptables -S > " + dir + "/after",
		}, "\n")
		if out, err := exec.Command(unshare, "-n", "sh", "-c", body).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", kind, err, out)
		}
		read := func(n string) string { b, _ := os.ReadFile(filepath.Join(dir, n)); return string(b) }
		during, peer := read("during"), c.Lab.Cfg.Nodes[1].IP
		var mine []string
		for _, l := range strings.Split(during, "\n") {
			if strings.Contains(l, DropChain) {
				mine = append(mine, l)
			}
		}
		want := []string{"-N " + DropChain, "-A OUTPUT -o eth1 -j " + DropChain}
		switch kind {
		case OneWay:
			want = append(want, "-A "+DropChain+" -d "+peer+"/32 -p udp -j DROP")
		default:
			p := map[string]string{Loss20: "0.2", Loss50: "0.5"}[kind]
			want = append(want, "-A INPUT -i eth1 -j "+DropChain,
				"-A "+DropChain+" -d "+peer+"/32 -p udp -m statistic --mode random --probability "+p,
				"-A "+DropChain+" -s "+peer+"/32 -p udp -m statistic --mode random --probability "+p)
		}
		if len(mine) != len(want) {
			t.Errorf("%s: rules %q, want %d like %q", kind, mine, len(want), want)
		}
		for _, w := range want {
			if !slices.ContainsFunc(mine, func(l string) bool { return strings.HasPrefix(l, w) }) {
				t.Errorf("%s: no rule %q in\n%s", kind, w, during)
			}
		}
		if read("after") != read("before") {
			t.Errorf("%s: heal did not restore the rules:\nbefore\n%s\nafter\n%s", kind, read("before"), read("after"))
		}
		if !strings.Contains(read("said"), "removed the "+DropChain+" rules") || read("said2") != "" {
			t.Errorf("%s: heal said %q, then %q", kind, read("said"), read("said2"))
		}
	}
}

// pause-daemon.sh stops a process, heal-drop.sh resumes it (and says so)
// and, run again, does nothing: a real process with a name of its own.
func TestPauseDaemonAndResumeReal(t *testing.T) {
	for _, tool := range []string{"pgrep", "pkill", "ps", "sleep"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not here", tool)
		}
	}
	sleepBin, _ := exec.LookPath("sleep")
	dir := t.TempDir()
	name := "halabjep" + time.Now().Format("150405")
	prog := filepath.Join(dir, name)
	b, err := os.ReadFile(sleepBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prog, b, 0o755); err != nil {
		t.Fatal(err)
	}
	p := exec.Command(prog, "60")
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Process.Kill(); _, _ = p.Process.Wait() }()
	state := func() string {
		out, _ := exec.Command("ps", "-o", "stat=", "-p", strconv.Itoa(p.Process.Pid)).Output()
		return strings.TrimSpace(string(out))
	}
	run := func(script string, args ...string) (string, error) {
		cmd := exec.Command("sh", append([]string{"-s", "--"}, args...)...)
		cmd.Stdin = strings.NewReader(script)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(pauseDaemonScript, name); err != nil {
		t.Fatalf("pause: %v %s", err, out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.HasPrefix(state(), "T") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if s := state(); !strings.HasPrefix(s, "T") {
		t.Fatalf("after pause-daemon the process is %q, want stopped (T)", s)
	}
	out, err := run(healDropScript, "HALAB-NO-SUCH-CHAIN", name)
	if err != nil || !strings.Contains(out, "resumed "+name) {
		t.Fatalf("heal: %v %q", err, out)
	}
	if s := state(); strings.HasPrefix(s, "T") {
		t.Errorf("after heal the process is still %q", s)
	}
	if out, _ := run(healDropScript, "HALAB-NO-SUCH-CHAIN", name); strings.TrimSpace(out) != "" {
		t.Errorf("a second heal said %q", out)
	}
	if out, err := run(pauseDaemonScript, name+"x"); err == nil || !strings.Contains(out, "no "+name+"x process") {
		t.Errorf("pause of no process: %v %q", err, out)
	}
}
