package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"halab/lab"
	"halab/provision"
)

// The heartbeat-v1 stack runs on a lab of its own (v1Lab), beside
// TestE2ELab's corosync lab when go test's -parallel allows it (make
// test-e2e runs E2E_PARALLEL tests at once): two labs of one host, each
// with its own name, subnet and ports, as the lab-isolation rules allow.
const (
	v1Lab    = "halab-v1"
	v1Subnet = "192.168.59"
	v1VIP    = v1Subnet + ".20"
)

// writeV1Lab writes the heartbeat-v1 lab's file: lab.yaml with its own
// name, addresses and SSH ports.
func writeV1Lab(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot, "lab.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	y := string(src)
	for _, r := range [][2]string{
		{"name: halab", "name: " + v1Lab}, {"provider: auto", "provider: docker"}, {"stack: auto", "stack: heartbeat-v1"},
		{"ip: 192.168.56.11", "ip: " + v1Subnet + ".11"}, {"ip: 192.168.56.12", "ip: " + v1Subnet + ".12"},
		{"address: 192.168.56.20", "address: " + v1VIP}, {"ssh_port: 2222", "ssh_port: 2262"},
		{"jdk_archive: build/jdk.tar.gz", "jdk_archive: " + filepath.Join(repoRoot, "build", "jdk.tar.gz")},
	} {
		if !strings.Contains(y, r[0]) {
			t.Fatalf("lab.yaml has no %q to replace", r[0])
		}
		y = strings.Replace(y, r[0], r[1], 1)
	}
	return writeE2ELabFile(t, v1Lab, y)
}

func TestE2EHeartbeatV1(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	bin := buildHalab(t)
	cfg := writeV1Lab(t)
	h := func(args ...string) string { return mustHalab(t, bin, append([]string{"-c", cfg}, args...)...) }
	hr := func(args ...string) halabRun { return runHalab(t, bin, append([]string{"-c", cfg}, args...)...) }
	h("down")
	t.Cleanup(func() {
		if os.Getenv("HALAB_E2E_KEEP") == "" {
			hr("down")
		}
	})
	h("up")

	t.Run("provision heartbeat-v1", func(t *testing.T) {
		out := h("provision")
		if !strings.Contains(out, "provisioned stack heartbeat-v1") {
			t.Fatalf("provision did not finish")
		}
		owner := vipGetAt(t, v1VIP)
		if owner != "node1" && owner != "node2" {
			t.Fatalf("VIP answered %q", owner)
		}
		exe := h("ssh", owner, "--", "sh", "-c", `readlink -f /proc/$(cat /opt/stratos/wso2carbon.pid)/exe`)
		if !strings.Contains(exe, "/opt/.halab/jdk-") {
			t.Errorf("service not run by the pushed JDK: %s", exe)
		}
		starts := func(node string) string {
			return h("ssh", node, "--", "systemctl", "show", "-p", "ActiveEnterTimestampMonotonic", "heartbeat")
		}
		before1, before2 := starts("node1"), starts("node2")
		if n := changedSteps(t, h("provision")); n != 0 {
			t.Errorf("warm provision changed %d steps", n)
		}
		if a1, a2 := starts("node1"), starts("node2"); a1 != before1 || a2 != before2 {
			t.Errorf("warm provision restarted heartbeat:\n%s%s\n->\n%s%s", before1, before2, a1, a2)
		}
		if got := vipGetAt(t, v1VIP); got != owner {
			t.Errorf("VIP moved from %s to %s on a warm provision", owner, got)
		}
	})

	t.Run("check-initd", func(t *testing.T) {
		// The installed template passes (the check runs on the node
		// without the service).
		out := h("check-initd", "--action-timeout", "30s")
		if !strings.Contains(out, "passes all 16 checks") {
			t.Errorf("template init script did not pass")
		}
		// A compliant script of a user's, whose pid file is its own
		// (/run/halab-demo.pid, not the stand-in's): the died-process
		// checks find its daemon without the pid file, and it passes.
		own := hr("check-initd", "--script", filepath.Join(repoRoot, "provision/testdata/lsb/own-pidfile.sh"), "--action-timeout", "30s")
		if own.code != 0 || !strings.Contains(own.out, "passes all 16 checks") || strings.Contains(own.out, "not run") {
			t.Errorf("a compliant script with its own pid file: exit %d\n%s", own.code, own.out)
		}
		// The article's script, with the three variables the article says
		// to edit pointed at the lab, fails with each violation named.
		src, err := os.ReadFile(filepath.Join(repoRoot, "templates/testdata/article-initd.sh"))
		if err != nil {
			t.Fatal(err)
		}
		d := lab.Defaults()
		s := regexp.MustCompile(`(?m)^JAVA_HOME=.*$`).ReplaceAllString(string(src), `JAVA_HOME="`+d.Service.JavaHome+`"`)
		s = regexp.MustCompile(`(?m)^PRODUCT_HOME=.*$`).ReplaceAllString(s, `PRODUCT_HOME="`+d.Service.ProductHome+`"`)
		article := filepath.Join(t.TempDir(), "stratos")
		os.WriteFile(article, []byte(s), 0o755)
		r := hr("check-initd", "--script", article, "--action-timeout", "8s")
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

	t.Run("scenarios heartbeat-v1", func(t *testing.T) { runScenarios(t, bin, "heartbeat-v1", "-c", cfg) })

	// One lab, another stack: the other stack's daemons are stopped and
	// the VIP serves again, from corosync.
	t.Run("switching the lab to corosync", func(t *testing.T) {
		if out := h("provision", "--stack", "corosync"); !strings.Contains(out, "provisioned stack corosync") {
			t.Fatalf("provision did not finish")
		}
		if got := vipGetAt(t, v1VIP); got != "node1" && got != "node2" {
			t.Errorf("VIP answered %q", got)
		}
		for _, n := range []string{"node1", "node2"} {
			if r := hr("ssh", n, "--", "systemctl", "is-active", "heartbeat"); r.code == 0 {
				t.Errorf("%s: heartbeat still active after the switch: %s", n, r.out)
			}
		}
	})

	t.Run("no secret in this lab's output, reports or artifacts", func(t *testing.T) {
		secrets, err := provision.ReadSecretValues(filepath.Join(repoRoot, ".halab", v1Lab))
		if err != nil || len(secrets) == 0 {
			t.Fatalf("reading the lab's secrets: %v (%d)", err, len(secrets))
		}
		if found := provision.FindSecrets([]byte(transcript.String()), secrets); len(found) > 0 {
			t.Errorf("halab printed a secret (%v)", found)
		}
		found, err := provision.ScanForSecrets(filepath.Join(repoRoot, "build"), secrets, func(p string) bool {
			return strings.HasSuffix(p, ".tar.gz") || strings.HasSuffix(p, ".tar") || filepath.Base(p) == "ginkgo" || strings.Contains(p, "/bench/")
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(found) > 0 {
			t.Errorf("secrets in reports or artifacts: %v", found)
		}
	})

	t.Run("down twice leaves nothing", func(t *testing.T) {
		h("down")
		h("down")
		if ids, _ := filepath.Glob(filepath.Join(repoRoot, ".halab", v1Lab, "vagrant/machines/*/docker/id")); len(ids) > 0 {
			t.Errorf("machine ids left: %v", ids)
		}
	})
}
