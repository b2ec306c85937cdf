package provision

import (
	"strings"
	"testing"

	"halab/lab"
)

// The rules of the lab file that the stacks give meaning to: the stack's
// name, the messaging layers' timing rules, the crm settings. Each bad
// value is refused with its field named, through lab.Parse as the CLI
// calls it.
func TestCheckConfig(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		fields []string
		msg    string
	}{
		{"stack unknown", "stack: pacemaker", []string{"stack: "}, "unknown stack (use one of auto, corosync, heartbeat, heartbeat-v1)"},
		{"stack typo", "stack: heartbeat-v2", []string{"stack: "}, ""},
		{"fast profile, deadtime below its keepalive", "timings: {profile: fast, keepalive: 5}", []string{"timings.deadtime: "}, "4 s is not longer than keepalive (5 s)"},
		{"deadtime equals keepalive", "timings: {keepalive: 20}", []string{"timings.deadtime: "}, "20 s is not longer than keepalive (20 s)"},
		{"deadtime below keepalive", "timings: {keepalive: 30}", []string{"timings.deadtime: "}, "not longer than keepalive (30 s)"},
		{"deadtime 2", "timings: {deadtime: 2}", []string{"timings.deadtime: ", "timings.warntime: "}, "not longer than keepalive"},
		{"warntime equals deadtime", "timings: {warntime: 20}", []string{"timings.warntime: "}, "20 s: must be shorter than deadtime (20 s)"},
		{"warntime above deadtime", "timings: {warntime: 21}", []string{"timings.warntime: "}, "must be shorter than deadtime"},
		{"initdead below deadtime", "timings: {initdead: 19}", []string{"timings.initdead: "}, "19 s: must be at least deadtime (20 s)"},
		{"initdead 1", "timings: {initdead: 1}", []string{"timings.initdead: "}, "must be at least deadtime"},
		{"consensus below 1.2 token", "timings: {consensus_ms: 3599}", []string{"timings.consensus_ms: "}, "3599: corosync needs at least 1.2 × token_ms (3600)"},
		{"token just too big", "timings: {token_ms: 3001}", []string{"timings.consensus_ms: "}, "needs at least 1.2 × token_ms"},
		{"consensus equals token", "timings: {token_ms: 10000, consensus_ms: 10000}", []string{"timings.consensus_ms: "}, "(12000)"},
		{"token 2^62", "timings: {token_ms: 4611686018427387904}", []string{"timings.consensus_ms: "}, "needs at least 1.2 × token_ms"},
		{"token and consensus max int", "timings: {token_ms: 9223372036854775807, consensus_ms: 9223372036854775807}", []string{"timings.consensus_ms: "}, ""},
		{"stickiness negative", "crm: {resource_stickiness: -1}", []string{"crm.resource_stickiness: "}, "-1: must be zero or more"},
		{"migration threshold negative", "crm: {migration_threshold: -1}", []string{"crm.migration_threshold: "}, "(0 = Pacemaker's default)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := lab.Parse([]byte(c.in+"\n"), "lab.yaml", CheckConfig)
			if err == nil {
				t.Fatalf("accepted:\n%s\n%+v", c.in, cfg)
			}
			if !lab.IsConfigError(err) {
				t.Fatalf("not a ConfigError: %v", err)
			}
			for _, f := range c.fields {
				if !strings.Contains(err.Error(), "lab.yaml: "+f) {
					t.Errorf("error does not name %q:\n%v", f, err)
				}
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error does not say %q:\n%v", c.msg, err)
			}
		})
	}
	// The defaults, and every stack by name, pass.
	for _, in := range append([]string{"name: halab"}, prefixAll("stack: ", StackNames())...) {
		if _, err := lab.Parse([]byte(in+"\n"), "lab.yaml", CheckConfig); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
}

func prefixAll(p string, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = p + s
	}
	return out
}

// lab's problems and the stacks' come in one error, every one at once.
func TestCheckConfigWithLabProblems(t *testing.T) {
	_, err := lab.Load("../lab/testdata/config/many-problems.yaml", CheckConfig)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, f := range []string{"name: ", "provider: ", "timings.warntime: ", "service.port: "} {
		if !strings.Contains(err.Error(), "many-problems.yaml: "+f) {
			t.Errorf("no %q in:\n%v", f, err)
		}
	}
}
