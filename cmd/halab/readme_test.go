package main

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The README is the front page and docs/ the reference: every relative
// link in them resolves (file and heading), every docs/ page is linked
// from the README, every `halab` command and flag and every `make` target
// they name exists, and the README's pictures are small.
func TestReadmeAndDocs(t *testing.T) {
	files := []string{filepath.Join(repoRoot, "README.md")}
	docs, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if len(docs) == 0 {
		t.Fatal("no docs/*.md")
	}
	files = append(files, docs...)
	targets := makeTargets(t, repoRoot)
	h := &helps{seen: map[string]*help{}}
	linked := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(repoRoot, f)
		text := string(data)
		prose, code := splitCode(text)
		for _, m := range linkRe.FindAllStringSubmatch(prose, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			dest := f
			if path != "" {
				dest = filepath.Join(filepath.Dir(f), filepath.FromSlash(path))
				st, err := os.Stat(dest)
				if err != nil {
					t.Errorf("%s: link %s: %v", name, target, err)
					continue
				}
				if strings.HasPrefix(m[0], "!") && st.Size() > 400<<10 {
					t.Errorf("%s: picture %s is %d KB; keep it small", name, path, st.Size()>>10)
				}
				if name == "README.md" {
					linked[dest] = true
				}
			}
			if anchor != "" && strings.HasSuffix(dest, ".md") {
				if !slices.Contains(anchors(t, dest), anchor) {
					t.Errorf("%s: link %s: no heading %q in %s (headings: %v)", name, target, anchor, filepath.Base(dest), anchors(t, dest))
				}
			}
		}
		for _, c := range code {
			for _, inv := range halabInvocations(c) {
				hp := h.of(t, inv.cmd)
				if hp == nil {
					t.Errorf("%s: `%s` names halab %s: no such command", name, c, inv.cmd)
					continue
				}
				for _, fl := range inv.flags {
					if !hp.flags[fl] {
						t.Errorf("%s: `%s`: halab %s has no flag --%s", name, c, inv.cmd, fl)
					}
				}
			}
			for _, tg := range makeInvocations(c) {
				if !targets[tg] {
					t.Errorf("%s: `%s` names make %s: not a Makefile target", name, c, tg)
				}
			}
		}
	}
	for _, d := range docs {
		if !linked[d] {
			t.Errorf("README.md does not link %s", filepath.Base(d))
		}
	}
	t.Logf("commands checked: %v", slices.Sorted(maps.Keys(h.seen)))
	if len(h.seen) < 8 {
		t.Errorf("found only %d halab commands in the README and docs: the parser misses them", len(h.seen))
	}
}

var linkRe = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)\)`)

// splitCode returns the text outside code and the code: fenced blocks
// line by line (without comments), inline spans with their line breaks
// made spaces.
func splitCode(text string) (string, []string) {
	var prose strings.Builder
	var code []string
	fenced := false
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			if i := strings.Index(l, "#"); i >= 0 {
				l = l[:i]
			}
			code = append(code, l)
			continue
		}
		prose.WriteString(l + "\n")
	}
	p := prose.String()
	for _, re := range []*regexp.Regexp{regexp.MustCompile("``(.+?)``"), regexp.MustCompile("`([^`]+)`")} {
		for _, m := range re.FindAllStringSubmatch(p, -1) {
			code = append(code, strings.ReplaceAll(m[1], "\n", " "))
		}
		p = re.ReplaceAllString(p, " ")
	}
	return p, code
}

type invocation struct {
	cmd   string
	flags []string
}

var wordRe = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// halabInvocations finds `halab [GLOBAL FLAGS] CMD [--flag ...]` in code.
// A span that starts "halab: " is a message halab prints, not a command.
func halabInvocations(code string) []invocation {
	if strings.HasPrefix(strings.TrimSpace(code), "halab: ") {
		return nil
	}
	var out []invocation
	toks := strings.Fields(code)
	for i := 0; i < len(toks); i++ {
		if toks[i] != "halab" && !strings.HasSuffix(toks[i], "/halab") {
			continue
		}
		j := i + 1
		for j < len(toks) && strings.HasPrefix(toks[j], "-") && toks[j] != "--" {
			if !strings.Contains(toks[j], "=") {
				j++ // the global flag's value
			}
			j++
		}
		if j >= len(toks) || !wordRe.MatchString(toks[j]) {
			continue
		}
		inv := invocation{cmd: toks[j]}
		for k := j + 1; k < len(toks); k++ {
			tk := strings.Trim(toks[k], "[]),;")
			if tk == "--" || tk == "|" || tk == "&&" || tk == "halab" || strings.HasSuffix(tk, "/halab") || tk == "make" {
				break
			}
			if fl, ok := strings.CutPrefix(tk, "--"); ok {
				fl, _, _ = strings.Cut(fl, "=")
				inv.flags = append(inv.flags, fl)
			}
		}
		out = append(out, inv)
		i = j
	}
	return out
}

// makeInvocations finds `make TARGET...` in code.
func makeInvocations(code string) []string {
	var out []string
	toks := strings.Fields(code)
	for i, tk := range toks {
		if tk != "make" {
			continue
		}
		for _, t := range toks[i+1:] {
			if !wordRe.MatchString(t) {
				break
			}
			out = append(out, t)
		}
	}
	return out
}

// anchors are the GitHub anchors of a Markdown file's headings.
func anchors(t *testing.T, path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fenced := false
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
		}
		if fenced || !strings.HasPrefix(l, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(l, "#")))
		h = regexp.MustCompile(`[^\p{L}\p{N} _-]`).ReplaceAllString(h, "")
		out = append(out, strings.ReplaceAll(h, " ", "-"))
	}
	return out
}

// help is what `halab CMD --help` says: whether CMD exists, its flags.
type help struct{ flags map[string]bool }

type helps struct {
	mu   sync.Mutex
	seen map[string]*help
}

var flagRe = regexp.MustCompile(`(?m)^\s+(?:-[a-zA-Z], )?--([a-z0-9-]+)`)

func (h *helps) of(t *testing.T, cmd string) *help {
	h.mu.Lock()
	defer h.mu.Unlock()
	if hp, ok := h.seen[cmd]; ok {
		return hp
	}
	out, code := captureRun(t, cmd, "--help")
	var hp *help
	if code == 0 && strings.Contains(out, "halab "+cmd) {
		hp = &help{flags: map[string]bool{}}
		for _, m := range flagRe.FindAllStringSubmatch(out, -1) {
			hp.flags[m[1]] = true
		}
	}
	h.seen[cmd] = hp
	return hp
}

func TestReadmeParsers(t *testing.T) {
	prose, code := splitCode("Run `bin/halab -c bench.yaml bench --reps 3`\nor ``halab: lock`` [a](docs/x.md#y).\n```sh\nmake lab-up scenarios LABELS='a' # make nothing\nhalab test -- --focus x\n```\n")
	if !strings.Contains(prose, "[a](docs/x.md#y)") || strings.Contains(prose, "bench") {
		t.Errorf("prose %q", prose)
	}
	var invs []invocation
	var targets []string
	for _, c := range code {
		invs = append(invs, halabInvocations(c)...)
		targets = append(targets, makeInvocations(c)...)
	}
	slices.SortFunc(invs, func(a, b invocation) int { return strings.Compare(a.cmd, b.cmd) })
	if len(invs) != 2 || invs[0].cmd != "bench" || strings.Join(invs[0].flags, ",") != "reps" || invs[1].cmd != "test" || len(invs[1].flags) != 0 {
		t.Errorf("halab invocations %+v", invs)
	}
	if strings.Join(targets, ",") != "lab-up,scenarios" {
		t.Errorf("make targets %v", targets)
	}
	if h := (&helps{seen: map[string]*help{}}).of(t, "no-such-command"); h != nil {
		t.Error("an unknown command has help")
	}
}
