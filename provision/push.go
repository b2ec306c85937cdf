// Package provision turns a lab into the article's cluster over SSH and
// SFTP: idempotent file pushes, quoted remote commands and the steps per
// stack, each reporting changed or ok.
package provision

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"github.com/schollz/progressbar/v3"

	"halab/lab"
)

// File is one file to put on a node.
type File struct {
	Path  string // absolute path on the node
	Data  []byte // content, or
	Local string // a local file to stream (large files: the JDK)
	Mode  os.FileMode
	Owner string // user name on the node; "" = root
	Group string // "" = the owner's primary group
}

func (f File) owner() string {
	if f.Owner == "" {
		return "root"
	}
	return f.Owner
}

// remoteState is what a file on the node is now.
type remoteState struct {
	exists     bool
	mode       os.FileMode
	owner, grp string
	sha256     string
}

var (
	statScript = Script("stat")
	idsScript  = Script("ids")
)

func statRemote(ctx context.Context, n lab.Runner, paths []string) ([]remoteState, error) {
	res, err := lab.Check(n.SudoScript(ctx, statScript, paths...))
	if err != nil {
		return nil, err
	}
	return parseStat(n.NodeName(), res.Stdout, len(paths))
}

// parseStat reads stat.sh's lines, one per file asked about.
func parseStat(node string, out0 []byte, want int) ([]remoteState, error) {
	var out []remoteState
	sc := bufio.NewScanner(bytes.NewReader(out0))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			return nil, fmt.Errorf("node %s: unexpected stat output %q", node, sc.Text())
		}
		if f[0] == "-" {
			out = append(out, remoteState{})
			continue
		}
		parts := strings.SplitN(f[0], ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("node %s: unexpected stat output %q (want MODE:OWNER:GROUP SHA256)", node, sc.Text())
		}
		m, err := strconv.ParseUint(parts[0], 8, 32)
		if err != nil {
			return nil, fmt.Errorf("node %s: unexpected stat output %q: mode %q is not octal", node, sc.Text(), parts[0])
		}
		out = append(out, remoteState{exists: true, mode: os.FileMode(m), owner: parts[1], grp: parts[2], sha256: f[1]})
	}
	if len(out) != want {
		return nil, fmt.Errorf("node %s: stat returned %d lines for %d files", node, len(out), want)
	}
	return out, nil
}

// Pusher writes files to one node over a root SFTP session.
type Pusher struct {
	Node lab.Runner
	// Bar shows files of at least ProgressMin bytes (nil: no bar).
	Bar         *Bar
	ProgressMin int64
	sftp        *sftp.Client
	ids         map[string][2]int
}

func (p *Pusher) Close() {
	if p.sftp != nil {
		p.sftp.Close()
	}
}

// PushFiles pushes files to a node in one SFTP session and returns the
// base names of those it changed.
func PushFiles(ctx context.Context, n lab.Runner, files []File) ([]string, error) {
	pusher := &Pusher{Node: n}
	defer pusher.Close()
	ch, err := pusher.Push(ctx, files)
	if err != nil {
		return nil, err
	}
	var names []string
	for i, c := range ch {
		if c {
			names = append(names, path.Base(files[i].Path))
		}
	}
	return names, nil
}

// Push makes each file on the node match: content by sha256, mode, owner.
// A file already right is not touched. It returns which files changed.
func (p *Pusher) Push(ctx context.Context, files []File) ([]bool, error) {
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.Path
	}
	states, err := statRemote(ctx, p.Node, paths)
	if err != nil {
		return nil, err
	}
	changed := make([]bool, len(files))
	for i, f := range files {
		want, err := localSHA256(f)
		if err != nil {
			return changed, err
		}
		st := states[i]
		group := f.Group
		if group == "" {
			group, err = p.primaryGroup(ctx, f.owner())
			if err != nil {
				return changed, err
			}
		}
		sameContent := st.exists && st.sha256 == want
		sameMeta := st.exists && st.mode == f.Mode.Perm() && st.owner == f.owner() && st.grp == group
		if sameContent && sameMeta {
			continue
		}
		if err := p.ensureSFTP(ctx); err != nil {
			return changed, err
		}
		uid, gid, err := p.ids2(ctx, f.owner(), group)
		if err != nil {
			return changed, err
		}
		if sameContent {
			if err := p.sftp.Chmod(f.Path, f.Mode.Perm()); err != nil {
				return changed, p.fileErr(f, "chmod", err)
			}
			if err := p.sftp.Chown(f.Path, uid, gid); err != nil {
				return changed, p.fileErr(f, "chown", err)
			}
		} else if err := p.write(ctx, f, uid, gid); err != nil {
			return changed, err
		}
		changed[i] = true
	}
	return changed, nil
}

func (p *Pusher) fileErr(f File, op string, err error) error {
	if lost := p.Node.Lost(); lost != nil {
		return fmt.Errorf("node %s: %s %s: %w; check it with `halab status` (is it paused, frozen or cut off?), then re-run", p.Node.NodeName(), op, f.Path, lost)
	}
	return fmt.Errorf("node %s: %s %s: %w", p.Node.NodeName(), op, f.Path, err)
}

// write streams the file to a temporary name beside the target, sets mode
// and owner before any content is visible under the real name, and renames:
// an interrupted push never leaves a partial file where a real one was.
func (p *Pusher) write(ctx context.Context, f File, uid, gid int) (err error) {
	dir := path.Dir(f.Path)
	if err := p.sftp.MkdirAll(dir); err != nil {
		return p.fileErr(f, "mkdir", err)
	}
	prefix := "." + path.Base(f.Path) + ".halab-"
	p.removeStale(dir, prefix)
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return err
	}
	tmp := path.Join(dir, prefix+hex.EncodeToString(suffix[:]))
	w, err := p.sftp.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_TRUNC)
	if err != nil {
		return p.fileErr(f, "create", err)
	}
	defer func() {
		if err != nil {
			w.Close()
			err = fmt.Errorf("%w; %s", err, p.removeTemp(tmp))
		}
	}()
	// Mode first: a secret is never readable by others, not even half-written.
	if err := w.Chmod(f.Mode.Perm()); err != nil {
		return p.fileErr(f, "chmod", err)
	}
	if err := w.Chown(uid, gid); err != nil {
		return p.fileErr(f, "chown", err)
	}
	var src io.Reader
	var size int64
	if f.Local != "" {
		lf, err := os.Open(f.Local)
		if err != nil {
			return err
		}
		defer lf.Close()
		st, err := lf.Stat()
		if err != nil {
			return err
		}
		src, size = lf, st.Size()
	} else {
		src, size = bytes.NewReader(f.Data), int64(len(f.Data))
	}
	if p.Bar != nil && size >= p.ProgressMin {
		src = io.TeeReader(src, p.Bar.Add(size))
	}
	src = ctxReader{ctx, src}
	if _, err := w.ReadFromWithConcurrency(src, 64); err != nil {
		return p.fileErr(f, "write", p.describeWriteErr(ctx, err, dir, size))
	}
	if err := w.Close(); err != nil {
		return p.fileErr(f, "close", p.describeWriteErr(ctx, err, dir, size))
	}
	if err := p.sftp.PosixRename(tmp, f.Path); err != nil {
		return p.fileErr(f, "rename", err)
	}
	return nil
}

// removeTemp deletes a push's temporary file after a failure and says what
// became of it. After an interrupt the SFTP session is already closed, so
// it falls back to `rm` over SSH on a context of its own.
func (p *Pusher) removeTemp(tmp string) string {
	if p.sftp.Remove(tmp) == nil {
		return "the partial file " + tmp + " was removed"
	}
	if p.Node.Lost() != nil {
		return "the partial file " + tmp + " could not be removed now; the next push to that node removes it"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := lab.Check(p.Node.Sudo(ctx, nil, rmForce.Argv(tmp)...)); err != nil {
		return fmt.Sprintf("the partial file %s could not be removed (%v); the next push to that node removes it", tmp, err)
	}
	return "the partial file " + tmp + " was removed"
}

// removeStale deletes temporary files that an earlier run killed outright
// (SIGKILL, power loss) left beside the target.
func (p *Pusher) removeStale(dir, prefix string) {
	entries, err := p.sftp.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			_ = p.sftp.Remove(path.Join(dir, e.Name()))
		}
	}
}

// describeWriteErr turns SFTP's generic failure into its likely cause: it
// asks the node how much room is left where the file goes.
func (p *Pusher) describeWriteErr(ctx context.Context, err error, dir string, size int64) error {
	var se *sftp.StatusError
	if !errors.As(err, &se) || se.FxCode() != sftp.ErrSSHFxFailure {
		return err
	}
	res, dfErr := lab.Check(p.Node.Run(ctx, nil, dfPortable.Argv(dir)...))
	if dfErr == nil {
		if f := strings.Fields(lastLine(string(res.Stdout))); len(f) >= 6 {
			if avail, perr := strconv.ParseInt(f[3], 10, 64); perr == nil && avail*1024 < size {
				return fmt.Errorf("%w: the node's disk is full: %s (mounted on %s) has %d KiB free, the file needs %d KiB; free space on the node or give it a bigger disk, then re-run", err, dir, f[5], avail, (size+1023)/1024)
			}
		}
	}
	return fmt.Errorf("%w (is the node's disk full? check `df -h %s` on the node)", err, dir)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func (p *Pusher) ensureSFTP(ctx context.Context) error {
	if p.sftp != nil {
		return nil
	}
	c, err := p.Node.SFTP(ctx)
	if err != nil {
		return err
	}
	p.sftp = c
	return nil
}

func (p *Pusher) primaryGroup(ctx context.Context, user string) (string, error) {
	if user == "root" {
		return "root", nil
	}
	res, err := lab.Check(p.Node.Run(ctx, nil, idGroupName.Argv(user)...))
	if err != nil {
		return "", fmt.Errorf("node %s: user %s: %w", p.Node.NodeName(), user, err)
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

func (p *Pusher) ids2(ctx context.Context, user, group string) (int, int, error) {
	if p.ids == nil {
		p.ids = map[string][2]int{"root:root": {0, 0}}
	}
	key := user + ":" + group
	if v, ok := p.ids[key]; ok {
		return v[0], v[1], nil
	}
	res, err := lab.Check(p.Node.Run(ctx, nil, shInline.Argv(idsScript, "sh", user, group)...))
	if err != nil {
		return 0, 0, fmt.Errorf("node %s: looking up %s: %w", p.Node.NodeName(), key, err)
	}
	f := strings.Fields(string(res.Stdout))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("node %s: no user %s or group %s", p.Node.NodeName(), user, group)
	}
	uid, err1 := strconv.Atoi(f[0])
	gid, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("node %s: looking up %s: not a uid and gid: %q", p.Node.NodeName(), key, res.Stdout)
	}
	p.ids[key] = [2]int{uid, gid}
	return uid, gid, nil
}

func localSHA256(f File) (string, error) {
	h := sha256.New()
	if f.Local == "" {
		h.Write(f.Data)
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	lf, err := os.Open(f.Local)
	if err != nil {
		return "", err
	}
	defer lf.Close()
	if _, err := io.Copy(h, lf); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Bar is one progress bar shared by the parallel uploads of a step, so
// that two nodes' pushes do not draw over each other.
type Bar struct {
	Out  io.Writer
	Desc string
	mu   sync.Mutex
	bar  *progressbar.ProgressBar
	max  int64
}

// Add grows the bar by size bytes and returns the writer that fills them.
func (b *Bar) Add(size int64) io.Writer {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.max += size
	if b.bar == nil {
		b.bar = progressbar.NewOptions64(b.max,
			progressbar.OptionSetWriter(b.Out),
			progressbar.OptionSetDescription("    "+b.Desc),
			progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(500*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.Out) }),
		)
	} else {
		b.bar.ChangeMax64(b.max)
	}
	return b.bar
}
