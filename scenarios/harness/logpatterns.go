package harness

import (
	"regexp"
	"slices"
)

// The log audit's patterns: the "bad news" that Pacemaker's Cluster Test
// Suite (CTS) looks for in the cluster's logs during every test, and fails
// the test on unless the test expects it. They are CTS's own, taken from
// three lists, one per cluster manager CTS drove (each pattern below names
// the list it comes from):
//
//   - SrcCorosync: ClusterLabs/pacemaker, python/pacemaker/_cts/patterns.py,
//     Corosync2Patterns._bad_news (commit 0a519a6e of 2026-07; the same list
//     as cts/lab/patterns.py's crm_corosync.BadNews of Pacemaker-2.1.5 but
//     for the two differences noted at the patterns). For the corosync
//     stack (Corosync 3 + Pacemaker 2.1).
//   - SrcHeartbeat: Heartbeat 3's own CTS, cts/CM_hb.py,
//     HeartbeatCM "BadRegexes" (heartbeat without the CRM: haresources).
//     For the heartbeat-v1 stack.
//   - SrcLHA: ClusterLabs/pacemaker at Pacemaker-1.1.6, cts/CM_lha.py,
//     crm_lha "BadRegexes" (Pacemaker 1.1 on Heartbeat). For the heartbeat
//     stack (Ubuntu 12.04, Pacemaker 1.1.6).
//
// What a list holds that cannot apply to halab's stacks is left out, with
// the reason, in LogPatternsLeftOut.
const (
	SrcCorosync  = "CTS Corosync2Patterns (pacemaker python/pacemaker/_cts/patterns.py)"
	SrcHeartbeat = "Heartbeat CTS HeartbeatCM (heartbeat cts/CM_hb.py)"
	SrcLHA       = "CTS crm_lha (pacemaker 1.1.6 cts/CM_lha.py)"
)

// LogPattern is one bad-news pattern, where it comes from and the stacks
// whose logs it is matched against.
type LogPattern struct {
	Re      *regexp.Regexp
	Sources []string
	Stacks  []string
	// Note says what the pattern is about, or how it differs from its
	// source.
	Note string
}

var (
	onCorosync  = []string{"corosync"}
	onHeartbeat = []string{"heartbeat-v1"}
	onLHA       = []string{"heartbeat"}
)

// BadNews is the one list: every pattern of the three sources that applies,
// merged where two sources share one.
var BadNews = mergePatterns([]LogPattern{
	// Corosync2Patterns
	{Re: re(`[^(]error:`), Sources: []string{SrcCorosync}, Stacks: onCorosync, Note: "an error logged by a Pacemaker daemon (not \"(error:\" inside a quoted message)"},
	{Re: re(`crit:`), Sources: []string{SrcCorosync}, Stacks: onCorosync, Note: "a critical message"},
	{Re: re(`ERROR:`), Sources: []string{SrcCorosync, SrcHeartbeat, SrcLHA}, Stacks: all(), Note: "an error in the old (and the resource agents') format"},
	{Re: re(`CRIT:`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA)},
	{Re: re(`CRIT.*:`), Sources: []string{SrcHeartbeat}, Stacks: onHeartbeat},
	{Re: re(`Shutting down...NOW`), Sources: []string{SrcCorosync}, Stacks: onCorosync, Note: "pacemakerd gave up waiting for its children"},
	{Re: re(`Shutting down\.`), Sources: []string{SrcHeartbeat, SrcLHA}, Stacks: slices.Concat(onHeartbeat, onLHA)},
	{Re: re(`Forcing shutdown\.`), Sources: []string{SrcHeartbeat, SrcLHA}, Stacks: slices.Concat(onHeartbeat, onLHA)},
	{Re: re(`Timer I_TERMINATE just popped`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA)},
	{Re: re(`input=I_ERROR`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA)},
	{Re: re(`input=I_FAIL`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA)},
	{Re: re(`input=I_INTEGRATED cause=C_TIMER_POPPED`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA)},
	{Re: re(`input=I_FINALIZED cause=C_TIMER_POPPED`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA)},
	{Re: re(`(pacemakerd|pacemaker-execd|pacemaker-controld):.*, exiting`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	{Re: re(`, exiting\.`), Sources: []string{SrcHeartbeat, SrcLHA}, Stacks: slices.Concat(onHeartbeat, onLHA)},
	{Re: re(`schedulerd.*Attempting recovery of resource`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	{Re: re(`pengine.*Attempting recovery of resource`), Sources: []string{SrcLHA}, Stacks: onLHA},
	{Re: re(`is taking more than 2x its timeout`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA), Note: "an operation ran twice as long as its timeout"},
	{Re: re(`Confirm not received from`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA)},
	{Re: re(`Welcome reply not received from`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA)},
	{Re: re(`Attempting to schedule .* after a stop`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA)},
	{Re: re(`Resource .* was active at shutdown`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA), Note: "a resource still ran when its node's cluster stack stopped"},
	{Re: re(`duplicate entries for call_id`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA)},
	{Re: re(`Search terminated:`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA)},
	{Re: re(`:global_timer_callback`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	{Re: re(`global_timer_callback:`), Sources: []string{SrcLHA}, Stacks: onLHA},
	{Re: re(`Faking parameter digest creation`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA)},
	{Re: re(`Parameters to .* action changed:`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA)},
	{Re: re(`Parameters to .* changed`), Sources: []string{SrcCorosync, SrcLHA}, Stacks: slices.Concat(onCorosync, onLHA)},
	{Re: re(`pacemakerd.*\[[0-9]+\] terminated( with signal|$)`), Sources: []string{SrcCorosync}, Stacks: onCorosync, Note: "a Pacemaker daemon died (Pacemaker-2.1.5's list also has \" as IPC server\")"},
	{Re: re(`pacemakerd.*\[[0-9]+\] .* will now be killed`), Sources: []string{SrcCorosync}, Stacks: onCorosync, Note: "not in Pacemaker-2.1.5's list"},
	{Re: re(`pacemaker-schedulerd.*Recover\s+.*\(.* -\> .*\)`), Sources: []string{SrcCorosync}, Stacks: onCorosync, Note: "the scheduler recovers a resource by moving it"},
	{Re: re(`Peer is not part of our cluster`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	{Re: re(`We appear to be in an election loop`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	{Re: re(`Unknown node -> we will not deliver message`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	{Re: re(`(Blackbox dump requested|Problem detected)`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	{Re: re(`pacemakerd.*Could not connect to Cluster Configuration Database API`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	{Re: re(`Receiving messages from a node we think is dead`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	{Re: re(`share the same cluster nodeid`), Sources: []string{SrcCorosync}, Stacks: onCorosync, Note: "two nodes with one node id"},
	{Re: re(`share the same name`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	{Re: re(`pacemaker-controld:.*Transition failed: terminated`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	{Re: re(`Local CIB .* differs from .*:`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	{Re: re(`warn.*:\s*Continuing but .* will NOT be used`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	{Re: re(`warn.*:\s*Cluster configuration file .* is corrupt`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	{Re: re(`Election storm`), Sources: []string{SrcCorosync}, Stacks: onCorosync, Note: "too many DC elections in a short time"},
	{Re: re(`stalled the FSA with pending inputs`), Sources: []string{SrcCorosync}, Stacks: onCorosync},
	// HeartbeatCM only
	{Re: re(`Both machines own .* resources!`), Sources: []string{SrcHeartbeat}, Stacks: onHeartbeat, Note: "heartbeat v1 sees both nodes holding the resources"},
	{Re: re(`No one owns .* resources!`), Sources: []string{SrcHeartbeat}, Stacks: onHeartbeat},
	// crm_lha only
	{Re: re(`WARN.*Ignoring HA message.*vote.*not in our membership list`), Sources: []string{SrcLHA}, Stacks: onLHA},
	{Re: re(`No need to invoke the TE`), Sources: []string{SrcLHA}, Stacks: onLHA},
})

// BadNewsIgnore are CTS's exceptions: a line that matches one of them is
// not bad news even when a BadNews pattern matches it.
var BadNewsIgnore = []LogPattern{
	{Re: re(`pacemaker-schedulerd.* Calculated transition .*/pe-error`), Sources: []string{"CTS BasePatterns._ignore"}, Stacks: onCorosync, Note: "the causes of a transition error log their own error"},
	{Re: re(`pacemaker-based.* Local CIB .* differs from`), Sources: []string{"CTS BasePatterns._ignore"}, Stacks: onCorosync},
	{Re: re(`async_notify:.*strange, client not found`), Sources: []string{SrcCorosync + " _ignore"}, Stacks: onCorosync},
	{Re: re(`Parse error: Ignoring unknown option .*nodename`), Sources: []string{SrcCorosync + " _ignore"}, Stacks: onCorosync},
	// Not CTS's: the fencer keeps a copy of the CIB and applies each
	// change to it; when a change does not apply (a node's transient
	// attributes removed and made again as its stack restarts), it logs
	// these, drops the patch and reads the whole CIB again
	// (daemons/fenced/pacemaker-fenced.c, update_cib_cache_cb, Pacemaker
	// 2.1.5). Seen on the e2e's adopted nodes during CTS Flip and one-way.
	{Re: re(`pacemaker-fenced\[\d+\]:\s+error: apply_v2_patchset: Triggered fatal assertion at patchset\.c:\d+ : position == 0$`), Sources: []string{"halab: Pacemaker 2.1.5 fenced, update_cib_cache_cb"}, Stacks: onCorosync, Note: "the fencer's copy of the CIB misses a patch, and it reads the whole CIB again"},
	{Re: re(`pacemaker-fenced\[\d+\]:\s+error: No create match for /cib/status/node_state\[@id='\d+'\]/transient_attributes\[@id='\d+'\]/instance_attributes\[@id='status-\d+'\] in 0x[0-9a-f]+$`), Sources: []string{"halab: Pacemaker 2.1.5 fenced, update_cib_cache_cb"}, Stacks: onCorosync, Note: "as above: a node's transient attributes patched into the fencer's copy before they exist there"},
	{Re: re(`ERROR: crm_abort: crm_glib_handler: `), Sources: []string{SrcLHA + " errorstoignore"}, Stacks: onLHA},
	{Re: re(`ERROR: Message hist queue is filling up`), Sources: []string{SrcLHA + " errorstoignore"}, Stacks: onLHA},
	{Re: re(`pengine: Preventing .* from re-starting`), Sources: []string{SrcLHA + " errorstoignore"}, Stacks: onLHA},
}

// LogPatternsLeftOut are the sources' patterns the audit does not use,
// and why.
var LogPatternsLeftOut = []struct{ Pattern, Source, Why string }{
	{`rsyslogd.* lost .* due to rate-limiting`, SrcCorosync, "the audit reads the cluster daemons' own lines (journal by unit and identifier, their log files), never rsyslogd's; the Debian 12 nodes run no rsyslogd"},
	{`crm_mon:`, SrcCorosync + " _ignore", "crm_mon's and crmadmin's lines are not the cluster daemons': the audit never reads them"},
	{`crmadmin:`, SrcCorosync + " _ignore", "as crm_mon:"},
	{`update_trace_data`, SrcCorosync + " _ignore", "a CTS tool's line"},
	{`getinfo response error: 1$`, SrcCorosync + " _ignore", "CTS's fence agents"},
	{`error.*: Operation 'reboot' .* using FencingFail returned `, SrcCorosync + " _ignore", "CTS's FencingFail device"},
	{`sbd.* ...`, SrcCorosync + " _ignore", "no sbd on halab's nodes"},
	{`libvirtd.*, pcs.daemon:..., avoid confusing Valgrind`, "CTS BasePatterns._ignore", "no libvirtd, pcs or valgrind on halab's nodes"},
	{`stonithd: ... vmware ...`, SrcLHA + " errorstoignore", "no VMware fence device"},
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

func all() []string { return []string{"corosync", "heartbeat-v1", "heartbeat"} }

// mergePatterns joins entries with the same expression (sources and stacks
// together), keeping the first one's place.
func mergePatterns(ps []LogPattern) []LogPattern {
	var out []LogPattern
	for _, p := range ps {
		i := slices.IndexFunc(out, func(o LogPattern) bool { return o.Re.String() == p.Re.String() })
		if i < 0 {
			out = append(out, p)
			continue
		}
		for _, s := range p.Sources {
			if !slices.Contains(out[i].Sources, s) {
				out[i].Sources = append(out[i].Sources, s)
			}
		}
		for _, s := range p.Stacks {
			if !slices.Contains(out[i].Stacks, s) {
				out[i].Stacks = append(out[i].Stacks, s)
			}
		}
	}
	return out
}

// PatternsFor are the bad-news patterns and the exceptions matched
// against a stack's logs.
func PatternsFor(stack string) (bad, ignore []LogPattern) {
	for _, p := range BadNews {
		if slices.Contains(p.Stacks, stack) {
			bad = append(bad, p)
		}
	}
	for _, p := range BadNewsIgnore {
		if slices.Contains(p.Stacks, stack) {
			ignore = append(ignore, p)
		}
	}
	return bad, ignore
}

// BadNewsIn says which bad-news pattern a line of a stack's logs matches
// ("" when none does, or an exception does).
func BadNewsIn(stack, line string) string {
	bad, ignore := PatternsFor(stack)
	for _, p := range ignore {
		if p.Re.MatchString(line) {
			return ""
		}
	}
	for _, p := range bad {
		if p.Re.MatchString(line) {
			return p.Re.String()
		}
	}
	return ""
}

// ControllerConnecting is the line CTS's PartialStart waits for before it
// stops the node it started: Pacemaker 2's controller connecting to the
// cluster layer (Pacemaker-2.1.5 cts/lab/CTStests.py, "pacemaker-controld.*
// Connecting to .* cluster infrastructure"), or Pacemaker 1.1's crmd
// starting (Pacemaker-1.1.6 cts/CTStests.py, "Starting crmd"). A stop sent
// earlier can reach pacemakerd while it forks its daemons: Pacemaker 2.1.5
// sends the controller SIGTERM between fork and exec, where the child
// still runs pacemakerd's handler and the signal is lost; pacemakerd then
// waits for the controller for ever and `systemctl stop` for the unit's
// 30-minute stop timeout.
var ControllerConnecting = regexp.MustCompile(`pacemaker-controld\[\d+\]:.*Connecting to .* cluster infrastructure|crmd\b.*Starting crmd$`)
