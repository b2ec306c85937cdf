#!/bin/sh
# The live CIB.
cibadmin -Q 2>&1 || true
