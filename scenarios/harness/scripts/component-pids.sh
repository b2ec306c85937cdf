#!/bin/sh
# Prints "NAME PID" for each of Pacemaker's subdaemons named in the
# arguments, "NAME -" for one that does not run.
for d in "$@"; do
  pid=$(pgrep -x -- "$(printf '%.15s' "$d")" | head -n 1)
  echo "$d ${pid:--}"
done
