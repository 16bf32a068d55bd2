// File: tsc.h
//
// The invariant TSC's rate in GHz, measured once against steady_clock over
// 200 ms, and the timed loop of the pool benchmarks that report TSC ticks
// per operation beside ns (TSC reference cycles, not core cycles: this VM
// has no hardware counters).
#ifndef TERN_BENCH_POOL_TSC_H_
#define TERN_BENCH_POOL_TSC_H_

#include <x86intrin.h>

#include <chrono>
#include <cstdint>
#include <thread>

#include "benchmark/benchmark.h"

namespace tern::pool::bench {

inline double tsc_ghz() {
  static const double ghz = [] {
    const auto c0 = std::chrono::steady_clock::now();
    const std::uint64_t t0 = __rdtsc();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::uint64_t t1 = __rdtsc();
    const std::chrono::duration<double, std::nano> ns = std::chrono::steady_clock::now() - c0;
    return static_cast<double>(t1 - t0) / ns.count();
  }();
  return ghz;
}

// Runs work.run() once per benchmark iteration (false: nothing was handed
// out, a bug) and reports tsc/op and tsc_GHz.
template <class Work>
void time_cycles(benchmark::State& state, Work& work) {
  const std::uint64_t t0 = __rdtsc();
  for (auto _ : state) {
    if (!work.run()) {
      state.SkipWithError("nothing was handed out");
      return;
    }
  }
  const std::uint64_t t1 = __rdtsc();
  state.counters["tsc/op"] = static_cast<double>(t1 - t0) / static_cast<double>(state.iterations());
  state.counters["tsc_GHz"] = tsc_ghz();
}

}  // namespace tern::pool::bench

#endif  // TERN_BENCH_POOL_TSC_H_
