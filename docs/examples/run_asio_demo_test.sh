#!/usr/bin/env bash
# Runs the Asio demo with fewer messages and checks each part reported.
set -euo pipefail
out=$("$1" 2000)
echo "$out"
for want in 'coroutine client: 2000 messages echoed' 'batch echoed as "abc"' \
            'idle receive cancelled (CANCELLED), still open: yes' \
            'callback client: 2000 messages echoed, closed' 'asio_demo: ok'; do
  grep -qF "$want" <<<"$out" || { echo "missing: $want"; exit 1; }
done
