package scenarios

import "testing"

// The lines each Pacemaker-side declaration covers match what its fault
// caused on live labs and in CI, and not the same daemons' other troubles;
// a stack without Pacemaker declares none of them.
func TestPacemakerLogDeclarations(t *testing.T) {
	for _, tc := range []struct {
		name              string
		declare           func(*env)
		caused, unrelated []string
	}{{
		// the SIGKILL of corosync
		name: "corosync killed", declare: (*env).expectCorosyncKilled,
		caused: []string{
			// the journal's text of a kill-daemon run (e2e, run D)
			"pacemakerd[571]:  error: pacemaker-controld[580] exited with status 102 (Not connected)",
			"pacemakerd[571]:  error: Could not get executable for PID 576: No such file or directory",
			"pacemakerd[571]:  crit: Could not connect to Corosync CFG: CS_ERR_LIBRARY",
			// CI at 83fb766
			"pacemakerd[9962]:  error: pacemaker-attrd[9968] terminated with signal 15 (Terminated)",
			// CI run Q (2594021): the fencer lost the CIB manager first
			"pacemaker-fenced[17658]:  error: Connection to cib_rw IPC failed",
			"pacemaker-fenced[17658]:  error: Connection to cib_rw closed",
			"pacemaker-fenced[17658]:  crit: Lost connection to the CIB manager, shutting down",
		},
		unrelated: []string{
			"pacemaker-fenced[17658]:  error: Connection to cib_rw IPC failed: Permission denied",
			"pacemaker-fenced[17658]:  error: Connection to stonith-ng closed",
			"pacemaker-execd[17659]:  crit: Lost connection to the CIB manager, shutting down",
			"pacemakerd[9962]:  error: pacemaker-based[9964] terminated with signal 15 (Terminated)",
			"pacemakerd[9962]:  error: pacemaker-attrd[9968] terminated with signal 11 (Segmentation fault)",
			"pacemakerd[9962]:  error: pacemaker-attrd[9968] terminated with signal 15 (Terminated) and dumped core",
			"pacemaker-attrd[9968]:  error: pacemaker-controld[1] terminated with signal 15 (Terminated)",
		},
	}, {
		// a stack's start: Pacemaker 2.1.5's refused connection to the
		// attribute manager at a controller's join, as a non-DC logs it,
		// not the DC's critical line or another failure
		name: "stack start", declare: (*env).expectStackStart,
		caused: []string{
			// CI at 3cf372e: the node the fence had rebooted (fence device failing)
			"pacemaker-controld[69]:  error: Could not connect to attrd: Connection refused",
			"pacemaker-controld[69]:  error: Could not update attribute #feature-set=3.16.1 for cluster node node2: Connection refused",
		},
		unrelated: []string{
			"pacemaker-controld[69]:  crit: Could not update attribute #feature-set=3.16.1 for cluster node node2: Connection refused",
			"pacemaker-controld[69]:  error: Could not update attribute #feature-set=3.16.1 for cluster node node2: Connection timed out",
			"pacemaker-controld[69]:  error: Could not update attribute fail-count-STRATOS#monitor_15000=1 for cluster node node2: Connection refused",
			"pacemaker-controld[69]:  error: Could not connect to attrd: Permission denied",
			"pacemaker-execd[66]:  error: Could not connect to attrd: Connection refused",
		},
	}, {
		// the machine pause: a daemon's failed reply to a client frozen in
		// its IPC handshake, for that errno only
		name: "frozen IPC client", declare: (*env).expectFrozenIPCClient,
		caused: []string{
			// CI at 3593c4f: the fenced node's pacemakerd, at the thaw of
			// the fence's kill
			"pacemakerd[547]:  error: Error in connection setup (/dev/shm/qb-547-1213-8-ZPGYie/qb): Broken pipe (32)",
			// the CIB manager's form of it (an earlier CI run; pids and
			// suffix here are made up)
			"pacemaker-based[63]:  error: Error in connection setup (/dev/shm/qb-63-1190-12-a1B2c3/qb): Broken pipe (32)",
		},
		unrelated: []string{
			"pacemakerd[547]:  error: Error in connection setup (/dev/shm/qb-547-1213-8-ZPGYie/qb): Cannot allocate memory (12)",
			"pacemakerd[547]:  error: Invalid IPC credentials (/dev/shm/qb-547-1213-8-ZPGYie/qb).",
			"corosync[30]:  error: Error in connection setup (/dev/shm/qb-30-1213-8-ZPGYie/qb): Broken pipe (32)",
			"pacemakerd[547]:  error: Error in connection setup (/tmp/elsewhere): Broken pipe (32)",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			e := declaringEnv(t, "corosync")
			tc.declare(e)
			e.checkDeclared(t, tc.caused, tc.unrelated)
		})
	}
	// heartbeat-v1 has no Pacemaker daemon
	h := declaringEnv(t, "heartbeat-v1")
	h.expectFrozenIPCClient()
	if len(h.expectedLogs) != 0 {
		t.Errorf("heartbeat-v1 has no Pacemaker daemon, yet declares %v", h.expectedLogs)
	}
}
