package lab

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// The fencing section: defaults (none, the article's), overlays, every bad
// value refused with its field named, and the endpoint's address.
func TestFencingConfig(t *testing.T) {
	cfg := mustParse(t, "name: halab\n")
	if cfg.FencingOn() {
		t.Error("fencing is on by default; the article runs stonith-enabled=false")
	}
	if want := (Fencing{Agent: "none", Port: DefaultFencePort, RaceGuard: "auto", Delay: 5}); !reflect.DeepEqual(cfg.Fencing, want) {
		t.Errorf("defaults = %+v, want %+v", cfg.Fencing, want)
	}
	if got := cfg.FenceEndpoint(); got != "192.168.56.1:2386" {
		t.Errorf("FenceEndpoint() = %q, want the subnet's first address", got)
	}
	if got := cfg.MachineName("node2"); got != "halab-node2" {
		t.Errorf("MachineName(node2) = %q (the Vagrantfile names machines NAME-NODE)", got)
	}

	on := mustParse(t, "fencing: {agent: auto, address: 192.168.56.254, port: 3000, race_guard: static, delay: 12}\n")
	if !on.FencingOn() || on.FenceEndpoint() != "192.168.56.254:3000" || on.Fencing.RaceGuard != "static" || on.Fencing.Delay != 12 {
		t.Errorf("parsed %+v, endpoint %s", on.Fencing, on.FenceEndpoint())
	}
	// race_guard none needs no delay.
	mustParse(t, "fencing: {agent: auto, race_guard: none, delay: 0}\n")
	// With fencing off, a node on the subnet's first address is fine.
	mustParse(t, nodesYAML("{name: node1, ip: 192.168.56.1}", "{name: node2, ip: 192.168.56.12}"))

	cases := []struct {
		name, in, field, msg string
	}{
		{"agent unknown", "fencing: {agent: fence_docker}", "fencing.agent", `"fence_docker": use one of none, auto`},
		{"agent empty", "fencing: {agent: ''}", "fencing.agent", "use one of none, auto"},
		{"port low", "fencing: {port: 80}", "fencing.port", "80: a host port from 1024 to 65535"},
		{"port high", "fencing: {port: 70000}", "fencing.port", "70000"},
		{"guard unknown", "fencing: {race_guard: delay}", "fencing.race_guard", `"delay": use one of auto, priority, random, static, none`},
		{"delay zero", "fencing: {delay: 0}", "fencing.delay", "0 s: from 1 to 30"},
		{"delay long", "fencing: {delay: 31}", "fencing.delay", "31 s: from 1 to 30"},
		{"address not an IP", "fencing: {address: gateway}", "fencing.address", `"gateway": not an IPv4 address`},
		{"address IPv6", "fencing: {address: '::1'}", "fencing.address", "not an IPv4 address"},
		{"address off the subnet", "fencing: {address: 10.0.0.1}", "fencing.address", "not in the lab's subnet 192.168.56.0/24"},
		{"address the network", "fencing: {address: 192.168.56.0}", "fencing.address", "network or broadcast"},
		{"address the broadcast", "fencing: {address: 192.168.56.255}", "fencing.address", "network or broadcast"},
		{"address the VIP", "fencing: {address: 192.168.56.20}", "fencing.address", "same address as vip.address"},
		{"address a node", "fencing: {address: 192.168.56.12}", "fencing.address", "same address as nodes[1]"},
		{"default address taken by a node", nodesYAML("{name: node1, ip: 192.168.56.1}", "{name: node2, ip: 192.168.56.12}") + "fencing: {agent: auto}",
			"fencing.address", "192.168.56.1: same address as nodes[0] (the default, the subnet's first address: set fencing.address"},
		{"default address taken by the VIP", "vip: {address: 192.168.56.1}\nfencing: {agent: auto}", "fencing.address", "same address as vip.address (the default"},
		{"unknown key", "fencing: {agnet: auto}", "fencing.agnet", `unknown key (did you mean "agent"?)`},
		{"race key typo", "fencing: {race_gaurd: static}", "fencing.race_gaurd", `did you mean "race_guard"?`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in+"\n"), "lab.yaml")
			if err == nil {
				t.Fatalf("accepted %q", c.in)
			}
			if !IsConfigError(err) {
				t.Fatalf("not a ConfigError: %v", err)
			}
			found := false
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.Contains(line, c.field+": ") && strings.Contains(line, c.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("no line naming %s with %q:\n%v", c.field, c.msg, err)
			}
		})
	}
}

// The trust model's base: nothing of the Docker engine is handed to a
// node. The containers the Vagrantfile makes mount no Docker socket (nor
// /run or /var/run of the host), get no DOCKER_HOST, are not privileged;
// the node image carries no Docker client. A node reaches the host only
// through the fence endpoint, whose machine names are the Vagrantfile's.
func TestNodesGetNoDockerSocket(t *testing.T) {
	cfg := Defaults()
	cfg.Fencing.Agent = FenceAgentAuto
	id := NewIdentity(cfg.Name, "/somewhere/lab.yaml")
	nodes := vagrantPlan(t, &cfg, "HALAB_LAB_ID="+id.ID, "HALAB_LAB_CONFIG="+id.Config, "HALAB_DOCKER_IMAGE=halab/node:abc")
	for _, n := range cfg.Nodes {
		plan := nodes[n.Name]
		for _, bad := range []string{"docker.sock", "/var/run:", "/run:/run", "DOCKER_HOST", "--privileged", ":2375", ":2376", "--pid=host", "--network=host", "--net=host"} {
			if strings.Contains(plan, bad) {
				t.Errorf("%s: the container plan has %q:\n%s", n.Name, bad, plan)
			}
		}
		if !strings.Contains(plan, `"name":"`+cfg.MachineName(n.Name)+`"`) {
			t.Errorf("%s: the machine is not named %s (the fence host map's name):\n%s", n.Name, cfg.MachineName(n.Name), plan)
		}
	}
	for _, f := range []string{"../images/Dockerfile", "../images/build.sh"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"docker.sock", "docker.io", "docker-ce", "DOCKER_HOST"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s has %q: a node would carry Docker", f, bad)
			}
		}
	}
}
