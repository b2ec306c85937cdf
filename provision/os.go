package provision

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"halab/lab"
)

// OSInfo is a node's /etc/os-release.
type OSInfo struct {
	ID        string // ubuntu, debian
	VersionID string // 12.04, 12
	Pretty    string
}

// ParseOSRelease reads /etc/os-release's KEY=value lines.
func ParseOSRelease(s string) OSInfo {
	var o OSInfo
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			o.ID = v
		case "VERSION_ID":
			o.VersionID = v
		case "PRETTY_NAME":
			o.Pretty = v
		}
	}
	return o
}

// DefaultStack is what stack: auto means on this OS (DESIGN.md's table):
// the article's Heartbeat+Pacemaker where Pacemaker still supports it,
// corosync where it does not.
func (o OSInfo) DefaultStack() string {
	switch {
	case o.ID == "ubuntu" && o.VersionID == "12.04":
		return "heartbeat"
	case o.ID == "debian" && o.VersionID == "12":
		return "corosync"
	}
	return ""
}

// Supports says whether a stack can run on this OS.
func (o OSInfo) Supports(stack string) error {
	precise := o.ID == "ubuntu" && o.VersionID == "12.04"
	switch stack {
	case "heartbeat":
		if !precise {
			return fmt.Errorf("stack heartbeat (crm yes) needs Pacemaker 1.1 on Ubuntu 12.04; %s has Pacemaker 2, which dropped Heartbeat: use heartbeat-v1 or corosync", o.describe())
		}
	case "heartbeat-v1":
	case "corosync":
		if precise {
			return fmt.Errorf("stack corosync is tested with corosync 3 on Debian 12; on %s use heartbeat", o.describe())
		}
	default:
		return fmt.Errorf("unknown stack %q", stack)
	}
	return nil
}

func (o OSInfo) describe() string {
	if o.Pretty != "" {
		return o.Pretty
	}
	return o.ID + " " + o.VersionID
}

// Precise reports Ubuntu 12.04, whose archive moved to old-releases.
func (o OSInfo) Precise() bool { return o.ID == "ubuntu" && o.VersionID == "12.04" }

func (p *Provisioner) detectOS(ctx context.Context, n *lab.Node) (bool, string, error) {
	res, err := n.Run(ctx, nil, "cat", "/etc/os-release")
	if err != nil {
		return false, "", err
	}
	info := ParseOSRelease(string(res.Stdout))
	p.mu.Lock()
	p.osInfo[n.Name] = info
	p.mu.Unlock()
	return false, info.describe(), nil
}

// Packages each stack needs on a node.
func Packages(stack string) []string {
	switch stack {
	case "heartbeat":
		return []string{"heartbeat", "pacemaker", "resource-agents", "net-tools", "iptables"}
	case "heartbeat-v1":
		return []string{"heartbeat", "resource-agents", "cluster-glue", "net-tools", "iptables"}
	default:
		return []string{"corosync", "pacemaker", "pacemaker-cli-utils", "crmsh", "resource-agents", "net-tools", "iptables"}
	}
}

// packagesScript installs the missing packages ($@) with apt; on precise it
// first points apt at old-releases, where its archive lives now. It prints
// the packages it installed.
const packagesScript = `set -e
missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if grep -q 'VERSION_ID="12.04"' /etc/os-release 2>/dev/null; then
  sed -i -e 's#http://[a-z.]*archive.ubuntu.com#http://old-releases.ubuntu.com#' \
         -e 's#http://security.ubuntu.com#http://old-releases.ubuntu.com#' /etc/apt/sources.list
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends $missing >&2
echo $missing`

func (p *Provisioner) packages(ctx context.Context, n *lab.Node) (bool, string, error) {
	res, err := n.SudoScript(ctx, packagesScript, Packages(p.Stack)...)
	if err != nil {
		var ee *lab.ExitError
		if errors.As(err, &ee) {
			return false, "", fmt.Errorf("apt-get could not install the cluster packages %v: %w; fix apt on the node (its network, proxy and /etc/apt/sources.list; try `halab ssh %s -- sudo apt-get update`), then re-run `halab provision`", Packages(p.Stack), err, n.Name)
		}
		return false, "", err
	}
	if got := strings.TrimSpace(string(res.Stdout)); got != "" {
		return true, "installed " + got, nil
	}
	return false, "", nil
}
