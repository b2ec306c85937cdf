// Package templates renders the files halab pushes to the lab nodes: the
// messaging layer's configuration (ha.cf, authkeys, haresources,
// corosync.conf), the crm configuration, the service's init.d script and the
// stand-in service itself. The texts are embedded text/templates filled from
// Params; the package knows nothing of SSH, YAML or where the files go.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
)

// Node is one cluster member.
type Node struct {
	Name string // the node's hostname (uname -n), as heartbeat and corosync expect
	IP   string // dotted IPv4 on the cluster network
}

// Params is everything the templates need. The caller validates it; the
// renderers only refuse values whose absence would produce a broken file.
type Params struct {
	Nodes   []Node
	NIC     string // e.g. "eth1"
	VIP     string // e.g. "192.168.56.20"
	Netmask string // dotted, e.g. "255.255.255.0"
	Prefix  int    // e.g. 24

	// heartbeat timings (seconds)
	Keepalive, Warntime, Deadtime, Initdead int
	// corosync timings (milliseconds)
	TokenMS, ConsensusMS int
	// Pacemaker's dc-deadtime (seconds); 0 = its default, not emitted
	DCDeadtime  int
	ClusterName string

	PreferredNode      string // haresources owner
	Stickiness         int    // crm resource-stickiness; 0 = do not emit
	MigrationThreshold int    // 0 = do not emit
	// Fencing is the crm configuration's fence devices and race guard;
	// nil: the article's stonith-enabled=false.
	Fencing *Fencing

	// service
	ServiceName               string // LSB resource name, /etc/init.d/<name>
	User                      string // the service runs as this user
	JavaHome                  string
	ProductHome               string
	Port                      int // HTTP port the service listens on
	StartTimeout, StopTimeout int // seconds the init script waits (bounded)
}

// Grace periods of the init script's stop escalation, in seconds: after
// StopTimeout it sends TERM, after termGrace more KILL, and after killGrace
// more it gives up. Pacemaker's stop timeout must cover all three.
const (
	termGrace = 5
	killGrace = 5
	// opMargin is what Pacemaker's start/stop timeouts add to the script's own
	// bounds, so the script reports its failure before Pacemaker kills it.
	opMargin = 10
)

//go:embed *.tmpl
var tmplFS embed.FS

//go:embed service/Stratos.java
var serviceJava []byte

var tmpls = template.Must(template.New("").Funcs(template.FuncMap{
	"shq":     shellQuote,
	"inc":     func(i int) int { return i + 1 },
	"article": func() article { return articleNames },
}).ParseFS(tmplFS, "*.tmpl"))

// HaCf renders /etc/ha.d/ha.cf. crm selects Pacemaker as the resource
// manager (stack "heartbeat", "crm yes"); without it heartbeat runs its own
// v1 resource manager from haresources (stack "heartbeat-v1", "crm no").
func HaCf(p Params, crm bool) ([]byte, error) {
	const name = "ha.cf.tmpl"
	if err := require(name,
		nodesSet(p.Nodes),
		field{"NIC", p.NIC != ""},
		field{"Keepalive", p.Keepalive > 0},
		field{"Warntime", p.Warntime > 0},
		field{"Deadtime", p.Deadtime > 0},
		field{"Initdead", p.Initdead > 0},
	); err != nil {
		return nil, err
	}
	return render(name, struct {
		Params
		CRM bool
	}{p, crm})
}

// Authkeys renders /etc/ha.d/authkeys (mode 0600) with a sha1 key.
func Authkeys(secret string) ([]byte, error) {
	const name = "authkeys.tmpl"
	if err := require(name, field{"secret", secret != ""}); err != nil {
		return nil, err
	}
	// heartbeat splits the line on white space: a secret containing any
	// would be silently truncated, and a newline would end the file's key.
	if strings.ContainsAny(secret, " \t\r\n") {
		return nil, fmt.Errorf("templates: %s: secret contains white space", name)
	}
	return render(name, secret)
}

// Haresources renders /etc/ha.d/haresources for heartbeat's v1 resource
// manager: the preferred node owns the VIP and then the service.
func Haresources(p Params) ([]byte, error) {
	const name = "haresources.tmpl"
	if err := require(name,
		field{"PreferredNode", p.PreferredNode != ""},
		field{"VIP", p.VIP != ""},
		field{"Prefix", p.Prefix > 0},
		field{"NIC", p.NIC != ""},
		field{"ServiceName", p.ServiceName != ""},
	); err != nil {
		return nil, err
	}
	return render(name, p)
}

// CorosyncConf renders /etc/corosync/corosync.conf for corosync 3 (knet,
// encrypted with /etc/corosync/authkey).
func CorosyncConf(p Params) ([]byte, error) {
	const name = "corosync.conf.tmpl"
	if err := require(name,
		field{"ClusterName", p.ClusterName != ""},
		nodesSet(p.Nodes),
		field{"TokenMS", p.TokenMS > 0},
		field{"ConsensusMS", p.ConsensusMS > 0},
	); err != nil {
		return nil, err
	}
	return render(name, p)
}

// CrmConfig renders the article's crm configuration in crmsh syntax, for
// `crm configure load update <file>`. Beyond the article, STRATOS gets start
// and stop timeouts that outlast the init script's own bounds. The text has
// no comments: crmsh would store them in the CIB.
func CrmConfig(p Params) ([]byte, error) {
	const name = "crm.tmpl"
	if err := require(name,
		field{"VIP", p.VIP != ""},
		field{"Prefix", p.Prefix > 0},
		field{"NIC", p.NIC != ""},
		field{"ServiceName", p.ServiceName != ""},
	); err != nil {
		return nil, err
	}
	// Pacemaker's default operation timeout (20s) is shorter than the init
	// script's own bounds; a stop that times out without fencing leaves the
	// resource blocked, so the ops must outlast the script.
	data := struct {
		Params
		StartOpTimeout, StopOpTimeout int
		FenceDevices                  []FenceDevice
		FenceProperties, GroupMeta    []Param
	}{Params: p}
	if p.Fencing != nil {
		devices, err := p.Fencing.Devices()
		if err != nil {
			return nil, fmt.Errorf("templates: %s: fencing: %w", name, err)
		}
		data.FenceDevices, data.FenceProperties, data.GroupMeta = devices, p.Fencing.Properties(), p.Fencing.GroupMeta()
	}
	if p.StartTimeout > 0 {
		data.StartOpTimeout = p.StartTimeout + opMargin
	}
	if p.StopTimeout > 0 {
		data.StopOpTimeout = p.StopTimeout + termGrace + killGrace + opMargin
	}
	return render(name, data)
}

// InitScript renders /etc/init.d/<ServiceName>: the article's script with
// its LSB bugs fixed.
func InitScript(p Params) ([]byte, error) {
	const name = "initd.tmpl"
	if err := require(name,
		field{"ServiceName", p.ServiceName != ""},
		field{"User", p.User != ""},
		field{"JavaHome", p.JavaHome != ""},
		field{"ProductHome", p.ProductHome != ""},
		field{"StartTimeout", p.StartTimeout > 0},
		field{"StopTimeout", p.StopTimeout > 0},
	); err != nil {
		return nil, err
	}
	return render(name, struct {
		Params
		TermGrace, KillGrace int
	}{p, termGrace, killGrace})
}

// StratosSh renders <ProductHome>/bin/stratos.sh, the stand-in product's
// launcher that the init script calls.
func StratosSh(p Params) ([]byte, error) {
	const name = "stratos.sh.tmpl"
	if err := require(name,
		field{"JavaHome", p.JavaHome != ""},
		field{"ProductHome", p.ProductHome != ""},
		field{"Port", p.Port > 0},
		field{"StopTimeout", p.StopTimeout > 0},
	); err != nil {
		return nil, err
	}
	return render(name, p)
}

// ServiceJava returns the stand-in service's Java source, to be installed as
// <ProductHome>/lib/Stratos.java and run in source-launch mode (JDK 11+).
func ServiceJava() []byte {
	return bytes.Clone(serviceJava)
}

func render(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := tmpls.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("templates: render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

type field struct {
	name string
	set  bool
}

func nodesSet(nodes []Node) field {
	if len(nodes) == 0 {
		return field{"Nodes", false}
	}
	for i, n := range nodes {
		if n.Name == "" || n.IP == "" {
			return field{fmt.Sprintf("Nodes[%d].Name/IP", i), false}
		}
	}
	return field{"Nodes", true}
}

// require reports every missing field at once so the caller fixes them in
// one go.
func require(tmpl string, fields ...field) error {
	var missing []string
	for _, f := range fields {
		if !f.set {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("templates: %s: missing %s", tmpl, strings.Join(missing, ", "))
	}
	return nil
}

// shellQuote makes s one POSIX sh word whatever it contains, so no value can
// break out of the rendered scripts.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
