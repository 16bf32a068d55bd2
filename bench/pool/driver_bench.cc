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
// The server runs in this process (a thread per connection): on a 2-vCPU
// machine the requests/s rows measure client and server sharing it.
//
//   bazel build --config=bench //bench/pool:driver_bench
//   bazel-out/k8-opt-bench/bin/bench/pool/driver_bench
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

template <typename B>
void pool_requests(benchmark::State& state) {
  testing::PoolTestServer server;
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
  testing::PoolTestServer server;
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
  BENCHMARK_TEMPLATE(bare_requests, B)->Name("requests/" name "/bare")->UseRealTime()->Iterations(5);     \
  BENCHMARK_TEMPLATE(pool_requests, B)                                                                     \
      ->Name("requests/" name "/pool")                                                                     \
      ->ArgName("connections")                                                                             \
      ->Arg(1)                                                                                             \
      ->Arg(4)                                                                                             \
      ->Arg(8)                                                                                             \
      ->UseRealTime()                                                                                      \
      ->Iterations(5)

TERN_DRIVER_ROWS(posix::Backend, "posix");
TERN_DRIVER_ROWS(epoll::Backend, "epoll");
TERN_DRIVER_ROWS(asio::Backend, "asio");

}  // namespace
}  // namespace tern::pool::bench
