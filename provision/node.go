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

// unpackScript: $1 archive on the node, $2 expected sha256, $3 kind
// (tar.gz|tar|zip), $4 unpack dir, $5 link (java_home / product_home).
// It verifies the pushed archive, unpacks it, points the link at its single
// top directory (or at the unpack dir when it has several), and removes
// the archive.
const unpackScript = `set -e
archive=$1 sum=$2 kind=$3 dir=$4 link=$5
got=$(sha256sum < "$archive" | cut -d' ' -f1)
if [ "$got" != "$sum" ]; then
  rm -f "$archive"
  echo "sha256 of the pushed archive is $got, expected $sum (transfer corrupted; re-run)" >&2
  exit 1
fi
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
case "$kind" in
  tar.gz) tar -xzf "$archive" -C "$dir.tmp" --no-same-owner ;;
  tar) tar -xf "$archive" -C "$dir.tmp" --no-same-owner ;;
  zip) command -v unzip >/dev/null || { echo "unzip is not installed on the node" >&2; exit 1; }
       unzip -q "$archive" -d "$dir.tmp" ;;
esac
rm -rf "$dir"
mv "$dir.tmp" "$dir"
rm -f "$archive"
set -- "$dir"/*
if [ $# -eq 1 ] && [ -d "$1" ]; then top=$1; else top=$dir; fi
if [ -e "$link" ] && [ ! -L "$link" ]; then
  echo "$link exists and is not a symlink made by halab: move it away" >&2
  exit 1
fi
ln -sfn "$top" "$link"
echo "$sum" > "$dir/.halab-sha256"`

// installedScript: $1 unpack dir, $2 sha256, $3 link. Exit 0 when that
// archive is unpacked and the link points into it.
const installedScript = `[ "$(cat "$1/.halab-sha256" 2>/dev/null)" = "$2" ] || exit 1
case "$(readlink "$3")" in "$1"|"$1"/*) exit 0 ;; esac
exit 1`

// installArchive pushes a local archive and unpacks it under archiveDir
// with link pointing at it; skipped when the same archive is unpacked.
func (p *Provisioner) installArchive(ctx context.Context, n *lab.Node, local, name, link string) (bool, string, error) {
	sum, err := cachedSHA(local)
	if err != nil {
		return false, "", err
	}
	kind, err := lab.ArchiveKindOf(local)
	if err != nil {
		return false, "", fmt.Errorf("%s: %w", local, err)
	}
	dir := path.Join(archiveDir, name+"-"+sum[:12])
	if _, err := n.SudoScript(ctx, installedScript, dir, sum, link); err == nil {
		return false, path.Base(local) + " already unpacked", nil
	} else if _, ok := err.(*lab.ExitError); !ok {
		return false, "", err
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
	if _, err := n.SudoScript(ctx, unpackScript, remote, sum, string(kind), dir, link); err != nil {
		return false, "", err
	}
	return true, "pushed and unpacked " + path.Base(local), nil
}

func (p *Provisioner) jdk(ctx context.Context, n *lab.Node) (bool, string, error) {
	c := p.Lab.Cfg
	changed, detail, err := p.installArchive(ctx, n, c.Resolve(c.Service.JDKArchive), "jdk", c.Service.JavaHome)
	if err != nil {
		return false, "", err
	}
	if changed {
		// A JVM start costs seconds on a busy node: check a fresh unpack only.
		if _, err := n.Run(ctx, nil, path.Join(c.Service.JavaHome, "bin", "java"), "-version"); err != nil {
			return false, "", fmt.Errorf("the pushed JDK does not run on the node: %w", err)
		}
	}
	return changed, detail, nil
}

// InitScriptPath is where the service's LSB script lives on a node.
func InitScriptPath(service string) string { return "/etc/init.d/" + service }

func (p *Provisioner) service(ctx context.Context, n *lab.Node) (bool, string, error) {
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
	if _, err := n.SudoScript(ctx, `set -e
id -u "$1" >/dev/null 2>&1 || { echo "service user $1 does not exist on the node" >&2; exit 1; }
mkdir -p "$2/logs" "$2/bin" "$2/lib"
chown "$1" "$2" "$2/logs"`, s.User, s.ProductHome); err != nil && s.ProductArchive == "" {
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

// compileStandInScript compiles lib/Stratos.java into lib/classes as the
// service user when the class is missing or older than the source, with
// the JDK's own compiler module (a jlinked JDK has no javac launcher).
// stratos.sh then starts the class instead of compiling the source on
// every start, which is most of a failover's service start.
const compileStandInScript = `set -e
home=$1 java=$2/bin/java user=$3
cls=$home/lib/classes/Stratos.class
if [ -f "$cls" ] && [ ! "$home/lib/Stratos.java" -nt "$cls" ]; then echo ok; exit 0; fi
mkdir -p "$home/lib/classes"
chown "$user" "$home/lib/classes"
su -s /bin/sh "$user" -c '"$1" -m jdk.compiler/com.sun.tools.javac.Main -d "$2/lib/classes" "$2/lib/Stratos.java"' sh "$java" "$home"
echo compiled`

func compileStandIn(ctx context.Context, n *lab.Node, productHome, javaHome, user string) (bool, error) {
	res, err := n.SudoScript(ctx, compileStandInScript, productHome, javaHome, user)
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

// MessagingFiles are the stack's configuration files with their modes.
// Secrets are rendered here and go only into SFTP writes.
func (p *Provisioner) MessagingFiles(stack string) ([]File, error) {
	switch stack {
	case "corosync":
		conf, err := templates.CorosyncConf(p.Params)
		if err != nil {
			return nil, err
		}
		return []File{
			{Path: "/etc/corosync/corosync.conf", Data: conf, Mode: 0o644},
			{Path: "/etc/corosync/authkey", Data: p.Secrets.CorosyncKey, Mode: 0o400},
		}, nil
	case "heartbeat", "heartbeat-v1":
		hacf, err := templates.HaCf(p.Params, stack == "heartbeat")
		if err != nil {
			return nil, err
		}
		keys, err := templates.Authkeys(p.Secrets.HeartbeatKey)
		if err != nil {
			return nil, err
		}
		files := []File{
			{Path: "/etc/ha.d/ha.cf", Data: hacf, Mode: 0o644},
			{Path: "/etc/ha.d/authkeys", Data: keys, Mode: 0o600},
		}
		if stack == "heartbeat-v1" {
			hr, err := templates.Haresources(p.Params)
			if err != nil {
				return nil, err
			}
			files = append(files, File{Path: "/etc/ha.d/haresources", Data: hr, Mode: 0o644})
		}
		return files, nil
	}
	return nil, fmt.Errorf("unknown stack %q", p.Stack)
}

func (p *Provisioner) messaging(ctx context.Context, n *lab.Node) (bool, string, error) {
	files, err := p.MessagingFiles(p.Stack)
	if err != nil {
		return false, "", err
	}
	names, err := PushFiles(ctx, n, files)
	if err != nil {
		return false, "", err
	}
	p.mu.Lock()
	p.msgChg[n.Name] = len(names) > 0
	p.mu.Unlock()
	return len(names) > 0, strings.Join(names, ", "), nil
}

// Daemons are the services each stack runs, in start order, and the
// services of the other stacks that must not run beside them.
func Daemons(stack string) (run, stop []string) {
	switch stack {
	case "corosync":
		return []string{"corosync", "pacemaker"}, []string{"heartbeat"}
	default: // heartbeat starts Pacemaker itself when crm yes
		return []string{"heartbeat"}, []string{"pacemaker", "corosync"}
	}
}

// daemonsScript: $1 "restart" or "keep", then "run" daemons, "--", "stop"
// daemons. Prints what it did, one word per action. Works with systemd and
// with precise's sysv/upstart scripts.
const daemonsScript = `set -e
mode=$1; shift
run=""; stop=""; phase=run
for a in "$@"; do
  if [ "$a" = "--" ]; then phase=stop; continue; fi
  if [ $phase = run ]; then run="$run $a"; else stop="$stop $a"; fi
done
if [ -d /run/systemd/system ]; then
  active() { systemctl is-active --quiet "$1"; }
  for d in $stop; do
    if active "$d"; then systemctl stop "$d"; echo "stopped:$d"; fi
    if systemctl is-enabled --quiet "$d" 2>/dev/null; then systemctl disable --quiet "$d"; echo "disabled:$d"; fi
  done
  for d in $run; do
    systemctl is-enabled --quiet "$d" 2>/dev/null || { systemctl enable --quiet "$d"; echo "enabled:$d"; }
  done
  if [ "$mode" = restart ]; then
    systemctl restart $run; echo "restarted:$(echo $run | tr ' ' ,)"
  else
    for d in $run; do active "$d" || { systemctl start "$d"; echo "started:$d"; }; done
  fi
else
  for d in $stop; do
    [ -x /etc/init.d/$d ] && /etc/init.d/$d status >/dev/null 2>&1 && { service $d stop >/dev/null; echo "stopped:$d"; }
    update-rc.d -f $d remove >/dev/null 2>&1 || true
  done
  for d in $run; do
    update-rc.d $d defaults >/dev/null 2>&1 || true
    if [ "$mode" = restart ]; then service $d restart >/dev/null; echo "restarted:$d"
    elif ! /etc/init.d/$d status >/dev/null 2>&1; then service $d start >/dev/null; echo "started:$d"; fi
  done
fi`

// seedCIBScript writes a CIB holding only dc-deadtime where Pacemaker has
// none yet. A fresh cluster reads dc-deadtime from its CIB at start and
// waits that long (20 s by default) before electing a DC; the crm step
// sets the property too late for that first wait. An existing CIB is never
// touched. Pacemaker accepts a cib.xml without its .sig digest file.
const seedCIBScript = `set -e
dir=/var/lib/pacemaker/cib
[ -e "$dir/cib.xml" ] && exit 0
mkdir -p "$dir"
tmp=$(mktemp "$dir/.cib.xml.XXXXXX")
cat >"$tmp" <<XML
<cib admin_epoch="0" epoch="1" num_updates="0" validate-with="pacemaker-3.0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="$1"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources/>
    <constraints/>
  </configuration>
  <status/>
</cib>
XML
chown hacluster:haclient "$tmp"
chmod 0600 "$tmp"
mv "$tmp" "$dir/cib.xml"`

func seedCIB(ctx context.Context, n *lab.Node, dcDeadtime int) error {
	if _, err := n.SudoScript(ctx, seedCIBScript, fmt.Sprintf("%ds", dcDeadtime)); err != nil {
		return fmt.Errorf("seeding the CIB with dc-deadtime: %w", err)
	}
	return nil
}

func (p *Provisioner) daemons(ctx context.Context, n *lab.Node) (bool, string, error) {
	run, stop := Daemons(p.Stack)
	mode := "keep"
	p.mu.Lock()
	if p.msgChg[n.Name] {
		mode = "restart"
	}
	p.mu.Unlock()
	if mode == "restart" && p.Stack == "corosync" && p.Lab.Cfg.Timings.DCDeadtime > 0 {
		if err := seedCIB(ctx, n, p.Lab.Cfg.Timings.DCDeadtime); err != nil {
			return false, "", err
		}
	}
	args := append(append(append([]string{mode}, run...), "--"), stop...)
	res, err := n.SudoScript(ctx, daemonsScript, args...)
	if err != nil {
		return false, "", err
	}
	did := strings.Fields(string(res.Stdout))
	return len(did) > 0, strings.Join(did, " "), nil
}
