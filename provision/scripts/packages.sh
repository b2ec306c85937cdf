#!/bin/sh
# Installs the missing packages ($@) with apt; on precise it first points
# apt at old-releases, where its archive lives now. Prints the packages it
# installed.
set -e
missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if grep -q 'VERSION_ID="12.04"' /etc/os-release 2>/dev/null; then
  sed -i -e 's#http://[a-z.]*archive.ubuntu.com#http://old-releases.ubuntu.com#' \
         -e 's#http://security.ubuntu.com#http://old-releases.ubuntu.com#' /etc/apt/sources.list
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $missing >&2
echo "${missing# }"
