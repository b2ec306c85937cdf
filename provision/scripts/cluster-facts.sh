#!/bin/sh
# Prints what shows that a node runs, or is set up for, a cluster, one line
# each: "active D" and "enabled D" per cluster daemon, "config PATH" per
# cluster file that its package did not ship as it is (a Debian package's
# untouched default is no cluster), and "owner KEY VALUE" per line of the
# mark halab leaves on the nodes it provisions.
# $1 the mark file, then the daemons to ask about.
mark=$1; shift
for d in "$@"; do
  if [ -d /run/systemd/system ] && systemctl is-active --quiet "$d" 2>/dev/null; then
    echo "active $d"
  elif pgrep -x "$d" >/dev/null 2>&1 || pgrep -x "${d}d" >/dev/null 2>&1; then
    echo "active $d"
  fi
  if [ -d /run/systemd/system ]; then
    systemctl is-enabled --quiet "$d" 2>/dev/null && echo "enabled $d"
  else
    ls /etc/rc2.d/S*"$d" >/dev/null 2>&1 && echo "enabled $d"
  fi
done
conffiles=$(dpkg-query -W -f='${Conffiles}\n' 2>/dev/null)
for f in /etc/corosync/corosync.conf /etc/corosync/authkey /etc/ha.d/ha.cf /etc/ha.d/haresources \
         /etc/ha.d/authkeys /var/lib/pacemaker/cib/cib.xml /var/lib/heartbeat/crm/cib.xml; do
  [ -f "$f" ] || continue
  shipped=$(printf '%s\n' "$conffiles" | awk -v f="$f" '$1 == f { print $2; exit }')
  if [ -n "$shipped" ] && [ "$(md5sum < "$f" | cut -d' ' -f1)" = "$shipped" ]; then
    continue
  fi
  echo "config $f"
done
if [ -f "$mark" ]; then
  sed 's/^/owner /' "$mark"
fi
exit 0
