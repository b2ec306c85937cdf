#!/bin/sh
# Heals what the CTS faults leave on node $1: a Pacemaker subdaemon
# ($2...) that pacemakerd did not respawn (it waits for the cluster to
# return for those that exited while it thought it gone) is brought back
# by a fresh start of the node's Pacemaker; maintenance mode and unmanaged resources
# (cluster-wide, in the CIB) are undone. Says what it did; silent when
# there was nothing to heal.
shift
# alive: pacemakerd or one of the subdaemons $@ still runs (pgrep sees
# the first 15 characters of a name)
alive() {
  pgrep -x pacemakerd >/dev/null && return 0
  for d in "$@"; do pgrep -x -- "$(printf '%.15s' "$d")" >/dev/null && return 0; done
  return 1
}
command -v crm_attribute >/dev/null || exit 0
if [ $# -gt 0 ] && [ -d /run/systemd/system ] && systemctl is-active --quiet pacemaker; then
  missing=
  for d in "$@"; do
    i=0
    # a respawn takes well under a second: wait a little for one under way
    while ! pgrep -x -- "$(printf '%.15s' "$d")" >/dev/null; do
      i=$((i + 1))
      if [ "$i" -gt 10 ]; then missing="$missing $d"; break; fi
      sleep 1
    done
  done
  if [ -n "$missing" ]; then
    # A fresh start of the node's Pacemaker, not a restart: the
    # controller's clean shutdown waits for the dead (the unit's stop
    # timeout is 30 min), and a new pacemakerd beside the old subdaemons
    # adopts some and starts second copies of others (a controller that
    # cannot reach the CIB is not adopted: two bind the same socket).
    # Every one is frozen first (pacemakerd first, so it respawns
    # nothing), then killed: none sees another die and logs it. The
    # unit's KillMode=process leaves the resources alone, and the new
    # Pacemaker finds them running where they run.
    for sig in STOP KILL; do
      pkill "-$sig" -x pacemakerd
      for d in "$@"; do pkill "-$sig" -x -- "$(printf '%.15s' "$d")"; done
    done
    i=0
    while alive "$@"; do
      i=$((i + 1)); [ "$i" -gt 20 ] && break
      sleep 0.5
    done
    systemctl reset-failed pacemaker 2>/dev/null
    systemctl start pacemaker && echo "started Pacemaker afresh, which started$missing again"
  fi
fi
# the CIB manager answers again within seconds after a restart
i=0
until cibadmin -Q >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -gt 30 ] && exit 0
  sleep 1
done
if [ "$(crm_attribute --type crm_config -n maintenance-mode -G -q 2>/dev/null)" = true ]; then
  crm_attribute --type crm_config -n maintenance-mode --delete >/dev/null 2>&1 && echo "left maintenance mode"
fi
if [ "$(crm_attribute --type rsc_defaults -n is-managed -G -q 2>/dev/null)" = false ]; then
  crm_attribute --type rsc_defaults -n is-managed --delete >/dev/null 2>&1 && echo "the resources are managed again"
fi
exit 0
