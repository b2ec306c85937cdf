#!/bin/sh
# Compiles lib/Stratos.java into lib/classes as the service user when the
# class is missing or older than the source, with the JDK's own compiler
# module (a jlinked JDK has no javac launcher). stratos.sh then starts the
# class instead of compiling the source on every start, which is most of a
# failover's service start. Prints "compiled" or "ok".
# $1 product home, $2 java home, $3 service user.
set -e
home=$1 java=$2/bin/java user=$3
cls=$home/lib/classes/Stratos.class
# find -newer, not test -nt, which POSIX sh does not have
if [ -f "$cls" ] && [ -z "$(find "$home/lib/Stratos.java" -newer "$cls")" ]; then echo ok; exit 0; fi
mkdir -p "$home/lib/classes"
chown "$user" "$home/lib/classes"
# shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
su -s /bin/sh "$user" -c '"$1" -m jdk.compiler/com.sun.tools.javac.Main -d "$2/lib/classes" "$2/lib/Stratos.java"' sh "$java" "$home"
echo compiled
