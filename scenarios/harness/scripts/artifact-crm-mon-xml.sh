#!/bin/sh
# crm_mon's XML view (Pacemaker 2, then 1.1's -X). Pacemaker 1.1.6 and
# older have no XML output: that is said instead (crm_mon.txt and cib.xml
# hold their view).
ver=$(crm_mon --version 2>/dev/null | sed -n 's/^Pacemaker \([0-9][0-9.]*\).*/\1/p' | head -n 1)
case $ver in
0.* | 1.0 | 1.0.* | 1.1 | 1.1.[0-6] | 1.1.[0-6].*)
  echo "<!-- crm_mon of Pacemaker $ver has no XML output: see crm_mon.txt and cib.xml -->" ;;
*) crm_mon -1 --output-as=xml 2>/dev/null || crm_mon -1 -X 2>&1 || true ;;
esac
