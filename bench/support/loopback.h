// File: loopback.h
//
// What the loopback round-trip benchmarks share (bench/posix, bench/epoll):
// a connected TCP pair on 127.0.0.1 with NODELAY, blocking send/recv of an
// exact byte count, and the timing of N round trips into a Row (p50, p99,
// round trips per second), and a connected pair of tern posix WebSockets.
// Benchmark use only; failures exit.
#ifndef TERN_BENCH_SUPPORT_LOOPBACK_H_
#define TERN_BENCH_SUPPORT_LOOPBACK_H_

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backends/posix/socket.h"
#include "backends/posix/websocket.h"

namespace tern::bench {

using Clock = std::chrono::steady_clock;

struct Row {
  std::string name;
  std::string floor;  // the row it is compared with, if any
  double p50_us = 0, p99_us = 0, per_sec = 0;
  double syscalls = 0;  // per round trip, where counted
};

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "bench: %s\n", what);
  std::exit(1);
}

// Sorts `us` (one entry per round trip) into a Row.
inline Row summarize(std::string name, std::string floor, std::vector<double>& us, double seconds) {
  std::sort(us.begin(), us.end());
  return {std::move(name), std::move(floor), us[us.size() / 2], us[us.size() * 99 / 100], us.size() / seconds};
}

// Times `rounds` calls of one blocking round trip after rounds/10 warm-ups.
inline Row measure(const std::string& name, const std::string& floor, int rounds,
                   const std::function<void()>& round_trip) {
  for (int i = 0; i < rounds / 10; ++i) round_trip();
  std::vector<double> us(rounds);
  const auto start = Clock::now();
  for (int i = 0; i < rounds; ++i) {
    const auto t0 = Clock::now();
    round_trip();
    us[i] = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  }
  return summarize(name, floor, us, std::chrono::duration<double>(Clock::now() - start).count());
}

// A connected TCP pair on loopback with NODELAY on both ends (owned fds).
inline std::pair<int, int> tcp_pair() {
  auto l = posix::Listener::bind("127.0.0.1", 0);
  if (!l.ok()) die("bind");
  auto c = posix::Socket::connect("127.0.0.1", l->port(), {});
  auto s = l->accept();
  if (!c.ok() || !s.ok()) die("connect");
  return {::dup(c->fd()), ::dup(s->fd())};
}

inline void send_all(int fd, const void* p, std::size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t k = ::send(fd, c, n, MSG_NOSIGNAL);
    if (k <= 0) die("send");
    c += k;
    n -= static_cast<std::size_t>(k);
  }
}

inline void recv_all(int fd, void* p, std::size_t n) {
  char* c = static_cast<char*>(p);
  while (n > 0) {
    const ssize_t k = ::recv(fd, c, n, 0);
    if (k <= 0) die("recv");
    c += k;
    n -= static_cast<std::size_t>(k);
  }
}

// A tern posix WebSocket client and the server end it connected to.
struct PosixWsPair {
  posix::WebSocket client;
  posix::WebSocket server;
};
inline PosixWsPair posix_ws_pair() {
  auto l = posix::Listener::bind("127.0.0.1", 0);
  if (!l.ok()) die("bind");
  std::optional<posix::WebSocket> server;
  std::thread accepter([&] {
    auto s = l->accept();
    if (!s.ok()) die("accept");
    auto w = posix::WebSocket::accept(*std::move(s));
    if (!w.ok()) die("ws accept");
    server.emplace(*std::move(w));
  });
  auto client = posix::WebSocket::connect("ws://127.0.0.1:" + std::to_string(l->port()) + "/");
  accepter.join();
  if (!client.ok()) die("ws connect");
  return {*std::move(client), *std::move(server)};
}

}  // namespace tern::bench

#endif  // TERN_BENCH_SUPPORT_LOOPBACK_H_
