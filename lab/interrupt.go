package lab

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// How halab stops. The context a command runs under ends on the first
// interrupt (Ctrl-C, SIGTERM): halab then asks what runs to stop and gives
// it time, a local child SIGINT and Grace to finish, a remote command a
// kill on the node. A second interrupt is the hard stop: what still runs
// is killed. cmd/halab sets both up; without them (tests, the scenario
// suite) there is no hard stop and the grace is DefaultGrace.

// DefaultGrace is how long a local child (vagrant above all, which must
// not be killed mid-operation) has to finish after SIGINT.
const DefaultGrace = 60 * time.Second

// Stop says how the commands under a context are stopped once it ends.
type Stop struct {
	// Hard is closed on the second interrupt: kill what still runs.
	Hard <-chan struct{}
	// Grace is how long a local child has after SIGINT before it is
	// killed (0: DefaultGrace).
	Grace time.Duration
}

type stopKey struct{}

// WithStop carries s in ctx for the commands run under it.
func WithStop(ctx context.Context, s Stop) context.Context {
	return context.WithValue(ctx, stopKey{}, s)
}

func stopOf(ctx context.Context) Stop {
	s, _ := ctx.Value(stopKey{}).(Stop)
	if s.Grace <= 0 {
		s.Grace = DefaultGrace
	}
	return s
}

// HardStop is closed on the second interrupt (never, when ctx carries no
// Stop).
func HardStop(ctx context.Context) <-chan struct{} { return stopOf(ctx).Hard }

// ErrKilled is a local child that halab killed: it did not stop within
// its grace after SIGINT, or a second interrupt came first.
var ErrKilled = errors.New("killed")

// RunGroup runs cmd (made with exec.Command, not started) in a process
// group of its own and stops it as Ctrl-C in a terminal would: when ctx
// ends, SIGINT to its group, once; on the hard stop, or when it is still
// running after the grace, SIGKILL to the group. Its own group means a
// terminal's Ctrl-C reaches halab alone, which forwards it once, and a
// second Ctrl-C reaches halab alone too.
//
// ownStop is for a child that bounds its own stop, such as halab itself
// or a scenario suite that heals before it exits: it gets no grace timer,
// and the hard stop forwards a second SIGINT (halab's own hard stop)
// before the SIGKILL, 15 s later.
//
// The error is cmd.Wait's, or ErrKilled with the reason when halab
// killed it.
func RunGroup(ctx context.Context, cmd *exec.Cmd, ownStop bool) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	stop := stopOf(ctx)
	// A grandchild that escaped the group and holds the output pipe must
	// not hold halab after the child ended.
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 10 * time.Second
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	pgid := cmd.Process.Pid
	done := make(chan struct{})
	killed := make(chan string, 1)
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		_ = syscall.Kill(-pgid, syscall.SIGINT)
		var grace <-chan time.Time
		if !ownStop {
			t := time.NewTimer(stop.Grace)
			defer t.Stop()
			grace = t.C
		}
		select {
		case <-done:
			return
		case <-grace:
			killed <- fmt.Sprintf("still running %s after SIGINT", stop.Grace)
		case <-stop.Hard:
			if ownStop {
				_ = syscall.Kill(-pgid, syscall.SIGINT)
				t := time.NewTimer(15 * time.Second)
				defer t.Stop()
				select {
				case <-done:
					return
				case <-t.C:
				}
			}
			killed <- "interrupted twice"
		}
		select {
		case <-done:
		default:
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
	}()
	err := cmd.Wait()
	close(done)
	select {
	case why := <-killed:
		return fmt.Errorf("%w: %s", ErrKilled, why)
	default:
	}
	return err
}
