package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/melbahja/goph"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeys pins each machine's SSH host key on first contact in a
// known_hosts file in the lab's state directory. Entries are named after
// the node and its provider machine id, so a machine that Vagrant
// recreated is a first contact, while the same machine showing another key
// is an attack or a broken node and stops the run.
type HostKeys struct {
	File string
	mu   sync.Mutex
}

// HostKeyChangedError is a pinned key that no longer matches.
type HostKeyChangedError struct {
	Node, File string
}

func (e *HostKeyChangedError) Error() string {
	return fmt.Sprintf("node %s: SSH host key changed since it was pinned in %s; if the node was rebuilt on purpose, delete the lines starting with %q from that file (or run `halab down`), otherwise someone may be intercepting the connection", e.Node, e.File, e.Node+".")
}

func (h *HostKeys) callback(alias, node string) ssh.HostKeyCallback {
	return func(_ string, remote net.Addr, key ssh.PublicKey) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, err := os.Stat(h.File); err == nil {
			check, err := knownhosts.New(h.File)
			if err != nil {
				return fmt.Errorf("reading pinned host keys %s: %w", h.File, err)
			}
			err = check(alias+":22", remote, key)
			var ke *knownhosts.KeyError
			switch {
			case err == nil:
				return nil
			case errors.As(err, &ke) && len(ke.Want) > 0:
				return &HostKeyChangedError{Node: node, File: h.File}
			case !errors.As(err, &ke):
				return err
			}
		}
		// First contact: pin it.
		if err := os.MkdirAll(filepath.Dir(h.File), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(h.File, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = fmt.Fprintln(f, knownhosts.Line([]string{alias}, key))
		return err
	}
}

// Forget drops every pinned key (after `down` destroyed the machines).
func (h *HostKeys) Forget() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := os.Remove(h.File); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// Result is what a remote command did. A command that ran and exited
// non-zero is a result, not an error: callers that expect a status other
// than zero read ExitCode, and those that need success call Err or Check.
type Result struct {
	Node     string
	Command  string
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// OK says the command exited zero.
func (r Result) OK() bool { return r.ExitCode == 0 }

// Err is nil when the command exited zero, else an *ExitError naming it.
func (r Result) Err() error {
	if r.ExitCode == 0 {
		return nil
	}
	return &ExitError{Result: r}
}

// Check is for commands that must succeed: it turns a non-zero exit into
// an *ExitError, and passes a transport error through.
func Check(r Result, err error) (Result, error) {
	if err != nil {
		return r, err
	}
	return r, r.Err()
}

// ExitError is a remote command that ran and exited non-zero: the node is
// reachable, the command failed.
type ExitError struct {
	Result
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(string(e.Stderr))
	if msg == "" {
		msg = strings.TrimSpace(string(e.Stdout))
	}
	if len(msg) > 2000 {
		msg = "..." + msg[len(msg)-2000:]
	}
	return fmt.Sprintf("node %s: `%s` exited %d: %s", e.Node, e.Command, e.ExitCode, msg)
}

// ConnError is a node that could not be reached, or a connection that
// broke or timed out mid-command: nothing is known about the command.
type ConnError struct {
	Node    string
	Addr    string
	Command string
	Key     string // identity file used, for the hint on a refused key
	Err     error
}

// TimeoutError is a bound that passed: the SSH handshake (Command false)
// or one remote command (Command true).
type TimeoutError struct {
	After   time.Duration
	Command bool
}

func (e *TimeoutError) Error() string {
	if e.Command {
		return fmt.Sprintf("no result within the command timeout (%s)", e.After)
	}
	return fmt.Sprintf("no SSH handshake within %s", e.After)
}

func (e *ConnError) Error() string {
	if e.Command != "" {
		return fmt.Sprintf("node %s (%s): `%s`: %v; %s", e.Node, e.Addr, e.Command, e.Err, e.hint())
	}
	return fmt.Sprintf("node %s (%s): cannot connect over SSH: %v; %s", e.Node, e.Addr, e.Err, e.hint())
}

// hint says what to do, from what the failure looks like.
func (e *ConnError) hint() string {
	var te *TimeoutError
	msg := e.Err.Error()
	switch {
	case errors.Is(e.Err, context.Canceled):
		return "interrupted; re-run the command to continue"
	case errors.As(e.Err, &te) && te.Command:
		return "the node did not finish it in time: check it with `halab status` (is it paused, overloaded, or waiting on the network?), or allow more with --command-timeout"
	case errors.As(e.Err, new(*LostError)):
		return "check it with `halab status` (is it paused, frozen or cut off?), then re-run; allow slower answers with --connect-timeout"
	case errors.As(e.Err, &te):
		return "the node accepts connections but does not answer SSH: check it with `halab status` (is it paused or overloaded?), or allow more with --connect-timeout"
	case strings.Contains(msg, "connection refused"):
		return "nothing listens on that port: is the node up and its sshd running? (`halab status`, `halab up`)"
	case strings.Contains(msg, "connection reset by peer"), strings.HasSuffix(msg, "handshake failed: EOF"):
		// docker keeps forwarding the port of a node whose sshd is gone,
		// and drops each connection.
		return "the port took the connection and dropped it: is the node's sshd running? (`halab status`; restart the node or `halab up`)"
	case strings.Contains(msg, "unable to authenticate"):
		return fmt.Sprintf("the node refused the key %s: if the node was rebuilt or its authorized_keys changed, run `halab down` and `halab up`", e.key())
	case strings.Contains(msg, "i/o timeout"), strings.Contains(msg, "no route to host"), strings.Contains(msg, "host is unreachable"):
		return "the address does not answer: is the node up? (`halab status`)"
	}
	return "check the node with `halab status`, then re-run"
}

func (e *ConnError) key() string {
	if e.Key == "" {
		return "(from vagrant ssh-config)"
	}
	return e.Key
}

func (e *ConnError) Unwrap() error { return e.Err }

// Node is one lab machine reachable over SSH: identity plus a runner.
type Node struct {
	Name     string
	IP       string // private IP from lab.yaml
	Endpoint SSHEndpoint
	Client   *goph.Client
	// CommandTimeout bounds each remote command (0: only the caller's
	// context), so that a node that hangs mid-command fails the run with
	// the command named instead of stalling it.
	CommandTimeout time.Duration
	lost           atomic.Pointer[LostError]
}

// LostError is a node that stopped answering SSH on an open connection
// (paused, frozen, cut off): halab closed the connection.
type LostError struct{ After time.Duration }

func (e *LostError) Error() string {
	return fmt.Sprintf("the node stopped answering SSH (no keepalive reply within %s)", e.After)
}

// Lost says why the connection was closed under the caller, if it was.
func (n *Node) Lost() error {
	if e := n.lost.Load(); e != nil {
		return e
	}
	return nil
}

// keepalive asks the node for a reply every bound/3 and closes the
// connection when none comes within bound, so that nothing without a
// command timeout of its own (an SFTP write) waits on a dead node forever.
func (n *Node) keepalive(bound time.Duration) {
	t := time.NewTicker(max(bound/3, time.Second))
	defer t.Stop()
	for range t.C {
		reply := make(chan error, 1)
		go func() {
			// Any answer counts, a refusal of the request too.
			_, _, err := n.Client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case err := <-reply:
			if err != nil {
				return // closed
			}
		case <-time.After(bound):
			n.lost.Store(&LostError{After: bound})
			n.Client.Close()
			return
		}
	}
}

// Default bounds: TCP connect plus SSH handshake, and one remote command
// (the longest is an apt-get install over a slow mirror).
const (
	DialTimeout    = 15 * time.Second
	CommandTimeout = 10 * time.Minute
)

// Dial opens an SSH connection to a node with its Vagrant key, pinning the
// host key. alias identifies the machine in the pin file. timeout bounds
// connect plus handshake (0: DialTimeout).
func Dial(ctx context.Context, name, ip string, ep SSHEndpoint, alias string, keys *HostKeys, timeout time.Duration) (*Node, error) {
	if timeout <= 0 {
		timeout = DialTimeout
	}
	auth, err := goph.Key(ep.IdentityFile, "")
	if err != nil {
		return nil, &ConnError{Node: name, Addr: ep.Addr(), Key: ep.IdentityFile, Err: fmt.Errorf("reading key %s: %w", ep.IdentityFile, err)}
	}
	// A key known beforehand is the only one accepted; else first contact pins.
	callback, hostKeyAlgos := keys.callback(alias, name), []string(nil)
	if ep.HostKey != "" {
		want, err := ParseHostKey(ep.HostKey)
		if err != nil {
			return nil, &ConnError{Node: name, Addr: ep.Addr(), Err: fmt.Errorf("host key from %s: %w", ep.HostKeyFrom, err)}
		}
		callback, hostKeyAlgos = expectHostKey(name, ep, want), HostKeyAlgorithms(want)
	}
	type res struct {
		c   *goph.Client
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := dialSSH(&goph.Config{
			User: ep.User, Addr: ep.Host, Port: uint(ep.Port), Auth: auth,
			Timeout: timeout, Callback: callback,
		}, hostKeyAlgos)
		ch <- res{c, err}
	}()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	select {
	case r := <-ch:
		if r.err != nil {
			var hk *HostKeyChangedError
			if errors.As(r.err, &hk) {
				return nil, hk
			}
			var hm *HostKeyMismatchError
			if errors.As(r.err, &hm) {
				return nil, hm
			}
			return nil, &ConnError{Node: name, Addr: ep.Addr(), Key: ep.IdentityFile, Err: r.err}
		}
		n := &Node{Name: name, IP: ip, Endpoint: ep, Client: r.c}
		go n.keepalive(timeout)
		return n, nil
	case <-ctx.Done():
		// A port that accepts but never speaks SSH hangs the handshake;
		// close whatever the goroutine eventually gets.
		go func() {
			// goph returns a Client without a connection on error.
			if r := <-ch; r.err == nil && r.c != nil {
				r.c.Close()
			}
		}()
		if err := context.Cause(ctx); ctx.Err() == context.Canceled {
			return nil, &ConnError{Node: name, Addr: ep.Addr(), Err: err}
		}
		return nil, &ConnError{Node: name, Addr: ep.Addr(), Err: &TimeoutError{After: timeout}}
	}
}

// Close ends the connection.
func (n *Node) Close() error {
	if n == nil || n.Client == nil {
		return nil
	}
	return n.Client.Close()
}

var safeArg = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// Quote makes s one word for a POSIX shell.
func Quote(s string) string {
	if s != "" && safeArg.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// QuoteArgs quotes every argument and joins them: SSH runs a command
// through the remote user's shell, so an unquoted argument would be split
// or interpreted there.
func QuoteArgs(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

// Run runs argv on the node, each argument quoted, with stdin (may be nil).
// A non-zero exit is in the Result; only a broken or timed-out connection
// is an error (*ConnError).
func (n *Node) Run(ctx context.Context, stdin io.Reader, argv ...string) (Result, error) {
	return n.run(ctx, QuoteArgs(argv), stdin)
}

// Sudo runs argv as root (the vagrant user has passwordless sudo).
func (n *Node) Sudo(ctx context.Context, stdin io.Reader, argv ...string) (Result, error) {
	return n.Run(ctx, stdin, append([]string{"sudo", "-n", "--"}, argv...)...)
}

// SudoScript runs a shell script as root, sent on stdin so that nothing in
// it (secrets included) appears on a command line on the node. args become
// $1.. of the script.
func (n *Node) SudoScript(ctx context.Context, script string, args ...string) (Result, error) {
	argv := append([]string{"sudo", "-n", "--", "sh", "-s", "--"}, args...)
	return n.run(ctx, QuoteArgs(argv), strings.NewReader(script))
}

func (n *Node) run(ctx context.Context, cmd string, stdin io.Reader) (Result, error) {
	if n.CommandTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, n.CommandTimeout, &TimeoutError{After: n.CommandTimeout, Command: true})
		defer cancel()
	}
	sess, err := n.Client.NewSession()
	if err != nil {
		return Result{ExitCode: -1}, &ConnError{Node: n.Name, Addr: n.Endpoint.Addr(), Command: cmd, Err: n.why(err)}
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	if stdin != nil {
		sess.Stdin = stdin
	}
	done := make(chan error, 1)
	if err := sess.Start(cmd); err != nil {
		return Result{ExitCode: -1}, &ConnError{Node: n.Name, Addr: n.Endpoint.Addr(), Command: cmd, Err: err}
	}
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGKILL)
		sess.Close()
		return Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: -1},
			&ConnError{Node: n.Name, Addr: n.Endpoint.Addr(), Command: cmd, Err: context.Cause(ctx)}
	}
	res := Result{Node: n.Name, Command: cmd, Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if err == nil {
		return res, nil
	}
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		res.ExitCode = ee.ExitStatus()
		return res, nil
	}
	res.ExitCode = -1
	return res, &ConnError{Node: n.Name, Addr: n.Endpoint.Addr(), Command: cmd, Err: n.why(err)}
}

// why replaces a broken connection's bare error by the reason halab
// closed it, when it did.
func (n *Node) why(err error) error {
	if lost := n.Lost(); lost != nil {
		return lost
	}
	return err
}
