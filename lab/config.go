// Package lab holds the lab description (lab.yaml), its validation, the
// Vagrant driver, the inventory and node power control. It knows nothing
// of Pacemaker.
package lab

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultFile is the lab description looked up when none is named.
const DefaultFile = "lab.yaml"

// Config is lab.yaml. Field tags are the YAML keys; the Vagrantfile reads
// the same keys, so renaming one is a change to both.
type Config struct {
	Name      string     `yaml:"name"`
	Provider  string     `yaml:"provider"`
	Stack     string     `yaml:"stack"`
	Nodes     []NodeSpec `yaml:"nodes"`
	VIP       VIPSpec    `yaml:"vip"`
	Providers Providers  `yaml:"providers"`
	Timings   Timings    `yaml:"timings"`
	Service   Service    `yaml:"service"`
	CRM       CRM        `yaml:"crm"`
	Fencing   Fencing    `yaml:"fencing"`
	// Adopt lets provisioning take over machines that already run a
	// cluster halab did not set up for this lab (provider: ssh).
	Adopt bool `yaml:"adopt,omitempty"`

	// Path is the file the config was read from; relative paths inside it
	// are resolved against its directory.
	Path string `yaml:"-"`
}

type NodeSpec struct {
	Name string `yaml:"name"`
	IP   string `yaml:"ip"`
	// SSH and Power describe a machine halab did not make (provider:
	// ssh, see sshnodes.go); the other providers ignore them.
	SSH   SSHSpec   `yaml:"ssh,omitempty"`
	Power PowerSpec `yaml:"power,omitempty"`
}

type VIPSpec struct {
	Address string `yaml:"address"`
	Netmask string `yaml:"netmask"`
	NIC     string `yaml:"nic"`
}

type Providers struct {
	VirtualBox VirtualBoxSpec `yaml:"virtualbox"`
	Docker     DockerSpec     `yaml:"docker"`
}

type VirtualBoxSpec struct {
	Box    string `yaml:"box"`
	Memory int    `yaml:"memory"`
	CPUs   int    `yaml:"cpus"`
}

type DockerSpec struct {
	Image     string `yaml:"image"`
	BaseImage string `yaml:"base_image"`
	// SSHPort is the host port forwarded to the first node's sshd on
	// 127.0.0.1; node i gets SSHPort+i. Two labs on one host need
	// different ranges.
	SSHPort int `yaml:"ssh_port"`
}

// Timings are the article's heartbeat settings (seconds) and corosync's
// token and consensus (milliseconds).
type Timings struct {
	// Profile supplies the timings the file leaves out: "article" (the
	// default) or "fast" (see TimingProfiles).
	Profile     string `yaml:"profile"`
	Keepalive   int    `yaml:"keepalive"`
	Warntime    int    `yaml:"warntime"`
	Deadtime    int    `yaml:"deadtime"`
	Initdead    int    `yaml:"initdead"`
	TokenMS     int    `yaml:"token_ms"`
	ConsensusMS int    `yaml:"consensus_ms"`
	// DCDeadtime is Pacemaker's dc-deadtime in seconds (0: Pacemaker's
	// default, 20 s, not emitted).
	DCDeadtime int `yaml:"dc_deadtime"`
}

type Service struct {
	Name           string `yaml:"name"`
	User           string `yaml:"user"`
	Port           int    `yaml:"port"`
	JavaHome       string `yaml:"java_home"`
	ProductHome    string `yaml:"product_home"`
	JDKArchive     string `yaml:"jdk_archive"`
	ProductArchive string `yaml:"product_archive"`
	InitScript     string `yaml:"init_script"`
	StartTimeout   int    `yaml:"start_timeout"`
	StopTimeout    int    `yaml:"stop_timeout"`
}

type CRM struct {
	ResourceStickiness int `yaml:"resource_stickiness"`
	MigrationThreshold int `yaml:"migration_threshold"`
}

// Defaults are what an empty lab.yaml means: the article's two nodes on
// VirtualBox's usual host-only network, its timings, its service.
func Defaults() Config {
	return Config{
		Name:     "halab",
		Provider: "auto",
		Stack:    "auto",
		Nodes:    []NodeSpec{{Name: "node1", IP: "192.168.56.11"}, {Name: "node2", IP: "192.168.56.12"}},
		VIP:      VIPSpec{Address: "192.168.56.20", Netmask: "255.255.255.0", NIC: "eth1"},
		Providers: Providers{
			VirtualBox: VirtualBoxSpec{Box: "hashicorp/precise64", Memory: 1024, CPUs: 1},
			Docker:     DockerSpec{Image: "halab/node", SSHPort: 2222},
		},
		Timings: timingProfiles["article"],
		Service: Service{
			Name: "stratos", User: "vagrant", Port: 8080,
			JavaHome: "/opt/jdk", ProductHome: "/opt/stratos",
			JDKArchive: "build/jdk.tar.gz", StartTimeout: 60, StopTimeout: 30,
		},
		Fencing: fencingDefaults(),
	}
}

// ConfigCheck validates what a package other than lab gives meaning to (the
// stack: its name, its timing rules), one message per problem, each
// naming its field.
type ConfigCheck func(*Config) []string

// ConfigError is bad input: every problem found, one per line. The CLI
// exits 2 on it.
type ConfigError struct {
	File     string
	Problems []string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.File)
		b.WriteString(": ")
		b.WriteString(p)
	}
	return b.String()
}

// IsConfigError tells the CLI to exit 2.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

// Load reads, decodes and validates a lab file. Every problem is reported
// at once, so a user fixes the file in one go.
func Load(path string, checks ...ConfigCheck) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		hint := "check the path of the lab file, or create lab.yaml"
		if errors.Is(err, fs.ErrPermission) {
			hint = "make it readable"
		} else if st, serr := os.Stat(path); serr == nil && st.IsDir() {
			hint = "it is a directory; pass the lab.yaml inside it"
		}
		return nil, &ConfigError{File: path, Problems: []string{fmt.Sprintf("cannot read: %v (%s)", unwrapPathErr(err), hint)}}
	}
	cfg, err := Parse(data, path, checks...)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse decodes lab.yaml bytes over the defaults and validates the result.
// name is used in messages only.
func Parse(data []byte, name string, checks ...ConfigCheck) (*Config, error) {
	cfg := Defaults()
	cfg.Path = name
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &ConfigError{File: name, Problems: []string{"file is empty (copy lab.yaml from the halab repository and edit it)"}}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ConfigError{File: name, Problems: []string{"not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &ConfigError{File: name, Problems: []string{"top level must be a mapping of keys (name:, nodes:, vip:, ...)"}}
	}
	problems := unknownKeys(doc.Content[0], typeOfConfig, "")
	if err := decode(&doc, &cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				problems = append(problems, describeTypeError(e))
			}
		} else {
			problems = append(problems, err.Error())
		}
	}
	cfg.Path = name
	applyTimingProfile(&cfg, &doc)
	problems = append(problems, cfg.validate()...)
	for _, check := range checks {
		problems = append(problems, check(&cfg)...)
	}
	if len(problems) > 0 {
		return nil, &ConfigError{File: name, Problems: problems}
	}
	return &cfg, nil
}

// decode is doc.Decode, except that a panic inside yaml.v3 (v3.0.1 panics
// on a merge key next to a mapping used as a key) becomes an error.
func decode(doc *yaml.Node, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot decode this YAML: %v", r)
		}
	}()
	return doc.Decode(v)
}

// describeTypeError turns yaml.v3's "line 3: cannot unmarshal !!str `abc`
// into int" into something a user can act on.
func describeTypeError(e string) string {
	switch {
	case strings.HasSuffix(e, " into int"):
		e = strings.TrimSuffix(e, " into int")
	case strings.HasSuffix(e, " into string"):
		e = strings.TrimSuffix(e, " into string")
	default:
		// A section or a list was expected: yaml's message names it.
		return e
	}
	e = strings.Replace(e, "cannot unmarshal !!str", "expected a number, got the string", 1)
	e = strings.Replace(e, "cannot unmarshal !!map", "expected a single value, got a mapping", 1)
	e = strings.Replace(e, "cannot unmarshal !!seq", "expected a single value, got a list", 1)
	return e
}

// Resolved is the lab file as halab reads it, defaults and the timing
// profile applied, in YAML with the lab file's keys: what the Vagrantfile
// reads, and what `halab config` prints.
func (c *Config) Resolved() ([]byte, error) {
	return yaml.Marshal(c)
}

// Dir is the directory relative paths in the config are resolved against.
func (c *Config) Dir() string {
	if c.Path == "" {
		return "."
	}
	return filepath.Dir(c.Path)
}

// Resolve makes a path from lab.yaml absolute.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	abs, err := filepath.Abs(filepath.Join(c.Dir(), p))
	if err != nil {
		return filepath.Join(c.Dir(), p)
	}
	return abs
}
