package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"

	"halab/scenarios/report"
)

// series is one figure's repetitions and their summary.
type series struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Unit    string    `json:"unit"`
	Samples []float64 `json:"samples"`
	Reps    int       `json:"reps"`
	Min     float64   `json:"min"`
	Median  float64   `json:"median"`
	Max     float64   `json:"max"`
	// Target is the target for this figure; Met says whether every
	// repetition (for bounds) or the median (for rates) met it.
	Target string `json:"target,omitempty"`
	Met    *bool  `json:"met,omitempty"`
	Note   string `json:"note,omitempty"`
	// Limit is the number Target compares with (for bench.html's chart);
	// Baseline the ID of the figure this one is measured against.
	Limit    float64 `json:"limit,omitempty"`
	Baseline string  `json:"baseline,omitempty"`

	targetMax, targetMin float64
	allReps              bool
}

func newSeries(id, name, unit string) *series {
	return &series{ID: id, Name: name, Unit: unit, Samples: []float64{}}
}

// setTarget: the median must be below v.
func (s *series) setTarget(text string, v float64) { s.Target, s.targetMax, s.Limit = text, v, v }

// setTargetAll: every repetition must be below v.
func (s *series) setTargetAll(text string, v float64) {
	s.Target, s.targetMax, s.allReps, s.Limit = text, v, true, v
}

// setTargetMin: the median must be at least v.
func (s *series) setTargetMin(text string, v float64) { s.Target, s.targetMin, s.Limit = text, v, v }

func (s *series) add(v float64) {
	s.Samples = append(s.Samples, v)
	sorted := slices.Clone(s.Samples)
	slices.Sort(sorted)
	s.Reps = len(sorted)
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	if n := len(sorted); n%2 == 1 {
		s.Median = sorted[n/2]
	} else {
		s.Median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	if s.Target == "" {
		return
	}
	met := true
	switch {
	case s.targetMax > 0 && s.allReps:
		met = s.Max < s.targetMax
	case s.targetMax > 0:
		met = s.Median < s.targetMax
	case s.targetMin > 0:
		met = s.Median >= s.targetMin
	}
	s.Met = &met
}

type benchReport struct {
	Lab     string    `json:"lab"`
	Config  string    `json:"config"`
	Command string    `json:"command"`
	Machine machine   `json:"machine"`
	Started string    `json:"started"`
	Took    string    `json:"took,omitempty"`
	Figures []*series `json:"figures"`
	Errors  []string  `json:"errors,omitempty"`
}

func (r *benchReport) add(s ...*series) { r.Figures = append(r.Figures, s...) }

// againstArticle: a figure of another timing profile is measured against
// the same figure with the article's timings (id ends in -PROFILE).
func againstArticle(id, profile string) string {
	if profile == "article" {
		return ""
	}
	return strings.TrimSuffix(id, profile) + "article"
}

type machine struct {
	CPUs   int    `json:"nproc"`
	CPU    string `json:"cpu"`
	Kernel string `json:"kernel"`
}

func machineInfo() machine {
	m := machine{CPUs: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	}
	return m
}

// markdown is the table for build/bench/bench.md and docs/benchmarks.md.
func (r *benchReport) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %d CPUs (%s), kernel %s. Command: `%s`. Started %s", r.Machine.CPUs, r.Machine.CPU, r.Machine.Kernel, r.Command, r.Started)
	if r.Took != "" {
		fmt.Fprintf(&b, ", took %s", r.Took)
	}
	b.WriteString(".\n\n")
	b.WriteString("| figure | unit | reps | min | median | max | target | met |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---|---|\n")
	for _, s := range r.Figures {
		met := ""
		if s.Met != nil {
			met = yes(*s.Met)
		}
		name := s.Name
		if s.Note != "" {
			name += " — " + s.Note
		}
		if s.Reps == 0 {
			fmt.Fprintf(&b, "| %s | %s | 0 | | | | %s | |\n", name, s.Unit, s.Target)
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s |\n", name, s.Unit, s.Reps, report.Figure(s.Min), report.Figure(s.Median), report.Figure(s.Max), s.Target, met)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "\nNot measured: %s\n", e)
	}
	return b.String()
}
