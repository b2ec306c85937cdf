package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
)

// CommandError is a local command that ran and failed: what ran, how it
// ended, and the last lines it printed, so the user needs no -v rerun.
type CommandError struct {
	Command  []string
	ExitCode int
	Tail     []string
	Err      error
}

func (e *CommandError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", strings.Join(e.Command, " "))
	if e.ExitCode >= 0 {
		fmt.Fprintf(&b, ": exit status %d", e.ExitCode)
	} else if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if len(e.Tail) > 0 {
		b.WriteString("; last output:\n    ")
		b.WriteString(strings.Join(e.Tail, "\n    "))
	}
	return b.String()
}

func (e *CommandError) Unwrap() error { return e.Err }

// tailWriter keeps the last n lines written through it.
type tailWriter struct {
	mu    sync.Mutex
	n     int
	lines []string
	part  []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		if l := strings.TrimRight(string(t.part[:i]), "\r"); strings.TrimSpace(l) != "" {
			t.lines = append(t.lines, l)
			if len(t.lines) > t.n {
				t.lines = t.lines[len(t.lines)-t.n:]
			}
		}
		t.part = t.part[i+1:]
	}
	return len(p), nil
}

func (t *tailWriter) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.lines...)
	if l := strings.TrimSpace(string(t.part)); l != "" {
		out = append(out, l)
	}
	return out
}

// runLocal runs argv with env added, streaming combined output to out (if
// not nil) and returning it. A failure is a *CommandError. When ctx ends
// the command gets SIGINT and time to finish (RunGroup): vagrant killed
// mid-operation leaves machines half made.
func runLocal(ctx context.Context, dir string, env []string, out io.Writer, argv ...string) ([]byte, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), env...)
	var buf bytes.Buffer
	tail := &tailWriter{n: 15}
	w := io.MultiWriter(&buf, tail)
	if out != nil {
		w = io.MultiWriter(w, out)
	}
	cmd.Stdout, cmd.Stderr = w, w
	err := RunGroup(ctx, cmd, false)
	if err != nil {
		ce := &CommandError{Command: argv, ExitCode: -1, Tail: tail.Lines(), Err: err}
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() >= 0 {
			ce.ExitCode = ee.ExitCode()
		}
		if ctx.Err() != nil {
			// Interrupted: say how the command ended.
			if errors.Is(err, ErrKilled) {
				ce.Err = fmt.Errorf("%w (%w)", ctx.Err(), err)
			} else {
				ce.Err = fmt.Errorf("%w (it stopped on SIGINT: %v)", ctx.Err(), err)
			}
			ce.ExitCode = -1
		}
		return buf.Bytes(), ce
	}
	return buf.Bytes(), nil
}

// prefixWriter indents streamed output of a child command under halab's
// own progress lines.
type prefixWriter struct {
	w      io.Writer
	prefix string
	mid    bool
	mu     sync.Mutex
}

func NewPrefixWriter(w io.Writer, prefix string) io.Writer {
	return &prefixWriter{w: w, prefix: prefix}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []byte
	for _, c := range b {
		if !p.mid {
			out = append(out, p.prefix...)
			p.mid = true
		}
		out = append(out, c)
		if c == '\n' {
			p.mid = false
		}
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
