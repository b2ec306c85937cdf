#!/bin/sh
# Prints the uid of user $1 and the gid of group $2, one per line.
id -u -- "$1" && getent group -- "$2" | cut -d: -f3
