package lab

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// Vagrant drives the vagrant CLI for one lab. Vagrant stays the source of
// truth for which machines exist and how to reach them.
type Vagrant struct {
	// Root is the directory holding the Vagrantfile.
	Root string
	// DotDir is Vagrant's state directory (VAGRANT_DOTFILE_PATH): the
	// machine ids of this lab.
	DotDir string
	// Config is the absolute path of the lab file.
	Config string
	// Cfg is the lab file as halab resolved it (defaults applied): the
	// Vagrantfile reads it from the state directory, so that the defaults
	// live in one place, lab.Defaults.
	Cfg *Config
	// ID labels the machines (halab.id, halab.config).
	ID Identity
	// Provider is the provider's name, as `vagrant up --provider` takes it.
	Provider string
	// Image is the docker image tag the nodes run (docker provider only).
	Image string
	// State is the lab's state directory, for the ssh-config cache.
	State string
	// Out receives vagrant's streamed output (nil: quiet).
	Out io.Writer
}

// ResolvedFile is where the resolved lab file is written for the
// Vagrantfile.
func (v *Vagrant) ResolvedFile() string { return filepath.Join(v.State, "lab.resolved.yaml") }

func (v *Vagrant) env() []string {
	env := []string{
		"VAGRANT_CHECKPOINT_DISABLE=1",
		"VAGRANT_NO_COLOR=1",
		"HALAB_CONFIG=" + v.Config,
		"HALAB_RESOLVED=" + v.ResolvedFile(),
		"HALAB_LAB_ID=" + v.ID.ID,
		"HALAB_LAB_CONFIG=" + v.ID.Config,
		"VAGRANT_DEFAULT_PROVIDER=" + v.Provider,
		"VAGRANT_DOTFILE_PATH=" + v.DotDir,
	}
	if v.Image != "" {
		env = append(env, "HALAB_DOCKER_IMAGE="+v.Image)
	}
	return env
}

func (v *Vagrant) run(ctx context.Context, out io.Writer, args ...string) ([]byte, error) {
	if err := v.writeResolved(); err != nil {
		return nil, err
	}
	dir, err := v.labRoot()
	if err != nil {
		return nil, err
	}
	return runLocal(ctx, dir, v.env(), out, append([]string{"vagrant"}, args...)...)
}

// LabRoot is where vagrant runs for this lab: a directory of the lab's
// state whose Vagrantfile loads the checkout's. Vagrant's global machine
// index (~/.vagrant.d) knows a machine by its name, its provider and the
// directory of its Vagrantfile: run from the checkout, two labs with nodes
// of the same name (lab.yaml's and the fencing example's node1) were one
// entry, and one lab's vagrant ssh-config failed with "Vagrant can't use
// the requested machine because it is locked" while the other's vagrant
// up held it.
func (v *Vagrant) LabRoot() string { return filepath.Join(v.State, "vagrant-root") }

func (v *Vagrant) labRoot() (string, error) {
	dir := v.LabRoot()
	stub := []byte("# Written by halab: this lab's own Vagrant root (see LabRoot in lab/vagrant.go).\n" +
		"load " + rubyString(filepath.Join(v.Root, "Vagrantfile")) + "\n")
	path := filepath.Join(dir, "Vagrantfile")
	if b, err := os.ReadFile(path); err == nil && bytes.Equal(b, stub) {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return dir, WriteFileAtomic(path, stub, 0o600)
}

// rubyString is s as a Ruby single-quoted literal, in which only \\ and
// \' are escapes.
func rubyString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func (v *Vagrant) writeResolved() error {
	data, err := v.Cfg.Resolved()
	if err != nil {
		return err
	}
	if err := EnsureStateDir(v.State); err != nil {
		return err
	}
	return WriteFileAtomic(v.ResolvedFile(), data, 0o600)
}

// upAttempts bounds the vagrant up runs that a vanished container (see
// vanishedContainer) may cost.
const upAttempts = 3

// Up creates and boots the named machines (all when none are named).
func (v *Vagrant) Up(ctx context.Context, nodes ...string) error {
	unlock, err := v.lockIndex(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	args := append([]string{"up", "--provider", v.Provider}, nodes...)
	for attempt := 1; ; attempt++ {
		out, err := v.run(ctx, v.Out, args...)
		if err == nil || attempt == upAttempts || ctx.Err() != nil || v.Provider != dockerName {
			return err
		}
		id, ok := vanishedContainer(out)
		if !ok || containerExists(ctx, id) {
			return err
		}
		if v.Out != nil {
			fmt.Fprintf(v.Out, "==> vagrant up stopped because container %.12s vanished while it read every container's ports (another lab or program on this host removed it): running it again (%d of %d)\n", id, attempt+1, upAttempts)
		}
	}
}

// Vagrant's docker provider, before it creates or starts a machine, lists
// every container on the host (docker ps -a -q) and then inspects each one
// for the ports it holds (read_used_ports). A container that another lab,
// a docker build's intermediate step or any other program removes between
// the two makes `vagrant up` fail, although nothing is wrong with this
// lab:
//
//	Command: ["docker", "inspect", "7b080fa1...", {:notify=>[:stdout, :stderr]}]
//	Stderr: Error: No such object: 7b080fa1...
var (
	inspectCmdRe   = regexp.MustCompile(`Command: \["docker", "inspect", "([0-9a-f]{12,64})"`)
	noSuchObjectRe = regexp.MustCompile(`Error: No such object: ([0-9a-f]{12,64})`)
)

// vanishedContainer finds that failure in vagrant's output: the id that
// vagrant inspected and docker no longer knew.
func vanishedContainer(out []byte) (string, bool) {
	cmd := inspectCmdRe.FindSubmatch(out)
	gone := noSuchObjectRe.FindSubmatch(out)
	if cmd == nil || gone == nil || !bytes.Equal(cmd[1], gone[1]) {
		return "", false
	}
	return string(cmd[1]), true
}

// containerExists asks the engine about a container; a failure to ask
// counts as "exists", so that nothing is retried on a guess.
func containerExists(ctx context.Context, id string) bool {
	out, err := runLocal(ctx, "", nil, nil, "docker", "ps", "-aq", "--no-trunc", "--filter", "id="+id)
	return err != nil || len(bytes.TrimSpace(out)) > 0
}

// Destroy removes the machines; destroying what does not exist is fine.
// after runs while the lock is still held: it removes what vagrant left,
// and must not race another lab's vagrant up (see vanishedContainer).
func (v *Vagrant) Destroy(ctx context.Context, after ...func(context.Context) error) error {
	unlock, err := v.lockIndex(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err = v.run(ctx, v.Out, "destroy", "--force"); err != nil {
		return err
	}
	for _, f := range after {
		if err := f(ctx); err != nil {
			return err
		}
	}
	return nil
}

// lockIndex serialises, across the labs of this host, the vagrant commands
// that add machines to or remove them from Vagrant's global machine index
// (~/.vagrant.d/data/machine-index): two labs' `vagrant up` at the same
// moment can fail there with "Vagrant can't use the requested machine
// because it is locked" although each lab has its own machines. The lock
// is a file beside that index; a lab that waits says so.
func (v *Vagrant) lockIndex(ctx context.Context) (func(), error) {
	return hostLock(ctx, "halab-machine-index.lock", v.Out, "another lab's vagrant up or destroy")
}

// hostLock takes a lock of this host's labs, a file in Vagrant's home
// (beside its machine index); a caller that has to wait says for what.
func hostLock(ctx context.Context, file string, out io.Writer, what string) (func(), error) {
	home := os.Getenv("VAGRANT_HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("finding Vagrant's home for its lock: %w", err)
		}
		home = filepath.Join(h, ".vagrant.d")
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, err
	}
	l := flock.New(filepath.Join(home, file))
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("the lock %s: %w", l.Path(), err)
	}
	if !ok {
		if out != nil {
			fmt.Fprintf(out, "==> waiting for %s on this host to finish\n", what)
		}
		if ok, err = l.TryLockContext(ctx, 250*time.Millisecond); err != nil || !ok {
			if err == nil {
				err = ctx.Err()
			}
			return nil, fmt.Errorf("waiting for %s: %w", what, err)
		}
	}
	return func() { l.Unlock() }, nil
}

// MachineID is the provider's id for a node (docker container id or
// VirtualBox VM uuid), or "" when the machine was never created.
func (v *Vagrant) MachineID(node string) string {
	b, err := os.ReadFile(filepath.Join(v.DotDir, "machines", node, v.Provider, "id"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

type sshConfigCache struct {
	Key       string        `json:"key"`
	Endpoints []SSHEndpoint `json:"endpoints"`
}

// SSHConfig returns how to reach the machines. Each vagrant call costs
// seconds of Ruby start-up, so the answer is cached in the state directory
// and reused while the provider's machine ids are unchanged.
func (v *Vagrant) SSHConfig(ctx context.Context, nodes []string) ([]SSHEndpoint, error) {
	h := sha256.New()
	fmt.Fprintln(h, v.Provider, v.Config)
	for _, n := range nodes {
		id := v.MachineID(n)
		if id == "" {
			return nil, fmt.Errorf("node %s: no %s machine exists (run `halab up`)", n, v.Provider)
		}
		fmt.Fprintln(h, n, id)
	}
	key := hex.EncodeToString(h.Sum(nil))
	cachePath := filepath.Join(v.State, "ssh-config.json")
	if b, err := os.ReadFile(cachePath); err == nil {
		var c sshConfigCache
		if json.Unmarshal(b, &c) == nil && c.Key == key && len(c.Endpoints) == len(nodes) {
			return c.Endpoints, nil
		}
	}
	out, err := v.run(ctx, nil, append([]string{"ssh-config"}, nodes...)...)
	if err != nil {
		return nil, err
	}
	eps, err := ParseSSHConfig(out)
	if err != nil {
		return nil, err
	}
	if b, err := json.Marshal(sshConfigCache{Key: key, Endpoints: eps}); err == nil && v.State != "" {
		_ = WriteFileAtomic(cachePath, b, 0o600)
	}
	return eps, nil
}

// vagrantRunnable says whether the vagrant CLI is installed.
func vagrantRunnable() error {
	if _, err := exec.LookPath("vagrant"); err != nil {
		return fmt.Errorf("vagrant not found (Debian/Ubuntu: apt-get install vagrant)")
	}
	return nil
}

// newVagrant is the Vagrant driver of a lab for one provider.
func newVagrant(l *Lab, provider string) *Vagrant {
	return &Vagrant{Root: l.Root, DotDir: l.VagrantDir(), Config: l.ConfigPath, Cfg: l.Cfg, ID: l.ID, Provider: provider,
		State: l.State, Out: NewPrefixWriter(l.Out, "    ")}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
