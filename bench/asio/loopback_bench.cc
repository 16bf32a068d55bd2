// Loopback WebSocket echo, one connection, both ends in ONE thread, for the
// Asio backend beside its floors and peers, all in the same run:
//
//   raw            bare blocking send/recv moving the same bytes (the posix
//                  bench's floor): no event loop at all;
//   asio_raw       the same bytes on a bare Asio 1.22 io_context: a direct
//                  non-blocking write and async_read_some per leg, plain
//                  callbacks. The least any Asio library does per echo (its
//                  reactor's speculative read, epoll_wait, the posted
//                  completion): the floor for the protocol work on top;
//   tern_posix     tern's blocking backend at both ends (stepped);
//   tern_asio      tern's Asio backend at both ends on one io_context,
//                  coroutines (co_await ws.send_binary(), ws.recv());
//   tern_asio_cb   the same with plain callbacks chained like Beast's;
//   beast_async    Boost.Beast's asynchronous websocket stream at both ends
//                  on one io_context thread (Debian's Boost 1.74, its own
//                  Asio 1.18), callbacks;
//   burst8_recv,   tern asio, each request answered by 8 messages in one
//   burst8_async_recv  write, received with recv() (no suspension for a
//                  buffered message) or async_recv(use_awaitable): what the
//                  fast path is worth (the floors do not apply to these).
//
// Each row reports p50/p99 round trip, round trips/s, the time added over
// each floor and the heap allocations per round trip, both ends: operator
// new (tests/support/alloc_counter) and every C allocator call, which also
// sees Asio's caches falling back to aligned_alloc (tests/asio/malloc_counter). With a repeat count the rows
// run interleaved that many times and the table shows medians of the runs
// (for a noisy machine).
//
//   bazel run --config=bench //bench/asio:loopback_bench -- [rounds] [repeats] [row]
//
// With a row name only that row runs (no floors): for instruction counts,
// e.g. valgrind --tool=callgrind at two round counts, differenced.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/io_context.hpp"
#include "asio/ip/tcp.hpp"
#include "asio/use_awaitable.hpp"
#include "backends/asio/socket.h"
#include "backends/asio/websocket.h"
#include "backends/posix/websocket.h"
#include "bench/asio/rows.h"
#include "bench/support/loopback.h"
#include "tests/support/alloc_counter.h"

namespace {

using tcp = ::asio::ip::tcp;
using namespace tern::bench::asio_rows;

using tern::bench::Clock;
using tern::bench::die;
using tern::bench::recv_all;
using tern::bench::send_all;
using tern::bench::tcp_pair;

// --- floors -----------------------------------------------------------------

Run raw(int rounds, std::size_t size) {
  auto [c, s] = tcp_pair();
  std::vector<char> a(client_frame(size), 'x'), b(a.size());
  Run r = measure(rounds, [&, c = c, s = s] {
    send_all(c, a.data(), client_frame(size));
    recv_all(s, b.data(), client_frame(size));
    send_all(s, b.data(), server_frame(size));
    recv_all(c, a.data(), server_frame(size));
  });
  ::close(c);
  ::close(s);
  return r;
}

// A connected pair of standalone-Asio sockets on `io`, NODELAY, non-blocking.
std::pair<tcp::socket, tcp::socket> asio_pair(::asio::io_context& io) {
  tcp::acceptor acceptor(io, {::asio::ip::make_address("127.0.0.1"), 0});
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  for (tcp::socket* s : {&client, &server}) {
    s->set_option(tcp::no_delay(true));
    s->non_blocking(true);
  }
  return {std::move(client), std::move(server)};
}

// The bytes of the echo on a bare io_context: each leg a direct write and
// an async_read_some for the reply (looping on short reads).
struct AsioRaw {
  tcp::socket& client;
  tcp::socket& server;
  std::size_t size;
  Recorder& rec;
  std::vector<char> a = std::vector<char>(client_frame(size), 'x');
  std::vector<char> b = std::vector<char>(client_frame(size));
  std::size_t got_server = 0, got_client = 0;

  static void write(tcp::socket& s, const char* p, std::size_t n) {
    std::error_code ec;
    if (s.write_some(::asio::buffer(p, n), ec) != n) die("asio_raw write");
  }
  void server_read() {
    server.async_read_some(::asio::buffer(b.data() + got_server, client_frame(size) - got_server),
                           [this](std::error_code ec, std::size_t n) {
                             if (ec) return;
                             got_server += n;
                             if (got_server == client_frame(size)) {
                               got_server = 0;
                               write(server, b.data(), server_frame(size));
                             }
                             server_read();
                           });
  }
  void round() {
    if (!rec.begin()) return;
    write(client, a.data(), client_frame(size));
    client_read();
  }
  void client_read() {
    client.async_read_some(::asio::buffer(a.data() + got_client, server_frame(size) - got_client),
                           [this](std::error_code ec, std::size_t n) {
                             if (ec) die("asio_raw read");
                             got_client += n;
                             if (got_client < server_frame(size)) return client_read();
                             got_client = 0;
                             rec.end();
                             round();
                           });
  }
};

Run asio_raw(int rounds, std::size_t size) {
  ::asio::io_context io(1);
  auto [client, server] = asio_pair(io);
  Recorder rec(rounds);
  rec.warm_up(rounds / 10);
  AsioRaw echo{client, server, size, rec};
  echo.server_read();
  echo.round();
  while (rec.i < rounds && io.run_one() != 0) {
  }
  return rec.result();
}

// --- tern ---------------------------------------------------------------------

Run tern_posix(int rounds, std::size_t size) {
  auto [client_ws, server_ws] = tern::bench::posix_ws_pair();
  const std::vector<std::uint8_t> payload(size, 'x');
  return measure(rounds, [&, client = &client_ws, server = &server_ws] {
    if (!client->send_binary(payload).ok()) die("tern send");
    auto m = server->recv();
    if (!m.ok()) die("tern server recv");
    if (!server->send_binary(m->payload).ok()) die("tern server send");
    auto back = client->recv();
    if (!back.ok() || back->payload.size() != size) die("tern client recv");
  });
}

// A connected pair of tern Asio WebSockets on `io`.
std::pair<tern::asio::WebSocket, tern::asio::WebSocket> tern_asio_pair(::asio::io_context& io) {
  using tern::asio::WebSocket;
  auto acceptor = tern::asio::listen(io.get_executor(), "127.0.0.1", 0);
  if (!acceptor.ok()) die("bind");
  std::optional<WebSocket> client, server;
  acceptor->async_accept([&](std::error_code ec, tcp::socket s) {
    if (ec) die("accept");
    WebSocket::async_accept(std::move(s), {}, [&](absl::StatusOr<WebSocket> w) {
      if (!w.ok()) die("ws accept");
      server.emplace(*std::move(w));
    });
  });
  WebSocket::async_connect(io.get_executor(), "ws://127.0.0.1:" + std::to_string(acceptor->local_endpoint().port()) + "/",
                           {}, [&](absl::StatusOr<WebSocket> w) {
                             if (!w.ok()) die("ws connect");
                             client.emplace(*std::move(w));
                           });
  while (!(client && server) && io.run_one() != 0) {
  }
  if (!client || !server) die("tern asio pair");
  return {*std::move(client), *std::move(server)};
}

Run tern_asio(int rounds, std::size_t size) {
  ::asio::io_context io(1);
  auto [client, server] = tern_asio_pair(io);
  ::asio::co_spawn(
      io,
      [&server]() -> ::asio::awaitable<void> {
        for (;;) {
          absl::StatusOr<tern::ws::Message> m = co_await server.recv();
          if (!m.ok()) co_return;
          if (!(co_await server.send_binary(m->payload)).ok()) co_return;
        }
      },
      ::asio::detached);
  Recorder rec(rounds);
  rec.warm_up(rounds / 10);
  ::asio::co_spawn(
      io,
      [&]() -> ::asio::awaitable<void> {
        const std::vector<std::uint8_t> payload(size, 'x');
        while (rec.begin()) {
          if (!(co_await client.send_binary(payload)).ok()) die("tern asio send");
          absl::StatusOr<tern::ws::Message> m = co_await client.recv();
          if (!m.ok() || m->payload.size() != size) die("tern asio recv");
          rec.end();
        }
      },
      ::asio::detached);
  while (rec.i < rounds && io.run_one() != 0) {
  }
  return rec.result();
}

// Bursts: each client message is answered with kBurst messages in one write
// (queue_binary, flush), so all but the first of them are already buffered
// when the client asks. recv() hands those over without suspending;
// async_recv(use_awaitable) suspends for each and resumes through a posted
// completion (an initiating function may not complete inline). The
// difference is the fast path's worth.
constexpr int kBurst = 8;

template <bool kHelper>
Run tern_asio_burst(int rounds, std::size_t size) {
  ::asio::io_context io(1);
  auto [client, server] = tern_asio_pair(io);
  ::asio::co_spawn(
      io,
      [&server]() -> ::asio::awaitable<void> {
        for (;;) {
          absl::StatusOr<tern::ws::Message> m = co_await server.recv();
          if (!m.ok()) co_return;
          for (int i = 0; i < kBurst; ++i) {
            if (!server.queue_binary(m->payload).ok()) co_return;
          }
          absl::Status flushed = co_await server.flush();
          if (!flushed.ok()) co_return;
        }
      },
      ::asio::detached);
  Recorder rec(rounds);
  rec.warm_up(rounds / 10);
  ::asio::co_spawn(
      io,
      [&]() -> ::asio::awaitable<void> {
        const std::vector<std::uint8_t> payload(size, 'x');
        while (rec.begin()) {
          absl::Status sent = co_await client.send_binary(payload);
          if (!sent.ok()) die("burst send");
          for (int i = 0; i < kBurst; ++i) {
            absl::StatusOr<tern::ws::Message> m(tern::ws::Message{});
            if constexpr (kHelper) {
              m = co_await client.recv();
            } else {
              m = co_await client.async_recv(::asio::use_awaitable);
            }
            if (!m.ok() || m->payload.size() != size) die("burst recv");
          }
          rec.end();
        }
      },
      ::asio::detached);
  while (rec.i < rounds && io.run_one() != 0) {
  }
  return rec.result();
}

// Callbacks, chained as Beast's rows are: the client writes, then reads in
// the write's completion; the server reads, writes, reads again.
struct TernCallbacks {
  tern::asio::WebSocket& client;
  tern::asio::WebSocket& server;
  std::vector<std::uint8_t> payload;
  std::size_t size;
  Recorder& rec;

  void server_read() {
    server.async_recv([this](absl::StatusOr<tern::ws::Message> m) {
      if (!m.ok()) return;
      server.async_send_binary(m->payload, [this](absl::Status s) {
        if (s.ok()) server_read();
      });
    });
  }
  void round() {
    if (!rec.begin()) return;
    client.async_send_binary(payload, [this](absl::Status s) {
      if (!s.ok()) die("tern asio cb send");
      client.async_recv([this](absl::StatusOr<tern::ws::Message> m) {
        if (!m.ok() || m->payload.size() != size) die("tern asio cb recv");
        rec.end();
        round();
      });
    });
  }
};

Run tern_asio_cb(int rounds, std::size_t size) {
  ::asio::io_context io(1);
  auto [client, server] = tern_asio_pair(io);
  Recorder rec(rounds);
  rec.warm_up(rounds / 10);
  TernCallbacks echo{client, server, std::vector<std::uint8_t>(size, 'x'), size, rec};
  echo.server_read();
  echo.round();
  while (rec.i < rounds && io.run_one() != 0) {
  }
  return rec.result();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string one;
  f >> one;
  return one;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1;
  const std::string only = argc > 3 ? argv[3] : "";
  struct Named {
    const char* name;
    Run (*run)(int, std::size_t);
  };
  const Named all[] = {{"raw", raw},
                       {"asio_raw", asio_raw},
                       {"tern_posix", tern_posix},
                       {"tern_asio", tern_asio},
                       {"tern_asio_cb", tern_asio_cb},
                       {"beast_async", beast_async},
                       {"burst8_recv", tern_asio_burst<true>},
                       {"burst8_async_recv", tern_asio_burst<false>}};
  std::printf("loopback WebSocket echo, one connection, both ends in one thread, %d rounds, %d run(s) per row "
              "(medians), load %s at start\n\n",
              rounds, repeats, load_average().c_str());
  std::printf("| round trip | p50 µs | p99 µs | round trips/s | added over raw µs | added over asio_raw µs | "
              "operator new/round trip | malloc/round trip |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (std::size_t size : {40u, 128u}) {
    std::map<std::string, std::vector<Run>> runs;
    for (int rep = 0; rep < repeats; ++rep) {
      for (const Named& n : all) {
        if (!only.empty() && only != n.name) continue;
        runs[n.name].push_back(n.run(rounds, size));
      }
    }
    auto med = [&](const std::string& name, double Run::*field) {
      std::vector<double> v;
      for (const Run& r : runs[name]) v.push_back(r.*field);
      return v.empty() ? 0.0 : median(v);
    };
    const double raw_p50 = med("raw", &Run::p50_us);
    const double asio_p50 = med("asio_raw", &Run::p50_us);
    for (const Named& n : all) {
      if (runs[n.name].empty()) continue;
      const double p50 = med(n.name, &Run::p50_us);
      std::printf("| ws_echo_%zu/%s | %.2f | %.2f | %.0f | %+.2f | %+.2f | %.2f | %.2f |\n", size, n.name, p50,
                  med(n.name, &Run::p99_us), med(n.name, &Run::per_sec), p50 - raw_p50, p50 - asio_p50,
                  med(n.name, &Run::allocs), med(n.name, &Run::mallocs));
    }
  }
  return 0;
}
