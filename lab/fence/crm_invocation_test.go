package fence

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"halab/templates"
)

// deviceParams reads a fence device's parameters out of the rendered crm
// configuration text: the name=value words of its params lines.
func deviceParams(t *testing.T, conf, id string) map[string]string {
	t.Helper()
	start := strings.Index(conf, "primitive "+id+" ")
	if start < 0 {
		t.Fatalf("no primitive %s in\n%s", id, conf)
	}
	block := conf[start:]
	block = block[:strings.Index(block, "op monitor")]
	m := map[string]string{}
	for _, kv := range regexp.MustCompile(`([a-z_]+)=(\S+)`).FindAllStringSubmatch(block, -1) {
		m[kv[1]] = kv[2]
	}
	return m
}

// agentStdin is what Pacemaker's fencer hands a fence agent on stdin for a
// device: its parameters without Pacemaker's own (pcmk_*), the action, the
// target's name, and the machine the host map gives for it under the
// host argument (plug, or port on some Pacemakers).
func agentStdin(params map[string]string, action, target, hostArg string) string {
	var b strings.Builder
	b.WriteString("action=" + action + "\n")
	b.WriteString("nodename=" + target + "\n")
	for k, v := range params {
		if strings.HasPrefix(k, "pcmk_") {
			continue
		}
		b.WriteString(k + "=" + v + "\n")
	}
	for _, pair := range strings.Split(params["pcmk_host_map"], ";") {
		if node, machine, ok := strings.Cut(pair, ":"); ok && node == target {
			b.WriteString(hostArg + "=" + machine + "\n")
		}
	}
	return b.String()
}

// fence_docker run exactly as the crm configuration makes Pacemaker run
// it: the device's parameters read from the rendered configuration
// (endpoint address, port, TLS files, API version, timeouts, host map), on
// stdin, with node1's files where the configuration says they are.
func TestFenceDockerAsConfigured(t *testing.T) {
	fenceDocker(t)
	e := startEndpoint(t)
	nodeDir := filepath.Join(t.TempDir(), "etc-halab-fence") // node1's /etc/halab/fence
	if err := os.MkdirAll(nodeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	ca, cert, key, err := e.pki.NodeFiles("node1")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{templates.FenceCAFile: ca, templates.FenceCertFile: cert, templates.FenceKeyFile: key} {
		if err := os.WriteFile(filepath.Join(nodeDir, name), b, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	p := templates.Params{
		Nodes: []templates.Node{{Name: "node1", IP: "192.168.56.11"}, {Name: "node2", IP: "192.168.56.12"}},
		NIC:   "eth1", VIP: "192.168.56.20", Netmask: "255.255.255.0", Prefix: 24, ServiceName: "stratos",
		Fencing: &templates.Fencing{
			Agent: templates.FenceDocker, Address: "127.0.0.1", Port: mustAtoi(t, e.port()), APIVersion: APIVersion, Dir: nodeDir,
			Targets: []templates.FenceTarget{{Node: "node1", Machine: "halab-node1"}, {Node: "node2", Machine: "halab-node2"}},
			Guard:   templates.GuardPriority, Delay: 5,
		},
	}
	conf, err := templates.CrmConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	// FENCE-node2 runs on node1 (it is banned from node2) and fences node2.
	params := deviceParams(t, string(conf), templates.FenceResource("node2"))
	if params["api_version"] != APIVersion || params["tlskey"] != filepath.Join(nodeDir, templates.FenceKeyFile) {
		t.Fatalf("device parameters: %v", params)
	}
	steps := []struct {
		action, hostArg string
		code            int
		says            string
		on              bool
	}{
		{"monitor", "plug", 0, "", true},
		{"status", "plug", 0, "Status: ON", true},
		{"off", "plug", 0, "Success: Powered OFF", false},
		{"status", "port", 2, "Status: OFF", false},
		{"on", "port", 0, "Success: Powered ON", true},
		{"reboot", "plug", 0, "Success: Rebooted", true},
	}
	for _, s := range steps {
		r := runFenceDocker(t, nil, agentStdin(params, s.action, "node2", s.hostArg))
		if r.code != s.code || !strings.Contains(r.out, s.says) {
			t.Fatalf("%s (%s=): exited %d (want %d):\n%s", s.action, s.hostArg, r.code, s.code, r.out)
		}
		if e.fake.IsOn("node2") != s.on {
			t.Fatalf("after %s node2 on=%v, want %v", s.action, e.fake.IsOn("node2"), s.on)
		}
		if !e.fake.IsOn("node1") {
			t.Fatalf("after %s node1 is off", s.action)
		}
	}
	// Every request came with node1's certificate.
	for _, en := range e.entries(t) {
		if en.Event == "request" && !strings.Contains(en.Client, "CN=node1,OU=node") {
			t.Errorf("request not from node1: %+v", en)
		}
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
