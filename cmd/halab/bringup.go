package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"halab/lab"
	"halab/lab/fence"
	"halab/provision"
)

func (a *app) imageCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "image",
		Short: "Prepare what the provider makes nodes from (the docker provider's node image; skipped when up to date)",
		Args:  cobra.NoArgs,
		RunE: a.withLab(true, func(cmd *cobra.Command, l *lab.Lab, _ []string) error {
			return l.Provider.Prepare(cmd.Context(), l.Out)
		}),
	}
}

func (a *app) upCmd() *cobra.Command {
	var sshTimeout time.Duration
	var acceptHostKeys bool
	c := &cobra.Command{
		Use:   "up",
		Short: "Create and boot the lab's nodes (or check machines halab did not make), wait for SSH, show them",
		Args:  cobra.NoArgs,
		RunE: a.withLab(true, func(cmd *cobra.Command, l *lab.Lab, _ []string) error {
			ctx := cmd.Context()
			out := l.Out
			l.AcceptHostKeys = acceptHostKeys
			l.NodeChecks = append(l.NodeChecks, provision.CheckNode)
			fmt.Fprintf(out, "==> provider %s (%s)\n", l.Provider.Name(), l.ProviderReason)
			if err := l.Provider.Runnable(); err != nil {
				return err
			}
			// Another lab's name, network or ports: refused before
			// anything is made.
			if err := l.Provider.CheckFree(ctx); err != nil {
				return err
			}
			if err := checkJDKBeforeUp(l); err != nil {
				return err
			}
			if err := l.Claim(); err != nil {
				return err
			}
			if err := l.Provider.Prepare(ctx, out); err != nil {
				return err
			}
			verb := "bringing up"
			if !l.MadeByHalab() {
				verb = "checking machines halab did not make:"
			}
			fmt.Fprintf(out, "==> %s %s\n", verb, strings.Join(l.Cfg.NodeNames(), " "))
			start := time.Now()
			if err := l.Provider.Up(ctx); err != nil {
				return err
			}
			fmt.Fprintf(out, "==> machines up in %s; waiting for SSH\n", time.Since(start).Round(100*time.Millisecond))
			nodes, err := l.WaitSSH(ctx, sshTimeout)
			if err != nil {
				return err
			}
			defer closeAll(nodes)
			if err := ensureFenceEndpoint(ctx, l); err != nil {
				return err
			}
			rows := describe(ctx, l, nodes, false)
			printTable(out, rows, false)
			for _, r := range rows {
				if !slices.Contains(r.NICIPs, r.IP) {
					return fmt.Errorf("node %s: %s shows %v, not lab.yaml's %s", r.Node, l.Cfg.VIP.NIC, r.NICIPs, r.IP)
				}
			}
			return nil
		}),
	}
	c.Flags().DurationVar(&sshTimeout, "ssh-timeout", 3*time.Minute, "how long to wait for SSH on every node")
	c.Flags().BoolVar(&acceptHostKeys, "accept-host-keys", false, "pin the host keys that machines halab did not make present, where the lab file gives none (check the fingerprints `halab up` shows first)")
	return c
}

// checkJDKBeforeUp refuses, before any machine boots, a JDK archive that
// could not run on the nodes the provider makes (the host's JDK on
// hashicorp/precise64: glibc 2.34 against 2.15). Providers that cannot
// tell before boot are checked by provision, on the nodes themselves; a
// missing archive is provision's to report.
func checkJDKBeforeUp(l *lab.Lab) error {
	kn, ok := l.Provider.(lab.KnownNodes)
	if !ok {
		return nil
	}
	nodes, ok := kn.NodesOS()
	if !ok || l.Cfg.CheckFiles() != nil {
		return nil
	}
	has, err := provision.ParseGlibc(nodes.Glibc)
	if err != nil {
		return err
	}
	who := fmt.Sprintf("the %s nodes (%s)", l.Provider.Name(), nodes.OS)
	return provision.CheckJDKFits(l.Cfg, l.State, has, who, "stopped before bringing any machine up")
}

// nodeRow is one line of `halab up` / `halab status`.
type nodeRow struct {
	Node      string   `json:"node"`
	Provider  string   `json:"provider"`
	MachineID string   `json:"machine_id"`
	State     string   `json:"state"`
	SSH       string   `json:"ssh"`
	IP        string   `json:"ip"`
	NICIPs    []string `json:"nic_ips"`
	SSHOK     bool     `json:"ssh_ok"`
	IPOK      bool     `json:"private_ip_reachable"`
	Error     string   `json:"error,omitempty"`
}

func describe(ctx context.Context, l *lab.Lab, nodes []*lab.Node, reach bool) []nodeRow {
	rows := make([]nodeRow, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := nodeRow{Node: n.Name, Provider: l.Provider.Name(), MachineID: short(l.Provider.MachineID(n.Name)), State: "running",
				SSH: n.Endpoint.Addr(), IP: n.IP, SSHOK: true}
			ips, err := lab.NodeIP(ctx, n, l.Cfg.VIP.NIC)
			if err != nil {
				r.Error = err.Error()
			}
			r.NICIPs = ips
			if reach {
				r.IPOK = tcpReachable(n.IP, 22)
			}
			rows[i] = r
		}()
	}
	wg.Wait()
	return rows
}

// tcpReachable checks that the host reaches a node's private IP: one
// connection to its sshd, bounded.
func tcpReachable(ip string, port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, fmt.Sprint(port)), 2*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func printTable(w io.Writer, rows []nodeRow, reach bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if reach {
		fmt.Fprintln(tw, "NODE\tPROVIDER\tSTATE\tSSH\tPRIVATE IP\tON NIC\tSSH OK\tIP REACHABLE")
	} else {
		fmt.Fprintln(tw, "NODE\tPROVIDER\tSSH\tPRIVATE IP\tON NIC")
	}
	for _, r := range rows {
		nic := strings.Join(r.NICIPs, ",")
		if nic == "" {
			nic = "-"
		}
		if reach {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Node, r.Provider, r.State, r.SSH, r.IP, nic, yes(r.SSHOK), yes(r.IPOK))
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Node, r.Provider, r.SSH, r.IP, nic)
		}
	}
	tw.Flush()
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func closeAll(nodes []*lab.Node) {
	for _, n := range nodes {
		n.Close()
	}
}

func (a *app) statusCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the nodes (SSH endpoints, private IPs, reachability), the cluster as each node sees it, split brain, and faults left with their heals",
		Args:  cobra.NoArgs,
		RunE: a.withLab(false, func(cmd *cobra.Command, l *lab.Lab, _ []string) error {
			ctx := cmd.Context()
			rows := make([]nodeRow, 0, len(l.Cfg.Nodes))
			for _, spec := range l.Cfg.Nodes {
				r := nodeRow{Node: spec.Name, Provider: l.Provider.Name(), IP: spec.IP, MachineID: short(l.Provider.MachineID(spec.Name)), State: "not_created"}
				if r.MachineID != "" {
					if running, err := l.Provider.Running(ctx, spec.Name); err == nil && running {
						r.State = "running"
					} else {
						r.State = "stopped"
					}
				}
				if r.State == "running" {
					nodes, err := l.Connect(ctx, spec.Name)
					if err != nil {
						r.Error = err.Error()
					} else {
						dr := describe(ctx, l, nodes, true)
						closeAll(nodes)
						dr[0].State, dr[0].MachineID = r.State, r.MachineID
						r = dr[0]
					}
				}
				rows = append(rows, r)
			}
			in := a.inspect(ctx, l, true)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"lab": l.Cfg.Name, "provider": l.Provider.Name(), "nodes": rows,
					"cluster": in.Cluster, "faults_left": in.FaultsLeft, "heal_all": in.HealAll, "fence_endpoint": fence.Status(ctx, l)})
			}
			printTable(cmd.OutOrStdout(), rows, true)
			printFenceStatus(ctx, cmd.OutOrStdout(), l)
			printCluster(cmd.OutOrStdout(), in.Cluster)
			printFaultsLeft(cmd.OutOrStdout(), in)
			for _, r := range rows {
				if r.Error != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", r.Node, r.Error)
				}
			}
			return nil
		}),
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func (a *app) sshCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ssh NODE [-- COMMAND ARGS...]",
		Short: "Open a shell on a node, or run one command there (arguments are quoted)",
		Args:  cobra.MinimumNArgs(1),
		RunE: a.withLab(false, func(cmd *cobra.Command, l *lab.Lab, args []string) error {
			ctx := cmd.Context()
			if _, ok := l.Cfg.Node(args[0]); !ok {
				return &usageError{fmt.Sprintf("ssh: node %q is not in %s (known: %s)", args[0], l.Cfg.Path, strings.Join(l.Cfg.NodeNames(), ", "))}
			}
			nodes, err := l.Connect(ctx, args[0])
			if err != nil {
				return err
			}
			defer closeAll(nodes)
			n := nodes[0]
			if len(args) == 1 {
				return interactive(l, n)
			}
			res, err := n.Run(ctx, os.Stdin, args[1:]...)
			if err != nil {
				return err
			}
			cmd.OutOrStdout().Write(res.Stdout)
			cmd.ErrOrStderr().Write(res.Stderr)
			if !res.OK() {
				return &exitCode{code: res.ExitCode, err: fmt.Errorf("%s: exit status %d", args[1], res.ExitCode)}
			}
			return nil
		}),
	}
}

// interactive hands the terminal to OpenSSH, pinned to the same host key
// halab recorded (HostKeyAlias names the entry in the pin file).
func interactive(l *lab.Lab, n *lab.Node) error {
	version := string(n.Client.ServerVersion())
	n.Close()
	ep := n.Endpoint
	knownHosts := l.Keys.File
	if ep.HostKey != "" {
		// The key the node must present, in a file of its own for OpenSSH.
		f, err := os.CreateTemp(l.State, "known_hosts.ssh.*")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		_, err = fmt.Fprintf(f, "%s %s\n", l.HostKeyAlias(n.Name), ep.HostKey)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		knownHosts = f.Name()
	}
	c := exec.Command("ssh", interactiveArgs(ep, knownHosts, l.HostKeyAlias(n.Name), version)...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	return c.Run()
}

// interactiveArgs are OpenSSH's arguments for a shell on a node (then a
// command, if given). A node whose sshd is older than OpenSSH 7.2 (Ubuntu
// 12.04's 5.9, in the precise64 box) verifies RSA signatures only as
// ssh-rsa (SHA-1), for its host key and for the user key Vagrant inserts
// (RSA), which OpenSSH 8.8 and later no longer offer by default: for such
// a node only, ssh-rsa is allowed again (PubkeyAcceptedKeyTypes, the name
// OpenSSH 7 and 8 know too).
func interactiveArgs(ep lab.SSHEndpoint, knownHosts, alias, serverVersion string, command ...string) []string {
	args := []string{"-i", ep.IdentityFile, "-p", fmt.Sprint(ep.Port),
		"-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=" + knownHosts,
		"-o", "HostKeyAlias=" + alias, "-o", "StrictHostKeyChecking=yes"}
	if sshdBefore72(serverVersion) {
		args = append(args, "-o", "HostKeyAlgorithms=+ssh-rsa", "-o", "PubkeyAcceptedKeyTypes=+ssh-rsa")
	}
	args = append(args, ep.User+"@"+ep.Host)
	if len(command) > 0 {
		args = append(append(args, "--"), command...)
	}
	return args
}

var opensshVersionRe = regexp.MustCompile(`^SSH-2\.0-OpenSSH_(\d+)\.(\d+)`)

// sshdBefore72 says whether a server banner is OpenSSH older than 7.2,
// the first with rsa-sha2 signatures (RFC 8332).
func sshdBefore72(banner string) bool {
	m := opensshVersionRe.FindStringSubmatch(banner)
	if m == nil {
		return false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major < 7 || (major == 7 && minor < 2)
}

func (a *app) downCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Destroy the lab's machines and what the provider made for them (idempotent); machines halab did not make are left alone",
		Args:  cobra.NoArgs,
		RunE: a.withLab(true, func(cmd *cobra.Command, l *lab.Lab, _ []string) error {
			ctx := cmd.Context()
			if err := stopFenceEndpoint(l); err != nil {
				return err
			}
			if l.MadeByHalab() {
				fmt.Fprintf(l.Out, "==> destroying the machines of %s (%s)\n", l.ConfigPath, l.Provider.Name())
			}
			if err := l.Provider.Destroy(ctx); err != nil {
				return err
			}
			if err := l.Release(); err != nil {
				return err
			}
			// The machines are gone; their pinned keys and cached
			// endpoints with them.
			if err := l.Keys.Forget(); err != nil {
				return err
			}
			os.Remove(l.State + "/ssh-config.json")
			if !l.MadeByHalab() {
				fmt.Fprintf(l.Out, "==> forgot the lab of %s: its identity, pinned host keys and cached endpoints in %s; no node was changed\n", l.ConfigPath, l.State)
				return nil
			}
			fmt.Fprintln(l.Out, "==> lab is down")
			return nil
		}),
	}
}
