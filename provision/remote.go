package provision

import "halab/lab"

// The commands the steps run on the nodes as argv (scripts are under
// scripts/). Each is registered with lab.Remote, so that the tests check
// it against the nodes' tools.
var (
	catOSRelease  = lab.Remote("cat", "/etc/os-release")
	getconfLibc   = lab.Remote("getconf", "GNU_LIBC_VERSION")
	javaVersion   = lab.Remote("java", "-version")
	crmMonOnce    = lab.Remote("crm_mon", "-1")
	crmLoadUpdate = lab.Remote("crm", "configure", "load", "update")
	cibQuery      = lab.Remote("cibadmin", "-Q")
	clStatusNode  = lab.Remote("cl_status", "nodestatus")
	rmForce       = lab.Remote("rm", "-f", "--")
	dfPortable    = lab.Remote("df", "-Pk", "--")
	idGroupName   = lab.Remote("id", "-gn", "--")
	shInline      = lab.Remote("sh", "-c")
	// the service's init script, run by its path
	initdStatus = lab.Remote(InitScriptTool, "status")
	// every init script action is bounded by coreutils' timeout
	timeoutKill = lab.Remote("timeout", "-s", "KILL")
)

// InitScriptTool is how the tool table names the service's LSB init
// script (halab's template, checked as a script of its own), which halab
// runs by its path.
const InitScriptTool = "init-script"
