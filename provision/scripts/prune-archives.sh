#!/bin/sh
# Removes the other unpacked versions of an archive once a new one is in
# place: the directories NAME-<12 hex digits> beside it that no link
# halab made points into any more (unpack.sh records each version's link
# in its .halab-link). A service still running from a removed version
# keeps its open files until it restarts. Prints "removed:DIR" per
# directory removed.
# $1 the version just unpacked, e.g. /opt/.halab/jdk-0123456789ab.
set -e
keep=$1
store=${keep%/*}
name=${keep##*/}
name=${name%-*}
h='[0-9a-f]'
for old in "$store/$name"-$h$h$h$h$h$h$h$h$h$h$h$h; do
  if [ "$old" = "$keep" ] || [ -L "$old" ] || [ ! -d "$old" ]; then continue; fi
  link=$(cat "$old/.halab-link" 2>/dev/null || true)
  if [ -n "$link" ] && [ -L "$link" ]; then
    case "$(readlink "$link")" in "$old" | "$old"/*) continue ;; esac
  fi
  rm -rf "$old"
  echo "removed:$old"
done
