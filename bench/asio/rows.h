// File: rows.h
//
// What the Asio loopback benchmark's rows share (bench/asio): a Run (one
// row's timing and allocations), the Recorder that times asynchronous round
// trips, and the Beast row, which lives in its own translation unit because
// Boost.Asio 1.74 and standalone Asio 1.22 cannot share one. Benchmark use
// only.
#ifndef TERN_BENCH_ASIO_ROWS_H_
#define TERN_BENCH_ASIO_ROWS_H_

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

#include "bench/support/loopback.h"
#include "tests/asio/malloc_counter.h"
#include "tests/support/alloc_counter.h"

namespace tern::bench::asio_rows {

// One run of one row.
struct Run {
  double p50_us = 0, p99_us = 0, per_sec = 0, allocs = 0, mallocs = 0;
};

// The WebSocket frame sizes on the wire: client frames are masked.
inline std::size_t client_frame(std::size_t n) { return n + (n < 126 ? 2 : 4) + 4; }
inline std::size_t server_frame(std::size_t n) { return n + (n < 126 ? 2 : 4); }

inline double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

inline Run summarize(std::vector<double>& us, double seconds, std::size_t allocations, std::size_t mallocs) {
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[us.size() * 99 / 100], us.size() / seconds,
          static_cast<double>(allocations) / static_cast<double>(us.size()),
          static_cast<double>(mallocs) / static_cast<double>(us.size())};
}

// Times a blocking round trip after rounds/10 warm-ups.
inline Run measure(int rounds, const std::function<void()>& round_trip) {
  for (int i = 0; i < rounds / 10; ++i) round_trip();
  std::vector<double> us(rounds);
  tern::testing::AllocCounter count;
  tern::asio::testing::MallocCounter c_count;
  const auto start = Clock::now();
  for (int i = 0; i < rounds; ++i) {
    const auto t0 = Clock::now();
    round_trip();
    us[i] = micros(Clock::now() - t0);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summarize(us, seconds, count.allocations(), c_count.mallocs());
}

// An asynchronous round-trip driver: next() starts a round and returns when
// the client has its reply; rounds/10 warm-ups are not recorded.
struct Recorder {
  explicit Recorder(int rounds) : rounds(rounds), us(rounds) {}
  // Called when a round starts; false when all are done.
  bool begin() {
    if (i == 0) {
      start = Clock::now();
      count.emplace();
      c_count.emplace();
    }
    if (i >= rounds) return false;
    t0 = Clock::now();
    return true;
  }
  void end() {
    if (i >= 0) us[i] = micros(Clock::now() - t0);
    ++i;
    if (i == rounds) {
      allocations = count->allocations();
      mallocs = c_count->mallocs();
      seconds = std::chrono::duration<double>(Clock::now() - start).count();
    }
  }
  Run result() { return summarize(us, seconds, allocations, mallocs); }

  int rounds;
  int i = 0;
  std::vector<double> us;
  Clock::time_point t0, start;
  std::optional<tern::testing::AllocCounter> count;
  std::optional<tern::asio::testing::MallocCounter> c_count;
  std::size_t allocations = 0, mallocs = 0;
  double seconds = 0;
  void warm_up(int n) { i = -n; }
};

// Boost.Beast's asynchronous stream at both ends on one io_context thread.
Run beast_async(int rounds, std::size_t size);

}  // namespace tern::bench::asio_rows

#endif  // TERN_BENCH_ASIO_ROWS_H_
