#!/bin/sh
# Runs an interop test with Debian's Python (which has python3-websockets),
# whatever python3 comes first on PATH (e.g. a pyenv shim). The first
# argument names the backend the tern programs run on (peers.BACKEND).
TERN_BACKEND="$1"
export TERN_BACKEND
shift
exec /usr/bin/python3 -B "$@"
