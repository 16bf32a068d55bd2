#!/usr/bin/env bash
# Instructions per message for each tern parse workload, from callgrind:
# (Ir(2N) - Ir(N)) / N. Run after: bazel build --config=bench //bench/ws:frame_instr
set -euo pipefail
bin=${1:-bazel-out/k8-opt-bench/bin/bench/ws/frame_instr}
n=20000
ir() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for w in text_128 binary_40 masked_text_128 masked_key0_text_128 batch; do
  a=$(ir "$w" "$n"); b=$(ir "$w" $((2 * n)))
  echo "$w: $(( (b - a) / n )) instructions per message"
done
