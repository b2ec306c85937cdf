#!/bin/sh
# Drops UDP between this node and its peers on the private NIC, in a chain
# of the harness's own, which heal removes (and no other rule). Idempotent.
# $1 chain, $2 NIC, the peers' IPs follow.
# Only UDP: corosync (knet, 5405) and heartbeat (694) speak UDP; SSH from
# the host and the prober's HTTP do not cross this NIC's peer traffic.
chain=$1 nic=$2; shift 2
iptables -N "$chain" 2>/dev/null || iptables -F "$chain"
for ip in "$@"; do
  iptables -A "$chain" -p udp -s "$ip" -j DROP
  iptables -A "$chain" -p udp -d "$ip" -j DROP
done
iptables -C INPUT -i "$nic" -j "$chain" 2>/dev/null || iptables -I INPUT -i "$nic" -j "$chain"
iptables -C OUTPUT -o "$nic" -j "$chain" 2>/dev/null || iptables -I OUTPUT -o "$nic" -j "$chain"
