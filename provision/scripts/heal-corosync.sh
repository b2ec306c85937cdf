#!/bin/sh
# Restarts corosync and Pacemaker when either was killed or stopped. Says
# what it did; silent when both run.
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
