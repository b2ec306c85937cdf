#!/bin/sh
# Marks the node as provisioned by one lab: $1 the mark file, $2 the lab's
# id, $3 its lab file, $4 its name. Written atomically.
set -e
mkdir -p "$(dirname "$1")"
printf 'id %s\nconfig %s\nname %s\n' "$2" "$3" "$4" >"$1.tmp"
chmod 0644 "$1.tmp"
mv "$1.tmp" "$1"
