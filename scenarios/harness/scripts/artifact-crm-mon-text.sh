#!/bin/sh
# crm_mon's text view, or heartbeat's own status.
crm_mon -1 -rfA 2>&1 || cl_status hbstatus 2>&1
cl_status listnodes 2>/dev/null | while read -r n; do echo "$n $(cl_status nodestatus "$n")"; done
true
