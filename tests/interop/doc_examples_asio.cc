// docs/backends.md's Asio samples, compiled so the page cannot drift from
// the API (built by `bazel build //...`; not run: they need a network).
#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "backends/asio/http_connection.h"
#include "backends/asio/socket.h"
#include "backends/asio/websocket.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"

namespace doc_examples_asio {

void handle(tern::ws::Opcode, std::span<const std::uint8_t>) {}

// ## Asio
// --- from the page
asio::awaitable<absl::Status> feed(asio::any_io_executor ex) {
  tern::WebSocketOptions o;
  o.socket.read_timeout = absl::Seconds(30);
  auto ws = co_await tern::asio::WebSocket::async_connect(ex, "wss://feed.example/v1", o, asio::use_awaitable);
  if (!ws.ok()) co_return ws.status();
  if (auto st = co_await ws->send_text(R"({"op":"subscribe","channel":"trades"})"); !st.ok()) co_return st;
  for (;;) {
    absl::StatusOr<tern::ws::Message> m = co_await ws->recv();  // view until the next receive
    if (!m.ok()) co_return m.status();
    handle(m->opcode, m->payload);
  }
}
// ---

// ### HTTP
asio::awaitable<absl::Status> order(asio::any_io_executor ex, const tern::http::RequestWriter& writer,
                                    tern::http::ResponseReader& reader, std::string json) {
  // --- from the page
  auto conn = co_await tern::asio::HttpConnection::async_connect(ex, "https://api.example.com", {}, asio::use_awaitable);
  if (!conn.ok()) co_return conn.status();
  if (!writer.start(conn->request_buffer(), tern::http::Method::Post, "/order").body(json).ok()) co_return absl::ResourceExhaustedError("request too large");
  absl::StatusOr<tern::HttpResponse> r = co_await conn->async_send(reader, asio::use_awaitable);
  // ---
  co_return r.status();
}

}  // namespace doc_examples_asio
