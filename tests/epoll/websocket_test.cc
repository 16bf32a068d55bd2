#include "backends/epoll/websocket.h"

#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/epoll/event_loop.h"
#include "backends/epoll/socket.h"
#include "gtest/gtest.h"

// What only the epoll backend has (one send(2) for a batch, counted; the
// level-triggered comparison mode); the behaviour every backend shares is
// in tests/backends/conformance_test.cc.
namespace tern::epoll {
namespace {

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

TEST(EpollWebSocket, NamesAreResolvedOffTheLoop) {
  // "localhost" is not numeric: getaddrinfo runs on a helper thread and the
  // answer is posted back; meanwhile the loop keeps running its timers.
  EventLoop loop;
  EchoServer server(loop);
  int ticks = 0;
  loop.spawn([&]() -> Task<absl::Status> {
    for (int i = 0; i < 5; ++i) {
      co_await loop.sleep_for(absl::Milliseconds(1));
      ++ticks;
    }
    co_return absl::OkStatus();
  });
  absl::Status st = run(loop, &server, [&]() -> Task<absl::Status> {
    const std::string url = "ws://localhost:" + std::to_string(server.listener->port()) + "/";
    absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, url);
    if (!ws.ok()) co_return ws.status();
    const std::string hi = "hi";
    if (absl::Status s = co_await ws->send_text(hi); !s.ok()) co_return s;
    absl::StatusOr<ws::Message> m = co_await ws->recv();
    if (!m.ok()) co_return m.status();
    EXPECT_EQ(m->text(), "hi");
    co_return co_await ws->close();
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(ticks, 5);
  // An unknown name: kNotFound, from the helper thread's getaddrinfo.
  absl::Status unknown = run(loop, nullptr, [&]() -> Task<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, "ws://no-such-host.invalid/");
    co_return ws.status();
  });
  EXPECT_TRUE(absl::IsNotFound(unknown)) << unknown;
}

TEST(EpollWebSocket, ASecondConcurrentReceiverIsRefusedNotLost) {
  EventLoop loop;
  EchoServer server(loop);
  absl::Status second;
  absl::Status st = run(loop, &server, [&]() -> Task<absl::Status> {
    absl::StatusOr<WebSocket> ws = co_await WebSocket::connect(loop, server.url());
    if (!ws.ok()) co_return ws.status();
    WebSocket* w = &*ws;
    bool first_done = false;
    loop.spawn([&]() -> Task<absl::Status> {  // parks in recv() first
      absl::StatusOr<ws::Message> m = co_await w->recv();
      first_done = m.ok();
      co_return m.status();
    });
    co_await loop.yield();
    absl::StatusOr<ws::Message> m = co_await w->recv();  // the slot is taken
    second = m.status();
    const std::string hi = "hi";
    if (absl::Status s = co_await w->send_text(hi); !s.ok()) co_return s;  // the first one gets the echo
    for (int i = 0; i < 100 && !first_done; ++i) co_await loop.sleep_for(absl::Milliseconds(1));
    EXPECT_TRUE(first_done);
    co_return co_await w->close();
  });
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_TRUE(absl::IsFailedPrecondition(second)) << second;
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

}  // namespace
}  // namespace tern::epoll
