// Instruction counts for callgrind: runs `rounds` batches of one workload
// from timer_workloads.h and collects instructions only inside the timed
// part, so the count per operation is exactly what timer_bench times:
//
//   valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null
//       bazel-out/k8-opt-bench/bin/bench/epoll/timer_instr insert wheel 10000 200
//
// (one command line) prints the operations done; valgrind's "Collected" over
// that is instructions per operation. bench/epoll/instr.sh runs the table.
#include <valgrind/callgrind.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/epoll/timer_workloads.h"

namespace tern::epoll::bench {
namespace {

template <class Work>
std::size_t run(std::size_t population, long rounds) {
  Work work(population);
  std::size_t ops = 0;
  for (long i = 0; i < rounds; ++i) {
    work.prepare();
    CALLGRIND_TOGGLE_COLLECT;
    ops += work.timed();
    CALLGRIND_TOGGLE_COLLECT;
  }
  return ops;
}

template <class Timers>
std::size_t dispatch(const std::string& workload, std::size_t population, long rounds) {
  if (workload == "insert") return run<Insert<Timers>>(population, rounds);
  if (workload == "cancel") return run<Cancel<Timers>>(population, rounds);
  if (workload == "postpone") return run<Postpone<Timers, false>>(population, rounds);
  if (workload == "read_deadline") return run<Postpone<Timers, true>>(population, rounds);
  if (workload == "expire") return run<Expire<Timers>>(population, rounds);
  if (workload == "idle_advance_1ms") return run<AdvanceIdle<Timers, kMs>>(population, rounds);
  if (workload == "idle_advance_1us") return run<AdvanceIdle<Timers, kUs>>(population, rounds);
  return 0;
}

}  // namespace
}  // namespace tern::epoll::bench

int main(int argc, char** argv) {
  using namespace tern::epoll::bench;
  if (argc != 5) {
    std::fprintf(stderr,
                 "usage: %s insert|cancel|postpone|read_deadline|expire|idle_advance_1ms|"
                 "idle_advance_1us wheel|heap POPULATION ROUNDS\n",
                 argv[0]);
    return 2;
  }
  const std::string impl = argv[2];
  const std::size_t population = std::strtoull(argv[3], nullptr, 10);
  const long rounds = std::atol(argv[4]);
  const std::size_t ops = impl == "wheel" ? dispatch<WheelTimers>(argv[1], population, rounds)
                                          : dispatch<HeapTimers>(argv[1], population, rounds);
  std::printf("%zu\n", ops);
  return ops == 0;
}
