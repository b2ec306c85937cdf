package provision

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"halab/lab"
	"halab/lab/labtest"
)

// prune-archives.sh itself, run by dash and bash in a temporary store: of
// the other versions of the archive just unpacked, it removes those no
// recorded link points into and keeps those a link still uses and
// everything that is not a version of this archive.
func TestPruneArchivesScript(t *testing.T) {
	script := filepath.Join("scripts", "prune-archives.sh")
	for _, shell := range []struct{ name, pkg string }{{"dash", "dash"}, {"bash", "bash"}} {
		t.Run(shell.name, func(t *testing.T) {
			sh := tool(t, shell.name, shell.pkg)
			root := t.TempDir()
			store := filepath.Join(root, "store")
			ver := func(name string) string { return filepath.Join(store, name) }
			mkver := func(name, link string) string {
				d := ver(name)
				if err := os.MkdirAll(filepath.Join(d, "jdk", "bin"), 0o755); err != nil {
					t.Fatal(err)
				}
				if link != "" {
					if err := os.WriteFile(filepath.Join(d, ".halab-link"), []byte(link+"\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return d
			}
			symlink := func(target, link string) {
				if err := os.Symlink(target, link); err != nil {
					t.Fatal(err)
				}
			}
			javaHome := filepath.Join(root, "jdk")
			oldHome := filepath.Join(root, "jdk7")
			keep := mkver("jdk-bbbbbbbbbbbb", javaHome)
			symlink(filepath.Join(keep, "jdk"), javaHome)

			mkver("jdk-aaaaaaaaaaaa", javaHome)                       // replaced: its link now points at keep
			mkver("jdk-cccccccccccc", "")                             // unpacked by an older halab: no link recorded
			mkver("jdk-dddddddddddd", filepath.Join(root, "missing")) // its link is gone
			used := mkver("jdk-eeeeeeeeeeee", oldHome)                // java_home changed: the old link still uses it
			symlink(filepath.Join(used, "jdk"), oldHome)
			mkver("product-aaaaaaaaaaaa", "") // another archive
			mkver("jdk-0123", "")             // not a version directory
			if err := os.WriteFile(ver("jdk-999999999999.archive"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}

			var stdout, stderr bytes.Buffer
			cmd := exec.Command(sh, script, keep)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s %s %s: %v\n%s", shell.name, script, keep, err, stderr.String())
			}
			entries, err := os.ReadDir(store)
			if err != nil {
				t.Fatal(err)
			}
			var left []string
			for _, e := range entries {
				left = append(left, e.Name())
			}
			want := []string{"jdk-0123", "jdk-999999999999.archive", "jdk-bbbbbbbbbbbb", "jdk-eeeeeeeeeeee", "product-aaaaaaaaaaaa"}
			if !slices.Equal(left, want) {
				t.Errorf("left in the store: %v, want %v", left, want)
			}
			var removed []string
			for _, l := range strings.Fields(stdout.String()) {
				removed = append(removed, strings.TrimPrefix(l, "removed:"+store+"/"))
			}
			if w := []string{"jdk-aaaaaaaaaaaa", "jdk-cccccccccccc", "jdk-dddddddddddd"}; !slices.Equal(removed, w) {
				t.Errorf("printed %q, want removed: lines for %v", stdout.String(), w)
			}
		})
	}
}

// On the fake lab: a new JDK archive replaces the old version under
// /opt/.halab on each node, and the step says so; a version a link still
// points into stays; an unpack that fails removes nothing.
func TestNewArchiveRemovesOldVersions(t *testing.T) {
	fl := newFakeLab(t, "corosync", nil)
	fl.mustProvision()
	versions := func(n *modelNode) []string {
		var vs []string
		for _, p := range n.FS.Paths() {
			if rest, ok := strings.CutPrefix(p, archiveDir+"/"); ok && !strings.Contains(rest, "/") && !strings.Contains(rest, ".") {
				vs = append(vs, rest)
			}
		}
		return vs
	}
	first := map[string][]string{}
	for _, n := range fl.nodes {
		first[n.Name] = versions(n)
		if len(first[n.Name]) != 1 {
			t.Fatalf("%s: after the first provision %s holds %v", n.Name, archiveDir, first[n.Name])
		}
	}

	// A version kept by a link of its own on node2 (java_home was changed).
	n2 := fl.node("node2")
	old2 := archiveDir + "/" + first["node2"][0]
	n2.FS.WriteFile(old2+"/.halab-link", []byte("/opt/jdk7\n"), 0o644, 0, 0)
	n2.FS.Symlink(old2+"/jdk-21", "/opt/jdk7")

	newJDK := filepath.Join(fl.lab.Root, "jdk2.tar.gz")
	writeJDK(t, newJDK)
	f, err := os.OpenFile(newJDK, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 1024)) // another archive, same JDK
	f.Close()
	fl.lab.Cfg.Service.JDKArchive = "jdk2.tar.gz"
	p := fl.mustProvision()

	for _, n := range fl.nodes {
		vs := versions(n)
		target, _ := n.FS.Readlink("/opt/jdk")
		if len(n.ScriptCalls("prune-archives")) != 1 {
			t.Errorf("%s: prune-archives.sh ran %d times, want once after the unpack", n.Name, len(n.ScriptCalls("prune-archives")))
		}
		r := mustResult(t, p, n.Name, StepJDK)
		switch n.Name {
		case "node1":
			if len(vs) != 1 || vs[0] == first["node1"][0] || !strings.HasPrefix(target, archiveDir+"/"+vs[0]+"/") {
				t.Errorf("node1: %s holds %v (before: %v), /opt/jdk -> %s: want only the new version", archiveDir, vs, first["node1"], target)
			}
			if !strings.Contains(r.Detail, "removed 1 older version") {
				t.Errorf("node1: jdk step says %q", r.Detail)
			}
		case "node2":
			if len(vs) != 2 || !slices.Contains(vs, first["node2"][0]) {
				t.Errorf("node2: %s holds %v, want the new version and the one /opt/jdk7 points into", archiveDir, vs)
			}
			if strings.Contains(r.Detail, "removed") {
				t.Errorf("node2: jdk step says %q", r.Detail)
			}
		}
	}

	// An unpack that fails leaves every version where it is.
	n1 := fl.node("node1")
	before := versions(n1)
	n1.OnScript("unpack", func(labtest.Call) (lab.Result, error) {
		return labtest.Exit(1, "tar: Unexpected EOF in archive"), nil
	})
	writeJDK(t, filepath.Join(fl.lab.Root, "jdk3.tar.gz"))
	fl.lab.Cfg.Service.JDKArchive = "jdk3.tar.gz"
	if _, err := fl.provision(); err == nil {
		t.Fatal("provision succeeded with a failing unpack")
	}
	if len(n1.ScriptCalls("prune-archives")) != 0 {
		t.Error("node1: prune-archives.sh ran after a failed unpack")
	}
	if got := versions(n1); !slices.Equal(got, before) {
		t.Errorf("node1: %s holds %v after a failed unpack, want %v", archiveDir, got, before)
	}
}
