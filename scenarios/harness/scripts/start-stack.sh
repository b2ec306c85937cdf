#!/bin/sh
# Starts the stack's daemons ($@) as an admin would, and nothing else:
# unlike the stack's heal, it kills nothing left in their control groups
# (the unmanaged resources of CTS's Reattach run there).
if [ -d /run/systemd/system ]; then
  systemctl start "$@"
else
  for d in "$@"; do service "$d" start; done
fi
