#!/usr/bin/env bash
# Instructions per operation for every HTTP workload, from callgrind:
# (Ir(2N) - Ir(N)) / N. Run after:
#   bazel build --config=bench //bench/http:http_instr
set -euo pipefail
bin=${1:-bazel-out/k8-opt-bench/bin/bench/http/http_instr}
n=${N:-5000}
ir() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for w in http_write_post http_parse_response_cl http_parse_response_chunked http_rest_cycle; do
  for lib in tern beast beast_views; do
    [ "$w/$lib" = http_write_post/beast_views ] && continue
    a=$(ir "$w/$lib" "$n"); b=$(ir "$w/$lib" $((2 * n)))
    echo "$w/$lib: $(( (b - a) / n )) instructions per op"
  done
done
