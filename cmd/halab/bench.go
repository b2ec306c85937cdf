package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"halab/lab"
	"halab/provision"
)

// benchFigures are the figures `halab bench` knows, in the order it
// measures them: the lab's bring-up first, the from-nothing build last
// because it removes the bench's images.
var benchFigures = []string{"lab", "provision-warm", "jdk-push", "failover", "fencing", "suite", "up-scratch"}

type benchOpts struct {
	reps        int
	scratchReps int
	suiteReps   int
	figures     []string
	profiles    []string
	stacks      []string
	outDir      string
	failLabel   string
	keep        bool
}

func (a *app) benchCmd() *cobra.Command {
	o := benchOpts{}
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure bring-up, provisioning, the JDK upload and failover against their baselines; writes build/bench/bench.{md,json}",
		Long: `bench destroys and recreates the lab it is given: run it against a lab of
its own (bench.yaml: its own name, subnet, SSH ports and image name), never
against one you are using. Figures:
  lab             halab down (not timed), then halab up (image cached) and
                  halab provision (cold) timed, and their sum
  provision-warm  halab provision with nothing to change
  jdk-push        halab's SFTP push of the JDK archive against OpenSSH scp of
                  the same file to the same node, alternated, as throughput
  failover        the scenario suite's power-off spec per stack and timing
                  profile: the prober's outage and outage/bound
  fencing         the power-off spec's outage without fencing beside the
                  outage with fencing.agent auto (alternated, one run), and
                  the fence time from the fence endpoint's request log
  suite           the full scenario suite's wall time per stack
  up-scratch      halab up from nothing: removes this lab's node image and
                  its base (HALAB_BASE_REPO), so only for a non-default image`,
		Args: cobra.NoArgs,
		// Bad flags are refused before the lab is opened: nothing is
		// brought down or measured for them.
		PreRunE: func(*cobra.Command, []string) error { return o.check() },
		RunE: a.withLab(false, func(cmd *cobra.Command, l *lab.Lab, _ []string) error {
			b, err := newBench(l, a.configPath, o)
			if err != nil {
				return err
			}
			return b.run(cmd.Context())
		}),
	}
	c.Flags().IntVar(&o.reps, "reps", 3, "repetitions of each figure")
	c.Flags().IntVar(&o.scratchReps, "scratch-reps", 1, "repetitions of up-scratch (each one debootstraps, about 3 minutes)")
	c.Flags().IntVar(&o.suiteReps, "suite-reps", 1, "repetitions of the full scenario suite per stack")
	c.Flags().StringSliceVar(&o.figures, "figures", benchFigures, "figures to measure")
	c.Flags().StringSliceVar(&o.profiles, "profiles", []string{"article", "fast"}, "timing profiles for the failover figure")
	c.Flags().StringSliceVar(&o.stacks, "stacks", nil, "stacks for the failover and suite figures (default: every stack the nodes' OS runs)")
	c.Flags().StringVar(&o.outDir, "out", "build/bench", "where bench.md, bench.json and the logs go")
	c.Flags().StringVar(&o.failLabel, "failover-label", "power-off", "Ginkgo label of the power-off spec")
	c.Flags().BoolVar(&o.keep, "keep", false, "leave the lab up at the end (default: halab down)")
	return c
}

// check refuses flags that name nothing to measure or nothing known.
func (o *benchOpts) check() error {
	if len(o.figures) == 0 {
		return &usageError{fmt.Sprintf("--figures names no figure: use some of %s", strings.Join(benchFigures, ","))}
	}
	for _, f := range o.figures {
		if !slices.Contains(benchFigures, f) {
			return &usageError{fmt.Sprintf("--figures %q: use some of %s", f, strings.Join(benchFigures, ","))}
		}
	}
	for _, s := range o.stacks {
		if _, ok := provision.StackByName(s); !ok {
			return &usageError{fmt.Sprintf("--stacks %q: use some of %s", s, strings.Join(provision.StackNames(), ","))}
		}
	}
	if len(o.profiles) == 0 {
		return &usageError{fmt.Sprintf("--profiles names no timing profile: use some of %s", strings.Join(lab.TimingProfiles, ","))}
	}
	for _, p := range o.profiles {
		if !slices.Contains(lab.TimingProfiles, p) {
			return &usageError{fmt.Sprintf("--profiles %q: use some of %s", p, strings.Join(lab.TimingProfiles, ","))}
		}
	}
	if o.reps < 1 || o.scratchReps < 0 || o.suiteReps < 0 {
		return &usageError{"--reps must be at least 1, --scratch-reps and --suite-reps at least 0"}
	}
	return nil
}

// bench holds one run: the lab it drives, where results go, what it got.
type bench struct {
	l *lab.Lab
	// suiteBin is the scenario suite, compiled once per bench.
	suiteBin string
	config   string // absolute path of the lab file
	self     string // this halab binary, run for up/provision/down
	o        benchOpts
	out      string
	started  time.Time
	report   benchReport
	// upRetries counts ups that failed and were retried.
	upRetries int
	// logSeq numbers the log files in the order the commands ran.
	logSeq int
	// derived are the lab files written per timing profile, removed at the end.
	derived []string
}

func newBench(l *lab.Lab, configPath string, o benchOpts) (*bench, error) {
	config, err := filepath.Abs(configPath)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	out := o.outDir
	if !filepath.IsAbs(out) {
		out = filepath.Join(l.Root, out)
	}
	if err := os.MkdirAll(filepath.Join(out, "logs"), 0o755); err != nil {
		return nil, err
	}
	b := &bench{l: l, config: config, self: self, o: o, out: out, started: time.Now()}
	b.report = benchReport{
		Lab: l.Cfg.Name, Config: config, Machine: machineInfo(),
		Command: "halab -c " + relTo(l.Root, config) + " bench " + strings.Join(os.Args[benchArgStart():], " "),
		Started: b.started.UTC().Format(time.RFC3339),
	}
	return b, nil
}

func benchArgStart() int {
	for i, a := range os.Args {
		if a == "bench" {
			return i + 1
		}
	}
	return len(os.Args)
}

func relTo(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

func (b *bench) say(format string, args ...any) {
	fmt.Fprintf(b.l.Out, "==> bench: "+format+"\n", args...)
}

func (b *bench) want(fig string) bool { return slices.Contains(b.o.figures, fig) }

func (b *bench) run(ctx context.Context) error {
	if _, ok := b.l.Provider.(lab.ImageCache); !ok && b.want("up-scratch") {
		return &usageError{fmt.Sprintf("up-scratch needs a provider that builds node images on this machine; %s does not", b.l.Provider.Name())}
	}
	b.say("lab %s (%s), results in %s", b.l.Cfg.Name, relTo(b.l.Root, b.config), relTo(b.l.Root, b.out))
	// Every image the bench builds has a rootfs base of its own name, so
	// another lab's halab/base cache is never used, removed or rebuilt.
	if os.Getenv("HALAB_BASE_REPO") == "" && b.l.Cfg.Providers.Docker.Image != lab.Defaults().Providers.Docker.Image {
		os.Setenv("HALAB_BASE_REPO", b.l.Cfg.Providers.Docker.Image+"-base")
	}
	steps := []struct {
		fig string
		fn  func(context.Context) error
	}{
		{"lab", b.labFigure},
		{"provision-warm", b.warmFigure},
		{"jdk-push", b.pushFigure},
		{"failover", b.failoverFigure},
		{"fencing", b.fencingFigure},
		{"suite", b.suiteFigure},
		{"up-scratch", b.scratchFigure},
	}
	defer func() {
		for _, p := range b.derived {
			os.Remove(p)
		}
	}()
	var errs []error
	// Without the lab figure, nothing has brought the lab up yet.
	broken := !b.want("lab")
	for _, s := range steps {
		if !b.want(s.fig) {
			continue
		}
		if broken && s.fig != "up-scratch" {
			// The figure before failed half way, or none ran: bring the lab
			// up (not timed) so that this one measures its own thing.
			b.say("halab up and provision (not timed)")
			if _, err := b.up(ctx); err == nil {
				err = b.halab(ctx, "provision", nil)
			}
		}
		err := s.fn(ctx)
		broken = err != nil
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			// One figure failing must not lose the others: note it and
			// go on; the exit status says something failed.
			b.say("%s failed: %v", s.fig, err)
			b.report.Errors = append(b.report.Errors, fmt.Sprintf("%s: %v", s.fig, err))
			errs = append(errs, fmt.Errorf("%s: %w", s.fig, err))
		}
		if err := b.write(); err != nil {
			return err
		}
	}
	if !b.o.keep {
		b.say("halab down")
		if err := b.halab(ctx, "down", nil); err != nil {
			errs = append(errs, err)
		}
	}
	b.report.Took = time.Since(b.started).Round(time.Second).String()
	if err := b.write(); err != nil {
		return err
	}
	fmt.Fprintln(b.l.Out)
	fmt.Fprint(b.l.Out, b.report.markdown())
	return errors.Join(errs...)
}

// halab runs this binary against the bench's lab (or cfg, when given),
// its output going to a log file; it returns the wall time.
func (b *bench) halab(ctx context.Context, name string, env []string, args ...string) error {
	_, err := b.timed(ctx, name, env, b.config, args...)
	return err
}

func (b *bench) timed(ctx context.Context, logName string, env []string, config string, args ...string) (time.Duration, error) {
	if len(args) == 0 {
		args = []string{logName}
	}
	return b.runLogged(ctx, logName, env, b.self, append([]string{"-c", config}, args...)...)
}

// runLogged runs a command with its output in logs/NN-name.log and
// returns its wall time.
func (b *bench) runLogged(ctx context.Context, logName string, env []string, argv0 string, args ...string) (time.Duration, error) {
	b.logSeq++
	logPath := filepath.Join(b.out, "logs", fmt.Sprintf("%03d-%s.log", b.logSeq, logName))
	f, err := os.Create(logPath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	cmd := exec.Command(argv0, args...)
	cmd.Dir = b.l.Root
	cmd.Env = append(cmd.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	fmt.Fprintf(f, "$ %s %s\n", argv0, strings.Join(args, " "))
	start := time.Now()
	// The child is halab, the scenario suite or scp: an interrupt reaches
	// it as Ctrl-C would, once, and it stops in its own time (halab stops
	// its vagrant cleanly, the suite heals); a second one is forwarded.
	err = lab.RunGroup(ctx, cmd, true)
	took := time.Since(start)
	if err != nil {
		return took, fmt.Errorf("%s %s: %w (log: %s)", filepath.Base(argv0), strings.Join(args, " "), err, relTo(b.l.Root, logPath))
	}
	return took, nil
}

// labFigure: per repetition, down (not timed), then up with the image
// cached and a cold provision, each timed, and their sum: the time from
// nothing running to a serving VIP.
func (b *bench) labFigure(ctx context.Context) error {
	b.say("making sure the node image is built (not timed)")
	if err := b.halab(ctx, "image", nil); err != nil {
		return err
	}
	up := newSeries("up", "halab up (image cached)", "s")
	var cold, sum []*series
	var cfgs []string
	for _, profile := range b.o.profiles {
		cfg, err := b.profileConfig(profile)
		if err != nil {
			return err
		}
		cfgs = append(cfgs, cfg)
		c := newSeries("provision-cold-"+profile, fmt.Sprintf("halab provision, cold (fresh nodes), %s timings", profile), "s")
		s := newSeries("up+provision-"+profile, fmt.Sprintf("halab up + provision to a serving VIP, %s timings", profile), "s")
		s.setTarget("< 60 s", 60)
		c.Baseline, s.Baseline = againstArticle(c.ID, profile), againstArticle(s.ID, profile)
		cold, sum = append(cold, c), append(sum, s)
	}
	// Profiles alternate within a repetition, so that both see the same
	// machine load.
	for i := range b.o.reps {
		for j, profile := range b.o.profiles {
			b.say("lab %d/%d, %s timings: down, up, provision", i+1, b.o.reps, profile)
			if err := b.halab(ctx, "down", nil); err != nil {
				return err
			}
			tu, err := b.up(ctx)
			if err != nil {
				return err
			}
			tp, err := b.timed(ctx, "provision", nil, cfgs[j])
			if err != nil {
				return err
			}
			up.add(tu.Seconds())
			cold[j].add(tp.Seconds())
			sum[j].add((tu + tp).Seconds())
			b.say("    up %.1f s, provision %.1f s", tu.Seconds(), tp.Seconds())
		}
	}
	if b.upRetries > 0 {
		up.Note = fmt.Sprintf("%d up(s) failed and were retried after a down (see logs)", b.upRetries)
	}
	b.report.add(up)
	b.report.add(cold...)
	b.report.add(sum...)
	// The figures after this one start from the lab file's own timings.
	if cfgs[len(cfgs)-1] != b.config {
		return b.halab(ctx, "provision", nil)
	}
	return nil
}

// up runs halab up and returns its wall time. A failed up is retried once
// after a down: Vagrant's docker provider removes every unused
// vagrant_network_* when any lab on the host is destroyed, so a lab that
// has just made its network and not yet attached a container can lose it
// to another lab's down ("network ... not found"). The retry is noted.
func (b *bench) up(ctx context.Context) (time.Duration, error) {
	t, err := b.timed(ctx, "up", nil, b.config)
	if err == nil || ctx.Err() != nil {
		return t, err
	}
	b.upRetries++
	b.say("    up failed (%v); down and one retry", err)
	if err := b.halab(ctx, "down", nil); err != nil {
		return 0, err
	}
	return b.timed(ctx, "up", nil, b.config)
}

func (b *bench) warmFigure(ctx context.Context) error {
	b.say("warm provision: once not timed (to be sure nothing is left to change), then %d timed", b.o.reps)
	if err := b.halab(ctx, "provision", nil); err != nil {
		return err
	}
	warm := newSeries("provision-warm", "halab provision, warm (nothing to change)", "s")
	warm.setTarget("< 3 s", 3)
	for range b.o.reps {
		t, err := b.timed(ctx, "provision", nil, b.config)
		if err != nil {
			return err
		}
		warm.add(t.Seconds())
	}
	b.report.add(warm)
	return nil
}

// scratchFigure times halab up from nothing: the lab down, this lab's
// node image and its rootfs base removed, so up debootstraps and builds.
// Only images named after this lab's config are removed, and the base is
// built under HALAB_BASE_REPO=<image>-base so that another lab's
// halab/base cache is neither used nor touched.
func (b *bench) scratchFigure(ctx context.Context) error {
	if b.o.scratchReps == 0 {
		return nil
	}
	img := b.l.Cfg.Providers.Docker.Image
	if img == lab.Defaults().Providers.Docker.Image {
		return fmt.Errorf("refusing to remove the default image %s: give the bench lab its own providers.docker.image (bench.yaml does)", img)
	}
	if b.l.Cfg.Providers.Docker.BaseImage != "" {
		return fmt.Errorf("providers.docker.base_image is set: up-scratch measures the debootstrap path")
	}
	baseRepo := img + "-base"
	base, err := lab.BaseImageTag(b.l.Root, baseRepo)
	if err != nil {
		return err
	}
	env := []string{"HALAB_BASE_REPO=" + baseRepo}
	s := newSeries("up-scratch", "halab up from nothing (debootstrap + image build)", "s")
	for i := range b.o.scratchReps {
		b.say("up from nothing %d/%d: down, remove %s:* and %s (about 3 minutes)", i+1, b.o.scratchReps, img, base)
		if err := b.halab(ctx, "down", nil); err != nil {
			return err
		}
		images := b.l.Provider.(lab.ImageCache)
		tags, err := images.Images()
		if err != nil {
			return err
		}
		for _, tag := range tags {
			if err := images.RemoveImage(ctx, tag); err != nil {
				return err
			}
		}
		t, err := b.timed(ctx, "up", env, b.config)
		if err != nil {
			// Retried like the cached up, but the base is built by now:
			// this repetition is not from nothing any more, so not counted.
			return err
		}
		s.add(t.Seconds())
		b.say("    up from nothing %.1f s", t.Seconds())
	}
	s.Note = "base built as " + base
	b.report.add(s)
	return nil
}

// provisionStack switches the lab to a stack and timing profile (not
// timed), returning the lab file that selects the profile.
func (b *bench) provisionStack(ctx context.Context, stack, profile string) (string, error) {
	cfg, err := b.profileConfig(profile)
	if err != nil {
		return "", err
	}
	b.say("provision --stack %s, timings %s (not timed)", stack, profile)
	if _, err := b.timed(ctx, "provision-"+stack+"-"+profile, nil, cfg, "provision", "--stack", stack); err != nil {
		return "", err
	}
	return cfg, nil
}

// profileConfig writes a copy of the lab file whose timings are the named
// profile's, beside it (so its relative paths still resolve) at
// lab.DerivedPath; the copy describes the same lab: same name, nodes and
// state.
func (b *bench) profileConfig(profile string) (string, error) {
	if profile == b.l.Cfg.Timings.Profile {
		return b.config, nil
	}
	data, err := os.ReadFile(b.config)
	if err != nil {
		return "", err
	}
	out, err := lab.WithTimingProfile(data, profile)
	if err != nil {
		return "", fmt.Errorf("%s: %w", b.config, err)
	}
	// The same lab (lab.Open gives a derived file its identity).
	p := lab.DerivedPath(b.config, profile)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		return "", err
	}
	if !slices.Contains(b.derived, p) {
		b.derived = append(b.derived, p)
	}
	return p, nil
}

func (b *bench) write() error {
	js, err := json.MarshalIndent(b.report, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.out, "bench.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.out, "bench.md"), []byte(b.report.markdown()), 0o644); err != nil {
		return err
	}
	return writeBenchHTML(filepath.Join(b.out, "bench.html"), &b.report, "")
}

// pushNode is the node the upload figure writes to.
func (b *bench) pushNode() string { return b.l.Cfg.Nodes[0].Name }

func (b *bench) connect(ctx context.Context, name string) (*lab.Node, error) {
	ns, err := b.l.Connect(ctx, name)
	if err != nil {
		return nil, err
	}
	return ns[0], nil
}

// pushFigure alternates halab's SFTP push (a new connection, the Pusher
// provision uses: local and remote sha256, root sftp-server, temp file,
// chmod/chown, rename) with OpenSSH scp of the same file to the same node
// over the same endpoint and pinned host key, and reports throughputs and
// their ratio per pair.
// benchRm removes the pushed copies the JDK push figure leaves on a node.
var benchRm = lab.Remote("rm", "-f", "--")

func (b *bench) pushFigure(ctx context.Context) error {
	archive := b.l.Cfg.Resolve(b.l.Cfg.Service.JDKArchive)
	st, err := os.Stat(archive)
	if err != nil {
		return err
	}
	mb := float64(st.Size()) / 1e6
	name := b.pushNode()
	n, err := b.connect(ctx, name)
	if err != nil {
		return err
	}
	defer n.Close()
	ep := n.Endpoint
	const sftpPath, scpPath = "/tmp/halab-bench-sftp.tar.gz", "/tmp/halab-bench-scp.tar.gz"
	clean := func() error {
		_, err := n.Sudo(ctx, nil, benchRm.Argv(sftpPath, scpPath)...)
		return err
	}
	defer clean()
	sftpRun := func() (time.Duration, error) {
		start := time.Now()
		c, err := b.connect(ctx, name)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		_, err = provision.PushFiles(ctx, c, []provision.File{{Path: sftpPath, Local: archive, Mode: 0o644}})
		return time.Since(start), err
	}
	scpRun := func() (time.Duration, error) {
		return b.runLogged(ctx, "scp", nil, "scp", "-q", "-i", ep.IdentityFile, "-P", fmt.Sprint(ep.Port),
			"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
			"-o", "UserKnownHostsFile="+b.l.Keys.File, "-o", "HostKeyAlias="+b.l.HostKeyAlias(name),
			"-o", "StrictHostKeyChecking=yes",
			archive, ep.User+"@"+ep.Host+":"+scpPath)
	}
	sftpS := newSeries("jdk-sftp", fmt.Sprintf("JDK push, halab SFTP (%.0f MB, connection included)", mb), "MB/s")
	scpS := newSeries("jdk-scp", "JDK push, OpenSSH scp (same file, node, endpoint)", "MB/s")
	sftpS.Baseline = scpS.ID
	ratio := newSeries("jdk-ratio", "JDK push throughput, halab SFTP / scp (per pair)", "×")
	ratio.setTargetMin("≥ 0.9", 0.9)
	// One of each first, not counted: page cache, sshd and sudo warm.
	if _, err := sftpRun(); err != nil {
		return err
	}
	if _, err := scpRun(); err != nil {
		return err
	}
	reps := max(b.o.reps, 5)
	for i := range reps {
		if err := clean(); err != nil {
			return err
		}
		var ts, tc time.Duration
		if i%2 == 0 {
			if ts, err = sftpRun(); err == nil {
				tc, err = scpRun()
			}
		} else {
			if tc, err = scpRun(); err == nil {
				ts, err = sftpRun()
			}
		}
		if err != nil {
			return err
		}
		sftpS.add(mb / ts.Seconds())
		scpS.add(mb / tc.Seconds())
		ratio.add(tc.Seconds() / ts.Seconds())
	}
	b.report.add(sftpS, scpS, ratio)
	return nil
}
