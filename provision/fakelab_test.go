package provision

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"halab/lab"
	"halab/lab/labtest"
)

// This file models a two-node lab on labtest.FakeNode closely enough for
// every provisioning step: each script the steps send is answered by what
// it would do to the node (files on the fake's in-memory file system,
// packages, daemons, the CIB), so the tests see the steps' decisions
// through their effects.

const (
	osDebian12 = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nID=debian\n"
	osPrecise  = "PRETTY_NAME=\"Ubuntu precise (12.04.5 LTS)\"\nVERSION_ID=\"12.04\"\nID=ubuntu\n"
)

// scriptTable names every embedded script for the fake.
func scriptTable(t testing.TB) map[string]string {
	m := map[string]string{}
	err := fs.WalkDir(ScriptFS(), "scripts", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		m[strings.TrimSuffix(path.Base(p), ".sh")] = Script(strings.TrimSuffix(path.Base(p), ".sh"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fakeLab is a lab of modelled nodes.
type fakeLab struct {
	t     *testing.T
	lab   *lab.Lab
	nodes []*modelNode
	out   lockedBuffer
}

// lockedBuffer is the progress output: Provisioner.record writes it from
// the nodes' goroutines without a lock of its own.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// modelNode is a fake node and the state its scripts keep beside files.
type modelNode struct {
	*labtest.FakeNode
	cl *fakeLab

	mu        sync.Mutex
	packages  map[string]bool
	enabled   map[string]bool
	running   map[string]bool
	cib       string
	loadCIBAs func(conf []byte) string // what `crm configure load update` leaves in the CIB
}

// newFakeLab makes a lab of the default two nodes for stack, with a small
// real JDK tarball; edit adjusts lab.yaml before the nodes are made.
func newFakeLab(t *testing.T, stack string, edit func(*lab.Config)) *fakeLab {
	dir := t.TempDir()
	writeJDK(t, filepath.Join(dir, "jdk.tar.gz"))
	cfg := lab.Defaults()
	cfg.Path = filepath.Join(dir, "lab.yaml")
	cfg.Stack = stack
	cfg.Service.JDKArchive = "jdk.tar.gz"
	if edit != nil {
		edit(&cfg)
	}
	if probs := CheckConfig(&cfg); len(probs) > 0 {
		t.Fatalf("test lab is invalid: %v", probs)
	}
	fl := &fakeLab{t: t, lab: &lab.Lab{Cfg: &cfg, ConfigPath: cfg.Path, Root: dir, State: t.TempDir(), Out: io.Discard}}
	osRelease := osDebian12
	if stack == "heartbeat" {
		osRelease = osPrecise
	}
	scripts := scriptTable(t)
	for _, n := range cfg.Nodes {
		fl.nodes = append(fl.nodes, fl.newNode(n.Name, osRelease, scripts))
	}
	return fl
}

// writeJDK writes a small JDK archive whose bin/java is a real ELF
// executable of this machine (the JDK check reads its glibc symbol
// versions, which /bin/true carries like a JVM does).
func writeJDK(t *testing.T, file string) {
	elf, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range []struct {
		name, body string
		dir        bool
	}{{"jdk-21/", "", true}, {"jdk-21/bin/", "", true}, {"jdk-21/bin/java", string(elf), false}, {"jdk-21/release", "JAVA_VERSION=\"21\"\n", false}} {
		h := &tar.Header{Name: e.name, Mode: 0o755, Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		if e.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (fl *fakeLab) node(name string) *modelNode {
	for _, n := range fl.nodes {
		if n.Name == name {
			return n
		}
	}
	fl.t.Fatalf("no node %s", name)
	return nil
}

func (fl *fakeLab) runners() []lab.Runner {
	var rs []lab.Runner
	for _, n := range fl.nodes {
		rs = append(rs, n)
	}
	return rs
}

// provision runs every step but vip, as `halab provision` does, with a
// Provisioner of its own (as a new run of halab has).
func (fl *fakeLab) provision() (*Provisioner, error) {
	fl.t.Helper()
	for _, n := range fl.nodes {
		n.ResetCalls()
	}
	fl.out.Reset()
	p, err := New(fl.lab, fl.runners(), Options{Out: &fl.out, stopBeforeVIP: true})
	if err != nil {
		fl.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return p, p.Run(ctx)
}

// mustProvision is provision that must succeed.
func (fl *fakeLab) mustProvision() *Provisioner {
	fl.t.Helper()
	p, err := fl.provision()
	if err != nil {
		fl.t.Fatalf("provision: %v\n%s", err, fl.out.String())
	}
	return p
}

// up lists the nodes whose cluster daemons run.
func (fl *fakeLab) up() []string {
	var names []string
	for _, n := range fl.nodes {
		n.mu.Lock()
		if n.running["heartbeat"] || n.running["pacemaker"] {
			names = append(names, n.Name)
		}
		n.mu.Unlock()
	}
	return names
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var dcDeadtimeRe = regexp.MustCompile(`dc-deadtime=(\d+s)`)

func (fl *fakeLab) newNode(name, osRelease string, scripts map[string]string) *modelNode {
	n := &modelNode{
		FakeNode: labtest.NewFakeNode(fl.t, name, scripts), cl: fl,
		packages: map[string]bool{}, enabled: map[string]bool{}, running: map[string]bool{},
	}
	fsys := n.FS
	ok := func(s string) (lab.Result, error) { return labtest.OK(s), nil }
	fail := func(code int, s string) (lab.Result, error) { return labtest.Exit(code, s), nil }

	n.On(func(c labtest.Call) bool { return c.Script == "" && strings.Join(c.Args, " ") == "cat /etc/os-release" },
		func(labtest.Call) (lab.Result, error) { return ok(osRelease) })

	n.OnScript("packages", func(c labtest.Call) (lab.Result, error) {
		n.mu.Lock()
		defer n.mu.Unlock()
		var missing []string
		for _, p := range c.Args {
			if !n.packages[p] {
				missing = append(missing, p)
				n.packages[p] = true
			}
		}
		if len(missing) == 0 {
			return ok("")
		}
		return ok(strings.Join(missing, " ") + "\n")
	})

	// installed.sh: $1 unpack dir, $2 sha256, $3 link.
	n.OnScript("installed", func(c labtest.Call) (lab.Result, error) {
		dir, sum, link := c.Args[0], c.Args[1], c.Args[2]
		got, _ := fsys.ReadFile(dir + "/.halab-sha256")
		target, _ := fsys.Readlink(link)
		if strings.TrimSpace(string(got)) == sum && (target == dir || strings.HasPrefix(target, dir+"/")) {
			return ok("")
		}
		return fail(1, "")
	})

	// unpack.sh: $1 archive, $2 sha256, $3 kind, $4 dir, $5 link.
	n.OnScript("unpack", func(c labtest.Call) (lab.Result, error) {
		archive, sum, kind, dir, link := c.Args[0], c.Args[1], c.Args[2], c.Args[3], c.Args[4]
		data, found := fsys.ReadFile(archive)
		if !found {
			return fail(1, "sh: cannot open "+archive+": No such file")
		}
		if got := sha(data); got != sum {
			fsys.Remove(archive)
			return fail(1, fmt.Sprintf("sha256 of the pushed archive is %s, expected %s (transfer corrupted; re-run)", got, sum))
		}
		if kind != "tar.gz" {
			return fail(2, "unexpected kind "+kind)
		}
		fsys.Remove(dir)
		if err := untar(fsys, data, dir); err != nil {
			return fail(2, "tar: "+err.Error())
		}
		fsys.Remove(archive)
		top := dir
		var tops []string
		for _, p := range fsys.Paths() {
			if path.Dir(p) == dir {
				tops = append(tops, p)
			}
		}
		if e, _ := fsys.Lstat(tops[0]); len(tops) == 1 && e.Mode.IsDir() {
			top = tops[0]
		}
		if e, exists := fsys.Lstat(link); exists && e.Mode&os.ModeSymlink == 0 {
			return fail(1, link+" exists and is not a symlink made by halab: move it away")
		}
		fsys.Symlink(top, link)
		fsys.WriteFile(dir+"/.halab-link", []byte(link+"\n"), 0o644, 0, 0)
		fsys.WriteFile(dir+"/.halab-sha256", []byte(sum+"\n"), 0o644, 0, 0)
		return ok("")
	})

	// prune-archives.sh: $1 the version just unpacked; removes the other
	// NAME-<12 hex> directories beside it whose recorded link no longer
	// points into them (no program runs on a fake node).
	versionRe := regexp.MustCompile(`-[0-9a-f]{12}$`)
	n.OnScript("prune-archives", func(c labtest.Call) (lab.Result, error) {
		keep := c.Args[0]
		prefix := strings.TrimSuffix(keep, versionRe.FindString(keep)) + "-"
		var out strings.Builder
		for _, old := range fsys.Paths() {
			if old == keep || !strings.HasPrefix(old, prefix) || !versionRe.MatchString(old) || strings.Contains(old[len(prefix):], "/") {
				continue
			}
			if e, _ := fsys.Lstat(old); !e.Mode.IsDir() {
				continue
			}
			link, _ := fsys.ReadFile(old + "/.halab-link")
			if target, isLink := fsys.Readlink(strings.TrimSpace(string(link))); isLink && (target == old || strings.HasPrefix(target, old+"/")) {
				continue
			}
			fsys.Remove(old)
			out.WriteString("removed:" + old + "\n")
		}
		return ok(out.String())
	})

	// The node's glibc, as Debian 12's getconf says it (the JDK check
	// compares it with what the archive's JVM needs).
	n.OnCommand("getconf", func(c labtest.Call) (lab.Result, error) {
		return ok("glibc 2.36\n")
	})

	n.OnCommand(fl.lab.Cfg.Service.JavaHome+"/bin/java", func(c labtest.Call) (lab.Result, error) {
		if e, found := fsys.Stat(c.Args[0]); !found || !e.Mode.IsRegular() {
			return fail(127, "sh: 1: "+c.Args[0]+": not found")
		}
		return lab.Result{Stderr: []byte("openjdk version \"21\"\n")}, nil
	})

	// service-dirs.sh: $1 service user, $2 product home.
	n.OnScript("service-dirs", func(c labtest.Call) (lab.Result, error) {
		u, found := n.LookupUser(c.Args[0])
		if !found {
			return fail(1, "service user "+c.Args[0]+" does not exist on the node")
		}
		home := c.Args[1]
		for _, d := range []string{"logs", "bin", "lib"} {
			fsys.MkdirAll(home + "/" + d)
		}
		for _, d := range []string{home, home + "/logs"} {
			e, _ := fsys.Lstat(d)
			fsys.Chown(d, u.UID, e.GID)
		}
		return ok("")
	})

	// compile-stand-in.sh: $1 product home, $2 java home, $3 user. The
	// class is fresh while it was compiled from the source as it is now.
	n.OnScript("compile-stand-in", func(c labtest.Call) (lab.Result, error) {
		home, user := c.Args[0], c.Args[2]
		src, found := fsys.ReadFile(home + "/lib/Stratos.java")
		if !found {
			return fail(1, "error: file not found: "+home+"/lib/Stratos.java")
		}
		cls := home + "/lib/classes/Stratos.class"
		if got, _ := fsys.ReadFile(cls); string(got) == "compiled from "+sha(src) {
			return ok("ok\n")
		}
		u, _ := n.LookupUser(user)
		fsys.WriteFile(cls, []byte("compiled from "+sha(src)), 0o644, u.UID, u.UID)
		return ok("compiled\n")
	})

	// seed-cib.sh: $1 dc-deadtime; an existing CIB is never touched.
	n.OnScript("seed-cib", func(c labtest.Call) (lab.Result, error) {
		const cibXML = "/var/lib/pacemaker/cib/cib.xml"
		if _, exists := fsys.Lstat(cibXML); exists {
			return ok("")
		}
		fsys.WriteFile(cibXML, []byte(`<cib><configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair name="dc-deadtime" value="`+c.Args[0]+`"/></cluster_property_set></crm_config></configuration></cib>`), 0o600, 110, 115)
		return ok("")
	})

	// daemons.sh: $1 restart|keep, the daemons to run, --, those to stop;
	// prints one word per action, as on systemd.
	n.OnScript("daemons", func(c labtest.Call) (lab.Result, error) {
		n.mu.Lock()
		defer n.mu.Unlock()
		mode := c.Args[0]
		var run, stop []string
		seen := false
		for _, a := range c.Args[1:] {
			switch {
			case a == "--":
				seen = true
			case seen:
				stop = append(stop, a)
			default:
				run = append(run, a)
			}
		}
		if !seen {
			return fail(2, "daemons.sh: no -- between the daemons to run and to stop")
		}
		var did []string
		for _, d := range stop {
			if n.running[d] {
				delete(n.running, d)
				did = append(did, "stopped:"+d)
			}
			if n.enabled[d] {
				delete(n.enabled, d)
				did = append(did, "disabled:"+d)
			}
		}
		for _, d := range run {
			if !n.enabled[d] {
				n.enabled[d] = true
				did = append(did, "enabled:"+d)
			}
		}
		if mode == "restart" {
			for _, d := range run {
				n.running[d] = true
			}
			did = append(did, "restarted:"+strings.Join(run, ","))
		} else {
			for _, d := range run {
				if !n.running[d] {
					n.running[d] = true
					did = append(did, "started:"+d)
				}
			}
		}
		return ok(strings.Join(did, "\n") + "\n")
	})

	n.OnCommand("crm_mon", func(c labtest.Call) (lab.Result, error) {
		up := fl.up()
		if !strings.Contains(" "+strings.Join(up, " ")+" ", " "+n.Name+" ") {
			return fail(102, "crm_mon: Error: cluster is not available on this node")
		}
		return ok(fmt.Sprintf("Cluster Summary:\n  * Current DC: %s (version 2.1.5) - partition with quorum\nNode List:\n  * Online: [ %s ]\n", up[0], strings.Join(up, " ")))
	})

	n.OnCommand("cl_status", func(c labtest.Call) (lab.Result, error) {
		n.mu.Lock()
		self := n.running["heartbeat"]
		n.mu.Unlock()
		if !self {
			return fail(1, "cl_status: Heartbeat is not running")
		}
		peer := fl.node(c.Args[2])
		peer.mu.Lock()
		defer peer.mu.Unlock()
		if peer.running["heartbeat"] {
			return ok("active\n")
		}
		return ok("dead\n")
	})

	n.On(func(c labtest.Call) bool {
		return c.Script == "" && len(c.Args) == 5 && strings.Join(c.Args[:4], " ") == "crm configure load update"
	}, func(c labtest.Call) (lab.Result, error) {
		conf, found := fsys.ReadFile(c.Args[4])
		if !found {
			return fail(1, "ERROR: "+c.Args[4]+": file not found")
		}
		n.mu.Lock()
		defer n.mu.Unlock()
		n.cib = n.loadCIB(conf)
		return ok("")
	})

	// The verifiers answer what they answered on a real lab for that CIB
	// (testdata/verify): the article's, or fencing on without a device.
	verifier := func(name string) (lab.Result, error) {
		n.mu.Lock()
		cib := n.cib
		n.mu.Unlock()
		file := map[string]string{"crm_verify": "pcmk2.1.5-crm_verify-L-VV-article.exit0.txt", "crm": "crmsh4.4-configure-verify-article.exit0.txt"}[name]
		fencing := strings.Contains(cib, `name="stonith-enabled" value="true"`)
		switch {
		case fencing && !strings.Contains(cib, `class="stonith"`):
			file = map[string]string{"crm_verify": "pcmk2.1.5-crm_verify-L-VV-no-fence-device.exit78.txt", "crm": "crmsh4.4-configure-verify-no-fence-device.exit1.txt"}[name]
		case fencing: // with a device: fenced, so no "Blind faith"
			if name == "crm_verify" {
				return ok("")
			}
			out, _ := os.ReadFile("testdata/verify/" + file)
			return ok(regexp.MustCompile(`(?m)^.*Blind faith.*\n`).ReplaceAllString(string(out), ""))
		}
		out, err := os.ReadFile("testdata/verify/" + file)
		if err != nil {
			n.cl.t.Errorf("fixture: %v", err)
		}
		code, _ := strconv.Atoi(regexp.MustCompile(`exit(\d+)`).FindStringSubmatch(file)[1])
		return lab.Result{ExitCode: code, Stderr: out}, nil
	}
	n.OnCommand("crm_verify", func(c labtest.Call) (lab.Result, error) { return verifier("crm_verify") })
	n.On(func(c labtest.Call) bool {
		return c.Script == "" && strings.Join(c.Args, " ") == "crm configure verify"
	}, func(c labtest.Call) (lab.Result, error) { return verifier("crm") })

	n.OnCommand("cibadmin", func(c labtest.Call) (lab.Result, error) {
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.cib == "" {
			return ok("<cib><configuration><crm_config/><resources/><constraints/></configuration></cib>\n")
		}
		return ok(n.cib)
	})
	return n
}

// loadCIB is the CIB after loading conf: the live CIB of a lab halab
// provisioned, with conf's dc-deadtime.
func (n *modelNode) loadCIB(conf []byte) string {
	if n.loadCIBAs != nil {
		return n.loadCIBAs(conf)
	}
	raw, err := os.ReadFile("testdata/cib-corosync.xml")
	if err != nil {
		n.cl.t.Errorf("fixture: %v", err)
		return ""
	}
	cib := string(raw)
	if m := dcDeadtimeRe.FindSubmatch(conf); m != nil {
		cib = strings.Replace(cib, `<nvpair name="stonith-enabled"`,
			`<nvpair name="dc-deadtime" value="`+string(m[1])+`" id="cib-bootstrap-options-dc-deadtime"/><nvpair name="stonith-enabled"`, 1)
	}
	return cib
}

// untar unpacks a .tar.gz under dir, as root.
func untar(fsys *labtest.FS, data []byte, dir string) error {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	fsys.MkdirAll(dir)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := path.Join(dir, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			fsys.MkdirAll(p)
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			fsys.WriteFile(p, b, os.FileMode(h.Mode).Perm(), 0, 0)
		}
	}
}
