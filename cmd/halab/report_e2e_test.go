package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"halab/scenarios/report"
	"halab/scenarios/report/browser"
)

// checkReportPage follows a `halab test` run on stack (its JSON report
// build/scenarios-STACK.json): halab test made build/report/index.html,
// `halab report` makes the page again from the JSON report, and headless
// Chromium opens it: one timeline per scenario that probed, every fault
// scenario with one, no error in the browser, nothing fetched. The
// screenshot goes with the artifacts: build/artifacts/report-STACK.png.
func checkReportPage(t *testing.T, bin, stack string) {
	t.Helper()
	build := filepath.Join(repoRoot, "build")
	js := filepath.Join(build, "scenarios-"+stack+".json")
	if st, err := os.Stat(filepath.Join(build, "report", "index.html")); err != nil || time.Since(st.ModTime()) > 10*time.Minute {
		t.Errorf("halab test made no fresh build/report/index.html: %v", err)
	}
	chromium, err := browser.Find()
	if err != nil {
		t.Fatalf("%v (make test-e2e installs it through .ci/deps)", err)
	}
	page := filepath.Join(build, "report", stack+".html")
	png := filepath.Join(build, "artifacts", "report-"+stack+".png")
	mustHalab(t, bin, "report", js, "--out", page, "--screenshot", png)

	run, err := report.Load(js)
	if err != nil {
		t.Fatal(err)
	}
	probed := 0
	for _, s := range run.Scenarios {
		if s.HasEntry && s.Name != "lsb" {
			probed++
			if s.Entry.Timeline == nil {
				t.Errorf("%s reported no timeline", s.Name)
			}
		}
	}
	if run.Lab == nil || run.Lab.Stack != stack || len(run.Lab.Nodes) != 2 || run.Lab.Nodes[0].Kernel == "" {
		t.Errorf("the report's lab: %+v", run.Lab)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := browser.Check(ctx, chromium, page, browser.Shot{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range report.PageProblems(run, res.Sections, res.Timelines, res.Errors, res.Fetched) {
		t.Error(p)
	}
	if res.Timelines != probed || probed < 8 {
		t.Errorf("%d timelines in the page, %d scenarios probed (want at least 8)", res.Timelines, probed)
	}
	if st, err := os.Stat(png); err != nil || st.Size() < 10_000 {
		t.Errorf("screenshot %s: %v", png, err)
	}
}
