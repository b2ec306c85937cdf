package provision

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"halab/lab"
)

// The configuration audit: the cluster's own verifiers, run against the
// live CIB after the crm step and in every audit (harness.Audit, `halab
// status`). Their warnings are findings against the configuration; an
// error fails provisioning with the verifier's words.

// Verifier is one of the cluster's configuration checkers as a stack
// runs it.
type Verifier struct {
	Name string
	Cmd  lab.RemoteCommand
	// OKExits are the exit codes that mean "no error" (nothing, or
	// warnings): Pacemaker 2 exits 0 with warnings, 1.1.6 exits 1.
	OKExits []int
	// Optional: a node without it (127) is not an error (crmsh is not
	// on every machine of provider: ssh).
	Optional bool
}

var (
	// Pacemaker 2.1's crm_verify prints its configuration warnings
	// ("Blind faith", ...) only from the second -V on: with one it is
	// silent on the article's configuration.
	crmVerifyLiveVV = lab.Remote("crm_verify", "-L", "-V", "-V")
	// Pacemaker 1.1.6's starts at LOG_ERR and each -V raises it by one:
	// one -V shows warnings (crm_warn), a second would add notices.
	crmVerifyLiveV     = lab.Remote("crm_verify", "-L", "-V")
	crmConfigureVerify = lab.Remote("crm", "configure", "verify")
)

// Pacemaker2Verifiers are the corosync stack's (Pacemaker 2.1, crmsh
// 4.4, whose verify adds its own checks, such as constraints on a
// group's members, to crm_verify's).
var Pacemaker2Verifiers = []Verifier{
	{Name: "crm_verify", Cmd: crmVerifyLiveVV, OKExits: []int{0}},
	{Name: "crm configure verify", Cmd: crmConfigureVerify, OKExits: []int{0}, Optional: true},
}

// Pacemaker116Verifiers are the heartbeat stack's (Pacemaker 1.1.6 on
// Ubuntu 12.04): crm_verify exits 0 when clean, 1 on warnings, 2 on
// errors, 3 when it cannot read the live CIB; its crm shell's verify
// pipes the CIB through `crm_verify -V -p` (its output passes through)
// and fails on errors only.
var Pacemaker116Verifiers = []Verifier{
	{Name: "crm_verify", Cmd: crmVerifyLiveV, OKExits: []int{0, 1}},
	{Name: "crm configure verify", Cmd: crmConfigureVerify, OKExits: []int{0}},
}

// Finding is one thing the verifiers said about the configuration.
type Finding struct {
	Level string   `json:"level"` // "warning" or "error"
	Text  string   `json:"text"`  // the verifier's words
	By    []string `json:"by"`    // the verifiers that said it
	// Meaning says what it means for the lab's user, when halab knows.
	Meaning string `json:"meaning,omitempty"`
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s (%s): %s", f.Level, strings.Join(f.By, ", "), f.Text)
	if f.Meaning != "" {
		s += "\n      means: " + f.Meaning
	}
	return s
}

// ConfigAudit is the verifiers' view of the configuration.
type ConfigAudit struct {
	Node     string    `json:"node,omitempty"` // where they ran
	Findings []Finding `json:"findings"`
	// NotApplicable says why the stack has no verifier.
	NotApplicable string `json:"not_applicable,omitempty"`
	// Missing are optional verifiers that are not installed.
	Missing []string `json:"missing,omitempty"`
	// Output is each verifier's output as it ran, for artifacts.
	Output map[string]string `json:"-"`
}

// Errors are the findings of level error.
func (a *ConfigAudit) Errors() []Finding {
	var e []Finding
	for _, f := range a.Findings {
		if f.Level == "error" {
			e = append(e, f)
		}
	}
	return e
}

// Summary is a line for reports: "3 warnings: Blind faith: ...; ...".
func (a *ConfigAudit) Summary() string {
	switch {
	case a == nil:
		return ""
	case a.NotApplicable != "":
		return "not applicable: " + a.NotApplicable
	case len(a.Findings) == 0:
		return "no findings"
	}
	var texts []string
	for _, f := range a.Findings {
		texts = append(texts, f.Text)
	}
	return countFindings(a) + ": " + strings.Join(texts, "; ")
}

func plural(n int, s string) string {
	if n == 1 {
		return "1 " + s
	}
	return fmt.Sprintf("%d %ss", n, s)
}

// HeartbeatV1NoVerifier is why heartbeat v1 has no configuration audit.
const HeartbeatV1NoVerifier = "heartbeat v1 has no CIB: haresources has no verifier of the cluster's own"

// VerifyConfig runs the stack's verifiers on n and reads their findings.
// An error is a transport that failed, or a verifier that could not run.
func VerifyConfig(ctx context.Context, n lab.Runner, s *Stack) (*ConfigAudit, error) {
	a := &ConfigAudit{Node: n.NodeName(), Findings: []Finding{}, Output: map[string]string{}}
	if len(s.Verifiers) == 0 {
		a.NotApplicable = s.NoVerifier
		return a, nil
	}
	for _, v := range s.Verifiers {
		res, err := n.Sudo(ctx, nil, v.Cmd.Argv()...)
		if err != nil {
			return a, err
		}
		out := string(res.Stdout) + string(res.Stderr)
		a.Output[v.Name] = fmt.Sprintf("$ %s\n%s(exit %d)\n", strings.Join(v.Cmd.Argv(), " "), out, res.ExitCode)
		if res.ExitCode == 127 && v.Optional {
			a.Missing = append(a.Missing, v.Name)
			continue
		}
		fs, err := ParseVerifier(v, out, res.ExitCode)
		if err != nil {
			return a, err
		}
		a.Add(fs)
	}
	return a, nil
}

// Add merges fs into the audit's findings: one per level and text, with
// every verifier that said it.
func (a *ConfigAudit) Add(fs []Finding) { a.Findings = mergeFindings(a.Findings, fs) }

var (
	ansiRe = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	// crmsh: "WARNING: text", "ERROR: text"
	crmshLine = regexp.MustCompile(`^(WARNING|ERROR|CRITICAL|INFO|DEBUG): (.*)$`)
	// Pacemaker 2: "(function) \twarning: text"
	pcmk2Line = regexp.MustCompile(`^\(([^)]*)\)\s+(\w+): (.*)$`)
	// Pacemaker 1.1 through cluster-glue's cl_log on stderr:
	// "crm_verify[PID]: YYYY/MM/DD_HH:MM:SS WARN: function: text"
	pcmk1Line = regexp.MustCompile(`^[\w.-]+\[\d+\]: \S+ (EMERG|ALERT|CRIT|ERROR|WARN|notice|info|debug): (?:(\w+): )?(.*)$`)
	// a verifier that could not read the CIB (Pacemaker not running):
	// not a finding against the configuration
	noCIB = regexp.MustCompile(`CIB query failed|Could not connect to the CIB|Signon to CIB failed`)
	// the verifiers' closing lines, which repeat what the exit code says
	summaryLine = regexp.MustCompile(`^(crm_verify: )?(Errors found during check: config not valid|Warnings found during check: config may not be valid|-V may provide more details|Use -V for more details)$`)
)

// level maps a verifier's word for a level to a finding's; "" is one
// that is not a finding (notices, info).
func level(word string) string {
	switch strings.ToLower(word) {
	case "warning", "warn":
		return "warning"
	case "error", "err", "crit", "critical", "emerg", "alert":
		return "error"
	}
	return ""
}

// ParseVerifier reads one verifier's output (stdout and stderr) and exit
// code: crm_verify's lines as Pacemaker 2 and 1.1.6 print them, crmsh's
// (ANSI colours stripped; the crm_verify lines it relays are read as
// crm_verify's). A non-zero exit that is not one of v's OK codes is an
// error: its unrecognised lines (schema validation) are error findings,
// or, without any, one that quotes the exit code and the last line. A
// verifier that could not read the CIB is an error, not a finding.
func ParseVerifier(v Verifier, out string, code int) ([]Finding, error) {
	ok := slices.Contains(v.OKExits, code)
	if !ok {
		for _, l := range strings.Split(ansiRe.ReplaceAllString(out, ""), "\n") {
			if noCIB.MatchString(l) {
				return nil, fmt.Errorf("%s could not read the CIB (is Pacemaker running?): %s", v.Name, strings.TrimSpace(l))
			}
		}
	}
	var fs []Finding
	var other []string
	for _, raw := range strings.Split(ansiRe.ReplaceAllString(out, ""), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || summaryLine.MatchString(line) {
			continue
		}
		lvl, text, known := parseLevelLine(line)
		if known {
			if lvl != "" && !summaryLine.MatchString(text) {
				fs = append(fs, Finding{Level: lvl, Text: text, By: []string{v.Name}})
			}
			continue
		}
		other = append(other, line)
	}
	if !ok {
		hasErr := slices.ContainsFunc(fs, func(f Finding) bool { return f.Level == "error" })
		for _, l := range other {
			fs = append(fs, Finding{Level: "error", Text: l, By: []string{v.Name}})
			hasErr = true
		}
		if !hasErr {
			last := lastLineOf(out)
			if last == "" {
				last = "no output"
			}
			fs = append(fs, Finding{Level: "error", Text: fmt.Sprintf("exited %d (%s)", code, last), By: []string{v.Name}})
		}
	}
	for i := range fs {
		fs[i].Meaning = meaning(fs[i].Text)
	}
	return mergeFindings(nil, fs), nil
}

// parseLevelLine reads a line of a known form; known false for others.
func parseLevelLine(line string) (lvl, text string, known bool) {
	if m := crmshLine.FindStringSubmatch(line); m != nil {
		lvl, text = level(m[1]), strings.TrimSpace(m[2])
		// crmsh relays crm_verify's lines: read them as crm_verify's
		if l2, t2, ok := parseLevelLine(text); ok {
			return l2, t2, true
		}
		if strings.HasPrefix(text, "crm_verify: ") {
			text = strings.TrimPrefix(text, "crm_verify: ")
		}
		return lvl, text, true
	}
	if m := pcmk2Line.FindStringSubmatch(line); m != nil {
		return level(m[2]), strings.TrimSpace(m[3]), true
	}
	if m := pcmk1Line.FindStringSubmatch(line); m != nil {
		return level(m[1]), strings.TrimSpace(m[3]), true
	}
	return "", "", false
}

// mergeFindings adds fs to into, one finding per level and text, with
// every verifier that said it.
func mergeFindings(into, fs []Finding) []Finding {
	for _, f := range fs {
		i := slices.IndexFunc(into, func(g Finding) bool { return g.Level == f.Level && g.Text == f.Text })
		if i < 0 {
			into = append(into, f)
			continue
		}
		for _, b := range f.By {
			if !slices.Contains(into[i].By, b) {
				into[i].By = append(into[i].By, b)
			}
		}
	}
	return into
}

var groupedRe = regexp.MustCompile(`^(\S+): resource (\S+) is grouped, constraints should apply to the group$`)

// meaning says what a finding means for the lab's user, for the ones the
// article's configuration (and halab's variations of it) can raise.
func meaning(text string) string {
	switch {
	case strings.Contains(text, "Blind faith: not fencing unseen nodes"):
		return "a node the cluster has not seen is trusted to be down, not fenced: with stonith-enabled=false (the article's choice; on Pacemaker 2 that alone raises this warning, on 1.1.6 startup-fencing=false does) nothing is ever fenced, so in a partition both nodes can hold the VIP and run the service (see the partition scenario); fencing.agent: auto fences instead (docs/fencing.md)"
	case groupedRe.MatchString(text):
		m := groupedRe.FindStringSubmatch(text)
		return fmt.Sprintf("the colocation %s only repeats what the group already does (a group keeps its members on one node, in order); harmless, but a constraint should name the group, not %s; halab keeps the article's configuration as it is", m[1], m[2])
	case strings.Contains(text, "no STONITH resources have been defined"):
		return "stonith-enabled=true without a fence device: Pacemaker starts no resource at all"
	}
	return ""
}

// Count is "no findings", "3 warnings", "1 error, 2 warnings".
func (a *ConfigAudit) Count() string { return countFindings(a) }

func countFindings(a *ConfigAudit) string {
	if len(a.Findings) == 0 {
		return "no findings"
	}
	var w, e int
	for _, f := range a.Findings {
		if f.Level == "error" {
			e++
		} else {
			w++
		}
	}
	switch {
	case e == 0:
		return plural(w, "warning")
	case w == 0:
		return plural(e, "error")
	}
	return plural(e, "error") + ", " + plural(w, "warning")
}
