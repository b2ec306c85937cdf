#!/bin/sh
# The node's Pacemaker 1.1 view, for the heartbeat stack: "pacemaker
# VERSION", then what that crm_mon can print: on 1.1.6 and older (Ubuntu
# 12.04), which have no XML output, the text of `crm_mon -1 -r -f` (every
# resource, inactive ones too, and the fail counts) after a
# "--- crm_mon text" line; from 1.1.7 on, its --as-xml after "--- crm_mon".
# Or "daemon down".
ver=$(crm_mon --version 2>/dev/null | sed -n 's/^Pacemaker \([0-9][0-9.]*\).*/\1/p' | head -n 1)
[ -n "$ver" ] && echo "pacemaker $ver"
case $ver in
0.* | 1.0 | 1.0.* | 1.1 | 1.1.[0-6] | 1.1.[0-6].*)
  out=$(crm_mon -1 -r -f 2>/dev/null) || out=
  case $out in
  *"Current DC:"*) echo "--- crm_mon text"; printf '%s\n' "$out"; exit 0 ;;
  esac ;;
*)
  out=$(crm_mon -1 --as-xml 2>/dev/null) || out=
  case $out in
  *"<nodes>"*) echo "--- crm_mon"; printf '%s\n' "$out"; exit 0 ;;
  esac ;;
esac
echo "daemon down"
