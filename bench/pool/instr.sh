#!/usr/bin/env bash
# Instructions per acquire+release from callgrind (collected around the
# measured loop only; see pool_instr.cc and driver_instr.cc): the policy
# alone and through AtomicClientPool's return stack, without and with a max
# idle age; then through the pool driver on each backend (try_acquire + the
# lease's release). Run after:
#   bazel build --config=bench //bench/pool:pool_instr //bench/pool:driver_instr
set -euo pipefail
dir=${1:-bazel-out/k8-opt-bench/bin/bench/pool}
ops=${OPS:-100000}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Instructions per operation of one run: the binary, its arguments, then OPS.
per_op() {
  local bin=$1 done_ops ir
  shift
  done_ops=$(valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null \
    "$dir/$bin" "$@" "$ops" 2>"$log")
  ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log")
  awk -v a="$ir" -v b="$done_ops" 'BEGIN { printf "%.1f", a / b }'
}
printf '%-8s %12s %12s\n' workload 'no idle age' 'idle age'
for w in policy atomic; do
  printf '%-8s %12s %12s\n' "$w" "$(per_op pool_instr "$w" 0)" "$(per_op pool_instr "$w" 1)"
done
echo
printf '%-8s %12s %16s\n' driver ClientPool AtomicClientPool
for b in posix epoll asio; do
  printf '%-8s %12s %16s\n' "$b" "$(per_op driver_instr "$b" pool)" "$(per_op driver_instr "$b" atomic)"
done
