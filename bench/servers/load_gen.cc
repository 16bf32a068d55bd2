// Load generator for the many-connection echo benchmark: N WebSocket
// clients on one tern epoll loop, each in a closed loop (send one binary
// message, wait for its echo, repeat), for a warm-up and then a measured
// window. Prints one line: "messages M seconds S p50_us A p99_us B".
//
//   load_gen PORT CONNECTIONS SIZE SECONDS [WARMUP_SECONDS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "backends/epoll/event_loop.h"
#include "backends/epoll/websocket.h"

using namespace tern::epoll;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 5) return 2;
  const std::string url = std::string("ws://127.0.0.1:") + argv[1] + "/";
  const int connections = std::atoi(argv[2]);
  const std::size_t size = std::strtoul(argv[3], nullptr, 10);
  const double seconds = std::atof(argv[4]);
  const double warmup = argc > 5 ? std::atof(argv[5]) : 1.0;
  EventLoop loop;
  int open = 0, failed = 0;
  bool measuring = false, done = false;
  std::uint64_t messages = 0;
  std::vector<float> latency_us;
  latency_us.reserve(40'000'000);
  const std::vector<std::uint8_t> payload(size, 'x');
  for (int c = 0; c < connections; ++c) {
    loop.spawn([&]() -> Task<absl::Status> {
      WebSocketOptions o;
      o.limits = {1 << 16, 1 << 16};
      o.write_buffer_size = 1 << 16;
      absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, url, o);
      if (!ws.ok()) {
        ++failed;
        co_return ws.status();
      }
      ++open;
      while (open + failed < connections) co_await loop.sleep_for(absl::Milliseconds(1));
      while (!done) {
        const auto t0 = Clock::now();
        if (!(co_await ws->send_binary(payload)).ok()) break;
        absl::StatusOr<tern::ws::Message> m = co_await ws->recv();
        if (!m.ok()) break;
        if (measuring) {
          ++messages;
          if (latency_us.size() < latency_us.capacity()) {
            latency_us.push_back(std::chrono::duration<float, std::micro>(Clock::now() - t0).count());
          }
        }
      }
      co_return absl::OkStatus();
    });
  }
  loop.run_until([&] { return open + failed == connections; });
  if (failed > 0) {
    std::fprintf(stderr, "load_gen: %d connections failed\n", failed);
    return 1;
  }
  loop.run_for(absl::Seconds(warmup));
  std::fprintf(stderr, "measuring\n");  // the driver reads the server's CPU time now
  std::fflush(stderr);
  measuring = true;
  const auto start = Clock::now();
  loop.run_for(absl::Seconds(seconds));
  measuring = false;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  done = true;
  std::sort(latency_us.begin(), latency_us.end());
  const double p50 = latency_us.empty() ? 0 : latency_us[latency_us.size() / 2];
  const double p99 = latency_us.empty() ? 0 : latency_us[latency_us.size() * 99 / 100];
  std::printf("messages %llu seconds %.3f p50_us %.1f p99_us %.1f\n", static_cast<unsigned long long>(messages),
              elapsed, p50, p99);
  std::fflush(stdout);
  return 0;
}
