#!/bin/sh
# Brings node $1 back online when it is in standby, and clears fail
# counts. Says what it did.
node=$1
command -v crm_attribute >/dev/null || exit 0
case $(crm_attribute -N "$node" -n standby -G -q -l forever 2>/dev/null) in
on|true|yes|1) crm node online "$node" >/dev/null && echo "put $node online (was standby)" ;;
esac
if { crm_mon -1 --output-as=xml 2>/dev/null || crm_mon -1 -X 2>/dev/null; } | grep -q 'fail-count="[1-9]'; then
  crm_resource --cleanup >/dev/null 2>&1 && echo "cleared the fail counts"
fi
exit 0
