package provision_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"

	"halab/lab"
	"halab/provision"
	"halab/scenarios/harness"
	"halab/templates"
)

// precise is Ubuntu 12.04 as os-release says it.
var precise = provision.OSInfo{ID: "ubuntu", VersionID: "12.04"}

// preciseStacks are the stacks that run on Ubuntu 12.04.
func preciseStacks() (on, off []*provision.Stack) {
	for _, s := range provision.Stacks() {
		if s.Runs(precise) == nil {
			on = append(on, s)
		} else {
			off = append(off, s)
		}
	}
	return on, off
}

// stackScripts are the scripts a stack's fields name.
func stackScripts(s *provision.Stack) []string {
	cfg := lab.Defaults()
	heal, _ := s.Heal(&cfg)
	out := []string{heal, s.Status, s.HealCRM}
	if s.SeedCIB {
		out = append(out, provision.Script("seed-cib"))
	}
	return out
}

// nodeScript is one script halab runs on a node, by where it comes from.
type nodeScript struct {
	name, text string
}

// preciseScripts are every script the stacks that run on 12.04 and the
// harness run there: every embedded script of lab, provision and the
// harness, less those only the other stacks name (corosync's heal, status,
// CIB seed), plus the rendered init script and stratos.sh.
func preciseScripts(t *testing.T) []nodeScript {
	t.Helper()
	on, off := preciseStacks()
	var used, other []string
	for _, s := range on {
		used = append(used, stackScripts(s)...)
	}
	for _, s := range off {
		other = append(other, stackScripts(s)...)
	}
	var out []nodeScript
	add := func(prefix string, fsys fs.FS) {
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".sh") {
				return err
			}
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			text := string(b)
			if slices.Contains(other, text) && !slices.Contains(used, text) {
				return nil // only a stack that does not run on 12.04 runs it
			}
			out = append(out, nodeScript{prefix + p, text})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	add("provision/", provision.ScriptFS())
	add("scenarios/harness/", harness.ScriptFS())
	sftp, err := os.ReadFile("../lab/scripts/sftp-server.sh")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, nodeScript{"lab/scripts/sftp-server.sh", string(sftp)})
	cfg := lab.Defaults()
	p := provision.ParamsFrom(&cfg)
	initd, err := templates.InitScript(p)
	if err != nil {
		t.Fatal(err)
	}
	sh, err := templates.StratosSh(p)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, nodeScript{"templates/initd.tmpl (rendered)", string(initd)}, nodeScript{"templates/stratos.sh.tmpl (rendered)", string(sh)})
	return out
}

// preciseCommands are the registered argv commands the same path runs:
// every lab.Remote of lab, provision and the harness, less the Stop and
// Start of the stacks that do not run on 12.04.
func preciseCommands() []lab.RemoteCommand {
	on, off := preciseStacks()
	var out []lab.RemoteCommand
	for _, c := range lab.RemoteCommands() {
		skip := false
		for _, s := range off {
			if reflect.DeepEqual(c, s.Stop) || reflect.DeepEqual(c, s.Start) {
				skip = true
			}
		}
		for _, s := range on {
			if reflect.DeepEqual(c, s.Stop) || reflect.DeepEqual(c, s.Start) {
				skip = false
			}
		}
		if !skip {
			out = append(out, c)
		}
	}
	return out
}

// Every script and command the heartbeat stacks and the harness run on a
// node uses only tools and options Ubuntu 12.04 has (provision.Precise),
// and shell that its dash 0.5.7 runs.
func TestPreciseTools(t *testing.T) {
	scripts := preciseScripts(t)
	if len(scripts) < 25 {
		t.Fatalf("only %d scripts on the heartbeat path", len(scripts))
	}
	for _, s := range scripts {
		for _, v := range scanScript(s.name, s.text) {
			t.Errorf("%s: %s", s.name, v)
		}
	}
	cmds := preciseCommands()
	if len(cmds) < 15 {
		t.Fatalf("only %d registered commands", len(cmds))
	}
	for _, c := range cmds {
		for _, v := range provision.Precise.CheckArgs(c.Tool, provision.ArgvWords(c.Args...), nil, true).Violations {
			t.Errorf("lab.Remote(%q): %s", strings.Join(c.Argv(), " "), v)
		}
	}
	t.Logf("checked %d scripts and %d commands against %s", len(scripts), len(cmds), provision.Precise.OS)
}

// The scan catches what 12.04 lacks (and options the table has not
// vetted, such as timeout -k): each line below, added to a script of the
// heartbeat path, fails it; so does a registered command with a forbidden
// flag.
func TestPreciseToolsCatchMistakes(t *testing.T) {
	base := provision.Script("heal-heartbeat")
	if v := scanScript("heal-heartbeat.sh", base); len(v) != 0 {
		t.Fatalf("the base script already fails: %v", v)
	}
	for _, c := range []struct{ line, want string }{
		{`pgrep -a heartbeat`, "pgrep -a"},
		{`ip -br addr`, "ip -br"},
		{`ip -j addr show dev eth1`, "ip -j"},
		{`iptables -w -S`, "iptables -w"},
		{`timeout -k 5 10 true`, "timeout -k"},
		{`awk '{ print gensub(/a/, "b", "g") }' /etc/hosts`, "gensub"},
		{`awk '{ print strftime() }' /etc/hosts`, "strftime"},
		{`systemctl stop heartbeat`, "systemctl: absent"},
		{`crm_mon -1 --output-as=xml`, "--output-as="},
		{`crm_mon -1 -X`, "crm_mon -X"},
		{`crm resource cleanup STRATOS`, "not a subcommand"},
		{`python3 -c 'print(1)'`, "python3: not a tool"},
		{`readlink -e /etc`, "readlink -e"},
		{`if [[ -n "$1" ]]; then echo x; fi`, "[["},
		{`echo ${1/a/b}`, "parse"},
		{`set -o pipefail`, "set -o"},
	} {
		t.Run(c.line, func(t *testing.T) {
			v := scanScript("heal-heartbeat.sh+", base+c.line+"\n")
			if !strings.Contains(strings.Join(v, "\n"), c.want) {
				t.Errorf("added %q: violations %q, want one about %q", c.line, v, c.want)
			}
		})
	}
	// behind its guard, systemctl is fine
	if v := scanScript("guarded", base+"if [ -d /run/systemd/system ]; then systemctl stop heartbeat; else service heartbeat stop; fi\ncommand -v systemctl >/dev/null && systemctl reset-failed heartbeat\n"); len(v) != 0 {
		t.Errorf("guarded systemctl: %v", v)
	}
	for _, argv := range [][]string{{"pgrep", "-a"}, {"ip", "-br", "addr"}, {"iptables", "-w", "-S"}} {
		if v := provision.Precise.CheckArgs(argv[0], provision.ArgvWords(argv[1:]...), nil, true).Violations; len(v) == 0 {
			t.Errorf("lab.Remote(%q) passed", argv)
		}
	}
}

// Each node script passes Debian's checkbashisms as well (devscripts); a
// bashism it knows fails it.
func TestCheckbashisms(t *testing.T) {
	t.Parallel()
	cb, err := exec.LookPath("checkbashisms")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("checkbashisms is not installed (apt-get install devscripts; .ci/deps installs it)")
		}
		t.Skip("checkbashisms is not installed (apt-get install devscripts)")
	}
	dir := t.TempDir()
	var files []string
	for i, s := range preciseScripts(t) {
		f := filepath.Join(dir, fmt.Sprintf("%02d-%s", i, strings.NewReplacer("/", "_", " ", "_", "(", "", ")", "").Replace(s.name)))
		if !strings.HasPrefix(s.text, "#!") {
			s.text = "#!/bin/sh\n" + s.text
		}
		if err := os.WriteFile(f, []byte(s.text), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if out, err := exec.Command(cb, append([]string{"-f"}, files...)...).CombinedOutput(); err != nil {
		t.Errorf("checkbashisms: %v\n%s", err, out)
	}
	bad := filepath.Join(dir, "bashism.sh")
	os.WriteFile(bad, []byte("#!/bin/sh\necho $RANDOM\nfunction f() { :; }\n"), 0o644)
	if exec.Command(cb, "-f", bad).Run() == nil {
		t.Error("checkbashisms accepted $RANDOM and function")
	}
}

// Every argv a step or the harness runs on a node is a registered
// lab.Remote: no Run or Sudo call names its command as a string literal,
// so the scan above sees every one.
func TestRemoteCommandsAreRegistered(t *testing.T) {
	fset := token.NewFileSet()
	var bad []string
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "build" || d.Name() == ".halab" || d.Name() == ".vagrant" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Run" && sel.Sel.Name != "Sudo") || len(call.Args) < 3 {
				return true
			}
			if lit, ok := call.Args[2].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				bad = append(bad, fmt.Sprintf("%s: %s(..., %s, ...)", fset.Position(call.Pos()), sel.Sel.Name, lit.Value))
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("%s: make the command a lab.Remote, so that the 12.04 scan sees it", b)
	}
}

// scanScript parses a script as POSIX sh (what dash 0.5.7 runs; bash-only
// syntax does not parse) and checks every command in it against
// provision.Precise: the tool, its options and subcommands, the guards
// around what 12.04 lacks, awk programs, and the scripts given to sh -c
// or su -c.
func scanScript(name, text string) []string {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(text), name)
	if err != nil {
		return []string{"does not parse as POSIX sh: " + err.Error()}
	}
	guards := guardRanges(f)
	funcs := map[string]bool{}
	syntax.Walk(f, func(n syntax.Node) bool {
		if fd, ok := n.(*syntax.FuncDecl); ok {
			funcs[fd.Name.Value] = true
		}
		return true
	})
	var v []string
	syntax.Walk(f, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		var active []string
		for _, g := range guards {
			if call.Pos().Offset() >= g.from && call.Pos().Offset() < g.to {
				active = append(active, g.guard)
			}
		}
		words := make([]provision.Word, len(call.Args))
		for i, a := range call.Args {
			words[i] = wordOf(a)
		}
		v = append(v, checkCommand(call.Args[0], words, active, funcs)...)
		return true
	})
	return v
}

// checkCommand checks one command (and what it runs: nohup, exec, sh -c).
func checkCommand(first *syntax.Word, words []provision.Word, guards []string, funcs map[string]bool) []string {
	name, known := commandName(first, words[0])
	if !known || funcs[name] {
		return nil // a function of the script, or a program named by its caller
	}
	if name == "set" {
		for _, w := range words[1:] {
			if w.Lit == "-o" || strings.HasPrefix(w.Lit, "+o") {
				return []string{"set -o: no set -o options (pipefail...) in dash 0.5.7 as halab uses it"}
			}
		}
	}
	c := provision.Precise.CheckArgs(name, words[1:], guards, false)
	v := c.Violations
	tool := provision.Precise.Tools[name]
	for i, op := range c.Operands {
		if op.Literal && op.Lit == "sh -c" && i+1 < len(c.Operands) && c.Operands[i+1].Literal {
			for _, x := range scanScript(name+" -c", c.Operands[i+1].Lit) {
				v = append(v, name+" -c: "+x)
			}
		}
	}
	if tool.Awk {
		for _, op := range c.Operands {
			if op.Literal {
				v = append(v, provision.CheckAwk(op.Lit)...)
				break
			}
		}
	}
	if tool.Runs && len(c.Operands) > 0 {
		// the command nohup or exec runs
		v = append(v, checkCommand(nil, c.Operands, guards, funcs)...)
	}
	return v
}

// commandName names the tool a command word runs: literally, or the
// tools halab's scripts name through a variable (the JDK's java, the init
// script, the system's init scripts); known false for one the caller names.
func commandName(w *syntax.Word, word provision.Word) (string, bool) {
	if word.Literal {
		if strings.HasPrefix(word.Lit, "/etc/init.d/") {
			return "/etc/init.d/*", true
		}
		return word.Lit, true
	}
	if strings.HasPrefix(word.Lit, "/etc/init.d/") {
		return "/etc/init.d/*", true
	}
	full := flatten(w)
	switch {
	case strings.HasSuffix(full, "/bin/java"), full == "$java":
		return "java", true
	case full == "$initd":
		return provision.InitScriptTool, true
	}
	return "", false
}

// flatten is a word's text with parameters as $name ("" when unknown).
func flatten(w *syntax.Word) string {
	if w == nil {
		return ""
	}
	var b strings.Builder
	var parts func([]syntax.WordPart)
	parts = func(ps []syntax.WordPart) {
		for _, p := range ps {
			switch p := p.(type) {
			case *syntax.Lit:
				b.WriteString(p.Value)
			case *syntax.SglQuoted:
				b.WriteString(p.Value)
			case *syntax.DblQuoted:
				parts(p.Parts)
			case *syntax.ParamExp:
				b.WriteString("$" + p.Param.Value)
			default:
				b.WriteString("$?")
			}
		}
	}
	parts(w.Parts)
	return b.String()
}

// wordOf is a word's literal text, or the literal text it starts with.
func wordOf(w *syntax.Word) provision.Word {
	var b strings.Builder
	literal := true
	var parts func([]syntax.WordPart) bool
	parts = func(ps []syntax.WordPart) bool {
		for _, p := range ps {
			switch p := p.(type) {
			case *syntax.Lit:
				b.WriteString(strings.ReplaceAll(p.Value, "\\\n", ""))
			case *syntax.SglQuoted:
				b.WriteString(p.Value)
			case *syntax.DblQuoted:
				if !parts(p.Parts) {
					return false
				}
			default:
				literal = false
				return false
			}
		}
		return true
	}
	parts(w.Parts)
	return provision.Word{Lit: b.String(), Literal: literal}
}

type guardRange struct {
	from, to uint
	guard    string
}

// guardRanges finds where a script runs what 12.04 lacks only when it is
// there: the then-branch of `if [ -d /run/systemd/system ]` or of `if
// command -v systemctl`, the right side of `command -v systemctl &&`, and
// the arms of a `case` on the Pacemaker version other than 1.1.[0-6]'s.
func guardRanges(f *syntax.File) []guardRange {
	var out []guardRange
	isSystemdCheck := func(stmts []*syntax.Stmt) bool {
		found := false
		for _, st := range stmts {
			syntax.Walk(st, func(n syntax.Node) bool {
				c, ok := n.(*syntax.CallExpr)
				if !ok {
					return true
				}
				var ws []string
				for _, a := range c.Args {
					ws = append(ws, wordOf(a).Lit)
				}
				line := strings.Join(ws, " ")
				if strings.Contains(line, "-d /run/systemd/system") || line == "command -v systemctl" || line == "command -v journalctl" {
					found = true
				}
				return true
			})
		}
		return found
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.IfClause:
			if n.Then != nil && isSystemdCheck(n.Cond) && len(n.Then) > 0 {
				out = append(out, guardRange{n.Then[0].Pos().Offset(), n.Then[len(n.Then)-1].End().Offset(), provision.GuardSystemd})
			}
		case *syntax.BinaryCmd:
			if n.Op == syntax.AndStmt && isSystemdCheck([]*syntax.Stmt{n.X}) {
				out = append(out, guardRange{n.Y.Pos().Offset(), n.Y.End().Offset(), provision.GuardSystemd})
			}
		case *syntax.CaseClause:
			old := func(ci *syntax.CaseItem) bool {
				for _, p := range ci.Patterns {
					if strings.Contains(flatten(p), "1.1.[0-6]") {
						return true
					}
				}
				return false
			}
			if !slices.ContainsFunc(n.Items, old) {
				break
			}
			for _, ci := range n.Items {
				if !old(ci) && len(ci.Stmts) > 0 {
					out = append(out, guardRange{ci.Stmts[0].Pos().Offset(), ci.Stmts[len(ci.Stmts)-1].End().Offset(), provision.GuardNewerPacemaker})
				}
			}
		}
		return true
	})
	return out
}
