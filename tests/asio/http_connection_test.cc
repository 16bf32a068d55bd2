#include "backends/asio/http_connection.h"

#include <optional>
#include <string>

#include "asio/bind_cancellation_slot.hpp"
#include "asio/io_context.hpp"
#include "asio/use_awaitable.hpp"
#include "backends/asio/backend.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"
#include "gtest/gtest.h"
#include "tests/asio/malloc_counter.h"
#include "tests/support/alloc_counter.h"
#include "tests/support/canned_http_server.h"
#include "tests/tls/test_pki.h"

// The Asio HttpConnection: keep-alive, https, pipelining halves, tokens,
// cancellation and allocation. Paths choose the canned server's behaviour
// (tests/support/canned_http_server.h).
namespace tern::asio {
namespace {

using ::asio::use_awaitable;

template <typename F>
absl::Status run(::asio::io_context& io, F body) {
  return Backend::run(io, body());
}

http::RequestWriter writer() {
  auto w = http::RequestWriter::create({.host = "127.0.0.1"});
  EXPECT_TRUE(w.ok());
  return *std::move(w);
}

TEST(AsioHttp, KeepAliveServesAThousandRequestsOnOneConnection) {
  tern::testing::CannedHttpServer server;
  ::asio::io_context io;
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<HttpConnection> conn =
        co_await HttpConnection::async_connect(io.get_executor(), server.url() + "/ignored", {}, use_awaitable);
    if (!conn.ok()) co_return conn.status();
    EXPECT_EQ(conn->authority(), "127.0.0.1:" + server.url().substr(server.url().rfind(':') + 1));
    const http::RequestWriter w = writer();
    http::ResponseReader reader;
    for (int i = 0; i < 1000; ++i) {
      if (!w.start(conn->request_buffer(), http::Method::Get, i % 2 ? "/json" : "/chunked").finish().ok()) {
        co_return absl::InternalError("request");
      }
      absl::StatusOr<HttpResponse> r = co_await conn->send(reader);
      if (!r.ok()) co_return r.status();
      EXPECT_EQ(r->status, 200);
      if (i % 2 == 0) {
        EXPECT_EQ(r->body, "hello, world");
      }
    }
    EXPECT_TRUE(conn->reusable());
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(server.connections.load(), 1);
}

TEST(AsioHttp, ConnectionCloseEndsReuseAndSilenceHitsTheReadTimeout) {
  tern::testing::CannedHttpServer server;
  ::asio::io_context io;
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    const http::RequestWriter w = writer();
    http::ResponseReader reader;
    absl::StatusOr<HttpConnection> conn =
        co_await HttpConnection::async_connect(io.get_executor(), server.url(), {}, use_awaitable);
    if (!conn.ok()) co_return conn.status();
    (void)w.start(conn->request_buffer(), http::Method::Get, "/close").finish();
    absl::StatusOr<HttpResponse> r = co_await conn->send(reader);
    if (!r.ok()) co_return r.status();
    EXPECT_FALSE(conn->reusable());
    EXPECT_TRUE(absl::IsUnavailable(conn->finished())) << conn->finished();
    (void)w.start(conn->request_buffer(), http::Method::Get, "/json").finish();
    absl::StatusOr<HttpResponse> again = co_await conn->send(reader);
    EXPECT_TRUE(absl::IsFailedPrecondition(again.status())) << again.status();

    HttpOptions o;
    o.socket.read_timeout = absl::Milliseconds(150);
    absl::StatusOr<HttpConnection> slow =
        co_await HttpConnection::async_connect(io.get_executor(), server.url(), o, use_awaitable);
    if (!slow.ok()) co_return slow.status();
    (void)w.start(slow->request_buffer(), http::Method::Get, "/silent").finish();
    absl::StatusOr<HttpResponse> silent = co_await slow->send(reader);
    EXPECT_TRUE(absl::IsDeadlineExceeded(silent.status())) << silent.status();
    EXPECT_FALSE(slow->reusable());
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

TEST(AsioHttp, HttpsAndAnUntrustedCertificate) {
  const tls::TlsConfig server_config = tls::testing::server_tls_config(tls::testing::test_pki().good);
  const tls::TlsConfig client_config = tls::testing::client_tls_config();
  tern::testing::CannedHttpServer server(&server_config);
  ::asio::io_context io;
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<HttpConnection> conn = co_await HttpConnection::async_connect(
        io.get_executor(), server.url("https"), {.tls = &client_config}, use_awaitable);
    if (!conn.ok()) co_return conn.status();
    EXPECT_TRUE(conn->secure());
    const http::RequestWriter w = writer();
    http::ResponseReader reader;
    for (int i = 0; i < 3; ++i) {
      (void)w.start(conn->request_buffer(), http::Method::Get, "/chunked").finish();
      absl::StatusOr<HttpResponse> r = co_await conn->send(reader);
      if (!r.ok()) co_return r.status();
      EXPECT_EQ(r->body, "hello, world");
    }
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;

  const tls::TlsConfig system_only = *tls::TlsConfig::client().build();  // test CA unknown
  absl::Status untrusted = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<HttpConnection> conn = co_await HttpConnection::async_connect(
        io.get_executor(), server.url("https"), {.tls = &system_only}, use_awaitable);
    co_return conn.status();
  });
  EXPECT_TRUE(absl::IsPermissionDenied(untrusted)) << untrusted;
}

TEST(AsioHttp, PipelinedHalvesWithCallbacks) {
  tern::testing::CannedHttpServer server;
  ::asio::io_context io;
  std::optional<HttpConnection> conn;
  HttpConnection::async_connect(io.get_executor(), server.url(), {}, [&](absl::StatusOr<HttpConnection> c) {
    ASSERT_TRUE(c.ok()) << c.status();
    conn.emplace(*std::move(c));
  });
  io.run();
  ASSERT_TRUE(conn);
  const http::RequestWriter w = writer();
  http::ResponseReader reader;
  std::vector<std::string> bodies;
  ASSERT_TRUE(w.start(conn->request_buffer(), http::Method::Head, "/json").finish().ok());
  conn->async_write_request([](absl::Status s) { EXPECT_TRUE(s.ok()) << s; });
  io.restart();
  io.run();
  ASSERT_TRUE(w.start(conn->request_buffer(), http::Method::Get, "/chunked").finish().ok());
  conn->async_write_request([](absl::Status s) { EXPECT_TRUE(s.ok()) << s; });
  conn->async_read_response(reader, [&](absl::StatusOr<HttpResponse> head) {
    ASSERT_TRUE(head.ok()) << head.status();
    bodies.emplace_back(head->body);  // HEAD: the connection knew the method
    conn->async_read_response(reader, [&](absl::StatusOr<HttpResponse> r) {
      ASSERT_TRUE(r.ok()) << r.status();
      bodies.emplace_back(r->body);
    });
  });
  io.restart();
  io.run();
  EXPECT_EQ(bodies, (std::vector<std::string>{"", "hello, world"}));
  EXPECT_TRUE(conn->reusable());
}

TEST(AsioHttp, CancelledRequestPoisonsTheConnection) {
  tern::testing::CannedHttpServer server;
  ::asio::io_context io;
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<HttpConnection> conn =
        co_await HttpConnection::async_connect(io.get_executor(), server.url(), {}, use_awaitable);
    if (!conn.ok()) co_return conn.status();
    const http::RequestWriter w = writer();
    http::ResponseReader reader;
    (void)w.start(conn->request_buffer(), http::Method::Get, "/silent").finish();
    ::asio::cancellation_signal signal;
    ::asio::steady_timer timer(io, std::chrono::milliseconds(20));
    timer.async_wait([&](std::error_code ec) {
      if (!ec) signal.emit(::asio::cancellation_type::terminal);
    });
    absl::StatusOr<HttpResponse> r =
        co_await conn->async_send(reader, ::asio::bind_cancellation_slot(signal.slot(), use_awaitable));
    EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
    EXPECT_FALSE(conn->reusable());
    EXPECT_TRUE(absl::IsCancelled(conn->finished())) << conn->finished();
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
}

TEST(AsioHttp, NoAllocationsPerRequestOnceConnected) {
  tern::testing::CannedHttpServer server;
  ::asio::io_context io;
  std::size_t allocations = 1;
  std::size_t mallocs = 1;
  absl::Status st = run(io, [&]() -> ::asio::awaitable<absl::Status> {
    absl::StatusOr<HttpConnection> conn =
        co_await HttpConnection::async_connect(io.get_executor(), server.url(), {}, use_awaitable);
    if (!conn.ok()) co_return conn.status();
    const http::RequestWriter w = writer();
    http::ResponseReader reader;
    auto once = [&]() -> ::asio::awaitable<absl::Status> {
      if (!w.start(conn->request_buffer(), http::Method::Get, "/json").finish().ok()) {
        co_return absl::InternalError("request");
      }
      absl::StatusOr<HttpResponse> r = co_await conn->send(reader);
      co_return r.status();
    };
    for (int i = 0; i < 50; ++i) (void)co_await once();
    // The canned server runs on its own thread and allocates nothing per
    // request either.
    tern::testing::AllocCounter count;
    testing::MallocCounter c_count;
    for (int i = 0; i < 2000; ++i) {
      if (absl::Status s = co_await once(); !s.ok()) co_return s;
    }
    allocations = count.allocations();
    mallocs = c_count.mallocs();
    EXPECT_EQ(conn->overflows(), 0u);
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(allocations, 0u);
  if (testing::malloc_counting_available()) {
    EXPECT_EQ(mallocs, 0u);
  }
}

}  // namespace
}  // namespace tern::asio
