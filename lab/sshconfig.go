package lab

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// SSHEndpoint is how to reach one node, as `vagrant ssh-config` says.
type SSHEndpoint struct {
	Node         string `json:"node"`
	Host         string `json:"host"`
	Port         int    `json:"port"`
	User         string `json:"user"`
	IdentityFile string `json:"identity_file"`
	// HostKey, when set, is the only host key the node may present
	// ("ssh-ed25519 AAAA..."), known before first contact: Dial then
	// neither trusts on first use nor pins. HostKeyFrom says where it
	// comes from, for the refusal.
	HostKey     string `json:"host_key,omitempty"`
	HostKeyFrom string `json:"host_key_from,omitempty"`
}

// Addr is host:port.
func (e SSHEndpoint) Addr() string { return fmt.Sprintf("%s:%d", e.Host, e.Port) }

// ParseSSHConfig reads the output of `vagrant ssh-config` (one Host block
// per machine). Options halab does not use (StrictHostKeyChecking, which
// halab replaces with pinning, LogLevel, ...) are ignored.
func ParseSSHConfig(out []byte) ([]SSHEndpoint, error) {
	var eps []SSHEndpoint
	var cur *SSHEndpoint
	sc := bufio.NewScanner(bytes.NewReader(out))
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		key, value, ok := strings.Cut(text, " ")
		if !ok {
			key, value, ok = strings.Cut(text, "=")
		}
		if !ok {
			return nil, fmt.Errorf("ssh-config line %d: %q: expected `Key value`", line, text)
		}
		value = strings.Trim(strings.TrimSpace(value), `"`)
		switch strings.ToLower(key) {
		case "host":
			eps = append(eps, SSHEndpoint{Node: value, Port: 22})
			cur = &eps[len(eps)-1]
		case "hostname", "port", "user", "identityfile":
			if cur == nil {
				return nil, fmt.Errorf("ssh-config line %d: %s before any Host", line, key)
			}
			switch strings.ToLower(key) {
			case "hostname":
				cur.Host = value
			case "user":
				cur.User = value
			case "identityfile":
				// Vagrant may list several; the first is the machine's own key.
				if cur.IdentityFile == "" {
					cur.IdentityFile = value
				}
			case "port":
				p, err := strconv.Atoi(value)
				if err != nil || p < 1 || p > 65535 {
					return nil, fmt.Errorf("ssh-config line %d: Port %q is not a TCP port", line, value)
				}
				cur.Port = p
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, e := range eps {
		if e.Host == "" || e.User == "" || e.IdentityFile == "" {
			return nil, fmt.Errorf("ssh-config: Host %s lacks HostName, User or IdentityFile", e.Node)
		}
	}
	return eps, nil
}
