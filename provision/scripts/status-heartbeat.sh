#!/bin/sh
# The node's heartbeat view: "member NODE STATUS" per node, or "daemon
# down".
if pgrep -x heartbeat >/dev/null && cl_status hbstatus >/dev/null 2>&1; then
  for n in $(cl_status listnodes 2>/dev/null); do echo "member $n $(cl_status nodestatus "$n" 2>/dev/null)"; done
else
  echo "daemon down"
fi
