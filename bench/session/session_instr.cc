// Instruction counts for callgrind: the client side of one per-message
// workload of session_workloads.h (bare or session, on one backend),
// collecting only while messages warm .. warm + COUNT are read:
//
//   valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=/dev/null
//       bazel-out/k8-opt-bench/bin/bench/session/session_instr epoll session 200000
//
// (one command line) prints COUNT; valgrind's "Collected" over it is
// instructions per message. The server thread's few instructions per 64 KiB
// write are collected too, the same for both. bench/session/session_instr.sh
// runs the table.
#include <valgrind/callgrind.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "backends/asio/backend.h"
#include "backends/epoll/backend.h"
#include "backends/posix/backend.h"
#include "bench/session/session_workloads.h"

namespace {

struct CallgrindWindow : tern::session::bench::Window {
  void start() override { CALLGRIND_TOGGLE_COLLECT; }
  void stop() override { CALLGRIND_TOGGLE_COLLECT; }
};

template <typename B>
absl::Status run(bool session, std::uint64_t count) {
  using namespace tern::session::bench;
  CallgrindWindow w;
  const std::uint64_t warm = count / 10 + 1000;
  return session ? run_session<B>(warm, count, w) : run_bare<B>(warm, count, w);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view backend = argc > 1 ? argv[1] : "";
  const std::string_view mode = argc > 2 ? argv[2] : "";
  if (argc != 4 || (mode != "bare" && mode != "session")) {
    std::fprintf(stderr, "usage: %s posix|epoll|asio bare|session COUNT\n", argv[0]);
    return 2;
  }
  const std::uint64_t count = std::strtoull(argv[3], nullptr, 10);
  const bool session = mode == "session";
  absl::Status st;
  if (backend == "posix") {
    st = run<tern::posix::Backend>(session, count);
  } else if (backend == "epoll") {
    st = run<tern::epoll::Backend>(session, count);
  } else if (backend == "asio") {
    st = run<tern::asio::Backend>(session, count);
  } else {
    std::fprintf(stderr, "unknown backend\n");
    return 2;
  }
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
    return 1;
  }
  std::printf("%llu\n", static_cast<unsigned long long>(count));
  return 0;
}
