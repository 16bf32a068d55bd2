#!/usr/bin/env bash
# Instructions per operation for every timer workload, wheel and heap, from
# callgrind (collected inside the timed part only; see timer_instr.cc).
# Run after: bazel build --config=bench //bench/epoll:timer_instr
set -euo pipefail
bin=${1:-bazel-out/k8-opt-bench/bin/bench/epoll/timer_instr}
rounds=${ROUNDS:-200}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%-18s %10s %10s %10s %10s\n' workload 'wheel/10' 'heap/10' 'wheel/10k' 'heap/10k'
for w in insert cancel postpone read_deadline expire idle_advance_1ms idle_advance_1us; do
  row=()
  for n in 10 10000; do
    for impl in wheel heap; do
      # read_deadline: 40,000 batches are 41 s of simulated time, so every
      # 30 s deadline comes due (and is re-filed) at least once.
      r=$rounds
      [[ $w == read_deadline ]] && r=40000
      ops=$(valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null \
        "$bin" "$w" "$impl" "$n" "$r" 2>"$log")
      ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log")
      row+=("$(awk -v a="$ir" -v b="$ops" 'BEGIN { printf "%.1f", a / b }')")
    done
  done
  printf '%-18s %10s %10s %10s %10s\n' "$w" "${row[0]}" "${row[1]}" "${row[2]}" "${row[3]}"
done
