package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"halab/lab"
)

// The log audit (CTS's BadNews check): a spec records where every node's
// cluster logs end when it starts (LogMarks), reads what they gained when
// it ends (ReadLogsSince) and matches each line against the stack's
// bad-news patterns (MatchLogs). The logs are, by stack: on systemd nodes
// the journal of the units corosync, pacemaker and heartbeat (and lines
// written under one of their daemons' syslog identifiers); and the log
// files the stack's daemons write themselves (LogFiles).

// LogFiles are the log files a stack's daemons write besides the journal:
// corosync's own (halab's corosync.conf logs to a file, not to syslog),
// and heartbeat's ha.cf `logfile` (on Ubuntu 12.04 the only log of
// Heartbeat and of Pacemaker 1.1.6 under it, which has no journal).
func LogFiles(stack string) []string {
	switch stack {
	case "corosync":
		return []string{"/var/log/corosync/corosync.log"}
	case "heartbeat", "heartbeat-v1":
		return []string{"/var/log/ha-log"}
	}
	return nil
}

// LogIdentity is the syslog identifier under which a line is read as the
// stack's own daemon (the e2e's planted line): Pacemaker's controller on
// the Pacemaker stacks, else the messaging daemon.
func LogIdentity(stack string, pacemaker bool) string {
	if pacemaker {
		return "pacemaker-controld"
	}
	return "heartbeat"
}

// MaxLogLines bounds what is read from each source of a node per spec.
const MaxLogLines = 20000

var (
	logPositionScript = script("log-position")
	logSinceScript    = script("log-since")
	logWriteScript    = script("log-write")
)

// LogMark is where a node's logs ended when a spec began.
type LogMark struct {
	Node   string
	Time   time.Time // the node's clock
	Cursor string    // the journal's; "" without a journal
	Files  []FileMark
	Err    error // the node did not answer: read from the spec's start time
}

// FileMark is a log file's inode and length in lines.
type FileMark struct {
	Path  string
	Inode string
	Lines int
}

// ParseLogMark reads log-position.sh's output.
func ParseLogMark(node string, out []byte) (LogMark, error) {
	m := LogMark{Node: node}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "time" && len(f) == 2:
			s, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return m, fmt.Errorf("log position of %s: bad time %q", node, l)
			}
			m.Time = time.Unix(s, 0)
		case f[0] == "cursor":
			m.Cursor = strings.TrimSpace(strings.TrimPrefix(l, "cursor"))
		case f[0] == "file" && len(f) == 4:
			n, err := strconv.Atoi(f[3])
			if err != nil {
				return m, fmt.Errorf("log position of %s: bad line count %q", node, l)
			}
			m.Files = append(m.Files, FileMark{Path: f[1], Inode: f[2], Lines: n})
		default:
			return m, fmt.Errorf("log position of %s: unexpected line %q", node, l)
		}
	}
	if m.Time.IsZero() {
		return m, fmt.Errorf("log position of %s: no time in %q", node, out)
	}
	return m, nil
}

// LogMarks records where every node's logs end now. A node that does not
// answer gets a mark with its error and the host's time: its lines are
// then read from that time.
func (c *Cluster) LogMarks(ctx context.Context) []LogMark {
	var marks []LogMark
	for _, n := range c.Names() {
		marks = append(marks, c.LogMark(ctx, n))
	}
	return marks
}

// LogMark records where node's logs end now (LogMarks, for one node).
func (c *Cluster) LogMark(ctx context.Context, node string) LogMark {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := lab.Check(c.run(cctx, node, logPositionScript, LogFiles(c.Stack.Name)...))
	m := LogMark{Node: node, Time: time.Now(), Err: err}
	if err == nil {
		if m, err = ParseLogMark(node, res.Stdout); err != nil {
			m = LogMark{Node: node, Time: time.Now(), Err: err}
		}
	}
	return m
}

// LogLine is one line of a cluster daemon's log.
type LogLine struct {
	Node string
	// Source: the systemd unit (or, for a line written from outside it,
	// "syslog identifier X"), or the log file's path.
	Source string
	At     time.Time // from the journal; zero for a file's line
	// Text is what the patterns are matched against: "IDENT[PID]:
	// MESSAGE" as syslog shows a journal entry, or the file's line.
	Text string
}

func (l LogLine) String() string {
	return fmt.Sprintf("%s %s: %s", l.Node, l.Source, l.Text)
}

// NodeLogs is what a node's logs gained since its mark, and what could
// not be read.
type NodeLogs struct {
	Node  string
	Lines []LogLine
	Notes []string // a rotated file, a source cut at MaxLogLines, an error
}

// ReadLogsSince reads every node's lines since its mark. A node that does
// not answer now is noted, not read.
func (c *Cluster) ReadLogsSince(ctx context.Context, marks []LogMark) []NodeLogs {
	var out []NodeLogs
	for _, m := range marks {
		out = append(out, c.readLogSince(ctx, m))
	}
	return out
}

func (c *Cluster) readLogSince(ctx context.Context, m LogMark) NodeLogs {
	nl := NodeLogs{Node: m.Node}
	if m.Err != nil {
		nl.Notes = append(nl.Notes, fmt.Sprintf("no position at the spec's start (%v): read from %s by the journal's clock, files not read", m.Err, m.Time.UTC().Format(time.RFC3339)))
	}
	args := []string{m.Cursor, strconv.FormatInt(m.Time.Unix(), 10), strconv.Itoa(MaxLogLines)}
	for _, f := range m.Files {
		args = append(args, f.Path, f.Inode, strconv.Itoa(f.Lines))
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	res, err := lab.Check(c.run(cctx, m.Node, logSinceScript, args...))
	cancel()
	if err != nil {
		nl.Notes = append(nl.Notes, fmt.Sprintf("not read: %v", err))
	} else {
		lines, notes := ParseLogsSince(m.Node, res.Stdout)
		nl.Lines, nl.Notes = lines, append(nl.Notes, notes...)
	}
	return nl
}

// WaitLog reads the logs of mark's node since the mark until a line
// matches re, as CTS's log watches do, and returns it. It reads at most
// once every half second and gives up when within has passed (or ctx
// ends), naming the pattern and the last read's notes.
func (c *Cluster) WaitLog(ctx context.Context, mark LogMark, re *regexp.Regexp, within time.Duration) (LogLine, error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var last NodeLogs
	for {
		last = c.readLogSince(ctx, mark)
		for _, l := range last.Lines {
			if re.MatchString(l.Text) {
				return l, nil
			}
		}
		select {
		case <-ctx.Done():
			return LogLine{}, fmt.Errorf("no log line of %s matched %q within %s (%d lines read; %s)", mark.Node, re, within, len(last.Lines), strings.Join(last.Notes, "; "))
		case <-tick.C:
		}
	}
}

// journalEntry is one line of `journalctl -o json`. A field that is not
// valid UTF-8 comes as an array of bytes.
type journalEntry struct {
	Message    json.RawMessage `json:"MESSAGE"`
	Identifier string          `json:"SYSLOG_IDENTIFIER"`
	SyslogPID  string          `json:"SYSLOG_PID"`
	PID        string          `json:"_PID"`
	Unit       string          `json:"_SYSTEMD_UNIT"`
	AboutUnit  string          `json:"UNIT"`
	Realtime   string          `json:"__REALTIME_TIMESTAMP"`
}

func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b []byte
	var ints []int
	if json.Unmarshal(raw, &ints) == nil {
		for _, i := range ints {
			b = append(b, byte(i))
		}
		return strings.ToValidUTF8(string(b), "?")
	}
	return string(raw)
}

// clusterUnits are the units whose lines the audit reads.
var clusterUnits = []string{"corosync.service", "pacemaker.service", "heartbeat.service"}

// journalSource names where a journal line comes from: its unit, systemd
// about a unit, or (a line written from outside the units) the syslog
// identifier it was written under and where from.
func journalSource(e journalEntry) string {
	switch {
	case slices.Contains(clusterUnits, e.Unit):
		return e.Unit
	case e.AboutUnit != "":
		return "systemd about " + e.AboutUnit
	case e.Unit != "":
		return "syslog identifier " + e.Identifier + " (from " + e.Unit + ")"
	}
	return "syslog identifier " + e.Identifier
}

// ParseLogsSince reads log-since.sh's output: sections "==> journal ..."
// (journalctl's JSON lines) and "==> file PATH [rotated|gone]" (the
// file's new lines).
func ParseLogsSince(node string, out []byte) ([]LogLine, []string) {
	var lines []LogLine
	var notes []string
	section, file := "", ""
	count := 0
	flush := func() {
		if count >= MaxLogLines {
			notes = append(notes, fmt.Sprintf("%s: cut at %d lines", strings.TrimSpace(section+" "+file), MaxLogLines))
		}
		count = 0
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		l := sc.Text()
		if rest, ok := strings.CutPrefix(l, "==> "); ok {
			flush()
			switch {
			case strings.HasPrefix(rest, "journal"):
				section, file = "journal", ""
				if strings.Contains(rest, "since") {
					notes = append(notes, "journal read by time ("+rest+"): no cursor")
				}
			case strings.HasPrefix(rest, "file "):
				f := strings.Fields(rest)
				section, file = "file", f[1]
				if len(f) > 2 {
					notes = append(notes, fmt.Sprintf("%s %s: read from its start", file, f[2]))
				}
			}
			continue
		}
		count++
		switch section {
		case "journal":
			var e journalEntry
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				notes = append(notes, "journal: "+l)
				continue
			}
			ll := LogLine{Node: node, Source: journalSource(e)}
			if us, err := strconv.ParseInt(e.Realtime, 10, 64); err == nil {
				ll.At = time.UnixMicro(us)
			}
			pid := e.SyslogPID
			if pid == "" {
				pid = e.PID
			}
			ll.Text = fmt.Sprintf("%s[%s]: %s", e.Identifier, pid, jsonText(e.Message))
			lines = append(lines, ll)
		case "file":
			lines = append(lines, LogLine{Node: node, Source: file, Text: l})
		default:
			notes = append(notes, "unexpected output: "+l)
		}
	}
	flush()
	return lines, notes
}

// Expected is a pattern of lines a spec's fault is expected to cause.
type Expected struct {
	Why     string
	Pattern *regexp.Regexp
}

// LogMatch is a line that matched a bad-news pattern: expected (Why says
// why) or not.
type LogMatch struct {
	LogLine
	BadNews  string // the pattern
	Expected bool
	Why      string
	Declared string // the expected pattern that matched
}

// MatchLogs matches every line against the stack's bad-news patterns, and
// each match against what the spec expects.
func MatchLogs(stack string, logs []NodeLogs, expected []Expected) []LogMatch {
	var out []LogMatch
	for _, nl := range logs {
		for _, l := range nl.Lines {
			bad := BadNewsIn(stack, l.Text)
			if bad == "" {
				continue
			}
			m := LogMatch{LogLine: l, BadNews: bad}
			for _, e := range expected {
				if e.Pattern.MatchString(l.Text) {
					m.Expected, m.Why, m.Declared = true, e.Why, e.Pattern.String()
					break
				}
			}
			out = append(out, m)
		}
	}
	return out
}

// Unexpected are the matches no declaration covers.
func Unexpected(ms []LogMatch) []LogMatch {
	var out []LogMatch
	for _, m := range ms {
		if !m.Expected {
			out = append(out, m)
		}
	}
	return out
}

// WriteLog plants a line in a node's logs as the stack's daemon would
// write it (logger -t IDENT): what the e2e check of the audit does.
func (c *Cluster) WriteLog(ctx context.Context, node, ident, text string) error {
	if err := c.check(node); err != nil {
		return err
	}
	_, err := lab.Check(c.run(ctx, node, logWriteScript, ident, text))
	return err
}
