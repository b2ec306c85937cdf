package main

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"halab/lab"
)

// benchWith runs `halab bench ARGS` against a lab file that does not
// exist: flags bench must refuse come back as a usage error (exit 2)
// before the lab is opened, so nothing is brought down or measured.
func benchWith(t *testing.T, args ...string) error {
	t.Helper()
	a := &app{
		configPath:     filepath.Join(t.TempDir(), "absent.yaml"),
		connectTimeout: lab.DialTimeout,
		commandTimeout: lab.CommandTimeout,
	}
	c := a.benchCmd()
	c.SetArgs(args)
	c.SetOut(io.Discard)
	c.SetErr(io.Discard)
	c.SilenceUsage, c.SilenceErrors = true, true
	return c.Execute()
}

func TestBenchFlagsRefused(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		// Used to panic (index -1) once the lab figure had built the image.
		{"no profiles", []string{"--profiles="}, "--profiles names no timing profile: use some of article,fast"},
		{"no profiles, lab figure only", []string{"--figures=lab", "--profiles="}, "--profiles names no timing profile"},
		// Used to run halab down and measure nothing.
		{"no figures", []string{"--figures="}, "--figures names no figure: use some of lab,provision-warm"},
		{"unknown figure", []string{"--figures=lab,speed"}, `--figures "speed"`},
		{"unknown profile", []string{"--profiles=slow"}, `--profiles "slow"`},
		{"unknown stack", []string{"--stacks=pacemaker"}, `--stacks "pacemaker"`},
		{"no reps", []string{"--reps=0"}, "--reps must be at least 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := benchWith(t, c.args...)
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("bench %s: err = %v (%T), want a usage error (exit 2) before the lab is opened", strings.Join(c.args, " "), err, err)
			}
			if !strings.Contains(ue.msg, c.want) {
				t.Errorf("bench %s: %q does not contain %q", strings.Join(c.args, " "), ue.msg, c.want)
			}
		})
	}
}

// Good flags get past the check to the lab file (absent here).
func TestBenchFlagsAccepted(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"--figures=lab", "--profiles=fast"},
		{"--figures=suite,failover", "--stacks=corosync", "--profiles=article,fast"},
		{"--figures=fencing", "--stacks=corosync"},
		{"--stacks="},
	} {
		err := benchWith(t, args...)
		if !lab.IsConfigError(err) || !strings.Contains(err.Error(), "absent.yaml") {
			t.Errorf("bench %s: err = %v, want the lab file's error", strings.Join(args, " "), err)
		}
	}
}
