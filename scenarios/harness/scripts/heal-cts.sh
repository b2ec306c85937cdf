#!/bin/sh
# Heals what the CTS faults leave on node $1: a Pacemaker subdaemon
# ($2...) that pacemakerd did not respawn (it waits for the cluster to
# return for those that exited while it thought it gone) is brought back
# by a new pacemakerd; maintenance mode and unmanaged resources
# (cluster-wide, in the CIB) are undone. Says what it did; silent when
# there was nothing to heal.
shift
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
    # Not a restart: the controller's clean shutdown waits for the
    # attribute manager, perhaps one of the dead. A new pacemakerd adopts
    # the subdaemons that run and starts the others; the unit's
    # KillMode=process leaves the resources and the subdaemons alone.
    pkill -KILL -x pacemakerd
    sleep 1
    systemctl reset-failed pacemaker 2>/dev/null
    systemctl start pacemaker && echo "restarted pacemakerd, which started$missing again"
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
