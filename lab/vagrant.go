package lab

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Vagrant drives the vagrant CLI for one lab. Vagrant stays the source of
// truth for which machines exist and how to reach them.
type Vagrant struct {
	// Root is the directory holding the Vagrantfile (and .vagrant/).
	Root string
	// Config is the absolute path of the lab file, passed to the Vagrantfile.
	Config string
	// Provider is "virtualbox" or "docker" (never "auto" here).
	Provider string
	// Image is the docker image tag the nodes run (docker provider only).
	Image string
	// State is the lab's state directory, for the ssh-config cache.
	State string
	// Out receives vagrant's streamed output (nil: quiet).
	Out io.Writer
}

func (v *Vagrant) env() []string {
	env := []string{
		"VAGRANT_CHECKPOINT_DISABLE=1",
		"VAGRANT_NO_COLOR=1",
		"HALAB_CONFIG=" + v.Config,
		"VAGRANT_DEFAULT_PROVIDER=" + v.Provider,
	}
	if v.Image != "" {
		env = append(env, "HALAB_DOCKER_IMAGE="+v.Image)
	}
	return env
}

func (v *Vagrant) run(ctx context.Context, out io.Writer, args ...string) ([]byte, error) {
	return runLocal(ctx, v.Root, v.env(), out, append([]string{"vagrant"}, args...)...)
}

// Up creates and boots the named machines (all when none are named).
func (v *Vagrant) Up(ctx context.Context, nodes ...string) error {
	args := append([]string{"up", "--provider", v.Provider}, nodes...)
	_, err := v.run(ctx, v.Out, args...)
	return err
}

// Destroy removes the machines; destroying what does not exist is fine.
func (v *Vagrant) Destroy(ctx context.Context) error {
	_, err := v.run(ctx, v.Out, "destroy", "--force")
	return err
}

// MachineID is the provider's id for a node (docker container id or
// VirtualBox VM uuid), or "" when the machine was never created.
func (v *Vagrant) MachineID(node string) string {
	b, err := os.ReadFile(filepath.Join(v.Root, ".vagrant", "machines", node, v.Provider, "id"))
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

// Runnable reports whether a provider's tools work on this machine.
func Runnable(provider string) error {
	if _, err := exec.LookPath("vagrant"); err != nil {
		return fmt.Errorf("vagrant not found (Debian/Ubuntu: apt-get install vagrant)")
	}
	switch provider {
	case "virtualbox":
		if err := exec.Command("VBoxManage", "--version").Run(); err != nil {
			return fmt.Errorf("VBoxManage does not run: %v (install VirtualBox, or use provider: docker)", err)
		}
	case "docker":
		if _, err := exec.LookPath("docker"); err != nil {
			return fmt.Errorf("docker not found (Debian/Ubuntu: apt-get install docker.io)")
		}
		if out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
			return fmt.Errorf("docker engine not reachable: %s (start it: dockerd &, or systemctl start docker)", strings.TrimSpace(lastLine(out)))
		}
	default:
		return fmt.Errorf("unknown provider %q", provider)
	}
	return nil
}

// SelectProvider resolves "auto": VirtualBox when it can run, else docker.
// An existing machine's provider wins, so auto never flips under a lab.
func SelectProvider(cfg *Config, root string) (provider, reason string) {
	if cfg.Provider != "auto" {
		return cfg.Provider, "set in " + filepath.Base(cfg.Path)
	}
	for _, p := range []string{"virtualbox", "docker"} {
		for _, n := range cfg.Nodes {
			if _, err := os.Stat(filepath.Join(root, ".vagrant", "machines", n.Name, p, "id")); err == nil {
				return p, "auto: machines of this provider exist"
			}
		}
	}
	if err := Runnable("virtualbox"); err == nil {
		return "virtualbox", "auto: VBoxManage and vagrant run here"
	}
	return "docker", "auto: VirtualBox not usable here"
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
