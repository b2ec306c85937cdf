package lab

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Provider is a kind of machine a lab runs on: it makes, boots, powers off
// and destroys the lab's nodes and says how to reach them over SSH. Each
// provider lives in a file of its own and is listed in providerKinds;
// nothing outside them branches on a provider's name.
type Provider interface {
	// Name is the provider's name in the lab file (provider:).
	Name() string
	// Runnable says whether this machine has the provider's tools, and
	// what to install when it does not.
	Runnable() error
	// Prepare makes what Up needs besides the machines (a node image),
	// reporting progress on out; a no-op when it is up to date.
	Prepare(ctx context.Context, out io.Writer) error
	// CheckFree refuses (a *ConfigError naming the other lab and the key
	// to change) when another lab on this machine holds this lab's name,
	// network or ports; it changes nothing.
	CheckFree(ctx context.Context) error
	// Up creates and boots the named machines (all when none are named).
	Up(ctx context.Context, nodes ...string) error
	// Destroy removes the lab's machines and what the provider made for
	// them; destroying what does not exist is fine.
	Destroy(ctx context.Context) error
	// PowerOff cuts a node's power without letting it say goodbye.
	PowerOff(ctx context.Context, node string) error
	// PowerOn boots a powered-off node again.
	PowerOn(ctx context.Context, node string) error
	// Running asks the provider (not the node) whether the machine runs.
	Running(ctx context.Context, node string) (bool, error)
	// Endpoints says how to reach each named node over SSH.
	Endpoints(ctx context.Context, nodes []string) ([]SSHEndpoint, error)
	// MachineID is the provider's id of a node's machine, "" when the
	// machine was never created.
	MachineID(node string) string
}

// ImageCache is a provider that keeps node images on this machine: the
// bench removes them to measure a bring-up from nothing.
type ImageCache interface {
	// Images are the tags of the images the lab's nodes are made from,
	// the node image first.
	Images() ([]string, error)
	// RemoveImage removes one of them from this machine, if present.
	RemoveImage(ctx context.Context, tag string) error
}

// Container is a provider whose nodes are containers on this machine's
// kernel (a report says the kernel versions are the host's).
type Container interface {
	SharesHostKernel()
}

// providerKind is one registered provider: how to make it for a lab and
// whether it runs on this machine. The order is auto's preference.
type providerKind struct {
	name     string
	make     func(l *Lab) (Provider, error)
	runnable func() error
}

var providerKinds = []providerKind{
	{name: virtualboxName, make: newVirtualBox, runnable: virtualboxRunnable},
	{name: dockerName, make: newDocker, runnable: dockerRunnable},
}

// AutoProvider is the provider: value that picks one on this machine.
const AutoProvider = "auto"

// ProviderNames lists the providers a lab file may name, auto first.
func ProviderNames() []string {
	names := []string{AutoProvider}
	for _, k := range providerKinds {
		names = append(names, k.name)
	}
	return names
}

func providerKindOf(name string) (providerKind, bool) {
	for _, k := range providerKinds {
		if k.name == name {
			return k, true
		}
	}
	return providerKind{}, false
}

// selectProvider resolves auto: a provider whose machines exist for this
// lab wins, so that auto never flips under a lab; else the first one that
// runs here.
func selectProvider(cfg *Config, vagrantDir string) (name, reason string) {
	if cfg.Provider != AutoProvider {
		return cfg.Provider, "set in " + filepath.Base(cfg.Path)
	}
	for _, k := range providerKinds {
		for _, n := range cfg.Nodes {
			if _, err := os.Stat(filepath.Join(vagrantDir, "machines", n.Name, k.name, "id")); err == nil {
				return k.name, "auto: machines of this provider exist"
			}
		}
	}
	var why []string
	for _, k := range providerKinds {
		err := k.runnable()
		if err == nil {
			return k.name, "auto: " + strings.Join(append(why, k.name+" runs here"), "; ")
		}
		why = append(why, k.name+" not usable here")
	}
	last := providerKinds[len(providerKinds)-1].name
	return last, "auto: " + strings.Join(why, "; ")
}

// newProvider makes the lab's provider.
func newProvider(l *Lab, name string) (Provider, error) {
	k, ok := providerKindOf(name)
	if !ok {
		return nil, fmt.Errorf("unknown provider %q (use one of %s)", name, strings.Join(ProviderNames(), ", "))
	}
	return k.make(l)
}
