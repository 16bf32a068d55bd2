// Instruction counts for callgrind: `ops` try_acquire + release cycles
// through the pool driver (driver_workloads.h: DriverCycle) on one backend,
// collected around those cycles only (not the server, the build or the
// warm-up). Its own binary, so that the backends' headers do not change
// how pool_instr's policy cycles compile:
//
//   valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null
//       bazel-out/k8-opt-bench/bin/bench/pool/driver_instr epoll pool 100000
//
// (one command line) prints the cycles done; valgrind's "Collected" over
// that is instructions per cycle. bench/pool/instr.sh runs the table.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "backends/asio/backend.h"
#include "backends/epoll/backend.h"
#include "backends/posix/backend.h"
#include "bench/pool/callgrind_collect.h"
#include "bench/pool/driver_workloads.h"

namespace tern::pool::bench {
namespace {

template <typename Pool>
long run(long ops) {
  testing::PoolTestServer server;
  typename Pool::Context ctx;
  DriverCycle<Pool> work(ctx, server.url(), 4);
  return collect(ops, [&] { return work.run(); });
}

template <typename B>
long run_for(const std::string& pool, long ops) {
  if (pool == "pool") return run<ClientPool<B>>(ops);
  if (pool == "atomic") return run<AtomicClientPool<B>>(ops);
  return -1;
}

}  // namespace
}  // namespace tern::pool::bench

int main(int argc, char** argv) {
  using tern::pool::bench::run_for;
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s posix|epoll|asio pool|atomic OPS\n", argv[0]);
    return 2;
  }
  const std::string backend = argv[1];
  const std::string kind = argv[2];
  const long ops = std::atol(argv[3]);
  long done = -1;
  if (backend == "posix") done = run_for<tern::posix::Backend>(kind, ops);
  if (backend == "epoll") done = run_for<tern::epoll::Backend>(kind, ops);
  if (backend == "asio") done = run_for<tern::asio::Backend>(kind, ops);
  if (done < 0) {
    std::fprintf(stderr, "unknown backend or pool\n");
    return 2;
  }
  std::printf("%ld\n", done);
  return 0;
}
