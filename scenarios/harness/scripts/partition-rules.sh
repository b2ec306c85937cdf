#!/bin/sh
# Lists the rules of the harness's chain $1 left on the node (none after a
# heal).
iptables -S | grep -F -- "$1" || true
