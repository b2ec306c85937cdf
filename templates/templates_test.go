package templates

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current templates")

// labParams is the two-node lab of lab.yaml.
func labParams() Params {
	return Params{
		Nodes: []Node{
			{Name: "node1", IP: "192.168.56.11"},
			{Name: "node2", IP: "192.168.56.12"},
		},
		NIC:           "eth1",
		VIP:           "192.168.56.20",
		Netmask:       "255.255.255.0",
		Prefix:        24,
		Keepalive:     2,
		Warntime:      10,
		Deadtime:      20,
		Initdead:      120,
		TokenMS:       3000,
		ConsensusMS:   3600,
		ClusterName:   "halab",
		PreferredNode: "node1",
		ServiceName:   "stratos",
		User:          "vagrant",
		JavaHome:      "/opt/jdk",
		ProductHome:   "/opt/stratos",
		Port:          8080,
		StartTimeout:  60,
		StopTimeout:   30,
	}
}

func tunedParams() Params {
	p := labParams()
	p.Stickiness = 100
	p.MigrationThreshold = 3
	p.DCDeadtime = 5
	return p
}

func TestGolden(t *testing.T) {
	tests := []struct {
		golden string
		render func() ([]byte, error)
	}{
		{"ha.cf-crm.golden", func() ([]byte, error) { return HaCf(labParams(), true) }},
		{"ha.cf-v1.golden", func() ([]byte, error) { return HaCf(labParams(), false) }},
		{"ha.cf-v1-sticky.golden", func() ([]byte, error) { return HaCf(tunedParams(), false) }},
		{"authkeys.golden", func() ([]byte, error) { return Authkeys("0123456789abcdef0123456789abcdef") }},
		{"haresources.golden", func() ([]byte, error) { return Haresources(labParams()) }},
		{"corosync.conf.golden", func() ([]byte, error) { return CorosyncConf(labParams()) }},
		{"crm.golden", func() ([]byte, error) { return CrmConfig(labParams()) }},
		{"crm-tuned.golden", func() ([]byte, error) { return CrmConfig(tunedParams()) }},
		{"initd.golden", func() ([]byte, error) { return InitScript(labParams()) }},
		{"stratos.sh.golden", func() ([]byte, error) { return StratosSh(labParams()) }},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got, err := tt.render()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./templates -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the rendered text (go test ./templates -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

// The exact one-line formats the callers and heartbeat depend on.
func TestExactLines(t *testing.T) {
	got, err := Authkeys("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if want := "auth 1\n1 sha1 s3cret\n"; string(got) != want {
		t.Errorf("Authkeys = %q, want %q", got, want)
	}
	got, err = Haresources(labParams())
	if err != nil {
		t.Fatal(err)
	}
	if want := "node1 IPaddr::192.168.56.20/24/eth1 stratos\n"; string(got) != want {
		t.Errorf("Haresources = %q, want %q", got, want)
	}
}

func TestOptionalCrmLines(t *testing.T) {
	plain, err := CrmConfig(labParams())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"rsc_defaults", "migration-threshold", "no-quorum-policy"} {
		if bytes.Contains(plain, []byte(s)) {
			t.Errorf("CrmConfig with zero Stickiness/MigrationThreshold emits %q:\n%s", s, plain)
		}
	}
	tuned, err := CrmConfig(tunedParams())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"rsc_defaults resource-stickiness=100\n", "meta migration-threshold=3 "} {
		if !bytes.Contains(tuned, []byte(s)) {
			t.Errorf("CrmConfig lacks %q:\n%s", s, tuned)
		}
	}
}

func TestCorosyncTwoNodeOnlyForTwoNodes(t *testing.T) {
	p := labParams()
	p.Nodes = append(p.Nodes, Node{Name: "node3", IP: "192.168.56.13"})
	got, err := CorosyncConf(p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(got, []byte("two_node")) {
		t.Errorf("three-node corosync.conf sets two_node:\n%s", got)
	}
	if !bytes.Contains(got, []byte("nodeid: 3\n\t\tring0_addr: 192.168.56.13")) {
		t.Errorf("third node missing or misnumbered:\n%s", got)
	}
}

func TestMissingFields(t *testing.T) {
	tests := []struct {
		name    string
		render  func(p Params) ([]byte, error)
		breakIt func(p *Params)
		want    []string // in the error: the template and the missing fields
	}{
		{"ha.cf no nodes", func(p Params) ([]byte, error) { return HaCf(p, true) },
			func(p *Params) { p.Nodes = nil }, []string{"ha.cf.tmpl", "Nodes"}},
		{"ha.cf node without IP", func(p Params) ([]byte, error) { return HaCf(p, false) },
			func(p *Params) { p.Nodes[1].IP = "" }, []string{"ha.cf.tmpl", "Nodes[1]"}},
		{"ha.cf timings", func(p Params) ([]byte, error) { return HaCf(p, true) },
			func(p *Params) { p.NIC, p.Deadtime = "", 0 }, []string{"ha.cf.tmpl", "NIC", "Deadtime"}},
		{"haresources", Haresources,
			func(p *Params) { p.PreferredNode, p.Prefix = "", 0 }, []string{"haresources.tmpl", "PreferredNode", "Prefix"}},
		{"corosync", CorosyncConf,
			func(p *Params) { p.ClusterName, p.TokenMS = "", 0 }, []string{"corosync.conf.tmpl", "ClusterName", "TokenMS"}},
		{"crm", CrmConfig,
			func(p *Params) { p.VIP, p.ServiceName = "", "" }, []string{"crm.tmpl", "VIP", "ServiceName"}},
		{"initd", InitScript,
			func(p *Params) { p.User, p.StopTimeout = "", 0 }, []string{"initd.tmpl", "User", "StopTimeout"}},
		{"stratos.sh", StratosSh,
			func(p *Params) { p.ProductHome, p.Port = "", 0 }, []string{"stratos.sh.tmpl", "ProductHome", "Port"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := labParams()
			tt.breakIt(&p)
			out, err := tt.render(p)
			if err == nil {
				t.Fatalf("no error; rendered:\n%s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}

	for _, secret := range []string{"", "two words", "line\nbreak"} {
		if out, err := Authkeys(secret); err == nil || !strings.Contains(err.Error(), "authkeys.tmpl") {
			t.Errorf("Authkeys(%q) = %q, %v; want an error naming authkeys.tmpl", secret, out, err)
		}
	}
}

// Values are single-quoted in the scripts, so none can break out of them.
func TestScriptsQuoteValues(t *testing.T) {
	p := labParams()
	p.User = "it's"
	p.ProductHome = `/opt/$(touch /tmp/pwned) "x"`
	for name, render := range map[string]func(Params) ([]byte, error){"initd": InitScript, "stratos.sh": StratosSh} {
		got, err := render(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(got, []byte(`PRODUCT_HOME='/opt/$(touch /tmp/pwned) "x"'`)) {
			t.Errorf("%s: PRODUCT_HOME not single-quoted:\n%s", name, got)
		}
		syntaxCheck(t, name, got)
	}
}

func TestScriptsParseInPOSIXShells(t *testing.T) {
	for name, render := range map[string]func(Params) ([]byte, error){"initd": InitScript, "stratos.sh": StratosSh} {
		got, err := render(labParams())
		if err != nil {
			t.Fatal(err)
		}
		syntaxCheck(t, name, got)
	}
}

// syntaxCheck runs sh -n and dash -n (dash is Debian's /bin/sh and rejects
// most bashisms at parse time).
func syntaxCheck(t *testing.T, name string, script []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, script, 0o755); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, sh := range []string{"sh", "dash"} {
		if _, err := exec.LookPath(sh); err != nil {
			continue
		}
		checked++
		if out, err := exec.Command(sh, "-n", path).CombinedOutput(); err != nil {
			t.Errorf("%s -n %s: %v\n%s", sh, name, err, out)
		}
	}
	if checked == 0 {
		t.Skip("neither sh nor dash found")
	}
}

func TestServiceJava(t *testing.T) {
	src := ServiceJava()
	for _, s := range []string{"public final class Stratos", "com.sun.net.httpserver.HttpServer", `"/health"`} {
		if !bytes.Contains(src, []byte(s)) {
			t.Errorf("ServiceJava lacks %q", s)
		}
	}
	src[0] = 'X' // the caller's copy must not alias the embedded source
	if ServiceJava()[0] == 'X' {
		t.Error("ServiceJava returns the embedded slice itself")
	}
}
