package provision

import (
	"fmt"
	"strings"
)

// Ubuntu 12.04 (precise) is where the article's heartbeat stack runs, and
// no machine of halab's tests boots it. Precise is what its nodes have:
// the packages the heartbeat path relies on, and for each tool halab's
// scripts and commands run there, the options those versions take (only
// the ones halab uses, each checked against that version). It is the one
// place that says so: TestPreciseTools scans every script and registered
// command the heartbeat stacks and the harness run against it, and fails
// on a tool, option or construct it does not list.
var Precise = ToolTable{
	OS: "Ubuntu 12.04 LTS (precise)",
	Packages: []Package{
		{"heartbeat", "3.0.5", "messaging (ha.cf, crm yes), cl_status"},
		{"pacemaker", "1.1.6", "crmd, crm_mon (no XML output: --as-xml came with 1.1.7), crm_attribute (--type, --name, --update, --delete), crm_resource (--cleanup needs -r; --fail --resource --node), cibadmin (--query --local), crm_verify (-L, -V; logs through cluster-glue: \"crm_verify[PID]: DATE WARN: function: text\"), and the crm shell (configure verify)"},
		{"cluster-glue", "1.0.8", "lrmd, stonith plugins"},
		{"resource-agents", "3.9.2", "ocf:heartbeat:IPaddr"},
		{"openssh-server", "5.9p1", "no rsa-sha2 signatures, no server-sig-algs (7.2), no curve25519 (6.5): see lab's precise SSH test"},
		{"bash", "4.2", "only for halab ssh's login shell; every script runs under /bin/sh"},
		{"dash", "0.5.7", "/bin/sh: POSIX sh, no pipefail"},
		{"coreutils", "8.13", "timeout -s (the only timeout option halab uses; -k is not vetted), sleep with fractions, readlink -f, stat -c, sha256sum"},
		{"procps", "3.2.8", "pgrep/pkill -x, ps -o (no pgrep -a: procps-ng added it)"},
		{"iproute", "20111117 (iproute2 3.1)", "ip -o -4 addr (no -br, no -j: iproute2 4.x)"},
		{"iptables", "1.4.12", "-S and -C (no -w: 1.4.20)"},
		{"mawk", "1.3.3", "POSIX awk: no gawk functions (gensub, strftime, systime, asort, and/or/xor...), no regex intervals, no length(array)"},
		{"util-linux", "2.20", "no su in it yet (login's su: -s, -c)"},
		{"sudo", "1.8.3", "-n, --"},
		{"grep", "2.10", ""},
		{"sed", "4.2.1", "-n, -e, -i"},
		{"tar", "1.26", "--no-same-owner"},
		{"findutils", "4.4.2", "find -newer"},
		{"libc-bin", "2.15", "getconf GNU_LIBC_VERSION (glibc 2.15), getent"},
		{"upstart/sysvinit-utils", "1.5 / 2.88", "service, update-rc.d, /etc/init.d/*; no systemd: systemctl and journalctl only behind a check that they exist"},
		{"python", "2.7", "the crm shell's; no python3"},
	},
	Tools: map[string]Tool{
		// dash 0.5.7 builtins
		"echo":     {Pkg: "dash", NoOpts: true},
		"printf":   {Pkg: "dash", NoOpts: true},
		"read":     {Pkg: "dash", Opts: opts("-r")},
		"set":      {Pkg: "dash", Opts: opts("-e")},
		"shift":    {Pkg: "dash"},
		"exit":     {Pkg: "dash"},
		"return":   {Pkg: "dash"},
		"cd":       {Pkg: "dash"},
		"export":   {Pkg: "dash"},
		"trap":     {Pkg: "dash"},
		"wait":     {Pkg: "dash"},
		"true":     {Pkg: "dash"},
		"false":    {Pkg: "dash"},
		":":        {Pkg: "dash"},
		"break":    {Pkg: "dash"},
		"continue": {Pkg: "dash"},
		"command":  {Pkg: "dash", Opts: opts("-v")},
		"kill":     {Pkg: "dash", Tokens: true, Opts: opts("-0", "-KILL", "-s:")},
		"exec":     {Pkg: "dash", Runs: true},
		"test":     {Pkg: "dash", Tokens: true, Opts: testOpts},
		"[":        {Pkg: "dash", Tokens: true, Opts: testOpts},
		"sh":       {Pkg: "dash", Opts: opts("-s", "-c", "-n")},

		"awk":     {Pkg: "mawk", Opts: opts("-v:", "-F:"), Awk: true},
		"cat":     {Pkg: "coreutils"},
		"chmod":   {Pkg: "coreutils"},
		"chown":   {Pkg: "coreutils"},
		"cut":     {Pkg: "coreutils", Opts: opts("-d:", "-f:")},
		"date":    {Pkg: "coreutils"},
		"env":     {Pkg: "coreutils"}, // env NAME=VALUE COMMAND: halab's run marker
		"dirname": {Pkg: "coreutils"},
		// halab's stonith plugin: curl 7.22's options
		"curl":        {Pkg: "curl", Opts: opts("-s", "-S", "--max-time:", "--connect-timeout:", "--cacert:", "--cert:", "--key:", "-X:", "-w:")},
		"uname":       {Pkg: "coreutils", Opts: opts("-n")},
		"md5sum":      {Pkg: "coreutils"},
		"df":          {Pkg: "coreutils", Opts: opts("-P", "-k")},
		"head":        {Pkg: "coreutils", Opts: opts("-n:")},
		"id":          {Pkg: "coreutils", Opts: opts("-u", "-g", "-n")},
		"ln":          {Pkg: "coreutils", Opts: opts("-s", "-f", "-n")},
		"ls":          {Pkg: "coreutils"},
		"mkdir":       {Pkg: "coreutils", Opts: opts("-p")},
		"mktemp":      {Pkg: "coreutils"},
		"mv":          {Pkg: "coreutils", Opts: opts("-f")},
		"nohup":       {Pkg: "coreutils", Runs: true},
		"readlink":    {Pkg: "coreutils", Opts: opts("-f")},
		"rm":          {Pkg: "coreutils", Opts: opts("-r", "-f")},
		"sha256sum":   {Pkg: "coreutils"},
		"sleep":       {Pkg: "coreutils"},
		"sort":        {Pkg: "coreutils", Opts: opts("-u")},
		"stat":        {Pkg: "coreutils", Opts: opts("-c:")},
		"tail":        {Pkg: "coreutils", Opts: opts("-n:")},
		"timeout":     {Pkg: "coreutils", Opts: opts("-s:")},
		"tr":          {Pkg: "coreutils"},
		"find":        {Pkg: "findutils", Tokens: true, Opts: opts("-newer")},
		"grep":        {Pkg: "grep", Opts: opts("-q", "-E", "-F")},
		"sed":         {Pkg: "sed", Opts: opts("-n", "-e:", "-i")},
		"tar":         {Pkg: "tar", Opts: opts("-x", "-z", "-f:", "-C:", "--no-same-owner")},
		"unzip":       {Pkg: "unzip 6.0", Opts: opts("-q", "-d:")},
		"ps":          {Pkg: "procps", Opts: opts("-e", "-o:", "-p:")},
		"pgrep":       {Pkg: "procps", Opts: opts("-x")},
		"pkill":       {Pkg: "procps", Tokens: true, Opts: opts("-KILL", "-STOP", "-x")},
		"ip":          {Pkg: "iproute", Tokens: true, Opts: opts("-4", "-o"), Sub: []string{"addr", "addr show dev *", "addr del * dev *"}},
		"iptables":    {Pkg: "iptables", Tokens: true, Opts: opts("-S", "-N:", "-F:", "-X:", "-A:", "-I:", "-D", "-C:", "-p:", "-s:", "-d:", "-j:", "-i:", "-o:", "-m:", "--mode:", "--probability:")},
		"su":          {Pkg: "login 4.1.4", Opts: opts("-s:", "-c:"), ShArg: "-c"},
		"sudo":        {Pkg: "sudo", Opts: opts("-n")},
		"logger":      {Pkg: "bsdutils (util-linux 2.20)", Opts: opts("-t:")},
		"getent":      {Pkg: "libc-bin", Sub: []string{"group *"}},
		"getconf":     {Pkg: "libc-bin", Sub: []string{"GNU_LIBC_VERSION"}},
		"dpkg-query":  {Pkg: "dpkg 1.16", Opts: opts("-W", "-f:")},
		"apt-get":     {Pkg: "apt 0.8.16", Opts: opts("-y", "-q", "--no-install-recommends"), Sub: []string{"update", "install ..."}},
		"service":     {Pkg: "sysvinit-utils", Sub: []string{"* start", "* stop", "* restart", "* status"}},
		"update-rc.d": {Pkg: "sysv-rc", Opts: opts("-f"), Sub: []string{"* defaults", "* remove"}},
		// the init scripts of the system's daemons (heartbeat's), by path
		"/etc/init.d/*": {Pkg: "heartbeat", Sub: []string{"status"}},
		// halab's own LSB init script (a template, scanned as a script of
		// its own), run by its path
		InitScriptTool: {Pkg: "halab", Sub: []string{"status", "start", "stop", "restart"}},

		"cl_status": {Pkg: "heartbeat", Sub: []string{"hbstatus", "listnodes", "nodestatus *"}},
		// heartbeat v1's standby (crm no): hands the node's resources over
		"/usr/share/heartbeat/hb_standby": {Pkg: "heartbeat", Sub: []string{"all"}},
		"crm_mon":                         {Pkg: "pacemaker", Opts: append(opts("-1", "-r", "-f", "-A", "--version"), Opt{Name: "-X", Guard: GuardNewerPacemaker}, Opt{Name: "--as-xml", Guard: GuardNewerPacemaker}, Opt{Name: "--output-as=", Arg: true, Guard: GuardNewerPacemaker})},
		"crm_attribute":                   {Pkg: "pacemaker", Opts: opts("-N:", "-n:", "-G", "-q", "-l:", "--type:", "--name:", "--delete", "--update:")},
		"crm_resource":                    {Pkg: "pacemaker", Opts: opts("--cleanup", "-r:", "--fail", "--resource:", "--node:")},
		"cibadmin":                        {Pkg: "pacemaker", Opts: opts("-Q", "--query", "--local")},
		// the fencing scenario's fence request (-B/--reboot since 1.1.0)
		"stonith_admin": {Pkg: "pacemaker", Opts: opts("--reboot:")},
		// crm_verify 1.1.6 (tools/crm_verify.c): -L reads the live CIB, each
		// -V raises the log level from LOG_ERR (one: warnings); exit 0
		// clean, 1 warnings, 2 errors, 3 no live CIB
		"crm_verify": {Pkg: "pacemaker", Opts: opts("-L", "-V")},
		// the crm shell of 1.1.6 (shell/modules/ui.py.in): `configure
		// verify` pipes the CIB to `crm_verify -V -p`, then its semantic
		// checks
		"crm": {Pkg: "pacemaker (crm shell)", Opts: opts("-F"), Sub: []string{"configure load update *", "configure delete *", "configure verify", "node standby *", "node online *"}},

		// the JDK: the article's 7u60 and later
		"java": {Pkg: "JDK 7u60 or later", Tokens: true, Opts: []Opt{
			{Name: "-version"}, {Name: "-Xms", Prefix: true}, {Name: "-Xmx", Prefix: true}, {Name: "-XX:+UseSerialGC"},
			{Name: "-XX:TieredStopAtLevel=", Prefix: true}, {Name: "-D", Prefix: true}, {Name: "-cp", Arg: true},
		}},

		// absent on 12.04: only behind a check that they exist
		"systemctl": {Pkg: "systemd (not on 12.04)", Guard: GuardSystemd, Tokens: true, Opts: opts("--quiet", "-s:", "-p:")},
		"journalctl": {Pkg: "systemd (not on 12.04)", Guard: GuardSystemd, Tokens: true, Opts: append(opts("--no-pager", "-n:", "-u:", "-q", "--show-cursor", "-o:"),
			Opt{Name: "--after-cursor=", Arg: true}, Opt{Name: "--since=", Arg: true}, Opt{Name: "--output-fields=", Arg: true})},
	},
}

// Guards: where a script may use what 12.04 lacks.
const (
	// GuardSystemd: inside `if [ -d /run/systemd/system ]`, or after
	// `command -v systemctl` / `command -v journalctl` succeeded.
	GuardSystemd = "systemd"
	// GuardNewerPacemaker: in a `case` on the Pacemaker version, in an
	// arm other than the one of 1.1.0-1.1.6 (a pattern "1.1.[0-6]").
	GuardNewerPacemaker = "pacemaker newer than 1.1.6"
)

var testOpts = opts("-d", "-e", "-f", "-L", "-n", "-r", "-x", "-z", "-eq", "-ne", "-ge", "-gt", "-le", "-lt")

// ToolTable is an OS's tools as far as halab's remote commands use them.
type ToolTable struct {
	OS       string
	Packages []Package
	Tools    map[string]Tool
}

// Package is one package of the OS, its upstream version, and what halab
// relies on or must avoid in it.
type Package struct {
	Name, Version, Note string
}

// Tool is one command: its package, and the options halab may pass it.
type Tool struct {
	Pkg string
	// Opts are the options allowed. Unless Tokens, they are getopt-style:
	// "-rf" is -r and -f, an option with Arg takes the rest of its word
	// or the next one.
	Opts []Opt
	// Tokens: every word starting with "-" is one option, looked up whole
	// (ip -4, iptables -A, find -newer, java -Xmx64m).
	Tokens bool
	// Sub, when set, are the operand patterns allowed ("*" one word,
	// "..." the rest): subcommands such as `crm node standby NODE`.
	Sub []string
	// Guard: the tool is absent on 12.04 and may run only behind it.
	Guard string
	// Runs: its operands are a command of their own (exec, nohup).
	Runs bool
	// NoOpts: every argument is an operand (echo, printf).
	NoOpts bool
	// Awk: its first operand is an awk program, checked for gawk-only
	// constructs.
	Awk bool
	// ShArg is the option whose argument is a shell script (su -c).
	ShArg string
}

// Opt is one allowed option.
type Opt struct {
	Name   string // "-r", "--no-same-owner", "--output-as=" (with its =)
	Arg    bool   // takes an argument
	Prefix bool   // Tokens: a word starting with Name (java -Xmx64m)
	Guard  string // allowed only behind this guard
}

// opts makes Opts from getopt-like names: "-n:" takes an argument.
func opts(names ...string) []Opt {
	var o []Opt
	for _, n := range names {
		arg := strings.HasSuffix(n, ":") && len(n) > 2
		o = append(o, Opt{Name: strings.TrimSuffix(n, ":"), Arg: arg})
	}
	return o
}

// Word is one word of a command line as far as a check can know it: its
// text when it is literal, else the literal text it starts with ("-f="
// of -f="$x", "" of "$x").
type Word struct {
	Lit     string
	Literal bool
}

// ArgvWords are literal words.
func ArgvWords(argv ...string) []Word {
	w := make([]Word, len(argv))
	for i, a := range argv {
		w[i] = Word{Lit: a, Literal: true}
	}
	return w
}

// CheckedCommand is what CheckArgs found of a command: its operands (for
// tools that run one, the command they run) and the violations.
type CheckedCommand struct {
	Operands   []Word
	Violations []string
}

// CheckArgs checks one command's arguments against the table: the tool
// exists on the OS (or runs behind its guard), every option is one this
// version takes, the operands match the tool's subcommands. guards are
// the guards the command runs behind; prefix says that operands may
// follow at the call (a registered argv: its operands are a prefix).
func (tt ToolTable) CheckArgs(name string, args []Word, guards []string, prefix bool) CheckedCommand {
	var c CheckedCommand
	tool, ok := tt.Tools[name]
	if !ok {
		c.Violations = append(c.Violations, fmt.Sprintf("%s: not a tool halab may run on %s (not in provision.Precise)", name, tt.OS))
		return c
	}
	guarded := func(g string) bool {
		for _, x := range guards {
			if x == g {
				return true
			}
		}
		return false
	}
	if tool.Guard != "" && !guarded(tool.Guard) {
		c.Violations = append(c.Violations, fmt.Sprintf("%s: absent on %s (%s): only behind a guard (%s)", name, tt.OS, tool.Pkg, tool.Guard))
	}
	find := func(n string) (Opt, bool) {
		for _, o := range tool.Opts {
			if o.Name == n || (o.Prefix && strings.HasPrefix(n, o.Name)) || (strings.HasSuffix(o.Name, "=") && strings.HasPrefix(n, o.Name)) {
				return o, true
			}
		}
		return Opt{}, false
	}
	bad := func(opt string) {
		c.Violations = append(c.Violations, fmt.Sprintf("%s %s: not an option halab may use with %s's %s (provision.Precise)", name, opt, tt.OS, tool.Pkg))
	}
	use := func(o Opt, shown string) {
		if o.Guard != "" && !guarded(o.Guard) {
			c.Violations = append(c.Violations, fmt.Sprintf("%s %s: only %s has it: only behind that guard", name, shown, o.Guard))
		}
	}
	endOpts := false
	for i := 0; i < len(args); i++ {
		w := args[i]
		if tool.Runs && !endOpts && !strings.HasPrefix(w.Lit, "-") {
			c.Operands = append(c.Operands, args[i:]...)
			return c
		}
		if endOpts || tool.NoOpts || !strings.HasPrefix(w.Lit, "-") || w.Lit == "-" {
			c.Operands = append(c.Operands, w)
			continue
		}
		if w.Lit == "--" && w.Literal {
			endOpts = true
			continue
		}
		if tool.Tokens || strings.HasPrefix(w.Lit, "--") {
			o, ok := find(w.Lit)
			if !ok {
				bad(w.Lit)
				continue
			}
			use(o, w.Lit)
			if o.Arg && !strings.HasSuffix(o.Name, "=") && !o.Prefix {
				i++
				if tool.ShArg == o.Name && i < len(args) {
					c.Operands = append(c.Operands, Word{Lit: "sh -c", Literal: true}, args[i])
				}
			}
			continue
		}
		// getopt cluster: -rf, -eo FMT, -d: (the argument attached)
		letters := w.Lit[1:]
		for j := 0; j < len(letters); j++ {
			o, ok := find("-" + letters[j:j+1])
			if !ok {
				bad("-" + letters[j:j+1])
				continue
			}
			use(o, "-"+letters[j:j+1])
			if o.Arg {
				if j == len(letters)-1 {
					i++
					if tool.ShArg == o.Name && i < len(args) {
						c.Operands = append(c.Operands, Word{Lit: "sh -c", Literal: true}, args[i])
					}
				}
				break
			}
		}
	}
	if len(tool.Sub) > 0 {
		ops := c.Operands
		var plain []Word
		for _, o := range ops {
			if o.Lit == "sh -c" && o.Literal {
				break
			}
			plain = append(plain, o)
		}
		if !matchSub(tool.Sub, plain, prefix) {
			var shown []string
			for _, o := range plain {
				if o.Literal {
					shown = append(shown, o.Lit)
				} else {
					shown = append(shown, "$...")
				}
			}
			c.Violations = append(c.Violations, fmt.Sprintf("%s %s: not a subcommand halab may use with %s's %s (allowed: %s)", name, strings.Join(shown, " "), tt.OS, tool.Pkg, strings.Join(tool.Sub, "; ")))
		}
	}
	return c
}

// matchSub matches operands against patterns: "*" is one word (literal
// or not), "..." the rest; prefix allows operands that stop early.
func matchSub(patterns []string, ops []Word, prefix bool) bool {
	for _, p := range patterns {
		pw := strings.Fields(p)
		ok := true
		i := 0
		for ; i < len(pw); i++ {
			if pw[i] == "..." {
				i = len(pw)
				break
			}
			if i >= len(ops) {
				ok = prefix
				break
			}
			if pw[i] != "*" && (!ops[i].Literal || ops[i].Lit != pw[i]) {
				ok = false
				break
			}
		}
		if ok && (i >= len(pw) && (len(ops) <= len(pw) || pw[len(pw)-1] == "...")) {
			return true
		}
		if ok && prefix && i < len(pw) {
			return true
		}
	}
	return false
}

// gawkOnly are awk constructs mawk 1.3.3 does not have.
var gawkOnly = []string{"gensub(", "strftime(", "systime(", "mktime(", "asort(", "asorti(", "patsplit(", "and(", "or(", "xor(",
	"lshift(", "rshift(", "compl(", "strtonum(", "isarray(", "typeof(", "BEGINFILE", "ENDFILE", "@include", "@load", "nextfile",
	"IGNORECASE", "PROCINFO", "FPAT", "FIELDWIDTHS", "RT", "|&", "**"}

// CheckAwk looks for gawk-only constructs in an awk program.
func CheckAwk(prog string) []string {
	var v []string
	for _, g := range gawkOnly {
		idx := strings.Index(prog, g)
		if idx < 0 {
			continue
		}
		// a whole word for names (RT, FPAT...), any place for operators
		word := func(i int) bool {
			if i < 0 || i >= len(prog) {
				return false
			}
			c := prog[i]
			return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		}
		if word(idx-1) || (!strings.HasSuffix(g, "(") && word(idx+len(g))) {
			continue
		}
		v = append(v, fmt.Sprintf("awk: %q is gawk's, not mawk 1.3.3's", strings.TrimSuffix(g, "(")))
	}
	return v
}
