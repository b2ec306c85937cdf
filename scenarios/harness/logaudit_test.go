package harness

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fixtureLine is one line of testdata/logs: a line of a cluster daemon's
// log captured live, and whether the stack's bad-news patterns must match
// it ('+'), must not ('-'), or match it but CTS's exceptions drop it ('~').
type fixtureLine struct {
	want, spec, source, text string
}

func readFixture(t *testing.T, name string) []fixtureLine {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "logs", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fixtureLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		parts := strings.SplitN(l[2:], "\t", 3)
		if len(parts) != 3 || !strings.Contains("+-~", l[:1]) || l[1] != ' ' {
			t.Fatalf("%s: bad fixture line %q", name, l)
		}
		out = append(out, fixtureLine{l[:1], parts[0], parts[1], parts[2]})
	}
	return out
}

// Every live line an error- or crit-level message (or heartbeat's ERROR)
// is bad news on its stack; no notice, warning or systemd line is; the
// lines CTS's exceptions name are not.
func TestBadNewsOnLiveLines(t *testing.T) {
	for _, c := range []struct{ file, stack string }{
		{"corosync-2.1.5.txt", "corosync"},
		{"heartbeat-v1-3.0.6.txt", "heartbeat-v1"},
		{"heartbeat-1.1.6.txt", "heartbeat"},
	} {
		lines := readFixture(t, c.file)
		count := map[string]int{}
		for _, l := range lines {
			count[l.want]++
			got := BadNewsIn(c.stack, l.text)
			switch l.want {
			case "+":
				if got == "" {
					t.Errorf("%s: bad news not caught: %s", c.file, l.text)
				}
			case "-":
				if got != "" {
					t.Errorf("%s: %q taken for bad news (%s)", c.file, l.text, got)
				}
			case "~":
				if got != "" {
					t.Errorf("%s: CTS's exception does not drop %q (%s)", c.file, l.text, got)
				}
				bad, _ := PatternsFor(c.stack)
				if !slices.ContainsFunc(bad, func(p LogPattern) bool { return p.Re.MatchString(l.text) }) {
					t.Errorf("%s: %q is marked as dropped by an exception but no pattern matches it", c.file, l.text)
				}
			}
		}
		if count["+"] == 0 || count["-"] < 10 {
			t.Errorf("%s: %d bad and %d good lines: the fixture proves little", c.file, count["+"], count["-"])
		}
	}
}

// The patterns the issue names are in the list for the corosync stack,
// each pattern names its source, and every stack has its list.
func TestBadNewsList(t *testing.T) {
	bad, _ := PatternsFor("corosync")
	for _, want := range []string{`[^(]error:`, `crit:`, `Election storm`, `share the same cluster nodeid`, `Resource .* was active at shutdown`, `is taking more than 2x its timeout`} {
		if !slices.ContainsFunc(bad, func(p LogPattern) bool { return p.Re.String() == want }) {
			t.Errorf("corosync: %s missing", want)
		}
	}
	for _, p := range slices.Concat(BadNews, BadNewsIgnore) {
		if len(p.Sources) == 0 || len(p.Stacks) == 0 {
			t.Errorf("%s: no source or no stack", p.Re)
		}
	}
	for _, s := range []string{"corosync", "heartbeat-v1", "heartbeat"} {
		bad, _ := PatternsFor(s)
		if len(bad) < 7 {
			t.Errorf("%s: %d patterns", s, len(bad))
		}
		if BadNewsIn(s, "heartbeat[1]: 2026/11/26_13:00:00 ERROR: planted") == "" {
			t.Errorf("%s: ERROR: is not bad news", s)
		}
	}
	// the patterns of one stack's list stay off the others
	if BadNewsIn("heartbeat-v1", "pacemaker-controld[2]:  error: planted") != "" {
		t.Error("heartbeat-v1 takes Pacemaker 2's lowercase error: (not in CM_hb.py)")
	}
	if BadNewsIn("corosync", "heartbeat[1]: 2026/11/26_13:00:00 info: Both machines own our resources!") != "" {
		t.Error("corosync takes heartbeat v1's pattern")
	}
}

// A real position (log-position.sh on a corosync node) and a bad one.
func TestParseLogMark(t *testing.T) {
	m, err := ParseLogMark("node1", []byte("time 1795700837\ncursor s=141b0171e19441afa6db5d8adab2f8bb;i=162;b=bc17a960050546439d73cbdec63689d2;m=2c2529920;t=6612e2d2a873f;x=cb1e85ef4cada5b7\nfile /var/log/corosync/corosync.log 2884163 57\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Time.Unix() != 1795700837 || !strings.HasPrefix(m.Cursor, "s=141b") || len(m.Files) != 1 || m.Files[0] != (FileMark{"/var/log/corosync/corosync.log", "2884163", 57}) {
		t.Errorf("parsed %+v", m)
	}
	for _, bad := range []string{"", "cursor x\n", "time x\n", "time 1\nfile /a 1 x\n", "time 1\nwhat\n"} {
		if _, err := ParseLogMark("node1", []byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// log-since.sh's output, captured live on a corosync node (a line planted
// with logger -t pacemaker-controld over halab ssh, then systemctl restart
// pacemaker: the journal's JSON, systemd's lines about the unit, the
// daemons' lines, corosync's file unchanged): sources, texts and notes.
func TestParseLogsSince(t *testing.T) {
	out, err := os.ReadFile(filepath.Join("testdata", "logs", "log-since-corosync.out"))
	if err != nil {
		t.Fatal(err)
	}
	lines, notes := ParseLogsSince("node1", out)
	if len(lines) < 5 {
		t.Fatalf("%d lines: %v", len(lines), lines)
	}
	find := func(sub string) *LogLine {
		for i := range lines {
			if strings.Contains(lines[i].Text, sub) {
				return &lines[i]
			}
		}
		t.Errorf("no line with %q in %v", sub, lines)
		return nil
	}
	if l := find("halab-planted"); l != nil {
		if !regexp.MustCompile(`^syslog identifier pacemaker-controld \(from [a-z0-9.-]+\)$`).MatchString(l.Source) || !regexp.MustCompile(`^pacemaker-controld\[\d+\]: error: halab-planted`).MatchString(l.Text) {
			t.Errorf("planted line: %+v", *l)
		}
		if BadNewsIn("corosync", l.Text) == "" {
			t.Errorf("the planted line is not bad news: %q", l.Text)
		}
	}
	if l := find("Stopping pacemaker.service"); l != nil && l.Source != "systemd about pacemaker.service" {
		t.Errorf("systemd's line: %+v", *l)
	}
	if l := find("notice: "); l != nil && (l.Source != "pacemaker.service" || l.At.IsZero()) {
		t.Errorf("a daemon's line: %+v", *l)
	}
	for _, l := range lines {
		if l.Source == "/var/log/corosync/corosync.log" {
			t.Errorf("corosync's file gained no line (a restart of pacemaker alone), yet: %v", l)
		}
	}
	if len(notes) != 0 {
		t.Errorf("notes: %v", notes)
	}
	// a rotated file, a journal read by time, a line cut short, an error
	lines, notes = ParseLogsSince("node2", []byte("==> journal since @1795700837\nFailed to open journal\n==> file /var/log/ha-log rotated\nheartbeat[9]: 2026/11/26_13:00:00 info: x\n==> file /var/log/x gone\n"))
	if len(lines) != 1 || lines[0].Source != "/var/log/ha-log" || lines[0].Node != "node2" {
		t.Errorf("lines %v", lines)
	}
	for _, want := range []string{"journal read by time", "journal: Failed to open journal", "/var/log/ha-log rotated", "/var/log/x gone"} {
		if !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, want) }) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
}

// Declared lines are expected, the rest is not; lines that match no
// pattern are no match at all.
func TestMatchLogs(t *testing.T) {
	logs := []NodeLogs{{Node: "node2", Lines: []LogLine{
		{Node: "node2", Source: "pacemaker.service", Text: "pacemaker-controld[539]:  crit: Lost connection to cluster layer, shutting down"},
		{Node: "node2", Source: "pacemaker.service", Text: "pacemakerd[530]:  crit: Could not connect to Corosync CFG: CS_ERR_LIBRARY"},
		{Node: "node2", Source: "pacemaker.service", Text: "pacemaker-controld[539]:  notice: State transition S_IDLE -> S_POLICY_ENGINE"},
	}}}
	exp := []Expected{{Why: "corosync died", Pattern: regexp.MustCompile(`pacemaker-controld\[\d+\]:\s+crit: Lost connection to cluster layer`)}}
	ms := MatchLogs("corosync", logs, exp)
	if len(ms) != 2 || !ms[0].Expected || ms[0].Why != "corosync died" || ms[1].Expected {
		t.Fatalf("matches %+v", ms)
	}
	if un := Unexpected(ms); len(un) != 1 || !strings.Contains(un[0].Text, "Corosync CFG") || un[0].BadNews != "crit:" {
		t.Errorf("unexpected %+v", un)
	}
}

// The position and read scripts on a log file as the 12.04 heartbeat
// stack has it (/var/log/ha-log; no journal: the systemd branch is pointed
// at a directory that does not exist, as on a node without systemd), run
// by dash with this machine's tools: the lines appended after the mark
// are read, a rotated file from its start, a missing one is named.
func TestLogScriptsOnFiles(t *testing.T) {
	dash := lookDash(t)
	dir := t.TempDir()
	noSystemd := func(s string) string {
		return strings.ReplaceAll(s, "/run/systemd/system", filepath.Join(dir, "no-systemd"))
	}
	halog := filepath.Join(dir, "ha-log")
	old := readFixture(t, "heartbeat-1.1.6.txt")
	var before, after []string
	for i, l := range old {
		if i < len(old)/2 {
			before = append(before, l.text)
		} else {
			after = append(after, l.text)
		}
	}
	write := func(p string, lines []string, flag int) {
		f, err := os.OpenFile(p, flag|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			f.WriteString(l + "\n")
		}
		f.Close()
	}
	write(halog, before, os.O_CREATE|os.O_TRUNC)
	run := func(script string, args ...string) []byte {
		t.Helper()
		out, err := exec.Command(dash, append([]string{"-c", noSystemd(script), "sh"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return out
	}
	m, err := ParseLogMark("node1", run(logPositionScript, halog, filepath.Join(dir, "absent")))
	if err != nil {
		t.Fatal(err)
	}
	if m.Cursor != "" || len(m.Files) != 1 || m.Files[0].Lines != len(before) {
		t.Fatalf("mark %+v, want no cursor and %s at line %d", m, halog, len(before))
	}
	write(halog, after, os.O_APPEND)
	since := func(m LogMark) ([]LogLine, []string) {
		args := []string{m.Cursor, strconv.FormatInt(m.Time.Unix(), 10), "100"}
		for _, f := range m.Files {
			args = append(args, f.Path, f.Inode, strconv.Itoa(f.Lines))
		}
		return ParseLogsSince("node1", run(logSinceScript, args...))
	}
	lines, notes := since(m)
	var got []string
	for _, l := range lines {
		got = append(got, l.Text)
	}
	if !slices.Equal(got, after) || len(notes) != 0 {
		t.Errorf("read %q (notes %v), want the %d lines appended", got, notes, len(after))
	}
	// rotated: a new file in its place, shorter than the mark
	os.Rename(halog, halog+".1")
	write(halog, after[:1], os.O_CREATE)
	lines, notes = since(m)
	if len(lines) != 1 || lines[0].Text != after[0] || !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, "rotated") }) {
		t.Errorf("after rotation: %v, notes %v", lines, notes)
	}
	os.Remove(halog)
	if _, notes = since(m); !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, "gone") }) {
		t.Errorf("a removed file is not named: %v", notes)
	}
}

// The fencer's failed CIB patch lines, as the e2e's adopted nodes logged
// them during CTS Flip and one-way (Pacemaker 2.1.5): ignored on corosync
// (the fencer reads the whole CIB again), and only these words.
func TestFencerPatchLinesIgnored(t *testing.T) {
	for _, line := range []string{
		`pacemaker-fenced[2044]:  error: apply_v2_patchset: Triggered fatal assertion at patchset.c:1258 : position == 0`,
		`pacemaker-fenced[2044]:  error: No create match for /cib/status/node_state[@id='2']/transient_attributes[@id='2']/instance_attributes[@id='status-2'] in 0x5599f07a7bb0`,
	} {
		if got := BadNewsIn("corosync", line); got != "" {
			t.Errorf("%q: bad news %q, want ignored", line, got)
		}
	}
	for _, line := range []string{
		`pacemaker-based[2044]:  error: apply_v2_patchset: Triggered fatal assertion at patchset.c:1258 : position == 0`,
		`pacemaker-fenced[2044]:  error: No create match for /cib/configuration/resources in 0x5599f07a7bb0`,
	} {
		if BadNewsIn("corosync", line) == "" {
			t.Errorf("%q: ignored, want bad news", line)
		}
	}
}

// log-since.sh's journal branch, with a stand-in journalctl that prints
// what the real one does (-o json): a message repeated past 50 copies is
// left out from then on and the number said (a note), the other lines
// are all read, in order.
func TestLogSinceCollapsesRepeats(t *testing.T) {
	dash := lookDash(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	os.Mkdir(filepath.Join(dir, "systemd"), 0o755)
	entry := func(pid, msg string) string {
		return fmt.Sprintf(`{"__CURSOR":"s=1;i=%s","__REALTIME_TIMESTAMP":"1764170000000000","_SYSTEMD_UNIT":"pacemaker.service","SYSLOG_IDENTIFIER":"pacemaker-controld","SYSLOG_PID":"%s","MESSAGE":%q}`, pid, pid, msg)
	}
	var js []string
	js = append(js, entry("1", "error: Connection to stonith-ng IPC failed"))
	for i := 0; i < 120; i++ {
		js = append(js, entry("2", `notice: Fencer connection failed (will retry): "Transport endpoint" is not connected`))
	}
	js = append(js, entry("3", "crit: Fencing daemon connection failed"))
	if err := os.WriteFile(filepath.Join(dir, "entries"), []byte(strings.Join(js, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "journalctl"), []byte("#!/bin/sh\ncat "+filepath.Join(dir, "entries")+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(logSinceScript, "/run/systemd/system", filepath.Join(dir, "systemd"))
	cmd := exec.Command(dash, "-c", s, "sh", "s=1;i=0", "0", "1000")
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	lines, notes := ParseLogsSince("node1", out)
	if len(lines) != 52 {
		t.Fatalf("%d lines read, want 1 + 50 copies + 1: notes %v", len(lines), notes)
	}
	if !strings.Contains(lines[0].Text, "stonith-ng IPC failed") || !strings.Contains(lines[50].Text, `"Transport endpoint"`) || !strings.Contains(lines[51].Text, "crit: Fencing daemon") {
		t.Errorf("lines out of order or changed: %q, %q, %q", lines[0].Text, lines[50].Text, lines[51].Text)
	}
	if !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, "left out 70 copies") }) {
		t.Errorf("notes %v: want the 70 copies left out named", notes)
	}
}

// lookDash is dash (the nodes' /bin/sh, 12.04's too) to run node scripts;
// missing, a test fails under CI and is skipped elsewhere.
func lookDash(t *testing.T) string {
	t.Helper()
	dash, err := exec.LookPath("dash")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("dash is not installed (apt-get install dash)")
		}
		t.Skip("dash is not installed")
	}
	return dash
}

// The line PartialStart waits for: the controller's, not the other
// daemons' that connect before it, on Pacemaker 2.1.5 (journal text) and
// Pacemaker 1.1.6 on heartbeat (ha-log).
func TestControllerConnecting(t *testing.T) {
	for _, l := range []string{
		"pacemaker-controld[2558]:  notice: Connecting to corosync cluster infrastructure",
		"Nov 26 10:00:01 node2 crmd: [1710]: info: crmd_init: Starting crmd",
	} {
		if !ControllerConnecting.MatchString(l) {
			t.Errorf("does not match the controller's %q", l)
		}
	}
	for _, l := range []string{
		"pacemaker-attrd[2556]:  notice: Connecting to corosync cluster infrastructure",
		"pacemaker-based[2553]:  notice: Connecting to corosync cluster infrastructure",
		"pacemakerd[2550]:  notice: Starting Pacemaker 2.1.5",
		"Nov 26 10:00:01 node2 heartbeat: [1700]: info: Starting \"/usr/lib/heartbeat/crmd\" as uid 106  gid 114 (pid 1710)",
	} {
		if ControllerConnecting.MatchString(l) {
			t.Errorf("matches %q, not the controller connecting", l)
		}
	}
}
