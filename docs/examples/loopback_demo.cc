// tern demo on loopback (no external network): a tern WebSocket server and
// client exchange 100 000 messages over ws:// and then wss://, printing
// round-trip p50/p99 and throughput; then an HTTP client sends keep-alive
// POSTs to a small tern HTTP server. The wss certificate comes from a
// throwaway CA generated in memory at start-up.
//
//   bazel run -c opt //docs/examples:loopback_demo [-- messages]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backends/posix/http_connection.h"
#include "backends/posix/socket.h"
#include "backends/posix/stream.h"
#include "backends/posix/websocket.h"
#include "core/http/request_reader.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"
#include "core/http/response_writer.h"
#include "tests/tls/test_pki.h"

namespace {

using Clock = std::chrono::steady_clock;

void fail(const char* what, const absl::Status& st) {
  std::fprintf(stderr, "demo: %s: %s\n", what, st.ToString().c_str());
  std::exit(1);
}

void report(const char* what, std::vector<double>& us, double seconds, std::size_t bytes_each) {
  std::sort(us.begin(), us.end());
  const double n = static_cast<double>(us.size());
  std::printf("  %-28s %7zu round trips  p50 %6.1f us  p99 %6.1f us  %8.0f/s  %6.1f MB/s\n", what, us.size(),
              us[us.size() / 2], us[us.size() * 99 / 100], n / seconds, n * bytes_each * 2 / seconds / 1e6);
}

// Echo server: one client, echoes every data message until it closes.
void serve_websocket(tern::posix::Listener& listener, const tern::tls::TlsConfig* tls) {
  auto socket = listener.accept();
  if (!socket.ok()) fail("accept", socket.status());
  auto ws = tern::posix::WebSocket::accept(*std::move(socket), {.tls = tls});
  if (!ws.ok()) fail("websocket accept", ws.status());
  for (;;) {
    auto m = ws->recv();  // zero-copy view into the server's read buffer
    if (!m.ok() || m->opcode == tern::ws::Opcode::Close) return;
    if (m->opcode == tern::ws::Opcode::Text) (void)ws->send_text(m->text());
    if (m->opcode == tern::ws::Opcode::Binary) (void)ws->send_binary(m->payload);
  }
}

void websocket_run(const char* scheme, int messages, const tern::tls::TlsConfig* server_tls,
                   const tern::tls::TlsConfig* client_tls) {
  auto listener = tern::posix::Listener::bind("127.0.0.1", 0);
  if (!listener.ok()) fail("bind", listener.status());
  std::thread server([&] { serve_websocket(*listener, server_tls); });
  const std::string url = std::string(scheme) + "://localhost:" + std::to_string(listener->port()) + "/echo";
  auto ws = tern::posix::WebSocket::connect(url, {.tls = client_tls});
  if (!ws.ok()) fail("websocket connect", ws.status());
  const std::string tick = R"({"ch":"trades","sym":"BTC-USD","px":"97123.50","qty":"0.0021","seq":)";
  std::vector<double> us;
  us.reserve(messages);
  std::string text;
  const auto start = Clock::now();
  for (int i = 0; i < messages; ++i) {
    text = tick + std::to_string(i) + "}";
    const auto t0 = Clock::now();
    if (absl::Status st = ws->send_text(text); !st.ok()) fail("send", st);
    auto echo = ws->recv();
    if (!echo.ok()) fail("recv", echo.status());
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (echo->text() != text) fail("echo", absl::DataLossError("echo differs"));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report((std::string(scheme) + " echo, ~90 B text").c_str(), us, seconds, text.size());
  if (absl::Status st = ws->close(tern::ws::CloseCode::Normal, "demo done"); !st.ok()) fail("close", st);
  server.join();
}

// A minimal keep-alive HTTP server built from the core's RequestReader and
// ResponseWriter: answers every POST /order with a JSON acknowledgement.
void serve_http(tern::posix::Listener& listener) {
  auto socket = listener.accept();
  if (!socket.ok()) fail("accept", socket.status());
  tern::posix::Stream stream(*std::move(socket));
  auto writer = tern::http::ResponseWriter::create({{{"Server", "tern-demo"}}});
  tern::ReadBuf in(64 << 10);
  tern::WriteBuf out(64 << 10);
  tern::http::RequestReader reader;
  for (;;) {
    const tern::http::Progress p = reader.next(in);
    if (p == tern::http::Progress::Failed) return;
    if (p == tern::http::Progress::NeedMore) {
      auto n = stream.read(in);
      if (!n.ok() || *n == 0) return;
      continue;
    }
    out.clear();
    (void)writer->start(out, 200).header("Content-Type", "application/json")
        .body(R"({"status":"accepted","ts":1732380000123456789})");
    if (!stream.write(out.data()).ok()) return;
  }
}

void http_run(int requests) {
  auto listener = tern::posix::Listener::bind("127.0.0.1", 0);
  if (!listener.ok()) fail("bind", listener.status());
  std::thread server([&] { serve_http(*listener); });
  {
    auto conn = tern::posix::HttpConnection::connect("http://127.0.0.1:" + std::to_string(listener->port()));
    if (!conn.ok()) fail("http connect", conn.status());
    auto writer = tern::http::RequestWriter::create(
        {.host = "127.0.0.1", .base_path = "/api/v3",
         .default_headers = {{"User-Agent", "tern-demo"}, {"X-API-KEY", "demo-key"}}});
    tern::http::ResponseReader reader;
    const std::string order = R"({"symbol":"BTC-USD","side":"buy","qty":"0.010","px":"97000.50","tif":"IOC"})";
    std::vector<double> us;
    us.reserve(requests);
    std::size_t request_bytes = 0;
    const auto start = Clock::now();
    for (int i = 0; i < requests; ++i) {
      const auto t0 = Clock::now();
      auto req = writer->start(conn->request_buffer(), tern::http::Method::Post, "/order")
                     .query("client_id", i)
                     .header("Content-Type", "application/json")
                     .body(order);
      if (!req.ok()) fail("request", absl::InternalError("writer"));
      request_bytes = req.bytes.size();
      auto resp = conn->send(reader);
      if (!resp.ok()) fail("http send", resp.status());
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      if (resp->status != 200) fail("status", absl::InternalError("not 200"));
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    report("http keep-alive POST", us, seconds, request_bytes);
  }  // the connection closes here: the server reads EOF and returns
  server.join();
}

}  // namespace

int main(int argc, char** argv) {
  const int messages = argc > 1 ? std::atoi(argv[1]) : 100000;
  std::printf("tern loopback demo: server and client in one process, two threads, 127.0.0.1\n\n");
  const auto& pki = tern::tls::testing::test_pki();  // throwaway CA, made in memory now
  auto server_tls = tern::tls::TlsConfig::server()
                        .certificate_chain_pem(pki.good.cert_pem)
                        .private_key_pem(pki.good.key_pem)
                        .build();
  auto client_tls = tern::tls::TlsConfig::client().use_system_trust_store(false).add_ca_pem(pki.ca.cert_pem).build();
  if (!server_tls.ok()) fail("server tls", server_tls.status());
  if (!client_tls.ok()) fail("client tls", client_tls.status());

  std::printf("WebSocket, %d messages each way per run:\n", messages);
  websocket_run("ws", messages, nullptr, nullptr);
  websocket_run("wss", messages, &*server_tls, &*client_tls);
  std::printf("\nHTTP/1.1, one persistent connection:\n");
  http_run(messages / 5);
  std::printf("\nround trips include both threads waking; see docs/performance.md for one-thread figures.\n");
  return 0;
}
