#!/usr/bin/env bash
# The demo exits non-zero if any message went missing; also check it printed
# every step.
set -euo pipefail
out=$("$1")
echo "$out"
for want in "client validated 101: None" "got close: code 1000" "assembled in place" \
            "protocol error MaskViolation" "ns per message"; do
  grep -q "$want" <<<"$out" || { echo "missing: $want"; exit 1; }
done
