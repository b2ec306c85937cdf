#!/bin/sh
# The node's Pacemaker view as crm_mon's XML after a "--- crm_mon" line
# (--output-as=xml on Pacemaker 2, -X on 1.1), or "daemon down".
out=$(crm_mon -1 --output-as=xml 2>/dev/null) || out=$(crm_mon -1 -X 2>/dev/null) || out=
case $out in
*"<nodes>"*) echo "--- crm_mon"; printf '%s\n' "$out" ;;
*) echo "daemon down" ;;
esac
