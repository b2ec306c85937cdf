package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"halab/provision"
)

// pacemaker116Tools writes stand-ins of Pacemaker 1.1.6's crm_mon,
// crm_attribute, crm_resource and crm shell into a directory for PATH.
// They take the options 1.1.6 takes and answer as 1.1.6 does:
//
//   - crm_mon: `--version` prints "Pacemaker 1.1.6" and "Written by Andrew
//     Beekhof" and exits 0 (tools/crm_mon.c main case '$' → crm_help('$',
//     LSB_EXIT_OK); lib/common/utils.c crm_help l. 2145-2153). An option it
//     does not know (--output-as, --as-xml, -X: not among long_options,
//     tools/crm_mon.c l. 271-308) makes getopt_long return '?', and
//     crm_get_option (lib/common/utils.c l. 2118-2136) calls crm_help('?',
//     *index?0:1) with the index still 0: the usage on stderr, exit 1.
//     `-1 [-r] [-f]` prints the fixture (the status text).
//   - crm_attribute `-N NODE -n standby -G -q -l forever` prints the
//     standby value, if any.
//   - crm_resource records its arguments: `--cleanup` without `-r` finds no
//     resource and does nothing (tools/crm_resource.c l. 1454-1459 and
//     delete_lrm_rsc l. 730-737).
//   - crm records its arguments.
func pacemaker116Tools(t *testing.T, status, standby string) (dir, log string) {
	t.Helper()
	dir = t.TempDir()
	log = filepath.Join(dir, "calls.log")
	statusFile := filepath.Join(dir, "status.txt")
	if err := os.WriteFile(statusFile, []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	tools := map[string]string{
		"crm_mon": `#!/bin/sh
echo "crm_mon $*" >>"` + log + `"
usage() { echo "crm_mon - Provides a summary of cluster's current state." >&2; echo "Usage: crm_mon mode [options]" >&2; exit 1; }
for a in "$@"; do
  case $a in
  --version) echo "Pacemaker 1.1.6"; echo "Written by Andrew Beekhof"; exit 0 ;;
  --*) usage ;;
  esac
done
while getopts '?VQh:wsS:C:T:nrfotAi:1Ndp:F:H:P:E:e:x:' o; do
  case $o in '?') usage ;; esac
done
cat "` + statusFile + `"
`,
		"crm_attribute": `#!/bin/sh
echo "crm_attribute $*" >>"` + log + `"
[ -n "` + standby + `" ] && echo "` + standby + `"
exit 0
`,
		"crm_resource": `#!/bin/sh
echo "crm_resource $*" >>"` + log + `"
case " $* " in *" -r "*) echo "Cleaning up"; exit 0 ;; esac
echo "Resource (null) not found: No such device or address" >&2; exit 1
`,
		"crm": `#!/bin/sh
echo "crm $*" >>"` + log + `"
`,
	}
	for name, body := range tools {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, log
}

// runScript runs a node script under dash (12.04's /bin/sh) with the
// stand-in tools first on PATH.
func runNodeScript(t *testing.T, tools, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command(lookDash(t), append([]string{"-s", "--"}, args...)...)
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = append(os.Environ(), "PATH="+tools+":/usr/bin:/bin")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	return string(out)
}

func heartbeatStack(t *testing.T) *provision.Stack {
	s, ok := provision.StackByName("heartbeat")
	if !ok {
		t.Fatal("no heartbeat stack")
	}
	return s
}

// The heartbeat stack's status script reads 1.1.6's text and the audit
// parses it; the Pacemaker 2 script (XML only) reads "daemon down" there.
func TestStatusScriptOnPacemaker116(t *testing.T) {
	fixture := string(readTestdata(t, "crm_mon-1.1.6-failcount.txt"))
	tools, log := pacemaker116Tools(t, fixture, "")
	out := runNodeScript(t, tools, heartbeatStack(t).Status)
	a, err := ParseAudit("node1", []byte("vip yes\nservice 0\n"+out))
	if err != nil {
		t.Fatal(err)
	}
	if !a.DaemonUp || a.Pacemaker != "1.1.6" || a.CrmMon == nil || a.CrmMon.FailCounts["STRATOS@node1"] != 1 {
		t.Errorf("audit %+v from:\n%s", a, out)
	}
	calls, _ := os.ReadFile(log)
	if !strings.Contains(string(calls), "crm_mon -1 -r -f") {
		t.Errorf("calls: %s", calls)
	}

	corosync, _ := provision.StackByName("corosync")
	if old := runNodeScript(t, tools, corosync.Status); strings.TrimSpace(old) != "daemon down" {
		t.Errorf("the XML-only status script on 1.1.6 printed %q; the defect this stack's own script fixes is gone?", old)
	}
}

// The heartbeat stack's heal clears a fail count with `crm_resource
// --cleanup -r RESOURCE` and puts a standby node online with `crm node
// online`; the Pacemaker 2 heal (XML fail counts, --cleanup without -r)
// would do neither cleanup on 1.1.6.
func TestHealOnPacemaker116(t *testing.T) {
	fixture := string(readTestdata(t, "crm_mon-1.1.6-failcount.txt"))
	tools, log := pacemaker116Tools(t, fixture, "on")
	out := runNodeScript(t, tools, heartbeatStack(t).HealCRM, "node1")
	calls, _ := os.ReadFile(log)
	for _, want := range []string{"crm_attribute -N node1 -n standby -G -q -l forever", "crm node online node1", "crm_resource --cleanup -r STRATOS"} {
		if !strings.Contains(string(calls), want+"\n") {
			t.Errorf("heal did not run %q; calls:\n%s", want, calls)
		}
	}
	if !strings.Contains(out, "cleared the fail counts of STRATOS") || !strings.Contains(out, "put node1 online") {
		t.Errorf("heal said %q", out)
	}
	if strings.Contains(string(calls), "FAILOVER-IP") {
		t.Errorf("cleaned a resource without a fail count:\n%s", calls)
	}

	// Nothing to do on a healthy cluster.
	tools, log = pacemaker116Tools(t, string(readTestdata(t, "crm_mon-1.1.6-healthy.txt")), "")
	if out := runNodeScript(t, tools, heartbeatStack(t).HealCRM, "node1"); strings.TrimSpace(out) != "" {
		t.Errorf("heal of a healthy node said %q", out)
	}
	if calls, _ := os.ReadFile(log); strings.Contains(string(calls), "crm_resource") || strings.Contains(string(calls), "crm node") {
		t.Errorf("heal of a healthy node ran:\n%s", calls)
	}

	// Pacemaker 2's heal on 1.1.6 sees no fail count at all.
	tools, log = pacemaker116Tools(t, fixture, "")
	corosync, _ := provision.StackByName("corosync")
	runNodeScript(t, tools, corosync.HealCRM, "node1")
	if calls, _ := os.ReadFile(log); strings.Contains(string(calls), "crm_resource") {
		t.Errorf("the XML-reading heal found a fail count on 1.1.6?\n%s", calls)
	}
}
