package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const dockerName = "docker"

// dockerProvider runs each node as a system container (systemd as PID 1,
// sshd, a vagrant user) from a node image built on this machine, through
// Vagrant's docker provider. Power-off is `docker kill`.
type dockerProvider struct {
	vagrantMachines
	l *Lab
}

func newDocker(l *Lab) (Provider, error) {
	tag, err := ImageTag(l.Root, l.Cfg)
	if err != nil {
		return nil, err
	}
	v := newVagrant(l, dockerName)
	v.Image = tag
	return &dockerProvider{vagrantMachines{v}, l}, nil
}

func (d *dockerProvider) Name() string { return dockerName }

// SharesHostKernel: the nodes are containers.
func (d *dockerProvider) SharesHostKernel() {}

func (d *dockerProvider) Runnable() error { return dockerRunnable() }

func dockerRunnable() error {
	if err := vagrantRunnable(); err != nil {
		return err
	}
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("docker not found (Debian/Ubuntu: apt-get install docker.io)")
	}
	if out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		return fmt.Errorf("docker engine not reachable: %s (start it: dockerd &, or systemctl start docker)", strings.TrimSpace(lastLine(out)))
	}
	return nil
}

// Prepare builds the node image when its inputs changed.
func (d *dockerProvider) Prepare(ctx context.Context, out io.Writer) error {
	if err := d.Runnable(); err != nil {
		return err
	}
	tag := d.v.Image
	if ImageExists(ctx, tag) {
		fmt.Fprintf(out, "==> node image %s is up to date\n", tag)
		return nil
	}
	// One build of an image at a time on this host: labs that need the
	// same image wait for the first to build it, instead of each running
	// debootstrap.
	unlock, err := hostLock(ctx, "halab-image-"+imageLockName(tag)+".lock", out, "another lab's build of "+tag)
	if err != nil {
		return err
	}
	defer unlock()
	if ImageExists(ctx, tag) {
		fmt.Fprintf(out, "==> node image %s was built meanwhile by another lab\n", tag)
		return nil
	}
	fmt.Fprintf(out, "==> building node image %s (inputs changed or first build)\n", tag)
	start := time.Now()
	if err := BuildImage(ctx, d.l.Root, d.l.Cfg, tag, NewPrefixWriter(out, "    ")); err != nil {
		return err
	}
	fmt.Fprintf(out, "==> node image built in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// imageLockName is a tag as a file name: halab/node:3f2a... is
// halab_node_3f2a....
func imageLockName(tag string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ':' {
			return '_'
		}
		return r
	}, tag)
}

// Images are the node image and the rootfs base it was built on.
func (d *dockerProvider) Images() ([]string, error) {
	base, err := BaseImageTag(d.l.Root, baseRepo())
	if err != nil {
		return nil, err
	}
	return []string{d.v.Image, d.l.Cfg.Providers.Docker.Image + ":latest", base}, nil
}

// RemoveImage removes an image from the docker engine, if present.
func (d *dockerProvider) RemoveImage(ctx context.Context, tag string) error {
	if !ImageExists(ctx, tag) {
		return nil
	}
	_, err := runLocal(ctx, "", nil, nil, "docker", "rmi", tag)
	return err
}

func (d *dockerProvider) Destroy(ctx context.Context) error {
	return d.v.Destroy(ctx, d.cleanup)
}

// PowerOff sends SIGKILL to the container's init.
func (d *dockerProvider) PowerOff(ctx context.Context, node string) error {
	id := d.MachineID(node)
	if id == "" {
		return fmt.Errorf("power-off %s: no %s machine (run `halab up`)", node, dockerName)
	}
	if _, err := runLocal(ctx, "", nil, nil, "docker", "kill", "--signal", "KILL", id); err != nil {
		return fmt.Errorf("power-off %s: %w", node, err)
	}
	return nil
}

func (d *dockerProvider) PowerOn(ctx context.Context, node string) error {
	if err := d.vagrantMachines.PowerOn(ctx, node); err != nil {
		return fmt.Errorf("power-on %s: %w", node, err)
	}
	return nil
}

func (d *dockerProvider) Running(ctx context.Context, node string) (bool, error) {
	id := d.MachineID(node)
	if id == "" {
		return false, nil
	}
	out, err := runLocal(ctx, "", nil, nil, "docker", "inspect", "--format", "{{.State.Running}}", id)
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(string(out)) == "true", nil
}

// Labels every node container carries (the Vagrantfile sets them).
const (
	labelLab    = "halab.lab"
	labelID     = "halab.id"
	labelConfig = "halab.config"
	labelSubnet = "halab.subnet"
)

// networkName is the docker network Vagrant's docker provider makes for a
// private network of this subnet.
func networkName(cfg *Config) string {
	return fmt.Sprintf("vagrant_network_%s/%d", cfg.Subnet().Addr(), cfg.Prefix())
}

// networkMarker records that this lab's up made the network (it did not
// exist before): only then does down remove it.
func (d *dockerProvider) networkMarker() string {
	return filepath.Join(d.l.State, "docker-network-created")
}

// networkExists asks the engine whether the network exists; a failure
// to ask (the engine down, for one) is an error, never "no".
func networkExists(ctx context.Context, name string) (bool, error) {
	out, err := runLocal(ctx, "", nil, nil, "docker", "network", "ls", "--format", "{{.Name}}")
	if err != nil {
		return false, fmt.Errorf("asking docker about network %s: %w", name, err)
	}
	for _, n := range strings.Fields(string(out)) {
		if n == name {
			return true, nil
		}
	}
	return false, nil
}

// Up creates and boots the machines, and remembers whether the lab's
// network is its own.
func (d *dockerProvider) Up(ctx context.Context, nodes ...string) error {
	net := networkName(d.l.Cfg)
	existed, err := networkExists(ctx, net)
	if err != nil {
		return err
	}
	if err := d.vagrantMachines.Up(ctx, nodes...); err != nil {
		return err
	}
	if !existed {
		if made, err := networkExists(ctx, net); err == nil && made {
			return WriteFileAtomic(d.networkMarker(), []byte(net+"\n"), 0o600)
		}
	}
	return nil
}

// cleanup removes what the lab may leave behind when its Vagrant state
// was lost or vagrant was interrupted: containers carrying this lab's
// identity, and the network if this lab made it and nothing else uses it.
func (d *dockerProvider) cleanup(ctx context.Context) error {
	out, err := runLocal(ctx, "", nil, nil, "docker", "ps", "-aq", "--filter", "label="+labelID+"="+d.l.ID.ID)
	if err != nil {
		return err
	}
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		if _, err := runLocal(ctx, "", nil, nil, append([]string{"docker", "rm", "-f"}, ids...)...); err != nil {
			return err
		}
	}
	if _, err := os.Stat(d.networkMarker()); err != nil {
		return nil // not made by this lab: never removed here
	}
	net := networkName(d.l.Cfg)
	exists, err := networkExists(ctx, net)
	if err != nil {
		return err
	}
	if exists {
		users, err := runLocal(ctx, "", nil, nil, "docker", "network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{end}}", net)
		if err != nil {
			return fmt.Errorf("asking docker about network %s: %w", net, err)
		}
		if u := strings.Fields(string(users)); len(u) > 0 {
			fmt.Fprintf(d.l.Out, "==> keeping docker network %s: still used by %s\n", net, strings.Join(u, ", "))
			return nil
		}
		if _, err := runLocal(ctx, "", nil, nil, "docker", "network", "rm", net); err != nil {
			return fmt.Errorf("removing docker network %s: %w", net, err)
		}
	}
	return os.Remove(d.networkMarker())
}

// otherLab is a node container of some halab lab on this engine.
type otherLab struct {
	Name, ID, Config, Subnet string
	Ports                    string
}

// CheckFree refuses, before anything is made, a lab whose name, subnet or
// SSH ports a running lab of another lab file holds: its containers would
// collide by name, its network would be shared, its ports taken.
func (d *dockerProvider) CheckFree(ctx context.Context) error {
	format := "{{.Label \"" + labelLab + "\"}}\t{{.Label \"" + labelID + "\"}}\t{{.Label \"" + labelConfig + "\"}}\t{{.Label \"" + labelSubnet + "\"}}\t{{.Ports}}\t{{.Names}}"
	out, err := runLocal(ctx, "", nil, nil, "docker", "ps", "-a", "--filter", "label="+labelLab, "--format", format)
	if err != nil {
		return err
	}
	cfg := d.l.Cfg
	var problems []string
	seen := map[string]bool{}
	// Containers of colliding labs whose lab file is gone (a deleted
	// checkout): `halab -c FILE down` cannot remove them any more.
	orphans := map[string][]string{}
	var orphanFiles []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 6 || f[1] == d.l.ID.ID {
			continue
		}
		o := otherLab{Name: f[0], ID: f[1], Config: f[2], Subnet: f[3], Ports: f[4]}
		hit := false
		who := o.Config
		if who == "" {
			who = "a lab made by an older halab (docker label " + labelLab + "=" + o.Name + ")"
		}
		add := func(msg string) {
			hit = true
			if !seen[msg] {
				seen[msg] = true
				problems = append(problems, msg)
			}
		}
		if o.Name == cfg.Name {
			add(fmt.Sprintf("name: %q is taken by the lab of %s on this machine: give this lab a name of its own", cfg.Name, who))
		}
		if p, err := netip.ParsePrefix(o.Subnet); err == nil && p.Overlaps(cfg.Subnet()) {
			add(fmt.Sprintf("vip.address: the subnet %s overlaps %s of the lab of %s: give this lab a network of its own (vip.address, nodes[].ip)", cfg.Subnet(), p, who))
		}
		for i := range cfg.Nodes {
			port := cfg.Providers.Docker.SSHPort + i
			if strings.Contains(o.Ports, fmt.Sprintf(":%d->", port)) {
				add(fmt.Sprintf("providers.docker.ssh_port: host port %d is taken by the lab of %s: give this lab a range of its own", port, who))
			}
		}
		if hit && o.Config != "" {
			if _, err := os.Stat(o.Config); errors.Is(err, fs.ErrNotExist) {
				if orphans[o.Config] == nil {
					orphanFiles = append(orphanFiles, o.Config)
				}
				orphans[o.Config] = append(orphans[o.Config], f[5])
			}
		}
	}
	for _, file := range orphanFiles {
		problems = append(problems, fmt.Sprintf("the lab file %s no longer exists, so its machines were left behind: if they are no longer wanted, remove them with `docker rm -f %s`", file, strings.Join(orphans[file], " ")))
	}
	if len(problems) > 0 {
		return &ConfigError{File: cfg.Path, Problems: problems}
	}
	return nil
}
