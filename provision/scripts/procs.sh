#!/bin/sh
# check-initd's view of the node's processes, to find what an init script's
# action left running without trusting its pid file.
#
# procs.sh list: one line per live process, "PID PPID START COMM" (START:
# field 22 of /proc/PID/stat, its start in clock ticks since boot, which
# tells it from a later process given the same pid; zombies are left out),
# after "reaper PID", the process an orphan is handed to here (init, or a
# subreaper), found by orphaning a sleep, and "self PID" for this script
# and each of its ancestors: the check's own processes.
#
# procs.sh kill PID:START...: SIGKILLs each process that still has that
# start time (a pid reused since is someone else's), then waits, bounded,
# until each is gone or a zombie. Prints "killed PID" for each; exits 3
# when none was alive, 1 when one outlived the wait.

# stat_of PID: sets state, ppid, start and comm from /proc/PID/stat.
stat_of() {
	line=
	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	comm=${line#*(}
	comm=${comm%)*}
	rest=${line##*) }
	# shellcheck disable=SC2086 # the fields after the command name
	set -- $rest
	[ $# -ge 20 ] || return 1
	state=$1 ppid=$2
	shift 19
	start=$1
}

alive() {
	stat_of "$1" && [ "$state" != Z ] && [ "$state" != X ]
}

case "$1" in
list)
	orphan=$(sh -c 'sleep 30 </dev/null >/dev/null 2>&1 & echo $!')
	if stat_of "$orphan"; then
		echo "reaper $ppid"
		kill -KILL "$orphan" 2>/dev/null
	else
		echo "reaper 1"
	fi
	p=$$
	while [ "$p" -gt 1 ] && stat_of "$p"; do
		echo "self $p"
		p=$ppid
	done
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		[ "$p" = "$orphan" ] && continue
		alive "$p" || continue
		echo "$p $ppid $start $comm"
	done
	;;
kill)
	shift
	killed=
	for ps in "$@"; do
		p=${ps%%:*}
		if alive "$p" && [ "$start" = "${ps#*:}" ]; then
			kill -KILL "$p" 2>/dev/null && killed="$killed $p"
		fi
	done
	[ -n "$killed" ] || exit 3
	for p in $killed; do
		i=0
		while alive "$p"; do
			i=$((i + 1))
			[ "$i" -le 100 ] || exit 1
			sleep 0.1
		done
		echo "killed $p"
	done
	;;
*)
	echo "usage: procs.sh list | kill PID:START..." >&2
	exit 2
	;;
esac
