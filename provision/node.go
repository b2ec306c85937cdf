package provision

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"
	"sync"

	"halab/lab"
	"halab/templates"
)

// archiveDir holds halab's unpacked archives on a node, one directory per
// archive content hash; java_home and product_home are symlinks into it.
const archiveDir = "/opt/.halab"

var shaCache sync.Map // local path -> sha256 hex

func cachedSHA(local string) (string, error) {
	st, err := os.Stat(local)
	if err != nil {
		return "", err
	}
	key := fmt.Sprintf("%s|%d|%d", local, st.Size(), st.ModTime().UnixNano())
	if v, ok := shaCache.Load(key); ok {
		return v.(string), nil
	}
	sum, err := localSHA256(File{Local: local})
	if err != nil {
		return "", err
	}
	shaCache.Store(key, sum)
	return sum, nil
}

var (
	unpackScript      = Script("unpack")
	pruneScript       = Script("prune-archives")
	installedScript   = Script("installed")
	serviceDirsScript = Script("service-dirs")
	compileScript     = Script("compile-stand-in")
	daemonsScript     = Script("daemons")
	seedCIBScript     = Script("seed-cib")
)

// installArchive pushes a local archive and unpacks it under archiveDir
// with link pointing at it; skipped when the same archive is unpacked.
func (p *Provisioner) installArchive(ctx context.Context, n lab.Runner, local, name, link string) (bool, string, error) {
	sum, err := cachedSHA(local)
	if err != nil {
		return false, "", err
	}
	kind, err := lab.ArchiveKindOf(local)
	if err != nil {
		return false, "", fmt.Errorf("%s: %w", local, err)
	}
	dir := path.Join(archiveDir, name+"-"+sum[:12])
	if res, err := n.SudoScript(ctx, installedScript, dir, sum, link); err != nil {
		return false, "", err
	} else if res.OK() {
		return false, path.Base(local) + " already unpacked", nil
	}
	remote := dir + ".archive"
	p.mu.Lock()
	if p.bars == nil {
		p.bars = map[string]*Bar{}
	}
	bar := p.bars[name]
	if bar == nil {
		bar = &Bar{Out: p.Opts.Out, Desc: "pushing " + path.Base(local)}
		p.bars[name] = bar
	}
	p.mu.Unlock()
	pusher := &Pusher{Node: n, Bar: bar, ProgressMin: 1 << 20}
	defer pusher.Close()
	if _, err := pusher.Push(ctx, []File{{Path: remote, Local: local, Mode: 0o644}}); err != nil {
		return false, "", err
	}
	if _, err := lab.Check(n.SudoScript(ctx, unpackScript, remote, sum, string(kind), dir, link)); err != nil {
		return false, "", err
	}
	detail := "pushed and unpacked " + path.Base(local)
	// The versions this one replaces would pile up with every new archive.
	res, err := lab.Check(n.SudoScript(ctx, pruneScript, dir))
	if err != nil {
		return false, "", fmt.Errorf("removing the older versions of %s under %s: %w", name, archiveDir, err)
	}
	if removed := strings.Count(string(res.Stdout), "removed:"); removed > 0 {
		detail += fmt.Sprintf(", removed %d older version(s)", removed)
	}
	return true, detail, nil
}

func (p *Provisioner) jdk(ctx context.Context, n lab.Runner) (bool, string, error) {
	c := p.Lab.Cfg
	changed, detail, err := p.installArchive(ctx, n, c.Resolve(c.Service.JDKArchive), "jdk", c.Service.JavaHome)
	if err != nil {
		return false, "", err
	}
	if changed {
		// A JVM start costs seconds on a busy node: check a fresh unpack only.
		if _, err := lab.Check(n.Run(ctx, nil, path.Join(c.Service.JavaHome, "bin", "java"), "-version")); err != nil {
			return false, "", fmt.Errorf("the pushed JDK does not run on the node: %w", err)
		}
	}
	return changed, detail, nil
}

// InitScriptPath is where the service's LSB script lives on a node.
func InitScriptPath(service string) string { return "/etc/init.d/" + service }

func (p *Provisioner) service(ctx context.Context, n lab.Runner) (bool, string, error) {
	c := p.Lab.Cfg
	s := c.Service
	changed := false
	var details []string
	if s.ProductArchive != "" {
		ch, d, err := p.installArchive(ctx, n, c.Resolve(s.ProductArchive), "product", s.ProductHome)
		if err != nil {
			return false, "", err
		}
		changed, details = ch, append(details, d)
	}
	var files []File
	if s.ProductArchive == "" {
		sh, err := templates.StratosSh(p.Params)
		if err != nil {
			return false, "", err
		}
		files = append(files,
			File{Path: path.Join(s.ProductHome, "bin", "stratos.sh"), Data: sh, Mode: 0o755, Owner: s.User},
			File{Path: path.Join(s.ProductHome, "lib", "Stratos.java"), Data: templates.ServiceJava(), Mode: 0o644, Owner: s.User},
		)
	}
	initd, err := p.initScript()
	if err != nil {
		return false, "", err
	}
	files = append(files, File{Path: InitScriptPath(s.Name), Data: initd, Mode: 0o755})
	// The product writes its pid file and logs as the service user.
	if _, err := lab.Check(n.SudoScript(ctx, serviceDirsScript, s.User, s.ProductHome)); err != nil && s.ProductArchive == "" {
		return false, "", err
	}
	names, err := PushFiles(ctx, n, files)
	if err != nil {
		return false, "", err
	}
	changed = changed || len(names) > 0
	details = append(details, names...)
	if s.ProductArchive == "" {
		compiled, err := compileStandIn(ctx, n, s.ProductHome, s.JavaHome, s.User)
		if err != nil {
			return false, "", err
		}
		if compiled {
			changed, details = true, append(details, "Stratos.class")
		}
	}
	return changed, strings.Join(details, ", "), nil
}

func compileStandIn(ctx context.Context, n lab.Runner, productHome, javaHome, user string) (bool, error) {
	res, err := lab.Check(n.SudoScript(ctx, compileScript, productHome, javaHome, user))
	if err != nil {
		return false, fmt.Errorf("compiling the stand-in service (lib/Stratos.java): %w", err)
	}
	return strings.TrimSpace(string(res.Stdout)) == "compiled", nil
}

// initScript is the user's own script when lab.yaml names one, else
// halab's fixed version of the article's.
func (p *Provisioner) initScript() ([]byte, error) {
	if f := p.Lab.Cfg.Service.InitScript; f != "" {
		return os.ReadFile(p.Lab.Cfg.Resolve(f))
	}
	return templates.InitScript(p.Params)
}

func (p *Provisioner) messaging(ctx context.Context, n lab.Runner) (bool, string, error) {
	files, err := p.Stack.Files(p.Params, p.Secrets)
	if err != nil {
		return false, "", err
	}
	names, err := PushFiles(ctx, n, files)
	if err != nil {
		return false, "", err
	}
	p.mu.Lock()
	p.msgChg[n.NodeName()] = len(names) > 0
	p.mu.Unlock()
	return len(names) > 0, strings.Join(names, ", "), nil
}

func seedCIB(ctx context.Context, n lab.Runner, dcDeadtime int) error {
	if _, err := lab.Check(n.SudoScript(ctx, seedCIBScript, fmt.Sprintf("%ds", dcDeadtime))); err != nil {
		return fmt.Errorf("seeding the CIB with dc-deadtime: %w", err)
	}
	return nil
}

func (p *Provisioner) daemons(ctx context.Context, n lab.Runner) (bool, string, error) {
	run, stop := p.Stack.Daemons, p.Stack.Conflicts()
	mode := "keep"
	p.mu.Lock()
	if p.msgChg[n.NodeName()] {
		mode = "restart"
	}
	p.mu.Unlock()
	if mode == "restart" && p.Stack.SeedCIB && p.Lab.Cfg.Timings.DCDeadtime > 0 {
		if err := seedCIB(ctx, n, p.Lab.Cfg.Timings.DCDeadtime); err != nil {
			return false, "", err
		}
	}
	args := append(append(append([]string{mode}, run...), "--"), stop...)
	res, err := lab.Check(n.SudoScript(ctx, daemonsScript, args...))
	if err != nil {
		return false, "", err
	}
	did := strings.Fields(string(res.Stdout))
	return len(did) > 0, strings.Join(did, " "), nil
}
