#!/bin/sh
# Undoes the harness's packet faults and daemon pauses, and nothing else:
# removes the chain $1 and the jumps to it, and sends SIGCONT to the
# processes named by the other arguments (the stack's messaging daemon)
# that are stopped (state T). Says what it did; silent when there was
# nothing to do.
chain=$1; shift
if iptables -S "$chain" >/dev/null 2>&1; then
  for c in INPUT OUTPUT; do
    iptables -S "$c" | grep -- "-j $chain\$" | sed 's/^-A /-D /' |
      while read -r rule; do
        # shellcheck disable=SC2086 # the rule is iptables' own words
        iptables $rule
      done
  done
  iptables -F "$chain" && iptables -X "$chain" && echo "removed the $chain rules"
fi
for name in "$@"; do
  for pid in $(pgrep -x "$name"); do
    case $(ps -o stat= -p "$pid") in
    T*) kill -s CONT "$pid" && echo "resumed $name (pid $pid, SIGCONT)" ;;
    esac
  done
done
exit 0
