#!/bin/sh
# Restarts heartbeat when it was killed or stopped. With $1 = "v1" (no
# resource manager: heartbeat's own haresources), it first releases what a
# killed heartbeat left (the service, the VIP), and starts a killed service
# that heartbeat v1 does not monitor. Says what it did.
# $1 v1 or crm, $2 NIC, $3 VIP, $4 prefix length, $5 init script.
rm=$1 nic=$2 vip=$3 prefix=$4 initd=$5
if ! pgrep -x heartbeat >/dev/null; then
  if [ "$rm" = v1 ]; then
    # a killed heartbeat v1 leaves its resources behind: release them so
    # that the restarted daemon negotiates them with its peer
    "$initd" status >/dev/null 2>&1 && "$initd" stop >/dev/null 2>&1 && echo "stopped the service a killed heartbeat left"
    ip addr del "$vip/$prefix" dev "$nic" 2>/dev/null && echo "released the VIP a killed heartbeat left"
  fi
  command -v systemctl >/dev/null && systemctl reset-failed heartbeat 2>/dev/null
  service heartbeat start >/dev/null && echo "started heartbeat"
elif [ "$rm" = v1 ] && ip -o -4 addr show dev "$nic" | grep -q "inet $vip/" && ! "$initd" status >/dev/null 2>&1; then
  # heartbeat v1 does not monitor resources: a killed service stays dead
  "$initd" start >/dev/null && echo "started the service heartbeat v1 does not restart"
fi
exit 0
