// Faults on the epoll backend: a peer that vanishes mid-frame, a peer that
// reads nothing while we write 64 MiB (EAGAIN path and the write deadline),
// the loop stopped with 1,000 tasks waiting on sockets, and fairness: one
// flooding socket does not starve a timer or another socket.
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/epoll/event_loop.h"
#include "backends/epoll/socket.h"
#include "backends/epoll/websocket.h"
#include "backends/posix/socket.h"
#include "core/buf/read_buf.h"
#include "core/buf/write_buf.h"
#include "core/ws/frame_writer.h"
#include "core/ws/handshake.h"
#include "gtest/gtest.h"
#include "tests/support/raw_ws_server.h"

namespace tern::epoll {
namespace {

template <typename F>
absl::Status run_task(EventLoop& loop, F body) {
  absl::Status result = absl::UnknownError("did not finish");
  loop.spawn(std::move(body), [&](absl::Status st) { result = st; });
  loop.run();
  return result;
}

TEST(EpollFaults, PeerVanishingMidFrameIsConnectionLost) {
  testing::RawWsServer server([](posix::Socket& s, WriteBuf& reply) {
    if (!s.write_all(reply.data()).ok()) return;
    const std::uint8_t half[] = {0x82, 0x7E, 0x01, 0x00, 'a', 'b', 'c'};  // 256 B announced, 3 sent
    (void)s.write_all(half);
    s.close();
  });
  EventLoop loop;
  absl::Status st = run_task(loop, [&]() -> Task<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, server.url());
    if (!ws.ok()) co_return ws.status();
    absl::StatusOr<ws::Message> m = co_await ws->recv();
    EXPECT_FALSE(ws->is_open());
    co_return m.status();
  });
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_NE(st.message().find("1006"), absl::string_view::npos) << st;
}

TEST(EpollFaults, PeerThatReadsNothingHitsTheWriteDeadline) {
  std::atomic<bool> done{false};
  testing::RawWsServer server([&](posix::Socket& s, WriteBuf& reply) {
    if (!s.write_all(reply.data()).ok()) return;
    while (!done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // reads nothing
  });
  EventLoop loop;
  WebSocketOptions o;
  o.write_buffer_size = (64u << 20) + 64;
  o.socket.write_timeout = absl::Milliseconds(300);
  o.socket.send_buffer = 64 << 10;
  const std::string big(64u << 20, 'x');
  absl::Status st = run_task(loop, [&]() -> Task<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, server.url(), o);
    if (!ws.ok()) co_return ws.status();
    const std::span<const std::uint8_t> payload(reinterpret_cast<const std::uint8_t*>(big.data()), big.size());
    absl::Status sent = co_await ws->send_binary(payload);
    EXPECT_GT(ws->write_calls(), 1u) << "the kernel took it in several writes";
    co_return sent;
  });
  done = true;
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_NE(st.message().find("write timed out"), absl::string_view::npos) << st;
}

TEST(EpollFaults, StoppingTheLoopWith1000TasksWaitingOnSocketsCancelsThemAll) {
  rlimit r;
  ::getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur < 4096 && r.rlim_max >= 4096) {
    r.rlim_cur = 4096;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
  EventLoop loop;
  auto listener = Listener::bind(loop, "127.0.0.1", 0);
  ASSERT_TRUE(listener.ok());
  const std::string url = "ws://127.0.0.1:" + std::to_string(listener->port()) + "/";
  constexpr int kClients = 1000;
  int opened = 0, cancelled = 0, server_side = 0;
  // Server: every accepted client waits in recv() forever.
  loop.spawn([&]() -> Task<absl::Status> {
    for (;;) {
      absl::StatusOr<Socket> s = co_await listener->accept();
      if (!s.ok()) co_return s.status();
      loop.spawn([&, sock = *std::move(s)]() mutable -> Task<absl::Status> {
        absl::StatusOr<WebSocket> ws = co_await WebSocket::accept(loop, std::move(sock));
        if (!ws.ok()) co_return ws.status();
        ++server_side;
        absl::StatusOr<ws::Message> m = co_await ws->recv();
        co_return m.status();
      });
    }
  });
  for (int i = 0; i < kClients; ++i) {
    loop.spawn([&]() -> Task<absl::Status> {
      absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, url);
      if (!ws.ok()) co_return ws.status();
      ++opened;
      absl::StatusOr<ws::Message> m = co_await ws->recv();  // nothing ever comes
      if (absl::IsCancelled(m.status())) ++cancelled;
      co_return m.status();
    });
  }
  loop.spawn([&]() -> Task<absl::Status> {
    for (int i = 0; i < 3000 && (opened < kClients || server_side < kClients); ++i) {
      co_await loop.sleep_for(absl::Milliseconds(5));
    }
    loop.stop();
    co_return absl::OkStatus();
  });
  loop.run();
  EXPECT_EQ(opened, kClients);
  EXPECT_EQ(server_side, kClients);
  EXPECT_EQ(cancelled, kClients);
  EXPECT_EQ(loop.tasks(), 0u);  // every frame finished or was destroyed
}

// One connection whose socket always has more messages (a backlog larger
// than the read buffer, so reads are never short) must not starve a timer
// or a second connection: each coroutine gets `budget` operations that
// complete without waiting, then yields.
struct FloodFigures {
  std::size_t flood = 0, trickle = 0, ticks = 0;
  std::size_t most_in_one_round = 0;  // flood messages between two epoll_waits
};

FloodFigures flood_scenario(int budget) {
  std::atomic<bool> stop{false};
  const std::size_t kFrames = 200'000;
  testing::RawWsServer flood([&](posix::Socket& s, WriteBuf& reply) {
    if (!s.write_all(reply.data()).ok()) return;
    ws::FrameWriter w(ws::Role::Server);
    WriteBuf out(1 << 20);
    const std::string payload(100, 'f');
    std::size_t sent = 0;
    while (!stop.load() && sent < kFrames) {
      out.clear();
      while (sent < kFrames && w.binary(out, ws::as_bytes(payload)).ok()) ++sent;
      if (!s.write_all(out.data()).ok()) return;
    }
  });
  testing::RawWsServer trickle([&](posix::Socket& s, WriteBuf& reply) {
    if (!s.write_all(reply.data()).ok()) return;
    ws::FrameWriter w(ws::Role::Server);
    WriteBuf out(256);
    for (int i = 0; i < 2000 && !stop.load(); ++i) {
      out.clear();
      (void)w.text(out, "tick");
      if (!s.write_all(out.data()).ok()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  EventLoop loop({.budget = budget});
  WebSocketOptions o;
  o.socket.receive_buffer = 8 << 20;
  std::size_t flood_messages = 0, trickle_messages = 0, timer_ticks = 0;
  std::size_t in_round = 0, most_in_round = 0;
  std::uint64_t round = 0;
  bool done = false;
  std::optional<WebSocket> flood_ws, trickle_ws;
  loop.spawn([&]() -> Task<absl::Status> {
    absl::StatusOr<WebSocket> a = co_await WebSocket::connect(loop, flood.url(), o);
    absl::StatusOr<WebSocket> b = co_await WebSocket::connect(loop, trickle.url(), o);
    if (!a.ok()) co_return a.status();
    if (!b.ok()) co_return b.status();
    flood_ws.emplace(*std::move(a));
    trickle_ws.emplace(*std::move(b));
    // Let the flood build a backlog before anyone reads.
    co_await loop.sleep_for(absl::Milliseconds(50));
    loop.spawn([&]() -> Task<absl::Status> {
      while (!done) {
        absl::StatusOr<ws::Message> m = co_await trickle_ws->recv();
        if (!m.ok()) co_return m.status();
        ++trickle_messages;
      }
      co_return absl::OkStatus();
    });
    loop.spawn([&]() -> Task<absl::Status> {
      while (!done) {
        co_await loop.sleep_for(absl::Milliseconds(1));
        ++timer_ticks;
      }
      co_return absl::OkStatus();
    });
    while (!done && flood_messages < kFrames) {
      absl::StatusOr<ws::Message> m = co_await flood_ws->recv();
      if (!m.ok()) co_return m.status();
      ++flood_messages;
      if (loop.rounds() != round) {
        round = loop.rounds();
        in_round = 0;
      }
      most_in_round = std::max(most_in_round, ++in_round);
    }
    co_return absl::OkStatus();
  });
  const std::uint64_t start = EventLoop::clock_ns();
  loop.run_until([&] {
    done = EventLoop::clock_ns() - start > 400'000'000 || flood_messages >= kFrames;
    return false;  // let the tasks see `done` and end
  });
  stop = true;
  return {flood_messages, trickle_messages, timer_ticks, most_in_round};
}

TEST(EpollFaults, AFloodingSocketDoesNotStarveTimersOrOtherSockets) {
  constexpr int kBudget = 64;
  const FloodFigures f = flood_scenario(kBudget);
  // The flood was consumed while the others progressed, and it never ran
  // for more than a few budgets between two visits to the kernel (once from
  // the ready queue and once per readiness event in a round).
  EXPECT_GT(f.flood, 1000u);
  EXPECT_GT(f.ticks, 0u) << "flood " << f.flood << ", trickle " << f.trickle;
  EXPECT_GT(f.trickle, 0u) << "flood " << f.flood << ", ticks " << f.ticks;
  EXPECT_LE(f.most_in_one_round, 4u * kBudget);
  // Without the budget (it never runs out), one round takes thousands:
  // the bound above is the budget's doing.
  const FloodFigures unbounded = flood_scenario(1 << 30);
  EXPECT_GT(unbounded.most_in_one_round, 16u * kBudget);
}

}  // namespace
}  // namespace tern::epoll
