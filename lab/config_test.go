package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// repoLabYAML is the lab.yaml shipped at the repository root.
const repoLabYAML = "../lab.yaml"

// asConfigError fails the test unless err is a *ConfigError and returns it.
func asConfigError(t *testing.T, err error) *ConfigError {
	t.Helper()
	if err == nil {
		t.Fatal("err = nil, want a *ConfigError")
	}
	if !IsConfigError(err) {
		t.Fatalf("err = %T %v, want a *ConfigError", err, err)
	}
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("errors.As(%T) failed although IsConfigError said yes", err)
	}
	return ce
}

// parseProblems parses in (as lab.yaml) and returns its problems; it fails
// the test if Parse accepts the input.
func parseProblems(t *testing.T, in string) []string {
	t.Helper()
	cfg, err := Parse([]byte(in), "lab.yaml")
	if err == nil {
		t.Fatalf("Parse accepted:\n%s\nconfig: %+v", in, cfg)
	}
	if cfg != nil {
		t.Errorf("Parse returned a config along with error %v", err)
	}
	ce := asConfigError(t, err)
	if ce.File != "lab.yaml" {
		t.Errorf("ConfigError.File = %q, want lab.yaml", ce.File)
	}
	if len(ce.Problems) == 0 {
		t.Fatalf("ConfigError without problems: %v", err)
	}
	return ce.Problems
}

func mustParse(t *testing.T, in string) *Config {
	t.Helper()
	cfg, err := Parse([]byte(in), "lab.yaml")
	if err != nil {
		t.Fatalf("Parse(\n%s) = %v", in, err)
	}
	if cfg == nil {
		t.Fatal("Parse returned neither config nor error")
	}
	return cfg
}

// nodesYAML is a nodes: block with one flow mapping per item.
func nodesYAML(items ...string) string {
	var b strings.Builder
	b.WriteString("nodes:\n")
	for _, it := range items {
		b.WriteString("  - " + it + "\n")
	}
	return b.String()
}

const (
	node1 = "{name: node1, ip: 192.168.56.11}"
	node2 = "{name: node2, ip: 192.168.56.12}"
)

func TestParseRepoLabYAML(t *testing.T) {
	data, err := os.ReadFile(repoLabYAML)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(data, repoLabYAML)
	if err != nil {
		t.Fatalf("Parse(%s) = %v", repoLabYAML, err)
	}
	want := Defaults()
	want.Path = repoLabYAML
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("repo lab.yaml differs from Defaults():\n got %+v\nwant %+v", *cfg, want)
	}

	loaded, err := Load(repoLabYAML)
	if err != nil {
		t.Fatalf("Load(%s) = %v", repoLabYAML, err)
	}
	if !reflect.DeepEqual(loaded, cfg) {
		t.Errorf("Load and Parse disagree:\n Load %+v\nParse %+v", *loaded, *cfg)
	}

	// The helpers on the default lab.
	if got := cfg.NodeNames(); !reflect.DeepEqual(got, []string{"node1", "node2"}) {
		t.Errorf("NodeNames() = %v", got)
	}
	if n, ok := cfg.Node("node2"); !ok || n.IP != "192.168.56.12" {
		t.Errorf("Node(node2) = %+v, %v", n, ok)
	}
	if n, ok := cfg.Node("node3"); ok {
		t.Errorf("Node(node3) = %+v, true; want not found", n)
	}
	if got := cfg.Prefix(); got != 24 {
		t.Errorf("Prefix() = %d, want 24", got)
	}
	if got := cfg.DottedNetmask(); got != "255.255.255.0" {
		t.Errorf("DottedNetmask() = %q", got)
	}
	if got, want := cfg.Dir(), ".."; got != want {
		t.Errorf("Dir() = %q, want %q", got, want)
	}
	wantJDK, _ := filepath.Abs("../build/jdk.tar.gz")
	if got := cfg.Resolve(cfg.Service.JDKArchive); got != wantJDK {
		t.Errorf("Resolve(jdk_archive) = %q, want %q", got, wantJDK)
	}
}

// The defaults themselves must be a valid lab: an almost empty lab.yaml
// means them.
func TestDefaultsAreValid(t *testing.T) {
	c := Defaults()
	if p := c.validate(); len(p) > 0 {
		t.Fatalf("Defaults() does not validate:\n%s", strings.Join(p, "\n"))
	}
	cfg := mustParse(t, "name: halab\n")
	want := Defaults()
	want.Path = "lab.yaml"
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("name-only lab.yaml:\n got %+v\nwant %+v", *cfg, want)
	}
}

// Parse decodes over Defaults(): a struct given in part keeps the other
// defaults, a list (nodes) is replaced as a whole.
func TestParseOverlaysDefaults(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want func(*Config)
	}{
		{"one timing", "timings:\n  deadtime: 30\n", func(c *Config) { c.Timings.Deadtime = 30 }},
		{"fast profile", "timings: {profile: fast}\n", func(c *Config) { c.Timings = timingProfiles["fast"] }},
		{"fast profile, one timing of its own", "timings: {profile: fast, token_ms: 2000, consensus_ms: 2400}\n", func(c *Config) {
			c.Timings = timingProfiles["fast"]
			c.Timings.TokenMS, c.Timings.ConsensusMS = 2000, 2400
		}},
		{"dc_deadtime", "timings: {dc_deadtime: 10}\n", func(c *Config) { c.Timings.DCDeadtime = 10 }},
		{"vip nic only", "vip: {nic: enp0s8}\n", func(c *Config) { c.VIP.NIC = "enp0s8" }},
		{"nested provider", "providers:\n  virtualbox:\n    memory: 2048\n", func(c *Config) { c.Providers.VirtualBox.Memory = 2048 }},
		{"docker base image", "providers: {docker: {base_image: debian:12}}\n", func(c *Config) { c.Providers.Docker.BaseImage = "debian:12" }},
		{"docker ssh port", "providers: {docker: {ssh_port: 2300}}\n", func(c *Config) { c.Providers.Docker.SSHPort = 2300 }},
		{"nodes replaced", nodesYAML("{name: alpha, ip: 192.168.56.31}", "{name: beta, ip: 192.168.56.32}"), func(c *Config) {
			c.Nodes = []NodeSpec{{Name: "alpha", IP: "192.168.56.31"}, {Name: "beta", IP: "192.168.56.32"}}
		}},
		{"null keeps default", "service: {port: ~}\n", func(c *Config) {}},
		{"empty struct keeps defaults", "timings: {}\ncrm:\n", func(c *Config) {}},
		{"number as string field", "vip: {netmask: 24}\n", func(c *Config) { c.VIP.Netmask = "24" }},
		{"optional files", "service:\n  product_archive: dist/product.zip\n  init_script: my.init\n", func(c *Config) {
			c.Service.ProductArchive = "dist/product.zip"
			c.Service.InitScript = "my.init"
		}},
		{"crm", "crm: {resource_stickiness: 100, migration_threshold: 3}\n", func(c *Config) {
			c.CRM = CRM{ResourceStickiness: 100, MigrationThreshold: 3}
		}},
		{"only comments after a key", "stack: corosync # Debian 12\n# trailing comment\n", func(c *Config) { c.Stack = "corosync" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := mustParse(t, c.in)
			want := Defaults()
			want.Path = "lab.yaml"
			c.want(&want)
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("\n got %+v\nwant %+v", *got, want)
			}
		})
	}
}

func TestParseNotAConfig(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", "file is empty"},
		{"whitespace", " \n\t\n   \r\n", "file is empty"},
		{"comment only", "# nothing here\n", "top level must be a mapping"},
		{"document marker only", "---\n", "top level must be a mapping"},
		{"null", "~\n", "top level must be a mapping"},
		{"scalar", "just some text\n", "top level must be a mapping"},
		{"number", "42\n", "top level must be a mapping"},
		{"block list", "- name: node1\n- name: node2\n", "top level must be a mapping"},
		{"flow list", "[name, nodes]\n", "top level must be a mapping"},
		{"unclosed flow", "name: [halab\n", "not valid YAML"},
		{"unclosed quote", "name: \"halab\n", "not valid YAML"},
		{"tab indent", "timings:\n\tdeadtime: 20\n", "not valid YAML: line 2"},
		{"mapping in scalar", "a: b: c\n", "not valid YAML: mapping values are not allowed"},
		{"bad indentation", "vip:\n    address: 1.2.3.4\n  nic: eth1\n", "not valid YAML"},
		{"control characters", "\x00\x01\x02", "not valid YAML: control characters"},
		{"undefined alias", "name: *nope\n", "not valid YAML"},
		{"json garbage", "{\"name\": ", "not valid YAML"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			problems := parseProblems(t, c.in)
			if len(problems) != 1 {
				t.Errorf("got %d problems, want 1:\n%s", len(problems), strings.Join(problems, "\n"))
			}
			_, err := Parse([]byte(c.in), "lab.yaml")
			msg := err.Error()
			if !strings.HasPrefix(msg, "lab.yaml: ") || !strings.Contains(msg, c.want) {
				t.Errorf("error = %q, want it to start with the file name and contain %q", msg, c.want)
			}
			if strings.Contains(msg, "yaml: yaml:") || strings.Contains(msg, ": yaml: ") {
				t.Errorf("error = %q repeats the yaml package's prefix", msg)
			}
		})
	}
}

// validationCase is one broken value: the lab.yaml snippet (decoded over the
// defaults), the field prefixes of the problems expected, in order, and a
// fragment of the first problem's explanation.
type validationCase struct {
	name   string
	in     string
	fields []string
	msg    string
}

func validationCases() []validationCase {
	long := strings.Repeat("a", 64)
	cases := []validationCase{
		// name
		{"name empty", `name: ""`, []string{"name: "}, "lowercase letters"},
		{"name uppercase", "name: HaLab", []string{"name: "}, `"HaLab"`},
		{"name underscore", "name: ha_lab", []string{"name: "}, ""},
		{"name leading dash", "name: -halab", []string{"name: "}, ""},
		{"name trailing dash", "name: halab-", []string{"name: "}, ""},
		{"name space", `name: "ha lab"`, []string{"name: "}, ""},
		{"name dot", "name: ha.lab", []string{"name: "}, ""},
		{"name 64 chars", "name: " + long, []string{"name: "}, ""},

		// provider, stack
		{"provider unknown", "provider: vmware", []string{"provider: "}, "unknown provider (use one of auto, virtualbox, docker, ssh)"},
		{"provider case", "provider: Docker", []string{"provider: "}, `"Docker"`},
		{"provider empty", `provider: ""`, []string{"provider: "}, ""},
		{"stack empty", `stack: ""`, []string{"stack: "}, ""},

		// vip.address
		{"vip octet too big", "vip: {address: 192.168.56.256}", []string{"vip.address: "}, "not an IPv4 address"},
		{"vip three octets", "vip: {address: 192.168.56}", []string{"vip.address: "}, "not an IPv4 address"},
		{"vip empty", `vip: {address: ""}`, []string{"vip.address: "}, "not an IPv4 address"},
		{"vip ipv6", `vip: {address: "fe80::20"}`, []string{"vip.address: "}, "not an IPv4 address"},
		{"vip ipv4-mapped ipv6", `vip: {address: "::ffff:192.168.56.20"}`, []string{"vip.address: "}, "not an IPv4 address"},
		{"vip hostname", "vip: {address: vip.lab}", []string{"vip.address: "}, "not an IPv4 address"},
		{"vip cidr", "vip: {address: 192.168.56.20/24}", []string{"vip.address: "}, "not an IPv4 address"},
		{"vip network address", "vip: {address: 192.168.56.0}", []string{"vip.address: "}, "192.168.56.0 is the network or broadcast address of 192.168.56.0/24"},
		{"vip broadcast address", "vip: {address: 192.168.56.255}", []string{"vip.address: "}, "is the network or broadcast address of 192.168.56.0/24"},
		{"vip broadcast of /16", "vip: {address: 192.168.255.255, netmask: 255.255.0.0}", []string{"vip.address: "}, "of 192.168.0.0/16"},
		{"vip network of /29", "vip: {address: 192.168.56.8, netmask: /29}\n" + nodesYAML("{name: node1, ip: 192.168.56.9}", "{name: node2, ip: 192.168.56.10}"),
			[]string{"vip.address: "}, "of 192.168.56.8/29"},

		// vip.netmask
		{"netmask not contiguous", "vip: {netmask: 255.0.255.0}", []string{"vip.netmask: "}, "not a contiguous netmask"},
		{"netmask low bit", "vip: {netmask: 255.255.255.1}", []string{"vip.netmask: "}, "not a contiguous netmask"},
		{"netmask inverted", "vip: {netmask: 0.0.0.255}", []string{"vip.netmask: "}, "not a contiguous netmask"},
		{"netmask /32 dotted", "vip: {netmask: 255.255.255.255}", []string{"vip.netmask: "}, "/32 leaves no room for two nodes and a VIP"},
		{"netmask /31 dotted", "vip: {netmask: 255.255.255.254}", []string{"vip.netmask: "}, "/31 leaves no room"},
		{"netmask /30 dotted", "vip: {netmask: 255.255.255.252}", []string{"vip.netmask: "}, "/30 leaves no room"},
		{"netmask /7 dotted", "vip: {netmask: 254.0.0.0}", []string{"vip.netmask: "}, "/7 leaves no room"},
		{"netmask /0 dotted", "vip: {netmask: 0.0.0.0}", []string{"vip.netmask: "}, "/0 leaves no room"},
		{"netmask prefix 31", `vip: {netmask: "31"}`, []string{"vip.netmask: "}, "/31 leaves no room"},
		{"netmask prefix /30", "vip: {netmask: /30}", []string{"vip.netmask: "}, "/30 leaves no room"},
		{"netmask prefix /7", "vip: {netmask: /7}", []string{"vip.netmask: "}, "/7 leaves no room"},
		{"netmask prefix 0", "vip: {netmask: 0}", []string{"vip.netmask: "}, "/0 leaves no room"},
		{"netmask prefix 33", `vip: {netmask: "33"}`, []string{"vip.netmask: "}, "prefix length must be 0-32"},
		{"netmask prefix /33", "vip: {netmask: /33}", []string{"vip.netmask: "}, "prefix length must be 0-32"},
		{"netmask prefix negative", `vip: {netmask: "-1"}`, []string{"vip.netmask: "}, "prefix length must be 0-32"},
		{"netmask empty", `vip: {netmask: ""}`, []string{"vip.netmask: "}, "missing"},
		{"netmask word", "vip: {netmask: abc}", []string{"vip.netmask: "}, "not a netmask"},
		{"netmask cidr", "vip: {netmask: 255.255.255.0/24}", []string{"vip.netmask: "}, "not a netmask"},
		{"netmask ipv6", `vip: {netmask: "ffff:ffff:ffff:ff00::"}`, []string{"vip.netmask: "}, "not a netmask"},

		// vip.nic
		{"nic empty", `vip: {nic: ""}`, []string{"vip.nic: "}, "not a network interface name"},
		{"nic leading digit", "vip: {nic: 1eth}", []string{"vip.nic: "}, ""},
		{"nic space", `vip: {nic: "eth 1"}`, []string{"vip.nic: "}, ""},
		{"nic shell", "vip: {nic: eth1;reboot}", []string{"vip.nic: "}, ""},
		{"nic substitution", `vip: {nic: "eth$(id)"}`, []string{"vip.nic: "}, ""},
		{"nic 16 chars", "vip: {nic: abcdefghijklmnop}", []string{"vip.nic: "}, ""},

		// node count
		{"one node", nodesYAML(node1), []string{"nodes: "}, "1 nodes given: a halab lab has exactly two nodes"},
		{"three nodes", nodesYAML(node1, node2, "{name: node3, ip: 192.168.56.13}"), []string{"nodes: "}, "3 nodes given"},
		{"no nodes", "nodes: []", []string{"nodes: "}, "0 nodes given"},
		{"nodes null", "nodes: ~", []string{"nodes: "}, "0 nodes given"},
		{"nodes empty value", "nodes:\n", []string{"nodes: "}, "0 nodes given"},

		// node names
		{"node name missing", nodesYAML(node1, "{ip: 192.168.56.12}"), []string{"nodes[1].name: "}, "missing (e.g. node2)"},
		{"first node name missing", nodesYAML("{ip: 192.168.56.11}", node2), []string{"nodes[0].name: "}, "missing (e.g. node1)"},
		{"node name empty", nodesYAML(node1, `{name: "", ip: 192.168.56.12}`), []string{"nodes[1].name: "}, "missing"},
		{"node name uppercase", nodesYAML(node1, "{name: Node2, ip: 192.168.56.12}"), []string{"nodes[1].name: "}, `"Node2": not usable as a hostname`},
		{"node name underscore", nodesYAML(node1, "{name: node_2, ip: 192.168.56.12}"), []string{"nodes[1].name: "}, "not usable as a hostname"},
		{"node name dotted", nodesYAML(node1, "{name: node2.lab, ip: 192.168.56.12}"), []string{"nodes[1].name: "}, "not usable as a hostname"},
		{"node name leading dash", nodesYAML(node1, "{name: -node2, ip: 192.168.56.12}"), []string{"nodes[1].name: "}, "not usable as a hostname"},
		{"node name space", nodesYAML(node1, `{name: "node 2", ip: 192.168.56.12}`), []string{"nodes[1].name: "}, "not usable as a hostname"},
		{"node name 64 chars", nodesYAML(node1, "{name: "+long+", ip: 192.168.56.12}"), []string{"nodes[1].name: "}, "not usable as a hostname"},
		{"node name duplicate", nodesYAML(node1, "{name: node1, ip: 192.168.56.12}"), []string{"nodes[1].name: "}, `"node1": same name as nodes[0]`},

		// node addresses
		{"node ip octet too big", nodesYAML(node1, "{name: node2, ip: 192.168.56.300}"), []string{"nodes[1].ip: "}, `"192.168.56.300": not an IPv4 address`},
		{"node ip missing", nodesYAML(node1, "{name: node2}"), []string{"nodes[1].ip: "}, `"": not an IPv4 address`},
		{"node ip ipv6", nodesYAML(node1, `{name: node2, ip: "fe80::12"}`), []string{"nodes[1].ip: "}, "not an IPv4 address"},
		{"node ip hostname", nodesYAML(node1, "{name: node2, ip: node2.lab}"), []string{"nodes[1].ip: "}, "not an IPv4 address"},
		{"node ip cidr", nodesYAML(node1, "{name: node2, ip: 192.168.56.12/24}"), []string{"nodes[1].ip: "}, "not an IPv4 address"},
		{"first node ip invalid", nodesYAML("{name: node1, ip: x}", node2), []string{"nodes[0].ip: "}, "not an IPv4 address"},
		{"node ip duplicate", nodesYAML(node1, "{name: node2, ip: 192.168.56.11}"), []string{"nodes[1].ip: "}, "192.168.56.11: same address as nodes[0]"},
		{"node ip is vip", nodesYAML(node1, "{name: node2, ip: 192.168.56.20}"), []string{"nodes[1].ip: "}, "192.168.56.20: same address as vip.address"},
		{"first node ip is vip", nodesYAML("{name: node1, ip: 192.168.56.20}", node2), []string{"nodes[0].ip: "}, "same address as vip.address"},
		{"node ip other subnet", nodesYAML(node1, "{name: node2, ip: 192.168.57.12}"), []string{"nodes[1].ip: "}, "192.168.57.12: not in the VIP's subnet 192.168.56.0/24"},
		{"node ip far subnet", nodesYAML(node1, "{name: node2, ip: 10.0.0.12}"), []string{"nodes[1].ip: "}, "not in the VIP's subnet"},
		{"node ip network address", nodesYAML(node1, "{name: node2, ip: 192.168.56.0}"), []string{"nodes[1].ip: "}, "192.168.56.0 is the network or broadcast address of 192.168.56.0/24"},
		{"node ip broadcast address", nodesYAML(node1, "{name: node2, ip: 192.168.56.255}"), []string{"nodes[1].ip: "}, "192.168.56.255 is the network or broadcast address"},
		{"both nodes bad", nodesYAML("{name: Node1, ip: 192.168.56.0}", "{name: node2, ip: 192.168.57.12}"),
			[]string{"nodes[0].name: ", "nodes[0].ip: ", "nodes[1].ip: "}, ""},

		// providers
		{"virtualbox box missing", `providers: {virtualbox: {box: ""}}`, []string{"providers.virtualbox.box: "}, "missing"},
		{"virtualbox memory 255", "providers: {virtualbox: {memory: 255}}", []string{"providers.virtualbox.memory: "}, "255 MB: at least 256"},
		{"virtualbox memory zero", "providers: {virtualbox: {memory: 0}}", []string{"providers.virtualbox.memory: "}, "at least 256"},
		{"virtualbox memory negative", "providers: {virtualbox: {memory: -1024}}", []string{"providers.virtualbox.memory: "}, "at least 256"},
		{"virtualbox cpus zero", "providers: {virtualbox: {cpus: 0}}", []string{"providers.virtualbox.cpus: "}, "0: at least 1"},
		{"virtualbox cpus negative", "providers: {virtualbox: {cpus: -2}}", []string{"providers.virtualbox.cpus: "}, "at least 1"},
		{"docker image empty", `providers: {docker: {image: ""}}`, []string{"providers.docker.image: "}, "not a docker image name without tag"},
		{"docker image uppercase", "providers: {docker: {image: Halab/node}}", []string{"providers.docker.image: "}, ""},
		{"docker image tag", "providers: {docker: {image: halab/node:latest}}", []string{"providers.docker.image: "}, ""},
		{"docker image double slash", "providers: {docker: {image: halab//node}}", []string{"providers.docker.image: "}, ""},
		{"docker image leading slash", "providers: {docker: {image: /halab/node}}", []string{"providers.docker.image: "}, ""},
		{"docker ssh port low", "providers: {docker: {ssh_port: 22}}", []string{"providers.docker.ssh_port: "}, "a host port from 1024"},
		{"docker ssh port high", "providers: {docker: {ssh_port: 65535}}", []string{"providers.docker.ssh_port: "}, "node i uses ssh_port+i"},
		{"docker image trailing slash", "providers: {docker: {image: halab/node/}}", []string{"providers.docker.image: "}, ""},
		{"docker image space", `providers: {docker: {image: "halab node"}}`, []string{"providers.docker.image: "}, ""},

		// timings relations
		{"unknown timing profile", "timings: {profile: slow}", []string{"timings.profile: "}, `"slow": use one of article, fast`},
		{"dc_deadtime negative", "timings: {dc_deadtime: -1}", []string{"timings.dc_deadtime: "}, "-1: must be zero (Pacemaker's default) or more"},
		// token_ms*12 must not wrap around and let a tiny consensus through.

		// service
		{"service name empty", `service: {name: ""}`, []string{"service.name: "}, "/etc/init.d/<name>"},
		{"service name uppercase", "service: {name: Stratos}", []string{"service.name: "}, ""},
		{"service name leading digit", "service: {name: 1stratos}", []string{"service.name: "}, ""},
		{"service name dot", "service: {name: stratos.d}", []string{"service.name: "}, ""},
		{"service name slash", "service: {name: ../stratos}", []string{"service.name: "}, ""},
		{"service name shell", `service: {name: "stratos;reboot"}`, []string{"service.name: "}, ""},
		{"service name space", `service: {name: "strat os"}`, []string{"service.name: "}, ""},
		{"service name 64 chars", "service: {name: " + long + "}", []string{"service.name: "}, ""},
		{"user empty", `service: {user: ""}`, []string{"service.user: "}, "not a valid user name"},
		{"user uppercase", "service: {user: Vagrant}", []string{"service.user: "}, ""},
		{"user leading digit", "service: {user: 1user}", []string{"service.user: "}, ""},
		{"user space", `service: {user: "vag rant"}`, []string{"service.user: "}, ""},
		{"user shell", `service: {user: "root;id"}`, []string{"service.user: "}, ""},
		{"user dollar", `service: {user: "user$"}`, []string{"service.user: "}, ""},
		{"user 33 chars", "service: {user: " + strings.Repeat("u", 33) + "}", []string{"service.user: "}, ""},
		{"port zero", "service: {port: 0}", []string{"service.port: "}, "0: not a TCP port (1-65535)"},
		{"port negative", "service: {port: -1}", []string{"service.port: "}, "not a TCP port"},
		{"port 65536", "service: {port: 65536}", []string{"service.port: "}, "not a TCP port"},
		{"jdk_archive missing", `service: {jdk_archive: ""}`, []string{"service.jdk_archive: "}, "missing: run `make jdk`"},
		{"start_timeout zero", "service: {start_timeout: 0}", []string{"service.start_timeout: "}, "0: must be greater than zero"},
		{"start_timeout negative", "service: {start_timeout: -5}", []string{"service.start_timeout: "}, "must be greater than zero"},
		{"stop_timeout zero", "service: {stop_timeout: 0}", []string{"service.stop_timeout: "}, "must be greater than zero"},
		{"stop_timeout negative", "service: {stop_timeout: -5}", []string{"service.stop_timeout: "}, "must be greater than zero"},

		// crm
	}

	// Every timing must be positive; a non-positive one is reported alone
	// (the relations between timings are not checked against it).
	for _, f := range []string{"keepalive", "warntime", "deadtime", "initdead", "token_ms", "consensus_ms"} {
		for _, v := range []int{0, -1} {
			cases = append(cases, validationCase{
				fmt.Sprintf("timings.%s %d", f, v),
				fmt.Sprintf("timings: {%s: %d}", f, v),
				[]string{"timings." + f + ": "},
				fmt.Sprintf("%d: must be greater than zero", v),
			})
		}
	}

	// Remote paths go into the init script unquoted: anything that is not
	// a clean absolute path of plain characters is refused.
	badPaths := []struct{ why, v string }{
		{"relative", "opt/jdk"},
		{"dot relative", "./opt/jdk"},
		{"tilde", "~/jdk"},
		{"dotdot inside", "/opt/../jdk"},
		{"dotdot at end", "/opt/jdk/.."},
		{"dotdot from root", "/.."},
		{"dot inside", "/opt/./jdk"},
		{"root", "/"},
		{"empty", ""},
		{"trailing slash", "/opt/jdk/"},
		{"double slash", "/opt//jdk"},
		{"space", "/opt/my jdk"},
		{"tab", "/opt/my\tjdk"},
		{"newline", "/opt/jdk\nreboot"},
		{"command substitution", "/opt/$(id)"},
		{"variable", "/opt/jdk$HOME"},
		{"backquotes", "/opt/`id`"},
		{"semicolon", "/opt/jdk;reboot"},
		{"pipe", "/opt/jdk|cat"},
		{"ampersand", "/opt/jdk&"},
		{"single quotes", "/opt/'jdk'"},
		{"double quotes", `/opt/"jdk"`},
		{"glob", "/opt/jdk*"},
		{"backslash", `/opt/jdk\x`},
		{"non-ascii", "/opt/jdké"},
	}
	for _, field := range []string{"java_home", "product_home"} {
		for _, p := range badPaths {
			cases = append(cases, validationCase{
				fmt.Sprintf("%s %s", field, p.why),
				fmt.Sprintf("service: {%s: %s}", field, strconv.Quote(p.v)),
				[]string{"service." + field + ": "},
				"must be an absolute path below /",
			})
		}
	}

	// java_home becomes a symlink (ln -sfn) and product_home a directory
	// the service user owns: a system directory, a parent of one, or a
	// path inside one would replace or give away the node's own files
	// (product_home /usr: chown vagrant /usr; java_home /bin: Debian 12's
	// /bin symlink replaced).
	systemPaths := []struct{ why, v, msg string }{
		{"usr", "/usr", "a system directory"},
		{"bin", "/bin", "a system directory"},
		{"etc", "/etc", "a system directory"},
		{"var", "/var", "a system directory"},
		{"lib", "/lib", "a system directory"},
		{"root home", "/root", "a system directory"},
		{"tmp", "/tmp", "a system directory"},
		{"inside usr", "/usr/lib/jvm/jdk", "inside /usr, a system directory"},
		{"inside usr bin", "/usr/bin/jdk", "inside /usr, a system directory"},
		{"inside etc", "/etc/stratos", "inside /etc, a system directory"},
		{"inside var", "/var/lib/stratos", "inside /var, a system directory"},
		{"inside tmp", "/tmp/jdk", "inside /tmp, a system directory"},
		{"opt itself", "/opt", "a system directory"},
		{"srv itself", "/srv", "a system directory"},
		{"usr local itself", "/usr/local", "a system directory"},
		{"home itself", "/home", "a system directory"},
		{"usr local bin", "/usr/local/bin", "a system directory"},
		{"usr local lib", "/usr/local/lib", "a system directory"},
		{"usr local share", "/usr/local/share", "a system directory"},
		{"inside usr local lib", "/usr/local/lib/jdk", "inside /usr/local/lib, a system directory"},
		{"inside usr local share", "/usr/local/share/ca-certificates", "inside /usr/local/share, a system directory"},
		{"halab store", "/opt/.halab", "halab's store of unpacked archives"},
		{"inside halab store", "/opt/.halab/jdk-0123456789ab", "inside /opt/.halab, halab's store"},
		{"user home", "/home/vagrant", "a user's home directory"},
		{"user ssh dir", "/home/vagrant/.ssh", "a user's own configuration directory"},
		{"inside user dot dir", "/home/vagrant/.config/jdk", "inside /home/vagrant/.config, a user's own configuration"},
		{"elsewhere", "/data/jdk", "not under /opt, /srv, /usr/local or /home/<user>"},
		{"vagrant share", "/vagrant/jdk", "not under /opt, /srv, /usr/local or /home/<user>"},
	}
	for _, field := range []string{"java_home", "product_home"} {
		for _, p := range systemPaths {
			cases = append(cases, validationCase{
				fmt.Sprintf("%s %s", field, p.why),
				fmt.Sprintf("service: {%s: %s}", field, p.v),
				[]string{"service." + field + ": "},
				fmt.Sprintf("%q: %s", p.v, p.msg),
			})
		}
	}
	cases = append(cases,
		validationCase{"product_home same as java_home", "service: {java_home: /opt/app, product_home: /opt/app}",
			[]string{"service.product_home: "}, "same as service.java_home"},
		validationCase{"product_home inside java_home", "service: {java_home: /opt/jdk, product_home: /opt/jdk/stratos}",
			[]string{"service.product_home: "}, `inside service.java_home "/opt/jdk"`},
		validationCase{"java_home inside product_home", "service: {java_home: /opt/stratos/jdk, product_home: /opt/stratos}",
			[]string{"service.java_home: "}, `inside service.product_home "/opt/stratos"`},
	)
	return cases
}

// The refusal of a system path says what to use instead.
func TestNodePathMessageSaysWhatToDo(t *testing.T) {
	probs := parseProblems(t, "service: {product_home: /usr}\n")
	want := `service.product_home: "/usr": a system directory; halab replaces java_home with a symlink and gives product_home to the service user: use a directory of its own under /opt, /srv, /usr/local or /home/<user> (e.g. /opt/jdk, /opt/stratos)`
	if len(probs) != 1 || probs[0] != want {
		t.Errorf("problems = %q, want [%q]", probs, want)
	}
}

func TestValidateRules(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range validationCases() {
		if seen[c.name] {
			t.Fatalf("duplicate case name %q", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			problems := parseProblems(t, c.in+"\n")
			_, err := Parse([]byte(c.in+"\n"), "lab.yaml")
			text := err.Error()
			for _, f := range c.fields {
				if !strings.Contains(text, "lab.yaml: "+f) {
					t.Errorf("error does not contain %q:\n%s", f, text)
				}
			}
			if len(problems) != len(c.fields) {
				t.Fatalf("got %d problems, want %d (%q):\n%s", len(problems), len(c.fields), c.fields, text)
			}
			for i, f := range c.fields {
				if !strings.HasPrefix(problems[i], f) {
					t.Errorf("problem %d = %q, want prefix %q", i, problems[i], f)
				}
			}
			if c.msg != "" && !strings.Contains(problems[0], c.msg) {
				t.Errorf("problem %q does not contain %q", problems[0], c.msg)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	max := strings.Repeat("a", 63)
	cases := []struct {
		name, in string
	}{
		{"name one char", "name: a"},
		{"name digits dash", "name: lab-2"},
		{"name 63 chars", "name: " + max},
		{"provider virtualbox", "provider: virtualbox"},
		{"provider docker", "provider: docker"},
		{"stack heartbeat", "stack: heartbeat"},
		{"stack heartbeat-v1", "stack: heartbeat-v1"},
		{"stack corosync", "stack: corosync"},
		{"netmask prefix string", `vip: {netmask: "24"}`},
		{"netmask slash prefix", "vip: {netmask: /24}"},
		{"netmask yaml int", "vip: {netmask: 24}"},
		{"netmask leading zero", `vip: {netmask: "024"}`},
		{"netmask /25 dotted", "vip: {netmask: 255.255.255.128}"},
		{"netmask /16", "vip: {netmask: 255.255.0.0}"},
		{"netmask /8", "vip: {netmask: /8}"},
		{"netmask /29 smallest", "vip: {address: 192.168.56.17, netmask: /29}\n" +
			nodesYAML("{name: node1, ip: 192.168.56.18}", "{name: node2, ip: 192.168.56.19}")},
		{"other network", "vip: {address: 10.0.0.100, netmask: 255.0.0.0}\n" +
			nodesYAML("{name: node1, ip: 10.1.2.3}", "{name: node2, ip: 10.254.254.254}")},
		{"vip below nodes", "vip: {address: 192.168.56.1}"},
		{"vip highest host", "vip: {address: 192.168.56.254}"},
		{"nic enp0s8", "vip: {nic: enp0s8}"},
		{"nic vlan", "vip: {nic: br-lan.10}"},
		{"nic 15 chars", "vip: {nic: abcdefghijklmno}"},
		{"node names", nodesYAML("{name: a, ip: 192.168.56.11}", "{name: "+max+", ip: 192.168.56.12}")},
		{"nodes reversed", nodesYAML(node2, node1)},
		{"nodes block style", "nodes:\n  - name: node1\n    ip: 192.168.56.11\n  - name: node2\n    ip: 192.168.56.12"},
		{"memory 256", "providers: {virtualbox: {memory: 256, cpus: 4}}"},
		{"docker registry image", "providers: {docker: {image: registry.local/halab/node_2}}"},
		{"docker plain image", "providers: {docker: {image: halab}}"},
		{"deadtime one more than keepalive", "timings: {keepalive: 19, warntime: 18}"},
		{"warntime one less than deadtime", "timings: {warntime: 19}"},
		{"initdead equals deadtime", "timings: {initdead: 20}"},
		{"consensus exactly 1.2 token", "timings: {token_ms: 1000, consensus_ms: 1200}"},
		{"consensus tiny", "timings: {token_ms: 5, consensus_ms: 6}"},
		{"consensus huge", "timings: {consensus_ms: 9223372036854775807}"},
		{"token and consensus huge", "timings: {token_ms: 7686143364045646500, consensus_ms: 9223372036854775800}"},
		{"service name underscore", "service: {name: wso2_stratos-2}"},
		{"user underscore", "service: {user: _svc}"},
		{"user 32 chars", "service: {user: " + strings.Repeat("u", 32) + "}"},
		{"port 1", "service: {port: 1}"},
		{"port 65535", "service: {port: 65535}"},
		{"paths", "service: {java_home: /opt/java-7+x_64, product_home: /opt/wso2.stratos-2.0}"},
		{"path with dots in names", "service: {java_home: /opt/jdk1.7.0_60/..jre}"},
		{"paths the article's", "service: {java_home: /opt/jdk1.7.0_60, product_home: /opt/apache_stratos_4.1.0_SNAPSHOT}"},
		{"paths deeper in opt", "service: {java_home: /opt/java/jdk7, product_home: /opt/java/stratos}"},
		{"paths in srv", "service: {java_home: /srv/jdk, product_home: /srv/stratos}"},
		{"paths in usr local", "service: {java_home: /usr/local/jdk, product_home: /usr/local/stratos}"},
		{"paths in a home", "service: {java_home: /home/vagrant/jdk, product_home: /home/vagrant/stratos/current}"},
		{"dot dir in opt", "service: {java_home: /opt/.jdk}"},
		{"name starting like a system dir", "service: {java_home: /opt/usr, product_home: /usr/local/binaries}"},
		{"sibling names", "service: {java_home: /opt/stratos-jdk, product_home: /opt/stratos}"},
		{"jdk archive absolute", "service: {jdk_archive: /srv/jdk-7u60-linux-x64.tar.gz}"},
		{"timeouts 1", "service: {start_timeout: 1, stop_timeout: 1}"},
		{"crm values", "crm: {resource_stickiness: 1000000, migration_threshold: 1}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustParse(t, c.in+"\n")
		})
	}
}

func TestParseUnknownKeys(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"typo in timings", "timings:\n  deadtim: 20\n", []string{
			`line 2: timings.deadtim: unknown key (did you mean "deadtime"?)`,
		}},
		{"case in timings", "timings:\n  keepalive: 2\n  Deadtime: 20\n", []string{
			`line 3: timings.Deadtime: unknown key (did you mean "deadtime"?)`,
		}},
		{"in nodes[1]", "nodes:\n  - name: node1\n    ip: 192.168.56.11\n  - name: node2\n    IP: 192.168.56.12\n", []string{
			`line 5: nodes[1].IP: unknown key (did you mean "ip"?)`,
			`nodes[1].ip: "": not an IPv4 address`,
		}},
		{"far-off key in nodes flow item", "nodes: [{name: node1, ip: 192.168.56.11}, {name: node2, ip: 192.168.56.12, role: master}]\n", []string{
			`line 1: nodes[1].role: unknown key (known keys here: name, ip, ssh, power)`,
		}},
		{"far-off key in vip", "name: halab\nvip:\n  gateway: 192.168.56.1\n", []string{
			`line 3: vip.gateway: unknown key (known keys here: address, netmask, nic)`,
		}},
		{"far-off top-level key", "colour: blue\n", []string{
			`line 1: colour: unknown key (known keys here: name, provider, stack, nodes, vip, providers, timings, service, crm, fencing, adopt)`,
		}},
		{"singular nodes", "node:\n  - name: x\n", []string{
			`line 1: node: unknown key (did you mean "nodes"?)`,
		}},
		{"deep typo", "providers:\n  virtualbox:\n    memroy: 2048\n", []string{
			`line 3: providers.virtualbox.memroy: unknown key (did you mean "memory"?)`,
		}},
		{"missing underscore", "service:\n  javahome: /opt/jdk\n", []string{
			`line 2: service.javahome: unknown key (did you mean "java_home"?)`,
		}},
		{"two unknown keys", "crm:\n  stickiness: 0\n  threshold: 0\n", []string{
			`line 2: crm.stickiness: unknown key (known keys here: resource_stickiness, migration_threshold)`,
			`line 3: crm.threshold: unknown key (known keys here: resource_stickiness, migration_threshold)`,
		}},
		{"Path is not a key", "path: /tmp/lab.yaml\n", []string{
			`line 1: path: unknown key (known keys here: name, provider, stack, nodes, vip, providers, timings, service, crm, fencing, adopt)`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := parseProblems(t, c.in)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, c.want)
			}
			_, err := Parse([]byte(c.in), "lab.yaml")
			if want := "lab.yaml: " + c.want[0]; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %q, want it to start with %q", err, want)
			}
		})
	}
}

func TestParseWrongTypes(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		want  []string // substrings of the error text
		count int      // problems expected
	}{
		{"port string", "service:\n  port: abc\n", []string{"line 2: expected a number, got the string `abc`"}, 1},
		{"port quoted number", "service:\n  port: \"8080\"\n", []string{"line 2: expected a number, got the string `8080`"}, 1},
		// yaml.v3 would silently truncate these to 80, 2 and 1000.
		{"port float", "service:\n  port: 80.5\n", []string{"line 2: service.port: 80.5: expected a whole number"}, 1},
		{"timing float", "timings: {deadtime: 20.5}\n", []string{"line 1: timings.deadtime: 20.5: expected a whole number"}, 1},
		{"not a number float", "timings: {deadtime: .nan}\n", []string{"line 1: cannot unmarshal !!float `.nan`"}, 1},
		{"exponent", "providers: {virtualbox: {memory: 1e3}}\n", []string{"line 1: providers.virtualbox.memory: 1e3: expected a whole number"}, 1},
		{"float in node list item", "nodes: [{name: node1, ip: 192.168.56.11}, {name: node2, ip: 192.168.56.12.0}]\n", []string{`nodes[1].ip: "192.168.56.12.0": not an IPv4 address`}, 1},
		{"minus infinity", "crm: {resource_stickiness: -.inf}\n", []string{"line 1: crm.resource_stickiness: -.inf: expected a whole number"}, 1},
		{"port bool", "service: {port: true}\n", []string{"line 1: cannot unmarshal !!bool `true`"}, 1},
		{"number too big", "timings:\n  token_ms: 99999999999999999999\n", []string{"line 2: cannot unmarshal !!float"}, 1},
		{"nodes scalar", "nodes: 3\n", []string{"line 1: cannot unmarshal !!int `3` into []lab.NodeSpec"}, 1},
		{"nodes mapping", "nodes:\n  node1: 192.168.56.11\n", []string{"line 2: cannot unmarshal !!map into []lab.NodeSpec"}, 1},
		{"nodes of strings", "nodes: [node1, node2]\n", []string{
			"line 1: cannot unmarshal !!str `node1` into lab.NodeSpec",
			"line 1: cannot unmarshal !!str `node2` into lab.NodeSpec",
			"nodes: 0 nodes given",
		}, 3},
		{"list for a number", "timings:\n  deadtime: [20]\n", []string{"line 2: expected a single value, got a list"}, 1},
		{"mapping for a string", "name: {first: ha}\n", []string{"line 1: expected a single value, got a mapping"}, 1},
		{"list for a string", "vip:\n  nic: [eth1, eth2]\n", []string{"line 2: expected a single value, got a list"}, 1},
		{"scalar for a section", "vip: 192.168.56.20\n", []string{"line 1: cannot unmarshal !!str `192.168...` into lab.VIPSpec"}, 1},
		{"scalar for nested section", "providers:\n  docker: halab/node\n", []string{"line 2: cannot unmarshal !!str `halab/node` into lab.DockerSpec"}, 1},
		{"list for a section", "timings: [2, 10, 20]\n", []string{"line 1: cannot unmarshal !!seq into lab.Timings"}, 1},
		{"duplicate key", "name: halab\nname: other\n", []string{`line 2: mapping key "name" already defined at line 1`}, 1},
		{"bad explicit tag", "service:\n  port: !!int abc\n", []string{"abc"}, 1},
		{"provider mapping", "provider:\n  docker: {}\n", []string{"line 2: expected a single value, got a mapping"}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			problems := parseProblems(t, c.in)
			_, err := Parse([]byte(c.in), "lab.yaml")
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			if len(problems) != c.count {
				t.Errorf("got %d problems, want %d:\n%v", len(problems), c.count, err)
			}
			// A string where a mapping or list belongs is not a number
			// problem.
			if strings.Contains(err.Error(), "expected a number") && !strings.Contains(c.name, "port") {
				t.Errorf("misleading message: %v", err)
			}
		})
	}
}

// A lab file with many mistakes gets them all reported in one go, one per
// line, unknown keys and type errors first, then the validation in field
// order.
func TestParseReportsAllProblems(t *testing.T) {
	const path = "testdata/config/many-problems.yaml"
	_, err := Load(path)
	ce := asConfigError(t, err)
	want := []string{
		`line 6: timings.deadtim: unknown key (did you mean "deadtime"?)`,
		`line 21: crm.resource_stickyness: unknown key (did you mean "resource_stickiness"?)`,
		"line 7: expected a number, got the string `fast`",
		"name: ",
		"provider: ",
		"vip.netmask: ",
		"nodes[1].name: ",
		"nodes[1].ip: ",
		"service.port: ",
		"service.java_home: ",
		"service.product_home: ",
	}
	if ce.File != path {
		t.Errorf("File = %q, want %q", ce.File, path)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) || len(ce.Problems) != len(want) {
		t.Fatalf("got %d lines / %d problems, want %d:\n%v", len(lines), len(ce.Problems), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], path+": "+w) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i], path+": "+w)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "secret.yaml")
	if err := os.WriteFile(unreadable, []byte("name: halab\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("timings:\n  deadtim: 20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		path     string
		needRead bool // the row only makes sense when permissions are enforced
		want     []string
	}{
		{"missing", filepath.Join(dir, "nope.yaml"), false, []string{"cannot read: no such file or directory", "(check the path of the lab file, or create lab.yaml)"}},
		{"missing dir", filepath.Join(dir, "no", "lab.yaml"), false, []string{"no such file or directory"}},
		{"directory", dir, false, []string{"cannot read: is a directory", "(it is a directory; pass the lab.yaml inside it)"}},
		{"unreadable", unreadable, true, []string{"cannot read: permission denied", "(make it readable)"}},
		{"empty", empty, false, []string{"file is empty"}},
		{"unknown key", broken, false, []string{`line 2: timings.deadtim: unknown key (did you mean "deadtime"?)`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.needRead && os.Geteuid() == 0 {
				t.Skip("running as root: file permissions do not stop reads")
			}
			cfg, err := Load(c.path)
			if cfg != nil {
				t.Errorf("Load returned a config: %+v", cfg)
			}
			ce := asConfigError(t, err)
			if ce.File != c.path {
				t.Errorf("File = %q, want %q", ce.File, c.path)
			}
			if len(ce.Problems) != 1 {
				t.Errorf("got %d problems, want 1: %v", len(ce.Problems), err)
			}
			if !strings.HasPrefix(err.Error(), c.path+": ") {
				t.Errorf("error %q does not start with the path", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadSetsPath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "lab.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("stack: corosync\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Path != path || cfg.Stack != "corosync" {
		t.Errorf("Path = %q, Stack = %q", cfg.Path, cfg.Stack)
	}
	if cfg.Dir() != filepath.Dir(path) {
		t.Errorf("Dir() = %q, want %q", cfg.Dir(), filepath.Dir(path))
	}
	if got, want := cfg.Resolve("build/jdk.tar.gz"), filepath.Join(dir, "sub", "build", "jdk.tar.gz"); got != want {
		t.Errorf("Resolve = %q, want %q", got, want)
	}
	if got := cfg.Resolve("/abs/jdk.tar.gz"); got != "/abs/jdk.tar.gz" {
		t.Errorf("Resolve(abs) = %q", got)
	}
	if got := cfg.Resolve(""); got != "" {
		t.Errorf("Resolve(\"\") = %q", got)
	}
	if got := (&Config{}).Dir(); got != "." {
		t.Errorf("Dir() without Path = %q, want .", got)
	}
}

// yaml.v3 v3.0.1 panics ("hash of unhashable type") on a merge key next
// to a mapping used as a key; found by FuzzParse. Parse must report it.
func TestParseDecoderPanic(t *testing.T) {
	cases := []struct{ name, in string }{
		{"fuzz crasher", ""}, // testdata/config/fuzz-merge-unhashable-key.yaml
		{"alias key in node", "a: &b {x: 1}\nnodes: [{<<: *b, *b : 1}]\n"},
		{"mapping key at top level", "? {a: 1}\n: x\n<<: {name: y}\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			if in == "" {
				data, err := os.ReadFile("testdata/config/fuzz-merge-unhashable-key.yaml")
				if err != nil {
					t.Fatal(err)
				}
				in = string(data)
			}
			problems := parseProblems(t, in)
			if !strings.Contains(strings.Join(problems, "\n"), "cannot decode this YAML: ") {
				t.Errorf("problems do not report the decoder failure:\n%s", strings.Join(problems, "\n"))
			}
		})
	}
}

func TestLoadTestdata(t *testing.T) {
	cases := []struct {
		file string
		ok   bool
	}{
		{"testdata/config/minimal.yaml", true},
		{"testdata/config/docker-prefix.yaml", true},
		{"testdata/config/many-problems.yaml", false},
		{"testdata/config/fuzz-merge-unhashable-key.yaml", false},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			cfg, err := Load(c.file)
			if c.ok && err != nil {
				t.Fatalf("Load = %v", err)
			}
			if !c.ok {
				asConfigError(t, err)
				return
			}
			if cfg.Path != c.file {
				t.Errorf("Path = %q", cfg.Path)
			}
		})
	}
}

func TestConfigErrorFormat(t *testing.T) {
	ce := &ConfigError{File: "lab.yaml", Problems: []string{"a: one", "b: two"}}
	if got, want := ce.Error(), "lab.yaml: a: one\nlab.yaml: b: two"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("boom"), false},
		{"config error", ce, true},
		{"wrapped", fmt.Errorf("loading: %w", ce), true},
		{"twice wrapped", fmt.Errorf("cli: %w", fmt.Errorf("loading: %w", ce)), true},
		{"joined", errors.Join(errors.New("x"), ce), true},
		{"path error", &os.PathError{Op: "open", Path: "lab.yaml", Err: os.ErrNotExist}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := IsConfigError(c.err); got != c.want {
				t.Errorf("IsConfigError(%v) = %v, want %v", c.err, got, c.want)
			}
		})
	}
}

func TestParseNetmask(t *testing.T) {
	cases := []struct {
		in   string
		want int
		err  string
	}{
		{"255.255.255.0", 24, ""},
		{"255.255.255.255", 32, ""},
		{"255.255.255.254", 31, ""},
		{"255.255.255.252", 30, ""},
		{"255.255.255.128", 25, ""},
		{"255.255.128.0", 17, ""},
		{"255.255.0.0", 16, ""},
		{"255.0.0.0", 8, ""},
		{"128.0.0.0", 1, ""},
		{"0.0.0.0", 0, ""},
		{"24", 24, ""},
		{"/24", 24, ""},
		{"0", 0, ""},
		{"/0", 0, ""},
		{"32", 32, ""},
		{"/32", 32, ""},
		{"024", 24, ""},
		{"", 0, "missing"},
		{"33", 0, "prefix length must be 0-32"},
		{"/33", 0, "prefix length must be 0-32"},
		{"-1", 0, "prefix length must be 0-32"},
		{"/-1", 0, "prefix length must be 0-32"},
		{"1000", 0, "prefix length must be 0-32"},
		{"255.0.255.0", 0, "not a contiguous netmask"},
		{"255.255.255.1", 0, "not a contiguous netmask"},
		{"0.255.255.255", 0, "not a contiguous netmask"},
		{"255.255.254.255", 0, "not a contiguous netmask"},
		{"abc", 0, "not a netmask"},
		{"/", 0, "not a netmask"},
		{"//24", 0, "not a netmask"},
		{" 24", 0, "not a netmask"},
		{"24 ", 0, "not a netmask"},
		{"255.255.255", 0, "not a netmask"},
		{"255.255.255.0.0", 0, "not a netmask"},
		{"256.255.255.0", 0, "not a netmask"},
		{"255.255.255.0/24", 0, "not a netmask"},
		{"ffff:ffff:ffff:ff00::", 0, "not a netmask"},
		{"::ffff:255.255.255.0", 0, "not a netmask"},
		{"99999999999999999999", 0, "not a netmask"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseNetmask(c.in)
			if c.err == "" {
				if err != nil || got != c.want {
					t.Errorf("ParseNetmask(%q) = %d, %v; want %d", c.in, got, err, c.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseNetmask(%q) = %d, %v; want error containing %q", c.in, got, err, c.err)
			}
		})
	}
}

func TestDottedNetmaskRoundTrip(t *testing.T) {
	known := map[int]string{
		0: "0.0.0.0", 1: "128.0.0.0", 8: "255.0.0.0", 16: "255.255.0.0", 17: "255.255.128.0",
		24: "255.255.255.0", 25: "255.255.255.128", 29: "255.255.255.248", 30: "255.255.255.252", 32: "255.255.255.255",
	}
	for n := 0; n <= 32; n++ {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			dotted := (&Config{VIP: VIPSpec{Netmask: strconv.Itoa(n)}}).DottedNetmask()
			if w, ok := known[n]; ok && dotted != w {
				t.Errorf("DottedNetmask(%d) = %q, want %q", n, dotted, w)
			}
			if got := (&Config{VIP: VIPSpec{Netmask: "/" + strconv.Itoa(n)}}).DottedNetmask(); got != dotted {
				t.Errorf("DottedNetmask(/%d) = %q, want %q", n, got, dotted)
			}
			if got, err := ParseNetmask(dotted); err != nil || got != n {
				t.Errorf("ParseNetmask(%q) = %d, %v; want %d", dotted, got, err, n)
			}
			c := &Config{VIP: VIPSpec{Netmask: dotted}}
			if c.Prefix() != n || c.DottedNetmask() != dotted {
				t.Errorf("dotted %q: Prefix() = %d, DottedNetmask() = %q", dotted, c.Prefix(), c.DottedNetmask())
			}
		})
	}
}

// fuzzSeeds are broken and odd variants of the repo's lab.yaml.
func fuzzSeeds(base string) []string {
	seeds := []string{
		base,
		"",
		"   \n",
		"name: halab\n",
		"- a\n- b\n",
		"nodes: 3\n",
		"timings:\n  deadtim: 20\n",
		"service: {port: abc}\n",
		"vip: {netmask: /31}\n",
		"vip: {netmask: \"255.0.255.0\"}\n",
		"timings: {token_ms: 4611686018427387904}\n",
		"a: &x {b: *x}\n",
		"base: &b {name: node1, ip: 192.168.56.11}\nnodes: [*b, {<<: *b, name: node2}]\n",
		"nodes: [{name: node1, ip: 192.168.56.11}, {name: node1, ip: 192.168.56.11}]\n",
		"? [a, b]\n: c\n",
		"!!map {name: !!str halab}\n",
		"service:\n  port: !!int abc\n",
		"name: halab\n---\nname: other\n",
		"{\"name\": \"halab\", \"nodes\": null}",
		"vip:\n  address: !!binary aGVsbG8=\n",
		"\"a\\nb\": 1\n",
		"name: |\n  multi\n  line\n",
	}
	for _, r := range [][2]string{
		{"deadtime: 20", "deadtim: 20"},
		{"port: 8080", "port: abc"},
		{"netmask: 255.255.255.0", "netmask: /24"},
		{"  - name: node2\n    ip: 192.168.56.12\n", ""},
		{"consensus_ms: 3600", "consensus_ms: -1"},
		{"nodes:", "nodes: 3\nx:"},
	} {
		seeds = append(seeds, strings.Replace(base, r[0], r[1], 1))
	}
	seeds = append(seeds, base[:len(base)/2], base[:len(base)/3])
	return seeds
}

// FuzzParse: whatever the bytes, Parse does not panic and either returns a
// config that validates or a *ConfigError.
func FuzzParse(f *testing.F) {
	base, err := os.ReadFile(repoLabYAML)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range fuzzSeeds(string(base)) {
		f.Add([]byte(s))
	}
	files, err := filepath.Glob("testdata/config/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *ConfigError: %v", err, err)
			}
			if cfg != nil {
				t.Fatalf("config returned along with error %v", err)
			}
			if ce.File != "fuzz.yaml" || len(ce.Problems) == 0 {
				t.Fatalf("ConfigError{File: %q, %d problems}", ce.File, len(ce.Problems))
			}
			for _, p := range ce.Problems {
				if p == "" {
					t.Fatalf("empty problem in %q", ce.Problems)
				}
			}
			return
		}
		if cfg == nil {
			t.Fatal("neither config nor error")
		}
		if p := cfg.validate(); len(p) > 0 {
			t.Fatalf("accepted config does not validate: %q", p)
		}
		if cfg.Path != "fuzz.yaml" || len(cfg.Nodes) != 2 {
			t.Fatalf("Path = %q, %d nodes", cfg.Path, len(cfg.Nodes))
		}
		if n, err := ParseNetmask(cfg.DottedNetmask()); err != nil || n != cfg.Prefix() || n < 8 || n > 29 {
			t.Fatalf("netmask %q: prefix %d, dotted %q -> %d, %v", cfg.VIP.Netmask, cfg.Prefix(), cfg.DottedNetmask(), n, err)
		}
	})
}
