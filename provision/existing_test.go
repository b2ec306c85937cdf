package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"halab/lab"
	"halab/lab/labtest"
)

func TestParseClusterFacts(t *testing.T) {
	f := ParseClusterFacts("active corosync\nenabled pacemaker\nconfig /etc/corosync/corosync.conf\nowner id abc123\nowner config /w/lab.yaml\nowner name mylab\n\n")
	if !slices.Equal(f.Active, []string{"corosync"}) || !slices.Equal(f.Enabled, []string{"pacemaker"}) || !slices.Equal(f.Config, []string{"/etc/corosync/corosync.conf"}) {
		t.Errorf("facts %+v", f)
	}
	if f.Mark["id"] != "abc123" || f.Mark["config"] != "/w/lab.yaml" || f.Mark["name"] != "mylab" {
		t.Errorf("mark %v", f.Mark)
	}
	if s := f.Signs(); len(s) != 3 || !strings.Contains(s[0], "corosync running") {
		t.Errorf("signs %q", s)
	}
	if s := ParseClusterFacts("").Signs(); len(s) != 0 {
		t.Errorf("a clean node shows %q", s)
	}
}

// adoptNode is a node whose cluster-facts.sh prints facts, and whose
// mark-lab.sh records the mark it was given.
func adoptNode(t *testing.T, name, facts string) *labtest.FakeNode {
	n := labtest.NewFakeNode(t, name, scriptTable(t))
	n.OnScript("cluster-facts", func(c labtest.Call) (lab.Result, error) {
		if c.Args[0] != MarkFile || !slices.Contains(c.Args, "corosync") || !slices.Contains(c.Args, "heartbeat") {
			t.Errorf("cluster-facts args %q", c.Args)
		}
		return labtest.OK(facts), nil
	})
	n.OnScript("mark-lab", func(labtest.Call) (lab.Result, error) { return labtest.OK(""), nil })
	return n
}

// Provisioning machines halab did not make is refused where a cluster
// runs or is set up that this lab did not set up, unless adopt: true; a
// node this lab marked, or a clean one, is provisioned and marked.
func TestAdopt(t *testing.T) {
	ctx := context.Background()
	cfg := lab.Defaults()
	cfg.Path = "/w/lab.yaml"
	id := lab.NewIdentity(cfg.Name, cfg.Path)
	mine := fmt.Sprintf("owner id %s\nowner config %s\nowner name %s\n", id.ID, id.Config, id.Name)
	newLab := func(adopt bool) (*lab.Lab, *strings.Builder) {
		c := cfg
		c.Adopt = adopt
		var out strings.Builder
		return &lab.Lab{Cfg: &c, ID: id, Out: &out}, &out
	}

	t.Run("clean nodes are marked", func(t *testing.T) {
		l, _ := newLab(false)
		a, b := adoptNode(t, "node1", ""), adoptNode(t, "node2", "config /etc/corosync/corosync.conf\n"+mine)
		if err := Adopt(ctx, l, []lab.Runner{a, b}); err != nil {
			t.Fatal(err)
		}
		if c := a.ScriptCalls("mark-lab"); len(c) != 1 || !slices.Equal(c[0].Args, []string{MarkFile, id.ID, id.Config, id.Name}) {
			t.Errorf("node1 marks: %v", c)
		}
		if c := b.ScriptCalls("mark-lab"); len(c) != 0 {
			t.Errorf("node2 is marked already, marked again: %v", c)
		}
	})
	t.Run("a foreign cluster is refused, every node named, nothing marked", func(t *testing.T) {
		l, _ := newLab(false)
		a := adoptNode(t, "node1", "active corosync\nconfig /etc/corosync/corosync.conf\n")
		b := adoptNode(t, "node2", "enabled heartbeat\nowner id 0123456789ab\nowner config /other/lab.yaml\nowner name other\n")
		err := Adopt(ctx, l, []lab.Runner{a, b})
		var ce *lab.ConfigError
		if !errors.As(err, &ce) || len(ce.Problems) != 2 {
			t.Fatalf("want two problems, got %v", err)
		}
		for i, w := range [][]string{
			{"adopt: node1 already runs a cluster that this lab did not set up", "corosync running", "/etc/corosync/corosync.conf", "adopt: true", "Nothing was changed"},
			{"adopt: node2 already runs a cluster that halab set up for another lab, /other/lab.yaml", "heartbeat enabled at boot"},
		} {
			for _, s := range w {
				if !strings.Contains(ce.Problems[i], s) {
					t.Errorf("%q lacks %q", ce.Problems[i], s)
				}
			}
		}
		if len(a.ScriptCalls("mark-lab"))+len(b.ScriptCalls("mark-lab")) != 0 {
			t.Error("a refused lab marked a node")
		}
	})
	t.Run("adopt: true takes it over", func(t *testing.T) {
		l, out := newLab(true)
		a := adoptNode(t, "node1", "active corosync\n")
		if err := Adopt(ctx, l, []lab.Runner{a}); err != nil {
			t.Fatal(err)
		}
		if len(a.ScriptCalls("mark-lab")) != 1 || !strings.Contains(out.String(), "adopting it") {
			t.Errorf("not adopted and marked: %v\n%s", a.Calls(), out)
		}
	})
}

// CheckNode says, naming stack:, when no stack the lab would provision
// runs on the node's OS.
func TestCheckNode(t *testing.T) {
	ctx := context.Background()
	node := func(osRelease string) *labtest.FakeNode {
		n := labtest.NewFakeNode(t, "node1", scriptTable(t))
		n.On(func(c labtest.Call) bool { return strings.Join(c.Args, " ") == "cat /etc/os-release" },
			func(labtest.Call) (lab.Result, error) { return labtest.OK(osRelease), nil })
		return n
	}
	cfg := lab.Defaults()
	if p := CheckNode(ctx, &cfg, node(osDebian12)); len(p) != 0 {
		t.Errorf("Debian 12, auto: %q", p)
	}
	p := CheckNode(ctx, &cfg, node("ID=fedora\nVERSION_ID=40\nPRETTY_NAME=\"Fedora Linux 40\"\n"))
	if len(p) != 1 || !strings.HasPrefix(p[0], "stack: auto picks no stack on node1's Fedora Linux 40") {
		t.Errorf("Fedora, auto: %q", p)
	}
	cfg.Stack = "corosync"
	p = CheckNode(ctx, &cfg, node(osPrecise))
	if len(p) != 1 || !strings.HasPrefix(p[0], "stack: corosync does not run on node1") || !strings.Contains(p[0], "heartbeat") {
		t.Errorf("precise, corosync: %q", p)
	}
}
