#!/bin/sh
# Freezes (SIGSTOP) every process named $1 (a stack's messaging daemon):
# it neither sends nor answers until heal-drop.sh sends SIGCONT. Exits 3
# when none runs.
pkill -STOP -x "$1" || { echo "no $1 process to pause" >&2; exit 3; }
