#!/bin/sh
# The init script's status ($1) and the cluster's processes.
"$1" status 2>&1; echo "exit $?"
# shellcheck disable=SC2009 # precise's procps 3.2.8 has no pgrep -a
ps -eo pid,stat,lstart,args | grep -E '[j]ava|[c]orosync|[p]acemaker|[h]eartbeat'
true
