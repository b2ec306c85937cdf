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
	{"crm_mon.txt", `crm_mon -1 -rfA 2>&1 || cl_status hbstatus 2>&1; cl_status listnodes 2>/dev/null | while read n; do echo "$n $(cl_status nodestatus "$n")"; done; true`},
	{"crm_mon.xml", `crm_mon -1 --output-as=xml 2>/dev/null || crm_mon -1 -X 2>&1 || true`},
	{"cib.xml", `cibadmin -Q 2>&1 || true`},
	{"cluster.log", `if command -v journalctl >/dev/null; then journalctl --no-pager -n 3000 -u corosync -u pacemaker -u heartbeat 2>&1; fi
for f in /var/log/ha-log /var/log/corosync/corosync.log /var/log/pacemaker/pacemaker.log /var/log/syslog; do
  [ -f "$f" ] && { echo "==> $f"; tail -n 3000 "$f"; }
done; true`},
	{"network.txt", `ip addr 2>&1; echo; iptables -S 2>&1; true`},
	{"service.txt", `"$1" status 2>&1; echo "exit $?"; ps -eo pid,stat,lstart,args | grep -E '[j]ava|[c]orosync|[p]acemaker|[h]eartbeat'; true`},
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
