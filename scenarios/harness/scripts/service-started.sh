#!/bin/sh
# Prints the pid in the service's pid file $1 and when that process
# started; exits 3 when it does not run.
pid=$(cat "$1" 2>/dev/null) || { echo "no pid file $1" >&2; exit 3; }
case $pid in ''|*[!0-9]*) echo "no pid in $1" >&2; exit 3 ;; esac
started=$(ps -o lstart= -p "$pid") || { echo "pid $pid of $1 does not run" >&2; exit 3; }
echo "$pid $started"
