#!/usr/bin/env bash
# Runs the loopback demo with fewer messages and checks each part reported.
set -euo pipefail
out=$("$1" 2000)
echo "$out"
for want in "ws echo" "wss echo" "http keep-alive POST"; do
  grep -q "$want" <<<"$out" || { echo "missing: $want"; exit 1; }
done
