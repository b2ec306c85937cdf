#!/bin/sh
# Makes the product's directories; the product writes its pid file and
# logs as the service user. $1 service user, $2 product home.
set -e
id -u "$1" >/dev/null 2>&1 || { echo "service user $1 does not exist on the node" >&2; exit 1; }
mkdir -p "$2/logs" "$2/bin" "$2/lib"
chown "$1" "$2" "$2/logs"
