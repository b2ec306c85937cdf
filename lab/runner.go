package lab

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"strings"

	"github.com/pkg/sftp"
)

// Runner is one node as the provisioning steps and the harness use it: a
// name, commands (argv quoted, or a script on stdin) and a root SFTP
// session. *Node is the SSH implementation; tests use a fake.
type Runner interface {
	NodeName() string
	// Run, Sudo and SudoScript return the command's Result whatever its
	// exit status; the error is for a transport that failed.
	Run(ctx context.Context, stdin io.Reader, argv ...string) (Result, error)
	Sudo(ctx context.Context, stdin io.Reader, argv ...string) (Result, error)
	SudoScript(ctx context.Context, script string, args ...string) (Result, error)
	// SFTP opens a session of the node's SFTP server running as root.
	SFTP(ctx context.Context) (*sftp.Client, error)
	// Lost says why the connection was closed under the caller, if it was.
	Lost() error
}

var _ Runner = (*Node)(nil)

// NodeName is the node's name in the lab file.
func (n *Node) NodeName() string { return n.Name }

//go:embed scripts/sftp-server.sh
var sftpServerScript string

// SFTP starts a root SFTP session on the node. It ends with ctx.
func (n *Node) SFTP(ctx context.Context) (*sftp.Client, error) {
	sess, err := n.Client.NewSession()
	if err != nil {
		return nil, &ConnError{Node: n.Name, Addr: n.Endpoint.Addr(), Command: "sftp", Err: n.why(err)}
	}
	w, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	// Marked as every command is (RunMarker), though closing the session
	// ends it: sftp-server exits on the end of its input.
	if err := sess.Start(wireCommand(newRunID(), []string{"sh", "-c", sftpServerScript}, true)); err != nil {
		sess.Close()
		return nil, &ConnError{Node: n.Name, Addr: n.Endpoint.Addr(), Command: "sudo sftp-server", Err: err}
	}
	c, err := sftp.NewClientPipe(r, w,
		sftp.UseConcurrentWrites(true),
		sftp.MaxConcurrentRequestsPerFile(64),
	)
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("node %s: starting sftp-server as root: %v %s", n.Name, err, strings.TrimSpace(stderr.String()))
	}
	go func() { <-ctx.Done(); c.Close() }()
	return c, nil
}

// Runners are nodes as Runners.
func Runners(nodes []*Node) []Runner {
	rs := make([]Runner, len(nodes))
	for i, n := range nodes {
		rs[i] = n
	}
	return rs
}
