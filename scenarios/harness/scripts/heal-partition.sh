#!/bin/sh
# Removes the partition chain and the jumps to it, and no other rule. Says
# what it did; silent when there was nothing to do. $1 chain.
chain=$1
if iptables -S "$chain" >/dev/null 2>&1; then
  for c in INPUT OUTPUT; do
    iptables -S "$c" | grep -- "-j $chain\$" | sed 's/^-A /-D /' |
      while read -r rule; do
        # shellcheck disable=SC2086 # the rule is iptables' own words
        iptables $rule
      done
  done
  iptables -F "$chain" && iptables -X "$chain" && echo "removed the partition rules"
fi
exit 0
