package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"halab/lab"
	"halab/lab/fence"
	"halab/provision"
	"halab/scenarios/prober"
	"halab/scenarios/report"
)

// fencingLabFile is the checked-in example of a lab that fences: its own
// name, subnet and SSH ports, so that it runs beside lab.yaml's lab.
const fencingLabFile = "docs/examples/fencing.yaml"

// TestE2EFencing brings up the example fencing lab (corosync, docker
// provider, fencing.agent auto), checks the endpoint and what a node can
// reach, runs the fencing scenarios and the failovers that must still pass
// with fencing on, and tears it down. It never touches lab.yaml's lab.
// HALAB_E2E_PARTITIONS sets the partitions in a row (default 5).
func TestE2EFencing(t *testing.T) {
	requireE2E(t)
	// A lab of its own: it runs beside the other e2e labs as go test's
	// -parallel allows (make test-e2e's E2E_PARALLEL).
	t.Parallel()
	bin := buildHalab(t)
	cfg, err := lab.Load(filepath.Join(repoRoot, fencingLabFile))
	if err != nil {
		t.Fatal(err)
	}
	def := lab.Defaults()
	if cfg.Name == def.Name || cfg.Subnet() == def.Subnet() || cfg.Providers.Docker.SSHPort == def.Providers.Docker.SSHPort {
		t.Fatalf("%s must describe a lab of its own (name %s, subnet %s, ssh_port %d)", fencingLabFile, cfg.Name, cfg.Subnet(), cfg.Providers.Docker.SSHPort)
	}
	h := func(t *testing.T, args ...string) halabRun {
		t.Helper()
		return runHalab(t, bin, append([]string{"-c", fencingLabFile}, args...)...)
	}
	must := func(t *testing.T, args ...string) string {
		t.Helper()
		r := h(t, args...)
		if r.code != 0 {
			t.Fatalf("halab -c %s %s: exit %d", fencingLabFile, strings.Join(args, " "), r.code)
		}
		return r.out
	}
	must(t, "down")
	t.Cleanup(func() {
		if os.Getenv("HALAB_E2E_KEEP") == "" {
			h(t, "down")
		}
	})
	fenceDir := fence.Dir(filepath.Join(repoRoot, ".halab", cfg.Name))

	t.Run("up and provision", func(t *testing.T) {
		out := must(t, "up")
		if !strings.Contains(out, "fence endpoint started: https://"+cfg.FenceEndpoint()) {
			t.Errorf("up did not start the fence endpoint on %s", cfg.FenceEndpoint())
		}
		out = must(t, "provision")
		if !regexp.MustCompile(`fencing\s+changed`).MatchString(out) {
			t.Errorf("provision has no fencing step")
		}
	})

	t.Run("the devices run away from the node they fence; a node reaches the endpoint, not the engine", func(t *testing.T) {
		for i, n := range cfg.NodeNames() {
			other := cfg.NodeNames()[1-i]
			// The device that fences the other node is the one this node
			// may run.
			out := must(t, "ssh", n, "--", "sudo", "stonith_admin", "--list", other)
			if !strings.Contains(out, "FENCE-"+other) {
				t.Errorf("%s: no device can fence %s: %s", n, other, out)
			}
			// No Docker socket on the node, no engine on the host's
			// address on the lab network, the endpoint answering.
			if r := h(t, "ssh", n, "--", "test", "-e", "/var/run/docker.sock"); r.code == 0 {
				t.Errorf("%s has a Docker socket", n)
			}
			for _, port := range []string{"2375", "2376"} {
				if r := h(t, "ssh", n, "--", "timeout", "5", "bash", "-c", "echo > /dev/tcp/"+cfg.FenceAddress().String()+"/"+port); r.code == 0 {
					t.Errorf("%s reaches %s:%s (a Docker engine's TCP port)", n, cfg.FenceAddress(), port)
				}
			}
			if r := h(t, "ssh", n, "--", "timeout", "5", "bash", "-c", "echo > /dev/tcp/"+cfg.FenceAddress().String()+"/"+strconv.Itoa(cfg.Fencing.Port)); r.code != 0 {
				t.Errorf("%s cannot reach the fence endpoint %s", n, cfg.FenceEndpoint())
			}
		}
	})

	partitions := os.Getenv("HALAB_E2E_PARTITIONS")
	if partitions == "" {
		partitions = "5"
	}
	t.Run("scenarios with fencing", func(t *testing.T) {
		// The fencing scenarios, the failovers that must behave as before
		// with fencing on, and the Jepsen-style pauses (heavy), which end
		// with the frozen node fenced. kill-daemon and partition run as
		// their fencing variants: the split-brain ones are left out
		// (no-fencing).
		r := h(t, "test", "--heavy", "--partitions", partitions, "--labels", "fencing || power-off || graceful || (service && needs-monitor) || pause || pause-daemon || no-fencing",
			"--junit-report", "scenarios-fencing.xml", "--json-report", "scenarios-fencing.json")
		if r.code != 0 {
			t.Fatalf("scenarios: exit %d", r.code)
		}
		sum := r.out[strings.LastIndex(r.out, "==> failover summary"):]
		want := []string{"fenced kill-daemon", "fence (stonith_admin --reboot)", "fence device failing", "power-off", "standby", "stop-messaging", "kill-service", "pause", "pause-daemon"}
		want = append(want, "fenced partition "+partitions+"/"+partitions)
		for _, sc := range want {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sc) + `\s+corosync\s+passed\s`).MatchString(sum) {
				t.Errorf("summary lacks %s passed:\n%s", sc, sum)
			}
		}
		// Every fenced scenario names the node fenced and its fence time.
		for _, sc := range []string{"fenced partition 1/", "fenced kill-daemon", "fence (stonith_admin --reboot)", "fence device failing", "pause ", "pause-daemon "} {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sc) + `.*\spassed\s.*\snode[12] [0-9.]+m?s\s`).MatchString(sum) {
				t.Errorf("%s: no fenced node and fence time in the summary:\n%s", sc, sum)
			}
		}
		// The report's lab entry says the lab fences, and through what
		// (the page draws the fencing lane from it).
		run, err := report.Load(filepath.Join(repoRoot, "build", "scenarios-fencing.json"))
		if err != nil {
			t.Fatal(err)
		}
		if !run.Lab.FencingOn() || run.Lab.Fencing != "fence_docker" || !strings.Contains(run.Lab.FencingNote, cfg.FenceEndpoint()) {
			t.Errorf("report's lab entry: fencing %q (%q), want fence_docker through %s", run.Lab.Fencing, run.Lab.FencingNote, cfg.FenceEndpoint())
		}
		// (a result column, not a word in a skipped spec's title)
		if regexp.MustCompile(`(?m)\scorosync\s+`+regexp.QuoteMeta(prober.Unsafe)+`\s`).MatchString(sum) || regexp.MustCompile(`(?m)^(kill-daemon|partition)\s`).MatchString(sum) {
			t.Errorf("a split-brain scenario ran on a lab that fences:\n%s", sum)
		}
	})

	t.Run("the request log names who fenced whom", func(t *testing.T) {
		entries, err := fence.ReadLog(fenceDir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			t.Fatalf("no request in %s", filepath.Join(fenceDir, fence.RequestLogName))
		}
		fs := fence.Fences(entries, entries[0].Time)
		fenced := map[string]bool{}
		for _, f := range fs {
			if f.OK() {
				fenced[f.Node] = true
				if f.By == f.Node || f.By == "" {
					t.Errorf("fence of %s by %q", f.Node, f.By)
				}
			}
		}
		if len(fenced) == 0 {
			t.Errorf("no fence in %s", filepath.Join(fenceDir, fence.RequestLogName))
		}
		info, err := os.Stat(filepath.Join(fenceDir, fence.RequestLogName))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("request log: %v, mode %v", err, info.Mode().Perm())
		}
	})

	t.Run("fault heal turns a refusing endpoint back", func(t *testing.T) {
		must(t, "fence-endpoint", "refuse", "on")
		out := must(t, "fault", "heal")
		if !strings.Contains(out, "fence endpoint: stopped refusing") {
			t.Errorf("fault heal did not heal the endpoint")
		}
		if fence.Refusing(fenceDir) {
			t.Error("still refusing after fault heal")
		}
		var st struct {
			FenceEndpoint struct {
				Running  bool `json:"running"`
				Refusing bool `json:"refusing"`
			} `json:"fence_endpoint"`
		}
		if err := json.Unmarshal([]byte(must(t, "status", "--json")), &st); err != nil {
			t.Fatal(err)
		}
		if !st.FenceEndpoint.Running || st.FenceEndpoint.Refusing {
			t.Errorf("status: endpoint %+v", st.FenceEndpoint)
		}
	})

	t.Run("down stops the endpoint and leaves nothing", func(t *testing.T) {
		must(t, "down")
		if st, err := fence.ReadState(fenceDir); err != nil || st.Running {
			t.Errorf("endpoint after down: %+v, %v", st, err)
		}
		out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=halab.lab="+cfg.Name).Output()
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("containers left: %s", s)
		}
	})
}

// The example fencing lab file loads as halab loads it (the stack's
// fencing checks included), fences on corosync, and shares nothing with
// lab.yaml's or bench.yaml's lab: the CI runs it beside them.
func TestFencingExampleLabFile(t *testing.T) {
	cfg, err := lab.Load(filepath.Join(repoRoot, fencingLabFile), provision.CheckConfig)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.FencingOn() || cfg.Stack != "corosync" || cfg.Provider != "docker" {
		t.Errorf("%s: fencing %s, stack %s, provider %s", fencingLabFile, cfg.Fencing.Agent, cfg.Stack, cfg.Provider)
	}
	root, _ := filepath.Abs(repoRoot)
	if got := cfg.Resolve(cfg.Service.JDKArchive); got != filepath.Join(root, "build", "jdk.tar.gz") {
		t.Errorf("service.jdk_archive %s is not the checkout's build/jdk.tar.gz", got)
	}
	for _, other := range []string{"lab.yaml", "bench.yaml", writeV1Lab(t)} {
		if !filepath.IsAbs(other) {
			other = filepath.Join(repoRoot, other)
		}
		o, err := lab.Load(other)
		if err != nil {
			t.Fatal(err)
		}
		if o.Name == cfg.Name || o.Subnet() == cfg.Subnet() || o.Providers.Docker.SSHPort == cfg.Providers.Docker.SSHPort ||
			o.Providers.Docker.SSHPort == cfg.Providers.Docker.SSHPort+1 || o.Providers.Docker.SSHPort+1 == cfg.Providers.Docker.SSHPort {
			t.Errorf("%s shares its name, subnet or SSH ports with %s", fencingLabFile, other)
		}
	}
}
