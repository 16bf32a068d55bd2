// A WebSocket echo server on one tern epoll loop, for the many-connection
// benchmark (bench/servers/run_many.py). Server defaults (1 MiB messages).
//
//   tern_epoll_echo_server PORT      (prints "listening on PORT")
#include <cstdio>
#include <cstdlib>

#include "backends/epoll/event_loop.h"
#include "backends/epoll/socket.h"
#include "backends/epoll/websocket.h"

using namespace tern::epoll;

int main(int argc, char** argv) {
  EventLoop loop;
  auto listener = Listener::bind(loop, "127.0.0.1", argc > 1 ? std::atoi(argv[1]) : 0, 4096);
  if (!listener.ok()) return 1;
  std::printf("listening on %u\n", listener->port());
  std::fflush(stdout);
  loop.spawn([&]() -> Task<absl::Status> {
    for (;;) {
      absl::StatusOr<Socket> s = co_await listener->accept();
      if (!s.ok()) continue;
      loop.spawn([&loop, sock = *std::move(s)]() mutable -> Task<absl::Status> {
        absl::StatusOr<WebSocket> ws = co_await WebSocket::accept(loop, std::move(sock));
        if (!ws.ok()) co_return ws.status();
        for (;;) {
          absl::StatusOr<tern::ws::Message> m = co_await ws->recv();
          if (!m.ok()) co_return absl::OkStatus();
          if (m->opcode == tern::ws::Opcode::Binary || m->opcode == tern::ws::Opcode::Text) {
            if (!(co_await ws->send_binary(m->payload)).ok()) co_return absl::OkStatus();
          }
        }
      });
    }
  });
  loop.run();
  return 0;
}
