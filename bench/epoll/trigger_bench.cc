// Edge- vs level-triggered epoll for tern's coroutine connections: syscalls
// per message on the server side, counted (not timed), in two scenarios:
//
//   echo       100 clients in closed loops; every server task is parked in
//              recv() when its next message arrives (the common case);
//   busy       the server task awaits a 1 ms timer after each message (work
//              elsewhere) while its client keeps 4 messages in flight, so
//              bytes wait in the socket while nobody is parked on it.
//
// Level-triggered keeps EPOLLIN registered and adds EPOLLOUT with epoll_ctl
// only while a write waits (EventLoop::Options::level_triggered); edge-
// triggered registers both once. Server loop on one thread, clients on
// another.
//
//   bazel run --config=bench //bench/epoll:trigger_bench
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "backends/epoll/event_loop.h"
#include "backends/epoll/socket.h"
#include "backends/epoll/websocket.h"

using namespace tern::epoll;

struct Counts {
  std::uint64_t messages = 0, reads = 0, writes = 0;
};

void run(const char* scenario, bool level, bool busy) {
  constexpr int kClients = 100;
  const int kPerClient = busy ? 200 : 2000;
  const int kInFlight = busy ? 4 : 1;
  EventLoop server_loop({.level_triggered = level});
  auto listener = Listener::bind(server_loop, "127.0.0.1", 0, 4096);
  if (!listener.ok()) return;
  const std::string url = "ws://127.0.0.1:" + std::to_string(listener->port()) + "/";
  Counts counts;
  int finished = 0;
  server_loop.spawn([&]() -> Task<absl::Status> {
    for (int i = 0; i < kClients; ++i) {
      absl::StatusOr<Socket> s = co_await listener->accept();
      if (!s.ok()) co_return s.status();
      server_loop.spawn([&, sock = *std::move(s)]() mutable -> Task<absl::Status> {
        absl::StatusOr<WebSocket> ws = co_await WebSocket::accept(server_loop, std::move(sock));
        if (!ws.ok()) co_return ws.status();
        for (;;) {
          absl::StatusOr<tern::ws::Message> m = co_await ws->recv();
          if (!m.ok() || m->opcode == tern::ws::Opcode::Close) break;
          ++counts.messages;
          if (!(co_await ws->send_binary(m->payload)).ok()) break;
          if (busy) co_await server_loop.sleep_for(absl::Milliseconds(1));
        }
        counts.reads += ws->read_calls();
        counts.writes += ws->write_calls();
        ++finished;
        co_return absl::OkStatus();
      });
    }
    co_return absl::OkStatus();
  });
  std::thread clients([&] {
    EventLoop loop;
    for (int c = 0; c < kClients; ++c) {
      loop.spawn([&]() -> Task<absl::Status> {
        absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, url);
        if (!ws.ok()) co_return ws.status();
        const std::vector<std::uint8_t> payload(40, 'x');
        int sent = 0, received = 0;
        while (received < kPerClient) {
          while (sent < kPerClient && sent - received < kInFlight) {
            if (!(co_await ws->send_binary(payload)).ok()) co_return absl::OkStatus();
            ++sent;
          }
          absl::StatusOr<tern::ws::Message> m = co_await ws->recv();
          if (!m.ok()) co_return m.status();
          ++received;
        }
        co_return co_await ws->close();
      });
    }
    loop.run();
  });
  const std::uint64_t rounds0 = server_loop.rounds();
  server_loop.run_until([&] { return finished == kClients; });
  clients.join();
  const double m = static_cast<double>(counts.messages);
  std::printf("| %s | %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", scenario,
              level ? "level" : "edge", m, (server_loop.rounds() - rounds0) / m,
              server_loop.interest_changes() / m, counts.reads / m, counts.writes / m,
              (server_loop.rounds() - rounds0 + server_loop.interest_changes() + counts.reads + counts.writes) / m);
}

int main() {
  std::printf("server-side syscalls per message, 100 connections, 40 B\n\n");
  std::printf("| scenario | epoll | messages | epoll_wait | epoll_ctl | read | write | total |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
  for (bool busy : {false, true}) {
    for (bool level : {false, true}) run(busy ? "busy" : "echo", level, busy);
  }
  return 0;
}
