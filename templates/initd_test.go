package templates

// Behaviour tests of the rendered init script, stratos.sh and the Java
// service on this host: real JVMs, real signals, the exit codes Pacemaker
// and heartbeat act on.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// LSB status codes the init script promises (see initd.tmpl).
const (
	statusRunning = 0
	statusStopped = 3 // also for a dead JVM with a stale pid file
)

func TestInitScriptLSB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts JVMs")
	}
	javaHome := findJDK(t)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("as the invoking user", func(t *testing.T) {
		t.Parallel()
		lsbScenario(t, javaHome, me.Username, t.TempDir())
	})

	// The production path: root runs the script, which su's to the service
	// user; nobody has a nologin shell, as service users often do.
	t.Run("root for a nologin user", func(t *testing.T) {
		t.Parallel()
		if os.Geteuid() != 0 {
			t.Skip("needs root to su")
		}
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Skip("no user nobody")
		}
		lsbScenario(t, javaHome, "nobody", productDirFor(t, nobody))
	})
}

func lsbScenario(t *testing.T, javaHome, user, productHome string) {
	port := freePort(t)
	script := installProduct(t, Params{
		ServiceName:  "stratos",
		User:         user,
		JavaHome:     javaHome,
		ProductHome:  productHome,
		Port:         port,
		StartTimeout: 60,
		StopTimeout:  10,
	}, nil)
	pidFile := filepath.Join(productHome, "wso2carbon.pid")
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	host := shortHostname(t)

	expectStatus(t, script, statusStopped, "stopped")
	expect(t, script, "stop", 0)

	expect(t, script, "start", 0)
	pid := readPid(t, pidFile)
	if comm := procComm(pid); comm != "java" {
		t.Fatalf("pid file names %d (%q), not the JVM", pid, comm)
	}
	if got := httpGet(t, url+"/", 30*time.Second); got != host+"\n" {
		t.Errorf("GET / = %q, want %q", got, host+"\n")
	}
	if got := httpGet(t, url+"/health", 5*time.Second); got != "ok" {
		t.Errorf("GET /health = %q, want %q", got, "ok")
	}

	expect(t, script, "start", 0)
	if again := readPid(t, pidFile); again != pid {
		t.Errorf("start on a running service replaced pid %d with %d", pid, again)
	}
	expectStatus(t, script, statusRunning, "running")

	// A crash: the JVM dies, its pid file stays.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDead(t, pid)
	expectStatus(t, script, statusStopped, "stale pid file")
	expect(t, script, "stop", 0)
	if _, err := os.Stat(pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stop left the stale pid file: %v", err)
	}
	expectStatus(t, script, statusStopped, "stopped")

	expect(t, script, "restart", 0)
	pid = readPid(t, pidFile)
	if got := httpGet(t, url+"/", 30*time.Second); got != host+"\n" {
		t.Errorf("after restart GET / = %q, want %q", got, host+"\n")
	}
	expect(t, script, "force-reload", 0)
	if newPid := readPid(t, pidFile); newPid == pid {
		t.Errorf("force-reload kept pid %d", pid)
	} else {
		pid = newPid
	}

	expect(t, script, "stop", 0)
	if procAlive(pid) {
		t.Errorf("JVM %d still alive after stop", pid)
	}
	if _, err := os.Stat(pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stop left the pid file: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
		conn.Close()
		t.Errorf("port %d still accepts connections after stop", port)
	}
	expectStatus(t, script, statusStopped, "stopped")

	if out := expect(t, script, "bogus", 2); !strings.Contains(out, "usage") {
		t.Errorf("unknown action printed no usage: %q", out)
	}
	expect(t, script, "", 2)
}

// A product whose stop does nothing and whose JVM ignores TERM: stop must
// still end it, within STOP_TIMEOUT + TERM + KILL grace, and succeed.
func TestInitScriptStopEscalatesToKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	javaHome := findJDK(t)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := freePort(t)
	launcher := fmt.Sprintf(`#!/bin/sh
case "$1" in
start)
    trap '' TERM
    nohup "$JAVA_HOME/bin/java" -Xmx64m %q %d </dev/null >>%q 2>&1 &
    echo $! >%q
    ;;
stop) ;;
esac
`, filepath.Join(dir, "lib", "Stratos.java"), port, filepath.Join(dir, "logs", "stratos.log"), filepath.Join(dir, "wso2carbon.pid"))
	script := installProduct(t, Params{
		ServiceName: "stratos", User: me.Username, JavaHome: javaHome, ProductHome: dir,
		Port: port, StartTimeout: 60, StopTimeout: 2,
	}, []byte(launcher))

	expect(t, script, "start", 0)
	pid := readPid(t, filepath.Join(dir, "wso2carbon.pid"))
	httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/health", port), 30*time.Second)

	begin := time.Now()
	out := expect(t, script, "stop", 0)
	if !strings.Contains(out, "sending TERM") || !strings.Contains(out, "sending KILL") {
		t.Errorf("stop did not escalate through TERM to KILL:\n%s", out)
	}
	if procAlive(pid) {
		t.Errorf("JVM %d survived stop", pid)
	}
	if took, limit := time.Since(begin), time.Duration(2+termGrace+killGrace+3)*time.Second; took > limit {
		t.Errorf("stop took %v, more than its bound %v", took, limit)
	}
	expectStatus(t, script, statusStopped, "stopped")
}

// Until the launcher's background child has exec'd java, /proc names it
// after whatever forked it (the launcher's shell, nohup, su): a live process
// that is not yet the JVM. On a loaded node the init script can look at the
// pid in that window; start must wait through it, not report the service
// dead. Here the window is held open for execHold: the log file is a FIFO
// that nobody reads until then, so the child blocks opening its stdout,
// after the fork and before the exec. (A bin/java wrapper script that sleeps
// would not do: /proc names a script after its file, java, from the start.)
//
// Each subtest is one start; go test -count=N -run TestInitScriptStartWaitsForExec
// repeats them.
func TestInitScriptStartWaitsForExec(t *testing.T) {
	if testing.Short() {
		t.Skip("starts JVMs")
	}
	javaHome := findJDK(t)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("stratos.sh", func(t *testing.T) {
		t.Parallel()
		slowExecScenario(t, javaHome, me.Username, t.TempDir(), nil)
	})

	t.Run("stratos.sh as root for a nologin user", func(t *testing.T) {
		t.Parallel()
		if os.Geteuid() != 0 {
			t.Skip("needs root to su")
		}
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Skip("no user nobody")
		}
		slowExecScenario(t, javaHome, "nobody", productDirFor(t, nobody), nil)
	})

	// Without the init script: the pid file stratos.sh leaves must name the
	// JVM as soon as start returns, for whoever reads it next.
	t.Run("stratos.sh alone", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		port := freePort(t)
		installProduct(t, Params{
			ServiceName: "stratos", User: me.Username, JavaHome: javaHome, ProductHome: dir,
			Port: port, StartTimeout: 30, StopTimeout: 10,
		}, nil)
		launcher := filepath.Join(dir, "bin", "stratos.sh")
		// begin before the hold is armed: the exec is let go hold after
		// arming, so a start that waited for it took at least hold.
		begin := time.Now()
		holdExec(t, dir, execHold)
		// Output to a file: with a pipe, the run would last until the
		// child, blocked before its redirections, let go of it.
		outFile := filepath.Join(t.TempDir(), "out")
		cmd := exec.Command("sh", "-c", `exec "$0" start >"$1" 2>&1`, launcher, outFile)
		err := cmd.Run()
		out, _ := os.ReadFile(outFile)
		if err != nil {
			t.Fatalf("stratos.sh start: %v\n%s", err, out)
		}
		pid := readPid(t, filepath.Join(dir, "wso2carbon.pid"))
		if comm := procComm(pid); comm != "java" {
			t.Fatalf("stratos.sh start returned with the pid file naming %d (%q), not the JVM:\n%s", pid, comm, out)
		}
		if took := time.Since(begin); took < execHold {
			t.Fatalf("start returned after %v, before the JVM could exec (%v): the FIFO no longer holds the window open", took, execHold)
		}
		httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/health", port), 30*time.Second)
		expect(t, launcher, "stop", 0)
		waitDead(t, pid)
	})

	// A launcher like the article's, which writes $! to the pid file at
	// once: the init script alone must bridge the window.
	t.Run("launcher that writes the pid at once", func(t *testing.T) {
		t.Parallel()
		slowExecScenario(t, javaHome, me.Username, t.TempDir(), func(dir string, port int) []byte {
			pidFile := filepath.Join(dir, "wso2carbon.pid")
			return []byte(fmt.Sprintf(`#!/bin/sh
case "$1" in
start)
    nohup "$JAVA_HOME/bin/java" -Xmx64m %q %d </dev/null >>%q 2>&1 &
    echo $! >%q
    ;;
stop)
    kill -s TERM "$(cat %q)"
    ;;
esac
`, filepath.Join(dir, "lib", "Stratos.java"), port, filepath.Join(dir, "logs", "stratos.log"), pidFile, pidFile))
		})
	})
}

// execHold is how long the launcher's child is held between fork and exec.
const execHold = 2 * time.Second

// slowExecScenario starts the service with its exec held back by execHold,
// checks that start succeeded and named the JVM, then stops it. launcher,
// when not nil, makes the product's bin/stratos.sh instead of the rendered
// one.
func slowExecScenario(t *testing.T, javaHome, user, productHome string, launcher func(dir string, port int) []byte) {
	port := freePort(t)
	var sh []byte
	if launcher != nil {
		sh = launcher(productHome, port)
	}
	script := installProduct(t, Params{
		ServiceName:  "stratos",
		User:         user,
		JavaHome:     javaHome,
		ProductHome:  productHome,
		Port:         port,
		StartTimeout: 30,
		StopTimeout:  10,
	}, sh)
	pidFile := filepath.Join(productHome, "wso2carbon.pid")

	begin := time.Now() // before the hold is armed, as above
	holdExec(t, productHome, execHold)
	out := expect(t, script, "start", 0)
	pid := readPid(t, pidFile)
	if comm := procComm(pid); comm != "java" {
		t.Fatalf("after start the pid file names %d (%q), not the JVM; start said:\n%s", pid, comm, out)
	}
	if took := time.Since(begin); took < execHold {
		t.Fatalf("start returned after %v, before the JVM could exec (%v): the FIFO no longer holds the window open", took, execHold)
	}
	expectStatus(t, script, statusRunning, "running")
	httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/health", port), 30*time.Second)
	expect(t, script, "stop", 0)
	if procAlive(pid) {
		t.Errorf("JVM %d still alive after stop", pid)
	}
	expectStatus(t, script, statusStopped, "stopped")
}

// holdExec holds the exec of the product's JVM back for hold: its log file
// becomes a FIFO (writable by anyone, for the su'd service user) that nobody
// opens for reading until then, so the launcher's child blocks in open(2)
// when it redirects its output there. After hold the test opens the FIFO,
// without blocking, and drains it. When the test ends, a child still blocked
// (the test failed early) is killed, and the FIFO becomes a regular file
// holding what was written, for installProduct's cleanup to log.
func holdExec(t *testing.T, productHome string, hold time.Duration) {
	t.Helper()
	path := filepath.Join(productHome, "logs", "stratos.log")
	pidFile := filepath.Join(productHome, "wso2carbon.pid")
	if err := syscall.Mkfifo(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil { // past the umask
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		done    bool
		fifo    *os.File
		copied  = make(chan struct{})
		written bytes.Buffer
	)
	timer := time.AfterFunc(hold, func() {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		// O_RDWR opens a FIFO at once, and a writer blocked opening it
		// proceeds.
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Errorf("open %s: %v", path, err)
			return
		}
		fifo = f
		go func() {
			defer close(copied)
			io.Copy(&written, f)
		}()
	})
	t.Cleanup(func() {
		timer.Stop()
		mu.Lock()
		done = true
		f := fifo
		mu.Unlock()
		if f == nil {
			// Never released: the pid file, this test's own and written
			// moments ago, may name a child still blocked before its exec.
			if data, err := os.ReadFile(pidFile); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 0 {
					if comm := procComm(pid); comm != "" && comm != "java" {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
		} else {
			f.Close() // ends the copy: a FIFO opened O_RDWR never reads EOF
			<-copied
		}
		os.Remove(path)
		os.WriteFile(path, written.Bytes(), 0o644)
	})
}

func TestInitScriptStartFailures(t *testing.T) {
	// None of these gets as far as running Java: a stub will do.
	javaHome := t.TempDir()
	if err := os.Mkdir(filepath.Join(javaHome, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(javaHome, "bin", "java"), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		launcher string // empty: no launcher installed at all
		code     int
		output   string
		within   time.Duration
	}{
		{"launcher starts nothing", "#!/bin/sh\nexit 0\n", 1, "did not start within 2s", 6 * time.Second},
		{"process dies at once", "#!/bin/sh\nsh -c 'exit 1' &\necho $! >\"$(dirname \"$0\")/../wso2carbon.pid\"\n", 1, "exited while starting", 4 * time.Second},
		{"process never becomes java", "#!/bin/sh\nsleep 30 </dev/null >/dev/null 2>&1 &\necho $! >\"$(dirname \"$0\")/../wso2carbon.pid\"\n", 1, "is not java yet; sending TERM", 6 * time.Second},
		{"launcher fails", "#!/bin/sh\nexit 1\n", 1, "start failed", 4 * time.Second},
		{"not installed", "", 5, "not installed", 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			script := installProduct(t, Params{
				ServiceName: "stratos", User: me.Username, JavaHome: javaHome, ProductHome: dir,
				Port: 1, StartTimeout: 2, StopTimeout: 2,
			}, []byte(tt.launcher))
			if tt.launcher == "" {
				if err := os.Remove(filepath.Join(dir, "bin", "stratos.sh")); err != nil {
					t.Fatal(err)
				}
			}
			begin := time.Now()
			if out := expect(t, script, "start", tt.code); !strings.Contains(out, tt.output) {
				t.Errorf("start output lacks %q:\n%s", tt.output, out)
			}
			if took := time.Since(begin); took > tt.within {
				t.Errorf("start took %v, want at most %v", took, tt.within)
			}
			expectStatus(t, script, statusStopped, "")
		})
	}
}

// The article's script, verbatim but for its paths, reports "stopped" with
// exit 0: to Pacemaker the service then runs on every node. This is the bug
// an LSB checker must catch; testdata/article-initd.sh is its fixture.
func TestArticleInitScriptStatusBug(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "stratos")
	src, err := os.ReadFile(filepath.Join("testdata", "article-initd.sh"))
	if err != nil {
		t.Fatal(err)
	}
	src = pointArticleScript(t, src, "vagrant", "/opt/jdk", dir)
	if err := os.WriteFile(script, src, 0o755); err != nil {
		t.Fatal(err)
	}

	out, code := runScript(t, script, "status")
	if code != 0 || !strings.Contains(out, "stopped") {
		t.Fatalf("article status while stopped = %d %q; the fixture no longer shows the bug", code, out)
	}

	// A stale pid file (the JVM was killed) reads as stopped, still exit 0.
	if err := os.WriteFile(filepath.Join(dir, "wso2carbon.pid"), []byte("2147483646\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := runScript(t, script, "status"); code != 0 {
		t.Fatalf("article status with a stale pid file = %d %q, want the buggy 0", code, out)
	}
}

// pointArticleScript rewrites the article script's USER, JAVA_HOME and
// PRODUCT_HOME assignments.
func pointArticleScript(t *testing.T, src []byte, user, javaHome, productHome string) []byte {
	t.Helper()
	for name, value := range map[string]string{"USER": user, "JAVA_HOME": javaHome, "PRODUCT_HOME": productHome} {
		re := regexp.MustCompile(`(?m)^` + name + `=".*"$`)
		if !re.Match(src) {
			t.Fatalf("article script has no %s= line", name)
		}
		src = re.ReplaceAllLiteral(src, []byte(name+"="+shellQuote(value)))
	}
	return src
}

// installProduct lays out productHome like the Stratos pack (bin/stratos.sh,
// lib/Stratos.java, logs/) and renders the init script next to it. launcher
// replaces the rendered bin/stratos.sh when not nil. Any JVM the product
// leaves running is killed when the test ends.
func installProduct(t *testing.T, p Params, launcher []byte) (script string) {
	t.Helper()
	for _, d := range []string{"bin", "lib", "logs"} {
		if err := os.MkdirAll(filepath.Join(p.ProductHome, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if launcher == nil {
		var err error
		if launcher, err = StratosSh(p); err != nil {
			t.Fatal(err)
		}
	}
	initd, err := InitScript(p)
	if err != nil {
		t.Fatal(err)
	}
	script = filepath.Join(t.TempDir(), p.ServiceName)
	files := []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{filepath.Join(p.ProductHome, "bin", "stratos.sh"), launcher, 0o755},
		{filepath.Join(p.ProductHome, "lib", "Stratos.java"), ServiceJava(), 0o644},
		{script, initd, 0o755},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	pidFile := filepath.Join(p.ProductHome, "wso2carbon.pid")
	t.Cleanup(func() {
		killJVMs(t, pidFile)
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(p.ProductHome, "logs", "stratos.log")); err == nil {
				t.Logf("stratos.log:\n%s", log)
			}
		}
	})
	return script
}

// productDirFor makes a product home that u can write and every parent of
// which u can traverse (t.TempDir's parents are private to the test user).
func productDirFor(t *testing.T, u *user.User) string {
	t.Helper()
	base, err := os.MkdirTemp("", "halab-initd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	dir := filepath.Join(base, "stratos")
	for _, d := range []string{dir, filepath.Join(dir, "bin"), filepath.Join(dir, "lib"), filepath.Join(dir, "logs")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// killJVMs kills the JVM named by pidFile, if any.
func killJVMs(t *testing.T, pidFile string) {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 0 {
		killJVM(t, pid)
	}
}

// killJVM kills pid if it still is a live JVM: by now the pid may belong to
// another process, which is not ours to kill.
func killJVM(t *testing.T, pid int) {
	if procAlive(pid) {
		t.Logf("killing leftover JVM %d", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// runScript runs the init script with sh, as Pacemaker's executor would:
// bounded in time and reading its output until EOF.
func runScript(t *testing.T, script, action string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{script}
	if action != "" {
		args = append(args, action)
	}
	cmd := exec.CommandContext(ctx, "sh", args...)
	// A daemon that inherits the script's stdout holds the pipe open after
	// the script exits; Pacemaker would then wait for EOF until its timeout.
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.Is(err, exec.ErrWaitDelay):
		t.Fatalf("sh %s %s: exited but left its output open (a daemon kept stdout/stderr)\n%s", script, action, out)
	case errors.As(err, &exit) && exit.Exited():
		return string(out), exit.ExitCode()
	}
	t.Fatalf("sh %s %s: %v\n%s", script, action, err, out)
	return "", -1
}

func expect(t *testing.T, script, action string, code int) string {
	t.Helper()
	out, got := runScript(t, script, action)
	if got != code {
		t.Fatalf("%s %s exited %d, want %d; output:\n%s", filepath.Base(script), action, got, code, out)
	}
	return out
}

// expectStatus checks status' exit code, and that heartbeat v1, which
// decides from status' output, reads the same state from it.
func expectStatus(t *testing.T, script string, code int, phrase string) {
	t.Helper()
	out := expect(t, script, "status", code)
	if !strings.Contains(out, phrase) {
		t.Errorf("status output lacks %q: %q", phrase, out)
	}
	if owns := heartbeatV1Owns(out); owns != (code == statusRunning) {
		t.Errorf("heartbeat v1 would read status output %q as running=%v, exit code says %d", out, owns, code)
	}
}

var (
	hbNotRunning = regexp.MustCompile(`(?s)[Nn][Oo][Tt] .*[Rr]unning`)
	hbRunning    = regexp.MustCompile(`[Rr]unning|OK`)
)

// heartbeatV1Owns mirrors we_own_resource in heartbeat's ResourceManager,
// which matches the output of "<script> status" against
// *[Nn][Oo][Tt]\ *[Rr]unning* (not ours), then *[Rr]unning*|*OK* (ours).
func heartbeatV1Owns(statusOutput string) bool {
	if hbNotRunning.MatchString(statusOutput) {
		return false
	}
	return hbRunning.MatchString(statusOutput)
}

// readPid also makes sure the JVM it names dies with the test.
func readPid(t *testing.T, pidFile string) int {
	t.Helper()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("pid file %s: %v", pidFile, err)
	}
	t.Cleanup(func() { killJVM(t, pid) })
	return pid
}

func procComm(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// procAlive: pid is a JVM that has not exited (a zombie has).
func procAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	var name, state string
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Name:"); ok {
			name = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "State:"); ok {
			state = strings.TrimSpace(v)
		}
	}
	return name == "java" && !strings.HasPrefix(state, "Z")
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); procAlive(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d did not die", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// httpGet polls url until it answers 200 (the JVM compiles its source on
// start) and returns the body.
func httpGet(t *testing.T, url string, within time.Duration) string {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := client.Get(url)
		if err != nil {
			last = err
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			last = fmt.Errorf("status %d, %v", resp.StatusCode, err)
			continue
		}
		return string(body)
	}
	t.Fatalf("GET %s: no answer within %v: %v", url, within, last)
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// shortHostname is what the service should answer: the kernel's node name
// up to the first dot.
func shortHostname(t *testing.T) string {
	t.Helper()
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	short, _, _ := strings.Cut(h, ".")
	return short
}

// findJDK returns a JDK home (with javac: source-launch mode compiles in
// memory) from $JAVA_HOME or /usr/lib/jvm, or skips the test.
func findJDK(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("JAVA_HOME")}
	globbed, _ := filepath.Glob("/usr/lib/jvm/*")
	candidates = append(candidates, globbed...)
	for _, home := range candidates {
		if home == "" {
			continue
		}
		if isExec(filepath.Join(home, "bin", "java")) && isExec(filepath.Join(home, "bin", "javac")) && jdkAtLeast(home, 11) {
			return home
		}
	}
	t.Skip("no JDK found in $JAVA_HOME or /usr/lib/jvm (need bin/java and bin/javac, JDK 11+)")
	return ""
}

// jdkAtLeast reads the major version from the JDK's release file; a JDK
// without one is given the benefit of the doubt.
func jdkAtLeast(home string, major int) bool {
	data, err := os.ReadFile(filepath.Join(home, "release"))
	if err != nil {
		return true
	}
	m := regexp.MustCompile(`(?m)^JAVA_VERSION="(\d+)(?:\.(\d+))?`).FindSubmatch(data)
	if m == nil {
		return true
	}
	v, _ := strconv.Atoi(string(m[1]))
	if v == 1 { // "1.8.0_x": the major version is the second number
		v, _ = strconv.Atoi(string(m[2]))
	}
	return v >= major
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
