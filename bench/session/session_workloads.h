// File: session_workloads.h
//
// What the session costs per message over the bare connection, on one
// backend, shared by session_bench (ns) and session_instr (callgrind
// instructions). A server thread streams `warm + count` Text frames with
// 32-byte payloads, pre-encoded and written 64 KiB at a time, so the client
// is what limits the rate; the client reads them either bare (B::recv in a
// loop, counting) or through Session<B, Counter> (the same count in the
// handler), and a Window's start()/stop() bracket messages warm .. warm +
// count (a clock, or callgrind's collection). The difference is the
// session's own work per message: the clock read, Health, the policy, the
// handler call and the deadline check.
//
// Also the reconnect figures: from a server's Close (or its return after
// being down) to the first data message on the new connection, replay
// included.
#ifndef TERN_BENCH_SESSION_SESSION_WORKLOADS_H_
#define TERN_BENCH_SESSION_SESSION_WORKLOADS_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/posix/socket.h"
#include "backends/posix/websocket.h"
#include "backends/session/session.h"
#include "tests/support/feed_server.h"

namespace tern::session::bench {

inline constexpr std::size_t kPayload = 32;

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "session bench: %s\n", what);
  std::exit(1);
}

// Accepts one WebSocket client, writes `frames` Text frames, then answers
// until the client closes.
class StreamServer {
 public:
  explicit StreamServer(std::uint64_t frames) {
    auto l = posix::Listener::bind("127.0.0.1", 0);
    if (!l.ok()) die("bind");
    listener_ = *std::move(l);
    thread_ = std::thread([this, frames] { serve(frames); });
  }
  ~StreamServer() {
    listener_.shutdown();
    thread_.join();
  }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(listener_.port()) + "/"; }

 private:
  void serve(std::uint64_t frames) {
    auto s = listener_.accept();
    if (!s.ok()) return;
    auto ws = posix::WebSocket::accept(*std::move(s));
    if (!ws.ok()) die("ws accept");
    // One chunk of whole frames: 0x81, length, payload (RFC 6455 §5.2).
    constexpr std::size_t kFrame = 2 + kPayload;
    constexpr std::size_t kPerChunk = (64u << 10) / kFrame;
    std::vector<std::uint8_t> chunk(kPerChunk * kFrame);
    for (std::size_t i = 0; i < kPerChunk; ++i) {
      std::uint8_t* f = chunk.data() + i * kFrame;
      f[0] = 0x81;
      f[1] = static_cast<std::uint8_t>(kPayload);
      for (std::size_t k = 0; k < kPayload; ++k) f[2 + k] = static_cast<std::uint8_t>('a' + (i + k) % 26);
    }
    for (std::uint64_t left = frames; left > 0;) {
      const std::uint64_t n = std::min<std::uint64_t>(left, kPerChunk);
      if (!ws->stream().write(std::span<const std::uint8_t>(chunk.data(), n * kFrame)).ok()) return;
      left -= n;
    }
    for (;;) {
      auto m = ws->recv();  // the client's subscription, then its Close (echoed)
      if (!m.ok() || m->opcode == ws::Opcode::Close) return;
    }
  }
  posix::Listener listener_;
  std::thread thread_;
};

// Brackets the measured messages.
struct Window {
  virtual ~Window() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
};

// The bare connection: recv() in a loop, counting Text messages.
template <Backend B>
typename B::template Task<absl::Status> bare_client(typename B::Context& ctx, std::string url, std::uint64_t warm,
                                                     std::uint64_t count, Window& window) {
  absl::StatusOr<typename B::WebSocket> ws = co_await B::connect_websocket(ctx, url, {});
  if (!ws.ok()) co_return ws.status();
  std::uint64_t n = 0;
  for (;;) {
    absl::StatusOr<ws::Message> m = co_await B::recv(*ws);
    if (!m.ok()) co_return m.status();
    if (m->opcode != ws::Opcode::Text) continue;
    ++n;
    if (n == warm) window.start();
    if (n == warm + count) {
      window.stop();
      break;
    }
  }
  co_return co_await B::close(*ws, ws::CloseCode::Normal, std::string());
}

template <Backend B>
absl::Status run_bare(std::uint64_t warm, std::uint64_t count, Window& window) {
  StreamServer server(warm + count);
  typename B::Context ctx;
  return B::run(ctx, bare_client<B>(ctx, server.url(), warm, count, window));
}

// The same count, as a session handler.
template <Backend B>
struct Counter {
  void on_open(Out& out, ConnectionId) { (void)out.add_text("sub"); }
  bool on_message(const ws::Message& m, ConnectionId, Out&) {
    if (m.opcode != ws::Opcode::Text) return false;
    ++n;
    if (n == warm) window->start();
    if (n == warm + count) {
      window->stop();
      session->stop();
    }
    return true;
  }
  void on_close(const Down&) {}

  std::uint64_t n = 0;
  std::uint64_t warm = 0;
  std::uint64_t count = 0;
  Window* window = nullptr;
  Session<B, Counter>* session = nullptr;
};

template <Backend B>
absl::Status run_session(std::uint64_t warm, std::uint64_t count, Window& window) {
  StreamServer server(warm + count);
  typename B::Context ctx;
  Counter<B> counter;
  counter.warm = warm;
  counter.count = count;
  counter.window = &window;
  Session<B, Counter<B>> s(ctx, server.url(), counter, {});
  counter.session = &s;
  absl::Status st = B::run(ctx, s.run());
  if (st.ok() && counter.n < warm + count) st = absl::DataLossError("the stream ended early");
  return st;
}

// --- reconnects -------------------------------------------------------------------------

// Records when each connection first delivered data, and when one closed.
struct Stamps {
  void on_open(Out& out, ConnectionId) {
    (void)out.add_text("auth token", /*auth=*/true);
    for (int i = 0; i < subscriptions; ++i) (void)out.add_text("sub " + std::to_string(i));
  }
  bool on_message(const ws::Message& m, ConnectionId id, Out&) {
    if (m.text().substr(0, 4) != "seq ") return false;
    // Connection ids count attempts: the one after the outage is not 2
    // when attempts were refused in between.
    std::atomic<std::int64_t>& at = id == 1 ? first_data[0] : first_data[1];
    if (at.load() == 0) at = absl::ToUnixNanos(absl::Now());
    return true;
  }
  void on_close(const Down&) {
    std::int64_t none = 0;
    (void)closed_at.compare_exchange_strong(none, absl::ToUnixNanos(absl::Now()));  // the first one
  }

  int subscriptions = 1;
  // The first data message on connection 1, and on any later one.
  std::array<std::atomic<std::int64_t>, 2> first_data{};
  std::atomic<std::int64_t> closed_at{0};
};

enum class Outage {
  GoingAway,  // the server closes with 1001 and stays up: Down to first data
  Down2s,     // the server is killed and back 2 s later: its return to first data
};

// One reconnect: the time from the Down (GoingAway) or from the server's
// return (Down2s) to the first data message on the next connection.
template <Backend B>
absl::StatusOr<absl::Duration> reconnect_once(const SessionOptions& options, int subscriptions, Outage outage) {
  ::tern::testing::FeedServer server(0, absl::Microseconds(100));
  typename B::Context ctx;
  Stamps stamps;
  stamps.subscriptions = subscriptions;
  auto s = std::make_unique<Session<B, Stamps>>(ctx, server.url(), stamps, options);
  std::atomic<bool> done{false};
  absl::Status result;
  auto wait = [&](auto pred, absl::Duration limit) -> typename B::template Task<bool> {
    const absl::Time end = absl::Now() + limit;
    for (int i = 0; i < 1000000 && !pred(); ++i) {
      if (absl::Now() >= end) co_return false;
      (void)co_await B::sleep_for(ctx, absl::Milliseconds(1));
    }
    co_return true;
  };
  absl::Time back;
  B::spawn(ctx, [&]() -> typename B::template Task<absl::Status> {
    result = co_await s->run();
    done = true;
    co_return absl::OkStatus();
  });
  const absl::Status st = B::run(ctx, [&]() -> typename B::template Task<absl::Status> {
    absl::Status outcome;
    if (!co_await wait([&] { return stamps.first_data[0].load() != 0; }, absl::Seconds(10))) {
      outcome = absl::DeadlineExceededError("no first connection");
    } else {
      if (outage == Outage::GoingAway) {
        server.close_all(ws::CloseCode::GoingAway);
      } else {
        server.kill();
        (void)co_await B::sleep_for(ctx, absl::Seconds(2));
        if (!server.restart()) outcome = absl::InternalError("restart");
        back = absl::Now();
      }
      if (outcome.ok() && !co_await wait([&] { return stamps.first_data[1].load() != 0; }, absl::Seconds(20))) {
        outcome = absl::DeadlineExceededError("no second connection");
      }
    }
    s->stop();
    (void)co_await wait([&] { return done.load(); }, absl::Seconds(10));
    co_return outcome;
  }());
  if (!done.load()) die("the session did not stop");
  if (!st.ok()) return st;
  const absl::Time from = outage == Outage::GoingAway ? absl::FromUnixNanos(stamps.closed_at.load()) : back;
  return absl::FromUnixNanos(stamps.first_data[1].load()) - from;
}

}  // namespace tern::session::bench

#endif  // TERN_BENCH_SESSION_SESSION_WORKLOADS_H_
