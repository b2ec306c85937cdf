package provision

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"halab/lab"
	"halab/lab/labtest"
)

// What each stack must leave on a node: its messaging files and their
// modes (secrets readable by root only), the daemons.sh arguments of a
// first run, the config file a timing lives in, and a timing to change.
var stackCases = []struct {
	stack     string
	files     map[string]os.FileMode
	absent    []string
	daemons   []string // daemons.sh's arguments after the mode
	conf      string   // base name of the file the timings are in
	retime    func(*lab.Timings)
	membersBy string // the command that asks a node for its members
}{
	{
		stack:     "corosync",
		files:     map[string]os.FileMode{"/etc/corosync/corosync.conf": 0o644, "/etc/corosync/authkey": 0o400},
		absent:    []string{"/etc/ha.d/ha.cf", "/etc/ha.d/authkeys"},
		daemons:   []string{"corosync", "pacemaker", "--", "heartbeat"},
		conf:      "corosync.conf",
		retime:    func(t *lab.Timings) { t.TokenMS, t.ConsensusMS = 1000, 1200 },
		membersBy: "crm_mon",
	},
	{
		stack:     "heartbeat",
		files:     map[string]os.FileMode{"/etc/ha.d/ha.cf": 0o644, "/etc/ha.d/authkeys": 0o600},
		absent:    []string{"/etc/ha.d/haresources", "/etc/corosync/authkey"},
		daemons:   []string{"heartbeat", "--", "corosync", "pacemaker"},
		conf:      "ha.cf",
		retime:    func(t *lab.Timings) { t.Deadtime = 30 },
		membersBy: "crm_mon",
	},
	{
		stack:     "heartbeat-v1",
		files:     map[string]os.FileMode{"/etc/ha.d/ha.cf": 0o644, "/etc/ha.d/authkeys": 0o600, "/etc/ha.d/haresources": 0o644},
		absent:    []string{"/etc/corosync/authkey", CRMFile},
		daemons:   []string{"heartbeat", "--", "corosync", "pacemaker"},
		conf:      "ha.cf",
		retime:    func(t *lab.Timings) { t.Deadtime = 30 },
		membersBy: "cl_status",
	},
}

// result finds a step's result on a node ("*" for the cluster steps).
func result(t *testing.T, p *Provisioner, node, step string) (StepResult, bool) {
	t.Helper()
	for _, r := range p.Results() {
		if r.Node == node && r.Step == step {
			return r, true
		}
	}
	return StepResult{}, false
}

func mustResult(t *testing.T, p *Provisioner, node, step string) StepResult {
	t.Helper()
	r, ok := result(t, p, node, step)
	if !ok {
		t.Fatalf("no result for step %s on %s; results: %+v", step, node, p.Results())
	}
	return r
}

// commandCalls are a node's plain commands whose argv[0] is name.
// crmLoads are the `crm configure load` calls (not the verifier's).
func crmLoads(n *modelNode) []labtest.Call {
	var out []labtest.Call
	for _, c := range commandCalls(n, "crm") {
		if len(c.Args) > 2 && c.Args[2] == "load" {
			out = append(out, c)
		}
	}
	return out
}

func commandCalls(n *modelNode, name string) []labtest.Call {
	var out []labtest.Call
	for _, c := range n.Calls() {
		if c.Script == "" && len(c.Args) > 0 && c.Args[0] == name {
			out = append(out, c)
		}
	}
	return out
}

// assertNoSecretsInCommands: the cluster keys travel only in SFTP file
// data, never on a command line or in a script sent on stdin.
func assertNoSecretsInCommands(t *testing.T, fl *fakeLab, s *Secrets, calls map[string][]labtest.Call) {
	t.Helper()
	needles := []string{s.HeartbeatKey, string(s.CorosyncKey), hex.EncodeToString(s.CorosyncKey)}
	for node, cs := range calls {
		for _, c := range cs {
			for _, field := range append(append([]string(nil), c.Argv...), string(c.Stdin)) {
				for _, secret := range needles {
					if strings.Contains(field, secret) {
						t.Errorf("node %s: a secret is in the command %s", node, c)
					}
				}
			}
		}
	}
}

func allCalls(fl *fakeLab, into map[string][]labtest.Call) {
	for _, n := range fl.nodes {
		into[n.Name] = append(into[n.Name], n.Calls()...)
	}
}

// A fresh lab gets everything (every node-step reports changed, the
// messaging files land with their modes, the daemons restart); a second
// run with nothing changed pushes nothing, keeps the daemons and reports
// ok everywhere.
func TestProvisionFreshThenUnchanged(t *testing.T) {
	for _, sc := range stackCases {
		t.Run(sc.stack, func(t *testing.T) {
			fl := newFakeLab(t, sc.stack, nil)
			stack, _ := StackByName(sc.stack)
			calls := map[string][]labtest.Call{}

			p := fl.mustProvision()
			allCalls(fl, calls)
			for _, n := range fl.nodes {
				for _, step := range []string{StepPackages, StepJDK, StepService, StepMessaging, StepDaemons} {
					if r := mustResult(t, p, n.Name, step); !r.Changed {
						t.Errorf("%s: fresh %s is not changed: %+v", n.Name, step, r)
					}
				}
				pk := n.ScriptCalls("packages")
				if len(pk) != 1 || !slices.Equal(pk[0].Args, stack.Packages) {
					t.Errorf("%s: packages.sh ran as %v, want once with %v", n.Name, pk, stack.Packages)
				}
				for file, mode := range sc.files {
					e, ok := n.FS.Lstat(file)
					if !ok {
						t.Errorf("%s: %s not pushed", n.Name, file)
						continue
					}
					if e.Mode != mode || e.UID != 0 || e.GID != 0 {
						t.Errorf("%s: %s is %v %d:%d, want %v root:root", n.Name, file, e.Mode, e.UID, e.GID, mode)
					}
				}
				for _, file := range sc.absent {
					if _, ok := n.FS.Lstat(file); ok {
						t.Errorf("%s: %s is there, not a file of stack %s", n.Name, file, sc.stack)
					}
				}
				// The keys arrived, by SFTP.
				if k, ok := n.FS.ReadFile("/etc/corosync/authkey"); ok && !bytes.Equal(k, p.Secrets.CorosyncKey) {
					t.Errorf("%s: authkey is not the lab's key", n.Name)
				}
				if k, ok := n.FS.ReadFile("/etc/ha.d/authkeys"); ok && !strings.Contains(string(k), p.Secrets.HeartbeatKey) {
					t.Errorf("%s: authkeys lack the lab's key", n.Name)
				}
				d := n.ScriptCalls("daemons")
				if want := append([]string{"restart"}, sc.daemons...); len(d) != 1 || !slices.Equal(d[0].Args, want) {
					t.Errorf("%s: daemons.sh ran as %v, want %v", n.Name, d, want)
				}
				// The JDK is unpacked behind java_home, its pushed archive gone.
				if target, ok := n.FS.Readlink("/opt/jdk"); !ok || !strings.HasPrefix(target, "/opt/.halab/jdk-") {
					t.Errorf("%s: /opt/jdk -> %q", n.Name, target)
				}
				if e, ok := n.FS.Stat("/opt/jdk/bin/java"); !ok || e.Mode.Perm() != 0o755 {
					t.Errorf("%s: no java under /opt/jdk", n.Name)
				}
				if len(commandCalls(n, "/opt/jdk/bin/java")) != 1 {
					t.Errorf("%s: the fresh JDK was not run once", n.Name)
				}
				// The service's files, owned as the service needs them.
				for file, want := range map[string]struct {
					mode     os.FileMode
					uid, gid int
				}{
					"/etc/init.d/stratos":                    {0o755, 0, 0},
					"/opt/stratos/bin/stratos.sh":            {0o755, 1000, 1000},
					"/opt/stratos/lib/Stratos.java":          {0o644, 1000, 1000},
					"/opt/stratos/lib/classes/Stratos.class": {0o644, 1000, 1000},
				} {
					if e, ok := n.FS.Lstat(file); !ok || e.Mode != want.mode || e.UID != want.uid || e.GID != want.gid {
						t.Errorf("%s: %s is %+v (present %v), want %v %d:%d", n.Name, file, e.Mode, ok, want.mode, want.uid, want.gid)
					}
				}
				for _, f := range n.FS.Paths() {
					if strings.Contains(f, ".halab-") && !strings.HasSuffix(f, "/.halab-sha256") && !strings.HasSuffix(f, "/.halab-link") || strings.HasSuffix(f, ".archive") {
						t.Errorf("%s: a temporary file is left: %s", n.Name, f)
					}
				}
				// Membership is asked the stack's way.
				other := map[string]string{"crm_mon": "cl_status", "cl_status": "crm_mon"}[sc.membersBy]
				if len(commandCalls(n, sc.membersBy)) == 0 || len(commandCalls(n, other)) != 0 {
					t.Errorf("%s: membership by %s: %d calls, by %s: %d", n.Name, sc.membersBy, len(commandCalls(n, sc.membersBy)), other, len(commandCalls(n, other)))
				}
			}
			mustResult(t, p, "*", StepMembership)
			crm, hasCRM := result(t, p, "*", StepCRM)
			if stack.Caps.ResourceManager {
				// the configuration audit: the verifiers' findings on the
				// article's configuration, counted in the step's detail
				if !hasCRM || !crm.Changed || crm.Detail != "loaded and verified; 3 warnings from the cluster's verifiers (above)" {
					t.Errorf("crm: %+v (present %v)", crm, hasCRM)
				}
				if e, ok := fl.nodes[0].FS.Lstat(CRMFile); !ok || e.Mode != 0o600 {
					t.Errorf("%s on %s: %+v %v", CRMFile, fl.nodes[0].Name, e, ok)
				}
				if len(crmLoads(fl.nodes[0])) != 1 {
					t.Errorf("crm configure load ran %d times", len(crmLoads(fl.nodes[0])))
				}
				if a := p.ConfigAudit(); a == nil || len(a.Findings) != 3 || a.Node != "node1" {
					t.Errorf("config audit %+v", a)
				}
				if !strings.Contains(fl.out.String(), "means: the colocation FAILOVER-IP-RESOURCE-GROUP-COLOCATION only repeats what the group already does") {
					t.Errorf("provision's output does not say what the findings mean:\n%s", fl.out.String())
				}
			} else {
				if hasCRM {
					t.Errorf("a crm step without a resource manager: %+v", crm)
				}
				for _, n := range fl.nodes {
					if len(commandCalls(n, "crm"))+len(commandCalls(n, "cibadmin")) != 0 {
						t.Errorf("%s: Pacemaker commands on a heartbeat v1 node", n.Name)
					}
				}
			}
			if _, ok := result(t, p, "*", StepVIP); ok {
				t.Error("the vip step ran")
			}

			// Again, with nothing changed.
			before := map[string]map[string]labtest.File{}
			for _, n := range fl.nodes {
				before[n.Name] = n.FS.Snapshot()
				n.FS.ResetOps()
			}
			p = fl.mustProvision()
			allCalls(fl, calls)
			if p.Changed() != 0 {
				t.Errorf("second run changed %d steps: %+v", p.Changed(), p.Results())
			}
			if strings.Contains(fl.out.String(), "changed") {
				t.Errorf("second run reports changes:\n%s", fl.out.String())
			}
			for _, n := range fl.nodes {
				if ops := n.FS.Ops(); len(ops) != 0 {
					t.Errorf("%s: second run wrote over SFTP: %v", n.Name, ops)
				}
				after := n.FS.Snapshot()
				if len(after) != len(before[n.Name]) {
					t.Errorf("%s: files changed: %d before, %d after", n.Name, len(before[n.Name]), len(after))
				}
				for f, e := range before[n.Name] {
					a := after[f]
					if !bytes.Equal(a.Data, e.Data) || a.Mode != e.Mode || a.UID != e.UID || a.GID != e.GID || a.Link != e.Link {
						t.Errorf("%s: %s changed", n.Name, f)
					}
				}
				d := n.ScriptCalls("daemons")
				if want := append([]string{"keep"}, sc.daemons...); len(d) != 1 || !slices.Equal(d[0].Args, want) {
					t.Errorf("%s: daemons.sh ran as %v, want %v", n.Name, d, want)
				}
				if r := mustResult(t, p, n.Name, StepJDK); !strings.Contains(r.Detail, "already unpacked") {
					t.Errorf("%s: jdk %+v", n.Name, r)
				}
				if len(n.ScriptCalls("unpack")) != 0 || len(commandCalls(n, "/opt/jdk/bin/java")) != 0 {
					t.Errorf("%s: an unpacked JDK was unpacked or run again", n.Name)
				}
				if len(n.ScriptCalls("seed-cib")) != 0 {
					t.Errorf("%s: CIB seeded without a restart", n.Name)
				}
			}
			if stack.Caps.ResourceManager {
				if r := mustResult(t, p, "*", StepCRM); !strings.HasPrefix(r.Detail, "CIB matches; 3 warnings") {
					t.Errorf("crm: %+v", r)
				}
				if len(crmLoads(fl.nodes[0])) != 0 {
					t.Error("an unchanged crm configuration was loaded again")
				}
			}
			assertNoSecretsInCommands(t, fl, p.Secrets, calls)
		})
	}
}

// A timing changed in lab.yaml rewrites the messaging layer's config
// file (and only it: the keys stay) and restarts the daemons.
func TestTimingChangeRestarts(t *testing.T) {
	for _, sc := range stackCases {
		t.Run(sc.stack, func(t *testing.T) {
			fl := newFakeLab(t, sc.stack, nil)
			fl.mustProvision()
			sc.retime(&fl.lab.Cfg.Timings)
			if probs := CheckConfig(fl.lab.Cfg); len(probs) > 0 {
				t.Fatal(probs)
			}
			for _, n := range fl.nodes {
				n.FS.ResetOps()
			}
			p := fl.mustProvision()
			for _, n := range fl.nodes {
				r := mustResult(t, p, n.Name, StepMessaging)
				if !r.Changed || r.Detail != sc.conf {
					t.Errorf("%s: messaging %+v, want changed %s", n.Name, r, sc.conf)
				}
				for _, op := range n.FS.Ops() {
					if strings.Contains(op, "authkey") {
						t.Errorf("%s: the unchanged key was touched: %s", n.Name, op)
					}
				}
				d := n.ScriptCalls("daemons")
				if len(d) != 1 || d[0].Args[0] != "restart" {
					t.Errorf("%s: daemons.sh %v, want restart", n.Name, d)
				}
				if len(n.ScriptCalls("seed-cib")) != 0 {
					t.Errorf("%s: seeded a CIB with dc_deadtime 0", n.Name)
				}
				for _, step := range []string{StepPackages, StepJDK, StepService} {
					if mustResult(t, p, n.Name, step).Changed {
						t.Errorf("%s: %s changed on a timing change", n.Name, step)
					}
				}
			}
		})
	}
}

// A key whose mode drifted is chmodded back in place, not rewritten, and
// only that node restarts.
func TestModeDriftIsRepairedOnThatNode(t *testing.T) {
	fl := newFakeLab(t, "corosync", nil)
	fl.mustProvision()
	drifted, other := fl.node("node2"), fl.node("node1")
	drifted.FS.Chmod("/etc/corosync/authkey", 0o644)
	drifted.FS.ResetOps()
	p := fl.mustProvision()
	if e, _ := drifted.FS.Lstat("/etc/corosync/authkey"); e.Mode != 0o400 {
		t.Errorf("authkey is %v", e.Mode)
	}
	ops := drifted.FS.Ops()
	if !slices.Equal(ops, []string{"setstat /etc/corosync/authkey mode=0400", "setstat /etc/corosync/authkey uid=0 gid=0"}) {
		t.Errorf("SFTP ops %v, want a chmod and chown in place", ops)
	}
	if r := mustResult(t, p, "node2", StepMessaging); !r.Changed || r.Detail != "authkey" {
		t.Errorf("node2 messaging %+v", r)
	}
	if r := mustResult(t, p, "node1", StepMessaging); r.Changed {
		t.Errorf("node1 messaging %+v", r)
	}
	if d := drifted.ScriptCalls("daemons"); d[0].Args[0] != "restart" {
		t.Errorf("node2 daemons %v", d[0].Args)
	}
	if d := other.ScriptCalls("daemons"); d[0].Args[0] != "keep" {
		t.Errorf("node1 daemons %v", d[0].Args)
	}
}

// dc-deadtime is seeded into a fresh CIB before the first restart, only
// by the stacks that start Pacemaker themselves and only when set.
func TestSeedCIB(t *testing.T) {
	for _, sc := range stackCases {
		for _, dc := range []int{0, 5} {
			t.Run(sc.stack+"/dc_deadtime="+strconv.Itoa(dc), func(t *testing.T) {
				fl := newFakeLab(t, sc.stack, func(c *lab.Config) { c.Timings.DCDeadtime = dc })
				stack, _ := StackByName(sc.stack)
				fl.mustProvision()
				want := stack.SeedCIB && dc > 0
				for _, n := range fl.nodes {
					seeds := n.ScriptCalls("seed-cib")
					if got := len(seeds) == 1; got != want || len(seeds) > 1 {
						t.Fatalf("%s: seed-cib ran %d times, want seeded=%v", n.Name, len(seeds), want)
					}
					_, seeded := n.FS.Lstat("/var/lib/pacemaker/cib/cib.xml")
					if seeded != want {
						t.Errorf("%s: cib.xml present %v", n.Name, seeded)
					}
					if !want {
						continue
					}
					if !slices.Equal(seeds[0].Args, []string{"5s"}) {
						t.Errorf("%s: seed-cib %v", n.Name, seeds[0].Args)
					}
					// Seeded before the daemons start.
					calls := n.Calls()
					iSeed := slices.IndexFunc(calls, func(c labtest.Call) bool { return c.Script == "seed-cib" })
					iDaemons := slices.IndexFunc(calls, func(c labtest.Call) bool { return c.Script == "daemons" })
					if iSeed > iDaemons {
						t.Errorf("%s: seed-cib after daemons.sh", n.Name)
					}
				}
				// A run that keeps the daemons running seeds nothing.
				fl.mustProvision()
				for _, n := range fl.nodes {
					if s := n.ScriptCalls("seed-cib"); len(s) != 0 {
						t.Errorf("%s: seed-cib ran without a restart: %v", n.Name, s)
					}
				}
			})
		}
	}
}

// stepErr checks that err is the StepError of step on node and says why.
func stepErr(t *testing.T, err error, step, node string, says ...string) *StepError {
	t.Helper()
	var se *StepError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *StepError", err, err)
	}
	if se.Step != step || se.Node != node {
		t.Errorf("StepError names step %s on %s, want %s on %s: %v", se.Step, se.Node, step, node, err)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not say %q:\n%v", s, err)
		}
	}
	return se
}

// apt failing on one node stops the run at the packages step with what
// apt said, which packages, and how to fix apt.
func TestPackagesFailure(t *testing.T) {
	for _, sc := range stackCases {
		t.Run(sc.stack, func(t *testing.T) {
			fl := newFakeLab(t, sc.stack, nil)
			stack, _ := StackByName(sc.stack)
			fl.node("node2").OnScript("packages", func(labtest.Call) (lab.Result, error) {
				return labtest.Exit(100, "E: Unable to locate package "+stack.Packages[0]), nil
			})
			_, err := fl.provision()
			says := append([]string{"step packages on node2", "E: Unable to locate package", "fix apt", "apt-get update", "halab provision"}, stack.Packages...)
			stepErr(t, err, StepPackages, "node2", says...)
			if !errors.As(err, new(*lab.ExitError)) {
				t.Errorf("the exit status is lost: %v", err)
			}
			for _, n := range fl.nodes {
				if len(n.ScriptCalls("installed")) != 0 {
					t.Errorf("%s: the run went on past the failed step", n.Name)
				}
			}
		})
	}
}

// A script that exits non-zero fails its step with the node's stderr,
// and the run stops there.
func TestScriptFailure(t *testing.T) {
	fl := newFakeLab(t, "corosync", nil)
	fl.node("node1").OnScript("daemons", func(labtest.Call) (lab.Result, error) {
		return labtest.Exit(1, "Job for corosync.service failed because the control process exited with error code."), nil
	})
	_, err := fl.provision()
	stepErr(t, err, StepDaemons, "node1", "Job for corosync.service failed", "exited 1")
	for _, n := range fl.nodes {
		if len(commandCalls(n, "crm_mon")) != 0 {
			t.Errorf("%s: membership was awaited after the daemons failed", n.Name)
		}
	}
}

// A missing service user fails the service step with the script's reason.
func TestServiceUserMissing(t *testing.T) {
	fl := newFakeLab(t, "heartbeat-v1", func(c *lab.Config) { c.Service.User = "stratos" })
	_, err := fl.provision()
	stepErr(t, err, StepService, "node1", "service user stratos does not exist on the node")
}

// A transport failure passes through the step as the *lab.ConnError it is,
// in a command and in an SFTP push.
func TestTransportFailure(t *testing.T) {
	t.Run("command", func(t *testing.T) {
		fl := newFakeLab(t, "corosync", nil)
		n := fl.node("node2")
		n.OnScript("installed", func(c labtest.Call) (lab.Result, error) {
			return lab.Result{ExitCode: -1}, n.ConnError(c, io.ErrUnexpectedEOF)
		})
		_, err := fl.provision()
		stepErr(t, err, StepJDK, "node2")
		if !errors.As(err, new(*lab.ConnError)) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("not the transport error: %v", err)
		}
	})
	t.Run("sftp", func(t *testing.T) {
		fl := newFakeLab(t, "heartbeat", nil)
		fl.mustProvision()
		fl.lab.Cfg.Timings.Deadtime = 30
		fl.node("node1").FailSFTP(io.ErrClosedPipe)
		_, err := fl.provision()
		stepErr(t, err, StepMessaging, "node1")
		if !errors.As(err, new(*lab.ConnError)) || !errors.Is(err, io.ErrClosedPipe) {
			t.Errorf("not the transport error: %v", err)
		}
	})
}

// The crm step verifies what Pacemaker made of the configuration.
func TestCRMVerifiesTheCIB(t *testing.T) {
	fl := newFakeLab(t, "corosync", nil)
	fl.node("node1").loadCIBAs = func([]byte) string {
		raw, err := os.ReadFile("testdata/cib-corosync.xml")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Replace(string(raw), `name="stonith-enabled" value="false"`, `name="stonith-enabled" value="true"`, 1)
	}
	_, err := fl.provision()
	stepErr(t, err, StepCRM, "*", "the CIB differs from the configuration", "stonith-enabled")

	// With the configuration unchanged, a CIB that drifted is loaded again.
	fl.node("node1").loadCIBAs = nil
	fl.mustProvision()
	fl.node("node1").mu.Lock()
	fl.node("node1").cib = strings.Replace(fl.node("node1").cib, `value="eth1"`, `value="eth0"`, 1)
	fl.node("node1").mu.Unlock()
	p := fl.mustProvision()
	if r := mustResult(t, p, "*", StepCRM); !r.Changed || len(crmLoads(fl.node("node1"))) != 1 {
		t.Errorf("a drifted CIB was not reloaded: %+v", r)
	}
}

// The JDK step skips the push when installed.sh says the archive is
// unpacked, whatever the file system holds.
func TestJDKSkippedWhenInstalled(t *testing.T) {
	fl := newFakeLab(t, "heartbeat-v1", nil)
	for _, n := range fl.nodes {
		n.OnScript("installed", func(labtest.Call) (lab.Result, error) { return labtest.OK(""), nil })
	}
	p := fl.mustProvision()
	for _, n := range fl.nodes {
		if r := mustResult(t, p, n.Name, StepJDK); r.Changed {
			t.Errorf("%s: jdk %+v", n.Name, r)
		}
		for _, f := range n.FS.Paths() {
			if strings.HasPrefix(f, "/opt/.halab") {
				t.Errorf("%s: pushed %s", n.Name, f)
			}
		}
		if len(n.ScriptCalls("unpack")) != 0 {
			t.Errorf("%s: unpacked", n.Name)
		}
	}
}

// A start timeout changed in lab.yaml rewrites the init script (and
// nothing else of the service: the stand-in is not recompiled) and the crm
// configuration, which is loaded again although the CIB passes the check
// (that check does not cover op timeouts); the daemons keep running.
func TestStartTimeoutChange(t *testing.T) {
	fl := newFakeLab(t, "corosync", nil)
	fl.mustProvision()
	fl.lab.Cfg.Service.StartTimeout = 90
	p := fl.mustProvision()
	for _, n := range fl.nodes {
		if r := mustResult(t, p, n.Name, StepService); !r.Changed || r.Detail != "stratos" {
			t.Errorf("%s: service %+v, want changed stratos", n.Name, r)
		}
		// The stand-in's classes are compiled on this machine and pushed
		// with the service's files: the detail above says only the init
		// script changed, so they were neither recompiled nor re-pushed.
		if d := n.ScriptCalls("daemons"); d[0].Args[0] != "keep" {
			t.Errorf("%s: daemons %v", n.Name, d[0].Args)
		}
		initd, _ := n.FS.ReadFile("/etc/init.d/stratos")
		if !strings.Contains(string(initd), "START_TIMEOUT=90") {
			t.Errorf("%s: the init script has not the new timeout", n.Name)
		}
	}
	if r := mustResult(t, p, "*", StepCRM); !r.Changed || len(crmLoads(fl.node("node1"))) != 1 {
		t.Errorf("a changed crm configuration was not loaded: %+v", r)
	}
	conf, _ := fl.node("node1").FS.ReadFile(CRMFile)
	if !strings.Contains(string(conf), "op start interval=0 timeout=100s") {
		t.Errorf("crm.conf:\n%s", conf)
	}
}

// Membership waits, asking again, until every node sees every node: by
// crm_mon with a resource manager, by cl_status without.
func TestMembershipWaitsForPeers(t *testing.T) {
	for _, sc := range []struct{ stack, cmd, notYet string }{
		{"corosync", "crm_mon", "Current DC: NONE\nNode List:\n  * Online: [ node2 ]\n  * OFFLINE: [ node1 ]\n"},
		{"heartbeat-v1", "cl_status", "dead\n"},
	} {
		t.Run(sc.stack, func(t *testing.T) {
			fl := newFakeLab(t, sc.stack, nil)
			n := fl.node("node2")
			var mu sync.Mutex
			first := true
			n.On(func(c labtest.Call) bool {
				mu.Lock()
				defer mu.Unlock()
				return first && c.Script == "" && c.Args[0] == sc.cmd
			}, func(labtest.Call) (lab.Result, error) {
				mu.Lock()
				first = false
				mu.Unlock()
				return labtest.OK(sc.notYet), nil
			})
			p := fl.mustProvision()
			if r := mustResult(t, p, "*", StepMembership); r.Detail != "every node sees node1, node2" {
				t.Errorf("membership %+v", r)
			}
			if got := len(commandCalls(n, sc.cmd)); got < 2 {
				t.Errorf("node2 asked %d times, want again after the first answer", got)
			}
		})
	}
}

// An error from the cluster's verifiers fails provisioning with their
// words (here what crm_verify and crmsh said on a real lab of a CIB with
// fencing on and no fence device); the warnings are printed with it.
func TestCRMVerifierErrorFailsProvisioning(t *testing.T) {
	fl := newFakeLab(t, "corosync", nil)
	n := fl.node("node1")
	for _, v := range []struct{ file, cmd string }{
		{"pcmk2.1.5-crm_verify-L-VV-no-fence-device.exit78.txt", "crm_verify -L -V -V"},
		{"crmsh4.4-configure-verify-no-fence-device.exit1.txt", "crm configure verify"},
	} {
		out, err := os.ReadFile("testdata/verify/" + v.file)
		if err != nil {
			t.Fatal(err)
		}
		code := 78
		if strings.HasPrefix(v.file, "crmsh") {
			code = 1
		}
		n.On(func(c labtest.Call) bool { return c.Script == "" && strings.Join(c.Args, " ") == v.cmd },
			func(labtest.Call) (lab.Result, error) { return lab.Result{ExitCode: code, Stderr: out}, nil })
	}
	_, err := fl.provision()
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepCRM {
		t.Fatalf("provision: %v, want a crm step error\n%s", err, fl.out.String())
	}
	want := "the cluster's verifiers find errors in the configuration: crm_verify, crm configure verify: Resource start-up disabled since no STONITH resources have been defined"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
	for _, w := range []string{"configuration audit on node1 (crm_verify, crm configure verify): 3 errors, 2 warnings",
		"means: stonith-enabled=true without a fence device: Pacemaker starts no resource at all",
		"warning (crm configure verify): FAILOVER-IP-RESOURCE-GROUP-COLOCATION: resource STRATOS is grouped"} {
		if !strings.Contains(fl.out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, fl.out.String())
		}
	}
}
