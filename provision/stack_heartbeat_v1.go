package provision

import (
	"context"
	"fmt"

	"halab/lab"
	"halab/templates"
)

// heartbeatV1Stack: heartbeat 3 with `crm no`, whose own resource manager
// starts the resources of haresources (`node IPaddr::VIP/len/nic
// stratos`). It runs where Pacemaker no longer supports Heartbeat; it does
// not monitor resources.
var heartbeatV1Stack = &Stack{
	Name:      "heartbeat-v1",
	About:     "heartbeat with crm no and haresources, no resource manager (Debian 12)",
	Runs:      func(OSInfo) error { return nil },
	AutoOn:    func(OSInfo) bool { return false },
	Packages:  []string{"heartbeat", "resource-agents", "cluster-glue", "net-tools", "iptables"},
	Daemons:   []string{"heartbeat"},
	Messaging: "heartbeat",
	Stop:      serviceHeartbeatStop,
	Start:     serviceHeartbeatStart,
	Caps:      Caps{},
	Files: func(p templates.Params, s *Secrets) ([]File, error) {
		return heartbeatFiles(p, s, false)
	},
	Detect: func(f NodeFacts) bool {
		return containsStr(f.Enabled, "heartbeat") && f.CRM != "yes"
	},
	Detection:         heartbeatDetection,
	TimingsAbout:      heartbeatTimingsAbout,
	MembershipTimeout: heartbeatMembershipTimeout,
	Membership:        heartbeatMembership,
	CheckTimings:      checkHeartbeatTimings,
	Heal: func(c *lab.Config) (string, []string) {
		return Script("heal-heartbeat"), heartbeatHealArgs(c, "v1")
	},
	NoVerifier: HeartbeatV1NoVerifier,
	Status:     Script("status-heartbeat"),
}

// heartbeatMembership: every node sees every other as active
// (cl_status), as heartbeat's own resource manager needs.
func heartbeatMembership(ctx context.Context, nodes []lab.Runner, names []string) (bool, string, error) {
	for _, n := range nodes {
		for _, peer := range names {
			res, err := n.Sudo(ctx, nil, clStatusNode.Argv(peer)...)
			if err != nil {
				return false, "", err
			}
			st := firstLine(res.Stdout, res.Stderr)
			if !res.OK() || st != "active" {
				return false, fmt.Sprintf("%s sees %s as %q", n.NodeName(), peer, st), nil
			}
		}
	}
	return true, "", nil
}
