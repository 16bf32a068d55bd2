#!/usr/bin/env bash
# Runs the pool demo with fewer orders and checks each part reported, with
# no connection found closed by the venue's idle timeout.
set -euo pipefail
out=$("$1" 160)
echo "$out"
for want in "server time:" "first burst: 160 orders placed" "after a quiet spell: 160 orders placed" \
            "4 slots, 4 healthy" "0 poisoned"; do
  grep -q "$want" <<<"$out" || { echo "missing: $want"; exit 1; }
done
