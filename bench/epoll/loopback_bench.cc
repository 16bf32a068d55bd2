// Loopback WebSocket echo, one connection, both ends in ONE thread, for the
// epoll backend beside its floors and peers, all in the same run:
//
//   raw           bare blocking send/recv moving the same bytes (the posix
//                 bench's floor): no event loop at all;
//   epoll_raw     bare edge-triggered epoll moving the same bytes: send,
//                 epoll_wait, recv per leg, the least an event loop does
//                 when the peer's bytes arrive while it waits;
//   tern_posix    tern's blocking backend at both ends;
//   tern_epoll    tern's epoll backend at both ends on one EventLoop (and
//                 with busy polling);
//   beast_async   Boost.Beast's asynchronous websocket stream at both ends
//                 on one io_context thread (Debian's Boost 1.74).
//
// Prints p50/p99 round trip, round trips/s, time added over each floor, and
// for tern epoll the syscalls per round trip it counted.
//
//   bazel run --config=bench //bench/epoll:loopback_bench -- [rounds] [repeats] [row]
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>  // before Boost: Beast 1.74 uses std::exchange unannounced
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "backends/epoll/event_loop.h"
#include "backends/epoll/socket.h"
#include "backends/epoll/websocket.h"
#include "backends/posix/socket.h"
#include "backends/posix/websocket.h"
#include "bench/support/beast_pair.h"
#include "bench/support/loopback.h"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;

using tern::bench::Clock;
using tern::bench::Row;
using tern::bench::die;
using tern::bench::recv_all;
using tern::bench::send_all;
using tern::bench::tcp_pair;

std::vector<Row> rows;

Row summarize(std::string name, std::vector<double>& us, double seconds) {
  return tern::bench::summarize(std::move(name), "", us, seconds);
}

void measure(const std::string& name, int rounds, const std::function<void()>& round_trip) {
  rows.push_back(tern::bench::measure(name, "", rounds, round_trip));
}

// The WebSocket frame sizes on the wire: client frames are masked.
std::size_t client_frame(std::size_t n) { return n + (n < 126 ? 2 : 4) + 4; }
std::size_t server_frame(std::size_t n) { return n + (n < 126 ? 2 : 4); }

void raw(int rounds, std::size_t size) {
  auto [c, s] = tcp_pair();
  std::vector<char> a(client_frame(size), 'x'), b(a.size());
  measure("ws_echo_" + std::to_string(size) + "/raw", rounds, [&, c = c, s = s] {
    send_all(c, a.data(), client_frame(size));
    recv_all(s, b.data(), client_frame(size));
    send_all(s, b.data(), server_frame(size));
    recv_all(c, a.data(), server_frame(size));
  });
  ::close(c);
  ::close(s);
}

// What any epoll loop must do per leg when the bytes arrive while it waits.
void epoll_raw(int rounds, std::size_t size) {
  auto [c, s] = tcp_pair();
  const int ep = ::epoll_create1(0);
  for (int fd : {c, s}) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.fd = fd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  std::vector<char> a(client_frame(size), 'x'), b(a.size());
  auto wait_for = [&](int fd) {
    epoll_event ev[2];
    for (;;) {
      const int n = ::epoll_wait(ep, ev, 2, -1);
      for (int i = 0; i < n; ++i) {
        if (ev[i].data.fd == fd) return;
      }
    }
  };
  measure("ws_echo_" + std::to_string(size) + "/epoll_raw", rounds, [&, c = c, s = s] {
    send_all(c, a.data(), client_frame(size));
    wait_for(s);
    recv_all(s, b.data(), client_frame(size));
    send_all(s, b.data(), server_frame(size));
    wait_for(c);
    recv_all(c, a.data(), server_frame(size));
  });
  ::close(ep);
  ::close(c);
  ::close(s);
}

void tern_posix(int rounds, std::size_t size) {
  auto [client_ws, server_ws] = tern::bench::posix_ws_pair();
  auto* client = &client_ws;
  auto* server = &server_ws;
  const std::vector<std::uint8_t> payload(size, 'x');
  measure("ws_echo_" + std::to_string(size) + "/tern_posix", rounds, [&] {
    if (!client->send_binary(payload).ok()) die("tern send");
    auto m = server->recv();
    if (!m.ok()) die("tern server recv");
    if (!server->send_binary(m->payload).ok()) die("tern server send");
    auto back = client->recv();
    if (!back.ok() || back->payload.size() != size) die("tern client recv");
  });
}

void tern_epoll(int rounds, std::size_t size, absl::Duration busy_poll) {
  using namespace tern::epoll;
  EventLoop loop({.busy_poll = busy_poll});
  auto listener = Listener::bind(loop, "127.0.0.1", 0);
  if (!listener.ok()) die("bind");
  std::optional<WebSocket> server;
  std::uint64_t server_calls = 0;
  loop.spawn([&]() -> Task<absl::Status> {
    absl::StatusOr<Socket> s = co_await listener->accept();
    if (!s.ok()) co_return s.status();
    absl::StatusOr<WebSocket> ws = co_await WebSocket::accept(loop, *std::move(s));
    if (!ws.ok()) co_return ws.status();
    server.emplace(*std::move(ws));
    for (;;) {
      absl::StatusOr<tern::ws::Message> m = co_await server->recv();
      if (!m.ok()) break;
      if (m->opcode != tern::ws::Opcode::Binary) continue;
      if (!(co_await server->send_binary(m->payload)).ok()) break;
    }
    server_calls = server->read_calls() + server->write_calls();
    co_return absl::OkStatus();
  });
  std::vector<double> us(rounds);
  double seconds = 0, syscalls = 0;
  const std::string url = "ws://127.0.0.1:" + std::to_string(listener->port()) + "/";
  loop.spawn([&]() -> Task<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, url);
    if (!ws.ok()) die("epoll connect");
    const std::vector<std::uint8_t> payload(size, 'x');
    for (int i = 0; i < rounds / 10; ++i) {
      (void)co_await ws->send_binary(payload);
      (void)co_await ws->recv();
    }
    const std::uint64_t calls0 = ws->read_calls() + ws->write_calls() +
                                 (server ? server->read_calls() + server->write_calls() : 0);
    const std::uint64_t rounds0 = loop.rounds();
    const auto start = Clock::now();
    for (int i = 0; i < rounds; ++i) {
      const auto t0 = Clock::now();
      if (!(co_await ws->send_binary(payload)).ok()) die("epoll send");
      absl::StatusOr<tern::ws::Message> m = co_await ws->recv();
      if (!m.ok() || m->payload.size() != size) die("epoll recv");
      us[i] = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    }
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const std::uint64_t calls1 = ws->read_calls() + ws->write_calls() + server->read_calls() + server->write_calls();
    syscalls = static_cast<double>(calls1 - calls0 + (loop.rounds() - rounds0)) / rounds;
    (void)co_await ws->close();
    listener->close();
    co_return absl::OkStatus();
  });
  loop.run();
  Row r = summarize("ws_echo_" + std::to_string(size) + (busy_poll > absl::ZeroDuration() ? "/tern_epoll_busy" : "/tern_epoll"),
                    us, seconds);
  r.syscalls = syscalls;
  rows.push_back(r);
  (void)server_calls;
}

// Beast's asynchronous stream at both ends on one io_context thread.
void beast_async(int rounds, std::size_t size) {
  net::io_context ioc(1);
  tern::bench::BeastPair pair(ioc);
  auto& client = pair.client;
  auto& server = pair.server;
  const std::vector<std::uint8_t> payload(size, 'x');
  beast::flat_buffer server_buf, client_buf;
  std::vector<double> us(rounds);
  const int warm = rounds / 10;
  int i = -warm;
  Clock::time_point t0, start;
  std::function<void()> server_read = [&] {
    server->async_read(server_buf, [&](beast::error_code ec, std::size_t) {
      if (ec) return;
      server->async_write(server_buf.data(), [&](beast::error_code ec2, std::size_t) {
        if (ec2) return;
        server_buf.consume(server_buf.size());
        server_read();
      });
    });
  };
  std::function<void()> client_round = [&] {
    if (i == 0) start = Clock::now();
    t0 = Clock::now();
    client.async_write(net::buffer(payload), [&](beast::error_code ec, std::size_t) {
      if (ec) die("beast write");
      client.async_read(client_buf, [&](beast::error_code ec2, std::size_t) {
        if (ec2 || client_buf.size() != size) die("beast read");
        client_buf.consume(client_buf.size());
        if (i >= 0) us[i] = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        if (++i < rounds) {
          client_round();
        } else {
          server->next_layer().close();
        }
      });
    });
  };
  server_read();
  client_round();
  ioc.run();
  rows.push_back(summarize("ws_echo_" + std::to_string(size) + "/beast_async", us,
                           std::chrono::duration<double>(Clock::now() - start).count()));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 20000;
  // Runs of the whole set, interleaved; the table shows each row's medians.
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1;
  // Optional third argument: run only the rows of that name (e.g. tern_epoll).
  const std::string only = argc > 3 ? argv[3] : "";
  auto want = [&](const char* row) { return only.empty() || only == row; };
  std::string load;
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    char buf[16] = {};
    if (std::fscanf(f, "%15s", buf) == 1) load = buf;
    std::fclose(f);
  }
  std::printf("loopback WebSocket echo, one connection, both ends in one thread, %d rounds, %d run(s) per row "
              "(medians), load %s at start\n\n",
              rounds, repeats, load.c_str());
  for (std::size_t size : {40u, 128u}) {
    for (int rep = 0; rep < repeats; ++rep) {
      if (want("raw")) raw(rounds, size);
      if (want("epoll_raw")) epoll_raw(rounds, size);
      if (want("tern_posix")) tern_posix(rounds, size);
      if (want("tern_epoll")) tern_epoll(rounds, size, absl::ZeroDuration());
      if (want("tern_epoll_busy")) tern_epoll(rounds, size, absl::Microseconds(50));
      if (want("beast_async")) beast_async(rounds, size);
    }
  }
  std::vector<std::string> names;
  for (const Row& r : rows) {
    if (std::find(names.begin(), names.end(), r.name) == names.end()) names.push_back(r.name);
  }
  auto med = [&](const std::string& name, double Row::*field) {
    std::vector<double> v;
    for (const Row& r : rows) {
      if (r.name == name) v.push_back(r.*field);
    }
    return median(v);
  };
  std::printf("| round trip | p50 µs | p99 µs | round trips/s | added over raw µs | added over epoll_raw µs | syscalls |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (const std::string& name : names) {
    const std::string prefix = name.substr(0, name.find('/'));
    const double p50 = med(name, &Row::p50_us);
    const double raw_p50 = med(prefix + "/raw", &Row::p50_us);
    const double epoll_p50 = med(prefix + "/epoll_raw", &Row::p50_us);
    const double syscalls = med(name, &Row::syscalls);
    std::printf("| %s | %.2f | %.2f | %.0f | %+.2f | %+.2f | %s |\n", name.c_str(), p50, med(name, &Row::p99_us),
                med(name, &Row::per_sec), p50 - raw_p50, p50 - epoll_p50,
                syscalls > 0 ? std::to_string(syscalls).substr(0, 4).c_str() : "");
  }
  return 0;
}
