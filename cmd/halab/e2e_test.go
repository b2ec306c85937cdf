package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The end-to-end tests drive the real binary against a real lab on the
// docker provider: containers with systemd and sshd, Pacemaker, SFTP. They
// run under `make test-e2e` (HALAB_E2E=1), which installs and starts what
// they need first.

var repoRoot = func() string {
	d, _ := filepath.Abs("../..")
	return d
}()

type halabRun struct {
	out  string
	code int
}

func buildHalab(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "halab")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runHalab(t *testing.T, bin string, args ...string) halabRun {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = repoRoot
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, testWriter{t})
	cmd.Stderr = cmd.Stdout
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("halab %v: %v", args, err)
	}
	return halabRun{out: buf.String(), code: code}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func mustHalab(t *testing.T, bin string, args ...string) string {
	t.Helper()
	r := runHalab(t, bin, args...)
	if r.code != 0 {
		t.Fatalf("halab %s: exit %d\n%s", strings.Join(args, " "), r.code, r.out)
	}
	return r.out
}

func requireE2E(t *testing.T) {
	if os.Getenv("HALAB_E2E") == "" {
		t.Skip("end-to-end: run with HALAB_E2E=1 (make test-e2e)")
	}
}

func vipGet(t *testing.T) string {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://192.168.56.20:8080/")
	if err != nil {
		t.Fatalf("GET VIP: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

var changedRe = regexp.MustCompile(`(\d+) step\(s\) changed`)

func changedSteps(t *testing.T, out string) int {
	t.Helper()
	m := changedRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary line in provision output")
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// daemonStarts reads when each cluster daemon last started, to prove a
// warm provision restarts none.
func daemonStarts(t *testing.T, bin, node string, units ...string) string {
	t.Helper()
	args := append([]string{"ssh", node, "--", "systemctl", "show", "-p", "ActiveEnterTimestampMonotonic"}, units...)
	return mustHalab(t, bin, args...)
}

func TestE2ELab(t *testing.T) {
	requireE2E(t)
	bin := buildHalab(t)
	mustHalab(t, bin, "down")
	t.Cleanup(func() {
		if os.Getenv("HALAB_E2E_KEEP") == "" {
			runHalab(t, bin, "down")
		}
	})

	t.Run("up", func(t *testing.T) {
		out := mustHalab(t, bin, "up")
		for _, want := range []string{"provider docker", "node1", "192.168.56.11", "node2", "192.168.56.12"} {
			if !strings.Contains(out, want) {
				t.Errorf("up output lacks %q", want)
			}
		}
	})

	t.Run("status --json", func(t *testing.T) {
		var st struct {
			Provider string `json:"provider"`
			Nodes    []struct {
				Node      string   `json:"node"`
				State     string   `json:"state"`
				IP        string   `json:"ip"`
				NICIPs    []string `json:"nic_ips"`
				SSHOK     bool     `json:"ssh_ok"`
				Reachable bool     `json:"private_ip_reachable"`
			} `json:"nodes"`
		}
		if err := json.Unmarshal([]byte(mustHalab(t, bin, "status", "--json")), &st); err != nil {
			t.Fatal(err)
		}
		if st.Provider != "docker" || len(st.Nodes) != 2 {
			t.Fatalf("status: %+v", st)
		}
		for _, n := range st.Nodes {
			if n.State != "running" || !n.SSHOK || !n.Reachable || len(n.NICIPs) == 0 || n.NICIPs[0] != n.IP {
				t.Errorf("node %s: %+v", n.Node, n)
			}
		}
	})

	t.Run("ssh quotes arguments and pins host keys", func(t *testing.T) {
		out := mustHalab(t, bin, "ssh", "node1", "--", "printf", "%s|", "a b", "$(id)", "';")
		if !strings.Contains(out, "a b|$(id)|';|") {
			t.Errorf("arguments were not passed verbatim: %q", out)
		}
		r := runHalab(t, bin, "ssh", "node2", "--", "false")
		if r.code != 1 {
			t.Errorf("remote exit status not propagated: %d", r.code)
		}
		kh := filepath.Join(repoRoot, ".halab", "halab", "known_hosts")
		st, err := os.Stat(kh)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("known_hosts mode %v", st.Mode().Perm())
		}
		orig, _ := os.ReadFile(kh)
		if n := strings.Count(string(orig), "\n"); n != 2 {
			t.Errorf("want 2 pinned keys, got %d", n)
		}
		// A changed host key stops the run and names the file.
		other := "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg="
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(string(orig)), "\n") {
			if strings.HasPrefix(l, "node1.") {
				l = strings.Fields(l)[0] + " " + other
			}
			lines = append(lines, l)
		}
		os.WriteFile(kh, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
		defer os.WriteFile(kh, orig, 0o600)
		r = runHalab(t, bin, "ssh", "node1", "--", "true")
		if r.code == 0 || !strings.Contains(r.out, "host key changed") || !strings.Contains(r.out, kh) {
			t.Errorf("changed host key not refused clearly: exit %d: %s", r.code, r.out)
		}
	})

	for _, stack := range []string{"corosync", "heartbeat-v1"} {
		t.Run("provision "+stack, func(t *testing.T) {
			out := mustHalab(t, bin, "provision", "--stack", stack)
			if !strings.Contains(out, "provisioned stack "+stack) {
				t.Fatalf("provision did not finish")
			}
			owner := vipGet(t)
			if owner != "node1" && owner != "node2" {
				t.Fatalf("VIP answered %q", owner)
			}
			// Served by the pushed JDK: the JVM behind the service lives in /opt/.halab.
			exe := mustHalab(t, bin, "ssh", owner, "--", "sh", "-c", `readlink -f /proc/$(cat /opt/stratos/wso2carbon.pid)/exe`)
			if !strings.Contains(exe, "/opt/.halab/jdk-") {
				t.Errorf("service not run by the pushed JDK: %s", exe)
			}
			units := []string{"corosync", "pacemaker"}
			if stack == "heartbeat-v1" {
				units = []string{"heartbeat"}
			}
			before1, before2 := daemonStarts(t, bin, "node1", units...), daemonStarts(t, bin, "node2", units...)
			warm := mustHalab(t, bin, "provision", "--stack", stack)
			if n := changedSteps(t, warm); n != 0 {
				t.Errorf("warm provision changed %d steps", n)
			}
			if a1, a2 := daemonStarts(t, bin, "node1", units...), daemonStarts(t, bin, "node2", units...); a1 != before1 || a2 != before2 {
				t.Errorf("warm provision restarted a daemon:\n%s%s\n->\n%s%s", before1, before2, a1, a2)
			}
			if got := vipGet(t); got != owner {
				t.Errorf("VIP moved from %s to %s on a warm provision", owner, got)
			}
			if stack == "corosync" {
				runScenarios(t)
			}
		})
	}

	t.Run("check-initd", func(t *testing.T) {
		// The installed template passes (heartbeat-v1 is the last stack
		// provisioned; the check runs on the node without the service).
		out := mustHalab(t, bin, "check-initd", "--action-timeout", "30s")
		if !strings.Contains(out, "passes all 16 checks") {
			t.Errorf("template init script did not pass")
		}
		// The article's script, with the three variables the article says
		// to edit pointed at the lab, fails with each violation named.
		src, err := os.ReadFile(filepath.Join(repoRoot, "templates/testdata/article-initd.sh"))
		if err != nil {
			t.Fatal(err)
		}
		s := regexp.MustCompile(`(?m)^JAVA_HOME=.*$`).ReplaceAllString(string(src), `JAVA_HOME="/opt/jdk"`)
		s = regexp.MustCompile(`(?m)^PRODUCT_HOME=.*$`).ReplaceAllString(s, `PRODUCT_HOME="/opt/stratos"`)
		article := filepath.Join(t.TempDir(), "stratos")
		os.WriteFile(article, []byte(s), 0o755)
		r := runHalab(t, bin, "check-initd", "--script", article, "--action-timeout", "8s")
		if r.code != 1 {
			t.Errorf("article script: exit %d, want 1", r.code)
		}
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`status when stopped\s+status\s+3\s+0\s+FAIL`),
			regexp.MustCompile(`start when stopped\s+start\s+0\s+-\s+FAIL.*did not return in time`),
			regexp.MustCompile(`unknown action\s+no-such-action\s+2\s+1\s+FAIL`),
			regexp.MustCompile(`violates the LSB contract in \d+ of 16 checks`),
		} {
			if !want.MatchString(r.out) {
				t.Errorf("article script report lacks %s", want)
			}
		}
	})

	t.Run("scenarios heartbeat-v1", runScenarios)

	t.Run("down twice leaves nothing", func(t *testing.T) {
		mustHalab(t, bin, "down")
		mustHalab(t, bin, "down")
		out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=halab.lab=halab").Output()
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("containers left: %s", s)
		}
		nets, _ := exec.Command("docker", "network", "ls", "--format", "{{.Name}}").Output()
		if strings.Contains(string(nets), "vagrant_network_192.168.56.0") {
			t.Errorf("vagrant network left: %s", nets)
		}
		if ids, _ := filepath.Glob(filepath.Join(repoRoot, ".vagrant/machines/*/docker/id")); len(ids) > 0 {
			t.Errorf("machine ids left: %v", ids)
		}
	})
}

// runScenarios runs the Ginkgo failover suite against the lab as it is.
func runScenarios(t *testing.T) {
	cmd := exec.Command("go", "run", "github.com/onsi/ginkgo/v2/ginkgo", "-v", "--no-color", "./scenarios", "--",
		"-config="+filepath.Join(repoRoot, "lab.yaml"))
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "HALAB_SCENARIOS=1")
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, testWriter{t})
	cmd.Stderr = cmd.Stdout
	if err := cmd.Run(); err != nil {
		t.Fatalf("scenarios: %v", err)
	}
	if !strings.Contains(buf.String(), "power-off outage") || !strings.Contains(buf.String(), "Ran 2 of 2 Specs") {
		t.Errorf("scenarios did not run both specs")
	}
}
