package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// halab report: bad input is exit 2 with the file named, no stack trace.
func TestReportBadInput(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "notes.json")
	os.WriteFile(notJSON, []byte("not json"), 0o644)
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(`{"name": "x"}`), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", filepath.Join(dir, "missing.json")}, "halab: " + filepath.Join(dir, "missing.json") + ": no such file"},
		{[]string{"report", notJSON}, "halab: " + notJSON + ": not a Ginkgo JSON report"},
		{[]string{"report", other}, "halab: " + other + ": not a Ginkgo JSON report"},
		{[]string{"report", dir}, "halab: " + dir + ": cannot read: is a directory"},
		{[]string{"report", "a.json", "b.json"}, "halab: report: at most one JSON report"},
		{[]string{"report", "--screenshot-height", "x"}, "halab: invalid argument"},
	} {
		out, code := captureRun(t, tc.args...)
		if code != 2 || !strings.HasPrefix(out, tc.want) || strings.Contains(out, "goroutine") {
			t.Errorf("halab %v: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, out)
		}
	}
}

// halab report renders a real run's JSON report beside it, and a bench
// report as bench.html.
func TestReportRenders(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(repoRoot, "scenarios", "report", "testdata", "corosync-run.json"))
	if err != nil {
		t.Fatal(err)
	}
	js := filepath.Join(dir, "ci", "scenarios.json")
	os.MkdirAll(filepath.Dir(js), 0o755)
	os.WriteFile(js, data, 0o644)
	out, code := captureRun(t, "report", js)
	page := filepath.Join(dir, "ci", "report", "index.html")
	if code != 0 || !strings.Contains(out, page) {
		t.Fatalf("exit %d: %s", code, out)
	}
	html, _ := os.ReadFile(page)
	for _, want := range []string{"<svg class=\"timeline\"", "power-off", "Versions found on the nodes", "corosync"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("page lacks %q", want)
		}
	}

	r := benchReport{Lab: "bench", Command: "halab -c bench.yaml bench --reps 3", Started: "2026-11-26T05:00:37Z"}
	sftp, scp := newSeries("jdk-sftp", "JDK push, halab SFTP", "MB/s"), newSeries("jdk-scp", "JDK push, OpenSSH scp", "MB/s")
	sftp.Baseline = scp.ID
	ratio := newSeries("jdk-ratio", "SFTP / scp", "×")
	ratio.setTargetMin("≥ 0.9", 0.9)
	for i, v := range []float64{84.9, 86.1, 64.9} {
		sftp.add(v)
		scp.add([]float64{68.2, 74.2, 65.9}[i])
		ratio.add(v / []float64{68.2, 74.2, 65.9}[i])
	}
	r.add(sftp, scp, ratio)
	bj, _ := json.Marshal(r)
	bench := filepath.Join(dir, "bench", "bench.json")
	os.MkdirAll(filepath.Dir(bench), 0o755)
	os.WriteFile(bench, bj, 0o644)
	out, code = captureRun(t, "report", bench)
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, out)
	}
	bh, err := os.ReadFile(filepath.Join(dir, "bench", "bench.html"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(bh), `<svg class="bench"`); n != 3 {
		t.Errorf("%d charts in bench.html, want 3", n)
	}
	for _, want := range []string{"baseline: JDK push, OpenSSH scp", "≥ 0.9", `class="target"`, `class="range base"`} {
		if !strings.Contains(string(bh), want) {
			t.Errorf("bench.html lacks %q", want)
		}
	}
}

// captureRun runs halab in this process with its output captured.
func captureRun(t *testing.T, args ...string) (string, int) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	var out []byte
	done := make(chan struct{})
	go func() { out, _ = io.ReadAll(r); close(done) }()
	code := run(args)
	os.Stdout, os.Stderr = stdout, stderr
	w.Close()
	<-done
	r.Close()
	return string(out), code
}
