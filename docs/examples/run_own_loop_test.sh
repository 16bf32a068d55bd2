#!/usr/bin/env bash
# The example exits non-zero unless both closing handshakes completed and the
# HTTP connection ended as the server asked; also check it printed each step.
set -euo pipefail
out=$("$1")
echo "$out"
for want in 'client: open (subprotocol "v1")' 'server: message opcode 1 "hello"' \
            'client: message opcode 1 "hello"' 'client: message opcode 10 "hb"' \
            'server: peer closed with 1000' 'client: peer closed with 1000' \
            'http: 200 "first" (keep-alive 1)' 'http: 200 "second" (keep-alive 0)' \
            'not reusable (ConnectionClose)' 'own_loop: ok'; do
  grep -qF "$want" <<<"$out" || { echo "missing: $want"; exit 1; }
done
