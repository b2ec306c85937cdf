package main

// The CI workflows are checked here: the ones users copy
// (.github/workflows/lab-*.yml) and ci.yml, which runs halab's own tests.
// All of them by actionlint, used as a library, and by what actionlint cannot
// know about this repository: the make targets and scripts they call exist;
// for the lab workflows, the stacks they run are stacks halab has and run on
// that provider, and the lab file each job writes is one halab accepts; for
// ci.yml, it runs exactly the README's test command, after .ci/deps, as
// root, as .ci/run does.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"

	"halab/lab"
	"halab/provision"
)

// workflowSpec says what each workflow must run.
type workflowSpec struct {
	file     string
	provider string   // provider: in the lab file the job writes
	stacks   []string // stacks its matrix (or its lab-file step) runs
}

var workflowSpecs = []workflowSpec{
	{file: "lab-docker.yml", provider: "docker", stacks: []string{"corosync", "heartbeat-v1"}},
	{file: "lab-virtualbox.yml", provider: "virtualbox", stacks: []string{"heartbeat"}},
}

// stackProviders: where each stack runs (the README's table of stacks): the article's
// heartbeat stack needs Pacemaker 1.1, so precise64 VMs only.
var stackProviders = map[string][]string{
	"heartbeat":    {"virtualbox"},
	"heartbeat-v1": {"virtualbox", "docker"},
	"corosync":     {"virtualbox", "docker"},
}

// Targets every lab workflow must call.
var requiredTargets = []string{"lab-up", "scenarios", "lab-down"}

// ciWorkflow runs halab's own tests (the README's test command) on pull
// requests and pushes to main.
const ciWorkflow = "ci.yml"

// workflowFiles: every workflow the tests know, the lab workflows first.
func workflowFiles() []string {
	var files []string
	for _, s := range workflowSpecs {
		files = append(files, s.file)
	}
	return append(files, ciWorkflow)
}

func isLabWorkflow(file string) (workflowSpec, bool) {
	for _, s := range workflowSpecs {
		if s.file == file {
			return s, true
		}
	}
	return workflowSpec{}, false
}

// onCI: the CI variable is true (GitHub Actions sets CI=true).
func onCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

func workflowRepoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found from %s: %v", root, err)
	}
	return root
}

func workflowPath(root, file string) string {
	return filepath.Join(root, ".github", "workflows", file)
}

// TestWorkflowsActionlint lints every workflow with actionlint (shellcheck
// on the run: scripts too when the shellcheck binary is on PATH; under CI=true
// a missing shellcheck fails the test rather than skipping those checks).
func TestWorkflowsActionlint(t *testing.T) {
	root := workflowRepoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range workflowFiles() {
		if !slices.Contains(files, workflowPath(root, f)) {
			t.Errorf("workflow %s is missing", f)
		}
	}
	shellcheck, _ := exec.LookPath("shellcheck")
	if shellcheck == "" {
		if onCI() {
			t.Fatal("shellcheck not on PATH and CI is true: CI must shellcheck the run: scripts; install it (apt-get install shellcheck)")
		}
		t.Log("shellcheck not on PATH: run: scripts are not shellchecked")
	}
	// The project (and so .github/actionlint.yaml, which declares the
	// self-hosted runner's label) is given, not found by looking for .git.
	project, err := actionlint.NewProject(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var out bytes.Buffer
			l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{
				Color:      actionlint.ColorOptionKindNever,
				Shellcheck: shellcheck,
				WorkingDir: root,
			})
			if err != nil {
				t.Fatal(err)
			}
			errs, err := l.LintFile(f, project)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range errs {
				t.Errorf("actionlint: %s", e.Error())
			}
			if len(errs) > 0 {
				t.Logf("actionlint's report:\n%s", out.String())
			}
		})
	}
}

// parseWorkflow parses a workflow with actionlint's parser.
func parseWorkflow(t *testing.T, path string) *actionlint.Workflow {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wf, errs := actionlint.Parse(src)
	for _, e := range errs {
		t.Errorf("%s: %s", filepath.Base(path), e.Error())
	}
	if wf == nil {
		t.FailNow()
	}
	return wf
}

type runStep struct {
	job  *actionlint.Job
	step *actionlint.Step
	run  string
}

func (r runStep) String() string {
	name := ""
	if r.step.Name != nil {
		name = r.step.Name.Value
	}
	return fmt.Sprintf("job %s, step %q (line %d)", r.job.ID.Value, name, r.step.Pos.Line)
}

func runSteps(wf *actionlint.Workflow) []runStep {
	var out []runStep
	for _, id := range sortedKeys(wf.Jobs) {
		j := wf.Jobs[id]
		for _, s := range j.Steps {
			if r, ok := s.Exec.(*actionlint.ExecRun); ok && r.Run != nil {
				out = append(out, runStep{job: j, step: s, run: r.Run.Value})
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// commandLines splits a run: script into logical lines (backslash
// continuations joined), without comment lines.
func commandLines(script string) []string {
	var lines []string
	var cur strings.Builder
	for _, l := range strings.Split(script, "\n") {
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(strings.TrimSuffix(l, "\\") + " ")
			continue
		}
		cur.WriteString(l)
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line != "" && !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	return lines
}

func unquote(s string) string {
	return strings.Trim(s, `"'`)
}

type makeCall struct {
	targets []string
	vars    []string // NAME=value
}

// makeCalls finds `make ...` commands (also behind sudo, env or as-root)
// and returns their targets and variables.
func makeCalls(line string) []makeCall {
	var calls []makeCall
	fields := strings.Fields(line)
	for i, f := range fields {
		if f != "make" {
			continue
		}
		var c makeCall
		for _, a := range fields[i+1:] {
			if strings.ContainsAny(a, ";&|<>()#") {
				break
			}
			a = unquote(a)
			switch {
			case strings.HasPrefix(a, "-"):
			case strings.Contains(a, "="):
				c.vars = append(c.vars, a)
			default:
				c.targets = append(c.targets, a)
			}
		}
		calls = append(calls, c)
	}
	return calls
}

var makeRuleRe = regexp.MustCompile(`(?m)^([A-Za-z0-9_./%-]+(?:[ \t]+[A-Za-z0-9_./%-]+)*)[ \t]*::?(?:[^=]|$)`)

// makeTargets lists the Makefile's explicit targets.
func makeTargets(t *testing.T, root string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range makeRuleRe.FindAllStringSubmatch(string(data), -1) {
		for _, name := range strings.Fields(m[1]) {
			if !strings.HasPrefix(name, ".") {
				targets[name] = true
			}
		}
	}
	if !targets["lab-up"] {
		t.Fatalf("Makefile parse found no lab-up target (found %v)", sortedKeys(targets))
	}
	return targets
}

// TestWorkflowsMakeTargets: every make target a workflow calls exists; each
// lab workflow brings the lab up, runs the scenarios and takes the lab down
// (always), passing its lab file as CONFIG.
func TestWorkflowsMakeTargets(t *testing.T) {
	root := workflowRepoRoot(t)
	targets := makeTargets(t, root)
	for _, file := range workflowFiles() {
		t.Run(file, func(t *testing.T) {
			wf := parseWorkflow(t, workflowPath(root, file))
			_, lab := isLabWorkflow(file)
			called := map[string]bool{}
			for _, r := range runSteps(wf) {
				for _, line := range commandLines(r.run) {
					for _, c := range makeCalls(line) {
						if len(c.targets) == 0 {
							t.Errorf("%s: `%s` names no target (the default goal only builds)", r, line)
						}
						for _, tg := range c.targets {
							called[tg] = true
							if !targets[tg] {
								t.Errorf("%s: make target %q is not in the Makefile (targets: %s)", r, tg, strings.Join(sortedKeys(targets), " "))
							}
						}
						if lab && !slices.ContainsFunc(c.vars, func(v string) bool { return strings.HasPrefix(v, "CONFIG=") }) {
							t.Errorf("%s: `%s` does not pass CONFIG=: it would run the checked-in lab.yaml (stack auto)", r, line)
						}
					}
				}
			}
			if len(called) == 0 {
				t.Errorf("the workflow never runs make")
			}
			if !lab {
				return // ci.yml: TestWorkflowCITestCommand says what it runs
			}
			for _, tg := range requiredTargets {
				if !called[tg] {
					t.Errorf("the workflow never runs `make %s`", tg)
				}
			}
			// The last lab-down runs whatever happened before it.
			var last *runStep
			for _, r := range runSteps(wf) {
				for _, line := range commandLines(r.run) {
					for _, c := range makeCalls(line) {
						if slices.Contains(c.targets, "lab-down") {
							last = &r
						}
					}
				}
			}
			if last != nil && (last.step.If == nil || !strings.Contains(last.step.If.Value, "always()")) {
				t.Errorf("%s: the final make lab-down must have `if: always()`", last)
			}
		})
	}
}

var scriptRe = regexp.MustCompile(`^(?:\./)?(?:\.ci|images|scripts)/[A-Za-z0-9_.-]+$|^\./[A-Za-z0-9_./-]+$`)

// TestWorkflowsScripts: every repository script a workflow runs exists and
// is executable.
func TestWorkflowsScripts(t *testing.T) {
	root := workflowRepoRoot(t)
	for _, file := range workflowFiles() {
		t.Run(file, func(t *testing.T) {
			wf := parseWorkflow(t, workflowPath(root, file))
			n := 0
			for _, r := range runSteps(wf) {
				for _, line := range commandLines(r.run) {
					for _, f := range strings.Fields(line) {
						p := unquote(f)
						if !scriptRe.MatchString(p) {
							continue
						}
						n++
						st, err := os.Stat(filepath.Join(root, filepath.FromSlash(p)))
						switch {
						case err != nil:
							t.Errorf("%s: script %s: %v", r, p, err)
						case !st.Mode().IsRegular():
							t.Errorf("%s: script %s is not a regular file", r, p)
						case st.Mode().Perm()&0o111 == 0:
							t.Errorf("%s: script %s is not executable (%v): git update-index --chmod=+x %s", r, p, st.Mode().Perm(), p)
						}
					}
				}
			}
			if n == 0 {
				t.Errorf("found no repository script in the workflow's run: steps (expected .ci/deps)")
			}
		})
	}
}

// TestWorkflowsStacks: the stacks a workflow runs are halab stacks (not
// auto) that run on its provider, and the lab file its `labfile` step writes
// (the step's script, run here with bash on a copy of lab.yaml) is accepted
// by halab with that provider and stack.
func TestWorkflowsStacks(t *testing.T) {
	root := workflowRepoRoot(t)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	labYAML, err := os.ReadFile(filepath.Join(root, lab.DefaultFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range workflowSpecs {
		t.Run(s.file, func(t *testing.T) {
			wf := parseWorkflow(t, workflowPath(root, s.file))
			var job *actionlint.Job
			var step *actionlint.Step
			for _, id := range sortedKeys(wf.Jobs) {
				for _, st := range wf.Jobs[id].Steps {
					if st.ID != nil && st.ID.Value == "labfile" {
						job, step = wf.Jobs[id], st
					}
				}
			}
			if step == nil {
				t.Fatal("no step with `id: labfile` (the step that writes the job's lab file)")
			}
			run, ok := step.Exec.(*actionlint.ExecRun)
			if !ok || run.Run == nil {
				t.Fatal("the labfile step has no run: script")
			}

			// The stacks: the matrix's, or the step's literal STACK.
			var stacks []string
			if job.Strategy != nil && job.Strategy.Matrix != nil {
				if row, ok := job.Strategy.Matrix.Rows["stack"]; ok {
					for _, v := range row.Values {
						str, ok := v.(*actionlint.RawYAMLString)
						if !ok {
							t.Errorf("matrix.stack value %s is not a string", v.String())
							continue
						}
						stacks = append(stacks, str.Value)
					}
				}
			}
			if len(stacks) == 0 {
				if step.Env != nil && step.Env.Vars["stack"] != nil {
					stacks = []string{step.Env.Vars["stack"].Value.Value}
				}
			}
			if !slices.Equal(sortedCopy(stacks), sortedCopy(s.stacks)) {
				t.Errorf("stacks %v, want %v", stacks, s.stacks)
			}
			for _, st := range stacks {
				if _, ok := provision.StackByName(st); !ok {
					t.Errorf("stack %q is not one halab provisions (use one of %v, not auto: a job runs one stack)", st, provision.StackNames())
					continue
				}
				if !slices.Contains(stackProviders[st], s.provider) {
					t.Errorf("stack %q does not run on the %s provider (runs on %v)", st, s.provider, stackProviders[st])
				}
			}

			// Run the step as GitHub would (bash -eo pipefail) for each stack.
			for _, st := range stacks {
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, lab.DefaultFile), labYAML, 0o644); err != nil {
					t.Fatal(err)
				}
				env := os.Environ()
				env, labFile := addEnv(t, env, wf.Env, st, "")
				env, labFile = addEnv(t, env, job.Env, st, labFile)
				env, labFile = addEnv(t, env, step.Env, st, labFile)
				if labFile == "" {
					t.Fatal("HALAB_LAB (the lab file the steps pass as CONFIG) is not set in the workflow's env")
				}
				script := filepath.Join(t.TempDir(), "step.sh")
				if err := os.WriteFile(script, []byte(run.Run.Value), 0o644); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
				cmd.Dir, cmd.Env = dir, env
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("stack %s: the labfile step fails: %v\n%s", st, err, out)
					continue
				}
				if filepath.Dir(filepath.Clean(labFile)) != "." {
					t.Errorf("HALAB_LAB %q: the lab file must sit beside lab.yaml (relative paths in it are resolved against its directory)", labFile)
				}
				cfg, err := lab.Load(filepath.Join(dir, labFile))
				if err != nil {
					t.Errorf("stack %s: halab rejects the generated lab file: %v", st, err)
					continue
				}
				if cfg.Stack != st || cfg.Provider != s.provider {
					t.Errorf("generated lab file has provider %q stack %q, want %q %q", cfg.Provider, cfg.Stack, s.provider, st)
				}
			}
		})
	}
}

// addEnv adds a workflow/job/step env block, with ${{ matrix.stack }} set
// to stack; any other expression cannot be evaluated here and fails the test.
func addEnv(t *testing.T, env []string, e *actionlint.Env, stack, labFile string) ([]string, string) {
	t.Helper()
	if e == nil {
		return env, labFile
	}
	if e.Expression != nil {
		t.Fatalf("env: %s is an expression; the test cannot evaluate it", e.Expression.Value)
	}
	for _, k := range sortedKeys(e.Vars) {
		v := e.Vars[k]
		val := regexp.MustCompile(`\$\{\{\s*matrix\.stack\s*\}\}`).ReplaceAllString(v.Value.Value, stack)
		// a repository variable is empty where it is not set, as here
		val = regexp.MustCompile(`\$\{\{\s*vars\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}`).ReplaceAllString(val, "")
		if strings.Contains(val, "${{") {
			t.Fatalf("env %s: %q: only ${{ matrix.stack }} and ${{ vars.NAME }} (unset) can be evaluated here", v.Name.Value, v.Value.Value)
		}
		env = append(env, v.Name.Value+"="+val)
		if v.Name.Value == "HALAB_LAB" {
			labFile = val
		}
	}
	return env, labFile
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

var pinnedRe = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@v[0-9]+$`)

// TestWorkflowsHygiene: actions pinned to a major version, read-only
// token, a job timeout, and reports uploaded whatever happened.
func TestWorkflowsHygiene(t *testing.T) {
	root := workflowRepoRoot(t)
	for _, file := range workflowFiles() {
		t.Run(file, func(t *testing.T) {
			wf := parseWorkflow(t, workflowPath(root, file))
			if wf.Permissions == nil || wf.Permissions.Scopes["contents"] == nil || wf.Permissions.Scopes["contents"].Value.Value != "read" || len(wf.Permissions.Scopes) != 1 {
				t.Errorf("permissions: want exactly `contents: read`")
			}
			if wf.Concurrency == nil {
				t.Errorf("no concurrency: two runs of the same ref would run side by side")
			}
			uploads := 0
			for _, id := range sortedKeys(wf.Jobs) {
				j := wf.Jobs[id]
				if j.TimeoutMinutes == nil {
					t.Errorf("job %s: no timeout-minutes", id)
				}
				for _, st := range j.Steps {
					a, ok := st.Exec.(*actionlint.ExecAction)
					if !ok {
						continue
					}
					if !pinnedRe.MatchString(a.Uses.Value) {
						t.Errorf("job %s: uses %q: pin a major version (owner/repo@vN)", id, a.Uses.Value)
					}
					if strings.HasPrefix(a.Uses.Value, "actions/upload-artifact@") {
						uploads++
						if st.If == nil || !strings.Contains(st.If.Value, "always()") {
							t.Errorf("job %s: upload-artifact needs `if: always()`: reports matter most when a scenario fails", id)
						}
					}
				}
			}
			if uploads == 0 {
				t.Errorf("no actions/upload-artifact step: the JUnit reports and artifacts would be lost")
			}
		})
	}
}

// readmeTestCommand finds the README's test command where a reader does: in
// the section "The two commands", the fenced code block, the command under
// the comment that starts "# tests".
func readmeTestCommand(t *testing.T, root string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const section = "The two commands"
	var block []string
	inSection, inFence, seen := false, false, false
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "```") {
			if inSection && inFence {
				break // the section's first code block ends
			}
			inFence = !inFence
			continue
		}
		if inFence {
			if inSection {
				block = append(block, l)
			}
			continue
		}
		if strings.HasPrefix(l, "#") { // a heading (outside code blocks)
			if inSection {
				break
			}
			inSection = strings.EqualFold(strings.TrimSpace(strings.TrimLeft(l, "#")), section)
			seen = seen || inSection
		}
	}
	if !seen {
		t.Fatalf("README.md: no section %q", section)
	}
	if len(block) == 0 {
		t.Fatalf("README.md: section %q has no fenced code block", section)
	}
	// The comment "# tests: ..." (maybe several comment lines), then the
	// command, up to a blank line or the next comment.
	var cmd []string
	found := false
scan:
	for _, l := range block {
		l = strings.TrimSpace(l)
		isComment := strings.HasPrefix(l, "#")
		switch {
		case !found:
			found = isComment && regexp.MustCompile(`(?i)^#\s*tests\b`).MatchString(l)
		case (isComment || l == "") && len(cmd) > 0:
			break scan
		case isComment || l == "":
		default:
			cmd = append(cmd, l)
		}
	}
	if !found {
		t.Fatalf("README.md: section %q: no comment `# tests: ...` in its code block:\n%s", section, strings.Join(block, "\n"))
	}
	lines := commandLines(strings.Join(cmd, "\n"))
	if len(lines) != 1 {
		t.Fatalf("README.md: section %q: want one command under `# tests`, found %q", section, lines)
	}
	return lines[0]
}

var envAssignRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// asRoot strips what runs a command as root (sudo and its options, the
// workflows' as-root wrapper, env and VAR=value) from a command line, and
// says whether it runs as root that way.
func asRoot(line string) (cmd string, root bool) {
	f := strings.Fields(line)
	for len(f) > 0 {
		switch {
		case f[0] == "sudo":
			root, f = true, f[1:]
			for len(f) > 0 && strings.HasPrefix(f[0], "-") {
				if (f[0] == "-u" || f[0] == "--user") && len(f) > 1 {
					root = f[1] == "root" || f[1] == "#0"
					f = f[1:]
				} else if strings.HasPrefix(f[0], "--user=") {
					root = strings.TrimPrefix(f[0], "--user=") == "root"
				}
				f = f[1:]
			}
		case f[0] == "as-root":
			root, f = true, f[1:]
		case f[0] == "env" || envAssignRe.MatchString(f[0]):
			f = f[1:]
		default:
			return strings.Join(f, " "), root
		}
	}
	return "", root
}

// definesAsRoot: a run: step makes the as-root wrapper, which runs its
// arguments with sudo.
func definesAsRoot(wf *actionlint.Workflow) bool {
	for _, r := range runSteps(wf) {
		if strings.Contains(r.run, `/as-root"`) && strings.Contains(r.run, "exec sudo ") {
			return true
		}
	}
	return false
}

// What runs a test: a repository script or a make call.
func isTestCommand(cmd string) bool {
	f := strings.Fields(cmd)
	return len(f) > 0 && (f[0] == "make" || scriptRe.MatchString(unquote(f[0])))
}

var hostedUbuntuRe = regexp.MustCompile(`^ubuntu-(latest|[0-9]{2}\.04)$`)

// TestWorkflowCITestCommand: ci.yml runs on pull requests and pushes to main,
// on a GitHub-hosted Ubuntu runner with CI=true, what .ci/run runs:
// .ci/deps, then exactly the README's test command, both as root, and
// nothing else that builds or tests.
func TestWorkflowCITestCommand(t *testing.T) {
	root := workflowRepoRoot(t)
	want := readmeTestCommand(t, root)
	t.Logf("the README's test command: %q", want)
	deps := ".ci/deps"
	normalize := func(cmd string) string { return strings.TrimPrefix(cmd, "./") }

	// .ci/run, the CI entry point on a machine of one's own, runs the same.
	src, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	var runSeq []string
	for _, line := range commandLines(string(src)) {
		if cmd, _ := asRoot(line); normalize(cmd) == deps || cmd == want {
			runSeq = append(runSeq, normalize(cmd))
		}
	}
	if !slices.Equal(runSeq, []string{deps, want}) {
		t.Errorf(".ci/run runs %q; want %s, then the README's test command %q", runSeq, deps, want)
	}

	wf := parseWorkflow(t, workflowPath(root, ciWorkflow))
	onPR, onPushMain := false, false
	for _, e := range wf.On {
		w, ok := e.(*actionlint.WebhookEvent)
		if !ok {
			continue
		}
		switch w.Hook.Value {
		case "pull_request":
			onPR = true
		case "push":
			onPushMain = w.Branches != nil && slices.ContainsFunc(w.Branches.Values, func(s *actionlint.String) bool { return s.Value == "main" })
		}
	}
	if !onPR || !onPushMain {
		t.Errorf("on: want pull_request and push to main (pull_request %v, push to main %v)", onPR, onPushMain)
	}
	if wf.Concurrency == nil || wf.Concurrency.CancelInProgress == nil ||
		(!wf.Concurrency.CancelInProgress.Value && wf.Concurrency.CancelInProgress.Expression == nil) {
		t.Errorf("concurrency: want cancel-in-progress, so that a new push to a pull request cancels its older run")
	}

	type call struct {
		r    runStep
		cmd  string
		root bool
	}
	var calls []call
	for _, r := range runSteps(wf) {
		for _, line := range commandLines(r.run) {
			if cmd, root := asRoot(line); isTestCommand(cmd) {
				calls = append(calls, call{r, normalize(cmd), root})
			}
		}
	}
	var got []string
	for _, c := range calls {
		got = append(got, c.cmd)
	}
	if !slices.Equal(got, []string{deps, want}) {
		t.Fatalf("%s runs %q; want exactly %s, then the README's test command %q (what .ci/run runs)", ciWorkflow, got, deps, want)
	}
	asRootOK := definesAsRoot(wf)
	for _, c := range calls {
		if !c.root {
			t.Errorf("%s: `%s` must run as root (sudo, or as-root): .ci/deps installs packages, the end-to-end tests build the node image with debootstrap", c.r, c.cmd)
		}
		if strings.Contains(c.r.run, "as-root") && !asRootOK {
			t.Errorf("%s: runs as-root, but no step makes the as-root wrapper (exec sudo ...)", c.r)
		}
		if c.r.step.If != nil {
			t.Errorf("%s: `%s` has `if: %s`: it must run on every event", c.r, c.cmd, c.r.step.If.Value)
		}
		if c.r.step.ContinueOnError != nil && (c.r.step.ContinueOnError.Value || c.r.step.ContinueOnError.Expression != nil) {
			t.Errorf("%s: `%s` has continue-on-error: a failing test must fail the run", c.r, c.cmd)
		}
	}

	job := calls[len(calls)-1].r.job
	if job.RunsOn == nil || len(job.RunsOn.Labels) != 1 || !hostedUbuntuRe.MatchString(job.RunsOn.Labels[0].Value) {
		t.Errorf("job %s: runs-on: want one GitHub-hosted Ubuntu label (ubuntu-24.04, ubuntu-latest): they run dockerd and have passwordless sudo", job.ID.Value)
	}
	ci := ""
	for _, e := range []*actionlint.Env{wf.Env, job.Env} {
		if e == nil {
			continue
		}
		for _, v := range e.Vars {
			if v.Name.Value == "CI" {
				ci = v.Value.Value
			}
		}
	}
	if b, err := strconv.ParseBool(ci); err != nil || !b {
		t.Errorf("job %s: env CI is %q, want \"true\" (the workflow test then fails when shellcheck is missing)", job.ID.Value, ci)
	}
	setupGo := false
	for _, st := range job.Steps {
		if a, ok := st.Exec.(*actionlint.ExecAction); ok && strings.HasPrefix(a.Uses.Value, "actions/setup-go@") {
			in := a.Inputs["go-version-file"]
			setupGo = in != nil && in.Value != nil && in.Value.Value == "go.mod"
		}
	}
	if !setupGo {
		t.Errorf("job %s: want actions/setup-go with `go-version-file: go.mod`: the Go of go.mod, not the runner's", job.ID.Value)
	}
}

// TestCIDigestTests runs the tests of .ci/digest, what a failed .ci/run
// ends with: `go test ./...` leaves out directories whose name starts with
// a dot.
func TestCIDigestTests(t *testing.T) {
	root := workflowRepoRoot(t)
	cmd := exec.Command("go", "test", "-count=1", "./.ci/digest")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test ./.ci/digest: %v\n%s", err, out)
	}
}
