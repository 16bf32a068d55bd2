#!/usr/bin/env bash
# Instructions per try_acquire + release through the pool driver, per
# backend, ClientPool and AtomicClientPool, from callgrind (collected around
# the measured loop only; see driver_instr.cc). Run after:
#   bazel build --config=bench //bench/pool:driver_instr
set -euo pipefail
bin=${1:-bazel-out/k8-opt-bench/bin/bench/pool/driver_instr}
ops=${OPS:-100000}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%-8s %12s %12s\n' backend ClientPool AtomicClientPool
for b in posix epoll asio; do
  row=()
  for p in pool atomic; do
    done_ops=$(valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null \
      "$bin" "$b" "$p" "$ops" 2>"$log")
    ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log")
    row+=("$(awk -v a="$ir" -v b="$done_ops" 'BEGIN { printf "%.1f", a / b }')")
  done
  printf '%-8s %12s %12s\n' "$b" "${row[0]}" "${row[1]}"
done
