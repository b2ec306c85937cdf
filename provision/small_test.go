package provision

import (
	"strings"
	"testing"
	"time"
)

// timeout(1) takes whole seconds, and `timeout 0` means no bound at all:
// a sub-second bound must round up, never down to 0.
func TestTimeoutSeconds(t *testing.T) {
	cases := map[time.Duration]string{
		500 * time.Millisecond:  "1",
		time.Millisecond:        "1",
		0:                       "1",
		time.Second:             "1",
		1500 * time.Millisecond: "2",
		8 * time.Second:         "8",
	}
	for d, want := range cases {
		if got := TimeoutSeconds(d); got != want {
			t.Errorf("TimeoutSeconds(%s) = %s, want %s", d, got, want)
		}
	}
}

// stat.sh's output is read defensively: a line of the wrong shape or a
// mode that is not octal is an error naming the node, never a panic or a
// silent zero mode.
func TestParseStat(t *testing.T) {
	good := "644:root:root " + strings.Repeat("a", 64) + "\n- -\n"
	st, err := parseStat("node1", []byte(good), 2)
	if err != nil {
		t.Fatal(err)
	}
	if !st[0].exists || st[0].mode != 0o644 || st[0].owner != "root" || st[0].grp != "root" || st[1].exists {
		t.Errorf("parsed %+v", st)
	}
	for _, bad := range []string{
		"644 " + strings.Repeat("a", 64) + "\n",      // no owner and group
		"644:root " + strings.Repeat("a", 64) + "\n", // no group
		"9z9:root:root " + strings.Repeat("a", 64) + "\n",
		"just-one-field\n",
	} {
		if _, err := parseStat("node1", []byte(bad), 1); err == nil || !strings.Contains(err.Error(), "node node1") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := parseStat("node1", []byte(good), 3); err == nil {
		t.Error("a missing line was not noticed")
	}
}
