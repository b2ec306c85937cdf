package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofrs/flock"
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
		return h.pin(knownhosts.Line([]string{alias}, key))
	}
}

// pin adds line to the file: the whole file is written beside it and
// renamed over it (0600), so a reader (another halab command, or this one
// after a crash mid-write) sees the old file or the new one, never half a
// line, which would make every later connection fail. A lock file keeps
// two halab commands that pin at once from dropping each other's line.
func (h *HostKeys) pin(line string) error {
	if err := os.MkdirAll(filepath.Dir(h.File), 0o700); err != nil {
		return err
	}
	lk := flock.New(h.File + ".lock")
	if err := lk.Lock(); err != nil {
		return fmt.Errorf("lock %s: %w", lk.Path(), err)
	}
	defer lk.Unlock()
	old, err := os.ReadFile(h.File)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if len(old) > 0 && old[len(old)-1] != '\n' {
		old = append(old, '\n')
	}
	return WriteFileAtomic(h.File, append(old, line+"\n"...), 0o600)
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
	// Ended says what became of a command halab gave up on (its timeout,
	// an interrupt): ended on the node, or maybe still running there.
	Ended string
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
		ended := ""
		if e.Ended != "" {
			ended = "; " + e.Ended
		}
		return fmt.Sprintf("node %s (%s): `%s`: %v%s; %s", e.Node, e.Addr, e.Command, e.Err, ended, e.hint())
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
		return "the node did not finish it in time: check it with `halab status` (is it paused, overloaded, or waiting on the network?), or allow more time for each command"
	case errors.As(e.Err, new(*LostError)):
		return "check it with `halab status` (is it paused, frozen or cut off?), then re-run; or allow more time to connect"
	case errors.As(e.Err, &te):
		return "the node accepts connections but does not answer SSH: check it with `halab status` (is it paused or overloaded?), or allow more time to connect"
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
	auth, err := keyAuth(ep.IdentityFile)
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

// keyAuth is the identity file's key as SSH user authentication. An RSA
// key (what Vagrant inserts) is offered with the signature algorithm the
// server's server-sig-algs asks for (rsa-sha2-256/512), and then once more
// as ssh-rsa (SHA-1): OpenSSH older than 7.2 (Ubuntu 12.04's 5.9) verifies
// only that one and sends no server-sig-algs, so it gets ssh-rsa at once;
// a server that lists rsa-sha2 but accepts only ssh-rsa
// (PubkeyAcceptedAlgorithms ssh-rsa) gets it on the second try.
func keyAuth(file string) (goph.Auth, error) {
	signer, err := goph.GetSigner(file, "")
	if err != nil {
		return nil, err
	}
	signers := []ssh.Signer{signer}
	if as, ok := signer.(ssh.AlgorithmSigner); ok && signer.PublicKey().Type() == ssh.KeyAlgoRSA {
		if sha1, err := ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSA}); err == nil {
			signers = append(signers, sha1)
		}
	}
	return goph.Auth{ssh.PublicKeys(signers...)}, nil
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
	return n.run(ctx, argv, false, stdin)
}

// Sudo runs argv as root (the vagrant user has passwordless sudo).
func (n *Node) Sudo(ctx context.Context, stdin io.Reader, argv ...string) (Result, error) {
	return n.run(ctx, argv, true, stdin)
}

// SudoScript runs a shell script as root, sent on stdin so that nothing in
// it (secrets included) appears on a command line on the node. args become
// $1.. of the script.
func (n *Node) SudoScript(ctx context.Context, script string, args ...string) (Result, error) {
	return n.run(ctx, shStdinCmd.Argv(args...), true, strings.NewReader(script))
}

// RunMarker is the environment variable that marks every process of one
// remote command: halab runs each command with RunMarker=<id of the run>,
// inside sudo too (which resets the environment), and its processes
// inherit it. When halab gives up on the command (its timeout, an
// interrupt), it ends every process on the node that holds the marker:
// closing the SSH session, or signalling it, does not reach a command
// that runs as root under sudo. The id is not a secret.
const RunMarker = "HALAB_RUN"

// runMarkerWords are the `env HALAB_RUN=ID ` words wireCommand puts before a
// command (and again inside sudo).
var runMarkerWords = regexp.MustCompile(`(^|\s)env ` + RunMarker + `=[0-9a-f]+ `)

// WithoutRunMarkers is a command as it went over the wire, less the run
// markers: what the node is asked to run. For test servers that stand in
// for a node.
func WithoutRunMarkers(command string) string {
	return strings.TrimLeft(runMarkerWords.ReplaceAllString(command, "$1"), " ")
}

// EndRunTimeout bounds ending a command on the node after halab gave up
// on it.
const EndRunTimeout = 10 * time.Second

//go:embed scripts/end-run.sh
var endRunScript string

func newRunID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// wireCommand is the command line the node's shell gets for argv: every
// word quoted, the run's marker in the environment, as root through
// sudo when sudo is set.
func wireCommand(id string, argv []string, sudo bool) string {
	mark := envCmd.Argv(RunMarker + "=" + id)
	w := append([]string(nil), mark...)
	if sudo {
		w = append(append(w, sudoCmd.Argv()...), mark...)
	}
	return QuoteArgs(append(w, argv...))
}

func (n *Node) run(ctx context.Context, argv []string, sudo bool, stdin io.Reader) (Result, error) {
	shown := argv
	if sudo {
		shown = sudoCmd.Argv(argv...)
	}
	cmd := QuoteArgs(shown)
	if n.CommandTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, n.CommandTimeout, &TimeoutError{After: n.CommandTimeout, Command: true})
		defer cancel()
	}
	id := newRunID()
	var stdout, stderr lockedBuffer
	sess, err := n.start(ctx, wireCommand(id, argv, sudo), stdin, &stdout, &stderr)
	if err != nil {
		return Result{Node: n.Name, Command: cmd, ExitCode: -1}, &ConnError{Node: n.Name, Addr: n.Endpoint.Addr(), Command: cmd, Err: err}
	}
	defer sess.Close()
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// The session's end reaches neither sudo's child nor what it
		// started: end them on the node, by the marker.
		sess.Close()
		ended := n.endRun(ctx, id)
		return Result{Node: n.Name, Command: cmd, Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: -1},
			&ConnError{Node: n.Name, Addr: n.Endpoint.Addr(), Command: cmd, Err: context.Cause(ctx), Ended: ended}
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

// start opens a session and starts wire in it, unless ctx ends first (a
// node that stopped answering holds the session's opening): the error is
// then ctx's cause, else the transport's. A start under way when ctx ends
// gets a moment to finish, so that the caller can end what it started.
func (n *Node) start(ctx context.Context, wire string, stdin io.Reader, stdout, stderr io.Writer) (*ssh.Session, error) {
	type opened struct {
		s   *ssh.Session
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		s, err := n.Client.NewSession()
		if err == nil {
			s.Stdout, s.Stderr = stdout, stderr
			if stdin != nil {
				s.Stdin = stdin
			}
			if err = s.Start(wire); err != nil {
				s.Close()
			}
		}
		ch <- opened{s, err}
	}()
	select {
	case o := <-ch:
		if o.err != nil {
			return nil, n.why(o.err)
		}
		return o.s, nil
	case <-ctx.Done():
		select {
		case o := <-ch:
			if o.err == nil {
				return o.s, nil
			}
		case <-time.After(2 * time.Second):
			go func() {
				if o := <-ch; o.err == nil {
					o.s.Close()
				}
			}()
		}
		return nil, context.Cause(ctx)
	}
}

// errInterruptedAgain ends the ending of a command on a second interrupt.
var errInterruptedAgain = errors.New("interrupted again")

// endRunCommand runs end-run.sh twice in one session: as the login user,
// who may read the environment of (and signal) the processes it runs, and
// then as root through sudo. Root alone is not enough: reading another
// user's /proc/PID/environ takes CAP_SYS_PTRACE, which a hardened node
// does not give its root. The exit status is the first failure's.
func endRunCommand(id string) string {
	sh := QuoteArgs(shInline.Argv(endRunScript, "end-run", id))
	asRoot := QuoteArgs(sudoCmd.Argv(shInline.Argv(endRunScript, "end-run", id)...))
	return sh + "; a=$?; " + asRoot + "; b=$?; [ $a -eq 0 ] || exit $a; exit $b"
}

// endRun ends, on the node, the command marked id that halab gave up on,
// in a session of its own bounded by EndRunTimeout and the hard stop, and
// says what became of it.
func (n *Node) endRun(ctx context.Context, id string) string {
	if err := n.Lost(); err != nil {
		return "it may still run on the node: halab could not end it (" + err.Error() + ")"
	}
	select {
	case <-HardStop(ctx):
		return "it may still run on the node: halab did not end it (" + errInterruptedAgain.Error() + ")"
	default:
	}
	kctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	kctx, cancelT := context.WithTimeoutCause(kctx, EndRunTimeout, fmt.Errorf("no answer from the node within %s", EndRunTimeout))
	defer cancelT()
	go func() {
		select {
		case <-HardStop(ctx):
			cancel(errInterruptedAgain)
		case <-kctx.Done():
		}
	}()
	var stdout, stderr lockedBuffer
	sess, err := n.start(kctx, endRunCommand(id), nil, &stdout, &stderr)
	if err == nil {
		done := make(chan error, 1)
		go func() { done <- sess.Wait() }()
		select {
		case err = <-done:
		case <-kctx.Done():
			err = context.Cause(kctx)
		}
		sess.Close()
	}
	out := strings.TrimSpace(string(stdout.Bytes()))
	found := 0
	for _, l := range strings.Split(out, "\n") {
		if c, ok := strings.CutPrefix(l, "ended "); ok {
			if k, err := strconv.Atoi(c); err == nil {
				found += k
			}
		}
	}
	var ee *ssh.ExitError
	switch {
	case err == nil && found == 0:
		return "nothing of it was left running on the node"
	case err == nil && found == 1:
		return "halab ended it on the node (1 process)"
	case err == nil:
		return fmt.Sprintf("halab ended it on the node (%d processes)", found)
	case errors.As(err, &ee) && ee.ExitStatus() == 1:
		var left []string
		for _, l := range strings.Split(out, "\n") {
			if p, ok := strings.CutPrefix(l, "left "); ok {
				left = append(left, p)
			}
		}
		return "halab could not end all of it on the node; still there after KILL: " + strings.Join(left, "; ")
	}
	msg := strings.TrimSpace(string(stderr.Bytes()))
	if msg == "" {
		msg = n.why(err).Error()
	}
	return "it may still run on the node: halab could not end it (" + msg + ")"
}

// lockedBuffer is a bytes.Buffer that a session's output goroutines may
// write while the caller, having given up on the command, reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}

// why replaces a broken connection's bare error by the reason halab
// closed it, when it did.
func (n *Node) why(err error) error {
	if lost := n.Lost(); lost != nil {
		return lost
	}
	return err
}
