package main

import (
	"fmt"

	"halab/scenarios/report"
)

// writeBenchHTML renders bench.html: each figure as a chart beside its
// target and baseline, from the same data as bench.md and bench.json.
func writeBenchHTML(path string, r *benchReport, source string) error {
	b := &report.Bench{Lab: r.Lab, Config: r.Config, Command: r.Command, Started: r.Started, Took: r.Took, Errors: r.Errors, Source: source}
	if m := r.Machine; m.CPUs > 0 {
		b.Machine = fmt.Sprintf("Machine: %d CPUs (%s), kernel %s", m.CPUs, m.CPU, m.Kernel)
	}
	for _, s := range r.Figures {
		b.Figures = append(b.Figures, report.BenchFigure{
			ID: s.ID, Name: s.Name, Unit: s.Unit, Note: s.Note, Samples: s.Samples, Reps: s.Reps,
			Min: s.Min, Median: s.Median, Max: s.Max, Target: s.Target, Limit: s.Limit, Met: s.Met, Baseline: s.Baseline,
		})
	}
	return report.WriteBenchFile(path, b)
}
