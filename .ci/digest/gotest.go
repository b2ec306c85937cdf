package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// The go test -v log of a failed CI run names the failed tests near its end,
// but not why: the reason is a t.Errorf line, or halab's own "halab: ..."
// error, thousands of lines earlier among the lab's transcript. goTestDigest
// prints, for each failed test that has no failed subtest, those lines.

var (
	headerRe = regexp.MustCompile(`^=== (?:RUN|CONT|NAME|PAUSE)\s+(\S+)`)
	failRe   = regexp.MustCompile(`^\s*--- FAIL: (\S+)`)
	// A test's log line: indentation, file:line, message.
	logRe = regexp.MustCompile(`^(\s+)(\S+_test\.go:\d+): (.*)$`)
)

// A source location that logged more than transcriptAt lines is a
// transcript (halab's output copied into the test log), not an assertion.
const transcriptAt = 5

type logLine struct {
	test, at, text string
	indent         int
	cont           []string // the lines indented under it
}

// goTestDigest writes at most maxLines lines; it returns how many failed
// tests it found.
func goTestDigest(r io.Reader, w io.Writer, maxLines int) (int, error) {
	var (
		lines  []*logLine
		failed []string
		count  = map[string]int{}
		ran    = map[string]bool{}
		cur    string
		last   *logLine
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if m := headerRe.FindStringSubmatch(l); m != nil {
			cur, last = m[1], nil
			ran[cur] = true
			continue
		}
		// (A test of this run: a "--- FAIL" in the output of a go test
		// that a test ran is not one.)
		if m := failRe.FindStringSubmatch(l); m != nil && ran[m[1]] {
			failed = append(failed, m[1])
			last = nil
			continue
		}
		if m := logRe.FindStringSubmatch(l); m != nil {
			last = &logLine{test: cur, at: m[2], text: m[3], indent: len(m[1])}
			lines = append(lines, last)
			count[m[2]]++
			continue
		}
		// t.Errorf's later lines are indented deeper than its first.
		if last != nil && len(l)-len(strings.TrimLeft(l, " \t")) > last.indent {
			last.cont = append(last.cont, strings.TrimSpace(l))
			continue
		}
		last = nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	// Leaves: a failed test with a failed subtest is reported by it.
	var leaves []string
	for _, f := range failed {
		leaf := true
		for _, g := range failed {
			if strings.HasPrefix(g, f+"/") {
				leaf = false
			}
		}
		if leaf && !slices.Contains(leaves, f) {
			leaves = append(leaves, f)
		}
	}
	n := 0
	emit := func(s string) bool {
		if n >= maxLines {
			return false
		}
		fmt.Fprintln(w, cut(s, 240))
		n++
		return true
	}
	for _, t := range leaves {
		if !emit(t) {
			break
		}
		for _, ll := range lines {
			if ll.test != t {
				continue
			}
			assertion := count[ll.at] <= transcriptAt
			if !assertion && !strings.HasPrefix(ll.text, "halab: ") {
				continue
			}
			emit("    " + ll.at + ": " + ll.text)
			for _, c := range headTail(ll.cont, 3, 5) {
				emit("        " + c)
			}
		}
	}
	if n >= maxLines {
		fmt.Fprintln(w, "    ... (more in the log)")
	}
	return len(leaves), nil
}

// headTail keeps the first head and the last tail lines, with "..." for
// what is left out between (a failed command's output ends with why).
func headTail(lines []string, head, tail int) []string {
	if len(lines) <= head+tail {
		return lines
	}
	out := append([]string{}, lines[:head]...)
	out = append(out, "...")
	return append(out, lines[len(lines)-tail:]...)
}
