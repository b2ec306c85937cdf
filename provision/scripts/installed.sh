#!/bin/sh
# Exits 0 when an archive is unpacked and its link points into it.
# $1 unpack dir, $2 sha256, $3 link.
[ "$(cat "$1/.halab-sha256" 2>/dev/null)" = "$2" ] || exit 1
case "$(readlink "$3")" in "$1"|"$1"/*) exit 0 ;; esac
exit 1
