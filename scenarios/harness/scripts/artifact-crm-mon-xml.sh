#!/bin/sh
# crm_mon's XML view (Pacemaker 2, then 1.1's -X).
crm_mon -1 --output-as=xml 2>/dev/null || crm_mon -1 -X 2>&1 || true
