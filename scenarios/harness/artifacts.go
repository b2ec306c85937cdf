package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"halab/lab"
	"halab/provision"
)

// artifactCommands are what a failed scenario keeps from every node: the
// cluster's view (crm_mon, the CIB, heartbeat's status), its logs and the
// network state. Secrets are not among them (authkeys is never read), and
// everything is redacted anyway.
var artifactCommands = []struct{ File, Script string }{
	{"crm_mon.txt", script("artifact-crm-mon-text")},
	{"crm_mon.xml", script("artifact-crm-mon-xml")},
	{"cib.xml", script("artifact-cib")},
	{"cluster.log", script("artifact-logs")},
	{"network.txt", script("artifact-network")},
	{"service.txt", script("artifact-service")},
}

// Collect saves every reachable node's state and logs under dir (made if
// needed), plus extra files (the prober's timeline), all redacted of the
// lab's secrets. It returns the files written; unreachable nodes get a
// file saying why.
func (c *Cluster) Collect(ctx context.Context, dir string, extra map[string][]byte) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	secrets, err := provision.ReadSecretValues(c.Lab.State)
	if err != nil {
		return nil, err
	}
	var written []string
	write := func(name string, data []byte) error {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, provision.Redact(data, secrets), 0o644); err != nil {
			return err
		}
		written = append(written, p)
		return nil
	}
	initd := provision.InitScriptPath(c.Lab.Cfg.Service.Name)
	for _, node := range c.Names() {
		for _, a := range artifactCommands {
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			res, err := c.run(cctx, node, a.Script, initd)
			cancel()
			data := append(res.Stdout, res.Stderr...)
			if err != nil {
				data = append(data, []byte(fmt.Sprintf("\nhalab: %v\n", err))...)
			}
			if err := write(node+"-"+a.File, data); err != nil {
				return written, err
			}
			var ce *lab.ConnError
			if errors.As(err, &ce) {
				break // unreachable: one file says so, the others would too
			}
		}
	}
	if err := write("config-audit.txt", c.configArtifact(ctx)); err != nil {
		return written, err
	}
	names := make([]string, 0, len(extra))
	for n := range extra {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := write(n, extra[n]); err != nil {
			return written, err
		}
	}
	return written, nil
}
