package provision

import (
	"fmt"
	"strconv"
	"time"

	"halab/lab"
	"halab/templates"
)

// corosyncStack: corosync 3 and Pacemaker 2 with the article's crm
// configuration, on Debian 12 (Pacemaker 2 dropped Heartbeat).
var corosyncStack = &Stack{
	Name:  "corosync",
	About: "corosync 3 + Pacemaker 2, the article's crm configuration (Debian 12)",
	Runs: func(o OSInfo) error {
		if o.Precise() {
			return fmt.Errorf("stack corosync is tested with corosync 3 on Debian 12, not on %s", o.describe())
		}
		return nil
	},
	AutoOn:    func(o OSInfo) bool { return o.Debian12() },
	Packages:  []string{"corosync", "pacemaker", "pacemaker-cli-utils", "crmsh", "resource-agents", "net-tools", "iptables"},
	Daemons:   []string{"corosync", "pacemaker"},
	Messaging: "corosync",
	Stop:      lab.Remote("systemctl", "stop", "pacemaker", "corosync"),
	Start:     lab.Remote("systemctl", "start", "corosync", "pacemaker"),
	Caps:      Caps{ResourceManager: true, Monitor: true},
	// pacemakerd's children, in its start order (Pacemaker 2.1)
	Subdaemons: []string{"pacemaker-based", "pacemaker-fenced", "pacemaker-execd", "pacemaker-attrd", "pacemaker-schedulerd", "pacemaker-controld"},
	Files: func(p templates.Params, s *Secrets) ([]File, error) {
		conf, err := templates.CorosyncConf(p)
		if err != nil {
			return nil, err
		}
		return []File{
			{Path: "/etc/corosync/corosync.conf", Data: conf, Mode: 0o644},
			{Path: "/etc/corosync/authkey", Data: s.CorosyncKey, Mode: 0o400},
		}, nil
	},
	SeedCIB: true,
	Detect: func(f NodeFacts) bool {
		return containsStr(f.Enabled, "corosync")
	},
	// A silent peer is declared dead after the token timeout and the
	// consensus that follows it.
	Detection: func(t lab.Timings) time.Duration {
		return time.Duration(t.TokenMS+t.ConsensusMS) * time.Millisecond
	},
	TimingsAbout: func(t lab.Timings) string {
		return fmt.Sprintf("token %d ms, consensus %d ms", t.TokenMS, t.ConsensusMS)
	},
	MembershipTimeout: func(lab.Timings) time.Duration { return 2 * time.Minute },
	Membership:        pacemakerMembership,
	CheckTimings: func(t lab.Timings) []string {
		// corosync.conf(5): consensus must be at least 1.2 * token. In
		// uint64 so that big values cannot wrap around: need is
		// ceil(1.2 × token), floor is what the message shows.
		if t.TokenMS <= 0 || t.ConsensusMS <= 0 {
			return nil // lab reports those
		}
		tok := uint64(t.TokenMS)
		need := tok/10*12 + (tok%10*12+9)/10
		if uint64(t.ConsensusMS) < need {
			return []string{fmt.Sprintf("timings.consensus_ms: %d: corosync needs at least 1.2 × token_ms (%d)", t.ConsensusMS, tok/10*12+tok%10*12/10)}
		}
		return nil
	},
	Heal: func(c *lab.Config) (string, []string) {
		return Script("heal-corosync"), []string{strconv.Itoa(c.Service.StopTimeout + 30)}
	},
	HealCRM:   Script("heal-crm"),
	Verifiers: Pacemaker2Verifiers,
	Status:    Script("status-crm"),
	// Debian 12's fence-agents 4.12 ships fence_docker; Pacemaker 2.1 has
	// every race guard.
	Fence: &FenceSupport{
		Agent: templates.FenceDocker, Pacemaker: "2.1",
		Guards:   []string{templates.GuardPriority, templates.GuardRandom, templates.GuardStatic, templates.GuardNone},
		Packages: []string{"fence-agents"},
	},
}
