#!/bin/sh
# Runs an interop test with Debian's Python (which has python3-websockets),
# whatever python3 comes first on PATH (e.g. a pyenv shim).
exec /usr/bin/python3 -B "$@"
