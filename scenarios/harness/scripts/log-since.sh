#!/bin/sh
# The cluster daemons' log lines since a position of log-position.sh, at
# most $3 from each source: $1 the journal's cursor ("" = from $2, the
# node's clock in seconds), then triples FILE INODE LINES. A file whose
# inode changed or that shrank was rotated: it is read from its start.
# Journal: the units corosync, pacemaker and heartbeat, systemd's lines
# about them, and lines whose syslog identifier is one of their daemons'
# (what logger -t writes as a daemon).
cursor=$1 since=$2 max=$3
shift 3
if [ -d /run/systemd/system ]; then
  if [ -n "$cursor" ]; then
    echo "==> journal after cursor"
    set -- "--after-cursor=$cursor" "$@"
  else
    echo "==> journal since @$since"
    set -- "--since=@$since" "$@"
  fi
  journalctl -q --no-pager -o json --output-fields=MESSAGE,SYSLOG_IDENTIFIER,SYSLOG_PID,_PID,_SYSTEMD_UNIT,UNIT "$1" \
    _SYSTEMD_UNIT=corosync.service _SYSTEMD_UNIT=pacemaker.service _SYSTEMD_UNIT=heartbeat.service + \
    UNIT=corosync.service UNIT=pacemaker.service UNIT=heartbeat.service + \
    SYSLOG_IDENTIFIER=corosync SYSLOG_IDENTIFIER=pacemakerd SYSLOG_IDENTIFIER=pacemaker-based \
    SYSLOG_IDENTIFIER=pacemaker-fenced SYSLOG_IDENTIFIER=pacemaker-execd SYSLOG_IDENTIFIER=pacemaker-attrd \
    SYSLOG_IDENTIFIER=pacemaker-schedulerd SYSLOG_IDENTIFIER=pacemaker-controld SYSLOG_IDENTIFIER=heartbeat \
    2>&1 | head -n "$max"
  shift
fi
while [ $# -ge 3 ]; do
  f=$1 inode=$2 from=$3
  shift 3
  [ -f "$f" ] || { echo "==> file $f gone"; continue; }
  now=$(stat -c %i "$f")
  n=$(awk 'END { print NR }' "$f")
  if [ "$now" != "$inode" ] || [ "$n" -lt "$from" ]; then
    echo "==> file $f rotated"
    from=0
  else
    echo "==> file $f"
  fi
  awk -v from="$from" -v max="$max" 'NR > from && NR <= from + max' "$f"
done
true
