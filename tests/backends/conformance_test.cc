// What must behave the same on every backend, tested once: each test is a
// coroutine over the Backend concept (backends/backend.h), instantiated for
// every backend. The same scenarios, the same statuses: WebSocket echo from
// 0 B to 300 kB, ping/pong, the closing handshake, subprotocols, TLS and its
// certificate failures, refused, hanging, silent and misbehaving peers; HTTP
// keep-alive, HEAD, Connection: close, close-delimited and truncated
// bodies, read timeouts, limits, https; and zero allocations per message
// and per request at both ends.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/posix/backend.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"
#include "core/ws/handshake.h"
#include "gtest/gtest.h"
#include "tests/support/all_backends.h"
#include "tests/support/alloc_counter.h"
#include "tests/support/canned_http_server.h"
#include "tests/support/raw_ws_server.h"
#include "tests/tls/test_pki.h"

namespace tern {
namespace {

using tls::testing::test_pki;

template <typename B>
using TaskOf = typename B::template Task<absl::Status>;

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A WebSocket echo server written over the concept: accepts `clients`
// connections (in the background: a thread on posix, a task on a loop) and
// echoes Text/Binary until each closes. What it saw is kept for the test.
template <typename B>
struct EchoServer {
  std::atomic<int> last_close{0};
  std::atomic<int> served{0};
  std::string subprotocol;
  std::string last_error;
  std::optional<typename B::Listener> listener;

  void start(typename B::Context& ctx, WebSocketOptions o, int clients = 1) {
    auto l = B::listen(ctx, "127.0.0.1", 0);
    ASSERT_TRUE(l.ok()) << l.status();
    listener.emplace(*std::move(l));
    B::spawn(ctx, [this, &ctx, o, clients]() -> TaskOf<B> {
      for (int i = 0; i < clients; ++i) {
        absl::StatusOr<typename B::Socket> s = co_await B::accept(*listener, o.socket);
        if (!s.ok()) co_return s.status();
        co_await serve(ctx, *std::move(s), o);
      }
      co_return absl::OkStatus();
    });
  }
  TaskOf<B> serve(typename B::Context& ctx, typename B::Socket s, WebSocketOptions o) {
    absl::StatusOr<typename B::WebSocket> ws = co_await B::accept_websocket(ctx, std::move(s), o);
    if (!ws.ok()) {
      last_error = ws.status().ToString();
      ++served;
      co_return absl::OkStatus();
    }
    subprotocol = std::string(ws->subprotocol());
    for (;;) {
      absl::StatusOr<ws::Message> m = co_await B::recv(*ws);
      if (!m.ok()) {
        last_error = m.status().ToString();
        break;
      }
      if (m->opcode == ws::Opcode::Text) (void)co_await B::send_text(*ws, m->text());
      if (m->opcode == ws::Opcode::Binary) (void)co_await B::send_binary(*ws, m->payload);
      if (m->opcode == ws::Opcode::Close) {
        last_close = static_cast<int>(m->close_code);
        break;
      }
    }
    ++served;
    co_return absl::OkStatus();
  }
  std::string url(const char* scheme = "ws") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(B::port(*listener)) + "/echo";
  }
  // The server runs in the background: wait (bounded) until it is done.
  TaskOf<B> until_served(typename B::Context& ctx, int n) {
    for (int i = 0; i < 2000 && served.load() < n; ++i) co_await B::sleep_for(ctx, absl::Milliseconds(1));
    co_return served.load() >= n ? absl::OkStatus() : absl::DeadlineExceededError("server not done");
  }
};

template <typename B>
TaskOf<B> echo_round_trips(typename B::WebSocket& ws) {
  std::mt19937 rng(7);
  for (std::size_t size : {0u, 1u, 125u, 126u, 4000u, 65535u, 65536u, 300000u}) {
    std::string text(size, 'a');
    for (char& c : text) c = static_cast<char>('a' + rng() % 26);
    if (absl::Status st = co_await B::send_text(ws, text); !st.ok()) co_return st;
    absl::StatusOr<ws::Message> m = co_await B::recv(ws);
    if (!m.ok()) co_return m.status();
    if (m->opcode != ws::Opcode::Text || m->text() != text) co_return absl::DataLossError("text echo differs");
    std::string bin(size, '\0');
    for (char& c : bin) c = static_cast<char>(rng());
    if (absl::Status st = co_await B::send_binary(ws, bytes(bin)); !st.ok()) co_return st;
    m = co_await B::recv(ws);
    if (!m.ok()) co_return m.status();
    if (m->opcode != ws::Opcode::Binary || m->text() != bin) co_return absl::DataLossError("binary echo differs");
  }
  co_return absl::OkStatus();
}

std::uint16_t closed_port() {
  auto l = posix::Listener::bind("127.0.0.1", 0);
  EXPECT_TRUE(l.ok());
  return l->port();  // closed when `l` goes: nothing listens there now
}

template <typename B>
class Conformance : public ::testing::Test {
 protected:
  // Runs a test body (a coroutine over B) to its end on a fresh context.
  template <typename F>
  absl::Status run(F body) {
    return B::run(ctx, body());
  }
  typename B::Context ctx;
};

TYPED_TEST_SUITE(Conformance, ::tern::testing::AllBackends, ::tern::testing::BackendNames);

// ---------------------------------------------------------------- WebSocket

TYPED_TEST(Conformance, WebSocketEchoPingAndCleanClose) {
  using B = TypeParam;
  EchoServer<B> server;
  WebSocketOptions so;
  so.subprotocols = {"v2", "v1"};
  server.start(this->ctx, so);
  absl::Status st = this->run([&]() -> TaskOf<B> {
    WebSocketOptions o;
    o.subprotocols = {"v1", "v2"};
    absl::StatusOr<typename B::WebSocket> ws = co_await B::connect_websocket(this->ctx, server.url(), o);
    if (!ws.ok()) co_return ws.status();
    EXPECT_EQ(ws->subprotocol(), "v2") << "the server picks its first preference the client offered";
    if (absl::Status e = co_await echo_round_trips<B>(*ws); !e.ok()) co_return e;
    const std::string hb = "hb";
    if (absl::Status p = co_await B::send_ping(*ws, bytes(hb)); !p.ok()) co_return p;
    absl::StatusOr<ws::Message> pong = co_await B::recv(*ws);
    if (!pong.ok()) co_return pong.status();
    EXPECT_EQ(pong->opcode, ws::Opcode::Pong);
    EXPECT_EQ(pong->text(), "hb");
    absl::Status closed = co_await B::close(*ws, ws::CloseCode::GoingAway, std::string("bye"));
    EXPECT_FALSE(B::usable(*ws));
    const std::string late = "late";
    absl::Status after = co_await B::send_text(*ws, late);
    EXPECT_TRUE(absl::IsFailedPrecondition(after)) << after;
    if (absl::Status s = co_await server.until_served(this->ctx, 1); !s.ok()) co_return s;
    co_return closed;
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(server.last_close.load(), 1001);
}

TYPED_TEST(Conformance, WebSocketOverTlsAndCertificateFailures) {
  using B = TypeParam;
  const tls::TlsConfig good = tls::testing::server_tls_config(test_pki().good);
  const tls::TlsConfig client = tls::testing::client_tls_config();
  EchoServer<B> server;
  server.start(this->ctx, {.tls = &good});
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<typename B::WebSocket> ws = co_await B::connect_websocket(this->ctx, server.url("wss"),
                                                                             {.tls = &client});
    if (!ws.ok()) co_return ws.status();
    if (absl::Status e = co_await echo_round_trips<B>(*ws); !e.ok()) co_return e;
    absl::Status closed = co_await B::close(*ws, ws::CloseCode::Normal, std::string());
    if (absl::Status s = co_await server.until_served(this->ctx, 1); !s.ok()) co_return s;
    co_return closed;
  });
  EXPECT_TRUE(st.ok()) << st;

  for (auto [id, cause] : {std::pair{&test_pki().wrong_host, "HostnameMismatch"},
                           std::pair{&test_pki().self_signed, "UntrustedCertificate"},
                           std::pair{&test_pki().expired, "CertificateExpired"}}) {
    SCOPED_TRACE(cause);
    const tls::TlsConfig bad = tls::testing::server_tls_config(*id);
    EchoServer<B> refusing;
    refusing.start(this->ctx, {.tls = &bad});
    absl::Status failed = this->run([&]() -> TaskOf<B> {
      absl::StatusOr<typename B::WebSocket> ws = co_await B::connect_websocket(this->ctx, refusing.url("wss"),
                                                                               {.tls = &client});
      (void)co_await refusing.until_served(this->ctx, 1);
      co_return ws.status();
    });
    EXPECT_TRUE(absl::IsPermissionDenied(failed)) << failed;
    EXPECT_NE(failed.message().find(cause), absl::string_view::npos) << failed;
  }
}

TYPED_TEST(Conformance, WebSocketRefusedAndSilentPeers) {
  using B = TypeParam;
  const std::uint16_t port = closed_port();
  absl::Status refused = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<typename B::WebSocket> ws =
        co_await B::connect_websocket(this->ctx, "ws://127.0.0.1:" + std::to_string(port) + "/", {});
    co_return ws.status();
  });
  EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;

  std::atomic<bool> done{false};
  testing::RawWsServer silent([&](posix::Socket&, WriteBuf&) {  // never answers the upgrade
    while (!done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  WebSocketOptions o;
  o.socket.read_timeout = absl::Milliseconds(200);
  absl::Status timed_out = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<typename B::WebSocket> ws = co_await B::connect_websocket(this->ctx, silent.url(), o);
    co_return ws.status();
  });
  done = true;
  EXPECT_TRUE(absl::IsDeadlineExceeded(timed_out)) << timed_out;
}

// A listener whose accept queue is full drops the SYN (Linux), so the
// connect neither completes nor fails: connect_timeout must end it.
TYPED_TEST(Conformance, ConnectTimeoutEndsAConnectThatHangs) {
  using B = TypeParam;
  absl::StatusOr<posix::Listener> full = posix::Listener::bind("127.0.0.1", 0, /*backlog=*/0);
  ASSERT_TRUE(full.ok()) << full.status();
  std::vector<int> fillers;  // never accepted: they fill the queue
  for (int i = 0; i < 4; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(full->port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    fillers.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the handshakes settle
  WebSocketOptions o;
  o.socket.connect_timeout = absl::Milliseconds(250);
  const absl::Time start = absl::Now();
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<typename B::WebSocket> ws =
        co_await B::connect_websocket(this->ctx, "ws://127.0.0.1:" + std::to_string(full->port()) + "/", o);
    co_return ws.status();
  });
  const absl::Duration took = absl::Now() - start;
  for (const int fd : fillers) ::close(fd);
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_GE(took, absl::Milliseconds(240));
  EXPECT_LT(took, absl::Seconds(3));
}

TYPED_TEST(Conformance, WebSocketHandshakeTimeoutIsTheCoresDecision) {
  using B = TypeParam;
  std::atomic<bool> done{false};
  testing::RawWsServer silent([&](posix::Socket&, WriteBuf&) {
    while (!done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  WebSocketOptions o;
  o.handshake_timeout = absl::Milliseconds(100);
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<typename B::WebSocket> ws = co_await B::connect_websocket(this->ctx, silent.url(), o);
    co_return ws.status();
  });
  done = true;
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_NE(st.message().find("handshake timed out"), absl::string_view::npos) << st;
}

TYPED_TEST(Conformance, WebSocketProtocolErrorSendsTheCloseCodeAndNamesTheCause) {
  using B = TypeParam;
  std::string seen_by_server;
  std::optional<testing::RawWsServer> server;
  server.emplace([&](posix::Socket& s, WriteBuf& out) {
    // The 101 and a masked frame (clients must reject those) in one write.
    const std::uint8_t masked[] = {0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2};
    (void)out.append(masked);
    if (!s.write_all(out.data()).ok()) return;
    std::uint8_t buf[64];
    for (;;) {
      auto n = s.read_some(buf);
      if (!n.ok() || *n == 0) break;
      seen_by_server.append(reinterpret_cast<char*>(buf), *n);
    }
  });
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<typename B::WebSocket> ws = co_await B::connect_websocket(this->ctx, server->url(), {});
    if (!ws.ok()) co_return ws.status();
    absl::StatusOr<ws::Message> m = co_await B::recv(*ws);
    EXPECT_EQ(ws->protocol_error(), ws::Error::MaskViolation);
    absl::StatusOr<ws::Message> again = co_await B::recv(*ws);
    EXPECT_FALSE(again.ok()) << "failure is sticky";
    co_return m.status();
  });
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_NE(st.message().find("MaskViolation"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("sent close 1002"), absl::string_view::npos) << st;
  // The server thread reads until the client's EOF: join it before
  // looking at what it saw.
  server.reset();
  // The client's Close frame reached the server: masked, code 1002.
  ASSERT_GE(seen_by_server.size(), 8u);
  EXPECT_EQ(static_cast<std::uint8_t>(seen_by_server[0]), 0x88);
  const auto* key = reinterpret_cast<const std::uint8_t*>(seen_by_server.data()) + 2;
  const int code = ((static_cast<std::uint8_t>(seen_by_server[6]) ^ key[0]) << 8) |
                   (static_cast<std::uint8_t>(seen_by_server[7]) ^ key[1]);
  EXPECT_EQ(code, 1002);
}

TYPED_TEST(Conformance, WebSocketUpgradeRefusedWithAStatusSaysWhich) {
  using B = TypeParam;
  // A server that answers the upgrade with 429 Too Many Requests.
  posix::Listener l = *posix::Listener::bind("127.0.0.1", 0);
  std::thread server([&] {
    auto s = l.accept();
    if (!s.ok()) return;
    std::uint8_t buf[4096];
    (void)s->read_some(buf);
    const std::string reply = "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)s->write_all(bytes(reply));
    s->shutdown_write();
    (void)s->read_some(buf);
  });
  absl::Status st = this->run([&]() -> TaskOf<B> {
    auto ws = co_await B::connect_websocket(this->ctx, "ws://127.0.0.1:" + std::to_string(l.port()) + "/", {});
    co_return ws.status();
  });
  server.join();
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_EQ(handshake_http_status(st), 429) << st;
  EXPECT_EQ(handshake_http_status(absl::UnavailableError("x")), std::nullopt);
}

TYPED_TEST(Conformance, WebSocketServerRejectsAWrongVersionWith426) {
  using B = TypeParam;
  EchoServer<B> server;
  server.start(this->ctx, {});
  std::string reply;
  std::thread raw_client([&] {
    auto s = posix::Socket::connect("127.0.0.1", B::port(*server.listener), {});
    ASSERT_TRUE(s.ok());
    const std::string req =
        "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n";
    ASSERT_TRUE(s->write_all(bytes(req)).ok());
    std::uint8_t buf[1024];
    for (;;) {
      auto n = s->read_some(buf);
      if (!n.ok() || *n == 0) break;
      reply.append(reinterpret_cast<char*>(buf), *n);
    }
  });
  absl::Status st = this->run([&]() -> TaskOf<B> { co_return co_await server.until_served(this->ctx, 1); });
  raw_client.join();
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(reply.rfind("HTTP/1.1 426 ", 0), 0u) << reply;
  EXPECT_NE(reply.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos) << reply;
  EXPECT_NE(server.last_error.find("UnsupportedVersion"), std::string::npos) << server.last_error;
}

TYPED_TEST(Conformance, WebSocketBatchedFramesArriveInOrder) {
  using B = TypeParam;
  EchoServer<B> server;
  server.start(this->ctx, {});
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<typename B::WebSocket> ws = co_await B::connect_websocket(this->ctx, server.url(), {});
    if (!ws.ok()) co_return ws.status();
    for (int i = 0; i < 10; ++i) {
      if (absl::Status q = B::queue_text(*ws, "frame " + std::to_string(i)); !q.ok()) co_return q;
    }
    if (absl::Status f = co_await B::flush(*ws); !f.ok()) co_return f;
    for (int i = 0; i < 10; ++i) {
      absl::StatusOr<ws::Message> m = co_await B::recv(*ws);
      if (!m.ok()) co_return m.status();
      EXPECT_EQ(m->text(), "frame " + std::to_string(i));
    }
    absl::Status closed = co_await B::close(*ws, ws::CloseCode::Normal, std::string());
    (void)co_await server.until_served(this->ctx, 1);
    co_return closed;
  });
  EXPECT_TRUE(st.ok()) << st;
}

TYPED_TEST(Conformance, WebSocketNoAllocationsPerMessageAtEitherEnd) {
  using B = TypeParam;
  EchoServer<B> server;
  server.start(this->ctx, {});
  std::size_t allocations = 1;
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<typename B::WebSocket> ws = co_await B::connect_websocket(this->ctx, server.url(), {});
    if (!ws.ok()) co_return ws.status();
    const std::string payload(128, 'x');
    for (int i = 0; i < 100; ++i) {  // warm both ends (frame pools)
      (void)co_await B::send_binary(*ws, bytes(payload));
      (void)co_await B::recv(*ws);
    }
    testing::AllocCounter count;  // every thread: the server's too
    for (int i = 0; i < 10000; ++i) {
      if (absl::Status s = co_await B::send_binary(*ws, bytes(payload)); !s.ok()) co_return s;
      absl::StatusOr<ws::Message> m = co_await B::recv(*ws);
      if (!m.ok()) co_return m.status();
      if (m->payload.size() != payload.size()) co_return absl::DataLossError("size");
    }
    allocations = count.allocations();
    absl::Status closed = co_await B::close(*ws, ws::CloseCode::Normal, std::string());
    (void)co_await server.until_served(this->ctx, 1);
    co_return closed;
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(allocations, 0u);
}

// --------------------------------------------------------------------- HTTP

http::RequestWriter make_writer() {
  auto w = http::RequestWriter::create({.host = "127.0.0.1", .base_path = "",
                                        .default_headers = {{"User-Agent", "tern-test"}}});
  EXPECT_TRUE(w.ok());
  return *std::move(w);
}

template <typename B>
typename B::template Task<absl::StatusOr<HttpResponse>> get(typename B::HttpConnection& c,
                                                            const http::RequestWriter& w, http::ResponseReader& r,
                                                            std::string path, http::Method m = http::Method::Get) {
  const http::WriteResult req = w.start(c.request_buffer(), m, path).finish();
  if (!req.ok()) co_return absl::InvalidArgumentError("request");
  co_return co_await B::send(c, r);
}

TYPED_TEST(Conformance, HttpKeepAliveHeadCloseAndEof) {
  using B = TypeParam;
  testing::CannedHttpServer server;
  const http::RequestWriter w = make_writer();
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<typename B::HttpConnection> conn =
        co_await B::connect_http(this->ctx, server.url() + "/ignored/path", {});
    if (!conn.ok()) co_return conn.status();
    http::ResponseReader reader;
    for (int i = 0; i < 1000; ++i) {
      absl::StatusOr<HttpResponse> r = co_await get<B>(*conn, w, reader, i % 2 ? "/json" : "/chunked");
      if (!r.ok()) co_return r.status();
      EXPECT_EQ(r->status, 200);
      EXPECT_TRUE(r->keep_alive);
      if (i % 2 == 0) {
        EXPECT_EQ(r->body, "hello, world");
      }
    }
    EXPECT_EQ(server.connections.load(), 1);
    // HEAD: no body, and the next response is read in step.
    absl::StatusOr<HttpResponse> head = co_await get<B>(*conn, w, reader, "/json", http::Method::Head);
    if (!head.ok()) co_return head.status();
    EXPECT_TRUE(head->body.empty());
    absl::StatusOr<HttpResponse> next = co_await get<B>(*conn, w, reader, "/json");
    if (!next.ok()) co_return next.status();
    EXPECT_FALSE(next->body.empty());
    // Connection: close ends reuse, with the reason.
    absl::StatusOr<HttpResponse> bye = co_await get<B>(*conn, w, reader, "/close");
    if (!bye.ok()) co_return bye.status();
    EXPECT_EQ(bye->body, "bye");
    EXPECT_FALSE(B::usable(*conn));
    absl::StatusOr<HttpResponse> again = co_await get<B>(*conn, w, reader, "/json");
    EXPECT_TRUE(absl::IsFailedPrecondition(again.status())) << again.status();
    EXPECT_NE(again.status().message().find("Connection: close"), absl::string_view::npos);
    // A close-delimited body completes at EOF.
    absl::StatusOr<typename B::HttpConnection> eof = co_await B::connect_http(this->ctx, server.url(), {});
    if (!eof.ok()) co_return eof.status();
    absl::StatusOr<HttpResponse> until_close = co_await get<B>(*eof, w, reader, "/eof");
    if (!until_close.ok()) co_return until_close.status();
    EXPECT_EQ(until_close->body, "body until close");
    EXPECT_FALSE(B::usable(*eof));
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

TYPED_TEST(Conformance, HttpFailuresArePrecise) {
  using B = TypeParam;
  testing::CannedHttpServer server;
  const http::RequestWriter w = make_writer();
  const std::uint16_t port = closed_port();
  absl::Status st = this->run([&]() -> TaskOf<B> {
    http::ResponseReader reader;
    // Closed mid-response: kUnavailable, and the connection is poisoned.
    absl::StatusOr<typename B::HttpConnection> a = co_await B::connect_http(this->ctx, server.url(), {});
    if (!a.ok()) co_return a.status();
    absl::StatusOr<HttpResponse> truncated = co_await get<B>(*a, w, reader, "/truncate");
    EXPECT_TRUE(absl::IsUnavailable(truncated.status())) << truncated.status();
    EXPECT_NE(truncated.status().message().find("UnexpectedEof"), absl::string_view::npos);
    EXPECT_FALSE(B::usable(*a));
    // A silent server: the read timeout.
    HttpOptions o;
    o.socket.read_timeout = absl::Milliseconds(150);
    absl::StatusOr<typename B::HttpConnection> b = co_await B::connect_http(this->ctx, server.url(), o);
    if (!b.ok()) co_return b.status();
    absl::StatusOr<HttpResponse> silent = co_await get<B>(*b, w, reader, "/silent");
    EXPECT_TRUE(absl::IsDeadlineExceeded(silent.status())) << silent.status();
    EXPECT_FALSE(B::usable(*b));
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;

  testing::CannedHttpServer fresh;
  absl::Status limits = this->run([&]() -> TaskOf<B> {
    http::Limits l;
    l.max_body_size = 8;
    http::ResponseReader small(l);
    absl::StatusOr<typename B::HttpConnection> c = co_await B::connect_http(this->ctx, fresh.url(), {});
    if (!c.ok()) co_return c.status();
    absl::StatusOr<HttpResponse> r = co_await get<B>(*c, w, small, "/json");
    EXPECT_TRUE(absl::IsResourceExhausted(r.status())) << r.status();
    EXPECT_NE(r.status().message().find("BodyTooLarge"), absl::string_view::npos);
    // Refused, bad URLs, unknown hosts.
    auto refused = co_await B::connect_http(this->ctx, "http://127.0.0.1:" + std::to_string(port), {});
    EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
    auto ws_url = co_await B::connect_http(this->ctx, "ws://h/", {});
    EXPECT_TRUE(absl::IsInvalidArgument(ws_url.status())) << ws_url.status();
    auto bad_port = co_await B::connect_http(this->ctx, "http://h:99999/", {});
    EXPECT_TRUE(absl::IsInvalidArgument(bad_port.status())) << bad_port.status();
    auto unknown = co_await B::connect_http(this->ctx, "http://no-such-host.invalid/", {});
    EXPECT_TRUE(absl::IsNotFound(unknown.status())) << unknown.status();
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(limits.ok()) << limits;
}

TYPED_TEST(Conformance, Https) {
  using B = TypeParam;
  const tls::TlsConfig good = tls::testing::server_tls_config(test_pki().good);
  const tls::TlsConfig client = tls::testing::client_tls_config();
  testing::CannedHttpServer server(&good);
  const http::RequestWriter w = make_writer();
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<typename B::HttpConnection> conn =
        co_await B::connect_http(this->ctx, server.url("https"), {.tls = &client});
    if (!conn.ok()) co_return conn.status();
    http::ResponseReader reader;
    for (int i = 0; i < 50; ++i) {
      absl::StatusOr<HttpResponse> r = co_await get<B>(*conn, w, reader, "/chunked");
      if (!r.ok()) co_return r.status();
      EXPECT_EQ(r->body, "hello, world");
    }
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(server.connections.load(), 1);
}

TYPED_TEST(Conformance, HttpNoAllocationsPerRequestAtEitherEnd) {
  using B = TypeParam;
  testing::CannedHttpServer server;
  const http::RequestWriter w = make_writer();
  std::size_t allocations = 1;
  absl::Status st = this->run([&]() -> TaskOf<B> {
    absl::StatusOr<typename B::HttpConnection> conn = co_await B::connect_http(this->ctx, server.url(), {});
    if (!conn.ok()) co_return conn.status();
    http::ResponseReader reader;
    const std::string_view body = R"({"side":"buy","symbol":"BTC-USD","qty":"0.01","px":"97000.5","tif":"IOC"})";
    for (int i = 0; i < 50; ++i) {  // warm up
      if (absl::StatusOr<HttpResponse> r = co_await get<B>(*conn, w, reader, "/json"); !r.ok()) co_return r.status();
    }
    testing::AllocCounter count;  // the server thread allocates nothing either
    for (int i = 0; i < 2000; ++i) {
      const http::WriteResult req = w.start(conn->request_buffer(), http::Method::Post, "/json")
                                        .header("Content-Type", "application/json")
                                        .body(body);
      if (!req.ok()) co_return absl::InternalError("request");
      absl::StatusOr<HttpResponse> r = co_await B::send(*conn, reader);
      if (!r.ok()) co_return r.status();
      if (r->status != 200) co_return absl::InternalError("status");
    }
    allocations = count.allocations();
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace tern
