#!/usr/bin/env bash
# Instructions per unit for every session workload, from callgrind
# (collected inside the timed part only; see policy_instr.cc).
# Run after: bazel build --config=bench //bench/session:policy_instr
set -euo pipefail
bin=${1:-bazel-out/k8-opt-bench/bin/bench/session/policy_instr}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%-16s %12s\n' workload 'instr/unit'
for w in clock policy policy_silence health session reconnect; do
  n=1000000
  [[ $w == reconnect ]] && n=20000
  ops=$(valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null "$bin" "$w" "$n" 2>"$log")
  ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log")
  printf '%-16s %12s\n' "$w" "$(awk -v a="$ir" -v b="$ops" 'BEGIN { printf "%.1f", a / b }')"
done
