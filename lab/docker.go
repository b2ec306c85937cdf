package lab

import (
	"context"
	"fmt"
	"io"
	"os/exec"
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
	fmt.Fprintf(out, "==> building node image %s (inputs changed or first build)\n", tag)
	start := time.Now()
	if err := BuildImage(ctx, d.l.Root, d.l.Cfg, tag, NewPrefixWriter(out, "    ")); err != nil {
		return err
	}
	fmt.Fprintf(out, "==> node image built in %s\n", time.Since(start).Round(time.Second))
	return nil
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
	if err := d.v.Destroy(ctx); err != nil {
		return err
	}
	return cleanupDocker(ctx, d.l.Cfg)
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

// cleanupDocker removes what a lab may leave behind on the docker engine
// when .vagrant/ was lost or vagrant was interrupted: containers labelled
// with the lab's name and Vagrant's private network for the lab's subnet,
// if nothing uses it any more.
func cleanupDocker(ctx context.Context, cfg *Config) error {
	out, err := runLocal(ctx, "", nil, nil, "docker", "ps", "-aq", "--filter", "label=halab.lab="+cfg.Name)
	if err != nil {
		return err
	}
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		if _, err := runLocal(ctx, "", nil, nil, append([]string{"docker", "rm", "-f"}, ids...)...); err != nil {
			return err
		}
	}
	subnet := fmt.Sprintf("%s/%d", cfg.Subnet().Addr(), cfg.Prefix())
	name := "vagrant_network_" + subnet
	if _, err := runLocal(ctx, "", nil, nil, "docker", "network", "inspect", name); err != nil {
		return nil // not there: nothing to do
	}
	if _, err := runLocal(ctx, "", nil, nil, "docker", "network", "rm", name); err != nil {
		return fmt.Errorf("docker network %s is still in use by containers outside this lab: %w", name, err)
	}
	return nil
}
