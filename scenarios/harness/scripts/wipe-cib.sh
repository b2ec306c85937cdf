#!/bin/sh
# Removes the CIB files (cib.xml, its signature, its backups) in $1, as
# CTS's ResyncCIB does, on a node whose stack is stopped: refuses while
# the CIB manager $2 runs. Says how many files it removed.
dir=$1
if pgrep -x -- "$(printf '%.15s' "$2")" >/dev/null; then
  echo "$2 runs: stop the stack before wiping its CIB" >&2; exit 3
fi
n=0
for f in "$dir"/cib*; do
  [ -e "$f" ] || continue
  rm -f -- "$f" && n=$((n + 1))
done
echo "removed $n CIB files from $dir"
