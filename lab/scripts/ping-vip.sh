#!/bin/sh
# Whether another machine answers on the VIP: pings $2 out of interface $1.
# Exit 0 when it answers, 1 when it does not, 3 when the node has no ping.
command -v ping >/dev/null 2>&1 || exit 3
ping -c 2 -W 1 -I "$1" "$2" >/dev/null 2>&1
