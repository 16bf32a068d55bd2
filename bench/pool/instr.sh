#!/usr/bin/env bash
# Instructions per acquire+release (policy, atomic), without and with a
# max idle age, from callgrind (collected around the measured loop only;
# see pool_instr.cc). Run after:
#   bazel build --config=bench //bench/pool:pool_instr
set -euo pipefail
bin=${1:-bazel-out/k8-opt-bench/bin/bench/pool/pool_instr}
ops=${OPS:-100000}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%-8s %12s %12s\n' workload 'no idle age' 'idle age'
for w in policy atomic; do
  row=()
  for idle in 0 1; do
    done_ops=$(valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null \
      "$bin" "$w" "$idle" "$ops" 2>"$log")
    ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log")
    row+=("$(awk -v a="$ir" -v b="$done_ops" 'BEGIN { printf "%.1f", a / b }')")
  done
  printf '%-8s %12s %12s\n' "$w" "${row[0]}" "${row[1]}"
done
