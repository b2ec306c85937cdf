#!/bin/sh
# Restarts corosync and Pacemaker when either was killed or stopped. Says
# what it did; silent when both run. $1: how many seconds a stop of
# Pacemaker under way may still take (the service's stop timeout and some).
wait=${1:-60}
case $wait in ''|*[!0-9]*) wait=60 ;; esac
# A stop that came while pacemakerd forked its daemons can hang: Pacemaker
# 2.1.5 sends the controller its SIGTERM between fork and exec, where the
# signal is lost, and pacemakerd waits for that daemon for ever (the unit's
# stop timeout is 30 min). pacemakerd stops its daemons one at a time, the
# controller first: the first one still running is the one it waits for.
# It gets its SIGTERM again; at most once per daemon.
if [ "$(systemctl is-active pacemaker 2>/dev/null)" = deactivating ]; then
  i=0
  while [ "$(systemctl is-active pacemaker 2>/dev/null)" = deactivating ] && [ "$i" -lt "$wait" ]; do
    i=$((i + 1)); sleep 1
  done
  for d in pacemaker-controld pacemaker-schedulerd pacemaker-attrd pacemaker-execd pacemaker-fenced pacemaker-based; do
    [ "$(systemctl is-active pacemaker 2>/dev/null)" = deactivating ] || break
    p=$(printf '%.15s' "$d")
    pgrep -x "$p" >/dev/null || continue
    pkill -TERM -x "$p" && echo "sent $d SIGTERM again: pacemakerd's stop waited for it"
    i=0
    while pgrep -x "$p" >/dev/null && [ "$i" -lt 20 ]; do i=$((i + 1)); sleep 0.5; done
  done
  i=0
  while [ "$(systemctl is-active pacemaker 2>/dev/null)" = deactivating ] && [ "$i" -lt 30 ]; do
    i=$((i + 1)); sleep 1
  done
fi
if ! systemctl is-active --quiet corosync || ! pgrep -x pacemaker-contr >/dev/null; then
  # a killed corosync leaves pacemakerd without its cluster: restart both
  systemctl kill -s KILL pacemaker 2>/dev/null && sleep 1
  systemctl reset-failed corosync pacemaker 2>/dev/null
  # libqb IPC rings of dead processes stay in /dev/shm; a few of them fill
  # it and the restarted daemons cannot talk (ENOSPC)
  for f in /dev/shm/qb-*; do
    [ -e "$f" ] || continue
    p=${f#/dev/shm/qb-}; p=${p#corosync-}; p=${p%%-*}
    case $p in ''|*[!0-9]*) continue ;; esac
    kill -0 "$p" 2>/dev/null || rm -rf -- "$f"
  done
  systemctl start corosync pacemaker && echo "started corosync and pacemaker"
fi
exit 0
