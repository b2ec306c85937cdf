package main

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"halab/lab"
)

// The flags that raise the SSH bounds are the CLI's to name: lab's errors
// say which bound ran out, the CLI adds its flag.
func TestTimeoutFlag(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&lab.ConnError{Node: "n", Command: "sleep 9", Err: &lab.TimeoutError{After: time.Second, Command: true}}, "--command-timeout"},
		{&lab.ConnError{Node: "n", Err: &lab.TimeoutError{After: time.Second}}, "--connect-timeout"},
		{fmt.Errorf("step x: %w", &lab.ConnError{Node: "n", Err: &lab.LostError{After: time.Second}}), "--connect-timeout"},
		{&lab.ConnError{Node: "n", Err: errors.New("connection refused")}, ""},
		{errors.New("other"), ""},
	}
	for _, c := range cases {
		if got := timeoutFlag(c.err); got != c.want {
			t.Errorf("%v: %q, want %q", c.err, got, c.want)
		}
	}
}
