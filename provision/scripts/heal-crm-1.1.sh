#!/bin/sh
# Pacemaker 1.1.6's heal-crm.sh (the heartbeat stack): brings node $1 back
# online when it is in standby, and clears the fail counts. 1.1.6's crm_mon
# has no XML, so the resources with a fail count come from the text of
# `crm_mon -1 -f` ("   ID: migration-threshold=N fail-count=N ..."), and
# its crm_resource --cleanup does nothing without -r: one cleanup per such
# resource, on every online node. Says what it did.
node=$1
command -v crm_attribute >/dev/null || exit 0
case $(crm_attribute -N "$node" -n standby -G -q -l forever 2>/dev/null) in
on|true|yes|1) crm node online "$node" >/dev/null && echo "put $node online (was standby)" ;;
esac
failed=$(crm_mon -1 -f 2>/dev/null | sed -n 's/^   \([^ :][^ :]*\): migration-threshold=-\{0,1\}[0-9][0-9]* fail-count=[1-9].*/\1/p' | sort -u)
for rsc in $failed; do
  crm_resource --cleanup -r "$rsc" >/dev/null 2>&1 && echo "cleared the fail counts of $rsc"
done
exit 0
