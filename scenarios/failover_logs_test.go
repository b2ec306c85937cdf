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
