package lab

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// execServer is an SSH server on this machine that runs each command as
// sshd does, through a shell, and leaves it running when the session
// closes (sshd neither signals a command without a pty then, nor could it
// signal sudo's child). sudo is a stand-in on PATH that drops -n -- and
// resets the environment, as sudo's env_reset does.
func execServer(t *testing.T) (port int) {
	t.Helper()
	bin := t.TempDir()
	fakeSudo := "#!/bin/sh\n[ \"$1\" = -n ] && shift\n[ \"$1\" = -- ] && shift\nexec env -i PATH=\"$PATH\" \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "sudo"), []byte(fakeSudo), 0o755); err != nil {
		t.Fatal(err)
	}
	path := bin + ":/usr/local/bin:/usr/bin:/bin"
	_, hostKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(hostKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, nil }}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var procs sync.WaitGroup
	t.Cleanup(procs.Wait)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_, chans, reqs, err := ssh.NewServerConn(c, cfg)
				if err != nil {
					return
				}
				go ssh.DiscardRequests(reqs)
				for nc := range chans {
					if nc.ChannelType() != "session" {
						nc.Reject(ssh.UnknownChannelType, "session only")
						continue
					}
					ch, creqs, err := nc.Accept()
					if err != nil {
						continue
					}
					go serveSession(ch, creqs, path, &procs)
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func serveSession(ch ssh.Channel, reqs <-chan *ssh.Request, path string, procs *sync.WaitGroup) {
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(false, nil)
			continue
		}
		var p struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &p); err != nil {
			req.Reply(false, nil)
			continue
		}
		cmd := exec.Command("sh", "-c", p.Command)
		cmd.Env = []string{"PATH=" + path}
		cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
		stdin, err := cmd.StdinPipe()
		if err != nil || cmd.Start() != nil {
			req.Reply(false, nil)
			continue
		}
		req.Reply(true, nil)
		go func() { io.Copy(stdin, ch); stdin.Close() }()
		procs.Add(1)
		go func() {
			defer procs.Done()
			code := 0
			if err := cmd.Wait(); err != nil {
				code = 255
				var ee *exec.ExitError
				if errors.As(err, &ee) && ee.ExitCode() >= 0 {
					code = ee.ExitCode()
				}
			}
			ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
			ch.Close()
		}()
	}
}

func dialExecServer(t *testing.T) *Node {
	t.Helper()
	port := execServer(t)
	ep := SSHEndpoint{Node: "node1", Host: "127.0.0.1", Port: port, User: "vagrant", IdentityFile: testKeyFile(t)}
	n, err := Dial(context.Background(), "node1", "192.168.56.11", ep, "node1.test", &HostKeys{File: filepath.Join(t.TempDir(), "known_hosts")}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

var runID = regexp.MustCompile(`^[0-9a-f]{16}$`)

// Every remote command holds its run's marker in its environment, inside
// sudo too; what a Result or an error shows is the command alone.
func TestRemoteCommandsCarryTheirMarker(t *testing.T) {
	n := dialExecServer(t)
	ctx := context.Background()
	show := `echo "$HALAB_RUN"`
	seen := map[string]bool{}
	for name, run := range map[string]func() (Result, error){
		"Run":        func() (Result, error) { return n.Run(ctx, nil, "sh", "-c", show) },
		"Sudo":       func() (Result, error) { return n.Sudo(ctx, nil, "sh", "-c", show) },
		"SudoScript": func() (Result, error) { return n.SudoScript(ctx, show+"\n") },
	} {
		res, err := Check(run())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		id := strings.TrimSpace(string(res.Stdout))
		if !runID.MatchString(id) || seen[id] {
			t.Errorf("%s: marker %q, want a fresh id", name, id)
		}
		seen[id] = true
		if strings.Contains(res.Command, RunMarker+"=") {
			t.Errorf("%s: Result.Command %q shows the marker", name, res.Command)
		}
	}
	if res, _ := n.Sudo(ctx, nil, "true"); res.Command != "sudo -n -- true" {
		t.Errorf("Sudo's command shows as %q", res.Command)
	}
	// The wire form, as the node's shell gets it.
	if got, want := wireCommand("0123456789abcdef", []string{"sh", "-s", "--", "a b"}, true),
		"env HALAB_RUN=0123456789abcdef sudo -n -- env HALAB_RUN=0123456789abcdef sh -s -- 'a b'"; got != want {
		t.Errorf("wire command %q, want %q", got, want)
	}
}

// hangScript records the pids of a command that would run for a minute:
// its shell, a background child and the foreground one.
const hangScript = `d=$1
echo $$ >"$d/pids"
sleep 60 &
echo $! >>"$d/pids"
: >"$d/ready"
sleep 60
`

func pidsIn(t *testing.T, p string) []int {
	t.Helper()
	var pids []int
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// When halab gives up on a remote command, for its timeout or for an
// interrupt, nothing of it is left running on the node; before, closing
// the session (and signalling it) left a command under sudo running.
func TestGivingUpEndsTheCommandOnTheNode(t *testing.T) {
	n := dialExecServer(t)
	for _, c := range []struct {
		name      string
		script    string
		interrupt bool
		cause     func(error) bool
	}{
		{"timeout", hangScript, false, func(err error) bool { var te *TimeoutError; return errors.As(err, &te) && te.Command }},
		{"interrupt", hangScript, true, func(err error) bool { return errors.Is(err, context.Canceled) }},
		// TERM ignored: KILL 3 s later.
		{"TERM ignored", "trap '' TERM\n" + hangScript, false, func(err error) bool { var te *TimeoutError; return errors.As(err, &te) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			n.CommandTimeout = time.Minute
			if !c.interrupt {
				n.CommandTimeout = time.Second
			} else {
				go func() {
					waitFile(t, filepath.Join(dir, "ready"))
					cancel()
				}()
			}
			start := time.Now()
			_, err := n.SudoScript(ctx, c.script, dir)
			took := time.Since(start)
			var ce *ConnError
			if !errors.As(err, &ce) || !c.cause(err) {
				t.Fatalf("err = %v, want a *ConnError for the %s", err, c.name)
			}
			if !strings.Contains(ce.Ended, "halab ended it on the node (") || !strings.Contains(err.Error(), ce.Ended) {
				t.Errorf("error does not say the command was ended: %v", err)
			}
			if c.interrupt && !strings.Contains(err.Error(), "interrupted; re-run the command to continue") {
				t.Errorf("an interrupt's error lacks its hint: %v", err)
			}
			if took > 8*time.Second {
				t.Errorf("took %s", took)
			}
			for _, pid := range pidsIn(t, filepath.Join(dir, "pids")) {
				gone(t, "a process of the abandoned command", pid)
			}
		})
	}
}

// After a second interrupt nothing new is started on the node; what was
// not ended is named.
func TestEndRunSaysWhenItCannot(t *testing.T) {
	n := dialExecServer(t)
	hard := make(chan struct{})
	close(hard)
	ctx, cancel := context.WithCancel(WithStop(context.Background(), Stop{Hard: hard}))
	cancel()
	if got := n.endRun(ctx, newRunID()); !strings.Contains(got, "it may still run on the node") || !strings.Contains(got, "interrupted again") {
		t.Errorf("endRun after a second interrupt: %q", got)
	}
	// Nothing to end.
	if got := n.endRun(context.Background(), newRunID()); got != "nothing of it was left running on the node" {
		t.Errorf("endRun of a finished command: %q", got)
	}
}
