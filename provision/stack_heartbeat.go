package provision

import (
	"fmt"
	"strconv"
	"time"

	"halab/lab"
	"halab/templates"
)

// heartbeatStack is the article's: heartbeat with `crm yes`, so that
// Pacemaker 1.1 runs the crm configuration, on Ubuntu 12.04.
var heartbeatStack = &Stack{
	Name:  "heartbeat",
	About: "heartbeat with crm yes + Pacemaker 1.1, the article's stack (Ubuntu 12.04)",
	Runs: func(o OSInfo) error {
		if !o.Precise() {
			return fmt.Errorf("stack heartbeat (crm yes) needs Pacemaker 1.1 on Ubuntu 12.04; %s has Pacemaker 2, which dropped Heartbeat", o.describe())
		}
		return nil
	},
	AutoOn:    func(o OSInfo) bool { return o.Precise() },
	Packages:  []string{"heartbeat", "pacemaker", "resource-agents", "net-tools", "iptables"},
	Daemons:   []string{"heartbeat"}, // with crm yes, heartbeat starts Pacemaker itself
	Messaging: "heartbeat",
	Stop:      serviceHeartbeatStop,
	Start:     serviceHeartbeatStart,
	Caps:      Caps{ResourceManager: true, Monitor: true},
	Files: func(p templates.Params, s *Secrets) ([]File, error) {
		return heartbeatFiles(p, s, true)
	},
	Detect: func(f NodeFacts) bool {
		return containsStr(f.Enabled, "heartbeat") && f.CRM == "yes"
	},
	Detection:         heartbeatDetection,
	TimingsAbout:      heartbeatTimingsAbout,
	MembershipTimeout: heartbeatMembershipTimeout,
	Membership:        pacemakerMembership,
	CheckTimings:      checkHeartbeatTimings,
	Heal: func(c *lab.Config) (string, []string) {
		return Script("heal-heartbeat"), heartbeatHealArgs(c, "crm")
	},
	// Pacemaker 1.1.6: no XML from crm_mon, crm_resource --cleanup needs -r
	HealCRM:   Script("heal-crm-1.1"),
	Verifiers: Pacemaker116Verifiers,
	Status:    Script("status-crm-1.1"),
	// Ubuntu 12.04's fence-agents (3.1.5) has no fence_docker: halab's
	// cluster-glue plugin calls the endpoint with curl. Pacemaker 1.1.6
	// has neither priority-fencing-delay (2.0.4) nor pcmk_delay_max
	// (1.1.13): the plugin itself delays the device that fences the first
	// node.
	Fence: &FenceSupport{
		Agent: templates.FencePlugin, Pacemaker: "1.1.6",
		Guards:   []string{templates.GuardStatic, templates.GuardNone},
		Packages: []string{"curl"},
	},
}

// serviceHeartbeatStop stops heartbeat (and, with crm yes, the Pacemaker
// daemons it started) through its init script, on sysvinit and systemd.
var serviceHeartbeatStop = lab.Remote("service", "heartbeat", "stop")

// serviceHeartbeatStart starts heartbeat (and, with crm yes, Pacemaker)
// through its init script, on sysvinit and systemd.
var serviceHeartbeatStart = lab.Remote("service", "heartbeat", "start")

// heartbeatFiles are ha.cf, authkeys and, without crm, haresources.
func heartbeatFiles(p templates.Params, s *Secrets, crm bool) ([]File, error) {
	hacf, err := templates.HaCf(p, crm)
	if err != nil {
		return nil, err
	}
	keys, err := templates.Authkeys(s.HeartbeatKey)
	if err != nil {
		return nil, err
	}
	files := []File{
		{Path: "/etc/ha.d/ha.cf", Data: hacf, Mode: 0o644},
		{Path: "/etc/ha.d/authkeys", Data: keys, Mode: 0o600},
	}
	if !crm {
		hr, err := templates.Haresources(p)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: "/etc/ha.d/haresources", Data: hr, Mode: 0o644})
	}
	return files, nil
}

// heartbeatDetection: a peer silent for deadtime is declared dead.
func heartbeatDetection(t lab.Timings) time.Duration { return time.Duration(t.Deadtime) * time.Second }

func heartbeatTimingsAbout(t lab.Timings) string {
	return fmt.Sprintf("keepalive %d s, deadtime %d s", t.Keepalive, t.Deadtime)
}

// heartbeatMembershipTimeout: heartbeat waits initdead for its peers at
// start.
func heartbeatMembershipTimeout(t lab.Timings) time.Duration {
	return time.Duration(t.Initdead)*time.Second + 2*time.Minute
}

func checkHeartbeatTimings(t lab.Timings) []string {
	var p []string
	if t.Keepalive <= 0 || t.Warntime <= 0 || t.Deadtime <= 0 || t.Initdead <= 0 {
		return nil // lab reports those
	}
	if t.Deadtime <= t.Keepalive {
		p = append(p, fmt.Sprintf("timings.deadtime: %d s is not longer than keepalive (%d s): every node would be declared dead", t.Deadtime, t.Keepalive))
	}
	if t.Warntime >= t.Deadtime {
		p = append(p, fmt.Sprintf("timings.warntime: %d s: must be shorter than deadtime (%d s)", t.Warntime, t.Deadtime))
	}
	if t.Initdead < t.Deadtime {
		p = append(p, fmt.Sprintf("timings.initdead: %d s: must be at least deadtime (%d s)", t.Initdead, t.Deadtime))
	}
	return p
}

// heartbeatHealArgs are heal-heartbeat.sh's arguments: the resource
// manager (crm, or v1 for haresources), NIC, VIP, prefix, init script.
func heartbeatHealArgs(c *lab.Config, rm string) []string {
	return []string{rm, c.VIP.NIC, c.VIP.Address, strconv.Itoa(c.Prefix()), InitScriptPath(c.Service.Name)}
}
