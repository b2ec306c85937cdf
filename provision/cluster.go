package provision

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"halab/lab"
	"halab/templates"
)

// poll calls check every interval until it returns done, an error, or the
// timeout passes, printing what it still waits for every 10 s.
func poll(ctx context.Context, out io.Writer, what string, timeout, interval time.Duration, check func(ctx context.Context) (done bool, waitingFor string, err error)) error {
	start := time.Now()
	lastSaid := start
	var waiting string
	for {
		done, w, err := check(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		waiting = w
		if time.Since(lastSaid) >= 10*time.Second {
			fmt.Fprintf(out, "    ... %s: %s (%s so far)\n", what, waiting, time.Since(start).Round(time.Second))
			lastSaid = time.Now()
		}
		if time.Since(start) > timeout {
			return fmt.Errorf("%s: gave up after %s: %s", what, timeout, waiting)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(interval):
		}
	}
}

var (
	onlineRe = regexp.MustCompile(`Online:\s*\[([^\]]*)\]`)
	dcRe     = regexp.MustCompile(`Current DC:\s*(\S+)`)
)

// ParseCrmMonOnline reads the online nodes and the DC from `crm_mon -1`
// text, whose "Online: [ a b ]" line is the same on Pacemaker 1.1 and 2.
func ParseCrmMonOnline(out string) (online []string, dc string) {
	if m := onlineRe.FindStringSubmatch(out); m != nil {
		online = strings.Fields(m[1])
	}
	if m := dcRe.FindStringSubmatch(out); m != nil && m[1] != "NONE" {
		dc = m[1]
	}
	return online, dc
}

func missing(want, have []string) []string {
	var out []string
	for _, w := range want {
		found := false
		for _, h := range have {
			if h == w {
				found = true
			}
		}
		if !found {
			out = append(out, w)
		}
	}
	return out
}

func (p *Provisioner) membership(ctx context.Context) (bool, string, error) {
	names := p.Lab.Cfg.NodeNames()
	timeout := p.Stack.MembershipTimeout(p.Lab.Cfg.Timings)
	err := poll(ctx, p.Opts.Out, p.Stack.Messaging+" membership", timeout, time.Second, func(ctx context.Context) (bool, string, error) {
		return p.Stack.Membership(ctx, p.Nodes, names)
	})
	return false, "every node sees " + strings.Join(names, ", "), err
}

// pacemakerMembership: every node's Pacemaker holds every node online and
// has elected a DC.
func pacemakerMembership(ctx context.Context, nodes []lab.Runner, names []string) (bool, string, error) {
	for _, n := range nodes {
		res, err := n.Sudo(ctx, nil, crmMonOnce.Argv()...)
		if err != nil {
			return false, "", err
		}
		if !res.OK() {
			return false, fmt.Sprintf("crm_mon on %s: %s", n.NodeName(), firstLine(res.Stderr, res.Stdout)), nil
		}
		online, dc := ParseCrmMonOnline(string(res.Stdout))
		if m := missing(names, online); len(m) > 0 {
			return false, fmt.Sprintf("%s sees %s not online yet", n.NodeName(), strings.Join(m, ", ")), nil
		}
		if dc == "" {
			return false, n.NodeName() + " has no DC elected yet", nil
		}
	}
	return true, "", nil
}

func firstLine(bs ...[]byte) string {
	for _, b := range bs {
		if s := strings.TrimSpace(string(b)); s != "" {
			return strings.SplitN(s, "\n", 2)[0]
		}
	}
	return "(no output)"
}

// CRMFile is where the rendered crm configuration is kept on the nodes.
const CRMFile = "/var/lib/halab/crm.conf"

func (p *Provisioner) crm(ctx context.Context) (bool, string, error) {
	conf, err := templates.CrmConfig(p.Params)
	if err != nil {
		return false, "", err
	}
	n := p.Nodes[0]
	changed, err := PushFiles(ctx, n, []File{{Path: CRMFile, Data: conf, Mode: 0o600}})
	if err != nil {
		return false, "", err
	}
	want := ExpectedCIB(p.Lab.Cfg)
	want.Fencing = p.Params.Fencing
	cib, cibErr := ReadCIB(ctx, n)
	if len(changed) == 0 {
		// Same file as last time: apply only if the CIB drifted.
		if cibErr == nil && len(want.Check(cib)) == 0 {
			audit, err := p.auditConfig(ctx, n)
			return false, "CIB matches" + audit, err
		}
	}
	if cibErr == nil {
		if err := dropStaleFencing(ctx, n, cib, p.Params.Fencing); err != nil {
			return false, "", err
		}
	}
	if _, err := lab.Check(n.Sudo(ctx, nil, crmLoadUpdate.Argv(CRMFile)...)); err != nil {
		return false, "", err
	}
	cib, err = ReadCIB(ctx, n)
	if err != nil {
		return false, "", err
	}
	if probs := want.Check(cib); len(probs) > 0 {
		return false, "", fmt.Errorf("after `crm configure load update`, the CIB differs from the configuration: %s", strings.Join(probs, "; "))
	}
	audit, err := p.auditConfig(ctx, n)
	return true, "loaded and verified" + audit, err
}

// auditConfig runs the cluster's own verifiers on the configuration just
// applied and prints their findings, each with what it means; an error
// among them fails the step with the verifier's words. It returns what
// the step's detail adds.
func (p *Provisioner) auditConfig(ctx context.Context, n lab.Runner) (string, error) {
	a, err := VerifyConfig(ctx, n, p.Stack)
	if err != nil {
		return "", fmt.Errorf("running the configuration's verifiers on %s: %w", n.NodeName(), err)
	}
	p.mu.Lock()
	p.configAudit = a
	p.mu.Unlock()
	out := p.Opts.Out
	var names []string
	for _, v := range p.Stack.Verifiers {
		if !slices.Contains(a.Missing, v.Name) {
			names = append(names, v.Name)
		}
	}
	fmt.Fprintf(out, "    configuration audit on %s (%s): %s\n", a.Node, strings.Join(names, ", "), countFindings(a))
	for _, f := range a.Findings {
		fmt.Fprintf(out, "      %s\n", strings.ReplaceAll(f.String(), "\n", "\n  "))
	}
	for _, m := range a.Missing {
		fmt.Fprintf(out, "      %s: not installed on %s, not run\n", m, a.Node)
	}
	if errs := a.Errors(); len(errs) > 0 {
		var words []string
		for _, e := range errs {
			words = append(words, strings.Join(e.By, ", ")+": "+e.Text)
		}
		return "", fmt.Errorf("the cluster's verifiers find errors in the configuration: %s", strings.Join(words, "; "))
	}
	if len(a.Findings) == 0 {
		return "; the cluster's verifiers find nothing", nil
	}
	return "; " + countFindings(a) + " from the cluster's verifiers (above)", nil
}

// ConfigAudit is the verifiers' findings on the configuration the crm
// step applied (nil before it, or without a resource manager).
func (p *Provisioner) ConfigAudit() *ConfigAudit {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.configAudit
}

// waitVIP waits until the VIP serves HTTP from the host with a node's
// hostname and the service runs on exactly one node.
func (p *Provisioner) waitVIP(ctx context.Context) (bool, string, error) {
	c := p.Lab.Cfg
	url := fmt.Sprintf("http://%s:%d/", c.VIP.Address, c.Service.Port)
	timeout := p.Opts.VIPTimeout
	if timeout == 0 {
		timeout = p.Stack.MembershipTimeout(c.Timings) + time.Duration(c.Service.StartTimeout)*time.Second
	}
	client := DirectClient(2 * time.Second)
	var owner string
	err := poll(ctx, p.Opts.Out, "VIP", timeout, 500*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		body, err := HTTPGet(ctx, client, url)
		if err != nil {
			return false, fmt.Sprintf("GET %s: %v", url, err), nil
		}
		if _, ok := c.Node(body); !ok {
			return false, fmt.Sprintf("GET %s answered %q, not a node name", url, body), nil
		}
		running, err := p.serviceRunningOn(ctx)
		if err != nil {
			return false, "", err
		}
		if len(running) != 1 || running[0] != body {
			return false, fmt.Sprintf("VIP served by %s but the service runs on %v", body, running), nil
		}
		owner = body
		return true, "", nil
	})
	return false, "served by " + owner, err
}

// DirectClient is an HTTP client for the VIP: it never goes through a
// proxy from the environment (HTTP_PROXY), since the VIP is on the lab's
// own network and a proxy would answer for it, and it opens a connection
// per request, so a kept-alive one to the old owner cannot hide a move.
// The scenarios' prober dials the same way.
func DirectClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
}

// HTTPGet fetches url and returns its trimmed body; non-200 is an error.
func HTTPGet(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return strings.TrimSpace(string(b)), nil
}

// ServiceRunning asks a node's init script for the service's status
// (LSB: 0 running, anything else not running; only a broken connection is
// an error).
func ServiceRunning(ctx context.Context, n lab.Runner, service string) (bool, error) {
	res, err := n.Sudo(ctx, nil, initdStatus.At(InitScriptPath(service))...)
	if err != nil {
		return false, err
	}
	return res.OK(), nil
}

// serviceRunningOn lists the nodes where the service runs.
func (p *Provisioner) serviceRunningOn(ctx context.Context) ([]string, error) {
	var running []string
	for _, n := range p.Nodes {
		ok, err := ServiceRunning(ctx, n, p.Lab.Cfg.Service.Name)
		if err != nil {
			return nil, err
		}
		if ok {
			running = append(running, n.NodeName())
		}
	}
	return running, nil
}
