// A WebSocket echo server on tern's Asio backend, one io_context thread, for
// the many-connection benchmark (bench/servers/run_many.py). Server defaults
// (1 MiB messages); coroutines with the helpers that do not suspend when
// nothing needs to wait.
//
//   tern_asio_echo_server PORT      (prints "listening on PORT")
#include <cstdio>
#include <cstdlib>

#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/io_context.hpp"
#include "asio/use_awaitable.hpp"
#include "backends/asio/socket.h"
#include "backends/asio/websocket.h"

namespace {

::asio::awaitable<void> serve(::asio::ip::tcp::socket socket) {
  absl::StatusOr<tern::asio::WebSocket> ws =
      co_await tern::asio::WebSocket::async_accept(std::move(socket), {}, ::asio::use_awaitable);
  if (!ws.ok()) co_return;
  for (;;) {
    absl::StatusOr<tern::ws::Message> m = co_await ws->recv();
    if (!m.ok()) co_return;
    if (m->opcode == tern::ws::Opcode::Binary || m->opcode == tern::ws::Opcode::Text) {
      absl::Status sent = co_await ws->send_binary(m->payload);
      if (!sent.ok()) co_return;
    }
  }
}

::asio::awaitable<void> accept_loop(::asio::ip::tcp::acceptor& acceptor) {
  for (;;) {
    absl::StatusOr<::asio::ip::tcp::socket> s = co_await tern::asio::accept(acceptor, {});
    if (!s.ok()) continue;
    ::asio::co_spawn(acceptor.get_executor(), serve(*std::move(s)), ::asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::asio::io_context io(1);
  const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0);
  absl::StatusOr<::asio::ip::tcp::acceptor> acceptor = tern::asio::listen(io.get_executor(), "127.0.0.1", port, 4096);
  if (!acceptor.ok()) return 1;
  std::printf("listening on %u\n", static_cast<unsigned>(acceptor->local_endpoint().port()));
  std::fflush(stdout);
  ::asio::co_spawn(io, accept_loop(*acceptor), ::asio::detached);
  io.run();
  return 0;
}
