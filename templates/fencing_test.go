package templates

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// labFencing is the fencing of lab.yaml's lab with fencing.agent auto on
// the docker provider: the endpoint on the docker network's gateway.
func labFencing(agent FenceAgent, guard string) *Fencing {
	return &Fencing{
		Agent: agent, Address: "192.168.56.1", Port: 2386, APIVersion: "1.41",
		Targets: []FenceTarget{{"node1", "halab-node1"}, {"node2", "halab-node2"}},
		Guard:   guard, Delay: 5,
	}
}

func fencedParams(agent FenceAgent, guard string) Params {
	p := labParams()
	p.Fencing = labFencing(agent, guard)
	return p
}

// The crm configuration with fencing, per agent and race guard, against
// golden files (go test ./templates -update rewrites them).
func TestFencingGolden(t *testing.T) {
	tuned := tunedParams()
	tuned.Fencing = labFencing(FenceDocker, GuardPriority)
	tests := []struct {
		golden string
		p      Params
	}{
		{"crm-fence-docker-priority.golden", fencedParams(FenceDocker, GuardPriority)},
		{"crm-fence-docker-random.golden", fencedParams(FenceDocker, GuardRandom)},
		{"crm-fence-docker-static.golden", fencedParams(FenceDocker, GuardStatic)},
		{"crm-fence-docker-none.golden", fencedParams(FenceDocker, GuardNone)},
		{"crm-fence-docker-tuned.golden", tuned},
		{"crm-fence-plugin-static.golden", fencedParams(FencePlugin, GuardStatic)},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got, err := CrmConfig(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./templates -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the rendered text (go test ./templates -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

// What the fencing adds, whatever the guard: stonith on, one device per
// node that fences it and is banned from it, with the host map; without
// fencing, the article's configuration is unchanged.
func TestFencingShape(t *testing.T) {
	plain, err := CrmConfig(labParams())
	if err != nil {
		t.Fatal(err)
	}
	golden, _ := os.ReadFile("testdata/crm.golden")
	if !bytes.Equal(plain, golden) {
		t.Error("the configuration without fencing changed")
	}
	for _, s := range []string{"stonith:", "FENCE-", "\nlocation ", "priority"} {
		if bytes.Contains(plain, []byte(s)) {
			t.Errorf("without fencing, the configuration has %q", s)
		}
	}
	for _, agent := range []FenceAgent{FenceDocker, FencePlugin} {
		for _, guard := range []string{GuardPriority, GuardRandom, GuardStatic, GuardNone} {
			p := fencedParams(agent, guard)
			got, err := CrmConfig(p)
			if agent == FencePlugin && (guard == GuardPriority || guard == GuardRandom) {
				if err == nil || !strings.Contains(err.Error(), "race guard "+guard) {
					t.Errorf("%s with %s: %v", agent, guard, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s %s: %v", agent, guard, err)
			}
			text := string(got)
			if !strings.HasPrefix(text, "property stonith-enabled=true") {
				t.Errorf("%s %s: stonith not enabled:\n%s", agent, guard, text)
			}
			for _, n := range []struct{ node, machine string }{{"node1", "halab-node1"}, {"node2", "halab-node2"}} {
				want := []string{
					"primitive FENCE-" + n.node + " stonith:" + string(agent) + " \\\n",
					"location FENCE-" + n.node + "-NOT-ON-" + n.node + " FENCE-" + n.node + " -inf: " + n.node + "\n",
				}
				if agent == FenceDocker {
					want = append(want, "pcmk_host_map="+n.node+":"+n.machine+" ", "pcmk_host_list="+n.node+" ")
				} else {
					want = append(want, "hostlist="+n.node+" ", "machine="+n.machine+" ")
				}
				for _, w := range want {
					if !strings.Contains(text, w) {
						t.Errorf("%s %s: no %q in\n%s", agent, guard, w, text)
					}
				}
			}
			if agent == FenceDocker {
				for _, w := range []string{"api_version=1.41 ", "ssl_secure=1 ", "ip=192.168.56.1 ", "ipport=2386 ",
					"tlscacert=/etc/halab/fence/ca.crt ", "tlscert=/etc/halab/fence/client.crt ", "tlskey=/etc/halab/fence/client.key "} {
					if strings.Count(text, w) != 2 {
						t.Errorf("%s %s: %q not on both devices", agent, guard, w)
					}
				}
			}
			if n := strings.Count(text, "delay"); (guard == GuardNone && n != 0) || (guard == GuardRandom && n != 2) || (guard == GuardStatic && n != 1) {
				t.Errorf("%s %s: %d delays:\n%s", agent, guard, n, text)
			}
			// The static delay protects the first node: it is on the
			// device that fences node1.
			if guard == GuardStatic {
				dev1 := text[strings.Index(text, "primitive FENCE-node1"):strings.Index(text, "location FENCE-node1")]
				if !strings.Contains(dev1, "delay") {
					t.Errorf("the static delay is not on FENCE-node1:\n%s", text)
				}
			}
			prio := guard == GuardPriority
			if strings.Contains(text, "priority-fencing-delay=5s") != prio || strings.Contains(text, "meta priority=10") != prio {
				t.Errorf("%s %s: priority-fencing-delay and the group's priority go together with the priority guard:\n%s", agent, guard, text)
			}
		}
	}
}

func TestFencingRefusesWhatItCannotWrite(t *testing.T) {
	cases := []struct {
		name  string
		brk   func(f *Fencing)
		wants string
	}{
		{"no address", func(f *Fencing) { f.Address = "" }, "missing Fencing.Address"},
		{"no targets", func(f *Fencing) { f.Targets = nil }, "missing Fencing.Targets"},
		{"no api version", func(f *Fencing) { f.APIVersion = "" }, "missing Fencing.APIVersion"},
		{"unknown agent", func(f *Fencing) { f.Agent = "fence_xvm" }, `unknown fence agent "fence_xvm"`},
		{"unknown guard", func(f *Fencing) { f.Guard = "coin" }, `unknown race guard "coin"`},
		{"guard without delay", func(f *Fencing) { f.Delay = 0 }, "needs a delay"},
		{"space in a path", func(f *Fencing) { f.Dir = "/etc/my fence" }, "needs quoting"},
		{"quote in a machine", func(f *Fencing) { f.Targets[1].Machine = `a"b` }, "needs quoting"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := fencedParams(FenceDocker, GuardStatic)
			c.brk(p.Fencing)
			out, err := CrmConfig(p)
			if err == nil || !strings.Contains(err.Error(), "crm.tmpl: fencing: ") || !strings.Contains(err.Error(), c.wants) {
				t.Errorf("got %v\n%s", err, out)
			}
		})
	}
}
