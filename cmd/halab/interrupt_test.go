package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The first interrupt ends the context, the second closes the hard stop
// (it used to be swallowed by signal.NotifyContext, and a third killed
// halab without its cleanups), the third exits 130.
func TestInterruptsCountSignals(t *testing.T) {
	sigs := make(chan os.Signal)
	var out syncBuffer
	exits := make(chan int, 3)
	ctx, hard, done := interrupts(sigs, &out, func(code int) { exits <- code })
	defer done()

	select {
	case <-ctx.Done():
		t.Fatal("context ended before any signal")
	case <-hard:
		t.Fatal("hard stop before any signal")
	default:
	}

	sigs <- syscall.SIGINT
	<-ctx.Done()
	if !errors.Is(context.Cause(ctx), context.Canceled) {
		t.Errorf("cause %v", context.Cause(ctx))
	}
	select {
	case <-hard:
		t.Fatal("the first interrupt closed the hard stop")
	case <-time.After(50 * time.Millisecond):
	}
	if !strings.Contains(out.String(), "halab: SIGINT: stopping cleanly") {
		t.Errorf("first interrupt said %q", out.String())
	}

	sigs <- syscall.SIGTERM
	select {
	case <-hard:
	case <-time.After(5 * time.Second):
		t.Fatal("the second signal did not close the hard stop")
	}
	select {
	case code := <-exits:
		t.Fatalf("exit %d on the second signal", code)
	case <-time.After(50 * time.Millisecond):
	}

	sigs <- syscall.SIGINT
	select {
	case code := <-exits:
		if code != 130 {
			t.Errorf("third signal: exit %d, want 130", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the third signal did not exit")
	}
	if s := out.String(); !strings.Contains(s, "again: killing what still runs") || !strings.Contains(s, "exiting now") {
		t.Errorf("output %q", s)
	}
}

// After the second interrupt halab exits 130 if it has not stopped within
// hardStopLimit; done ends the watch.
func TestInterruptsHardStopLimit(t *testing.T) {
	defer func(d time.Duration) { hardStopLimit = d }(hardStopLimit)
	hardStopLimit = 300 * time.Millisecond
	sigs := make(chan os.Signal)
	var out syncBuffer
	exits := make(chan int, 3)
	_, hard, done := interrupts(sigs, &out, func(code int) { exits <- code })
	sigs <- syscall.SIGINT
	sigs <- syscall.SIGINT
	<-hard
	select {
	case code := <-exits:
		if code != 130 {
			t.Errorf("exit %d", code)
		}
	case <-time.After(hardStopLimit + 5*time.Second):
		t.Fatal("no exit after the limit")
	}
	done()

	// Stopped in time: no exit.
	sigs2 := make(chan os.Signal)
	_, hard2, done2 := interrupts(sigs2, &out, func(code int) { exits <- code })
	sigs2 <- syscall.SIGINT
	sigs2 <- syscall.SIGINT
	<-hard2
	done2()
	select {
	case code := <-exits:
		t.Fatalf("exit %d after done", code)
	case <-time.After(hardStopLimit + time.Second):
	}
}
