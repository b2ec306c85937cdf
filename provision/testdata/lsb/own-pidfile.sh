#!/bin/sh
### BEGIN INIT INFO
# Provides:          halab-demo
# Required-Start:    $remote_fs
# Required-Stop:     $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: an LSB-compliant service that keeps its own pid file
### END INIT INFO
# What a user brings to `halab check-initd --script`: a daemon (a shell
# loop) whose pid file is /run/NAME.pid, nowhere near halab's service
# directory. PIDFILE in the environment moves it (tests without root).
NAME=halab-demo
PIDFILE=${PIDFILE:-/run/$NAME.pid}

running() {
	[ -s "$PIDFILE" ] || return 1
	pid=$(cat "$PIDFILE") || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# a zombie, or a pid reused by another program, is not the service
	grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && return 1
	return 0
}

start() {
	running && return 0
	# the daemon: detached from the caller's output, writes its own pid
	# shellcheck disable=SC2016 # $$ is the daemon's, expanded by it
	nohup sh -c 'echo $$ >"$1"; while :; do sleep 1; done' "$NAME" "$PIDFILE" </dev/null >/dev/null 2>&1 &
	i=0
	while ! running; do
		i=$((i + 1))
		[ "$i" -le 50 ] || return 1
		sleep 0.1
	done
}

stop() {
	if running; then
		kill "$pid"
		i=0
		while running; do
			i=$((i + 1))
			[ "$i" -le 50 ] || kill -KILL "$pid" 2>/dev/null
			[ "$i" -le 100 ] || return 1
			sleep 0.1
		done
	fi
	rm -f "$PIDFILE"
}

case "$1" in
start) start ;;
stop) stop ;;
restart | force-reload) stop && start ;;
status)
	if running; then
		echo "$NAME is running"
		exit 0
	elif [ -e "$PIDFILE" ]; then
		echo "$NAME is dead, its pid file remains"
		exit 1
	fi
	echo "$NAME is stopped"
	exit 3
	;;
*)
	echo "usage: $0 {start|stop|restart|force-reload|status}" >&2
	exit 2
	;;
esac
