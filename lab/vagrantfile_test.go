package lab

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// vagrantPlan runs the checkout's Vagrantfile under Ruby with a stand-in
// for Vagrant's API and returns each node's provider blocks.
func vagrantPlan(t *testing.T, cfg *Config, env ...string) map[string]string {
	t.Helper()
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ruby is not installed (it comes with vagrant: apt-get install vagrant)")
		}
		t.Skip("ruby is not installed")
	}
	data, err := cfg.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	resolved := filepath.Join(t.TempDir(), "lab.resolved.yaml")
	if err := os.WriteFile(resolved, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ruby, "testdata/vagrant-stub.rb", "../Vagrantfile")
	cmd.Env = append(os.Environ(), append([]string{"HALAB_RESOLVED=" + resolved}, env...)...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("ruby: %v\n%s", err, stderr)
	}
	var plan any
	if err := json.Unmarshal(out, &plan); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	nodes := map[string]string{}
	findDefines(plan, nodes)
	return nodes
}

// findDefines collects every `config.vm.define NAME do ... end` block of
// the recorded plan, as JSON text per node.
func findDefines(v any, nodes map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		if defs, ok := v["define"].([]any); ok {
			for _, d := range defs {
				e := d.(map[string]any)
				b, _ := json.Marshal(e["block"])
				nodes[e["args"].([]any)[0].(string)] = string(b)
			}
		}
		for _, c := range v {
			findDefines(c, nodes)
		}
	case []any:
		for _, c := range v {
			findDefines(c, nodes)
		}
	}
}

func TestVagrantfilePlan(t *testing.T) {
	cfg := Defaults()
	cfg.Name = "plan"
	cfg.Providers.Docker.SSHPort = 2400
	id := NewIdentity(cfg.Name, "/somewhere/lab.yaml")
	nodes := vagrantPlan(t, &cfg, "HALAB_LAB_ID="+id.ID, "HALAB_LAB_CONFIG="+id.Config, "HALAB_DOCKER_IMAGE=halab/node:abc")
	if len(nodes) != len(cfg.Nodes) {
		t.Fatalf("nodes %v", nodes)
	}
	for i, n := range cfg.Nodes {
		plan := nodes[n.Name]
		// VirtualBox: the article's box, memory, CPUs, the VM name, the
		// private network with the dotted netmask, old-releases.
		for _, want := range []string{
			`"box":"` + cfg.Providers.VirtualBox.Box + `"`, `"memory":1024`, `"cpus":1`, `"name":"plan-` + n.Name + `"`,
			`"ip":"` + n.IP + `","netmask":"255.255.255.0"`, "old-releases.ubuntu.com",
		} {
			if !strings.Contains(plan, want) {
				t.Errorf("%s: the plan lacks %s:\n%s", n.Name, want, plan)
			}
		}
		// docker: the lab's identity and subnet as labels, the SSH port,
		// no --privileged, the image halab built.
		for _, want := range []string{
			"halab.id=" + id.ID, "halab.config=/somewhere/lab.yaml", "halab.subnet=192.168.56.0/24", "halab.lab=plan",
			`"image":"halab/node:abc"`, `"host":` + itoa(2400+i), `"ip":"` + n.IP + `","netmask":24`,
		} {
			if !strings.Contains(plan, want) {
				t.Errorf("%s: the plan lacks %s:\n%s", n.Name, want, plan)
			}
		}
		if strings.Contains(plan, "--privileged") {
			t.Errorf("%s: --privileged", n.Name)
		}
	}
	if !slices.Contains(cfg.NodeNames(), "node1") {
		t.Fatal("defaults changed")
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// The keys of provider ssh (nodes[].ssh, nodes[].power, adopt) in the
// resolved lab file leave the Vagrantfile's plan as it was.
func TestVagrantfileIgnoresSSHNodeKeys(t *testing.T) {
	cfg := Defaults()
	plain := vagrantPlan(t, &cfg)
	cfg.Adopt = true
	for i := range cfg.Nodes {
		cfg.Nodes[i].SSH = SSHSpec{Host: "10.0.0.1", Port: 2200 + i, User: "admin", Key: "~/.ssh/id", HostKey: "ssh-ed25519 AAAA"}
		cfg.Nodes[i].Power = PowerSpec{Off: []string{"virsh", "destroy", "x"}, On: []string{"virsh", "start", "x"}, Status: []string{"virsh", "domstate", "x"}}
	}
	data, _ := cfg.Resolved()
	for _, want := range []string{"adopt: true", "host_key:", `"off":`, "status:"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the resolved lab file lacks %s:\n%s", want, data)
		}
	}
	if got := vagrantPlan(t, &cfg); !maps.Equal(got, plain) {
		t.Errorf("the plan changed with the ssh keys:\n%v\n->\n%v", plain, got)
	}
	// A docker lab file without them resolves without them.
	d := Defaults()
	data, _ = d.Resolved()
	for _, no := range []string{"ssh:", "power:", "adopt:"} {
		if strings.Contains(string(data), no) {
			t.Errorf("the resolved defaults show %s:\n%s", no, data)
		}
	}
}
