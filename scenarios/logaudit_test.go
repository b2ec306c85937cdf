package scenarios

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"halab/lab"
	"halab/provision"
	"halab/scenarios/harness"
	"halab/scenarios/report"
	"halab/templates"
)

// badLogLineFlag plants a line in a node's cluster log at the start of the
// baseline spec, as the stack's daemon would write it: the log audit must
// then fail that spec and name the line (the audit's own end-to-end check).
var badLogLineFlag = flag.String("bad-log-line", "", "write this line to node1's syslog as the stack's daemon (logger -t pacemaker-controld, or heartbeat) at the start of the baseline spec: the log audit must fail it")

// LogAuditEntryName names the report entry of each spec's log audit
// (a report.LogAudit).
const LogAuditEntryName = report.LogAuditEntryName

// Every spec: where each node's cluster logs end before it starts; after
// it ends and after its heals (this cleanup, registered before the
// spec's own, runs after them), the lines since are matched against
// CTS's bad-news patterns. A node powered off by the spec is read once
// the heal has brought it back.
var _ = BeforeEach(func(ctx SpecContext) {
	marks := E.c.LogMarks(ctx)
	DeferCleanup(func(ctx SpecContext) { E.auditLogs(ctx, marks) }, NodeTimeout(4*time.Minute))
	if *badLogLineFlag != "" && slices.Contains(CurrentSpecReport().Labels(), "baseline") {
		node := E.c.Names()[0]
		ident := harness.LogIdentity(E.stack, E.c.Pacemaker())
		By(fmt.Sprintf("planting a bad-news line in %s's log as %s (-bad-log-line): %q", node, ident, *badLogLineFlag))
		if err := E.c.WriteLog(ctx, node, ident, *badLogLineFlag); err != nil {
			Fail(fmt.Sprintf("planting the log line: %v", err))
		}
	}
}, NodeTimeout(2*time.Minute))

func (e *env) auditLogs(ctx context.Context, marks []harness.LogMark) {
	logs := e.c.ReadLogsSince(ctx, marks)
	var expected []harness.Expected
	for _, x := range e.expectedLogs {
		expected = append(expected, harness.Expected{Why: x.Why, Pattern: x.Pattern})
	}
	matches := harness.MatchLogs(e.stack, logs, expected)
	rep := CurrentSpecReport()
	dir := filepath.Join(e.artifacts, slug(rep.FullText()))
	secrets, err := provision.ReadSecretValues(e.lab.State)
	entry := report.LogAudit{Stack: e.stack, Read: map[string]int{}, Artifacts: filepath.Join(dir, "log-audit.txt")}
	for _, nl := range logs {
		entry.Read[nl.Node] = len(nl.Lines)
		for _, n := range nl.Notes {
			entry.Notes = append(entry.Notes, nl.Node+": "+n)
		}
	}
	for _, m := range matches {
		// redacted: the entry lands in the JSON and JUnit reports
		line := string(provision.Redact([]byte(m.Text), secrets))
		entry.Matches = append(entry.Matches, report.LogAuditMatch{Node: m.Node, Source: m.Source, Line: line, BadNews: m.BadNews, Expected: m.Expected, Why: m.Why, Declared: m.Declared})
	}
	if err == nil {
		err = writeLogAudit(dir, e.stack, logs, matches, secrets)
	}
	if err != nil {
		fmt.Fprintf(GinkgoWriter, "writing the log audit's artifacts: %v\n", err)
	}
	AddReportEntry(LogAuditEntryName, entry)
	if un := harness.Unexpected(matches); len(un) > 0 {
		if rep.State == types.SpecStateSkipped {
			// Ginkgo keeps a skipped spec (a known limitation) skipped
			// whatever fails after: the summary fails it instead
			// (unexpectedInAudit), and the lines are said here
			fmt.Fprintln(GinkgoWriter, logAuditFailure(un, logs, entry.Artifacts, secrets))
		}
		Fail(logAuditFailure(un, logs, entry.Artifacts, secrets))
	}
}

// unexpectedInAudit counts the lines of a spec's log audit that matched
// a bad-news pattern and no declaration.
func unexpectedInAudit(s types.SpecReport) int {
	if a := report.LogAuditOf(s); a != nil {
		return len(a.Unexpected())
	}
	return 0
}

// logAuditFailure says which lines failed the spec, with the lines of
// the same node just before each (what led to it: a CI run's failure
// message is often all there is to read), redacted, and how a spec
// declares the lines its fault causes.
func logAuditFailure(un []harness.LogMatch, logs []harness.NodeLogs, artifacts string, secrets [][]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "log audit: %d cluster log line(s) match CTS's bad-news patterns and no E.expectLogs of this spec:\n", len(un))
	for _, m := range un {
		fmt.Fprintf(&b, "  %s %s: %s\n      bad news: %s\n", m.Node, m.Source, m.Text, m.BadNews)
		before, found := linesBefore(logs, m.LogLine, 3)
		switch {
		case len(before) > 0:
			b.WriteString("      after:\n")
			for _, l := range before {
				fmt.Fprintf(&b, "        %s: %s\n", l.Source, l.Text)
			}
		case found:
			// nothing before it: the node logged nothing else since the
			// spec began (frozen, or the line came first at a thaw)
			fmt.Fprintf(&b, "      (the first line %s logged since the spec began)\n", m.Node)
		}
	}
	b.WriteString("If the spec's fault causes such a line, declare it in the spec (before the fault) with why, e.g.\n" +
		"  E.expectLogs(\"<why the fault causes it>\", `<regexp of the line's own words, no .* catch-all>`)\n")
	fmt.Fprintf(&b, "Every match, expected or not, and every line read: %s (and log-lines.txt beside it)", artifacts)
	return string(provision.Redact([]byte(b.String()), secrets))
}

// linesBefore returns up to n lines its node logged just before l, and
// whether l is among the node's lines at all.
func linesBefore(logs []harness.NodeLogs, l harness.LogLine, n int) ([]harness.LogLine, bool) {
	for _, nl := range logs {
		if nl.Node != l.Node {
			continue
		}
		for i, x := range nl.Lines {
			if x == l {
				return nl.Lines[max(0, i-n):i], true
			}
		}
	}
	return nil, false
}

// writeLogAudit writes the spec's log-audit.txt (the matches, expected or
// not, and what could not be read) and log-lines.txt (every line read).
func writeLogAudit(dir, stack string, logs []harness.NodeLogs, matches []harness.LogMatch, secrets [][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var a, all strings.Builder
	fmt.Fprintf(&a, "log audit, stack %s: lines of the cluster daemons' logs since the spec began, matched against CTS's bad-news patterns (scenarios/harness/logpatterns.go)\n", stack)
	for _, nl := range logs {
		fmt.Fprintf(&a, "%s: %d lines read\n", nl.Node, len(nl.Lines))
		for _, n := range nl.Notes {
			fmt.Fprintf(&a, "%s: %s\n", nl.Node, n)
		}
		for _, l := range nl.Lines {
			at := ""
			if !l.At.IsZero() {
				at = l.At.UTC().Format("15:04:05.000000") + " "
			}
			fmt.Fprintf(&all, "%s%s\n", at, l)
		}
	}
	fmt.Fprintf(&a, "%d matches\n", len(matches))
	for _, m := range matches {
		state := "UNEXPECTED"
		if m.Expected {
			state = "expected"
		}
		fmt.Fprintf(&a, "\n%s %s %s: %s\n  bad news: %s\n", state, m.Node, m.Source, m.Text, m.BadNews)
		if m.Expected {
			fmt.Fprintf(&a, "  declared: %s (%s)\n", m.Declared, m.Why)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "log-audit.txt"), provision.Redact([]byte(a.String()), secrets), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "log-lines.txt"), provision.Redact([]byte(all.String()), secrets), 0o644)
}

// Lines that several specs' faults cause, declared by the specs through
// these (each says why).

// expectStackStart declares what a start of the cluster stack on a node
// (a power-on, a reboot after a fence, a heal, a CTS start) may log that
// looks like trouble, and is not:
//   - heartbeat in a container (docker provider) may neither use realtime
//     scheduling nor lock its memory, and each heartbeat process says so
//     at its start (not on VMs);
//   - Pacemaker 2.1.5's controller may ask the attribute manager to
//     record the node's #feature-set when it joins before the attribute
//     manager accepts connections (attrd listens only once it has joined
//     corosync, a second or more after its start): the connection is
//     refused, 2.1.5 retries only a busy server (EAGAIN), and a non-DC
//     controller logs the refusal as errors and goes on (CI: the node a
//     fence had rebooted). A DC would log it as critical and exit: that
//     is not declared.
//
// Corosync and Pacemaker write no other error or critical line on a clean
// start or stop.
func (e *env) expectStackStart() {
	if e.c.Stack.Messaging == "heartbeat" {
		if _, container := e.lab.Provider.(lab.Container); container {
			e.expectLogs("heartbeat starts on a node of a container (docker provider): it may not use realtime scheduling or lock its memory, and each heartbeat process logs so at its start",
				`heartbeat: \[\d+\]: ERROR: Unable to set scheduler parameters\.: Operation not permitted$`,
				`heartbeat: \[\d+\]: ERROR: Cannot lock ourselves into memory:  System limits on locked-in memory are too small\.$`)
		}
	}
	if e.c.Stack.Messaging == "corosync" {
		e.expectLogs("Pacemaker starts on a node: its controller may join before the attribute manager accepts connections, and Pacemaker 2.1.5 does not retry a refused connection",
			`pacemaker-controld\[\d+\]:\s+error: Could not connect to attrd: Connection refused$`,
			`pacemaker-controld\[\d+\]:\s+error: Could not update attribute (#feature-set=[\d.]+|probe_complete=(true)?) for cluster node \S+: Connection refused$`)
	}
}

// expectMultiplyActive: a node that kept the resources while it was cut
// off from its peer (its corosync dead, or a partition), which took them
// too, rejoins: the scheduler finds them active on both nodes and
// recovers them (the split brain the spec reports, seen by Pacemaker).
func (e *env) expectMultiplyActive(why string) {
	e.expectLogs(why+": when the nodes see each other again, the scheduler finds the resources active on both and recovers them",
		fmt.Sprintf(`pacemaker-schedulerd\[\d+\]:\s+error: (ocf|lsb) resource (%s|%s) might be active on 2 nodes \(attempting recovery\)$`,
			regexp.QuoteMeta(templates.IPResource), regexp.QuoteMeta(templates.ServiceResource)))
}

// The audit's failure quotes each unexpected line with its node and
// source and the pattern it matched, and says how to declare it; the
// artifacts hold every match (expected ones with their why) and every
// line read, redacted.
func TestLogAuditReport(t *testing.T) {
	var node1 []harness.LogLine
	for i := range 5 {
		node1 = append(node1, harness.LogLine{Node: "node1", Source: "pacemaker.service", Text: fmt.Sprintf("pacemakerd[860]:  notice: step %d secret-s3cr3t", i)})
	}
	planted := harness.LogLine{Node: "node1", Source: "syslog identifier pacemaker-controld", Text: "pacemaker-controld[862]: error: planted secret-s3cr3t"}
	node1 = append(node1, planted)
	lost := harness.LogLine{Node: "node2", Source: "pacemaker.service", Text: "pacemaker-controld[539]:  crit: Lost connection to cluster layer, shutting down"}
	logs := []harness.NodeLogs{{Node: "node1", Lines: node1, Notes: []string{"journal read by time"}}, {Node: "node2", Lines: []harness.LogLine{lost}}}
	ms := harness.MatchLogs("corosync", logs, []harness.Expected{{Why: "corosync was killed", Pattern: regexp.MustCompile(`crit: Lost connection to cluster layer`)}})
	un := harness.Unexpected(ms)
	msg := logAuditFailure(un, logs, "/a/log-audit.txt", [][]byte{[]byte("secret-s3cr3t")})
	for _, want := range []string{"1 cluster log line(s)", "node1 syslog identifier pacemaker-controld: pacemaker-controld[862]: error: planted", "bad news: [^(]error:",
		"after:\n        pacemaker.service: pacemakerd[860]:  notice: step 2", "step 3", "step 4", "E.expectLogs(", "/a/log-audit.txt"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, msg)
		}
	}
	for _, not := range []string{"Lost connection", "step 1", "s3cr3t"} {
		if strings.Contains(msg, not) {
			t.Errorf("the failure message quotes %q (an expected line, a line too early, or a secret):\n%s", not, msg)
		}
	}
	// a line with nothing before it on its node says so
	first := harness.MatchLogs("corosync", logs, nil)
	if msg := logAuditFailure(harness.Unexpected(first), logs, "/a/log-audit.txt", nil); !strings.Contains(msg, "Lost connection to cluster layer, shutting down\n      bad news: crit:\n      (the first line node2 logged since the spec began)") {
		t.Errorf("the failure does not say the line is its node's first:\n%s", msg)
	}
	dir := t.TempDir()
	if err := writeLogAudit(dir, "corosync", logs, ms, [][]byte{[]byte("secret-s3cr3t")}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "log-audit.txt"))
	all, _ := os.ReadFile(filepath.Join(dir, "log-lines.txt"))
	for _, want := range []string{"UNEXPECTED node1", "expected node2", "declared: crit: Lost connection to cluster layer (corosync was killed)", "node1: journal read by time", "2 matches"} {
		if !strings.Contains(string(a), want) {
			t.Errorf("log-audit.txt lacks %q:\n%s", want, a)
		}
	}
	if strings.Count(string(all), "\n") != 7 || strings.Contains(string(a)+string(all), "s3cr3t") {
		t.Errorf("log-lines.txt %q or the audit not redacted", all)
	}
}
