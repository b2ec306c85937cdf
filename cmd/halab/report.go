package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"halab/lab"
	"halab/scenarios/report"
	"halab/scenarios/report/browser"
)

func (a *app) reportCmd() *cobra.Command {
	var out, shot string
	var height int
	c := &cobra.Command{
		Use:   "report [JSON]",
		Short: "Make the HTML report of a scenario run (or of a bench run) from its JSON report",
		Long: `Renders the failover report, one self-contained HTML page (inline SVG and
CSS, nothing fetched), from the Ginkgo JSON report of a scenario run:
build/scenarios.json by default, which "halab test" writes (and renders into
build/report/index.html itself). Give it a JSON report from elsewhere, such
as a CI artifact, to see that run. Given the build/bench/bench.json of
"halab bench", it renders the benchmark page instead.

The page goes to report/index.html beside the JSON report (bench.html beside
bench.json), or to --out. --screenshot also opens the page in headless
Chromium, checks it (one timeline per scenario that probed, no console
error) and saves a PNG of the whole page.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return &usageError{"report: at most one JSON report"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			src := ""
			if len(args) == 1 {
				src = args[0]
			} else {
				root, err := lab.FindRoot(filepath.Dir(a.configPath))
				if err != nil {
					root = "."
				}
				src = filepath.Join(root, "build", "scenarios.json")
			}
			page, run, err := renderJSONReport(src, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "==> report: %s\n", page)
			if shot == "" {
				return nil
			}
			res, err := screenshot(cmd.Context(), page, shot, height, run)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "==> screenshot: %s (%d timelines, %d sections)\n", shot, res.Timelines, res.Sections)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "out", "o", "", "the HTML file to write (default: report/index.html beside the JSON report; bench.html beside bench.json)")
	c.Flags().StringVar(&shot, "screenshot", "", "also check the page in headless Chromium and save a PNG of it here")
	c.Flags().IntVar(&height, "screenshot-height", 0, "capture only the top of the page, this many pixels (0: the whole page)")
	return c
}

// renderJSONReport renders the page of the JSON report at src (a
// scenario run's or a bench run's) to out (its default when empty) and
// returns where it went and, for a scenario run, the run. An unreadable
// or foreign file is bad input.
func renderJSONReport(src, out string) (string, *report.Run, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil, &usageError{fmt.Sprintf("%s: no such file (halab test writes build/scenarios.json; give the path of a Ginkgo JSON report)", src)}
		}
		return "", nil, &usageError{fmt.Sprintf("%s: cannot read: %v", src, unwrapPathError(err))}
	}
	if isBenchJSON(data) {
		var br benchReport
		if err := json.Unmarshal(data, &br); err != nil {
			return "", nil, &usageError{fmt.Sprintf("%s: not a halab bench report: %v", src, err)}
		}
		if out == "" {
			out = filepath.Join(filepath.Dir(src), "bench.html")
		}
		return out, nil, writeBenchHTML(out, &br, src)
	}
	run, err := report.Parse(data)
	if err != nil {
		return "", nil, &usageError{fmt.Sprintf("%s: %v", src, err)}
	}
	if out == "" {
		out = filepath.Join(filepath.Dir(src), "report", "index.html")
	}
	return out, run, report.WriteFile(out, run, report.Options{Source: src})
}

// isBenchJSON tells halab bench's report (an object with figures) from
// Ginkgo's (an array of suites).
func isBenchJSON(data []byte) bool {
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return false
	}
	var probe struct {
		Figures json.RawMessage `json:"figures"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.Figures != nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// writeRunReport renders the page of the run halab test just made. A run
// that wrote no JSON report (ginkgo could not build the suite) has no
// page; that is said, not an error of its own.
func writeRunReport(w io.Writer, jsonPath, page string) error {
	if _, err := os.Stat(jsonPath); err != nil {
		fmt.Fprintf(w, "==> no HTML report: the run wrote no %s\n", jsonPath)
		return nil
	}
	run, err := report.Load(jsonPath)
	if err != nil {
		return fmt.Errorf("HTML report: %w", err)
	}
	if err := report.WriteFile(page, run, report.Options{Source: jsonPath}); err != nil {
		return fmt.Errorf("HTML report: %w", err)
	}
	fmt.Fprintf(w, "==> report: %s (open it in a browser: file://%s)\n", relCwd(page), absPath(page))
	return nil
}

func relCwd(p string) string {
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
	}
	return p
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// screenshot opens page in headless Chromium, checks it (against run,
// when it is a scenario run's) and saves a PNG of its top height pixels
// (0: all of it).
func screenshot(ctx context.Context, page, png string, height int, run *report.Run) (*browser.Result, error) {
	bin, err := browser.Find()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	res, err := browser.Check(ctx, bin, page, browser.Shot{Path: png, Height: height})
	if err != nil {
		return nil, err
	}
	var problems []string
	if run != nil {
		problems = report.PageProblems(run, res.Sections, res.Timelines, res.Errors, res.Fetched)
	} else {
		problems = report.PageProblems(&report.Run{}, 0, 0, res.Errors, res.Fetched)
	}
	if len(problems) > 0 {
		return res, fmt.Errorf("%s in the browser: %s", page, strings.Join(problems, "; "))
	}
	return res, nil
}
