// The session policy's per-event cost: ns per inbound message for
// on_message + next_action in the steady state, Health's per-message
// recorder, both together, and the loop's own clock arithmetic to subtract
// (the workloads are in policy_workloads.h). Also one whole reconnect cycle.
//
//   bazel run --config=bench //bench/session:policy_bench
#include <cstdint>

#include "bench/session/policy_workloads.h"
#include "benchmark/benchmark.h"

namespace tern::session::bench {
namespace {

constexpr std::uint64_t kBatch = 1024;

void run(benchmark::State& state, Workload w) {
  Fixture f(w);
  std::uint64_t done = 0;
  for (auto _ : state) done += f.run(kBatch);
  state.SetItemsProcessed(static_cast<std::int64_t>(done));
  state.counters["ns/op"] = benchmark::Counter(static_cast<double>(done),
                                               benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Clock(benchmark::State& s) { run(s, Workload::Clock); }
void BM_Policy(benchmark::State& s) { run(s, Workload::Policy); }
void BM_PolicyMaxSilence(benchmark::State& s) { run(s, Workload::PolicySilence); }
void BM_Health(benchmark::State& s) { run(s, Workload::Health); }
void BM_PolicyAndHealth(benchmark::State& s) { run(s, Workload::Session); }

void BM_Reconnect(benchmark::State& state) {
  Fixture f(Workload::Reconnect);
  std::uint64_t done = 0;
  for (auto _ : state) done += f.run(1);
  state.counters["ns/op"] = benchmark::Counter(static_cast<double>(done),
                                               benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_Clock);
BENCHMARK(BM_Policy);
BENCHMARK(BM_PolicyMaxSilence);
BENCHMARK(BM_Health);
BENCHMARK(BM_PolicyAndHealth);
BENCHMARK(BM_Reconnect);

}  // namespace
}  // namespace tern::session::bench
