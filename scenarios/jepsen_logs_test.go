package scenarios

import (
	"testing"

	"halab/provision"
	"halab/scenarios/harness"
)

// The log lines the Jepsen-style specs declare match the lines the
// faults caused on live labs (journal of corosync/pacemaker, heartbeat's
// ha-log), and nothing else of the kind.
func TestJepsenLogPatterns(t *testing.T) {
	live := map[string][]string{
		"corosync": {
			"Nov 26 13:45:50.486769 node1 pacemaker-schedulerd[539]:  error: ocf resource FAILOVER-IP might be active on 2 nodes (attempting recovery)",
			"Nov 26 13:45:50.486824 node1 pacemaker-schedulerd[539]:  error: lsb resource STRATOS might be active on 2 nodes (attempting recovery)",
			"Nov 26 13:45:50.487489 node1 pacemaker-schedulerd[539]:  error: Calculated transition 0 (with errors), saving inputs in /var/lib/pacemaker/pengine/pe-error-0.bz2",
		},
		"heartbeat-v1": {
			"Nov 26 13:52:45 node2 heartbeat: [5268]: CRIT: Cluster node node1 returning after partition.",
			"Nov 26 13:52:45 node2 heartbeat: [5268]: CRIT: Late heartbeat: Node node1: interval 35020 ms (> deadtime)",
			"Nov 26 13:52:45 node2 heartbeat: [5268]: ERROR: Both machines own our resources!",
			"Nov 26 13:52:45 node2 heartbeat: [5268]: ERROR: Both machines own foreign resources!",
			"Nov 26 13:53:11 node2 heartbeat: [6317]: ERROR: Unable to set scheduler parameters.: Operation not permitted",
			"Nov 26 13:53:11 node2 heartbeat: [6314]: ERROR: Cannot lock ourselves into memory:  System limits on locked-in memory are too small.",
			"Nov 26 13:54:42 node1 heartbeat: [10445]: ERROR: Cannot write to media pipe 1: Resource temporarily unavailable",
			"Nov 26 13:54:42 node1 heartbeat: [10445]: ERROR: Killing and restarting communications processes.: Resource temporarily unavailable",
			"Nov 26 13:54:40 node1 heartbeat: [10445]: ERROR: HBREAD process died.  Beginning communications restart process for comm channel 0.",
			"Nov 26 13:54:40 node1 heartbeat: [10445]: ERROR: Both comm processes for channel 0 have died.  Restarting.",
			"Nov 26 14:32:37 node1 heartbeat: [36052]: ERROR: glib: ucast_write: Unable to send HBcomm packet eth1 192.168.76.12:694 len=313 [-1]: Operation not permitted",
			"Nov 26 14:32:37 node1 heartbeat: [36052]: ERROR: write_child: write failure on ucast eth1.: Operation not permitted",
			"Nov 26 13:54:14 node1 heartbeat: [7672]: ERROR: api_process_registration_msg: cannot add client()",
			// the restart after pause-daemon (CI): the comm children restarted
			"Nov 26 23:00:54 node2 heartbeat: [14241]: ERROR: Cannot write to media pipe 1: Invalid argument",
			"Nov 26 23:00:54 node2 heartbeat: [14241]: ERROR: Killing and restarting communications processes.: Invalid argument",
			"Nov 26 23:00:54 node2 heartbeat: [14241]: CRIT: send_to_all_media: No working comm channels to write to.",
			"Nov 26 23:00:54 node2 heartbeat: [14241]: ERROR: HBWRITE process died.  Beginning communications restart process for comm channel 0.",
			"Nov 26 23:00:54 node2 heartbeat: [14241]: ERROR: HBWRITE process died.  Beginning communications restart process for comm channel 1.",
			// machine pause (CI): the audit's client died of SIGHUP on resume
			"Nov 26 20:09:42 node1 heartbeat: [6831]: ERROR: api_process_registration_msg: cannot add client()",
		},
	}
	others := []string{
		"Nov 26 13:45:50 node1 pacemaker-controld[540]:  error: Resource STRATOS was active at shutdown",
		"Nov 26 13:52:45 node2 heartbeat: [5268]: ERROR: Message hist queue is filling up",
		"Nov 26 13:45:50 node1 pacemaker-schedulerd[539]:  error: ocf resource OTHER might be active on 2 nodes (attempting recovery)",
		"Nov 26 23:00:54 node2 heartbeat: [14241]: ERROR: Cannot write to media pipe 1: Broken pipe",
		"Nov 26 23:00:54 node2 heartbeat: [14241]: CRIT: send_to_all_media: some other trouble.",
	}
	for name, lines := range live {
		e := declaringEnv(t, name)
		e.expectTwoOwners("two owners")
		e.expectSendDropped("sends dropped")
		e.expectHeartbeatClientGone()
		e.checkDeclared(t, lines, others)
	}
}

// declaringEnv is an env of the stack named, without a lab: enough for
// a spec's declarations of the log lines its fault causes.
func declaringEnv(t *testing.T, stack string) *env {
	t.Helper()
	st, ok := provision.StackByName(stack)
	if !ok {
		t.Fatalf("no stack %s", stack)
	}
	return &env{c: &harness.Cluster{Stack: st}}
}

// checkDeclared: each line of caused matches a declaration of e, no line
// of unrelated does.
func (e *env) checkDeclared(t *testing.T, caused, unrelated []string) {
	t.Helper()
	declared := func(l string) bool {
		for _, x := range e.expectedLogs {
			if x.Pattern.MatchString(l) {
				return true
			}
		}
		return false
	}
	for _, l := range caused {
		if !declared(l) {
			t.Errorf("%s: no declared pattern matches %q", e.c.Stack.Name, l)
		}
	}
	for _, l := range unrelated {
		if declared(l) {
			t.Errorf("%s: a declared pattern matches the unrelated %q", e.c.Stack.Name, l)
		}
	}
}
