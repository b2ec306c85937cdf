package lab

import (
	"os"
	"reflect"
	"testing"
)

// A profile fills the timings the file leaves out; keys in the file win.
func TestTimingProfile(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Timings
	}{
		{"no profile is the article", "name: x\n", timingProfiles["article"]},
		{"fast", "timings: {profile: fast}\n", timingProfiles["fast"]},
		{"fast with a key of its own", "timings: {profile: fast, deadtime: 6}\n", func() Timings {
			f := timingProfiles["fast"]
			f.Deadtime = 6
			return f
		}()},
		{"null key takes the profile's", "timings: {profile: fast, token_ms: ~}\n", timingProfiles["fast"]},
		{"article with dc_deadtime", "timings: {dc_deadtime: 7}\n", func() Timings {
			a := timingProfiles["article"]
			a.DCDeadtime = 7
			return a
		}()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse([]byte(c.in), "lab.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Timings != c.want {
				t.Errorf("timings\n got %+v\nwant %+v", cfg.Timings, c.want)
			}
		})
	}
}

// WithTimingProfile gives a file whose timings are the profile's alone and
// keeps the rest of the file.
func TestWithTimingProfile(t *testing.T) {
	data, err := os.ReadFile("../lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := WithTimingProfile(data, "fast")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(out, "lab.fast.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if cfg.Timings != timingProfiles["fast"] {
		t.Errorf("timings %+v, want the fast profile's", cfg.Timings)
	}
	orig, _ := Parse(data, "lab.yaml")
	orig.Timings, orig.Path = cfg.Timings, cfg.Path
	if !reflect.DeepEqual(orig, cfg) {
		t.Errorf("other keys changed:\n%s", out)
	}
	if _, err := WithTimingProfile(data, "slow"); err == nil {
		t.Error("an unknown profile is accepted")
	}
}
