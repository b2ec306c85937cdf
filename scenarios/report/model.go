// Package report renders the failover scenarios' results as one
// self-contained HTML page (inline SVG and CSS, nothing fetched): the lab
// and its versions, the summary table, and per scenario a timeline of the
// probes, the fault and the outage. It reads what the suite reported
// (Ginkgo's JSON report with prober.Entry values); it never talks to the
// lab.
package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"halab/scenarios/prober"
)

// Names of the report entries the suite adds besides prober.EntryName.
const (
	// LabEntryName is the suite-level entry (on BeforeSuite) with a Lab.
	LabEntryName = "lab"
	// ArtifactsEntryName is a failed scenario's artifacts directory.
	ArtifactsEntryName = "artifacts"
	// LogAuditEntryName is each scenario's LogAudit.
	LogAuditEntryName = "log-audit"
)

// LogAudit is a scenario's log audit (CTS's BadNews check): the cluster
// daemons' log lines read on every node since the scenario began, and
// those that matched a bad-news pattern, declared by the scenario as its
// fault's (Expected) or not.
type LogAudit struct {
	Stack     string
	Read      map[string]int // lines read per node
	Notes     []string       // "node: what could not be read"
	Matches   []LogAuditMatch
	Artifacts string // log-audit.txt, on the machine that ran the suite
}

// LogAuditMatch is one line that matched a bad-news pattern.
type LogAuditMatch struct {
	Node, Source, Line, BadNews string
	Expected                    bool
	Why, Declared               string `json:",omitempty"`
}

// Unexpected are the matches no declaration of the scenario covers.
func (a *LogAudit) Unexpected() []LogAuditMatch {
	var un []LogAuditMatch
	for _, m := range a.Matches {
		if !m.Expected {
			un = append(un, m)
		}
	}
	return un
}

// LinesRead is the number of lines read on every node.
func (a *LogAudit) LinesRead() int {
	n := 0
	for _, c := range a.Read {
		n += c
	}
	return n
}

// ReadPerNode is "node1 70, node2 113": the lines read on each node.
func (a *LogAudit) ReadPerNode() string {
	nodes := make([]string, 0, len(a.Read))
	for n, c := range a.Read {
		nodes = append(nodes, fmt.Sprintf("%s %d", n, c))
	}
	slices.Sort(nodes)
	return strings.Join(nodes, ", ")
}

func (a LogAudit) String() string {
	return fmt.Sprintf("log audit (%s): lines read %s; %d bad-news matches, %d unexpected; %s",
		a.Stack, a.ReadPerNode(), len(a.Matches), len(a.Unexpected()), a.Artifacts)
}

// Lab is what the page says about the lab the run used: from lab.yaml,
// and the versions found on the nodes.
type Lab struct {
	Name     string `json:"name"`
	Provider string `json:"provider"`
	Stack    string `json:"stack"`
	// Uses are the cluster packages the stack runs (the nodes may have
	// others installed), SharedKernel that the nodes are containers on
	// the host's kernel: both from the suite, so that the page needs no
	// knowledge of stacks or providers.
	Uses         []string      `json:"uses,omitempty"`
	SharedKernel bool          `json:"shared_kernel,omitempty"`
	Profile      string        `json:"profile"`
	Timings      string        `json:"timings,omitempty"` // the membership timings in force, as text
	VIP          string        `json:"vip,omitempty"`
	Bound        time.Duration `json:"bound_ns,omitempty"`
	// Fencing is "none" or the fencing in use; FencingNote says why.
	Fencing     string `json:"fencing"`
	FencingNote string `json:"fencing_note,omitempty"`
	Nodes       []Node `json:"nodes"`
}

// FencingOn says whether the cluster fences nodes.
func (l *Lab) FencingOn() bool { return l != nil && l.Fencing != "" && l.Fencing != "none" }

// Node is one node and the versions found on it ("" = not installed).
type Node struct {
	Name      string `json:"name"`
	IP        string `json:"ip,omitempty"`
	OS        string `json:"os,omitempty"`
	Kernel    string `json:"kernel,omitempty"`
	Corosync  string `json:"corosync,omitempty"`
	Pacemaker string `json:"pacemaker,omitempty"`
	Heartbeat string `json:"heartbeat,omitempty"`
	JDK       string `json:"jdk,omitempty"`
	Err       string `json:"error,omitempty"` // why the versions are missing
}

// Run is one run of the suite, as the page shows it.
type Run struct {
	Suite     string
	Lab       *Lab // nil when the report has no lab entry (BeforeSuite failed, older halab)
	Started   time.Time
	Took      time.Duration
	Succeeded bool
	// SuiteFailures are failures outside the scenarios (BeforeSuite,
	// AfterSuite, interrupts).
	SuiteFailures []string
	Scenarios     []Scenario
}

// Scenario is one row of the summary and one section of the page. A spec
// that reports several entries (the repeated failover) gives one
// Scenario per entry.
type Scenario struct {
	ID       string // the section's anchor
	Name     string
	Spec     string // the spec's text
	Labels   []string
	Result   string // passed, failed, known-limitation, skipped
	Entry    prober.Entry
	HasEntry bool
	Failure  string // the failure message, when the spec failed
	Skipped  string // why, when the spec was skipped
	Where    string // the failure's location
	RunTime  time.Duration
	// Artifacts is the directory the suite kept for a failed scenario;
	// ArtifactFiles its files, linked relative to the page (LinkArtifacts).
	Artifacts     string
	ArtifactFiles []Link
	// Audit is the scenario's log audit (nil: none in the report).
	Audit *LogAudit
}

// Link is a file the page links to.
type Link struct{ Name, Href string }

// Counts are the scenarios per result.
func (r *Run) Counts() map[string]int {
	c := map[string]int{}
	for _, s := range r.Scenarios {
		c[s.Result]++
	}
	return c
}

// Timelines is how many scenarios have a probe timeline to draw.
func (r *Run) Timelines() int {
	n := 0
	for _, s := range r.Scenarios {
		if s.Entry.Timeline != nil && len(s.Entry.Timeline.Probes) > 0 {
			n++
		}
	}
	return n
}

// Load reads a Ginkgo JSON report (ginkgo --json-report) of the scenario
// suite. Errors name the file.
func Load(path string) (*Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	r, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Parse reads a Ginkgo JSON report from data.
func Parse(data []byte) (*Run, error) {
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		return nil, fmt.Errorf("not a Ginkgo JSON report (ginkgo --json-report): %w", err)
	}
	for _, rep := range reports {
		if len(rep.SpecReports) > 0 || rep.SuiteDescription != "" {
			return FromReport(rep), nil
		}
	}
	return nil, errors.New("not a Ginkgo JSON report: no suite in it")
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if errors.Is(err, fs.ErrNotExist) {
			return errors.New("no such file")
		}
		return pe.Err
	}
	return err
}

// FromReport builds the page's model from a suite's report, in the
// order the specs ran.
func FromReport(rep types.Report) *Run {
	r := &Run{Suite: rep.SuiteDescription, Started: rep.StartTime, Took: rep.RunTime, Succeeded: rep.SuiteSucceeded}
	if r.Took == 0 && !rep.EndTime.IsZero() {
		r.Took = rep.EndTime.Sub(rep.StartTime)
	}
	r.SuiteFailures = append(r.SuiteFailures, rep.SpecialSuiteFailureReasons...)
	specs := slices.Clone(rep.SpecReports)
	slices.SortStableFunc(specs, func(a, b types.SpecReport) int { return a.StartTime.Compare(b.StartTime) })
	ids := map[string]int{}
	for _, s := range specs {
		if l := labEntry(s); l != nil {
			r.Lab = l
		}
		if s.LeafNodeType != types.NodeTypeIt {
			if s.State.Is(types.SpecStateFailureStates) {
				r.SuiteFailures = append(r.SuiteFailures, fmt.Sprintf("%s: %s", s.LeafNodeType, s.Failure.Message))
			}
			continue
		}
		entries := prober.Entries(s)
		has := len(entries) > 0
		if !has {
			entries = []prober.Entry{{Scenario: s.LeafNodeText}}
		}
		for _, e := range entries {
			sc := Scenario{
				Name: e.Scenario, Spec: s.LeafNodeText, Labels: s.Labels(), Result: Result(s, e),
				Entry: e, HasEntry: has, RunTime: s.RunTime, Artifacts: artifactsEntry(s), Audit: LogAuditOf(s),
			}
			if sc.Audit != nil && len(sc.Audit.Unexpected()) > 0 && s.State == types.SpecStateSkipped {
				// Ginkgo keeps a skipped spec (a known limitation) skipped
				// whatever its log audit found: the suite's summary fails
				// it, and so does the page
				sc.Result = prober.Failed
			}
			if s.State.Is(types.SpecStateFailureStates) {
				sc.Failure, sc.Where = s.Failure.Message, s.Failure.Location.String()
			} else if s.State == types.SpecStateSkipped {
				sc.Skipped = s.Failure.Message
			}
			sc.ID = uniqueID(ids, e.Scenario)
			r.Scenarios = append(r.Scenarios, sc)
		}
	}
	return r
}

// Result is a scenario's result as the suite's summary table gives it: a
// skipped spec is skipped unless it reported a known limitation; a failed
// spec is failed whatever its entry said.
func Result(s types.SpecReport, e prober.Entry) string {
	switch {
	case s.State == types.SpecStateSkipped && e.Result != prober.KnownLimitation:
		return "skipped"
	case s.State.Is(types.SpecStateFailureStates):
		return prober.Failed
	case s.State == types.SpecStatePending:
		return "pending"
	case e.Result == "":
		return prober.Passed
	}
	return e.Result
}

func labEntry(s types.SpecReport) *Lab {
	return entryOf(s, LabEntryName, func(l *Lab) bool { return l.Name != "" })
}

// LogAuditOf is the spec's log audit (nil: none reported).
func LogAuditOf(s types.SpecReport) *LogAudit {
	return entryOf(s, LogAuditEntryName, func(a *LogAudit) bool { return a.Stack != "" })
}

// entryOf is the value of the spec's first report entry named name: as
// the suite added it (in the same process), or decoded from a JSON
// report, where valid tells a decoded value from an empty one.
func entryOf[T any](s types.SpecReport, name string, valid func(*T) bool) *T {
	for _, re := range s.ReportEntries {
		if re.Name != name {
			continue
		}
		switch v := re.GetRawValue().(type) {
		case T:
			return &v
		case *T:
			return v
		}
		var v T
		if json.Unmarshal([]byte(re.Value.AsJSON), &v) == nil && valid(&v) {
			return &v
		}
	}
	return nil
}

func artifactsEntry(s types.SpecReport) string {
	for _, re := range s.ReportEntries {
		if re.Name != ArtifactsEntryName {
			continue
		}
		if v, ok := re.GetRawValue().(string); ok {
			return v
		}
		var d string
		if json.Unmarshal([]byte(re.Value.AsJSON), &d) == nil {
			return d
		}
	}
	return ""
}

var idRe = regexp.MustCompile(`[^a-z0-9]+`)

func uniqueID(seen map[string]int, name string) string {
	id := "sc-" + strings.Trim(idRe.ReplaceAllString(strings.ToLower(name), "-"), "-")
	seen[id]++
	if n := seen[id]; n > 1 {
		id = fmt.Sprintf("%s-%d", id, n)
	}
	return id
}

// LinkArtifacts lists the files of each failed scenario's artifacts
// directory, linked relative to pageDir (where the page is written), so
// that the links work when build/ is copied or uploaded as a whole. A
// directory that is not on this machine (a report from CI) is left as
// its path.
func (r *Run) LinkArtifacts(pageDir string) {
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		if s.Artifacts == "" {
			continue
		}
		ents, err := os.ReadDir(s.Artifacts)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			p := filepath.Join(s.Artifacts, e.Name())
			href := p
			if rel, err := filepath.Rel(pageDir, p); err == nil {
				href = rel
			}
			s.ArtifactFiles = append(s.ArtifactFiles, Link{Name: e.Name(), Href: filepath.ToSlash(href)})
		}
	}
}

// PageProblems compares what a browser saw of the page of run with the
// run: one section per scenario, one timeline per scenario that probed,
// no error logged, nothing fetched. It returns one line per problem.
func PageProblems(run *Run, sections, timelines int, errs, fetched []string) []string {
	var p []string
	if sections != len(run.Scenarios) {
		p = append(p, fmt.Sprintf("%d scenario sections for %d scenarios", sections, len(run.Scenarios)))
	}
	if want := run.Timelines(); timelines != want {
		p = append(p, fmt.Sprintf("%d timelines for %d scenarios with probes", timelines, want))
	}
	for _, e := range errs {
		p = append(p, "browser error: "+e)
	}
	for _, u := range fetched {
		p = append(p, "fetched "+u+": the page must be self-contained")
	}
	return p
}
