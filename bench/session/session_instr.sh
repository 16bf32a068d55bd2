#!/usr/bin/env bash
# Instructions per message the session adds over the bare connection, per
# backend, from callgrind (collected while the client reads the measured
# messages only; see session_instr.cc).
# Run after: bazel build --config=bench //bench/session:session_instr
set -euo pipefail
bin=${1:-bazel-out/k8-opt-bench/bin/bench/session/session_instr}
n=${2:-200000}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%-8s %12s %12s %12s\n' backend bare session added
for b in posix epoll asio; do
  declare -A per
  for mode in bare session; do
    count=$(valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null "$bin" "$b" "$mode" "$n" 2>"$log")
    ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log")
    per[$mode]=$(awk -v a="$ir" -v b="$count" 'BEGIN { printf "%.1f", a / b }')
  done
  printf '%-8s %12s %12s %12s\n' "$b" "${per[bare]}" "${per[session]}" \
    "$(awk -v a="${per[session]}" -v b="${per[bare]}" 'BEGIN { printf "%.1f", a - b }')"
done
