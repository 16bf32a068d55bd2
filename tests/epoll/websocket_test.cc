#include "backends/epoll/websocket.h"

#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/epoll/event_loop.h"
#include "backends/epoll/socket.h"
#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"
#include "tests/tls/test_pki.h"

namespace tern::epoll {
namespace {

using tls::testing::test_pki;

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// An echo server on the loop: every accepted client gets its own task.
struct EchoServer {
  EchoServer(EventLoop& loop, WebSocketOptions options = {}) : loop(loop), options(std::move(options)) {
    auto l = Listener::bind(loop, "127.0.0.1", 0);
    EXPECT_TRUE(l.ok()) << l.status();
    listener.emplace(*std::move(l));
    loop.spawn([this]() -> Task<absl::Status> {
      for (;;) {
        absl::StatusOr<Socket> s = co_await listener->accept();
        if (!s.ok()) co_return absl::OkStatus();
        this->loop.spawn(serve(*std::move(s)));
      }
    });
  }
  Task<absl::Status> serve(Socket s) {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::accept(loop, std::move(s), options);
    if (!ws.ok()) {
      last_error = ws.status().ToString();
      co_return absl::OkStatus();
    }
    for (;;) {
      absl::StatusOr<ws::Message> m = co_await ws->recv();
      if (!m.ok()) {
        last_error = m.status().ToString();
        co_return absl::OkStatus();
      }
      if (m->opcode == ws::Opcode::Text) (void)co_await ws->send_text(m->text());
      if (m->opcode == ws::Opcode::Binary) (void)co_await ws->send_binary(m->payload);
      if (m->opcode == ws::Opcode::Close) {
        last_close = static_cast<int>(m->close_code);
        co_return absl::OkStatus();
      }
    }
  }
  std::string url(const char* scheme = "ws") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(listener->port()) + "/echo";
  }
  EventLoop& loop;
  WebSocketOptions options;
  std::optional<Listener> listener;
  std::string last_error;
  int last_close = 0;
};

// Runs `body` as a task and the loop until it ends (the server's accept
// loop is stopped then).
template <typename F>
absl::Status run(EventLoop& loop, EchoServer* server, F body) {
  absl::Status result = absl::UnknownError("did not finish");
  loop.spawn(std::move(body), [&](absl::Status st) {
    result = st;
    if (server != nullptr) server->listener->close();
  });
  loop.run();
  return result;
}

Task<absl::Status> echo_round_trips(WebSocket& ws) {
  std::mt19937 rng(7);
  for (std::size_t size : {0u, 1u, 125u, 126u, 4000u, 65535u, 65536u, 300000u}) {
    std::string text(size, 'a');
    for (char& c : text) c = static_cast<char>('a' + rng() % 26);
    if (absl::Status st = co_await ws.send_text(text); !st.ok()) co_return st;
    absl::StatusOr<ws::Message> m = co_await ws.recv();
    if (!m.ok()) co_return m.status();
    if (m->opcode != ws::Opcode::Text || m->text() != text) co_return absl::InternalError("text mismatch");
    std::string bin(size, '\0');
    for (char& c : bin) c = static_cast<char>(rng());
    if (absl::Status st = co_await ws.send_binary(bytes(bin)); !st.ok()) co_return st;
    absl::StatusOr<WebSocket::OwnedMessage> owned = co_await ws.recv_owned();
    if (!owned.ok()) co_return owned.status();
    if (owned->opcode != ws::Opcode::Binary || owned->payload != bin) co_return absl::InternalError("binary mismatch");
  }
  co_return absl::OkStatus();
}

TEST(EpollWebSocket, EchoOverPlainTcpAndCleanClose) {
  EventLoop loop;
  EchoServer server(loop, {.subprotocols = {"v2", "v1"}});
  absl::Status st = run(loop, &server, [&]() -> Task<absl::Status> {
    WebSocketOptions offer;
    offer.subprotocols = {"v1", "v2"};
    absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, server.url(), offer);
    if (!ws.ok()) co_return ws.status();
    EXPECT_EQ(ws->subprotocol(), "v2");
    if (absl::Status e = co_await echo_round_trips(*ws); !e.ok()) co_return e;
    const std::string hb = "hb";
    if (absl::Status p = co_await ws->send_ping(bytes(hb)); !p.ok()) co_return p;
    absl::StatusOr<ws::Message> pong = co_await ws->recv();
    if (!pong.ok()) co_return pong.status();
    EXPECT_EQ(pong->opcode, ws::Opcode::Pong);
    EXPECT_EQ(pong->text(), "hb");
    std::string bye = "bye";
    absl::Status closed = co_await ws->close(ws::CloseCode::GoingAway, std::move(bye));
    EXPECT_FALSE(ws->is_open());
    // (A string literal straight inside a co_await expression trips GCC 12:
    // "array used as initializer"; a named view does not.)
    const std::string_view late_text = "late";
    absl::Status late = co_await ws->send_text(late_text);
    EXPECT_TRUE(absl::IsFailedPrecondition(late)) << late;
    co_return closed;
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(server.last_close, 1001);
}

TEST(EpollWebSocket, LevelTriggeredModeEchoesToo) {
  // The comparison mode of bench/epoll/trigger_bench: same behaviour.
  EventLoop loop({.level_triggered = true});
  EchoServer server(loop);
  absl::Status st = run(loop, &server, [&]() -> Task<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, server.url());
    if (!ws.ok()) co_return ws.status();
    if (absl::Status e = co_await echo_round_trips(*ws); !e.ok()) co_return e;
    co_return co_await ws->close();
  });
  EXPECT_TRUE(st.ok()) << st;
}

TEST(EpollWebSocket, EchoOverTls) {
  auto server_config = tls::TlsConfig::server()
                           .certificate_chain_pem(test_pki().good.cert_pem)
                           .private_key_pem(test_pki().good.key_pem)
                           .build();
  ASSERT_TRUE(server_config.ok());
  auto client_config =
      tls::TlsConfig::client().use_system_trust_store(false).add_ca_pem(test_pki().ca.cert_pem).build();
  ASSERT_TRUE(client_config.ok());
  EventLoop loop;
  EchoServer server(loop, {.tls = &*server_config});
  absl::Status st = run(loop, &server, [&]() -> Task<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, server.url("wss"), {.tls = &*client_config});
    if (!ws.ok()) co_return ws.status();
    if (absl::Status e = co_await echo_round_trips(*ws); !e.ok()) co_return e;
    co_return co_await ws->close();
  });
  EXPECT_TRUE(st.ok()) << st;
}

TEST(EpollWebSocket, ConnectionRefusedIsUnavailable) {
  std::uint16_t port;
  {
    EventLoop scratch;
    auto l = Listener::bind(scratch, "127.0.0.1", 0);
    ASSERT_TRUE(l.ok());
    port = l->port();
  }
  EventLoop loop;
  absl::Status st = run(loop, nullptr, [&]() -> Task<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, "ws://127.0.0.1:" + std::to_string(port) + "/");
    co_return ws.status();
  });
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
}

TEST(EpollWebSocket, SilentServerHitsTheReadTimeout) {
  EventLoop loop;
  auto l = Listener::bind(loop, "127.0.0.1", 0);
  ASSERT_TRUE(l.ok());
  std::optional<Socket> held;
  loop.spawn([&]() -> Task<absl::Status> {
    absl::StatusOr<Socket> s = co_await l->accept();  // accepts, never answers
    if (s.ok()) held.emplace(*std::move(s));
    co_return absl::OkStatus();
  });
  WebSocketOptions o;
  o.socket.read_timeout = absl::Milliseconds(200);
  absl::Status st = run(loop, nullptr, [&]() -> Task<absl::Status> {
    absl::StatusOr<WebSocket> ws =
        co_await WebSocket::connect(loop, "ws://127.0.0.1:" + std::to_string(l->port()) + "/", o);
    co_return ws.status();
  });
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
}

TEST(EpollWebSocket, HandshakeTimeoutIsTheCoresDecision) {
  EventLoop loop;
  auto l = Listener::bind(loop, "127.0.0.1", 0);
  ASSERT_TRUE(l.ok());
  std::optional<Socket> held;
  loop.spawn([&]() -> Task<absl::Status> {
    absl::StatusOr<Socket> s = co_await l->accept();
    if (s.ok()) held.emplace(*std::move(s));
    co_return absl::OkStatus();
  });
  WebSocketOptions o;
  o.handshake_timeout = absl::Milliseconds(100);
  absl::Status st = run(loop, nullptr, [&]() -> Task<absl::Status> {
    absl::StatusOr<WebSocket> ws =
        co_await WebSocket::connect(loop, "ws://127.0.0.1:" + std::to_string(l->port()) + "/", o);
    co_return ws.status();
  });
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_NE(st.message().find("handshake timed out"), absl::string_view::npos) << st;
}

TEST(EpollWebSocket, BatchedFramesLeaveInOneSend) {
  EventLoop loop;
  EchoServer server(loop);
  absl::Status st = run(loop, &server, [&]() -> Task<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, server.url());
    if (!ws.ok()) co_return ws.status();
    const std::uint64_t before = ws->write_calls();
    for (int i = 0; i < 10; ++i) {
      if (absl::Status q = ws->queue_text("frame " + std::to_string(i)); !q.ok()) co_return q;
    }
    EXPECT_EQ(ws->write_calls(), before) << "queue_* makes no syscall";
    if (absl::Status f = co_await ws->flush(); !f.ok()) co_return f;
    EXPECT_EQ(ws->write_calls(), before + 1) << "ten frames, one send(2)";
    for (int i = 0; i < 10; ++i) {
      absl::StatusOr<ws::Message> m = co_await ws->recv();
      if (!m.ok()) co_return m.status();
      EXPECT_EQ(m->text(), "frame " + std::to_string(i));
    }
    co_return co_await ws->close();
  });
  EXPECT_TRUE(st.ok()) << st;
}

TEST(EpollWebSocket, NoAllocationsPerMessageAtEitherEnd) {
  EventLoop loop;
  EchoServer server(loop);
  std::size_t allocations = 1;
  absl::Status st = run(loop, &server, [&]() -> Task<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, server.url());
    if (!ws.ok()) co_return ws.status();
    const std::string payload(128, 'x');
    for (int i = 0; i < 100; ++i) {  // warm both ends (frame pools)
      (void)co_await ws->send_binary(bytes(payload));
      (void)co_await ws->recv();
    }
    testing::AllocCounter count;  // the server is in this process, on this loop
    for (int i = 0; i < 10000; ++i) {
      if (absl::Status s = co_await ws->send_binary(bytes(payload)); !s.ok()) co_return s;
      absl::StatusOr<ws::Message> m = co_await ws->recv();
      if (!m.ok()) co_return m.status();
      if (m->payload.size() != payload.size()) co_return absl::InternalError("size");
    }
    allocations = count.allocations();
    co_return co_await ws->close();
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace tern::epoll
