// The tern Asio echo server of the many-connection benchmark written with
// completion callbacks instead of coroutines, the way Beast's echo server
// is written, so the two differ only in the library: one io_context
// thread, server defaults (1 MiB messages).
//
//   tern_asio_cb_echo_server PORT      (prints "listening on PORT")
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/io_context.hpp"
#include "asio/use_awaitable.hpp"
#include "backends/asio/socket.h"
#include "backends/asio/websocket.h"

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tern::asio::WebSocket ws) : ws_(std::move(ws)) {}

  void read() {
    ws_.async_recv([self = shared_from_this()](absl::StatusOr<tern::ws::Message> m) {
      if (!m.ok()) return;
      if (m->opcode != tern::ws::Opcode::Binary && m->opcode != tern::ws::Opcode::Text) {
        self->read();
        return;
      }
      // The payload is a view into the read buffer, valid until the next
      // receive: the send copies it into the write buffer first.
      self->ws_.async_send_binary(m->payload, [self](absl::Status sent) {
        if (sent.ok()) self->read();
      });
    });
  }

 private:
  tern::asio::WebSocket ws_;
};

::asio::awaitable<void> accept_loop(::asio::ip::tcp::acceptor& acceptor) {
  for (;;) {
    absl::StatusOr<::asio::ip::tcp::socket> s = co_await tern::asio::accept(acceptor, {});
    if (!s.ok()) continue;
    tern::asio::WebSocket::async_accept(std::move(*s), {}, [](absl::StatusOr<tern::asio::WebSocket> ws) {
      if (ws.ok()) std::make_shared<Session>(*std::move(ws))->read();
    });
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
