package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// Bench is a `halab bench` run as its page shows it.
type Bench struct {
	Lab, Config, Command, Machine, Started, Took, Source string
	Figures                                              []BenchFigure
	Errors                                               []string
}

// BenchFigure is one figure: its repetitions and summary, its target
// (Limit: the number the target compares with, 0 = none) and the ID of
// the figure it is measured against (Baseline, "" = none).
type BenchFigure struct {
	ID, Name, Unit, Note string
	Samples              []float64
	Reps                 int
	Min, Median, Max     float64
	Target               string
	Limit                float64
	Met                  *bool
	Baseline             string
}

//go:embed bench.html.tmpl
var benchTmpl string

var btmpl = template.Must(template.New("bench").Funcs(funcs).Funcs(template.FuncMap{"num": Figure, "axis": func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }}).Parse(benchTmpl))

const (
	chartW     = 460.0
	chartLeft  = 8.0
	chartRight = chartW - 64
	chartRowH  = 22.0
)

// benchChart is one figure's chart: its range (min to max), its samples
// and median, its target line and its baseline's range, on one scale from
// zero.
type benchChart struct {
	W, H     float64
	Left     float64
	Right    float64
	Scale    float64 // px per unit
	Top      float64
	Rows     []benchRow
	Target   *benchTarget
	AxisY    float64
	AxisMax  float64
	Unit     string
	Baseline string
}

type benchRow struct {
	Y            float64
	X1, X2, XMed float64
	Samples      []float64 // x of each repetition
	Class        string    // main, base
	Tip          string
	Median       float64
}

type benchTarget struct {
	X     float64
	Label string
}

func layoutBench(f BenchFigure, base *BenchFigure) *benchChart {
	if f.Reps == 0 {
		return nil
	}
	top := max(f.Max, f.Limit)
	if base != nil && base.Reps > 0 {
		top = max(top, base.Max)
	}
	c := &benchChart{W: chartW, Left: chartLeft, Right: chartRight, Unit: f.Unit, Top: 14}
	c.AxisMax = niceCeil(top * 1.05)
	c.Scale = (c.Right - c.Left) / c.AxisMax
	y := c.Top + chartRowH/2
	c.Rows = append(c.Rows, c.row(f, y, "main"))
	if base != nil && base.Reps > 0 {
		y += chartRowH
		c.Rows = append(c.Rows, c.row(*base, y, "base"))
		c.Baseline = base.Name
	}
	if f.Limit > 0 {
		c.Target = &benchTarget{X: c.x(f.Limit), Label: f.Target}
	}
	c.AxisY = y + chartRowH/2 + 2
	c.H = c.AxisY + 16
	return c
}

func (c *benchChart) x(v float64) float64 { return c.Left + v*c.Scale }

func (c *benchChart) row(f BenchFigure, y float64, class string) benchRow {
	r := benchRow{Y: y, X1: c.x(f.Min), X2: c.x(f.Max), XMed: c.x(f.Median), Class: class, Median: f.Median}
	for _, s := range f.Samples {
		r.Samples = append(r.Samples, c.x(s))
	}
	r.Tip = fmt.Sprintf("%s: min %s, median %s, max %s %s over %d repetition(s)", f.Name, Figure(f.Min), Figure(f.Median), Figure(f.Max), f.Unit, f.Reps)
	return r
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v-1e-12 {
			return m * p
		}
	}
	return 10 * p
}

// Figure writes a measured figure with the digits worth reading: none
// from 100 up, one from 10, two below; the page and bench.md agree.
func Figure(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

type benchView struct {
	*Bench
	Rows []benchFigureView
}

type benchFigureView struct {
	BenchFigure
	Chart *benchChart
}

// RenderBench writes the bench page to w.
func RenderBench(w io.Writer, b *Bench) error {
	v := benchView{Bench: b}
	byID := map[string]*BenchFigure{}
	for i := range b.Figures {
		byID[b.Figures[i].ID] = &b.Figures[i]
	}
	for _, f := range b.Figures {
		v.Rows = append(v.Rows, benchFigureView{BenchFigure: f, Chart: layoutBench(f, byID[f.Baseline])})
	}
	var buf bytes.Buffer
	if err := btmpl.Execute(&buf, v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteBenchFile renders the bench page to path.
func WriteBenchFile(path string, b *Bench) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := RenderBench(&buf, b); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
