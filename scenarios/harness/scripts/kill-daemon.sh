#!/bin/sh
# SIGKILLs the process named $1 (a stack's messaging daemon). Exits 3 when
# none runs.
pkill -KILL -x "$1" || { echo "no $1 process to kill" >&2; exit 3; }
