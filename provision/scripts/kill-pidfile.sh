#!/bin/sh
# SIGKILLs the process named in pid file $1 and waits until it is gone (or
# a zombie). Exits 3 when no live process is named there.
pid=$(cat "$1" 2>/dev/null) || exit 3
case "$pid" in ''|*[!0-9]*) exit 3 ;; esac
kill -0 "$pid" 2>/dev/null || exit 3
kill -KILL "$pid"
while kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; do sleep 0.1; done
