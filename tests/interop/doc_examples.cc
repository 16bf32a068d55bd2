// The code samples of docs/backends.md, compiled so the page cannot drift
// from the API (built by `bazel build //...`; not run: they need a network).
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "backends/posix/http_connection.h"
#include "backends/posix/socket.h"
#include "backends/posix/websocket.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"

namespace tern::doc_examples {

void on_json(std::string_view) {}
void on_bytes(std::span<const std::uint8_t>) {}
void handle(int, std::string_view, std::string_view) {}
struct Order {
  std::string json;
};

absl::Status websocket_client(const std::string& key) {
  auto tls = tern::tls::TlsConfig::client().build();          // system trust store
  if (!tls.ok()) return tls.status();
  tern::posix::WebSocketOptions o;
  o.tls = &*tls;
  o.socket.read_timeout = absl::Seconds(30);                   // no silent hangs
  o.extra_headers = {{"X-API-KEY", key}};
  absl::StatusOr<tern::posix::WebSocket> ws =
      tern::posix::WebSocket::connect("wss://feed.example/v1", o);
  if (!ws.ok()) return ws.status();
  if (absl::Status st = ws->send_text(R"({"op":"subscribe","channel":"trades"})"); !st.ok()) return st;
  for (;;) {
    absl::StatusOr<tern::ws::Message> m = ws->recv();
    if (!m.ok()) return m.status();                            // see the error table
    switch (m->opcode) {
      case tern::ws::Opcode::Text:   on_json(m->text()); break;      // view into the read buffer
      case tern::ws::Opcode::Binary: on_bytes(m->payload); break;
      case tern::ws::Opcode::Close:  return absl::OkStatus();        // already answered
      default: break;                                                 // Ping (already ponged), Pong
    }
  }
}

absl::Status websocket_server() {
  auto listener = tern::posix::Listener::bind("127.0.0.1", 0);   // port 0: any free port
  if (!listener.ok()) return listener.status();
  std::printf("listening on %u\n", listener->port());
  tern::posix::WebSocketOptions o;                                // o.tls = &server_config for wss://
  for (;;) {
    absl::StatusOr<tern::posix::Socket> s = listener->accept(o.socket);
    if (!s.ok()) continue;
    std::thread([o, sock = *std::move(s)]() mutable {
      auto ws = tern::posix::WebSocket::accept(std::move(sock), o);  // TLS + upgrade (RequestReader)
      if (!ws.ok()) return;
      for (;;) {
        auto m = ws->recv();
        if (!m.ok() || m->opcode == tern::ws::Opcode::Close) return;
        if (m->opcode == tern::ws::Opcode::Text) (void)ws->send_text(m->text());
        if (m->opcode == tern::ws::Opcode::Binary) (void)ws->send_binary(m->payload);
      }
    }).detach();
  }
}

absl::Status http_orders(const tern::tls::TlsConfig* tls, const std::string& key,
                         const std::vector<Order>& orders) {
  tern::posix::HttpOptions o;
  o.tls = tls;                                          // or nullptr: system trust store
  o.socket.read_timeout = absl::Seconds(5);
  auto conn = tern::posix::HttpConnection::connect("https://api.example.com", o);
  if (!conn.ok()) return conn.status();
  auto writer = tern::http::RequestWriter::create(
      {.host = "api.example.com", .base_path = "/api/v3", .default_headers = {{"X-API-KEY", key}}});
  if (!writer.ok()) return writer.status();
  tern::http::ResponseReader reader;                    // Limits{}: 8 MiB bodies
  for (const Order& order : orders) {
    if (!conn->reusable()) {                            // server closed: reconnect (no automatic retry)
      conn = tern::posix::HttpConnection::connect("https://api.example.com", o);
      if (!conn.ok()) return conn.status();
    }
    tern::http::WriteResult req = writer->start(conn->request_buffer(), tern::http::Method::Post, "/order")
                                      .header("Content-Type", "application/json")
                                      .body(order.json);
    if (!req.ok()) return absl::InvalidArgumentError(std::string(tern::http::name(req.error)));
    absl::StatusOr<tern::posix::HttpResponse> resp = conn->send(reader);
    if (!resp.ok()) return resp.status();
    handle(resp->status, resp->headers.get("content-type"), resp->body);  // views until the next send()
  }
  return absl::OkStatus();
}

}  // namespace tern::doc_examples
