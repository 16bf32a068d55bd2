// File: pool_workloads.h
//
// The pool work that pool_bench times and pool_instr counts:
//
//   PolicyCycle   one try_acquire() + release() of ClientPool's policy, as
//                 its driver calls them (the usable() check is the
//                 driver's, here a constant true).
//   AtomicCycle   the same through AtomicClientPool's return path: the
//                 acquirer takes what came back (take_all), releases it into
//                 the policy and acquires; the holder pushes the slot back.
//                 One thread plays both parts, so no contention.
//   contended_returns()  four (or k) holder threads return slots at once to
//                 one acquirer thread that hands them out again; each push
//                 is timed with the TSC.
//
// `now` comes from a table of times 1 us apart (a driver reads its clock
// once per call; the clock's own cost is not the pool's).
#ifndef TERN_BENCH_POOL_POOL_WORKLOADS_H_
#define TERN_BENCH_POOL_POOL_WORKLOADS_H_

#include <x86intrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "backends/pool/pool_policy.h"
#include "backends/pool/return_stack.h"

namespace tern::pool::bench {

constexpr auto kAlive = [](std::size_t) noexcept { return true; };

class Clock {
 public:
  Clock() {
    for (std::size_t i = 0; i < kTimes; ++i) times_[i] = absl::UnixEpoch() + absl::Hours(1) + absl::Microseconds(i);
  }
  absl::Time next() noexcept { return times_[i_++ & (kTimes - 1)]; }

 private:
  static constexpr std::size_t kTimes = 1024;
  std::array<absl::Time, kTimes> times_;
  std::size_t i_ = 0;
};

inline PoolPolicy built_policy(std::size_t slots, bool idle_limited) {
  PoolConfig c;
  c.connections = slots;
  c.seed = 1;
  if (idle_limited) c.max_idle_age = absl::Seconds(30);
  PoolPolicy p = *PoolPolicy::create(c);
  const absl::Time t = absl::UnixEpoch() + absl::Hours(1);
  p.begin_build(t);
  for (std::size_t i = 0; i < slots; ++i) p.on_connected(i, t);
  return p;
}

class PolicyCycle {
 public:
  PolicyCycle(std::size_t slots, bool idle_limited) : policy_(built_policy(slots, idle_limited)) {}
  // One acquire + release; false if nothing was handed out (a bug here).
  bool run() noexcept {
    const absl::Time now = clock_.next();
    const std::optional<std::size_t> slot = policy_.try_acquire(now, kAlive);
    if (!slot.has_value()) return false;
    policy_.release(*slot, now);
    return true;
  }

 private:
  PoolPolicy policy_;
  Clock clock_;
};

class AtomicCycle {
 public:
  AtomicCycle(std::size_t slots, bool idle_limited)
      : policy_(built_policy(slots, idle_limited)), returns_(slots) {}
  bool run() noexcept {
    const absl::Time now = clock_.next();
    // The acquirer: what came back first, then the hand-out.
    ReturnStack::Batch back = returns_.take_all();
    for (std::uint32_t s = back.pop(); s != ReturnStack::kEmpty; s = back.pop()) policy_.release(s, now);
    const std::optional<std::size_t> slot = policy_.try_acquire(now, kAlive);
    if (!slot.has_value()) return false;
    // The holder, done with it.
    returns_.push(static_cast<std::uint32_t>(*slot));
    return true;
  }

 private:
  PoolPolicy policy_;
  ReturnStack returns_;
  Clock clock_;
};

inline std::uint64_t tsc_begin() noexcept {
  _mm_lfence();
  const std::uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
}
inline std::uint64_t tsc_end() noexcept {
  unsigned aux;
  const std::uint64_t t = __rdtscp(&aux);
  _mm_lfence();
  return t;
}

struct ContendedResult {
  std::vector<std::uint64_t> push_ticks;   // one per push, TSC ticks, timer included
  std::vector<std::uint64_t> empty_ticks;  // the same timer around nothing
  std::uint64_t handed_out = 0;
};

// `holders` threads each start with `slots_per_holder` slots and push them
// back one at a time, `pushes_per_holder` times in all, timing each push;
// the calling thread is the acquirer: it takes what came back, releases it
// into a PoolPolicy, acquires every free slot and hands each to its owner
// through the owner's own ReturnStack. A holder with no slot waits for one.
inline ContendedResult contended_returns(int holders, std::uint32_t slots_per_holder, int pushes_per_holder) {
  const std::uint32_t slots = static_cast<std::uint32_t>(holders) * slots_per_holder;
  PoolPolicy policy = built_policy(slots, false);
  const absl::Time now = absl::UnixEpoch() + absl::Hours(1);
  // The holders start with every slot.
  while (policy.try_acquire(now, kAlive).has_value()) {
  }
  ReturnStack returns(slots);
  std::vector<std::unique_ptr<ReturnStack>> mailbox;
  for (int h = 0; h < holders; ++h) mailbox.push_back(std::make_unique<ReturnStack>(slots));
  std::vector<std::vector<std::uint64_t>> ticks(static_cast<std::size_t>(holders));
  std::vector<std::uint64_t> empty;
  std::atomic<int> ready{0};
  std::atomic<int> finished{0};

  std::vector<std::thread> threads;
  for (int h = 0; h < holders; ++h) {
    threads.emplace_back([&, h] {
      std::vector<std::uint64_t>& mine = ticks[static_cast<std::size_t>(h)];
      mine.reserve(static_cast<std::size_t>(pushes_per_holder));
      std::vector<std::uint32_t> held;
      for (std::uint32_t i = 0; i < slots_per_holder; ++i) held.push_back(static_cast<std::uint32_t>(h) * slots_per_holder + i);
      ready.fetch_add(1);
      while (ready.load() < holders) {
      }
      while (mine.size() < static_cast<std::size_t>(pushes_per_holder)) {
        if (held.empty()) {
          ReturnStack::Batch b = mailbox[static_cast<std::size_t>(h)]->take_all();
          for (std::uint32_t s = b.pop(); s != ReturnStack::kEmpty; s = b.pop()) held.push_back(s);
          if (held.empty()) std::this_thread::yield();
          continue;
        }
        const std::uint32_t s = held.back();
        held.pop_back();
        const std::uint64_t t0 = tsc_begin();
        returns.push(s);
        const std::uint64_t t1 = tsc_end();
        mine.push_back(t1 - t0);
      }
      finished.fetch_add(1);
    });
  }
  ContendedResult r;
  while (finished.load(std::memory_order_relaxed) < holders) {
    ReturnStack::Batch b = returns.take_all();
    if (b.empty()) {
      std::this_thread::yield();
      continue;
    }
    for (std::uint32_t s = b.pop(); s != ReturnStack::kEmpty; s = b.pop()) policy.release(s, now);
    while (const std::optional<std::size_t> s = policy.try_acquire(now, kAlive)) {
      mailbox[*s / slots_per_holder]->push(static_cast<std::uint32_t>(*s));
      ++r.handed_out;
    }
  }
  for (std::thread& t : threads) t.join();
  for (const auto& mine : ticks) r.push_ticks.insert(r.push_ticks.end(), mine.begin(), mine.end());
  r.empty_ticks.reserve(100'000);
  for (int i = 0; i < 100'000; ++i) {
    const std::uint64_t t0 = tsc_begin();
    const std::uint64_t t1 = tsc_end();
    r.empty_ticks.push_back(t1 - t0);
  }
  return r;
}

// The q-quantile (0..1) of `v`, which it sorts.
inline std::uint64_t quantile(std::vector<std::uint64_t>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace tern::pool::bench

#endif  // TERN_BENCH_POOL_POOL_WORKLOADS_H_
