#!/bin/sh
# Verifies a pushed archive, unpacks it, points the link at its single top
# directory (or at the unpack dir when it has several), and removes the
# archive.
# $1 archive on the node, $2 expected sha256, $3 kind (tar.gz|tar|zip),
# $4 unpack dir, $5 link (java_home / product_home).
set -e
archive=$1 sum=$2 kind=$3 dir=$4 link=$5
got=$(sha256sum < "$archive" | cut -d' ' -f1)
if [ "$got" != "$sum" ]; then
  rm -f "$archive"
  echo "sha256 of the pushed archive is $got, expected $sum (transfer corrupted; re-run)" >&2
  exit 1
fi
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
case "$kind" in
  tar.gz) tar -xzf "$archive" -C "$dir.tmp" --no-same-owner ;;
  tar) tar -xf "$archive" -C "$dir.tmp" --no-same-owner ;;
  zip) command -v unzip >/dev/null || { echo "unzip is not installed on the node" >&2; exit 1; }
       unzip -q "$archive" -d "$dir.tmp" ;;
esac
rm -rf "$dir"
mv "$dir.tmp" "$dir"
rm -f "$archive"
set -- "$dir"/*
if [ $# -eq 1 ] && [ -d "$1" ]; then top=$1; else top=$dir; fi
if [ -e "$link" ] && [ ! -L "$link" ]; then
  echo "$link exists and is not a symlink made by halab: move it away" >&2
  exit 1
fi
ln -sfn "$top" "$link"
# prune-archives.sh keeps an older version while its link points into it.
echo "$link" > "$dir/.halab-link"
echo "$sum" > "$dir/.halab-sha256"
