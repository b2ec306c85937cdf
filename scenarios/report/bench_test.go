package report

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
)

// The bench page draws each figure on a scale from zero: its range from
// min to max, a circle per repetition, the median, the target line, and
// its baseline's range on the same scale.
func TestBenchChartGeometry(t *testing.T) {
	met := true
	b := &Bench{Lab: "bench", Figures: []BenchFigure{
		{ID: "up+provision-article", Name: "up + provision, article", Unit: "s", Samples: []float64{37.3, 38.4, 40.4}, Reps: 3, Min: 37.3, Median: 38.4, Max: 40.4, Target: "< 60 s", Limit: 60, Met: &met},
		{ID: "up+provision-fast", Name: "up + provision, fast", Unit: "s", Samples: []float64{24.6, 25.2, 25.9}, Reps: 3, Min: 24.6, Median: 25.2, Max: 25.9, Target: "< 60 s", Limit: 60, Met: &met, Baseline: "up+provision-article"},
		{ID: "empty", Name: "not measured", Unit: "s"},
	}}
	var out bytes.Buffer
	if err := RenderBench(&out, b); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	if n := strings.Count(page, `<svg class="bench"`); n != 2 {
		t.Fatalf("%d charts, want 2 (none for a figure without repetitions)", n)
	}
	// The second chart: fast, with the article's figure as its baseline.
	i := strings.LastIndex(page, `<svg class="bench"`)
	svg := page[i : i+strings.Index(page[i:], "</svg>")+len("</svg>")]
	c := layoutBench(b.Figures[1], &b.Figures[0])
	if c.AxisMax != 100 { // 60 (the target) * 1.05 rounded up
		t.Errorf("axis to %v", c.AxisMax)
	}
	x := func(v float64) float64 { return chartLeft + v*(chartRight-chartLeft)/c.AxisMax }
	var ranges, medians, samples, targets []map[string]string
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			a := map[string]string{}
			for _, at := range se.Attr {
				a[at.Name.Local] = at.Value
			}
			switch cl := a["class"]; {
			case strings.HasPrefix(cl, "range"):
				ranges = append(ranges, a)
			case cl == "median":
				medians = append(medians, a)
			case cl == "sample":
				samples = append(samples, a)
			case cl == "target":
				targets = append(targets, a)
			}
		}
	}
	num := func(a map[string]string, k string) float64 {
		v, err := strconv.ParseFloat(a[k], 64)
		if err != nil {
			t.Fatalf("%s=%q", k, a[k])
		}
		return v
	}
	if len(ranges) != 2 || ranges[0]["class"] != "range main" || ranges[1]["class"] != "range base" {
		t.Fatalf("ranges %v", ranges)
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if got-want > 0.011 || want-got > 0.011 {
			t.Errorf("%s: %.3f, want %.3f", what, got, want)
		}
	}
	near("min", num(ranges[0], "x1"), x(24.6))
	near("max", num(ranges[0], "x2"), x(25.9))
	near("baseline min", num(ranges[1], "x1"), x(37.3))
	near("baseline max", num(ranges[1], "x2"), x(40.4))
	if len(medians) != 2 {
		t.Fatalf("%d medians", len(medians))
	}
	near("median", num(medians[0], "x1"), x(25.2))
	near("baseline median", num(medians[1], "x1"), x(38.4))
	if len(samples) != 6 {
		t.Errorf("%d repetition circles, want 3 + 3", len(samples))
	}
	if len(targets) != 1 {
		t.Fatalf("%d target lines", len(targets))
	}
	near("target", num(targets[0], "x1"), x(60))
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0.93: 1, 1.05: 2, 2.1: 2.5, 63: 100, 420: 500, 7.1: 10, 0: 1} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}
