// Package labtest holds a test double of a lab node: FakeNode, a
// lab.Runner whose commands are answered by handlers the test programs and
// whose files live in memory behind a real SFTP server (pkg/sftp's request
// server over an in-memory pipe). Every command is recorded; a command no
// handler answers fails the test.
package labtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"halab/lab"
)

// Call is one command a FakeNode was asked to run.
type Call struct {
	Node string
	// Sudo: it ran as root (Sudo or SudoScript).
	Sudo bool
	// Script names the script that ran (as given to NewFakeNode): the one
	// sent on stdin by SudoScript, or SCRIPT of `sh -c SCRIPT NAME ARGS`.
	// "" for a plain command.
	Script string
	// Args are the script's arguments, or the plain command's argv.
	Args []string
	// Argv is the command line the node would see (for SudoScript, the
	// `sudo -n -- sh -s -- ARGS` that reads the script on stdin).
	Argv  []string
	Stdin []byte
}

// String is the call in a form for messages: "sudo script:stat /a /b",
// "run id -gn -- vagrant".
func (c Call) String() string {
	how := "run"
	if c.Sudo {
		how = "sudo"
	}
	what := strings.Join(c.Args, " ")
	if c.Script != "" {
		what = strings.TrimSpace("script:" + c.Script + " " + what)
	}
	return how + " " + what
}

// Handler answers a call: its result, or an error for a transport that
// failed (a *lab.ConnError, as a real node returns).
type Handler func(c Call) (lab.Result, error)

type handler struct {
	match func(Call) bool
	h     Handler
}

// OK is a command that exited 0 printing stdout.
func OK(stdout string) lab.Result { return lab.Result{Stdout: []byte(stdout)} }

// Exit is a command that exited code printing stderr.
func Exit(code int, stderr string) lab.Result {
	return lab.Result{ExitCode: code, Stderr: []byte(stderr)}
}

// User is an account on the fake node.
type User struct {
	UID   int
	Group string // primary group
}

// FakeNode is a lab.Runner for tests. Create it with NewFakeNode.
type FakeNode struct {
	t    testing.TB
	Name string
	// FS is the node's file system, as SFTP and the built-in stat answer it.
	FS *FS

	mu       sync.Mutex
	scripts  map[string]string // text -> name
	handlers []handler
	calls    []Call
	users    map[string]User
	groups   map[string]int
	sftpErr  error
	lost     error
	closers  []io.Closer
}

var _ lab.Runner = (*FakeNode)(nil)

// NewFakeNode makes a node named name. scripts maps the names of the
// scripts the code under test sends (e.g. "stat") to their text, so that
// calls are recorded by name and handlers registered by name; a script not
// in it fails the test when it runs.
//
// The node knows the users root (0), vagrant (1000) and hacluster (110, group
// haclient 115), and answers on its own, from FS and those users: the
// "stat" script (per path "MODE:OWNER:GROUP SHA256" or "- -"), the "ids"
// script run as `sh -c SCRIPT sh USER GROUP`, and `id -gn -- USER`. Later
// handlers override these.
func NewFakeNode(t testing.TB, name string, scripts map[string]string) *FakeNode {
	f := &FakeNode{
		t: t, Name: name, FS: NewFS(),
		scripts: map[string]string{},
		users:   map[string]User{},
		groups:  map[string]int{},
	}
	for n, text := range scripts {
		f.scripts[text] = n
	}
	f.AddUser("root", 0, "root", 0)
	f.AddUser("vagrant", 1000, "vagrant", 1000)
	f.AddUser("hacluster", 110, "haclient", 115)
	if _, ok := scripts["stat"]; ok {
		f.OnScript("stat", f.stat)
	}
	if _, ok := scripts["ids"]; ok {
		f.OnScript("ids", f.ids)
	}
	f.On(func(c Call) bool {
		return c.Script == "" && len(c.Args) == 4 && c.Args[0] == "id" && c.Args[1] == "-gn" && c.Args[2] == "--"
	}, f.primaryGroup)
	t.Cleanup(f.closeAll)
	return f
}

// AddUser adds (or replaces) a user and its primary group.
func (f *FakeNode) AddUser(name string, uid int, group string, gid int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[name] = User{UID: uid, Group: group}
	f.groups[group] = gid
}

// UserName is the name of uid, or the number when there is none.
func (f *FakeNode) UserName(uid int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for n, u := range f.users {
		if u.UID == uid {
			return n
		}
	}
	return strconv.Itoa(uid)
}

// GroupName is the name of gid, or the number when there is none.
func (f *FakeNode) GroupName(gid int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for n, g := range f.groups {
		if g == gid {
			return n
		}
	}
	return strconv.Itoa(gid)
}

// LookupUser finds a user.
func (f *FakeNode) LookupUser(name string) (User, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[name]
	return u, ok
}

// On answers the calls match accepts with h. The handler registered last
// among those that match answers.
func (f *FakeNode) On(match func(Call) bool, h Handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers = append(f.handlers, handler{match, h})
}

// OnScript answers the script registered as name.
func (f *FakeNode) OnScript(name string, h Handler) {
	f.On(func(c Call) bool { return c.Script == name }, h)
}

// OnCommand answers the plain commands whose argv[0] is argv0.
func (f *FakeNode) OnCommand(argv0 string, h Handler) {
	f.On(func(c Call) bool { return c.Script == "" && len(c.Args) > 0 && c.Args[0] == argv0 }, h)
}

// Calls returns the calls so far, in order.
func (f *FakeNode) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// ScriptCalls returns the calls of the script registered as name.
func (f *FakeNode) ScriptCalls(name string) []Call {
	var out []Call
	for _, c := range f.Calls() {
		if c.Script == name {
			out = append(out, c)
		}
	}
	return out
}

// ResetCalls forgets the calls (and the file system's operations) so far.
func (f *FakeNode) ResetCalls() {
	f.mu.Lock()
	f.calls = nil
	f.mu.Unlock()
	f.FS.ResetOps()
}

// FailSFTP makes SFTP fail with err (nil: work again).
func (f *FakeNode) FailSFTP(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sftpErr = err
}

// SetLost sets what Lost reports.
func (f *FakeNode) SetLost(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lost = err
}

// ConnError is the transport failure a real node reports for a call, for
// handlers that inject one.
func (f *FakeNode) ConnError(c Call, err error) *lab.ConnError {
	return &lab.ConnError{Node: f.Name, Addr: "fake:22", Command: lab.QuoteArgs(c.Argv), Err: err}
}

// NodeName is the node's name.
func (f *FakeNode) NodeName() string { return f.Name }

// Lost is nil unless SetLost said otherwise.
func (f *FakeNode) Lost() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lost
}

// Run runs argv as the login user.
func (f *FakeNode) Run(ctx context.Context, stdin io.Reader, argv ...string) (lab.Result, error) {
	return f.call(ctx, false, "", argv, argv, stdin)
}

// Sudo runs argv as root.
func (f *FakeNode) Sudo(ctx context.Context, stdin io.Reader, argv ...string) (lab.Result, error) {
	return f.call(ctx, true, "", argv, append([]string{"sudo", "-n", "--"}, argv...), stdin)
}

// SudoScript runs a script as root, sent on stdin.
func (f *FakeNode) SudoScript(ctx context.Context, script string, args ...string) (lab.Result, error) {
	argv := append([]string{"sudo", "-n", "--", "sh", "-s", "--"}, args...)
	return f.call(ctx, true, script, args, argv, strings.NewReader(script))
}

func (f *FakeNode) call(ctx context.Context, sudo bool, script string, args, argv []string, stdin io.Reader) (lab.Result, error) {
	c := Call{Node: f.Name, Sudo: sudo, Args: append([]string(nil), args...), Argv: append([]string(nil), argv...)}
	if stdin != nil {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return lab.Result{ExitCode: -1}, f.ConnError(c, err)
		}
		c.Stdin = b
	}
	f.mu.Lock()
	if script == "" && len(args) >= 4 && args[0] == "sh" && args[1] == "-c" {
		// sh -c SCRIPT $0 ARGS...
		if name, ok := f.scripts[args[2]]; ok {
			c.Script, c.Args = name, append([]string(nil), args[4:]...)
		}
	} else if script != "" {
		name, ok := f.scripts[script]
		if !ok {
			name = "unknown script " + strconv.Quote(firstLines(script, 3))
		}
		c.Script = name
		if !ok {
			f.calls = append(f.calls, c)
			f.mu.Unlock()
			f.t.Errorf("node %s: a script no test registered ran: %s", f.Name, c)
			return lab.Result{Node: f.Name, Command: lab.QuoteArgs(argv), ExitCode: 127, Stderr: []byte("labtest: unknown script")}, nil
		}
	}
	f.calls = append(f.calls, c)
	var h Handler
	for i := len(f.handlers) - 1; i >= 0; i-- {
		if f.handlers[i].match(c) {
			h = f.handlers[i].h
			break
		}
	}
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return lab.Result{ExitCode: -1}, f.ConnError(c, context.Cause(ctx))
	}
	if h == nil {
		f.t.Errorf("node %s: no handler for %s", f.Name, c)
		return lab.Result{Node: f.Name, Command: lab.QuoteArgs(argv), ExitCode: 127, Stderr: []byte("labtest: no handler for " + c.String())}, nil
	}
	res, err := h(c)
	if res.Node == "" {
		res.Node = f.Name
	}
	if res.Command == "" {
		res.Command = lab.QuoteArgs(argv)
	}
	return res, err
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// stat answers stat.sh from FS: per path "MODE:OWNER:GROUP SHA256" for a
// regular file, else "- -".
func (f *FakeNode) stat(c Call) (lab.Result, error) {
	var b strings.Builder
	for _, p := range c.Args {
		e, ok := f.FS.Stat(p)
		if !ok || !e.Mode.IsRegular() {
			b.WriteString("- -\n")
			continue
		}
		sum := sha256.Sum256(e.Data)
		fmt.Fprintf(&b, "%o:%s:%s %s\n", e.Mode.Perm(), f.UserName(e.UID), f.GroupName(e.GID), hex.EncodeToString(sum[:]))
	}
	return OK(b.String()), nil
}

// ids answers ids.sh (`id -u -- USER && getent group -- GROUP | cut ...`).
func (f *FakeNode) ids(c Call) (lab.Result, error) {
	if len(c.Args) != 2 {
		return Exit(2, "ids.sh: want USER GROUP"), nil
	}
	u, ok := f.LookupUser(c.Args[0])
	if !ok {
		return Exit(1, fmt.Sprintf("id: '%s': no such user", c.Args[0])), nil
	}
	out := strconv.Itoa(u.UID) + "\n"
	f.mu.Lock()
	gid, ok := f.groups[c.Args[1]]
	f.mu.Unlock()
	if ok {
		out += strconv.Itoa(gid) + "\n"
	}
	// The pipeline's status is cut's: 0 even when getent found nothing.
	return OK(out), nil
}

func (f *FakeNode) primaryGroup(c Call) (lab.Result, error) {
	u, ok := f.LookupUser(c.Args[3])
	if !ok {
		return Exit(1, fmt.Sprintf("id: '%s': no such user", c.Args[3])), nil
	}
	return OK(u.Group + "\n"), nil
}

// SFTP opens a session of the node's in-memory SFTP server. It ends with
// ctx, or when the test ends.
func (f *FakeNode) SFTP(ctx context.Context) (*sftp.Client, error) {
	f.mu.Lock()
	err := f.sftpErr
	f.mu.Unlock()
	if err != nil {
		return nil, &lab.ConnError{Node: f.Name, Addr: "fake:22", Command: "sftp", Err: err}
	}
	cli, srv := net.Pipe()
	h := &sftpHandlers{fs: f.FS}
	rs := sftp.NewRequestServer(srv, sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h})
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := rs.Serve(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
			f.t.Logf("node %s: sftp server: %v", f.Name, err)
		}
		rs.Close()
	}()
	c, err := sftp.NewClientPipe(cli, cli, sftp.UseConcurrentWrites(true), sftp.MaxConcurrentRequestsPerFile(64))
	if err != nil {
		cli.Close()
		<-served
		return nil, err
	}
	stop := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			c.Close()
		case <-stop:
		}
	}()
	f.mu.Lock()
	f.closers = append(f.closers, closerFunc(func() error {
		close(stop)
		c.Close()
		cli.Close()
		<-served
		return nil
	}))
	f.mu.Unlock()
	return c, nil
}

type closerFunc func() error

func (c closerFunc) Close() error { return c() }

func (f *FakeNode) closeAll() {
	f.mu.Lock()
	cs := f.closers
	f.closers = nil
	f.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// File is one entry of FS.
type File struct {
	Data     []byte
	Mode     os.FileMode // with os.ModeDir or os.ModeSymlink for those
	UID, GID int
	Link     string // a symlink's target
}

// FS is an in-memory file system of absolute, cleaned paths. "/" always
// exists.
type FS struct {
	mu    sync.Mutex
	files map[string]*File
	ops   []string
}

// NewFS is an FS holding only "/".
func NewFS() *FS {
	return &FS{files: map[string]*File{"/": {Mode: os.ModeDir | 0o755}}}
}

func clean(p string) string { return path.Clean("/" + p) }

// MkdirAll makes a directory and its parents, owned by root, 0755.
func (fs *FS) MkdirAll(p string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.mkdirAll(clean(p))
}

func (fs *FS) mkdirAll(p string) {
	if _, ok := fs.files[p]; ok {
		return
	}
	fs.mkdirAll(path.Dir(p))
	fs.files[p] = &File{Mode: os.ModeDir | 0o755}
}

// WriteFile puts a regular file, making its parents.
func (fs *FS) WriteFile(p string, data []byte, mode os.FileMode, uid, gid int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p = clean(p)
	fs.mkdirAll(path.Dir(p))
	fs.files[p] = &File{Data: append([]byte(nil), data...), Mode: mode.Perm(), UID: uid, GID: gid}
}

// Symlink makes link point at target.
func (fs *FS) Symlink(target, link string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	link = clean(link)
	fs.mkdirAll(path.Dir(link))
	fs.files[link] = &File{Mode: os.ModeSymlink | 0o777, Link: target}
}

// Readlink is a symlink's target.
func (fs *FS) Readlink(p string) (string, bool) {
	e, ok := fs.Lstat(p)
	if !ok || e.Mode&os.ModeSymlink == 0 {
		return "", false
	}
	return e.Link, true
}

// Chmod sets an entry's permission bits.
func (fs *FS) Chmod(p string, mode os.FileMode) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	e, ok := fs.files[clean(p)]
	if ok {
		e.Mode = e.Mode&^os.ModePerm | mode.Perm()
	}
	return ok
}

// Chown sets an entry's owner.
func (fs *FS) Chown(p string, uid, gid int) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	e, ok := fs.files[clean(p)]
	if ok {
		e.UID, e.GID = uid, gid
	}
	return ok
}

// Remove deletes an entry (a directory with everything under it).
func (fs *FS) Remove(p string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p = clean(p)
	for q := range fs.files {
		if q == p || strings.HasPrefix(q, p+"/") {
			delete(fs.files, q)
		}
	}
}

// Lstat is a copy of the entry at p.
func (fs *FS) Lstat(p string) (File, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	e, ok := fs.files[clean(p)]
	if !ok {
		return File{}, false
	}
	c := *e
	c.Data = append([]byte(nil), e.Data...)
	return c, true
}

// Stat is Lstat following symlinks.
func (fs *FS) Stat(p string) (File, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	e, _, ok := fs.resolve(clean(p))
	if !ok {
		return File{}, false
	}
	c := *e
	c.Data = append([]byte(nil), e.Data...)
	return c, true
}

// resolve follows the symlinks of every component of p.
func (fs *FS) resolve(p string) (*File, string, bool) {
	hops := 0
	cur := "/"
	rest := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		if name == "" {
			continue
		}
		next := path.Join(cur, name)
		e, ok := fs.files[next]
		if !ok {
			return nil, next, false
		}
		if e.Mode&os.ModeSymlink != 0 {
			if hops++; hops > 40 {
				return nil, next, false
			}
			t := e.Link
			if !path.IsAbs(t) {
				t = path.Join(cur, t)
			}
			rest = append(strings.Split(strings.TrimPrefix(clean(t), "/"), "/"), rest...)
			cur = "/"
			continue
		}
		cur = next
	}
	return fs.files[cur], cur, true
}

// ReadFile is a regular file's content.
func (fs *FS) ReadFile(p string) ([]byte, bool) {
	e, ok := fs.Stat(p)
	if !ok || !e.Mode.IsRegular() {
		return nil, false
	}
	return e.Data, true
}

// Paths lists every entry but "/", sorted.
func (fs *FS) Paths() []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []string
	for p := range fs.files {
		if p != "/" {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Snapshot copies every entry, for comparing before and after.
func (fs *FS) Snapshot() map[string]File {
	out := map[string]File{}
	for _, p := range fs.Paths() {
		e, _ := fs.Lstat(p)
		out[p] = e
	}
	return out
}

// Ops lists the SFTP operations that changed something, in order:
// "mkdir P", "create P", "setstat P mode=0600", "setstat P uid=0 gid=0",
// "rename A B", "remove P" (reads and listings are not listed).
func (fs *FS) Ops() []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]string(nil), fs.ops...)
}

// ResetOps forgets the operations so far.
func (fs *FS) ResetOps() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.ops = nil
}

func (fs *FS) op(format string, a ...any) { fs.ops = append(fs.ops, fmt.Sprintf(format, a...)) }

// sftpHandlers serve FS over pkg/sftp's request server, as root.
type sftpHandlers struct{ fs *FS }

func pathErr(op, p string, err error) error { return &os.PathError{Op: op, Path: p, Err: err} }

func (h *sftpHandlers) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	fs := h.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	e, _, ok := fs.resolve(r.Filepath)
	if !ok {
		return nil, pathErr("open", r.Filepath, syscall.ENOENT)
	}
	if !e.Mode.IsRegular() {
		return nil, pathErr("open", r.Filepath, syscall.EISDIR)
	}
	return bytes.NewReader(append([]byte(nil), e.Data...)), nil
}

func (h *sftpHandlers) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	fs := h.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fl := r.Pflags()
	p := r.Filepath
	e, ok := fs.files[p]
	switch {
	case ok && fl.Creat && fl.Excl:
		return nil, pathErr("open", p, syscall.EEXIST)
	case ok && !e.Mode.IsRegular():
		return nil, pathErr("open", p, syscall.EISDIR)
	case !ok && !fl.Creat:
		return nil, pathErr("open", p, syscall.ENOENT)
	case !ok:
		if d, dok := fs.files[path.Dir(p)]; !dok || !d.Mode.IsDir() {
			return nil, pathErr("open", p, syscall.ENOENT)
		}
		e = &File{Mode: 0o644}
		fs.files[p] = e
		fs.op("create %s", p)
	}
	if fl.Trunc && len(e.Data) > 0 {
		e.Data = nil
		fs.op("truncate %s", p)
	}
	return &memWriter{fs: fs, e: e}, nil
}

type memWriter struct {
	fs *FS
	e  *File
}

func (w *memWriter) WriteAt(b []byte, off int64) (int, error) {
	w.fs.mu.Lock()
	defer w.fs.mu.Unlock()
	if end := off + int64(len(b)); end > int64(len(w.e.Data)) {
		grown := make([]byte, end)
		copy(grown, w.e.Data)
		w.e.Data = grown
	}
	copy(w.e.Data[off:], b)
	return len(b), nil
}

func (h *sftpHandlers) Filecmd(r *sftp.Request) error {
	fs := h.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p := r.Filepath
	switch r.Method {
	case "Setstat":
		e, ok := fs.files[p]
		if !ok {
			return pathErr("setstat", p, syscall.ENOENT)
		}
		flags, attrs := r.AttrFlags(), r.Attributes()
		if flags.Permissions {
			e.Mode = e.Mode&^os.ModePerm | os.FileMode(attrs.Mode).Perm()
			fs.op("setstat %s mode=%04o", p, e.Mode.Perm())
		}
		if flags.UidGid {
			e.UID, e.GID = int(attrs.UID), int(attrs.GID)
			fs.op("setstat %s uid=%d gid=%d", p, e.UID, e.GID)
		}
		if flags.Size {
			size := int(attrs.Size)
			if size <= len(e.Data) {
				e.Data = e.Data[:size]
			} else {
				e.Data = append(e.Data, make([]byte, size-len(e.Data))...)
			}
			fs.op("setstat %s size=%d", p, size)
		}
		return nil
	case "Rename":
		if _, ok := fs.files[r.Target]; ok {
			return pathErr("rename", r.Target, syscall.EEXIST)
		}
		return fs.rename(p, r.Target)
	case "Remove":
		e, ok := fs.files[p]
		if !ok {
			return pathErr("remove", p, syscall.ENOENT)
		}
		if e.Mode.IsDir() {
			return pathErr("remove", p, syscall.EISDIR)
		}
		delete(fs.files, p)
		fs.op("remove %s", p)
		return nil
	case "Rmdir":
		e, ok := fs.files[p]
		if !ok {
			return pathErr("rmdir", p, syscall.ENOENT)
		}
		if !e.Mode.IsDir() {
			return pathErr("rmdir", p, syscall.ENOTDIR)
		}
		for q := range fs.files {
			if strings.HasPrefix(q, p+"/") {
				return pathErr("rmdir", p, syscall.ENOTEMPTY)
			}
		}
		delete(fs.files, p)
		fs.op("rmdir %s", p)
		return nil
	case "Mkdir":
		if _, ok := fs.files[p]; ok {
			return pathErr("mkdir", p, syscall.EEXIST)
		}
		if d, ok := fs.files[path.Dir(p)]; !ok || !d.Mode.IsDir() {
			return pathErr("mkdir", p, syscall.ENOENT)
		}
		fs.files[p] = &File{Mode: os.ModeDir | 0o755}
		fs.op("mkdir %s", p)
		return nil
	case "Symlink":
		// r.Filepath is the target, r.Target the link.
		if _, ok := fs.files[r.Target]; ok {
			return pathErr("symlink", r.Target, syscall.EEXIST)
		}
		fs.files[r.Target] = &File{Mode: os.ModeSymlink | 0o777, Link: p}
		fs.op("symlink %s -> %s", r.Target, p)
		return nil
	}
	return fmt.Errorf("labtest: sftp %s is not supported", r.Method)
}

// PosixRename replaces the target, as rename(2) does.
func (h *sftpHandlers) PosixRename(r *sftp.Request) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	return h.fs.rename(r.Filepath, r.Target)
}

func (fs *FS) rename(from, to string) error {
	e, ok := fs.files[from]
	if !ok {
		return pathErr("rename", from, syscall.ENOENT)
	}
	if d, ok := fs.files[path.Dir(to)]; !ok || !d.Mode.IsDir() {
		return pathErr("rename", to, syscall.ENOENT)
	}
	if t, ok := fs.files[to]; ok && t.Mode.IsDir() {
		return pathErr("rename", to, syscall.EISDIR)
	}
	if e.Mode.IsDir() {
		for q, c := range fs.files {
			if strings.HasPrefix(q, from+"/") {
				delete(fs.files, q)
				fs.files[to+strings.TrimPrefix(q, from)] = c
			}
		}
	}
	delete(fs.files, from)
	fs.files[to] = e
	fs.op("rename %s %s", from, to)
	return nil
}

func (h *sftpHandlers) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	fs := h.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p := r.Filepath
	switch r.Method {
	case "Stat":
		e, _, ok := fs.resolve(p)
		if !ok {
			return nil, pathErr("stat", p, syscall.ENOENT)
		}
		return lister{info(path.Base(p), e)}, nil
	case "List":
		e, rp, ok := fs.resolve(p)
		if !ok {
			return nil, pathErr("open", p, syscall.ENOENT)
		}
		if !e.Mode.IsDir() {
			return nil, pathErr("open", p, syscall.ENOTDIR)
		}
		var l lister
		for q, c := range fs.files {
			if q != "/" && path.Dir(q) == rp {
				l = append(l, info(path.Base(q), c))
			}
		}
		sort.Slice(l, func(i, j int) bool { return l[i].Name() < l[j].Name() })
		return l, nil
	}
	return nil, fmt.Errorf("labtest: sftp %s is not supported", r.Method)
}

// Lstat does not follow a final symlink.
func (h *sftpHandlers) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	e, ok := h.fs.files[r.Filepath]
	if !ok {
		return nil, pathErr("lstat", r.Filepath, syscall.ENOENT)
	}
	return lister{info(path.Base(r.Filepath), e)}, nil
}

type lister []os.FileInfo

func (l lister) ListAt(dst []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}

// fileInfo is an entry as SFTP reports it, owner included.
type fileInfo struct {
	name     string
	size     int64
	mode     os.FileMode
	uid, gid int
}

func info(name string, e *File) *fileInfo {
	return &fileInfo{name: name, size: int64(len(e.Data)), mode: e.Mode, uid: e.UID, gid: e.GID}
}

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return i.size }
func (i *fileInfo) Mode() os.FileMode  { return i.mode }
func (i *fileInfo) ModTime() time.Time { return time.Unix(0, 0) }
func (i *fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i *fileInfo) Sys() any           { return nil }
func (i *fileInfo) Uid() uint32        { return uint32(i.uid) }
func (i *fileInfo) Gid() uint32        { return uint32(i.gid) }
