#!/bin/sh
# One node's ground truth: is the VIP on its NIC, what does the init script
# say. $1 NIC, $2 VIP, $3 init script.
nic=$1 vip=$2 initd=$3
if ip -o -4 addr show dev "$nic" 2>/dev/null | grep -q "inet $vip/"; then echo "vip yes"; else echo "vip no"; fi
"$initd" status >/dev/null 2>&1; echo "service $?"
