#!/bin/sh
# Enables and starts a stack's daemons, stops and disables the other
# stacks'. Prints what it did, one word per action. Works with systemd and
# with precise's sysv/upstart scripts.
# $1 "restart" or "keep", then the daemons to run, "--", the daemons to stop.
set -e
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
    # shellcheck disable=SC2086 # one word per daemon
    systemctl restart $run
    # shellcheck disable=SC2086 # one word per daemon
    echo "restarted:$(echo $run | tr ' ' ,)"
  else
    for d in $run; do active "$d" || { systemctl start "$d"; echo "started:$d"; }; done
  fi
else
  for d in $stop; do
    [ -x "/etc/init.d/$d" ] && "/etc/init.d/$d" status >/dev/null 2>&1 && { service "$d" stop >/dev/null; echo "stopped:$d"; }
    update-rc.d -f "$d" remove >/dev/null 2>&1 || true
  done
  for d in $run; do
    update-rc.d "$d" defaults >/dev/null 2>&1 || true
    if [ "$mode" = restart ]; then service "$d" restart >/dev/null; echo "restarted:$d"
    elif ! "/etc/init.d/$d" status >/dev/null 2>&1; then service "$d" start >/dev/null; echo "started:$d"; fi
  done
fi
