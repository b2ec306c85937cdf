package main

import (
	"os"
	"strings"
	"testing"
)

// The fixture is shaped like a failed CI run's log: parallel tests, the
// lab's transcript at one source line, a passing test whose halab error is
// on purpose, a failed subtest whose reason is halab's error (with its
// indented later lines) and an assertion.
func TestGoTestDigest(t *testing.T) {
	f, err := os.Open("testdata/gotest.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	n, err := goTestDigest(f, &out, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := `TestE2EFencing/up_and_provision
    e2e_test.go:90: halab: up: vagrant up: exit status 1
        docker: Error response from daemon: Address already in use.
        see the vagrant output above
    fencing_e2e_test.go:52: halab -c docs/examples/fencing.yaml up: exit 1
TestE2EFencing/scenarios
    fencing_e2e_test.go:112: scenarios: exit 1
`
	if got := out.String(); got != want {
		t.Errorf("digest:\n%s\nwant:\n%s", got, want)
	}
	if n != 2 {
		t.Errorf("%d failed tests, want 2 (the parent of failed subtests is not one)", n)
	}

	// Bounded: a run whose every line fails says there is more.
	f.Seek(0, 0)
	out.Reset()
	if _, err := goTestDigest(f, &out, 3); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 4 || !strings.Contains(lines[3], "more in the log") {
		t.Errorf("bounded digest:\n%s", out.String())
	}
}

func TestHeadTail(t *testing.T) {
	lines := strings.Split("a b c d e f g h i j", " ")
	if got := strings.Join(headTail(lines, 3, 5), " "); got != "a b c ... f g h i j" {
		t.Errorf("headTail: %s", got)
	}
	if got := strings.Join(headTail(lines[:8], 3, 5), " "); got != "a b c d e f g h" {
		t.Errorf("headTail of what fits: %s", got)
	}
}
