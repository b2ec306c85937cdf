package fence

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gofrs/flock"

	"halab/lab"
)

// The endpoint's files in the fence directory besides the PKI and the
// request log.
const (
	// pidName records the running endpoint: pid, address, start time.
	pidName = "endpoint.pid"
	// lockName is held (flock) by the running endpoint for its whole life:
	// the lock, not the pid file, says whether it runs.
	lockName = "endpoint.lock"
	// OutName receives the detached endpoint's stdout and stderr.
	OutName = "endpoint.out"
	// refuseName, when present, makes the endpoint refuse every request.
	refuseName = "refuse"
)

// Info is what the running endpoint records in its pid file.
type Info struct {
	PID     int       `json:"pid"`
	Addr    string    `json:"addr"`
	Started time.Time `json:"started"`
	Lab     string    `json:"lab"`
	// Machines are the machines it accepts.
	Machines []Machine `json:"machines"`
}

// State is whether the lab's endpoint runs, and what it recorded.
type State struct {
	Running bool
	Info
}

// ErrRunning: an endpoint already holds this lab's fence directory.
var ErrRunning = errors.New("a fence endpoint is already running for this lab")

// ReadState says whether an endpoint runs for the fence directory: its
// lock is held. It changes nothing.
func ReadState(dir string) (State, error) {
	lockPath := filepath.Join(dir, lockName)
	if _, err := os.Stat(lockPath); errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	l := flock.New(lockPath)
	ok, err := l.TryLock()
	if err != nil {
		return State{}, fmt.Errorf("fence endpoint lock %s: %w", lockPath, err)
	}
	if ok {
		l.Unlock()
		return State{}, nil
	}
	st := State{Running: true}
	// The holder writes its pid file right after taking the lock.
	for i := 0; i < 20; i++ {
		b, err := os.ReadFile(filepath.Join(dir, pidName))
		if err == nil && json.Unmarshal(b, &st.Info) == nil && st.PID > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return st, nil
}

// Refusing says whether the endpoint is set to refuse every request.
func Refusing(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, refuseName))
	return err == nil
}

// SetRefusing makes the endpoint refuse every request (the fence device
// failing, on purpose) or answer again. It takes effect at the next
// request; the endpoint need not restart.
func SetRefusing(dir string, on bool) error {
	p := filepath.Join(dir, refuseName)
	if !on {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	if err := lab.EnsureStateDir(dir); err != nil {
		return err
	}
	return lab.WriteFileAtomic(p, []byte("every request is refused until this file is removed (halab fence-endpoint refuse off)\n"), 0o600)
}

// ServeOptions configure Serve.
type ServeOptions struct {
	// Dir is the fence directory: PKI, lock, pid file, request log.
	Dir string
	// Addr is host:port to listen on (port 0: any, as tests use).
	Addr     string
	Lab      string
	Machines []Machine
	Power    Power
	// Out receives the endpoint's own messages (addresses, errors; never
	// key material).
	Out io.Writer
	// OffTimeout and OnTimeout bound power actions (0: defaults).
	OffTimeout, OnTimeout time.Duration
}

// Serve runs the endpoint in the foreground until ctx ends: it holds the
// fence directory's lock, records its pid and address, and answers over
// mutual TLS with the PKI in Dir (which must exist: PKI.Ensure makes it).
func Serve(ctx context.Context, o ServeOptions) error {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if err := lab.EnsureStateDir(o.Dir); err != nil {
		return err
	}
	lk := flock.New(filepath.Join(o.Dir, lockName))
	ok, err := lk.TryLock()
	if err != nil {
		return fmt.Errorf("fence endpoint lock: %w", err)
	}
	if !ok {
		st, _ := ReadState(o.Dir)
		return fmt.Errorf("%w (pid %d on %s)", ErrRunning, st.PID, st.Addr)
	}
	defer lk.Unlock()
	pidPath := filepath.Join(o.Dir, pidName)
	info := Info{PID: os.Getpid(), Addr: o.Addr, Started: time.Now().UTC(), Lab: o.Lab, Machines: o.Machines}
	if err := writeInfo(pidPath, info); err != nil {
		return err
	}
	defer os.Remove(pidPath)

	pki := &PKI{Dir: o.Dir, Lab: o.Lab}
	tlsCfg, err := pki.ServerTLS()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("fence endpoint: listen on %s: %w (the address must be the host's on the lab network: it exists once the lab's network is up)", o.Addr, err)
	}
	info.Addr = ln.Addr().String()
	if err := writeInfo(pidPath, info); err != nil {
		ln.Close()
		return err
	}
	reqLog, err := OpenLog(o.Dir)
	if err != nil {
		ln.Close()
		return err
	}
	defer reqLog.Close()
	srv := &Server{Lab: o.Lab, Machines: o.Machines, Power: o.Power, Log: reqLog,
		Refusing: func() bool { return Refusing(o.Dir) }, OffTimeout: o.OffTimeout, OnTimeout: o.OnTimeout}
	hs := &http.Server{
		Handler:           srv,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(&serverLog{log: reqLog, out: o.Out}, "", 0),
	}
	reqLog.Write(Entry{Event: "start", Result: "ok", Addr: info.Addr, PID: info.PID})
	fmt.Fprintf(o.Out, "fence endpoint of lab %s: listening on https://%s (mutual TLS), pid %d\n", o.Lab, info.Addr, info.PID)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(tls.NewListener(ln, tlsCfg)) }()
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.Shutdown(shutCtx)
	if !srv.Wait(30 * time.Second) {
		fmt.Fprintln(o.Out, "fence endpoint: a power-on was still under way at stop")
	}
	result := "ok"
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		result = "error: " + err.Error()
	}
	reqLog.Write(Entry{Event: "stop", Result: result, Addr: info.Addr, PID: info.PID})
	fmt.Fprintf(o.Out, "fence endpoint of lab %s: stopped\n", o.Lab)
	if result != "ok" {
		return err
	}
	return nil
}

func writeInfo(path string, info Info) error {
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	return lab.WriteFileAtomic(path, append(b, '\n'), 0o600)
}

// serverLog turns net/http's error lines into log entries: a refused TLS
// handshake (no client certificate, a certificate of another lab's CA)
// is a "handshake" entry, anything else goes to Out.
type serverLog struct {
	log *Log
	out io.Writer
}

const handshakePrefix = "http: TLS handshake error from "

func (s *serverLog) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if rest, ok := strings.CutPrefix(line, handshakePrefix); ok {
		remote, why, _ := strings.Cut(rest, ": ")
		s.log.Write(Entry{Event: "handshake", Remote: remote, Result: "refused: " + why})
		return len(p), nil
	}
	fmt.Fprintln(s.out, "fence endpoint:", line)
	return len(p), nil
}

// Start runs argv (a `halab fence-endpoint serve`) detached: in a session
// of its own, so that neither halab's exit nor a Ctrl-C at the terminal
// stops it, with its output appended to OutName in dir. It returns once
// the endpoint holds its lock and ready (if set) passes, or fails with the
// endpoint's own words when it exits first. An endpoint already running is
// left as it is.
func Start(ctx context.Context, dir string, argv []string, timeout time.Duration, ready func(context.Context, State) error) (State, error) {
	if st, err := ReadState(dir); err != nil || st.Running {
		return st, err
	}
	if err := lab.EnsureStateDir(dir); err != nil {
		return State{}, err
	}
	outPath := filepath.Join(dir, OutName)
	out, err := os.OpenFile(outPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return State{}, err
	}
	outStart, _ := out.Seek(0, io.SeekEnd)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	out.Close()
	if err != nil {
		return State{}, fmt.Errorf("starting the fence endpoint: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tail := func() string {
		b, _ := os.ReadFile(outPath)
		if int64(len(b)) >= outStart {
			b = b[outStart:]
		}
		return strings.TrimSpace(lastLines(string(b), 5))
	}
	deadline := time.Now().Add(timeout)
	var last error
	for {
		select {
		case err := <-exited:
			return State{}, fmt.Errorf("the fence endpoint exited at start (%v): %s", err, tail())
		case <-ctx.Done():
			cmd.Process.Kill()
			return State{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		st, err := ReadState(dir)
		if err == nil && st.Running && st.PID == cmd.Process.Pid {
			if ready == nil {
				return st, nil
			}
			if last = ready(ctx, st); last == nil {
				return st, nil
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			why := "it never took its lock"
			if last != nil {
				why = last.Error()
			}
			return State{}, fmt.Errorf("the fence endpoint did not come up within %s: %s; its output: %s", timeout, why, tail())
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Stop ends the running endpoint: SIGTERM to the pid its pid file names
// (only while it holds the lock, so that a stale pid is never signalled),
// then SIGKILL if it has not let go of the lock within timeout. It says
// whether one was running.
func Stop(dir string, timeout time.Duration) (bool, error) {
	st, err := ReadState(dir)
	if err != nil || !st.Running {
		if err == nil {
			os.Remove(filepath.Join(dir, pidName))
		}
		return false, err
	}
	if st.PID <= 0 {
		return true, fmt.Errorf("a fence endpoint holds %s but its pid file is unreadable: stop it by hand", filepath.Join(dir, lockName))
	}
	if err := syscall.Kill(st.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return true, fmt.Errorf("stopping the fence endpoint (pid %d): %w", st.PID, err)
	}
	if waitGone(dir, timeout) {
		return true, nil
	}
	if again, _ := ReadState(dir); again.Running && again.PID == st.PID {
		syscall.Kill(st.PID, syscall.SIGKILL)
	}
	if waitGone(dir, 5*time.Second) {
		os.Remove(filepath.Join(dir, pidName))
		return true, nil
	}
	return true, fmt.Errorf("the fence endpoint (pid %d) did not stop", st.PID)
}

func waitGone(dir string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if st, err := ReadState(dir); err == nil && !st.Running {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Ping asks the endpoint at addr for /_ping over mutual TLS with halab's
// own client certificate: it answers, and it is this lab's.
func (p *PKI) Ping(ctx context.Context, addr string) error {
	cfg, err := p.ClientTLS(p.HostCert(), p.HostKey())
	if err != nil {
		return err
	}
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	defer c.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/_ping", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		var e apiError
		if json.Unmarshal(b, &e) == nil && e.Message != "" {
			return fmt.Errorf("HTTP %d: %s", resp.StatusCode, e.Message)
		}
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if !bytes.Equal(bytes.TrimSpace(b), []byte("OK")) {
		return fmt.Errorf("unexpected answer %q", b)
	}
	return nil
}
