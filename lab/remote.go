package lab

import (
	"slices"
	"sync"
)

// RemoteCommand is an argv halab runs on the nodes: a tool and its fixed
// words (subcommands and flags). A call appends operands only, never a
// flag, so that the fixed words are everything the node's tool is asked
// to understand. Every RemoteCommand is made by Remote, which registers
// it: the tests check each one against the tools of the nodes' oldest OS
// (Ubuntu 12.04), the same way they check the scripts.
type RemoteCommand struct {
	// Tool is the command's name on the node's PATH, or, for a tool run
	// by its path (java under JAVA_HOME, the init script), its name as the
	// tool table knows it; At runs it from a path.
	Tool string
	// Args are the fixed words after the tool.
	Args []string
}

var (
	remoteMu       sync.Mutex
	remoteCommands []RemoteCommand
)

// Remote registers and returns a command halab runs on the nodes.
func Remote(tool string, args ...string) RemoteCommand {
	c := RemoteCommand{Tool: tool, Args: args}
	remoteMu.Lock()
	remoteCommands = append(remoteCommands, c)
	remoteMu.Unlock()
	return c
}

// RemoteCommands lists every registered command (of the packages linked
// in).
func RemoteCommands() []RemoteCommand {
	remoteMu.Lock()
	defer remoteMu.Unlock()
	return slices.Clone(remoteCommands)
}

// Argv is the command with operands appended.
func (c RemoteCommand) Argv(operands ...string) []string {
	return append(append([]string{c.Tool}, c.Args...), operands...)
}

// At is the command run from path (a tool that is not on the PATH), with
// operands appended.
func (c RemoteCommand) At(path string, operands ...string) []string {
	return append(append([]string{path}, c.Args...), operands...)
}

// The wrappers every remote command runs in: sudo for root (the vagrant
// user has passwordless sudo), and sh for scripts sent on stdin or given
// inline.
var (
	sudoCmd    = Remote("sudo", "-n", "--")
	shStdinCmd = Remote("sh", "-s", "--")
	shInline   = Remote("sh", "-c")
	// envCmd carries the marker that lets halab end a command it gave up on.
	envCmd     = Remote("env")
	nicAddrCmd = Remote("ip", "-4", "-o", "addr", "show", "dev")
)
