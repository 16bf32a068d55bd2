// session_demo: a resilient session (epoll backend) against a local feed
// server the demo starts itself, killed once to show the recovery, then the
// health snapshot. The server (tests/support/feed_server.h, a test venue)
// streams "seq <n>" to a client that sent a message starting with "sub".
//
//   bazel run //docs/examples:session_demo
//
// What the handler shows: the auth and subscriptions written into the Out
// on every open (replayed on the new connection after the crash, paced),
// data counted per connection, a sequence gap noticed (the messages the
// server sent while it was down are gone: a real handler would fetch a
// snapshot here, or call out.request_resync()), and every open paired with
// one close.
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/epoll/backend.h"
#include "backends/session/session.h"
#include "tests/support/feed_server.h"

namespace {

using tern::session::ConnectionId;

struct Feed {
  void on_open(tern::session::Out& out, ConnectionId id) {
    std::printf("open %u: auth + 2 subscriptions queued\n", id);
    (void)out.add_text("auth demo-key", /*auth=*/true);
    (void)out.add_text("sub trades");
    (void)out.add_text("sub book");
  }
  bool on_message(const tern::ws::Message& m, ConnectionId id, tern::session::Out&) {
    const std::string_view t = m.text();
    std::uint64_t seq = 0;
    if (t.substr(0, 4) != "seq " || std::from_chars(t.data() + 4, t.data() + t.size(), seq).ec != std::errc()) {
      return false;  // an ack, not data
    }
    if (last_seq != 0 && seq > last_seq + 1) {
      std::printf("gap on %u: %llu messages missed while the server was down\n", id,
                  static_cast<unsigned long long>(seq - last_seq - 1));
      ++gaps;
    }
    if (seq > last_seq) last_seq = seq;
    ++data;
    return true;
  }
  void on_close(const tern::session::Down& why) {
    std::printf("down %u: %s (%.*s), reconnect %s\n", why.id, std::string(tern::session::name(why.cause)).c_str(),
                static_cast<int>(why.detail.size()), why.detail.data(),
                why.reconnect_at == absl::InfiniteFuture() ? "none" : "planned");
    ++closes;
  }

  std::uint64_t data = 0;
  std::uint64_t last_seq = 0;
  int gaps = 0;
  int closes = 0;
};

using B = tern::epoll::Backend;

B::Task<bool> until(tern::epoll::EventLoop& loop, auto done) {
  for (int i = 0; i < 5000 && !done(); ++i) (void)co_await loop.sleep_for(absl::Milliseconds(2));
  co_return done();
}

}  // namespace

int main() {
  tern::testing::FeedServer server;  // the venue, on a free loopback port
  tern::epoll::EventLoop loop;
  Feed feed;
  tern::session::SessionOptions options;
  options.policy.backoff_initial = absl::Milliseconds(100);  // a demo: retry soon
  options.policy.max_replay_rate = 20;                       // 20 messages/s
  tern::session::Session<B, Feed> session(loop, server.url(), feed, options);

  bool ok = true;
  loop.spawn([&]() -> B::Task<absl::Status> {
    ok &= co_await until(loop, [&] { return feed.data >= 100; });
    std::printf("%llu messages; killing the server\n", static_cast<unsigned long long>(feed.data));
    server.kill();
    ok &= co_await until(loop, [&] { return feed.closes == 1; });
    (void)co_await loop.sleep_for(absl::Milliseconds(300));
    ok &= server.restart();
    std::printf("server back\n");
    const std::uint64_t before = feed.data;
    ok &= co_await until(loop, [&] { return feed.data >= before + 100; });
    session.stop();
    co_return absl::OkStatus();
  });
  const absl::Status st = B::run(loop, session.run());

  const tern::session::HealthSnapshot h = session.health();
  std::printf("health: opens %llu, reconnects %llu, downs %llu, connect failures %llu\n",
              static_cast<unsigned long long>(h.session.opens), static_cast<unsigned long long>(h.session.reconnects),
              static_cast<unsigned long long>(h.session.downs),
              static_cast<unsigned long long>(h.session.connect_failures));
  std::printf("health: messages in %llu, out %llu, pings sent %llu\n",
              static_cast<unsigned long long>(h.lifetime.messages_in),
              static_cast<unsigned long long>(h.lifetime.messages_out),
              static_cast<unsigned long long>(h.lifetime.pings_sent));
  for (std::size_t i = 0; i < h.error_count; ++i) {
    const tern::session::ErrorRecord& e = h.errors[i];
    std::printf("health: error on %u: %s %.*s\n", e.id, std::string(tern::session::name(e.kind)).c_str(),
                static_cast<int>(e.text().size()), e.text().data());
  }
  ok &= st.ok() && h.session.reconnects == 1 && feed.gaps == 1 && feed.closes == 2;
  std::printf("session_demo: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
