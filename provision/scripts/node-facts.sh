#!/bin/sh
# Prints what tells which stack a provisioned node belongs to: the cluster
# daemons that are enabled (not active: a node whose daemon was just
# killed still belongs to its stack), and heartbeat's crm setting.
# $@ the daemons to ask about.
for d in "$@"; do
  if [ -d /run/systemd/system ]; then
    systemctl is-enabled --quiet "$d" 2>/dev/null && echo "enabled $d"
  else
    ls /etc/rc2.d/S*"$d" >/dev/null 2>&1 && echo "enabled $d"
  fi
done
if [ -f /etc/ha.d/ha.cf ]; then
  if grep -Eq '^[[:space:]]*crm[[:space:]]+(yes|on|respawn)' /etc/ha.d/ha.cf; then echo "crm yes"; else echo "crm no"; fi
fi
exit 0
