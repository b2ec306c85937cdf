package harness

import (
	"context"
	"fmt"
	"time"

	"halab/provision"
)

// CheckInitd runs the LSB conformance plan on a node where the service is
// not running (node, or the first such node when node is ""), so that the
// check does not fight the cluster. With script set, it pushes that file
// to the node and checks it instead of the installed init script. It
// returns the results and what was checked ("PATH on NODE").
func (c *Cluster) CheckInitd(ctx context.Context, node string, script []byte, timeout time.Duration) ([]provision.LSBResult, string, error) {
	svc := c.Lab.Cfg.Service
	if timeout <= 0 {
		timeout = time.Duration(svc.StartTimeout+15) * time.Second
	}
	var target string
	for _, name := range c.Names() {
		if node != "" && name != node {
			continue
		}
		n, err := c.Node(ctx, name)
		if err != nil {
			return nil, "", err
		}
		running, err := provision.ServiceRunning(ctx, n, svc.Name)
		if err != nil {
			return nil, "", err
		}
		if running {
			if node != "" {
				return nil, "", fmt.Errorf("the service runs on %s, where the cluster manages it: check on another node (--node), or put %s in standby first", name, name)
			}
			continue
		}
		target = name
		break
	}
	if target == "" {
		return nil, "", fmt.Errorf("the service runs on every node: nowhere to check without disturbing the cluster")
	}
	n, err := c.Node(ctx, target)
	if err != nil {
		return nil, "", err
	}
	path := provision.InitScriptPath(svc.Name)
	if script != nil {
		path = provision.CheckScriptPath(svc.Name)
		if _, err := provision.PushFiles(ctx, n, []provision.File{{Path: path, Data: script, Mode: 0o755}}); err != nil {
			return nil, "", err
		}
	}
	// CheckLSB finds the service's processes without its pid file, and
	// kills what the script left running at the end (the article's stop
	// cannot see its own service): the node is left as found.
	runner := &provision.NodeScript{Node: n, Script: path, Timeout: timeout}
	res, err := provision.CheckLSB(ctx, runner)
	return res, path + " on " + target, err
}
