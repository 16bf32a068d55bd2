// The pool driver on each backend (workloads in driver_workloads.h):
//
//   driver_acquire_release/B[_atomic]   try_acquire() + release through
//                      ClientPool (AtomicClientPool) on backend B, no I/O:
//                      ns and TSC ticks per cycle (compare pool_bench's
//                      policy_acquire_release: the difference is the driver)
//   requests/B/pool/connections:N       requests/s through a pool of N
//                      connections against PoolTestServer's canned JSON
//                      reply: N callers on an event loop, one on posix
//   requests/B/bare                     the same requests on one bare
//                      HttpConnection
//
// The server runs in this process (a thread per connection). The client
// (this thread) is pinned to CPU 0, the server's threads to CPU 0 too
// (split:0) or to CPU 1 (split:1): on this 2-vCPU VM, unpinned runs land in
// either placement at random and differ tenfold.
//
//   bazel build --config=bench //bench/pool:driver_bench
//   bazel-out/k8-opt-bench/bin/bench/pool/driver_bench
#include <pthread.h>
#include <sched.h>
#include <x86intrin.h>

#include <cstdint>

#include "backends/asio/backend.h"
#include "backends/epoll/backend.h"
#include "backends/posix/backend.h"
#include "bench/pool/driver_workloads.h"
#include "bench/pool/tsc.h"
#include "benchmark/benchmark.h"

namespace tern::pool::bench {
namespace {

template <typename Pool>
void driver_acquire_release(benchmark::State& state) {
  testing::PoolTestServer server;
  typename Pool::Context ctx;
  DriverCycle<Pool> work(ctx, server.url(), static_cast<std::size_t>(state.range(0)));
  time_cycles(state, work);
}

constexpr long kBatch = 2000;

// Pins this thread (the client's: the loop runs on it) to CPU 0 and
// returns the server's options: CPU 0 too (`split` false: every hand-off
// stays on one vCPU) or CPU 1 (a request crosses vCPUs, and waking an idle
// vCPU costs tens of microseconds on this VM). Left to the scheduler, runs
// land in either mode from one to the next.
testing::PoolTestServerOptions placed(bool split) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
  return {.cpu = split ? 1 : 0};
}

template <typename B>
void pool_requests(benchmark::State& state) {
  testing::PoolTestServer server(placed(state.range(1) != 0));
  typename B::Context ctx;
  PoolRequests<B> work(ctx, server.url(), static_cast<std::size_t>(state.range(0)));
  long done = 0;
  for (auto _ : state) done += work.run(kBatch);
  state.SetItemsProcessed(done);
  state.counters["callers"] = static_cast<double>(work.callers());
  state.counters["served"] = static_cast<double>(server.requests.load());
}

template <typename B>
void bare_requests(benchmark::State& state) {
  testing::PoolTestServer server(placed(state.range(0) != 0));
  typename B::Context ctx;
  BareRequests<B> work(ctx, server.url());
  long done = 0;
  for (auto _ : state) done += work.run(kBatch);
  state.SetItemsProcessed(done);
  state.counters["served"] = static_cast<double>(server.requests.load());
}

#define TERN_DRIVER_ROWS(B, name)                                                                          \
  BENCHMARK_TEMPLATE(driver_acquire_release, ClientPool<B>)->Name("driver_acquire_release/" name)->Arg(4); \
  BENCHMARK_TEMPLATE(driver_acquire_release, AtomicClientPool<B>)                                          \
      ->Name("driver_acquire_release/" name "_atomic")                                                     \
      ->Arg(4);                                                                                            \
  BENCHMARK_TEMPLATE(bare_requests, B)                                                                     \
      ->Name("requests/" name "/bare")                                                                     \
      ->ArgName("split")                                                                                   \
      ->DenseRange(0, 1)                                                                                   \
      ->UseRealTime()                                                                                      \
      ->Iterations(5);                                                                                     \
  BENCHMARK_TEMPLATE(pool_requests, B)                                                                     \
      ->Name("requests/" name "/pool")                                                                     \
      ->ArgNames({"connections", "split"})                                                                 \
      ->ArgsProduct({{1, 4, 8}, {0, 1}})                                                                   \
      ->UseRealTime()                                                                                      \
      ->Iterations(5)

TERN_DRIVER_ROWS(posix::Backend, "posix");
TERN_DRIVER_ROWS(epoll::Backend, "epoll");
TERN_DRIVER_ROWS(asio::Backend, "asio");

}  // namespace
}  // namespace tern::pool::bench
