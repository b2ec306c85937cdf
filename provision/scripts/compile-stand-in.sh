#!/bin/sh
# Compiles lib/Stratos.java into lib/classes on the node, as the service
# user, when the class is missing or older than the source: the fallback
# for a host without a javac that compiles for Java 7. It uses the JDK's
# own compiler module (a jlinked JDK has no javac launcher), so the node's
# JDK must be 11 or later (the release that runs a source file too); with
# an older one it exits 3 and says which. Prints "compiled" or "ok".
# $1 product home, $2 java home, $3 service user.
set -e
home=$1 java=$2/bin/java user=$3
cls=$home/lib/classes/Stratos.class
# find -newer, not test -nt, which POSIX sh does not have
if [ -f "$cls" ] && [ -z "$(find "$home/lib/Stratos.java" -newer "$cls")" ]; then echo ok; exit 0; fi
# `java -version` says version "1.7.0_60" (Java 7) or "17.0.15" (Java 17)
ver=$("$java" -version 2>&1 | sed -n 's/^[^"]* version "\([0-9][^"]*\)".*/\1/p' | head -n 1)
case $ver in
'' | 1.* | [0-9].* | 10.* | [0-9] | 10)
  echo "Java ${ver:-of unknown version} at $2: compiling lib/Stratos.java on the node needs Java 11 or later" >&2
  exit 3 ;;
esac
mkdir -p "$home/lib/classes"
chown "$user" "$home/lib/classes"
# shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
su -s /bin/sh "$user" -c '"$1" -m jdk.compiler/com.sun.tools.javac.Main -d "$2/lib/classes" "$2/lib/Stratos.java"' sh "$java" "$home"
echo compiled
