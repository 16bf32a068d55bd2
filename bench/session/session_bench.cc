// The session's cost on each backend (the workloads are in
// session_workloads.h):
//
//   Bare/<backend>, Session/<backend>   ns per message of a 32-byte stream
//                                       read bare and through the session;
//                                       the difference is what the session
//                                       adds per message
//   ReconnectFloor/<backend>            Down (server Close 1001) to the
//                                       first data on the new connection:
//                                       retry at once, auth + 1 subscription
//                                       unpaced: connect, upgrade, replay
//   ReconnectPaced/<backend>            the same at the default 2/s pacing
//                                       (auth, then the subscription 0.5 s
//                                       later)
//   ServerReturn/<backend>              defaults; the server is killed and
//                                       back 2 s later: its return to the
//                                       first data (the backoff dominates)
//
//   bazel build --config=bench //bench/session:session_bench
//   bazel-out/k8-opt-bench/bin/bench/session/session_bench --benchmark_filter='Bare|Session/'
#include <chrono>
#include <cstdint>
#include <limits>

#include "backends/asio/backend.h"
#include "backends/epoll/backend.h"
#include "backends/posix/backend.h"
#include "bench/session/session_workloads.h"
#include "benchmark/benchmark.h"

namespace tern::session::bench {
namespace {

constexpr std::uint64_t kWarm = 200'000;
constexpr std::uint64_t kCount = 2'000'000;

struct ClockWindow : Window {
  void start() override { t0 = std::chrono::steady_clock::now(); }
  void stop() override { t1 = std::chrono::steady_clock::now(); }
  double seconds() const { return std::chrono::duration<double>(t1 - t0).count(); }
  std::chrono::steady_clock::time_point t0, t1;
};

template <typename Run>
void per_message(benchmark::State& state, Run run) {
  for (auto _ : state) {
    ClockWindow w;
    if (absl::Status st = run(w); !st.ok()) {
      state.SkipWithError(std::string(st.message()).c_str());
      return;
    }
    state.SetIterationTime(w.seconds());
    state.counters["ns/msg"] = w.seconds() * 1e9 / static_cast<double>(kCount);
  }
}

template <Backend B>
void BM_Bare(benchmark::State& state) {
  per_message(state, [](Window& w) { return run_bare<B>(kWarm, kCount, w); });
}
template <Backend B>
void BM_Session(benchmark::State& state) {
  per_message(state, [](Window& w) { return run_session<B>(kWarm, kCount, w); });
}

template <typename Once>
void reconnect(benchmark::State& state, Once once) {
  for (auto _ : state) {
    absl::StatusOr<absl::Duration> d = once();
    if (!d.ok()) {
      state.SkipWithError(std::string(d.status().message()).c_str());
      return;
    }
    state.SetIterationTime(absl::ToDoubleSeconds(*d));
    state.counters["ms"] = absl::ToDoubleMilliseconds(*d);
  }
}

SessionOptions retry_at_once() {
  SessionOptions o;
  o.policy.stable_after = absl::ZeroDuration();  // any connection has been up long enough
  o.policy.backoff_jitter = 0;                   // immediate retry: no spread
  return o;
}

template <Backend B>
void BM_ReconnectFloor(benchmark::State& state) {
  SessionOptions o = retry_at_once();
  o.policy.max_replay_rate = std::numeric_limits<double>::infinity();
  reconnect(state, [&] { return reconnect_once<B>(o, 1, Outage::GoingAway); });
}
template <Backend B>
void BM_ReconnectPaced(benchmark::State& state) {
  reconnect(state, [] { return reconnect_once<B>(retry_at_once(), 1, Outage::GoingAway); });
}
template <Backend B>
void BM_ServerReturn(benchmark::State& state) {
  reconnect(state, [] { return reconnect_once<B>(SessionOptions{}, 1, Outage::Down2s); });
}

#define TERN_SESSION_BENCH(B, name)                                                                       \
  BENCHMARK_TEMPLATE(BM_Bare, B)->Name("Bare/" name)->UseManualTime()->Iterations(1)->Repetitions(5);     \
  BENCHMARK_TEMPLATE(BM_Session, B)->Name("Session/" name)->UseManualTime()->Iterations(1)->Repetitions(5); \
  BENCHMARK_TEMPLATE(BM_ReconnectFloor, B)                                                                \
      ->Name("ReconnectFloor/" name)                                                                      \
      ->UseManualTime()                                                                                   \
      ->Iterations(1)                                                                                     \
      ->Repetitions(5);                                                                                   \
  BENCHMARK_TEMPLATE(BM_ReconnectPaced, B)                                                                \
      ->Name("ReconnectPaced/" name)                                                                      \
      ->UseManualTime()                                                                                   \
      ->Iterations(1)                                                                                     \
      ->Repetitions(3);                                                                                   \
  BENCHMARK_TEMPLATE(BM_ServerReturn, B)->Name("ServerReturn/" name)->UseManualTime()->Iterations(1)->Repetitions(3)

TERN_SESSION_BENCH(posix::Backend, "posix");
TERN_SESSION_BENCH(epoll::Backend, "epoll");
TERN_SESSION_BENCH(asio::Backend, "asio");

}  // namespace
}  // namespace tern::session::bench
