// Pool policy and return path costs (workloads in pool_workloads.h):
//
//   policy_acquire_release   ClientPool's try_acquire() + release()
//   atomic_acquire_release   the same through AtomicClientPool's return
//                            stack (take_all + release + acquire + push)
//   contended_release        4 threads returning slots at once to one
//                            acquirer: TSC ticks per push, p50/p99
//
// Single-threaded rows report ns/op (Google Benchmark's time) and tsc/op:
// invariant-TSC ticks per operation (rdtsc around the whole loop), which are
// reference cycles at the TSC's rate (tsc_GHz), not core cycles. The
// contended row reports quantiles of the ticks each push took, timer
// included (timer_p50: the same timer around nothing).
//
//   bazel run --config=bench //bench/pool:pool_bench
#include <chrono>
#include <cstdint>
#include <thread>

#include "bench/pool/pool_workloads.h"
#include "bench/pool/tsc.h"
#include "benchmark/benchmark.h"

namespace tern::pool::bench {
namespace {

template <class Cycle>
void cycle(benchmark::State& state) {
  Cycle work(static_cast<std::size_t>(state.range(0)), state.range(1) != 0);
  time_cycles(state, work);
}

void contended_release(benchmark::State& state) {
  const int holders = static_cast<int>(state.range(0));
  for (auto _ : state) {
    ContendedResult r = contended_returns(holders, 16, 200'000);
    state.counters["p50"] = static_cast<double>(quantile(r.push_ticks, 0.50));
    state.counters["p90"] = static_cast<double>(quantile(r.push_ticks, 0.90));
    state.counters["p99"] = static_cast<double>(quantile(r.push_ticks, 0.99));
    state.counters["p999"] = static_cast<double>(quantile(r.push_ticks, 0.999));
    state.counters["timer_p50"] = static_cast<double>(quantile(r.empty_ticks, 0.50));
    state.counters["pushes"] = static_cast<double>(r.push_ticks.size());
    state.counters["tsc_GHz"] = tsc_ghz();
  }
}

BENCHMARK_TEMPLATE(cycle, PolicyCycle)
    ->Name("policy_acquire_release")
    ->ArgNames({"slots", "idle_age"})
    ->ArgsProduct({{4, 64}, {0, 1}});
BENCHMARK_TEMPLATE(cycle, AtomicCycle)
    ->Name("atomic_acquire_release")
    ->ArgNames({"slots", "idle_age"})
    ->ArgsProduct({{4}, {0, 1}});
BENCHMARK(contended_release)->ArgName("holders")->Arg(4)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tern::pool::bench
