#!/bin/sh
# Drops UDP between this node and its peers on the private NIC, in the
# harness's chain $1 (not the partition's), which heal-drop.sh removes with
# the jumps to it and no other rule. Idempotent: the chain is emptied first.
# $1 chain, $2 NIC, $3 direction: "both" (what the node sends and receives)
# or "out" (only what it sends: a one-way partition), $4 the probability of
# a drop ("1": every packet; else iptables' statistic match drops that share
# of the packets at random), then the peers' IPs.
chain=$1 nic=$2 dir=$3 p=$4; shift 4
iptables -N "$chain" 2>/dev/null || iptables -F "$chain"
for ip in "$@"; do
  if [ "$p" = 1 ]; then
    iptables -A "$chain" -p udp -d "$ip" -j DROP
    [ "$dir" = both ] && iptables -A "$chain" -p udp -s "$ip" -j DROP
  else
    iptables -A "$chain" -p udp -d "$ip" -m statistic --mode random --probability "$p" -j DROP
    [ "$dir" = both ] && iptables -A "$chain" -p udp -s "$ip" -m statistic --mode random --probability "$p" -j DROP
  fi
done
if [ "$dir" = both ]; then
  iptables -C INPUT -i "$nic" -j "$chain" 2>/dev/null || iptables -I INPUT -i "$nic" -j "$chain"
fi
iptables -C OUTPUT -o "$nic" -j "$chain" 2>/dev/null || iptables -I OUTPUT -o "$nic" -j "$chain"
