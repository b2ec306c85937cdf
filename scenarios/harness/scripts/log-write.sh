#!/bin/sh
# Writes a line ($2) to the node's syslog under the identifier $1, as a
# cluster daemon would: the log audit's end-to-end check plants it.
logger -t "$1" -- "$2"
