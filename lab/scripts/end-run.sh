# Ends one remote command of halab's on the node: halab runs
# every command with HALAB_RUN=<id> in its environment (and inside sudo),
# which its processes inherit, and runs this when it gives up on the
# command (its timeout passed, or halab was interrupted). The processes
# that hold the marker get TERM, then KILL when they are still there 3 s
# later. Daemons started through service(8) or systemd do not inherit it.
# halab runs it as the login user and then as root: each sees (and may
# signal) the processes whose environment it may read, and root may not
# read another user's without CAP_SYS_PTRACE, which the nodes lack.
# $1 is the id. Prints "ended N" (N processes found); exits 1 naming the
# processes that even KILL left (stuck in the kernel).
id=$1
case $id in
  '' | *[!0-9a-f]*) echo "end-run: bad id '$id'" >&2; exit 2 ;;
esac

# The pids whose environment holds the marker. grep -z reads the
# NUL-separated environ files in one pass (procps' pgrep cannot match on
# the environment); -s skips processes that ended meanwhile. This script's
# own environment does not hold the marker.
marked() {
  grep -lsxzF -e "HALAB_RUN=$id" /proc/[0-9]*/environ | sed -n 's#^/proc/\([0-9]*\)/environ$#\1#p'
}

pids=$(marked)
# shellcheck disable=SC2086 # one word per pid
set -- $pids
found=$#
if [ "$found" -eq 0 ]; then
  echo "ended 0"
  exit 0
fi
# shellcheck disable=SC2086
kill -s TERM $pids 2>/dev/null
i=0
while [ "$i" -lt 30 ]; do
  sleep 0.1
  pids=$(marked)
  if [ -z "$pids" ]; then
    echo "ended $found"
    exit 0
  fi
  i=$((i + 1))
done
# What ignored TERM, and what it forked meanwhile.
i=0
while [ "$i" -lt 10 ]; do
  # shellcheck disable=SC2086
  kill -s KILL $pids 2>/dev/null
  sleep 0.1
  pids=$(marked)
  if [ -z "$pids" ]; then
    echo "ended $found"
    exit 0
  fi
  i=$((i + 1))
done
echo "ended $found"
for p in $pids; do
  printf 'left %s %s\n' "$p" "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
done
exit 1
