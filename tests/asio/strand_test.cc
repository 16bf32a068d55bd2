// The Asio backend on a thread pool: each connection on its own strand,
// client and server in one process, two threads running handlers. Run under
// --config=tsan: the transport's state, its timer, its handler memory and a
// cancellation crossing from a timer to a pending receive must all be
// ordered by the strand.
#include <cstdio>
#include <future>
#include <string>

#include "asio/bind_cancellation_slot.hpp"
#include "asio/co_spawn.hpp"
#include "asio/experimental/as_tuple.hpp"
#include "asio/steady_timer.hpp"
#include "asio/strand.hpp"
#include "asio/thread_pool.hpp"
#include "asio/use_awaitable.hpp"
#include "backends/asio/socket.h"
#include "backends/asio/websocket.h"
#include "gtest/gtest.h"
#include "tests/asio/malloc_counter.h"
#include "tests/support/alloc_counter.h"

namespace tern::asio {
namespace {

using ::asio::use_awaitable;

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

::asio::awaitable<absl::Status> serve(::asio::ip::tcp::socket s, WebSocketOptions o) {
  absl::StatusOr<WebSocket> ws = co_await WebSocket::async_accept(std::move(s), o, use_awaitable);
  if (!ws.ok()) co_return ws.status();
  for (;;) {
    absl::StatusOr<ws::Message> m = co_await ws->recv();
    if (!m.ok()) co_return m.status();
    if (m->opcode == ws::Opcode::Close) co_return absl::OkStatus();
    absl::Status st = m->opcode == ws::Opcode::Text ? co_await ws->send_text(m->text())
                                                    : co_await ws->send_binary(m->payload);
    if (!st.ok()) co_return st;
  }
}

struct Measured {
  std::size_t allocations = 0;
  std::size_t mallocs = 0;
  int round_trips = 0;
};

::asio::awaitable<absl::Status> client(::asio::any_io_executor strand, std::string url, WebSocketOptions o,
                                       Measured& measured) {
  absl::StatusOr<WebSocket> ws = co_await WebSocket::async_connect(strand, url, o, use_awaitable);
  if (!ws.ok()) co_return ws.status();
  // Sizes that leave in one write and sizes the reactor finishes.
  for (std::size_t size : {1u, 125u, 4000u, 70000u, 300000u}) {
    const std::string payload(size, 'p');
    for (int i = 0; i < 20; ++i) {
      if (absl::Status st = co_await ws->send_binary(bytes(payload)); !st.ok()) co_return st;
      absl::StatusOr<ws::Message> m = co_await ws->recv();
      if (!m.ok()) co_return m.status();
      if (m->payload.size() != size) co_return absl::InternalError("echo size");
    }
  }
  // A cancellation from a timer on the same strand, to a receive nobody
  // answers; the connection then carries on.
  ::asio::cancellation_signal signal;
  ::asio::steady_timer timer(strand, std::chrono::milliseconds(50));
  timer.async_wait([&signal](std::error_code ec) {
    if (!ec) signal.emit(::asio::cancellation_type::terminal);
  });
  absl::StatusOr<ws::Message> cancelled =
      co_await ws->async_recv(::asio::bind_cancellation_slot(signal.slot(), use_awaitable));
  if (!absl::IsCancelled(cancelled.status())) co_return absl::InternalError("receive was not cancelled");
  // Meanwhile the idle check (5 ms) gave the buffers back, across threads.
  if (ws->memory_releases() == 0) co_return absl::InternalError("idle connection kept its buffers");
  // Steady state: count what a round trip allocates on a pool (both ends).
  const std::string small(128, 's');
  for (int i = 0; i < 100; ++i) {
    (void)co_await ws->send_binary(bytes(small));
    (void)co_await ws->recv();
  }
  tern::testing::AllocCounter count;
  testing::MallocCounter c_count;
  constexpr int kRounds = 2000;
  for (int i = 0; i < kRounds; ++i) {
    if (absl::Status st = co_await ws->send_binary(bytes(small)); !st.ok()) co_return st;
    absl::StatusOr<ws::Message> m = co_await ws->recv();
    if (!m.ok()) co_return m.status();
  }
  measured.allocations = count.allocations();
  measured.mallocs = c_count.mallocs();
  if (ws->overflows() != 0) co_return absl::InternalError("operations outgrew the connection's memory");
  measured.round_trips = kRounds;
  co_return co_await ws->close();
}

TEST(AsioStrand, EchoOnAThreadPoolThroughStrands) {
  ::asio::thread_pool pool(2);
  auto acceptor = listen(pool.get_executor(), "127.0.0.1", 0);
  ASSERT_TRUE(acceptor.ok()) << acceptor.status();
  WebSocketOptions o;
  o.socket.read_timeout = absl::Seconds(10);  // the connection timer runs too
  o.socket.release_memory_when_idle = absl::Milliseconds(5);
  std::promise<absl::Status> server_done, client_done;
  acceptor->async_accept(::asio::make_strand(pool), [&](std::error_code ec, ::asio::ip::tcp::socket s) {
    if (ec) {
      server_done.set_value(io_status(ec, "accept"));
      return;
    }
    ::asio::any_io_executor ex = s.get_executor();  // the strand
    ::asio::co_spawn(ex, serve(std::move(s), o),
                     [&](std::exception_ptr, absl::Status st) { server_done.set_value(st); });
  });
  Measured measured;
  const std::string url = "ws://127.0.0.1:" + std::to_string(acceptor->local_endpoint().port()) + "/";
  ::asio::any_io_executor strand = ::asio::make_strand(pool);
  ::asio::co_spawn(strand, client(strand, url, o, measured),
                   [&](std::exception_ptr, absl::Status st) { client_done.set_value(st); });
  std::future<absl::Status> c = client_done.get_future();
  std::future<absl::Status> s = server_done.get_future();
  ASSERT_EQ(c.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  ASSERT_EQ(s.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_TRUE(c.get().ok());
  EXPECT_TRUE(s.get().ok());
  pool.join();
  // Reported, not asserted: on a strand, Asio's own reactor operations copy
  // the socket's any_io_executor with outstanding work, which allocates.
  std::printf("strand echo, per round trip (both ends): %.2f operator new, %.2f C allocator calls\n",
              measured.round_trips ? static_cast<double>(measured.allocations) / measured.round_trips : -1.0,
              measured.round_trips ? static_cast<double>(measured.mallocs) / measured.round_trips : -1.0);
}

}  // namespace
}  // namespace tern::asio
