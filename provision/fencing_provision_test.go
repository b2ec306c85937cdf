package provision

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"halab/lab"
	"halab/lab/fence"
	"halab/lab/labtest"
	"halab/templates"
)

func fencingOn(guard string) func(*lab.Config) {
	return func(c *lab.Config) {
		c.Fencing.Agent = lab.FenceAgentAuto
		c.Fencing.RaceGuard = guard
	}
}

// fixtureCIB makes node1's `crm configure load update` leave the CIB crmsh
// wrote for the fencing configuration (priority guard).
func fixtureCIB(t *testing.T, n *modelNode) {
	raw, err := os.ReadFile("testdata/cib-corosync-fencing.xml")
	if err != nil {
		t.Fatal(err)
	}
	n.loadCIBAs = func([]byte) string { return string(raw) }
}

// With fencing.agent auto, provisioning installs the fence agent, gives
// each node the lab CA's certificate and its own client certificate and key
// (0400 root), and loads and verifies the crm configuration with fencing;
// a second run changes nothing.
func TestProvisionFencing(t *testing.T) {
	fl := newFakeLab(t, "corosync", fencingOn(lab.RaceGuardAuto))
	fixtureCIB(t, fl.node("node1"))
	p := fl.mustProvision()
	pki := fence.LabPKI(fl.lab)
	f := p.Params.Fencing
	if f == nil || f.Agent != templates.FenceDocker || f.Guard != templates.GuardPriority {
		t.Fatalf("fencing: %+v", f)
	}
	for _, n := range fl.nodes {
		n.mu.Lock()
		has := n.packages["fence-agents"]
		n.mu.Unlock()
		if !has {
			t.Errorf("%s: fence-agents not installed", n.Name)
		}
		ca, cert, key, err := pki.NodeFiles(n.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []struct {
			path string
			data []byte
			mode os.FileMode
		}{{f.CAFile(), ca, 0o644}, {f.CertFile(), cert, 0o644}, {f.KeyFile(), key, 0o400}} {
			e, found := n.FS.Stat(want.path)
			got, _ := n.FS.ReadFile(want.path)
			if !found || !bytes.Equal(got, want.data) || e.Mode.Perm() != want.mode || e.UID != 0 {
				t.Errorf("%s:%s: found %v, mode %v, uid %d, same content %v", n.Name, want.path, found, e.Mode.Perm(), e.UID, bytes.Equal(got, want.data))
			}
		}
		if r := mustResult(t, p, n.Name, StepFencing); !r.Changed || r.Detail != "ca.crt, client.crt, client.key" {
			t.Errorf("%s fencing step: %+v", n.Name, r)
		}
	}
	// Each node has its own key.
	k1, _ := fl.node("node1").FS.ReadFile(f.KeyFile())
	k2, _ := fl.node("node2").FS.ReadFile(f.KeyFile())
	if bytes.Equal(k1, k2) {
		t.Error("both nodes got the same client key")
	}
	conf, _ := fl.node("node1").FS.ReadFile(CRMFile)
	for _, w := range []string{"property stonith-enabled=true priority-fencing-delay=5s", "primitive FENCE-node2 stonith:fence_docker", "location FENCE-node1-NOT-ON-node1 FENCE-node1 -inf: node1"} {
		if !strings.Contains(string(conf), w) {
			t.Errorf("crm.conf lacks %q", w)
		}
	}
	if r := mustResult(t, p, "*", StepCRM); !r.Changed || !strings.HasPrefix(r.Detail, "loaded and verified; ") {
		t.Errorf("crm: %+v", r)
	}
	// The endpoint's PKI in the lab's state directory, keys 0600.
	keys, _ := pki.KeyFiles()
	if len(keys) != 5 {
		t.Errorf("PKI keys: %v", keys)
	}

	p = fl.mustProvision()
	for _, n := range fl.nodes {
		if r := mustResult(t, p, n.Name, StepFencing); r.Changed {
			t.Errorf("second run changed %s's fence files: %+v", n.Name, r)
		}
	}
	if r := mustResult(t, p, "*", StepCRM); r.Changed || !strings.HasPrefix(r.Detail, "CIB matches; ") {
		t.Errorf("second run's crm: %+v", r)
	}
}

// Without fencing, no fencing step runs and nothing of it is installed:
// the article's lab is unchanged.
func TestProvisionWithoutFencing(t *testing.T) {
	fl := newFakeLab(t, "corosync", nil)
	p := fl.mustProvision()
	for _, r := range p.Results() {
		if r.Step == StepFencing {
			t.Errorf("a fencing step ran: %+v", r)
		}
	}
	for _, n := range fl.nodes {
		if _, found := n.FS.Stat(templates.FenceDir + "/client.key"); found {
			t.Errorf("%s has a fence key", n.Name)
		}
		n.mu.Lock()
		if n.packages["fence-agents"] {
			t.Errorf("%s: fence-agents installed", n.Name)
		}
		n.mu.Unlock()
	}
	if _, err := os.Stat(fence.Dir(fl.lab.State)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a fence PKI was made: %v", err)
	}
}

// `halab provision --stack heartbeat-v1` on a lab that fences: refused
// before any node is touched past the OS step, as bad input.
func TestProvisionFencingRefusedStack(t *testing.T) {
	fl := newFakeLab(t, "corosync", fencingOn(lab.RaceGuardAuto))
	p, err := New(fl.lab, fl.runners(), Options{Stack: "heartbeat-v1", Out: &fl.out, stopBeforeVIP: true})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Run(context.Background())
	if !lab.IsConfigError(err) || !strings.Contains(err.Error(), "stack heartbeat-v1 has no resource manager to run a fence device") {
		t.Fatalf("got %v", err)
	}
	for _, r := range p.Results() {
		if r.Step != StepOS {
			t.Errorf("step %s ran", r.Step)
		}
	}
}

// The heartbeat stack (Ubuntu 12.04): halab's plugin is installed where
// cluster-glue looks for it, and curl for it.
func TestProvisionFencingPlugin(t *testing.T) {
	fl := newFakeLab(t, "heartbeat", fencingOn(lab.RaceGuardAuto))
	// The crm step's CIB is crmsh's where it runs here; else stop at the
	// step's check, after every file is in place.
	crmsh := crmshNode(t, fl.node("node1"), false)
	p, err := fl.provision()
	if crmsh && err != nil {
		t.Fatalf("provision: %v\n%s", err, fl.out.String())
	}
	for _, n := range fl.nodes {
		e, found := n.FS.Stat(templates.FencePluginPath)
		got, _ := n.FS.ReadFile(templates.FencePluginPath)
		if !found || e.Mode.Perm() != 0o755 || e.UID != 0 || string(got) != Script(pluginScript) {
			t.Errorf("%s: plugin found %v mode %v uid %d", n.Name, found, e.Mode.Perm(), e.UID)
		}
		n.mu.Lock()
		if !n.packages["curl"] {
			t.Errorf("%s: curl not installed", n.Name)
		}
		n.mu.Unlock()
		if r := mustResult(t, p, n.Name, StepFencing); !strings.Contains(r.Detail, "halab-fence") {
			t.Errorf("%s fencing step: %+v", n.Name, r)
		}
	}
	conf, _ := fl.node("node1").FS.ReadFile(CRMFile)
	if !strings.Contains(string(conf), "primitive FENCE-node1 stonith:external/halab-fence") || !strings.Contains(string(conf), "race_delay=5") {
		t.Errorf("crm.conf:\n%s", conf)
	}
}

// crmshNode makes node answer crm, cibadmin and crm_attribute with the
// real tools (crmsh 4.4 and Pacemaker 2.1 here) on an offline CIB
// (CIB_file), with halab's plugin in cluster-glue's plugin directory
// inside a private mount namespace. It says whether it could; required
// makes a missing tool skip the test.
func crmshNode(t *testing.T, n *modelNode, required bool) bool {
	t.Helper()
	for _, tool := range []string{"crm", "cibadmin", "crm_attribute", "unshare", "fence_docker"} {
		if _, err := exec.LookPath(tool); err != nil {
			if required {
				t.Skipf("%s not installed (apt-get install crmsh fence-agents)", tool)
			}
			return false
		}
	}
	const pluginDir = "/usr/lib/stonith/plugins/external"
	if _, err := os.Stat(pluginDir); err != nil || exec.Command("unshare", "-m", "true").Run() != nil {
		if required {
			t.Skip("no cluster-glue plugin directory, or no private mount namespace here")
		}
		return false
	}
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	os.Mkdir(plugins, 0o755)
	if err := os.WriteFile(filepath.Join(plugins, "halab-fence"), []byte(Script(pluginScript)), 0o755); err != nil {
		t.Fatal(err)
	}
	cib := filepath.Join(dir, "cib.xml")
	blank, err := exec.Command("cibadmin", "--empty").Output()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cib, blank, 0o600)
	run := func(argv ...string) (lab.Result, error) {
		script := `mount --bind "$1" ` + pluginDir + ` && shift && exec "$@"`
		cmd := exec.Command("unshare", append([]string{"-m", "sh", "-c", script, "sh", plugins}, argv...)...)
		cmd.Env = append(os.Environ(), "CIB_file="+cib)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		res := lab.Result{Stdout: out.Bytes(), Stderr: errb.Bytes()}
		if ee, ok := err.(*exec.ExitError); ok {
			res.ExitCode = ee.ExitCode()
		} else if err != nil {
			return res, err
		}
		return res, nil
	}
	for _, node := range []string{`<node id="1" uname="node1"/>`, `<node id="2" uname="node2"/>`} {
		if r, err := run("cibadmin", "-C", "-o", "nodes", "-X", node); err != nil || r.ExitCode != 0 {
			t.Fatalf("cibadmin: %v %s", err, r.Stderr)
		}
	}
	n.On(func(c labtest.Call) bool {
		return c.Script == "" && len(c.Args) == 5 && strings.Join(c.Args[:4], " ") == "crm configure load update"
	}, func(c labtest.Call) (lab.Result, error) {
		conf, found := n.FS.ReadFile(c.Args[4])
		if !found {
			return labtest.Exit(1, "ERROR: "+c.Args[4]+": file not found"), nil
		}
		local := filepath.Join(dir, "crm.conf")
		os.WriteFile(local, conf, 0o600)
		// -F: the LSB service does not exist here, as it does on a node,
		// and an offline CIB has no quorum; any other error is one a
		// node's crmsh would refuse the file for.
		r, err := run("crm", "-F", "configure", "load", "update", local)
		for _, l := range strings.Split(string(r.Stdout)+string(r.Stderr), "\n") {
			if strings.Contains(l, "ERROR") && !strings.Contains(l, "lsb:stratos") && !strings.Contains(l, "lack of quorum") {
				t.Errorf("crmsh: %s", l)
				r.ExitCode = 1
			}
		}
		return r, err
	})
	n.OnCommand("cibadmin", func(c labtest.Call) (lab.Result, error) { return run(c.Args...) })
	n.OnCommand("crm_attribute", func(c labtest.Call) (lab.Result, error) { return run(c.Args...) })
	n.On(func(c labtest.Call) bool {
		return c.Script == "" && len(c.Args) > 3 && strings.Join(c.Args[:4], " ") == "crm -F configure delete"
	}, func(c labtest.Call) (lab.Result, error) { return run(c.Args...) })
	return true
}

// The crm step against crmsh itself, offline: fencing loaded and verified
// per race guard; a change of guard or fencing turned off leaves nothing
// of the earlier configuration (devices, constraints,
// priority-fencing-delay), and turning it on again restores it.
func TestProvisionFencingCrmsh(t *testing.T) {
	fl := newFakeLab(t, "corosync", fencingOn(lab.RaceGuardPriority))
	n1 := fl.node("node1")
	crmshNode(t, n1, true)
	cibNow := func() *CIB {
		t.Helper()
		r, err := n1.Sudo(context.Background(), nil, "cibadmin", "-Q")
		if err != nil || r.ExitCode != 0 {
			t.Fatalf("cibadmin -Q: %v %s", err, r.Stderr)
		}
		cib, err := ParseCIB(r.Stdout)
		if err != nil {
			t.Fatal(err)
		}
		return cib
	}
	fenceDevices := func(cib *CIB) []string {
		var ids []string
		for _, p := range cib.Configuration.Resources.Primitives {
			if p.Class == "stonith" {
				ids = append(ids, p.ID+"("+p.Type+")")
			}
		}
		for _, l := range cib.Configuration.Constraints.Locations {
			ids = append(ids, l.ID)
		}
		return ids
	}
	steps := []struct {
		agent, guard string
		devices      int
		pfd          string
	}{
		{"auto", "priority", 4, "5s"},
		{"auto", "static", 4, ""},
		{"auto", "random", 4, ""},
		{"none", "auto", 0, ""},
		{"auto", "auto", 4, "5s"},
	}
	for _, s := range steps {
		fl.lab.Cfg.Fencing.Agent, fl.lab.Cfg.Fencing.RaceGuard = s.agent, s.guard
		p := fl.mustProvision()
		if r := mustResult(t, p, "*", StepCRM); !strings.HasPrefix(r.Detail, "loaded and verified; ") {
			t.Errorf("%s/%s: crm %+v", s.agent, s.guard, r)
		}
		cib := cibNow()
		if got := fenceDevices(cib); len(got) != s.devices {
			t.Errorf("%s/%s: fence objects %v", s.agent, s.guard, got)
		}
		if got := lookup(cib.Configuration.CrmConfig.Sets, "priority-fencing-delay"); got != s.pfd {
			t.Errorf("%s/%s: priority-fencing-delay %q, want %q", s.agent, s.guard, got, s.pfd)
		}
		want := ExpectedCIB(fl.lab.Cfg)
		want.Fencing = p.Params.Fencing
		if probs := want.Check(cib); len(probs) > 0 {
			t.Errorf("%s/%s: %v", s.agent, s.guard, probs)
		}
		// The next run finds nothing to do.
		p = fl.mustProvision()
		if r := mustResult(t, p, "*", StepCRM); r.Changed {
			t.Errorf("%s/%s: second run: crm %+v", s.agent, s.guard, r)
		}
	}
}
