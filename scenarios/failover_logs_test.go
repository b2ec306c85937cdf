package scenarios

import "testing"

// The lines the SIGKILL of corosync declares match what it caused on live
// labs and in CI, and not the same daemons' other troubles.
func TestCorosyncKilledLogPatterns(t *testing.T) {
	e := declaringEnv(t, "corosync")
	e.expectCorosyncKilled()
	e.checkDeclared(t, []string{
		// the journal's text of a kill-daemon run (e2e, run D)
		"pacemakerd[571]:  error: pacemaker-controld[580] exited with status 102 (Not connected)",
		"pacemakerd[571]:  error: Could not get executable for PID 576: No such file or directory",
		"pacemakerd[571]:  crit: Could not connect to Corosync CFG: CS_ERR_LIBRARY",
		// CI at 83fb766
		"pacemakerd[9962]:  error: pacemaker-attrd[9968] terminated with signal 15 (Terminated)",
	}, []string{
		"pacemakerd[9962]:  error: pacemaker-based[9964] terminated with signal 15 (Terminated)",
		"pacemakerd[9962]:  error: pacemaker-attrd[9968] terminated with signal 11 (Segmentation fault)",
		"pacemakerd[9962]:  error: pacemaker-attrd[9968] terminated with signal 15 (Terminated) and dumped core",
		"pacemaker-attrd[9968]:  error: pacemaker-controld[1] terminated with signal 15 (Terminated)",
	})
}

// A stack's start declares Pacemaker 2.1.5's refused connection to the
// attribute manager at a controller's join, as a non-DC logs it, and not
// the DC's critical line or another failure.
func TestStackStartLogPatterns(t *testing.T) {
	e := declaringEnv(t, "corosync")
	e.expectStackStart()
	e.checkDeclared(t, []string{
		// CI at 3cf372e: the node the fence had rebooted (fence device failing)
		"pacemaker-controld[69]:  error: Could not connect to attrd: Connection refused",
		"pacemaker-controld[69]:  error: Could not update attribute #feature-set=3.16.1 for cluster node node2: Connection refused",
	}, []string{
		"pacemaker-controld[69]:  crit: Could not update attribute #feature-set=3.16.1 for cluster node node2: Connection refused",
		"pacemaker-controld[69]:  error: Could not update attribute #feature-set=3.16.1 for cluster node node2: Connection timed out",
		"pacemaker-controld[69]:  error: Could not update attribute fail-count-STRATOS#monitor_15000=1 for cluster node node2: Connection refused",
		"pacemaker-controld[69]:  error: Could not connect to attrd: Permission denied",
		"pacemaker-execd[66]:  error: Could not connect to attrd: Connection refused",
	})
}
