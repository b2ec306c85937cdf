#!/bin/sh
# The cluster daemons' log lines since a position of log-position.sh, at
# most $3 from each source: $1 the journal's cursor ("" = from $2, the
# node's clock in seconds), then triples FILE INODE LINES. A file whose
# inode changed or that shrank was rotated: it is read from its start.
# Journal: the lines of the units corosync, pacemaker and heartbeat,
# systemd's lines about them, and lines whose syslog identifier is one of
# their daemons' (what logger -t writes as a daemon); journalctl's own
# messages (not JSON) pass too.
cursor=$1 since=$2 max=$3
shift 3
# collapse: a message seen 50 times is left out from then on, and the
# number left out said at the end (a controller that retries a dead
# fencer logs the same notice thousands of times a minute, which would
# fill the $max lines and hide what follows). A message's copies match
# the same patterns, so the audit loses no match by it.
collapse() {
  awk '
    match($0, /"MESSAGE":"([^"\\]|\\.)*"/) {
      if (++seen[substr($0, RSTART, RLENGTH)] > 50) { left++; next }
    }
    { print }
    END { if (left) printf "left out %d copies of messages already read 50 times\n", left }'
}
if [ -d /run/systemd/system ]; then
  if [ -n "$cursor" ]; then
    echo "==> journal after cursor"
    set -- "--after-cursor=$cursor" "$@"
  else
    echo "==> journal since @$since"
    set -- "--since=@$since" "$@"
  fi
  # The units and identifiers are selected here, not by journalctl's
  # field matches: after a cursor, those miss the entries of the other
  # journal files (a line logged by a user lands in the user's journal).
  journalctl -q --no-pager -o json --output-fields=MESSAGE,SYSLOG_IDENTIFIER,SYSLOG_PID,_PID,_SYSTEMD_UNIT,UNIT "$1" 2>&1 |
    grep -E '"(_SYSTEMD_UNIT|UNIT)":"(corosync|pacemaker|heartbeat)\.service"|"SYSLOG_IDENTIFIER":"(corosync|pacemakerd|pacemaker-(based|fenced|execd|attrd|schedulerd|controld)|heartbeat)"|^[^{]' |
    collapse |
    head -n "$max"
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
