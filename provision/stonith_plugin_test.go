package provision

import (
	"context"
	"encoding/xml"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"halab/lab/fence"
	"halab/lab/labtest"
	"halab/templates"
)

// pluginName is the plugin's script under scripts/; provisioning pushes it
// to templates.FencePluginPath.
const pluginName = "stonith-halab-fence"

// PluginTools are the commands the plugin runs on a node besides sh's
// builtins: each is in Ubuntu 12.04's base system, curl (7.22) being the
// heartbeat stack's fence package.
var pluginTools = []string{"curl", "tr", "tail", "sed", "grep", "sleep", "cat"}

// curl722 are the curl options the plugin may use: each exists in curl
// 7.22 (Ubuntu 12.04).
var curl722 = []string{"-s", "-S", "--max-time", "--connect-timeout", "--cacert", "--cert", "--key", "-X", "-w"}

// pluginLab is a fence endpoint of lab "halab" served in this process on
// loopback, with an in-memory provider, and the plugin's script on disk.
type pluginLab struct {
	dir, addr, script string
	pki               *fence.PKI
	fake              *labtest.FakeProvider
}

func startPluginLab(t *testing.T) *pluginLab {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is not installed (apt-get install curl; .ci/deps installs it)")
		}
		t.Skip("curl is not installed")
	}
	dir := filepath.Join(t.TempDir(), "fence")
	p := &fence.PKI{Dir: dir, Lab: "halab"}
	if err := p.Ensure([]string{"node1", "node2"}, netip.MustParseAddr("127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	fake := labtest.NewFakeProvider("node1", "node2")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- fence.Serve(ctx, fence.ServeOptions{Dir: dir, Addr: "127.0.0.1:0", Lab: "halab",
			Machines: []fence.Machine{{Name: "halab-node1", Node: "node1"}, {Name: "halab-node2", Node: "node2"}}, Power: fake})
	}()
	t.Cleanup(func() { cancel(); <-done })
	l := &pluginLab{dir: dir, pki: p, fake: fake}
	for deadline := time.Now().Add(5 * time.Second); l.addr == ""; time.Sleep(20 * time.Millisecond) {
		if st, _ := fence.ReadState(dir); st.Running && !strings.HasSuffix(st.Addr, ":0") {
			l.addr = st.Addr
		}
		if time.Now().After(deadline) {
			t.Fatal("endpoint did not come up")
		}
	}
	l.script = filepath.Join(t.TempDir(), "halab-fence")
	if err := os.WriteFile(l.script, []byte(Script(pluginName)), 0o755); err != nil {
		t.Fatal(err)
	}
	return l
}

// params are the device's parameters as the crm configuration gives them
// (templates' FencePlugin device), pointed at this endpoint and at node's
// own client files.
func (l *pluginLab) params(t *testing.T, node, target string, guard string) map[string]string {
	t.Helper()
	ap := netip.MustParseAddrPort(l.addr)
	f := &templates.Fencing{Agent: templates.FencePlugin, Address: ap.Addr().String(), Port: int(ap.Port()),
		Targets: []templates.FenceTarget{{Node: "node1", Machine: "halab-node1"}, {Node: "node2", Machine: "halab-node2"}},
		Guard:   guard, Delay: 2}
	devices, err := f.Devices()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, d := range devices {
		if d.Target != target {
			continue
		}
		for _, p := range d.Params {
			m[p.Name] = p.Value
		}
	}
	// The node's files: what provisioning pushes to templates.FenceDir.
	m["tls_cacert"], m["tls_cert"], m["tls_key"] = l.pki.CACert(), l.pki.ClientCert(node), l.pki.ClientKey(node)
	return m
}

type pluginRun struct {
	code   int
	stdout string
	stderr string
	took   time.Duration
}

// run runs the plugin as cluster-glue does: `halab-fence ACTION [HOST]`,
// the parameters in the environment, under dash (the nodes' /bin/sh).
func (l *pluginLab) run(t *testing.T, params map[string]string, args ...string) pluginRun {
	t.Helper()
	sh, err := exec.LookPath("dash")
	if err != nil {
		sh = "sh"
	}
	cmd := exec.Command(sh, append([]string{l.script}, args...)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	for k, v := range params {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err = cmd.Run()
	r := pluginRun{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

func (l *pluginLab) entries(t *testing.T) []fence.Entry {
	t.Helper()
	es, err := fence.ReadLog(l.dir)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// The plugin against the endpoint with an in-memory provider: cluster-glue's
// actions, each with the effect on the machine's power state, and the
// refusals.
func TestStonithPlugin(t *testing.T) {
	l := startPluginLab(t)
	// FENCE-node2 runs on node1 and fences node2.
	p := l.params(t, "node1", "node2", templates.GuardStatic)
	ok := func(r pluginRun, what string) {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s exited %d:\n%s%s", what, r.code, r.stdout, r.stderr)
		}
	}

	r := l.run(t, p, "getconfignames")
	ok(r, "getconfignames")
	names := strings.Fields(r.stdout)
	for k := range p {
		if !slices.Contains(names, k) {
			t.Errorf("the crm configuration's parameter %s is not one of the plugin's %v", k, names)
		}
	}
	r = l.run(t, p, "getinfo-xml")
	ok(r, "getinfo-xml")
	var meta struct {
		Params []struct {
			Name string `xml:"name,attr"`
		} `xml:"parameter"`
	}
	if err := xml.Unmarshal([]byte(r.stdout), &meta); err != nil {
		t.Fatalf("getinfo-xml: %v\n%s", err, r.stdout)
	}
	var xmlNames []string
	for _, x := range meta.Params {
		xmlNames = append(xmlNames, x.Name)
	}
	if !slices.Equal(xmlNames, names) {
		t.Errorf("getinfo-xml names %v, getconfignames %v", xmlNames, names)
	}
	for _, a := range []string{"getinfo-devid", "getinfo-devname", "getinfo-devdescr", "getinfo-devurl"} {
		if r := l.run(t, p, a); r.code != 0 || strings.TrimSpace(r.stdout) == "" {
			t.Errorf("%s: %d %q", a, r.code, r.stdout)
		}
	}
	if r := l.run(t, p, "gethosts"); r.code != 0 || r.stdout != "node2\n" {
		t.Errorf("gethosts: %d %q", r.code, r.stdout)
	}
	if r := l.run(t, p, "no-such-action"); r.code == 0 {
		t.Error("an unknown action succeeded")
	}

	ok(l.run(t, p, "status"), "status")
	if !l.fake.IsOn("node2") {
		t.Fatal("status changed the power")
	}

	// static guard: FENCE-node2 has no delay (node1 is the protected one).
	r = l.run(t, p, "off", "node2")
	ok(r, "off node2")
	if l.fake.IsOn("node2") || !l.fake.IsOn("node1") {
		t.Fatalf("after off node2: node1 %v, node2 %v", l.fake.IsOn("node1"), l.fake.IsOn("node2"))
	}
	if r.took > 2*time.Second {
		t.Errorf("off without a delay took %s", r.took)
	}
	r = l.run(t, p, "off", "node2")
	ok(r, "off node2 again")
	if !strings.Contains(r.stderr, "already off") {
		t.Errorf("second off: %s", r.stderr)
	}
	ok(l.run(t, p, "on", "node2"), "on node2")
	if !l.fake.IsOn("node2") {
		t.Fatal("node2 off after on")
	}
	before := len(l.fake.Calls())
	ok(l.run(t, p, "reset", "halab-node2"), "reset by machine name")
	calls := strings.Join(l.fake.Calls()[before:], ",")
	if !strings.Contains(calls, "power-off node2") || !strings.Contains(calls, "power-on node2") || !l.fake.IsOn("node2") {
		t.Errorf("reset: %s; node2 on %v", calls, l.fake.IsOn("node2"))
	}

	// The log names node1's certificate, the target and the result.
	found := false
	for _, e := range l.entries(t) {
		if e.Action == "kill" && e.Result == "ok" && e.Target == "halab-node2" && strings.Contains(e.Client, "CN=node1,OU=node") {
			found = true
		}
	}
	if !found {
		t.Errorf("no logged kill of halab-node2 by node1: %+v", l.entries(t))
	}

	// This device fences node2 only.
	r = l.run(t, p, "reset", "node1")
	if r.code == 0 || !strings.Contains(r.stderr, "asked to fence 'node1', but this device fences node2 (halab-node2)") || !l.fake.IsOn("node1") {
		t.Errorf("reset node1 through node2's device: %d %s", r.code, r.stderr)
	}

	// FENCE-node1 waits race_delay (2 s here) before it fences: node1 wins
	// a race.
	p1 := l.params(t, "node2", "node1", templates.GuardStatic)
	if p1["race_delay"] != "2" {
		t.Fatalf("FENCE-node1's params: %v", p1)
	}
	r = l.run(t, p1, "off", "node1")
	ok(r, "off node1")
	if r.took < 2*time.Second || l.fake.IsOn("node1") {
		t.Errorf("off node1 took %s (want the 2 s delay), node1 on %v", r.took, l.fake.IsOn("node1"))
	}
	ok(l.run(t, p1, "on", "node1"), "on node1")

	// A missing parameter, a bad one.
	bad := withParam(p, "endpoint_port", "")
	if r := l.run(t, bad, "off", "node2"); r.code == 0 || !strings.Contains(r.stderr, "parameter endpoint_port is missing") {
		t.Errorf("without endpoint_port: %d %s", r.code, r.stderr)
	}
	if r := l.run(t, withParam(p, "machine", "x/../y"), "off", "x/../y"); r.code == 0 || !strings.Contains(r.stderr, "not a machine name") {
		t.Errorf("machine with a slash: %d %s", r.code, r.stderr)
	}
	if r := l.run(t, withParam(p, "race_delay", "1; reboot"), "off", "node2"); r.code == 0 || !strings.Contains(r.stderr, "not a number of seconds") {
		t.Errorf("race_delay not a number: %d %s", r.code, r.stderr)
	}
	if !l.fake.IsOn("node1") || !l.fake.IsOn("node2") {
		t.Fatal("a refused call changed the power")
	}
}

func withParam(m map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

// The endpoint refuses on purpose, is gone, or is another lab's: the plugin
// fails, never reports a fence it did not make.
func TestStonithPluginFailures(t *testing.T) {
	l := startPluginLab(t)
	p := l.params(t, "node1", "node2", templates.GuardNone)

	if err := fence.SetRefusing(l.dir, true); err != nil {
		t.Fatal(err)
	}
	if r := l.run(t, p, "status"); r.code == 0 {
		t.Error("status succeeded while the endpoint refuses")
	}
	if r := l.run(t, p, "reset", "node2"); r.code == 0 || !l.fake.IsOn("node2") {
		t.Errorf("reset while refusing: %d, node2 on %v\n%s", r.code, l.fake.IsOn("node2"), r.stderr)
	}
	fence.SetRefusing(l.dir, false)

	// Another lab's client certificate and CA: refused by the endpoint,
	// and the endpoint refused by the client.
	other := &fence.PKI{Dir: filepath.Join(t.TempDir(), "fence"), Lab: "other"}
	if err := other.Ensure([]string{"node1", "node2"}, netip.MustParseAddr("127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	foreign := withParam(withParam(p, "tls_cert", other.ClientCert("node1")), "tls_key", other.ClientKey("node1"))
	if r := l.run(t, foreign, "off", "node2"); r.code == 0 || !l.fake.IsOn("node2") {
		t.Errorf("another lab's certificate: %d, node2 on %v\n%s", r.code, l.fake.IsOn("node2"), r.stderr)
	}
	if r := l.run(t, withParam(p, "tls_cacert", other.CACert()), "status"); r.code == 0 {
		t.Error("the plugin trusted an endpoint not of its lab's CA")
	}
	if len(l.fake.Calls()) != 0 {
		t.Errorf("the provider was asked %v", l.fake.Calls())
	}
	handshake := false
	for _, e := range l.entries(t) {
		handshake = handshake || (e.Event == "handshake" && strings.Contains(e.Result, "unknown authority"))
	}
	if !handshake {
		t.Errorf("the foreign certificate's handshake is not logged: %+v", l.entries(t))
	}

	// A provider that cannot power off: the fence fails.
	l.fake.SetFail(func(op, node string) error {
		if op == "power-off" {
			return os.ErrDeadlineExceeded
		}
		return nil
	})
	if r := l.run(t, p, "off", "node2"); r.code == 0 || !strings.Contains(r.stderr, "HTTP 500") {
		t.Errorf("off with a failing provider: %d %s", r.code, r.stderr)
	}
	l.fake.SetFail(nil)

	// Nothing secret in what the plugin printed.
	secrets, err := l.pki.SecretValues()
	if err != nil {
		t.Fatal(err)
	}
	r := l.run(t, p, "reset", "node2")
	for _, s := range secrets {
		if strings.Contains(r.stdout+r.stderr, string(s)) {
			t.Error("the plugin printed key material")
		}
	}
}

// The plugin uses only what Ubuntu 12.04 has: curl options of 7.22, and the
// tools of pluginTools; its API version is the endpoint's.
func TestStonithPluginPortable(t *testing.T) {
	src := Script(pluginName)
	curlCall := src[strings.Index(src, "curl -s"):]
	curlCall = curlCall[:strings.Index(curlCall, `"https://`)]
	for _, opt := range regexp.MustCompile(`(^|\s)(--?[A-Za-z][A-Za-z-]*)`).FindAllStringSubmatch(curlCall, -1) {
		if !slices.Contains(curl722, opt[2]) {
			t.Errorf("curl option %s is not known to be in curl 7.22", opt[2])
		}
	}
	if !strings.Contains(src, "api=v"+fence.APIVersion+"\n") {
		t.Errorf("the plugin's API version is not the endpoint's %s", fence.APIVersion)
	}
	// Every command word the script runs is a builtin, a function of its
	// own, or one of pluginTools.
	builtins := []string{"echo", "exit", "return", "case", "esac", "for", "do", "done", "if", "then", "else", "fi", "while", "in", "printf", "[", "eval"}
	funcs := regexp.MustCompile(`(?m)^([a-z_]+)\(\) `).FindAllStringSubmatch(src, -1)
	var own []string
	for _, f := range funcs {
		own = append(own, f[1])
	}
	body := src[strings.Index(src, "\napi="):strings.Index(src, "cat <<'XML'")]
	for _, m := range regexp.MustCompile(`(?m)(?:^\s*|\|\s*|\$\(\s*|&&\s*|\|\|\s*)([a-z_][a-z0-9_-]*)\b`).FindAllStringSubmatch(body, -1) {
		w := m[1]
		if slices.Contains(builtins, w) || slices.Contains(own, w) || slices.Contains(pluginTools, w) || strings.Contains(m[0], "=") {
			continue
		}
		if regexp.MustCompile(`(?m)^\s*`+w+`=`).MatchString(body) || regexp.MustCompile(`\b`+w+`\)`).MatchString(body) {
			continue // a variable or a case label
		}
		t.Errorf("the plugin runs %q, which is not in pluginTools", w)
	}
}

// cluster-glue's own stonith(8) loads and runs the plugin as Pacemaker 1.1's
// fence_legacy does (parameters from the environment, -E): list, status,
// reset. The plugin is put in cluster-glue's plugin directory inside a
// private mount namespace, so nothing on this machine changes.
func TestStonithPluginUnderClusterGlue(t *testing.T) {
	stonith, err := exec.LookPath("stonith")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("stonith(8) is not installed (apt-get install cluster-glue; .ci/deps installs it)")
		}
		t.Skip("stonith(8) is not installed (apt-get install cluster-glue)")
	}
	const pluginDir = "/usr/lib/stonith/plugins/external"
	if _, err := os.Stat(pluginDir); err != nil {
		t.Skipf("%s: %v", pluginDir, err)
	}
	if out, err := exec.Command("unshare", "-m", "true").CombinedOutput(); err != nil {
		t.Skipf("no private mount namespace here (unshare -m: %v %s)", err, out)
	}
	l := startPluginLab(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "halab-fence"), []byte(Script(pluginName)), 0o755); err != nil {
		t.Fatal(err)
	}
	p := l.params(t, "node1", "node2", templates.GuardNone)
	run := func(args ...string) (string, error) {
		script := `mount --bind "$1" ` + pluginDir + ` && shift && exec "$@"`
		cmd := exec.Command("unshare", append([]string{"-m", "sh", "-c", script, "sh", dir, stonith, "-t", "external/halab-fence", "-E"}, args...)...)
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
		for k, v := range p {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("-l"); err != nil || !strings.Contains(out, "node2") {
		t.Fatalf("stonith -l: %v\n%s", err, out)
	}
	if out, err := run("-S"); err != nil {
		t.Fatalf("stonith -S: %v\n%s", err, out)
	}
	if out, err := run("-T", "off", "node2"); err != nil || l.fake.IsOn("node2") {
		t.Fatalf("stonith -T off node2: %v, node2 on %v\n%s", err, l.fake.IsOn("node2"), out)
	}
	if out, err := run("-T", "reset", "node2"); err != nil || !l.fake.IsOn("node2") {
		t.Fatalf("stonith -T reset node2: %v, node2 on %v\n%s", err, l.fake.IsOn("node2"), out)
	}
	if out, err := run("-T", "reset", "node1"); err == nil || !l.fake.IsOn("node1") {
		t.Fatalf("stonith -T reset node1 through node2's device: %v\n%s", err, out)
	}
	// off killed node2; reset found it off and powered it on.
	var kills, starts int
	for _, e := range l.entries(t) {
		if e.Action == "kill" && e.Result == "ok" && e.Target == "halab-node2" {
			kills++
		}
		if e.Event == "power-on" && e.Result == "ok" && e.Target == "halab-node2" {
			starts++
		}
	}
	if kills != 1 || starts != 1 {
		t.Errorf("logged %d kills and %d power-ons of halab-node2, want 1 and 1", kills, starts)
	}
}
