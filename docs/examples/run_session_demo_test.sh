#!/usr/bin/env bash
# The demo exits non-zero unless it reconnected once, noticed the one gap
# and saw two closes; also check it printed each step. (Connection ids
# count attempts, refused ones included: the second open's id varies.)
set -euo pipefail
out=$("$1")
echo "$out"
for want in 'open 1: auth + 2 subscriptions queued' 'killing the server' 'down 1: Failed' \
            'server back' 'Stopped (stop), reconnect none' 'health: opens 2, reconnects 1' \
            'ConnectFailed' 'session_demo: ok'; do
  grep -qF "$want" <<<"$out" || { echo "missing: $want"; exit 1; }
done
[[ $(grep -c 'auth + 2 subscriptions queued' <<<"$out") == 2 ]] || { echo "want two opens"; exit 1; }
grep -qE '^gap on [0-9]+: [0-9]+ messages missed' <<<"$out" || { echo "missing: the gap"; exit 1; }
