package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// hardStopLimit is how long halab may take to stop after the second
// interrupt, which kills what still runs, before it exits regardless.
var hardStopLimit = 10 * time.Second

// interrupts turns SIGINT and SIGTERM, read from sigs, into halab's stops
// (see lab.Stop). The first ends the returned context: what runs is asked
// to stop and given time (lab.Stop's grace for a local child, a kill on
// the node for a remote command), and deferred cleanups run. The second closes
// hard: what still runs is killed, and if halab has not stopped
// hardStopLimit later it exits 130 anyway. The third exits 130 at once.
// done stops the watching.
//
// Signals are counted here, not by signal.NotifyContext, which stops
// listening after the first: the default action of a second Ctrl-C would
// kill halab without a word, and with it the cleanups.
func interrupts(sigs <-chan os.Signal, stderr io.Writer, exit func(int)) (ctx context.Context, hardStop <-chan struct{}, done func()) {
	// Canceled, not a cause of its own: errors say "interrupted" from
	// context.Canceled (lab.ConnError's hint, main's exit code).
	ctx, cancel := context.WithCancel(context.Background())
	limit := hardStopLimit
	hard := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case <-quit:
				return
			case sig := <-sigs:
				n++
				name := "SIGINT"
				if sig == syscall.SIGTERM {
					name = "SIGTERM"
				}
				switch n {
				case 1:
					fmt.Fprintf(stderr, "halab: %s: stopping cleanly (interrupt again to kill what still runs)\n", name)
					cancel()
				case 2:
					fmt.Fprintf(stderr, "halab: %s again: killing what still runs (once more to exit at once)\n", name)
					close(hard)
					go func() {
						select {
						case <-quit:
						case <-time.After(limit):
							fmt.Fprintf(stderr, "halab: not stopped %s after the second interrupt; exiting\n", limit)
							exit(130)
						}
					}()
				default:
					fmt.Fprintf(stderr, "halab: %s a third time: exiting now; what halab started may still run\n", name)
					exit(130)
				}
			}
		}
	}()
	return ctx, hard, func() {
		select {
		case <-quit:
		default:
			close(quit)
		}
		cancel()
	}
}
