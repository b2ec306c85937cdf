package labtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"halab/lab"
)

const statText = "#!/bin/sh\n# stat\n"
const idsText = "#!/bin/sh\n# ids\n"

func newNode(t testing.TB) *FakeNode {
	return NewFakeNode(t, "node1", map[string]string{"stat": statText, "ids": idsText})
}

// A push as provision's Pusher does it, over the real SFTP protocol: the
// file lands with its content, mode and owner, the temporary name is gone,
// and the built-in stat reports what SFTP wrote.
func TestSFTPWriteLikeAPush(t *testing.T) {
	f := newNode(t)
	ctx := context.Background()
	c, err := f.SFTP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.MkdirAll("/etc/ha.d"); err != nil {
		t.Fatal(err)
	}
	f.FS.WriteFile("/etc/ha.d/.authkeys.halab-stale", []byte("half"), 0o600, 0, 0)
	entries, err := c.ReadDir("/etc/ha.d")
	if err != nil || len(entries) != 1 {
		t.Fatalf("ReadDir: %v %v", entries, err)
	}
	if err := c.Remove("/etc/ha.d/" + entries[0].Name()); err != nil {
		t.Fatal(err)
	}
	tmp := "/etc/ha.d/.authkeys.halab-1"
	w, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Chmod(0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.Chown(1000, 1000); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 100000) // many concurrent packets
	if _, err := w.ReadFromWithConcurrency(bytes.NewReader(data), 64); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL); err == nil {
		t.Error("O_EXCL opened an existing file")
	}
	f.FS.WriteFile("/etc/ha.d/authkeys", []byte("old"), 0o644, 0, 0)
	if err := c.PosixRename(tmp, "/etc/ha.d/authkeys"); err != nil {
		t.Fatal(err)
	}
	st, err := c.Lstat("/etc/ha.d/authkeys")
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Size() != int64(len(data)) {
		t.Errorf("lstat: %v %d", st.Mode(), st.Size())
	}
	got, ok := f.FS.ReadFile("/etc/ha.d/authkeys")
	if !ok || !bytes.Equal(got, data) {
		t.Fatalf("content differs (%d bytes, want %d)", len(got), len(data))
	}
	if paths := f.FS.Paths(); !slices.Equal(paths, []string{"/etc", "/etc/ha.d", "/etc/ha.d/authkeys"}) {
		t.Errorf("paths %v", paths)
	}
	res, err := f.SudoScript(ctx, statText, "/etc/ha.d/authkeys", "/etc/ha.d/none", "/etc/ha.d")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	want := fmt.Sprintf("600:vagrant:vagrant %s\n- -\n- -\n", hex.EncodeToString(sum[:]))
	if string(res.Stdout) != want {
		t.Errorf("stat:\n%s\nwant\n%s", res.Stdout, want)
	}
	// The rename may not replace with the plain SFTP rename.
	f.FS.WriteFile("/a", nil, 0o644, 0, 0)
	f.FS.WriteFile("/b", nil, 0o644, 0, 0)
	if err := c.Rename("/a", "/b"); err == nil {
		t.Error("Rename replaced an existing file")
	}
	ops := strings.Join(f.FS.Ops(), "\n")
	for _, op := range []string{"mkdir /etc", "mkdir /etc/ha.d", "remove /etc/ha.d/.authkeys.halab-stale", "create " + tmp,
		"setstat " + tmp + " mode=0600", "setstat " + tmp + " uid=1000 gid=1000", "rename " + tmp + " /etc/ha.d/authkeys"} {
		if !strings.Contains(ops, op) {
			t.Errorf("ops lack %q:\n%s", op, ops)
		}
	}
}

func TestSFTPEndsWithContext(t *testing.T) {
	f := newNode(t)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := f.SFTP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for range 100 {
		if _, err = c.Stat("/"); err != nil {
			break
		}
	}
	if err == nil {
		t.Error("the session outlived its context")
	}
	f.FailSFTP(errors.New("connection reset"))
	if _, err := f.SFTP(context.Background()); !errors.As(err, new(*lab.ConnError)) {
		t.Errorf("FailSFTP: %v", err)
	}
}

func TestCommandsAreRecordedAndAnswered(t *testing.T) {
	f := newNode(t)
	ctx := context.Background()
	f.OnCommand("crm_mon", func(Call) (lab.Result, error) { return Exit(1, "not running"), nil })
	f.OnCommand("crm_mon", func(Call) (lab.Result, error) { return OK("Online: [ node1 ]"), nil }) // the last wins
	res, err := f.Sudo(ctx, nil, "crm_mon", "-1")
	if err != nil || string(res.Stdout) != "Online: [ node1 ]" || res.Node != "node1" || res.Command != "sudo -n -- crm_mon -1" {
		t.Errorf("%+v %v", res, err)
	}
	res, _ = f.Run(ctx, nil, "id", "-gn", "--", "hacluster")
	if strings.TrimSpace(string(res.Stdout)) != "haclient" {
		t.Errorf("id -gn: %q", res.Stdout)
	}
	res, _ = f.Run(ctx, nil, "sh", "-c", idsText, "sh", "hacluster", "haclient")
	if strings.Fields(string(res.Stdout))[0] != "110" || strings.Fields(string(res.Stdout))[1] != "115" {
		t.Errorf("ids: %q", res.Stdout)
	}
	res, _ = f.Run(ctx, nil, "sh", "-c", idsText, "sh", "nobody", "root")
	if res.OK() {
		t.Errorf("ids of an unknown user: %+v", res)
	}
	f.OnScript("stat", func(c Call) (lab.Result, error) { return lab.Result{ExitCode: -1}, f.ConnError(c, io.ErrUnexpectedEOF) })
	if _, err := lab.Check(f.SudoScript(ctx, statText, "/x")); !errors.As(err, new(*lab.ConnError)) {
		t.Errorf("injected transport error: %v", err)
	}
	var got []string
	for _, c := range f.Calls() {
		got = append(got, c.String())
	}
	want := []string{"sudo crm_mon -1", "run id -gn -- hacluster", "run script:ids hacluster haclient", "run script:ids nobody root", "sudo script:stat /x"}
	if !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
	if c := f.ScriptCalls("stat")[0]; !slices.Equal(c.Argv, []string{"sudo", "-n", "--", "sh", "-s", "--", "/x"}) || string(c.Stdin) != statText {
		t.Errorf("stat call %+v", c)
	}
}

// recorder is a testing.TB that keeps what the fake reports.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// A command or script nobody expected fails the test: a step cannot pass
// by running something the test did not model.
func TestUnknownCommandsFailTheTest(t *testing.T) {
	r := &recorder{TB: t}
	f := NewFakeNode(r, "node2", nil)
	ctx := context.Background()
	res, err := f.Sudo(ctx, nil, "rm", "-rf", "/")
	if err != nil || res.ExitCode != 127 {
		t.Errorf("%+v %v", res, err)
	}
	if _, err := f.SudoScript(ctx, "#!/bin/sh\necho surprise\n"); err != nil {
		t.Fatal(err)
	}
	if len(r.errors) != 2 || !strings.Contains(r.errors[0], "node node2: no handler for sudo rm -rf /") ||
		!strings.Contains(r.errors[1], "a script no test registered ran") {
		t.Errorf("reported %q", r.errors)
	}
}
