package harness

import (
	"slices"
	"strings"
	"testing"
)

// The captures of leftovers-node.sh are from a corosync lab (Debian 12,
// systemd) after `halab fault kill-daemon`, `partition` and
// `stop-messaging`.
func TestParseNodeCheck(t *testing.T) {
	cases := []struct {
		file      string
		partition int
		daemons   []DaemonState
	}{
		{"leftovers-corosync-killed.txt", 0, []DaemonState{{"corosync", "killed", "by signal 9"}, {"pacemaker", "running", ""}}},
		{"leftovers-corosync-partition.txt", 5, []DaemonState{{"corosync", "running", ""}, {"pacemaker", "running", ""}}},
		{"leftovers-corosync-stopped.txt", 0, []DaemonState{{"corosync", "stopped", ""}, {"pacemaker", "stopped", ""}}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			nc := NodeCheck{Node: "node1", Created: true, Running: true}
			ParseNodeCheck(&nc, string(readTestdata(t, c.file)))
			if len(nc.Partition) != c.partition {
				t.Errorf("partition rules = %q, want %d", nc.Partition, c.partition)
			}
			if !slices.Equal(nc.Daemons, c.daemons) {
				t.Errorf("daemons = %+v, want %+v", nc.Daemons, c.daemons)
			}
		})
	}
	// Without systemd (precise): the pid file tells a killed daemon.
	nc := NodeCheck{}
	ParseNodeCheck(&nc, "daemon heartbeat killed its pid file /var/run/heartbeat.pid is left\ndaemon\ngarbage line\n")
	if want := []DaemonState{{"heartbeat", "killed", "its pid file /var/run/heartbeat.pid is left"}}; !slices.Equal(nc.Daemons, want) {
		t.Errorf("daemons = %+v", nc.Daemons)
	}
}

func nodeCheck(t *testing.T, node, file string) NodeCheck {
	t.Helper()
	nc := NodeCheck{Node: node, Created: true, Running: true}
	ParseNodeCheck(&nc, string(readTestdata(t, file)))
	return nc
}

func leftoverKinds(l []Leftover) []string {
	var k []string
	for _, x := range l {
		k = append(k, x.Node+" "+x.Kind)
	}
	return k
}

func nodeCheckOf(node, out string) NodeCheck {
	nc := NodeCheck{Node: node, Created: true, Running: true}
	ParseNodeCheck(&nc, out)
	return nc
}

// What the packet faults' rules drop, in words.
func TestDropWhat(t *testing.T) {
	loss := []string{"-N HALAB-DROP", "-A INPUT -i eth1 -j HALAB-DROP", "-A OUTPUT -o eth1 -j HALAB-DROP",
		"-A HALAB-DROP -d 192.168.56.12/32 -p udp -m statistic --mode random --probability 0.50000000000 -j DROP"}
	if got := dropWhat(loss); got != "the HALAB-DROP chain drops 50 % of the cluster packets to and from its peer" {
		t.Errorf("loss: %q", got)
	}
	oneWay := []string{"-N HALAB-DROP", "-A OUTPUT -o eth1 -j HALAB-DROP", "-A HALAB-DROP -d 192.168.56.12/32 -p udp -j DROP"}
	if got := dropWhat(oneWay); got != "the HALAB-DROP chain drops all of the cluster packets that it sends (a one-way partition)" {
		t.Errorf("one-way: %q", got)
	}
}

func TestFindLeftovers(t *testing.T) {
	running := "daemon corosync running\ndaemon pacemaker running\n"
	ok := func(n string) NodeCheck {
		nc := NodeCheck{Node: n, Created: true, Running: true}
		ParseNodeCheck(&nc, running)
		return nc
	}
	healthyXML := string(readTestdata(t, "crm_mon-2.1-healthy.xml"))
	cases := []struct {
		name   string
		checks []NodeCheck
		audit  *Audit
		want   []string
	}{
		{"healthy", []NodeCheck{ok("node1"), ok("node2")}, auditOf(t, "corosync", map[string]string{
			"node1": "vip yes\nservice 0\n--- crm_mon\n" + healthyXML,
			"node2": "vip no\nservice 3\n--- crm_mon\n" + healthyXML,
		}), nil},
		{"partition", []NodeCheck{ok("node1"), nodeCheck(t, "node2", "leftovers-corosync-partition.txt")}, nil,
			[]string{"node2 partition"}},
		{"killed", []NodeCheck{nodeCheck(t, "node1", "leftovers-corosync-killed.txt"), ok("node2")}, nil,
			[]string{"node1 killed-daemon"}},
		{"stopped", []NodeCheck{nodeCheck(t, "node1", "leftovers-corosync-stopped.txt"), ok("node2")}, nil,
			[]string{"node1 stopped-daemon", "node1 stopped-daemon"}},
		{"powered off", []NodeCheck{ok("node1"), {Node: "node2", Created: true}}, nil,
			[]string{"node2 powered-off"}},
		{"paused", []NodeCheck{ok("node1"), {Node: "node2", Created: true, Running: true, Paused: true}}, nil,
			[]string{"node2 paused"}},
		{"frozen daemon, packet loss", []NodeCheck{nodeCheckOf("node1", "drop -N HALAB-DROP\ndrop -A INPUT -i eth1 -j HALAB-DROP\n"+
			"drop -A OUTPUT -o eth1 -j HALAB-DROP\ndrop -A HALAB-DROP -d 192.168.56.12/32 -p udp -m statistic --mode random --probability 0.20000000019 -j DROP\n"+
			"daemon corosync frozen\ndaemon pacemaker running\n"), ok("node2")}, nil,
			[]string{"node1 packet-fault", "node1 frozen-daemon"}},
		// Never created is not a fault (status shows not_created); a
		// provider that does not answer tells nothing.
		{"not created, provider error", []NodeCheck{{Node: "node1"}, {Node: "node2", Created: true, Err: "docker: daemon down"}}, nil, nil},
		{"standby, from the view that says so", []NodeCheck{ok("node1"), ok("node2")}, auditOf(t, "corosync", map[string]string{
			"node1": "vip yes\nservice 0\n--- crm_mon\n" + string(readTestdata(t, "crm_mon-2.1-standby.xml")),
		}), []string{"node2 standby"}},
		{"fail count", []NodeCheck{ok("node1"), ok("node2")}, auditOf(t, "corosync", map[string]string{
			"node1": "vip yes\nservice 0\n--- crm_mon\n" + string(readTestdata(t, "crm_mon-2.1-failcount.xml")),
		}), []string{"node2 fail-count"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := FindLeftovers(c.checks, c.audit)
			if !slices.Equal(leftoverKinds(got), c.want) {
				t.Fatalf("leftovers = %+v, want %v", got, c.want)
			}
			for _, l := range got {
				if l.Heal != "halab fault heal "+l.Node || l.What == "" {
					t.Errorf("%+v: want what it is and `halab fault heal %s`", l, l.Node)
				}
			}
		})
	}
}

func TestLeftoverWords(t *testing.T) {
	got := FindLeftovers([]NodeCheck{
		nodeCheck(t, "node1", "leftovers-corosync-killed.txt"),
		nodeCheck(t, "node2", "leftovers-corosync-partition.txt"),
	}, auditOf(t, "corosync", map[string]string{
		"node1": "vip yes\nservice 0\n--- crm_mon\n" + string(readTestdata(t, "crm_mon-2.1-failcount.xml")),
	}))
	var lines []string
	for _, l := range got {
		lines = append(lines, l.Node+": "+l.What)
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{
		"node1: corosync was killed (by SIGKILL)",
		"node2: the HALAB-PARTITION chain drops its cluster traffic with 192.168.88.11",
		"node2: fail counts not cleared: STRATOS 1",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("leftovers lack %q:\n%s", want, all)
		}
	}
	if HealCommand("") != "halab fault heal" {
		t.Errorf("heal all = %q", HealCommand(""))
	}
}
