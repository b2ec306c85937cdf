#!/bin/sh
# Addresses and firewall rules.
ip addr 2>&1; echo; iptables -S 2>&1; true
