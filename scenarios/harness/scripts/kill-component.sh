#!/bin/sh
# SIGKILLs Pacemaker's subdaemon $1 (its full name; the kernel keeps 15
# characters of it). Prints the pid it killed. Exits 3 when none runs.
comm=$(printf '%.15s' "$1")
pid=$(pgrep -x -- "$comm") || { echo "no $1 process to kill" >&2; exit 3; }
pkill -KILL -x -- "$comm" || { echo "$1 exited before the kill" >&2; exit 3; }
echo "$pid"
