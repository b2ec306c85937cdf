#!/bin/sh
# Prints, per path argument, "MODE:OWNER:GROUP SHA256" or "- -", in one
# round trip for all the files of a push.
for p in "$@"; do
  if [ -f "$p" ]; then
    printf '%s %s\n' "$(stat -c '%a:%U:%G' -- "$p")" "$(sha256sum < "$p" | cut -d' ' -f1)"
  else
    echo "- -"
  fi
done
