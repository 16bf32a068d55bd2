// Instruction counts for callgrind: runs `ops` acquire+release cycles of one
// workload from pool_workloads.h and collects instructions only around
// them (not the set-up), so the count per operation is what pool_bench
// times:
//
//   valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null
//       bazel-out/k8-opt-bench/bin/bench/pool/pool_instr policy 0 100000
//
// (one command line) prints the operations done; valgrind's "Collected"
// over that is instructions per operation. bench/pool/instr.sh runs the
// table.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/pool/callgrind_collect.h"
#include "bench/pool/pool_workloads.h"

namespace tern::pool::bench {
namespace {

template <class Cycle>
long run(bool idle_limited, long ops) {
  Cycle work(4, idle_limited);
  return collect(ops, [&] { return work.run(); });
}

}  // namespace
}  // namespace tern::pool::bench

int main(int argc, char** argv) {
  using namespace tern::pool::bench;
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s policy|atomic IDLE_AGE(0|1) OPS\n", argv[0]);
    return 2;
  }
  const std::string workload = argv[1];
  const bool idle_limited = std::atoi(argv[2]) != 0;
  const long ops = std::atol(argv[3]);
  long done = 0;
  if (workload == "policy") done = run<PolicyCycle>(idle_limited, ops);
  if (workload == "atomic") done = run<AtomicCycle>(idle_limited, ops);
  std::printf("%ld\n", done);
  return done == 0;
}
