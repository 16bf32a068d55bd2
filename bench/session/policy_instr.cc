// Instruction counts for callgrind: runs one workload of policy_workloads.h
// `count` times, collecting instructions only inside the timed part:
//
//   valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null
//       bazel-out/k8-opt-bench/bin/bench/session/policy_instr policy 1000000
//
// (one command line) prints the units done; valgrind's "Collected" over
// that is instructions per message (per cycle for reconnect).
// bench/session/instr.sh runs the table.
#include <valgrind/callgrind.h>

#include <cstdio>
#include <cstdlib>

#include "bench/session/policy_workloads.h"

int main(int argc, char** argv) {
  using namespace tern::session::bench;
  Workload w;
  if (argc != 3 || !parse_workload(argv[1], w)) {
    std::fprintf(stderr, "usage: %s clock|policy|policy_silence|health|session|reconnect COUNT\n", argv[0]);
    return 2;
  }
  const std::uint64_t count = std::strtoull(argv[2], nullptr, 10);
  Fixture f(w);
  f.run(count / 10 + 1);  // warm up: caches, the first pings
  CALLGRIND_TOGGLE_COLLECT;
  const std::uint64_t done = f.run(count);
  CALLGRIND_TOGGLE_COLLECT;
  std::printf("%llu\n", static_cast<unsigned long long>(done));
  return done == 0;
}
