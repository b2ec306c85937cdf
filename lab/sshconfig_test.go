package lab

import (
	"os"
	"strings"
	"testing"
)

func TestParseSSHConfig(t *testing.T) {
	cases := []struct {
		file string
		want []SSHEndpoint
	}{
		{"testdata/sshconfig/docker.txt", []SSHEndpoint{
			{Node: "node1", Host: "127.0.0.1", Port: 2222, User: "vagrant", IdentityFile: "/work/main/.vagrant/machines/node1/docker/private_key"},
			{Node: "node2", Host: "127.0.0.1", Port: 2223, User: "vagrant", IdentityFile: "/work/main/.vagrant/machines/node2/docker/private_key"},
		}},
		// VirtualBox lists the insecure key second when insert_key is off;
		// the machine's own key must win.
		{"testdata/sshconfig/virtualbox.txt", []SSHEndpoint{
			{Node: "node1", Host: "127.0.0.1", Port: 2222, User: "vagrant", IdentityFile: "/home/user/halab/.vagrant/machines/node1/virtualbox/private_key"},
			{Node: "node2", Host: "127.0.0.1", Port: 2200, User: "vagrant", IdentityFile: "/home/user/halab/.vagrant/machines/node2/virtualbox/private_key"},
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseSSHConfig(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %d endpoints, want %d: %+v", len(got), len(c.want), got)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("endpoint %d = %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestParseSSHConfigErrors(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"port not a number":  {"Host a\n HostName h\n User u\n IdentityFile k\n Port x\n", "Port \"x\""},
		"port out of range":  {"Host a\n Port 70000\n", "not a TCP port"},
		"option before host": {"HostName h\n", "before any Host"},
		"incomplete host":    {"Host a\n HostName h\n", "lacks HostName, User or IdentityFile"},
		"no value":           {"Host a\n Garbage\n", "expected `Key value`"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseSSHConfig([]byte(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}
