package provision

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"halab/lab"
	"halab/lab/fence"
	"halab/templates"
)

// Fencing in the lab file, as the stacks give it meaning: refused (exit 2,
// through lab.Parse as the CLI calls it) where the stack cannot fence or
// its Pacemaker lacks the race guard, accepted where it can.
func TestCheckFencingConfig(t *testing.T) {
	refused := []struct {
		name, in string
		msgs     []string
	}{
		{"heartbeat-v1 has no resource manager", "stack: heartbeat-v1\nfencing: {agent: auto}",
			[]string{"fencing.agent: auto: stack heartbeat-v1 has no resource manager to run a fence device", "use fencing.agent: none, or a stack that fences (corosync, heartbeat)"}},
		{"priority on Pacemaker 1.1.6", "stack: heartbeat\nfencing: {agent: auto, race_guard: priority}",
			[]string{"fencing.race_guard: priority: stack heartbeat runs Pacemaker 1.1.6, which has no priority-fencing-delay, Pacemaker 2.0.4 and later; use one of auto, static, none"}},
		{"random on Pacemaker 1.1.6", "stack: heartbeat\nfencing: {agent: auto, race_guard: random}",
			[]string{"which has no pcmk_delay_max, Pacemaker 1.1.13 and later"}},
		{"random with stack auto", "fencing: {agent: auto, race_guard: random}",
			[]string{"fencing.race_guard: random: stack heartbeat runs Pacemaker 1.1.6", "(stack: auto may pick heartbeat; set stack: to the one you run)"}},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			_, err := lab.Parse([]byte(c.in+"\n"), "lab.yaml", CheckConfig)
			if err == nil || !lab.IsConfigError(err) {
				t.Fatalf("got %v, want a ConfigError", err)
			}
			for _, m := range c.msgs {
				if !strings.Contains(err.Error(), "lab.yaml: ") || !strings.Contains(err.Error(), m) {
					t.Errorf("error lacks %q:\n%v", m, err)
				}
			}
		})
	}
	accepted := []string{
		"stack: heartbeat-v1\nfencing: {agent: none}",
		"stack: heartbeat-v1\nfencing: {race_guard: priority}", // fencing off: the guard is not used
		"fencing: {agent: auto}",
		"fencing: {agent: auto, race_guard: static}",
		"fencing: {agent: auto, race_guard: none, delay: 0}",
		"stack: heartbeat\nfencing: {agent: auto}",
		"stack: heartbeat\nfencing: {agent: auto, race_guard: static, delay: 10}",
	}
	for _, g := range []string{"auto", "priority", "random", "static", "none"} {
		accepted = append(accepted, "stack: corosync\nfencing: {agent: auto, race_guard: "+g+"}")
	}
	for _, in := range accepted {
		if _, err := lab.Parse([]byte(in+"\n"), "lab.yaml", CheckConfig); err != nil {
			t.Errorf("%q refused: %v", in, err)
		}
	}
}

// The race guards of the lab file and of the templates are one list, and
// every stack's guards are templates' guards.
func TestFencingGuardNames(t *testing.T) {
	for _, g := range lab.RaceGuards {
		if g == lab.RaceGuardAuto {
			continue
		}
		if _, ok := guardNeeds[g]; !ok {
			t.Errorf("race guard %q of lab.yaml has no meaning here", g)
		}
	}
	for _, s := range stacks {
		if s.Fence == nil {
			continue
		}
		if len(s.Fence.Guards) == 0 || s.Fence.Agent == "" || s.Fence.Pacemaker == "" || len(s.Fence.Packages) == 0 {
			t.Errorf("stack %s: incomplete fence support %+v", s.Name, s.Fence)
		}
		for _, g := range s.Fence.Guards {
			if !slices.Contains(lab.RaceGuards, g) {
				t.Errorf("stack %s: guard %q is not a race_guard value", s.Name, g)
			}
		}
		if !slices.Contains(s.Fence.Guards, templates.GuardNone) {
			t.Errorf("stack %s cannot turn the guard off", s.Name)
		}
	}
}

// stack: auto never picks a stack that cannot fence, so fencing.agent
// auto with stack auto holds on every OS halab knows.
func TestAutoStackAlwaysFences(t *testing.T) {
	for _, o := range []OSInfo{{ID: "ubuntu", VersionID: "12.04"}, {ID: "debian", VersionID: "12"}} {
		if s, ok := o.AutoStack(); ok && s.Fence == nil {
			t.Errorf("auto picks %s on %s %s, which cannot fence", s.Name, o.ID, o.VersionID)
		}
	}
	for _, s := range stacks {
		if s.Fence == nil && (s.AutoOn(OSInfo{ID: "ubuntu", VersionID: "12.04"}) || s.AutoOn(OSInfo{ID: "debian", VersionID: "12"})) {
			t.Errorf("stack %s cannot fence and auto may pick it", s.Name)
		}
	}
}

func mustFencing(t *testing.T, in, stack string) (*lab.Config, *templates.Fencing) {
	t.Helper()
	cfg, err := lab.Parse([]byte(in+"\n"), "lab.yaml", CheckConfig)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := StackByName(stack)
	f, err := FencingFor(cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, f
}

// The lab file's fencing as the crm configuration gets it, per stack.
func TestFencingFor(t *testing.T) {
	cfg, f := mustFencing(t, "name: halab", "corosync")
	if f != nil {
		t.Fatalf("fencing none gave %+v", f)
	}
	_, f = mustFencing(t, "fencing: {agent: auto}", "corosync")
	want := &templates.Fencing{Agent: templates.FenceDocker, Address: "192.168.56.1", Port: 2386, APIVersion: fence.APIVersion,
		Targets: []templates.FenceTarget{{Node: "node1", Machine: "halab-node1"}, {Node: "node2", Machine: "halab-node2"}},
		Guard:   templates.GuardPriority, Delay: 5}
	if !equalFencing(f, want) {
		t.Errorf("corosync, auto:\n got %+v\nwant %+v", f, want)
	}
	_, f = mustFencing(t, "name: lab2\nfencing: {agent: auto, address: 192.168.56.254, port: 3000, delay: 9}", "heartbeat")
	if f.Agent != templates.FencePlugin || f.Guard != templates.GuardStatic || f.Address != "192.168.56.254" || f.Port != 3000 || f.Delay != 9 ||
		f.Targets[1].Machine != "lab2-node2" {
		t.Errorf("heartbeat, auto: %+v", f)
	}
	_, f = mustFencing(t, "fencing: {agent: auto, race_guard: none}", "corosync")
	if f.Guard != templates.GuardNone || f.Delay != 0 {
		t.Errorf("guard none: %+v", f)
	}
	// `halab provision --stack heartbeat-v1` on a lab file with fencing: a
	// ConfigError (exit 2) with the reason.
	cfg, err := lab.Parse([]byte("fencing: {agent: auto}\n"), "lab.yaml", CheckConfig)
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := StackByName("heartbeat-v1")
	if _, err := FencingFor(cfg, v1); !lab.IsConfigError(err) || !strings.Contains(err.Error(), "stack heartbeat-v1 has no resource manager") {
		t.Errorf("heartbeat-v1: %v", err)
	}
	hb, _ := StackByName("heartbeat")
	cfg.Fencing.RaceGuard = "priority"
	if _, err := FencingFor(cfg, hb); !lab.IsConfigError(err) || !strings.Contains(err.Error(), "Pacemaker 1.1.6") {
		t.Errorf("heartbeat with priority: %v", err)
	}
}

func equalFencing(a, b *templates.Fencing) bool {
	return a.Agent == b.Agent && a.Address == b.Address && a.Port == b.Port && a.APIVersion == b.APIVersion &&
		slices.Equal(a.Targets, b.Targets) && a.Guard == b.Guard && a.Delay == b.Delay && a.Dir == b.Dir
}

// testdata/cib-corosync-fencing.xml is what crmsh 4.4 (Debian 12, with
// Pacemaker 2.1.5's cibadmin) writes for
// templates/testdata/crm-fence-docker-priority.golden: `crm -F configure
// load update` into a blank CIB (cibadmin --empty, nodes node1 and node2)
// through CIB_file, offline. TestCIBFencingCrmsh redoes that for every
// guard where crmsh is installed.
func TestCIBCheckFencing(t *testing.T) {
	raw, err := os.ReadFile("testdata/cib-corosync-fencing.xml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, f := mustFencing(t, "fencing: {agent: auto}", "corosync")
	want := ExpectedCIB(cfg)
	want.Fencing = f
	cib, err := ParseCIB(raw)
	if err != nil {
		t.Fatal(err)
	}
	if probs := want.Check(cib); len(probs) != 0 {
		t.Fatalf("the fixture fails the check: %v", probs)
	}
	// Without fencing expected, the same CIB is refused.
	plain := ExpectedCIB(cfg)
	if probs := strings.Join(plain.Check(cib), "; "); !strings.Contains(probs, `stonith-enabled is "true", want false`) {
		t.Errorf("fencing not expected: %s", probs)
	}
	cases := []struct {
		name, from, to, want string
	}{
		{"stonith off", `name="stonith-enabled" value="true"`, `name="stonith-enabled" value="false"`, `stonith-enabled is "false", want true`},
		{"no priority-fencing-delay", `<nvpair name="priority-fencing-delay" value="5s" id="cib-bootstrap-options-priority-fencing-delay"/>`, ``, `priority-fencing-delay is "", want 5s`},
		{"priority-fencing-delay in ms", `name="priority-fencing-delay" value="5s"`, `name="priority-fencing-delay" value="5000ms"`, ``},
		{"group priority gone", `name="priority" value="10"`, `name="priority" value="1"`, `group FAILOVER-IP-RESOURCE-GROUP meta priority is "1", want 10`},
		{"a device missing", `<primitive id="FENCE-node2"`, `<primitive id="OTHER-node2"`, "fence device FENCE-node2 (fences node2) missing"},
		{"wrong agent", `type="fence_docker">`, `type="fence_xvm">`, "FENCE-node1 is stonith:fence_xvm, want stonith:fence_docker"},
		{"default API version", `name="api_version" value="1.41"`, `name="api_version" value="1.11"`, `FENCE-node1 api_version="1.11", want 1.41`},
		{"host map to another machine", `value="node2:halab-node2"`, `value="node2:other-node2"`, `FENCE-node2 pcmk_host_map="node2:other-node2", want node2:halab-node2`},
		{"endpoint elsewhere", `name="ip" value="192.168.56.1" id="FENCE-node1`, `name="ip" value="192.168.56.2" id="FENCE-node1`, `FENCE-node1 ip="192.168.56.2"`},
		{"no ban", `<rsc_location id="FENCE-node1-NOT-ON-node1" rsc="FENCE-node1" score="-INFINITY" node="node1"/>`, ``,
			"location FENCE-node1-NOT-ON-node1 (FENCE-node1 -inf: node1) missing: node1 could run the device that fences itself"},
		{"ban on the wrong node", `rsc="FENCE-node2" score="-INFINITY" node="node2"`, `rsc="FENCE-node2" score="-INFINITY" node="node1"`, "node2 could run the device that fences itself"},
		{"a preference, not a ban", `rsc="FENCE-node2" score="-INFINITY"`, `rsc="FENCE-node2" score="-100"`, "FENCE-node2-NOT-ON-node2"},
		{"no monitor", `<op name="monitor" interval="60s" id="FENCE-node2-monitor-60s"/>`, ``, "FENCE-node2 has no monitor op every 1m0s"},
		{"leftover static delay", `<nvpair name="pcmk_host_list" value="node1" id="FENCE-node1-instance_attributes-pcmk_host_list"/>`,
			`<nvpair name="pcmk_host_list" value="node1" id="FENCE-node1-instance_attributes-pcmk_host_list"/><nvpair name="pcmk_delay_base" value="5s" id="x"/>`,
			"FENCE-node1 has pcmk_delay_base=5s, which the race guard priority does not set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(string(raw), c.from) {
				t.Fatalf("fixture lacks %q", c.from)
			}
			cib, err := ParseCIB([]byte(strings.Replace(string(raw), c.from, c.to, 1)))
			if err != nil {
				t.Fatal(err)
			}
			probs := strings.Join(want.Check(cib), "; ")
			if c.want == "" && probs != "" {
				t.Errorf("problems %q, want none", probs)
			}
			if !strings.Contains(probs, c.want) {
				t.Errorf("problems %q lack %q", probs, c.want)
			}
		})
	}
	// The CIB of a static guard checked as priority: the leftovers are named.
	_, static := mustFencing(t, "fencing: {agent: auto, race_guard: static}", "corosync")
	want.Fencing = static
	probs := strings.Join(want.Check(cib), "; ")
	for _, w := range []string{`FENCE-node1 pcmk_delay_base="", want 5s`, `priority-fencing-delay is "5s", but the race guard is static`} {
		if !strings.Contains(probs, w) {
			t.Errorf("static against a priority CIB: %q lacks %q", probs, w)
		}
	}
}

// crmsh itself, offline: the crm configuration halab renders for every
// race guard loads into a blank CIB through CIB_file (crmsh checks every
// parameter against fence_docker's metadata), and the CIB it writes passes
// the check. Skipped where crmsh, Pacemaker's cibadmin or fence-agents
// are not installed (no daemon is started).
func TestCIBFencingCrmsh(t *testing.T) {
	for _, tool := range []string{"crm", "cibadmin", "fence_docker"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install crmsh fence-agents)", tool)
		}
	}
	for _, guard := range []string{"priority", "random", "static", "none"} {
		t.Run(guard, func(t *testing.T) {
			cfg, f := mustFencing(t, "stack: corosync\nfencing: {agent: auto, race_guard: "+guard+"}", "corosync")
			p := ParamsFrom(cfg)
			p.Fencing = f
			conf, err := templates.CrmConfig(p)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			confFile, cibFile := filepath.Join(dir, "crm.conf"), filepath.Join(dir, "cib.xml")
			if err := os.WriteFile(confFile, conf, 0o600); err != nil {
				t.Fatal(err)
			}
			blank, err := exec.Command("cibadmin", "--empty").Output()
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(cibFile, blank, 0o600)
			env := append(os.Environ(), "CIB_file="+cibFile)
			for _, n := range []string{`<node id="1" uname="node1"/>`, `<node id="2" uname="node2"/>`} {
				c := exec.Command("cibadmin", "-C", "-o", "nodes", "-X", n)
				c.Env = env
				if out, err := c.CombinedOutput(); err != nil {
					t.Fatalf("cibadmin: %v\n%s", err, out)
				}
			}
			c := exec.Command("crm", "-F", "configure", "load", "update", confFile)
			c.Env = env
			out, err := c.CombinedOutput()
			if err != nil {
				t.Fatalf("crm configure load update: %v\n%s", err, out)
			}
			// The only errors allowed: the LSB service does not exist here.
			for _, l := range strings.Split(string(out), "\n") {
				if strings.Contains(l, "ERROR") && !strings.Contains(l, "lsb:stratos") && !strings.Contains(l, "lack of quorum") || regexp.MustCompile(`is not known|not defined|unknown`).MatchString(l) {
					t.Errorf("crmsh: %s", l)
				}
			}
			q := exec.Command("cibadmin", "-Q")
			q.Env = env
			xml, err := q.Output()
			if err != nil {
				t.Fatal(err)
			}
			cib, err := ParseCIB(xml)
			if err != nil {
				t.Fatal(err)
			}
			want := ExpectedCIB(cfg)
			want.Fencing = f
			if probs := want.Check(cib); len(probs) > 0 {
				t.Errorf("crmsh's CIB fails the check: %v\n%s", probs, xml)
			}
		})
	}
}

// The report's lab entry says how a lab fences: none without fencing (or
// on a stack that cannot), else the stack's agent, the endpoint and the
// race guard the stack resolves auto to.
func TestFencingAbout(t *testing.T) {
	corosync, _ := StackByName("corosync")
	v1, _ := StackByName("heartbeat-v1")
	c := &lab.Config{}
	c.VIP.Address, c.VIP.Netmask = "192.168.71.20", "255.255.255.0"
	c.Fencing = lab.Fencing{Agent: lab.FenceAgentNone, RaceGuard: lab.RaceGuardAuto, Delay: 5, Port: 2396}
	if a, note := FencingAbout(c, corosync); a != "none" || note != "" {
		t.Errorf("fencing.agent none: %q %q", a, note)
	}
	c.Fencing.Agent = "auto"
	if a, _ := FencingAbout(c, v1); a != "none" {
		t.Errorf("heartbeat-v1 cannot fence, yet: %q", a)
	}
	a, note := FencingAbout(c, corosync)
	if a != string(corosync.Fence.Agent) {
		t.Errorf("corosync with fencing.agent auto: %q", a)
	}
	want := "stonith-enabled=true, through the lab's fence endpoint on " + c.FenceEndpoint() + "; race guard " + corosync.Fence.Guards[0] + " (5 s)"
	if note != want {
		t.Errorf("note %q, want %q", note, want)
	}
	c.Fencing.RaceGuard = "none"
	if _, note := FencingAbout(c, corosync); !strings.HasSuffix(note, "; race guard none") {
		t.Errorf("guard none: %q", note)
	}
}
