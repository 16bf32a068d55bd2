#include "backends/asio/websocket.h"

#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "asio/bind_cancellation_slot.hpp"
#include "asio/bind_executor.hpp"
#include "asio/strand.hpp"
#include "asio/co_spawn.hpp"
#include "asio/detached.hpp"
#include "asio/experimental/deferred.hpp"
#include "asio/io_context.hpp"
#include "asio/steady_timer.hpp"
#include "asio/use_awaitable.hpp"
#include "asio/use_future.hpp"
#include "backends/asio/backend.h"
#include "backends/asio/socket.h"
#include "gtest/gtest.h"
#include "tests/asio/malloc_counter.h"
#include "tests/asio/scripted_peer.h"
#include "tests/support/alloc_counter.h"
#include "tests/tls/test_pki.h"

namespace tern::asio {
namespace {

using ::asio::use_awaitable;
using testing::bytes;
using testing::ScriptedServer;
using tls::testing::test_pki;

// An echo server on the io_context: every accepted client gets a coroutine.
struct EchoServer {
  explicit EchoServer(::asio::io_context& io, WebSocketOptions options = {}) : io(io), options(std::move(options)) {
    auto a = listen(io.get_executor(), "127.0.0.1", 0);
    EXPECT_TRUE(a.ok()) << a.status();
    acceptor.emplace(*std::move(a));
    ::asio::co_spawn(io, accept_loop(), ::asio::detached);
  }
  ::asio::awaitable<void> accept_loop() {
    for (;;) {
      absl::StatusOr<::asio::ip::tcp::socket> s = co_await accept(*acceptor, {});
      if (!s.ok()) co_return;
      ::asio::co_spawn(io, serve(*std::move(s)), ::asio::detached);
    }
  }
  ::asio::awaitable<void> serve(::asio::ip::tcp::socket s) {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_accept(std::move(s), options, use_awaitable);
    if (!ws.ok()) {
      last_error = ws.status().ToString();
      co_return;
    }
    served = &*ws;
    for (;;) {
      absl::StatusOr<ws::Message> m = co_await ws->recv();
      if (!m.ok()) {
        last_error = m.status().ToString();
        break;
      }
      if (m->opcode == ws::Opcode::Text) (void)co_await ws->send_text(m->text());
      if (m->opcode == ws::Opcode::Binary) (void)co_await ws->send_binary(m->payload);
      if (m->opcode == ws::Opcode::Close) {
        last_close = static_cast<int>(m->close_code);
        break;
      }
    }
    served = nullptr;
  }
  std::string url(const char* scheme = "ws") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(acceptor->local_endpoint().port()) + "/echo";
  }
  ::asio::io_context& io;
  WebSocketOptions options;
  std::optional<::asio::ip::tcp::acceptor> acceptor;
  WebSocket* served = nullptr;
  std::string last_error;
  int last_close = 0;
};

// Runs handlers until `done()` (bounded: 10 s without progress ends it).
template <typename Done>
void run_until(::asio::io_context& io, Done done) {
  io.restart();  // an io_context that ran out of work stays stopped
  while (!done() && io.run_one_for(std::chrono::seconds(10)) != 0) {
  }
}

// Runs the coroutine `body()` to its end on `io` (the lambda outlives it).
template <typename F>
absl::Status run(::asio::io_context& io, F body) {
  return Backend::run(io, body());
}

::asio::awaitable<absl::Status> echo_round_trips(WebSocket& ws) {
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

TEST(AsioWebSocket, EchoOverPlainTcpAndCleanClose) {
  ::asio::io_context io;
  EchoServer server(io, {.subprotocols = {"v2", "v1"}});
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    WebSocketOptions offer;
    offer.subprotocols = {"v1", "v2"};
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(io.get_executor(), server.url(), offer,
                                                                      use_awaitable);
    if (!ws.ok()) co_return ws.status();
    EXPECT_EQ(ws->subprotocol(), "v2");
    if (absl::Status e = co_await echo_round_trips(*ws); !e.ok()) co_return e;
    const std::string hb = "hb";
    if (absl::Status p = co_await ws->send_ping(bytes(hb)); !p.ok()) co_return p;
    absl::StatusOr<ws::Message> pong = co_await ws->recv();
    if (!pong.ok()) co_return pong.status();
    EXPECT_EQ(pong->opcode, ws::Opcode::Pong);
    EXPECT_EQ(pong->text(), "hb");
    absl::Status closed = co_await ws->close(ws::CloseCode::GoingAway, "bye");
    EXPECT_FALSE(ws->is_open());
    const std::string_view late_text = "late";
    absl::Status late = co_await ws->send_text(late_text);
    EXPECT_TRUE(absl::IsFailedPrecondition(late)) << late;
    co_return closed;
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(server.last_close, 1001);
}

TEST(AsioWebSocket, EchoOverTls) {
  const tls::TlsConfig server_config = tls::testing::server_tls_config(test_pki().good);
  const tls::TlsConfig client_config = tls::testing::client_tls_config();
  ::asio::io_context io;
  EchoServer server(io, {.tls = &server_config});
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(io.get_executor(), server.url("wss"),
                                                                      {.tls = &client_config}, use_awaitable);
    if (!ws.ok()) co_return ws.status();
    if (absl::Status e = co_await echo_round_trips(*ws); !e.ok()) co_return e;
    co_return co_await ws->close();
  });
  EXPECT_TRUE(st.ok()) << st;
}

TEST(AsioWebSocket, TlsUntrustedServerIsPermissionDenied) {
  const tls::TlsConfig server_config = tls::testing::server_tls_config(test_pki().self_signed);
  const tls::TlsConfig client_config = tls::testing::client_tls_config();
  ::asio::io_context io;
  EchoServer server(io, {.tls = &server_config});
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(io.get_executor(), server.url("wss"),
                                                                      {.tls = &client_config}, use_awaitable);
    co_return ws.status();
  });
  EXPECT_TRUE(absl::IsPermissionDenied(st)) << st;
}

TEST(AsioWebSocket, ConnectionRefusedIsUnavailable) {
  std::uint16_t port;
  {
    ::asio::io_context scratch;
    auto a = listen(scratch.get_executor(), "127.0.0.1", 0);
    ASSERT_TRUE(a.ok());
    port = a->local_endpoint().port();
  }
  ::asio::io_context io;
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(
        io.get_executor(), "ws://127.0.0.1:" + std::to_string(port) + "/", {}, use_awaitable);
    co_return ws.status();
  });
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_NE(st.message().find("connect 127.0.0.1:"), absl::string_view::npos) << st;
}

TEST(AsioWebSocket, BadUrlsAreInvalidArgument) {
  ::asio::io_context io;
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(io.get_executor(), "http://h/", {}, use_awaitable);
    co_return ws.status();
  });
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
}

// A server that accepts and never answers: the client's wait for the 101
// runs into its read deadline.
TEST(AsioWebSocket, SilentServerHitsTheReadTimeout) {
  ::asio::io_context io;
  auto a = listen(io.get_executor(), "127.0.0.1", 0);
  ASSERT_TRUE(a.ok());
  std::optional<::asio::ip::tcp::socket> held;
  a->async_accept([&](std::error_code, ::asio::ip::tcp::socket s) { held.emplace(std::move(s)); });
  WebSocketOptions o;
  o.socket.read_timeout = absl::Milliseconds(200);
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(
        io.get_executor(), "ws://127.0.0.1:" + std::to_string(a->local_endpoint().port()) + "/", o, use_awaitable);
    co_return ws.status();
  });
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_NE(st.message().find("read timed out after 200ms"), absl::string_view::npos) << st;
}

TEST(AsioWebSocket, HandshakeTimeoutIsTheCoresDecision) {
  ::asio::io_context io;
  auto a = listen(io.get_executor(), "127.0.0.1", 0);
  ASSERT_TRUE(a.ok());
  std::optional<::asio::ip::tcp::socket> held;
  a->async_accept([&](std::error_code, ::asio::ip::tcp::socket s) { held.emplace(std::move(s)); });
  WebSocketOptions o;
  o.handshake_timeout = absl::Milliseconds(100);
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(
        io.get_executor(), "ws://127.0.0.1:" + std::to_string(a->local_endpoint().port()) + "/", o, use_awaitable);
    co_return ws.status();
  });
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_NE(st.message().find("handshake timed out"), absl::string_view::npos) << st;
}

TEST(AsioWebSocket, ReadTimeoutWhileOpen) {
  // The peer opens and then says nothing.
  ScriptedServer peer([](posix::Socket& s, ws::Connection& c) {
    (void)ScriptedServer::read_messages(s, c, 1);  // until the client goes
  });
  ::asio::io_context io;
  WebSocketOptions o;
  o.socket.read_timeout = absl::Milliseconds(150);
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(io.get_executor(), peer.url(), o, use_awaitable);
    if (!ws.ok()) co_return ws.status();
    absl::StatusOr<ws::Message> m = co_await ws->recv();
    EXPECT_FALSE(ws->is_open());
    co_return m.status();
  });
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
}

TEST(AsioWebSocket, BatchedFramesLeaveInOneWrite) {
  ::asio::io_context io;
  EchoServer server(io);
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(io.get_executor(), server.url(), {}, use_awaitable);
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

// --- completion tokens --------------------------------------------------------

TEST(AsioWebSocket, CallbackTokens) {
  ::asio::io_context io;
  EchoServer server(io);
  std::optional<WebSocket> ws;
  std::vector<std::string> got;
  absl::Status last;
  bool inside = false;
  const std::string hello = "hello", again = "again";
  WebSocket::async_connect(io.get_executor(), server.url(), {}, [&](absl::StatusOr<WebSocket> c) {
    ASSERT_TRUE(c.ok()) << c.status();
    ws.emplace(*std::move(c));
    ws->async_send_text(hello, [&](absl::Status s) {
      EXPECT_TRUE(s.ok()) << s;
      ws->async_recv([&](absl::StatusOr<ws::Message> m) {
        ASSERT_TRUE(m.ok()) << m.status();
        got.emplace_back(m->text());
        // A frame the kernel takes at once still completes through the
        // io_context, never inside async_send_text().
        inside = true;
        ws->async_send_text(again, [&](absl::Status s2) {
          EXPECT_FALSE(inside);
          EXPECT_TRUE(s2.ok());
          ws->async_recv([&](absl::StatusOr<ws::Message> m2) {
            ASSERT_TRUE(m2.ok()) << m2.status();
            got.emplace_back(m2->text());
            ws->async_close(ws::CloseCode::Normal, "", [&](absl::Status s3) {
              last = s3;
              server.acceptor->close();
            });
          });
        });
        inside = false;
      });
    });
  });
  io.run_for(std::chrono::seconds(20));
  EXPECT_TRUE(last.ok()) << last;
  EXPECT_EQ(got, (std::vector<std::string>{"hello", "again"}));
}

TEST(AsioWebSocket, FutureToken) {
  ::asio::io_context io;
  EchoServer server(io);
  std::future<absl::StatusOr<WebSocket>> connecting =
      WebSocket::async_connect(io.get_executor(), server.url(), {}, ::asio::use_future);
  // One thread runs the io_context; initiating functions run on it too
  // (posted), as a connection's calls must come from its executor.
  std::thread runner([&] { io.run_for(std::chrono::seconds(20)); });
  absl::StatusOr<WebSocket> ws = connecting.get();
  ASSERT_TRUE(ws.ok()) << ws.status();
  const std::string text = "via futures";
  std::promise<std::future<absl::StatusOr<ws::Message>>> initiated;
  ::asio::post(io, [&] {
    (void)ws->async_send_text(text, ::asio::use_future);
    initiated.set_value(ws->async_recv(::asio::use_future));
  });
  absl::StatusOr<ws::Message> m = initiated.get_future().get().get();
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->text(), text);
  std::promise<void> closed;
  ::asio::post(io, [&] {
    ws->async_close(ws::CloseCode::Normal, "", [&](absl::Status) {
      ws = absl::CancelledError("moved away");  // destroy on the io thread
      server.acceptor->close();
      closed.set_value();
    });
  });
  closed.get_future().get();
  io.stop();
  runner.join();
}

TEST(AsioWebSocket, DeferredToken) {
  ::asio::io_context io;
  EchoServer server(io);
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(io.get_executor(), server.url(), {}, use_awaitable);
    if (!ws.ok()) co_return ws.status();
    const std::string text = "deferred";
    auto send_op = ws->async_send_text(text, ::asio::experimental::deferred);
    auto recv_op = ws->async_recv(::asio::experimental::deferred);
    // Nothing has started yet: the deferred operations run when given a token.
    if (absl::Status s = co_await std::move(send_op)(use_awaitable); !s.ok()) co_return s;
    absl::StatusOr<ws::Message> m = co_await std::move(recv_op)(use_awaitable);
    if (!m.ok()) co_return m.status();
    EXPECT_EQ(m->text(), text);
    co_return co_await ws->close();
  });
  EXPECT_TRUE(st.ok()) << st;
}

TEST(AsioWebSocket, SecondPendingReceiveIsFailedPrecondition) {
  ::asio::io_context io;
  EchoServer server(io);
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(io.get_executor(), server.url(), {}, use_awaitable);
    if (!ws.ok()) co_return ws.status();
    std::optional<absl::Status> first;
    ws->async_recv([&](absl::StatusOr<ws::Message> m) { first = m.status(); });
    absl::StatusOr<ws::Message> second = co_await ws->async_recv(use_awaitable);
    EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
    std::optional<absl::StatusOr<ws::Message>> third = ws->try_recv();
    EXPECT_TRUE(third.has_value() && absl::IsFailedPrecondition(third->status()));
    const std::string_view ping = "ping";
    (void)co_await ws->send_text(ping);
    for (int i = 0; i < 10000 && !first.has_value(); ++i) (void)co_await Backend::sleep_for(io, absl::Milliseconds(1));
    EXPECT_TRUE(first->ok()) << *first;
    co_return co_await ws->close();
  });
  EXPECT_TRUE(st.ok()) << st;
}

// --- zero allocations -----------------------------------------------------------

TEST(AsioWebSocket, NoAllocationsPerMessageAtEitherEndWithCoroutines) {
  ::asio::io_context io;
  EchoServer server(io);
  std::size_t allocations = 1;
  std::size_t mallocs = 1;
  std::size_t overflows = 1;
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(io.get_executor(), server.url(), {}, use_awaitable);
    if (!ws.ok()) co_return ws.status();
    const std::string payload(128, 'x');
    for (int i = 0; i < 100; ++i) {  // warm both ends (Asio's frame caches)
      (void)co_await ws->send_binary(bytes(payload));
      (void)co_await ws->recv();
    }
    tern::testing::AllocCounter count;  // the server is in this process, on this thread
    testing::MallocCounter c_count;       // Asio's caches fall back to aligned_alloc
    for (int i = 0; i < 10000; ++i) {
      if (absl::Status s = co_await ws->send_binary(bytes(payload)); !s.ok()) co_return s;
      absl::StatusOr<ws::Message> m = co_await ws->recv();
      if (!m.ok()) co_return m.status();
      if (m->payload.size() != payload.size()) co_return absl::InternalError("size");
    }
    allocations = count.allocations();
    mallocs = c_count.mallocs();
    overflows = ws->overflows() + server.served->overflows();
    co_return co_await ws->close();
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(allocations, 0u);
  if (testing::malloc_counting_available()) {
    EXPECT_EQ(mallocs, 0u);
  }
  EXPECT_EQ(overflows, 0u);
}

// Client and server driven by plain callbacks: each completion starts the
// next operation.
struct CallbackEcho {
  WebSocket& client;
  WebSocket& server;
  std::span<const std::uint8_t> payload;
  int left = 0;
  absl::Status error;
  void round() {
    client.async_send_binary(payload, [this](absl::Status s) {
      if (!s.ok()) return fail(s);
      server.async_recv([this](absl::StatusOr<ws::Message> m) {
        if (!m.ok()) return fail(m.status());
        server.async_send_binary(m->payload, [this](absl::Status s2) {
          if (!s2.ok()) return fail(s2);
        });
        client.async_recv([this](absl::StatusOr<ws::Message> back) {
          if (!back.ok()) return fail(back.status());
          if (--left > 0) round();
        });
      });
    });
  }
  void fail(absl::Status s) {
    error = std::move(s);
    left = 0;
  }
};

// Connects a client to a one-shot accept on `io`, both as WebSockets.
std::pair<std::optional<WebSocket>, std::optional<WebSocket>> connected_pair(::asio::io_context& io) {
  std::optional<WebSocket> client, server;
  auto a = listen(io.get_executor(), "127.0.0.1", 0);
  EXPECT_TRUE(a.ok());
  const std::string url = "ws://127.0.0.1:" + std::to_string(a->local_endpoint().port()) + "/";
  a->async_accept([&](std::error_code ec, ::asio::ip::tcp::socket s) {
    ASSERT_FALSE(ec);
    WebSocket::async_accept(std::move(s), {}, [&](absl::StatusOr<WebSocket> w) {
      ASSERT_TRUE(w.ok()) << w.status();
      server.emplace(*std::move(w));
    });
  });
  WebSocket::async_connect(io.get_executor(), url, {}, [&](absl::StatusOr<WebSocket> w) {
    ASSERT_TRUE(w.ok()) << w.status();
    client.emplace(*std::move(w));
  });
  run_until(io, [&] { return client && server; });
  return {std::move(client), std::move(server)};
}

// A handler bound to another executor (here a strand of the same
// io_context) is dispatched there.
TEST(AsioWebSocket, HandlerBoundToAStrandRunsThere) {
  ::asio::io_context io;
  auto [client, server] = connected_pair(io);
  ASSERT_TRUE(client && server);
  auto strand = ::asio::make_strand(io);
  bool done = false, in_strand = false;
  const std::string_view hi = "hi";
  server->async_send_text(hi, [](absl::Status) {});
  client->async_recv(::asio::bind_executor(strand, [&](absl::StatusOr<ws::Message> m) {
    EXPECT_TRUE(m.ok()) << m.status();
    in_strand = strand.running_in_this_thread();
    done = true;
  }));
  run_until(io, [&] { return done; });
  EXPECT_TRUE(in_strand);
}

TEST(AsioWebSocket, NoAllocationsPerMessageAtEitherEndWithCallbacks) {
  ::asio::io_context io;
  auto [client, server] = connected_pair(io);
  ASSERT_TRUE(client && server);
  const std::string payload(128, 'x');
  CallbackEcho echo{*client, *server, bytes(payload)};
  echo.left = 100;  // warm
  echo.round();
  run_until(io, [&] { return echo.left == 0; });
  ASSERT_TRUE(echo.error.ok()) << echo.error;
  io.restart();
  tern::testing::AllocCounter count;
  testing::MallocCounter c_count;
  echo.left = 10000;
  echo.round();
  while (echo.left > 0 && io.run_one_for(std::chrono::seconds(10)) != 0) {
  }
  const std::size_t allocations = count.allocations();
  const std::size_t mallocs = c_count.mallocs();
  ASSERT_TRUE(echo.error.ok()) << echo.error;
  ASSERT_EQ(echo.left, 0);
  EXPECT_EQ(allocations, 0u);
  if (testing::malloc_counting_available()) {
    EXPECT_EQ(mallocs, 0u);
  }
  EXPECT_EQ(client->overflows() + server->overflows(), 0u);
}

// --- faults ---------------------------------------------------------------------

// Lets a scripted peer waiting on `p` go on (at the latest when the test
// ends, even after a failed assertion, so the peer's thread can be joined).
struct Release {
  std::promise<void>& p;
  bool done = false;
  void now() {
    if (!done) p.set_value();
    done = true;
  }
  ~Release() { now(); }
};

TEST(AsioWebSocket, PeerVanishingMidFrameIsUnavailable) {
  ScriptedServer peer([](posix::Socket& s, ws::Connection&) {
    // A 10-byte binary frame of which 4 bytes arrive, then the peer is gone.
    const std::string half = std::string("\x82\x0a", 2) + "half";
    (void)s.write_all(bytes(half));
    s.close();
  });
  ::asio::io_context io;
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(io.get_executor(), peer.url(), {}, use_awaitable);
    if (!ws.ok()) co_return ws.status();
    absl::StatusOr<ws::Message> m = co_await ws->recv();
    EXPECT_FALSE(ws->is_open());
    co_return m.status();
  });
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_NE(st.message().find("1006"), absl::string_view::npos) << st;
}

// Cancelling a receive mid-frame: kCancelled, and the half frame already
// read is kept: the next receive completes the message.
TEST(AsioWebSocket, CancelledReceiveMidFrameKeepsTheConnectionAndTheBytes) {
  std::promise<void> cancelled;
  ScriptedServer peer([&](posix::Socket& s, ws::Connection& c) {
    (void)ScriptedServer::read_messages(s, c, 1);  // "go"
    const std::string frame = testing::server_frame(0x1, "hello world");
    (void)s.write_all(bytes(frame.substr(0, 6)));
    cancelled.get_future().wait();
    (void)s.write_all(bytes(frame.substr(6)));
    (void)ScriptedServer::read_messages(s, c, 1);  // until the client goes
  });
  Release release{cancelled};
  ::asio::io_context io;
  std::optional<WebSocket> ws;
  WebSocket::async_connect(io.get_executor(), peer.url(), {}, [&](absl::StatusOr<WebSocket> w) {
    ASSERT_TRUE(w.ok()) << w.status();
    ws.emplace(*std::move(w));
  });
  run_until(io, [&] { return ws.has_value(); });
  ASSERT_TRUE(ws);
  const std::uint64_t reads = ws->read_calls();
  const std::string_view go = "go";
  ws->async_send_text(go, [](absl::Status) {});
  ::asio::cancellation_signal signal;
  std::optional<absl::StatusOr<ws::Message>> first;
  ws->async_recv(::asio::bind_cancellation_slot(signal.slot(), [&](absl::StatusOr<ws::Message> m) { first = m; }));
  // Wait until the half frame has been read (the receive is then waiting
  // for the rest), then cancel.
  run_until(io, [&] { return ws->read_calls() != reads; });
  ASSERT_GT(ws->read_calls(), reads);
  EXPECT_FALSE(first.has_value());
  signal.emit(::asio::cancellation_type::terminal);
  run_until(io, [&] { return first.has_value(); });
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(absl::IsCancelled(first->status())) << first->status();
  EXPECT_TRUE(ws->is_open());
  release.now();
  std::optional<absl::StatusOr<ws::Message>> second;
  ws->async_recv([&](absl::StatusOr<ws::Message> m) {
    second = m;
    if (m.ok()) {
      EXPECT_EQ(m->text(), "hello world");
    }
  });
  run_until(io, [&] { return second.has_value(); });
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->ok()) << second->status();
  ws.reset();
}

// A peer that stops reading: frames pile up in the kernel until a send must
// wait. With 7-byte frames the kernel takes each whole or not at all, so
// the waiting one has not started to leave: cancelling it keeps the
// connection, and its frame leaves with the next flush.
TEST(AsioWebSocket, CancelledSendWithNothingSentStaysQueuedAndUsable) {
  std::promise<void> drain;
  std::promise<std::vector<std::string>> received;
  std::atomic<std::size_t> expected{0};
  ScriptedServer peer(
      [&](posix::Socket& s, ws::Connection& c) {
        drain.get_future().wait();
        received.set_value(ScriptedServer::read_messages(s, c, expected.load()));
      },
      SocketOptions{.receive_buffer = 4096});
  Release release{drain};
  ::asio::io_context io;
  WebSocketOptions o;
  o.socket.send_buffer = 4096;
  std::optional<WebSocket> ws;
  WebSocket::async_connect(io.get_executor(), peer.url(), o, [&](absl::StatusOr<WebSocket> w) {
    ASSERT_TRUE(w.ok()) << w.status();
    ws.emplace(*std::move(w));
  });
  run_until(io, [&] { return ws.has_value(); });
  ASSERT_TRUE(ws);
  ::asio::cancellation_signal signal;
  std::optional<absl::Status> done;
  std::size_t sent = 0;
  const std::string_view x = "x";
  for (; sent < 1000000; ++sent) {
    done.reset();
    ws->async_send_text(x, ::asio::bind_cancellation_slot(signal.slot(), [&](absl::Status s) { done = s; }));
    io.restart();
    io.poll();
    if (!done) break;  // this one waits for the kernel
    ASSERT_TRUE(done->ok()) << *done;
  }
  ASSERT_FALSE(done.has_value()) << "the kernel never filled up";
  signal.emit(::asio::cancellation_type::terminal);
  run_until(io, [&] { return done.has_value(); });
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(absl::IsCancelled(*done)) << *done;
  EXPECT_TRUE(ws->is_open());
  // The peer reads again: the queued frame leaves with the next flush, whole.
  expected = sent + 1;
  release.now();
  std::optional<absl::Status> flushed;
  ws->async_flush([&](absl::Status s) { flushed = s; });
  run_until(io, [&] { return flushed.has_value(); });
  ASSERT_TRUE(flushed.has_value());
  EXPECT_TRUE(flushed->ok()) << *flushed;
  std::vector<std::string> got = received.get_future().get();
  EXPECT_EQ(got.size(), sent + 1);
  for (const std::string& m : got) ASSERT_EQ(m, "x");
  ws.reset();
}

// A large frame half-sent to a peer that does not read: partial cancellation
// is refused (the write goes on), terminal cancellation poisons.
TEST(AsioWebSocket, CancelledSendHalfSentRefusesPartialAndPoisonsOnTerminal) {
  std::promise<void> done_with_peer;
  ScriptedServer peer([&](posix::Socket&, ws::Connection&) { done_with_peer.get_future().wait(); },
                      SocketOptions{.receive_buffer = 4096});
  Release release{done_with_peer};
  ::asio::io_context io;
  WebSocketOptions o;
  o.socket.send_buffer = 4096;
  o.write_buffer_size = (4u << 20) + 64;
  std::optional<WebSocket> ws;
  WebSocket::async_connect(io.get_executor(), peer.url(), o, [&](absl::StatusOr<WebSocket> w) {
    ASSERT_TRUE(w.ok()) << w.status();
    ws.emplace(*std::move(w));
  });
  run_until(io, [&] { return ws.has_value(); });
  ASSERT_TRUE(ws);
  const std::string big(4u << 20, 'b');
  ::asio::cancellation_signal signal;
  std::optional<absl::Status> done;
  ws->async_send_binary(bytes(big), ::asio::bind_cancellation_slot(signal.slot(), [&](absl::Status s) { done = s; }));
  io.restart();
  io.poll();
  ASSERT_FALSE(done.has_value());
  signal.emit(::asio::cancellation_type::partial);
  io.poll();
  EXPECT_FALSE(done.has_value()) << "partial cancellation of a half-sent frame is refused";
  signal.emit(::asio::cancellation_type::terminal);
  run_until(io, [&] { return done.has_value(); });
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(absl::IsCancelled(*done)) << *done;
  EXPECT_FALSE(ws->is_open());
  std::optional<absl::Status> later;
  const std::string_view after = "after";
  ws->async_send_text(after, [&](absl::Status s) { later = s; });
  run_until(io, [&] { return later.has_value(); });
  ASSERT_TRUE(later.has_value());
  EXPECT_TRUE(absl::IsCancelled(*later)) << *later;
  EXPECT_NE(later->message().find("half-sent"), absl::string_view::npos) << *later;
  ws.reset();
}

TEST(AsioWebSocket, PeerThatDoesNotReadHitsTheWriteTimeout) {
  std::promise<void> done_with_peer;
  ScriptedServer peer([&](posix::Socket&, ws::Connection&) { done_with_peer.get_future().wait(); },
                      SocketOptions{.receive_buffer = 4096});
  Release release{done_with_peer};
  ::asio::io_context io;
  WebSocketOptions o;
  o.socket.send_buffer = 4096;
  o.socket.write_timeout = absl::Milliseconds(200);
  o.write_buffer_size = (4u << 20) + 64;
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(io.get_executor(), peer.url(), o, use_awaitable);
    if (!ws.ok()) co_return ws.status();
    const std::string big(4u << 20, 'b');
    absl::Status s = co_await ws->send_binary(bytes(big));
    EXPECT_FALSE(ws->is_open());
    co_return s;
  });
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_NE(st.message().find("write timed out after 200ms"), absl::string_view::npos) << st;
}

// An idle connection gives its buffers back (release_memory_when_idle) by
// cancelling the read in flight first; the wait for bytes goes on, and what
// arrives later is intact.
TEST(AsioWebSocket, IdleConnectionReleasesItsBuffersAndKeepsReading) {
  std::promise<void> speak;
  ScriptedServer peer([&](posix::Socket& s, ws::Connection& c) {
    speak.get_future().wait();
    const std::string frame = testing::server_frame(0x1, "after a nap");
    (void)s.write_all(bytes(frame));
    (void)ScriptedServer::read_messages(s, c, 1);  // until the client goes
  });
  Release release{speak};
  ::asio::io_context io;
  WebSocketOptions o;
  o.socket.release_memory_when_idle = absl::Milliseconds(20);
  o.socket.read_timeout = absl::Seconds(20);
  std::optional<WebSocket> ws;
  WebSocket::async_connect(io.get_executor(), peer.url(), o, [&](absl::StatusOr<WebSocket> w) {
    ASSERT_TRUE(w.ok()) << w.status();
    ws.emplace(*std::move(w));
  });
  run_until(io, [&] { return ws.has_value(); });
  ASSERT_TRUE(ws);
  std::optional<absl::StatusOr<ws::Message>> got;
  ws->async_recv([&](absl::StatusOr<ws::Message> m) {
    got = m;
    if (m.ok()) {
      EXPECT_EQ(m->text(), "after a nap");
    }
  });
  run_until(io, [&] { return ws->memory_releases() > 0; });
  EXPECT_EQ(ws->memory_releases(), 1u);
  EXPECT_FALSE(got.has_value()) << "the receive still waits";
  release.now();
  run_until(io, [&] { return got.has_value(); });
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->ok()) << got->status();
  EXPECT_EQ(ws->memory_releases(), 1u) << "released once per idle spell";
  ws.reset();
}

// --- the io_context going away ---------------------------------------------------

// Coroutines suspended in receives when the io_context is destroyed: their
// frames (and the WebSockets in them) are destroyed with it; ASan and LSan
// check that nothing leaks or is touched afterwards.
TEST(AsioWebSocket, IoContextDestroyedWithCoroutinesPending) {
  auto io = std::make_unique<::asio::io_context>();
  EchoServer server(*io);
  bool connected = false;
  ::asio::co_spawn(
      *io,
      [&]() -> ::asio::awaitable<void> {
        absl::StatusOr<WebSocket> ws =
            co_await WebSocket::async_connect(io->get_executor(), server.url(), {}, use_awaitable);
        if (!ws.ok()) co_return;
        connected = true;
        (void)co_await ws->recv();  // never answered
        ADD_FAILURE() << "resumed after the io_context stopped";
      },
      ::asio::detached);
  run_until(*io, [&] { return connected && server.served != nullptr; });
  ASSERT_TRUE(connected);
  io->stop();
  server.acceptor.reset();
  io.reset();
}

// Callbacks pending when the io_context stops: the WebSocket is destroyed
// (its operations end, but nothing runs them), then the io_context: the
// handlers are destroyed unrun and release what they hold.
TEST(AsioWebSocket, IoContextStoppedWithCallbacksPending) {
  auto io = std::make_unique<::asio::io_context>();
  auto [client, server] = connected_pair(*io);
  ASSERT_TRUE(client && server);
  auto token = std::make_shared<int>(0);
  bool ran = false;
  client->async_recv([&ran, token](absl::StatusOr<ws::Message>) { ran = true; });
  const std::string big(1u << 20, 'q');
  server->async_send_binary(bytes(big), [&ran, token](absl::Status) { ran = true; });
  io->stop();
  client.reset();
  server.reset();
  EXPECT_GT(token.use_count(), 1);
  io.reset();
  EXPECT_FALSE(ran);
  EXPECT_EQ(token.use_count(), 1) << "handlers destroyed with the io_context";
}

// Stopped, then run again: the pending operation simply completes.
TEST(AsioWebSocket, IoContextStoppedAndRestarted) {
  ::asio::io_context io;
  auto [client, server] = connected_pair(io);
  ASSERT_TRUE(client && server);
  std::optional<absl::StatusOr<ws::Message>> got;
  client->async_recv([&](absl::StatusOr<ws::Message> m) { got = m; });
  io.restart();
  io.poll();
  io.stop();
  const std::string_view late = "late";
  server->async_send_text(late, [](absl::Status) {});
  run_until(io, [&] { return got.has_value(); });
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->ok()) << got->status();
}

// Destroying a WebSocket with a receive pending completes it with kCancelled.
TEST(AsioWebSocket, DestroyingTheConnectionCancelsPendingOperations) {
  ::asio::io_context io;
  auto [client, server] = connected_pair(io);
  ASSERT_TRUE(client && server);
  std::optional<absl::Status> got;
  client->async_recv([&](absl::StatusOr<ws::Message> m) { got = m.status(); });
  io.restart();
  io.poll();
  client.reset();
  run_until(io, [&] { return got.has_value(); });
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(absl::IsCancelled(*got)) << *got;
}

}  // namespace
}  // namespace tern::asio
