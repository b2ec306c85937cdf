#!/bin/sh
# The cluster daemons' recent log lines, from the journal and log files.
if command -v journalctl >/dev/null; then journalctl --no-pager -n 3000 -u corosync -u pacemaker -u heartbeat 2>&1; fi
for f in /var/log/ha-log /var/log/corosync/corosync.log /var/log/pacemaker/pacemaker.log /var/log/syslog; do
  [ -f "$f" ] && { echo "==> $f"; tail -n 3000 "$f"; }
done
true
