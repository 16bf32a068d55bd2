// Timer wheel vs binary heap: ns per operation for insert, cancel, postpone
// (the read-deadline push, alone and with the loop's advance() included),
// expiry, and advance() with nothing due, at 10 and 10,000 armed timers.
// The workloads and both implementations are in timer_workloads.h.
//
// Each benchmark iteration is one batch of 1024 operations whose timed part
// is measured with steady_clock (manual time); the counter ns/op is the
// timed nanoseconds over the operations done.
//
//   bazel run --config=bench //bench/epoll:timer_bench
#include <chrono>
#include <cstddef>
#include <string>

#include "bench/epoll/timer_workloads.h"
#include "benchmark/benchmark.h"

namespace tern::epoll::bench {
namespace {

template <class Work>
void run(benchmark::State& state) {
  Work work(static_cast<std::size_t>(state.range(0)));
  double ns = 0;
  std::size_t ops = 0;
  for (auto _ : state) {
    work.prepare();
    const auto start = std::chrono::steady_clock::now();
    const std::size_t done = work.timed();
    const auto stop = std::chrono::steady_clock::now();
    if (done == 0) {
      state.SkipWithError("the batch did not do its work");
      return;
    }
    const std::chrono::duration<double, std::nano> elapsed = stop - start;
    state.SetIterationTime(elapsed.count() * 1e-9);
    ns += elapsed.count();
    ops += done;
  }
  state.counters["ns/op"] = ns / static_cast<double>(ops);
}

template <template <class> class Work>
void add() {
  for (const int population : {10, 10'000}) {
    using Wheel = Work<WheelTimers>;
    using Heap = Work<HeapTimers>;
    for (auto* b : {benchmark::RegisterBenchmark(
                        (std::string(Wheel::kName) + "/wheel").c_str(), run<Wheel>),
                    benchmark::RegisterBenchmark(
                        (std::string(Heap::kName) + "/heap").c_str(), run<Heap>)}) {
      b->Arg(population)->UseManualTime();
    }
  }
}

template <class T> using PostponeOnly = Postpone<T, false>;
template <class T> using ReadDeadline = Postpone<T, true>;
template <class T> using IdleTick = AdvanceIdle<T, kMs>;
template <class T> using IdleSubTick = AdvanceIdle<T, kUs>;

const int registered = [] {
  add<Insert>();
  add<Cancel>();
  add<PostponeOnly>();
  add<ReadDeadline>();
  add<Expire>();
  add<IdleTick>();
  add<IdleSubTick>();
  return 0;
}();

}  // namespace
}  // namespace tern::epoll::bench
