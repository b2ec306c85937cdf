package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"halab/scenarios/prober"
)

//go:embed page.html.tmpl
var pageTmpl string

//go:embed style.css
var styleCSS string

var funcs = template.FuncMap{
	"f":     func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"sec":   seconds,
	"clock": clock,
	"date":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"took": func(d time.Duration) string {
		if d >= time.Minute {
			return d.Round(time.Second).String()
		}
		return seconds(d)
	},
	"join": strings.Join,
	"add":  func(a, b float64) float64 { return a + b },
	"sub":  func(a, b float64) float64 { return a - b },
	"half": func(a float64) float64 { return a / 2 },
	"css":  func() template.CSS { return template.CSS(styleCSS) },
	"arrow": func(owners []string) string {
		return strings.Join(owners, " → ")
	},
	"resultClass": resultClass,
	// fenced: the entry's fences, "–" when none.
	"fenced": func(e prober.Entry) string {
		if len(e.Fenced) == 0 {
			return "–"
		}
		return e.FenceColumn()
	},
	// uses: whether the stack runs the package (the others may be
	// installed too: the docker image has both stacks').
	"uses": func(l *Lab, pkg string) bool { return l != nil && slices.Contains(l.Uses, pkg) },
}

// resultClass is a result as a CSS class: lower case words joined by
// dashes ("UNSAFE (no fencing)" is unsafe-no-fencing).
func resultClass(r string) string {
	return strings.Trim(classRe.ReplaceAllString(strings.ToLower(r), "-"), "-")
}

var classRe = regexp.MustCompile(`[^a-z0-9]+`)

var tmpl = template.Must(template.New("page").Funcs(funcs).Parse(pageTmpl))

// Options say how the page is made.
type Options struct {
	// Source names the JSON report the page was made from, for its footer.
	Source string
}

type pageView struct {
	*Run
	Opts      Options
	Counts    map[string]int
	Nodes     []string
	Scenarios []scenarioView
	Docker    bool
}

type scenarioView struct {
	Scenario
	TL     *timelineView
	Events []eventLine
	Probes int
	Failed int
	Fault  string
}

type eventLine struct {
	N      int
	Offset string // from the injection (or the first probe)
	Clock  string
	Kind   string
	Text   string
	Drawn  bool
}

// Render writes the page of run to w.
func Render(w io.Writer, run *Run, opts Options) error {
	v := pageView{Run: run, Opts: opts, Counts: run.Counts()}
	if run.Lab != nil {
		for _, n := range run.Lab.Nodes {
			v.Nodes = append(v.Nodes, n.Name)
		}
		v.Docker = run.Lab.SharedKernel
	}
	for _, s := range run.Scenarios {
		sv := scenarioView{Scenario: s}
		if tl := s.Entry.Timeline; tl != nil {
			sv.TL = layoutTimeline(s.Entry, v.Nodes, run.Lab.FencingOn())
			sv.Probes = len(tl.Probes)
			for _, p := range tl.Probes {
				if p.Owner == "" {
					sv.Failed++
				}
			}
			if tl.Fault != "" {
				sv.Fault = tl.Fault + " " + tl.Node
			}
			sv.Events = eventLines(tl, sv.TL)
		}
		v.Scenarios = append(v.Scenarios, sv)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, v); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

func eventLines(tl *prober.Timeline, v *timelineView) []eventLine {
	var out []eventLine
	n := 0
	for _, ev := range tl.Events {
		if ev.Kind != prober.FenceEvent && ev.Kind != prober.AuditEvent {
			continue
		}
		n++
		at := tl.Offset(ev.At)
		l := eventLine{N: n, Clock: clock(ev.At), Kind: ev.Kind, Text: ev.Text}
		if ev.Kind == prober.FenceEvent && ev.Node != "" {
			l.Text = ev.Node + ": " + ev.Text
		}
		if v != nil {
			rel := at - v.Origin
			l.Offset = seconds(rel)
			if rel >= 0 {
				l.Offset = "+" + l.Offset
			}
			l.Drawn = at >= v.From && at <= v.To
		}
		out = append(out, l)
	}
	return out
}

// WriteFile renders the page to path (its directory made), linking the
// artifacts of failed scenarios relative to it.
func WriteFile(path string, run *Run, opts Options) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if abs, err := filepath.Abs(dir); err == nil {
		run.LinkArtifacts(abs)
	}
	var b bytes.Buffer
	if err := Render(&b, run, opts); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
