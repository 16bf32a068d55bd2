// The resilient session on every backend, against a local venue under the
// test's control (tests/support/feed_server.h): one typed suite, the same
// scenarios and the same expectations on posix, epoll and Asio. Each test
// runs the session in the background (B::spawn: a thread on posix, a task
// on a loop) and drives the venue from a test body written over the
// concept. Everything is loopback, every wait is bounded, and time bounds
// are generous upper limits or lower limits that hold by construction
// (a backoff delay can only end late).
//
//   kill and restart        reconnect, re-authenticate, every subscription
//                           replayed in order, the handler's state kept
//   accept then close       the backoff grows, attempts are spaced
//   deaf to pings           stale (pong timeout) within 2x the heartbeat
//   black hole (no FIN)     stale, then a new connection
//   protocol violation      Down{Failed, kInvalidArgument}, reconnect
//   close 1001              Down{PeerClosed, 1001}, reconnect
//   rotation under a stream zero sequence numbers lost, duplicates seen from
//                           both connections, the switch and the old Down
//   stop                    while connected and while backing off
//   fault injection         Faulty<B> fails operation n = 0, 1, 2, ...
//   allocations             steady state and a reconnect's replay
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backends/session/session.h"
#include "gtest/gtest.h"
#include "tests/session/test_venue.h"
#include "tests/support/all_backends.h"
#include "tests/support/alloc_counter.h"
#include "tests/support/faulty_backend.h"
#include "tests/support/feed_server.h"
#include "tests/support/pool/tcp_proxy.h"
#include "tests/tls/test_pki.h"

namespace tern::session {
namespace {

using testing::TestVenue;
using ::tern::testing::FeedServer;
using ::tern::testing::TcpProxy;

template <typename B>
using TaskOf = typename B::template Task<absl::Status>;

// Fast versions of the defaults, so a scenario takes a second, not minutes.
SessionOptions fast_options() {
  SessionOptions o;
  o.policy.backoff_initial = absl::Milliseconds(50);
  o.policy.backoff_multiplier = 2.0;
  o.policy.backoff_max = absl::Milliseconds(800);
  o.policy.backoff_jitter = 0.5;
  o.policy.stable_after = absl::Seconds(30);
  o.policy.ping_interval = absl::Milliseconds(150);
  o.policy.pong_timeout = absl::Milliseconds(150);
  o.policy.max_replay_rate = 200;
  o.policy.rotation_drain = absl::Milliseconds(100);
  o.policy.rotation_timeout = absl::Seconds(3);
  o.policy.seed = 42;
  o.ws.close_timeout = absl::Milliseconds(200);
  o.ws.handshake_timeout = absl::Seconds(2);
  o.ws.socket.connect_timeout = absl::Seconds(2);
  return o;
}

// Waits (bounded) until pred() holds; false on timeout.
template <typename B, typename P>
typename B::template Task<bool> until(typename B::Context& ctx, P pred, absl::Duration timeout = absl::Seconds(5)) {
  const absl::Time end = absl::Now() + timeout;
  for (int i = 0; i < 100000 && !pred(); ++i) {
    if (absl::Now() >= end) co_return false;
    (void)co_await B::sleep_for(ctx, absl::Milliseconds(2));
  }
  co_return pred();
}

template <typename B>
typename B::template Task<bool> pause(typename B::Context& ctx, absl::Duration d) {
  (void)co_await B::sleep_for(ctx, d);
  co_return true;
}

// A session running in the background, and what run() returned.
template <typename B, typename H = TestVenue>
class Running {
 public:
  Running(typename B::Context& ctx, std::string url, H& handler, SessionOptions options)
      : session_(std::make_unique<Session<B, H>>(ctx, std::move(url), handler, std::move(options))) {
    Session<B, H>* s = session_.get();
    B::spawn(ctx, [this, s]() { return run(s); });
  }
  // A session still running here would be used after free by its tasks or
  // thread: leak it (the test has failed already).
  ~Running() {
    if (!done_.load()) {
      ADD_FAILURE() << "the session did not stop";
      (void)session_.release();
    }
  }
  Session<B, H>& operator*() { return *session_; }
  Session<B, H>* operator->() { return session_.get(); }
  bool done() const { return done_.load(); }
  absl::Status result() const { return done_.load() ? result_ : absl::UnknownError("running"); }

 private:
  TaskOf<B> run(Session<B, H>* s) {
    absl::Status st = co_await s->run();
    result_ = st;
    done_.store(true);  // the last touch: the test may destroy this now
    co_return st;
  }
  std::unique_ptr<Session<B, H>> session_;
  absl::Status result_;
  std::atomic<bool> done_{false};
};

void expect_no_violations(const TestVenue& venue) {
  for (const std::string& v : venue.violations()) ADD_FAILURE() << "handler contract: " << v;
}

template <typename B>
class SessionBackends : public ::testing::Test {
 protected:
  // Runs `steps` (a coroutine over B: the scenario) on the test's context,
  // then stops the session, waits (bounded) for run() to return, and checks
  // the handler's contract.
  template <typename H, typename F>
  void play(Running<B, H>& s, const TestVenue& venue, F steps) {
    const absl::Status st = B::run(ctx, [&]() -> TaskOf<B> {
      (void)co_await steps();
      s->stop();
      EXPECT_TRUE(co_await until<B>(ctx, [&] { return s.done(); })) << "run() did not return after stop()";
      co_return absl::OkStatus();
    }());
    ASSERT_TRUE(st.ok()) << st;
    EXPECT_TRUE(s.result().ok()) << s.result();
    expect_no_violations(venue);
  }
  typename B::Context ctx;
};

TYPED_TEST_SUITE(SessionBackends, ::tern::testing::AllBackends, ::tern::testing::BackendNames);

// --- kill and restart ---------------------------------------------------------------

TYPED_TEST(SessionBackends, ServerKilledAndRestarted) {
  using B = TypeParam;
  FeedServer server;
  TestVenue venue(3);
  Running<B> s(this->ctx, server.url(), venue, fast_options());
  this->play(s, venue, [&]() -> TaskOf<B> {
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.data_from(1) >= 20; }));
    const std::uint64_t before = venue.messages();
    server.kill();
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.closes() >= 1; }));
    EXPECT_TRUE(server.restart());
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.opens() >= 2 && venue.data_from(2) >= 20; }));
    // The same handler object: its state carried on across the reconnect.
    EXPECT_GT(venue.messages(), before + 20);
    co_return absl::OkStatus();
  });
  EXPECT_EQ(venue.opens(), 2);
  EXPECT_EQ(venue.closes(), 2);
  std::vector<TestVenue::Closed> closed = venue.closed();
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[0].down.cause, DownCause::Failed);  // the stream ended without a Close
  EXPECT_EQ(closed[0].down.status, absl::StatusCode::kUnavailable) << closed[0].detail;
  EXPECT_EQ(closed[1].down.cause, DownCause::Stopped);
  // Re-authenticated and every subscription replayed, in order, once, on
  // both connections.
  std::vector<std::vector<std::string>> got = server.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], venue.expected_replay());
  EXPECT_EQ(got[1], venue.expected_replay());
  const HealthSnapshot h = s->health();
  EXPECT_EQ(h.session.opens, 2u);
  EXPECT_EQ(h.session.reconnects, 1u);
  EXPECT_GE(h.lifetime.messages_in, venue.messages());
}

// --- accept then close: the backoff grows -------------------------------------------

TYPED_TEST(SessionBackends, AcceptThenCloseBacksOff) {
  using B = TypeParam;
  FeedServer server;
  server.set_accept_then_close(true, ws::CloseCode::PolicyViolation);
  TestVenue venue(1);
  const SessionOptions options = fast_options();
  Running<B> s(this->ctx, server.url(), venue, options);
  this->play(s, venue, [&]() -> TaskOf<B> {
    // 50, 100, 200, 400, 800 ms nominal: six attempts take at least 775 ms.
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return server.accepted() >= 6; }, absl::Seconds(8)));
    co_return absl::OkStatus();
  });
  const std::vector<absl::Time> at = server.accept_times();
  ASSERT_GE(at.size(), 6u);
  // Attempt k+1 waits at least (1 - jitter) of the k-th nominal delay: the
  // handshake alone never proves a connection, so there is no tight loop.
  absl::Duration nominal = options.policy.backoff_initial;
  for (std::size_t k = 1; k < at.size(); ++k) {
    const absl::Duration floor = nominal * (1.0 - options.policy.backoff_jitter) - absl::Milliseconds(3);
    EXPECT_GE(at[k] - at[k - 1], floor) << "attempt " << k;
    nominal = std::min(nominal * options.policy.backoff_multiplier, options.policy.backoff_max);
  }
  EXPECT_GE(at[5] - at[0], absl::Milliseconds(370));
  for (const TestVenue::Closed& c : venue.closed()) {
    if (c.down.cause == DownCause::Stopped) continue;
    EXPECT_EQ(c.down.cause, DownCause::PeerClosed);
    EXPECT_EQ(c.down.code, ws::CloseCode::PolicyViolation);
  }
  EXPECT_GE(s->health().session.downs, 5u);
}

// --- a server that stops answering pings ----------------------------------------------

TYPED_TEST(SessionBackends, DeafServerIsStaleInTime) {
  using B = TypeParam;
  FeedServer server;
  TestVenue venue(1);
  const SessionOptions options = fast_options();
  Running<B> s(this->ctx, server.url(), venue, options);
  absl::Time deaf_at;
  this->play(s, venue, [&]() -> TaskOf<B> {
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.data_from(1) >= 10; }));
    // A ping answered first: the RTT is measured.
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return s->health().lifetime.pongs_received >= 1; }));
    server.set_answer_pings(false);
    deaf_at = absl::Now();
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.closes() >= 1; }));
    server.set_answer_pings(true);
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.opens() >= 2; }));
    co_return absl::OkStatus();
  });
  std::vector<TestVenue::Closed> closed = venue.closed();
  ASSERT_GE(closed.size(), 1u);
  EXPECT_EQ(closed[0].down.cause, DownCause::PongTimeout);
  EXPECT_EQ(closed[0].down.code, ws::CloseCode::InternalError);
  // Data kept flowing, but no Pong came: stale within ping_interval +
  // pong_timeout (2x the heartbeat) of going deaf, plus scheduling slack.
  const absl::Duration heartbeat2 = options.policy.ping_interval + options.policy.pong_timeout;
  EXPECT_LE(closed[0].at - deaf_at, heartbeat2 + absl::Milliseconds(500));
  EXPECT_GE(closed[0].at - deaf_at, options.policy.pong_timeout - absl::Milliseconds(5));
  const HealthSnapshot h = s->health();
  EXPECT_GE(h.session.stale_events, 1u);
  EXPECT_GE(h.lifetime_rtt.count(), 1u);
}

// --- silent without FIN: a black hole between client and server --------------------

TYPED_TEST(SessionBackends, BlackHoleIsStaleThenReconnects) {
  using B = TypeParam;
  FeedServer server;
  TcpProxy proxy(server.port());
  TestVenue venue(2);
  const SessionOptions options = fast_options();
  Running<B> s(this->ctx, "ws" + proxy.url().substr(4) + "/feed", venue, options);
  absl::Time hole_at;
  this->play(s, venue, [&]() -> TaskOf<B> {
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.data_from(1) >= 10; }));
    proxy.black_hole();
    hole_at = absl::Now();
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.closes() >= 1; }));
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.data_from(2) >= 10; }));
    co_return absl::OkStatus();
  });
  std::vector<TestVenue::Closed> closed = venue.closed();
  ASSERT_GE(closed.size(), 1u);
  EXPECT_EQ(closed[0].down.cause, DownCause::PongTimeout);
  const absl::Duration heartbeat2 = options.policy.ping_interval + options.policy.pong_timeout;
  EXPECT_LE(closed[0].at - hole_at, heartbeat2 + absl::Milliseconds(500));
  EXPECT_EQ(venue.opens(), 2);
}

// --- a protocol violation ------------------------------------------------------------------

TYPED_TEST(SessionBackends, ProtocolViolationFailsAndReconnects) {
  using B = TypeParam;
  FeedServer server;
  TestVenue venue(1);
  Running<B> s(this->ctx, server.url(), venue, fast_options());
  this->play(s, venue, [&]() -> TaskOf<B> {
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.data_from(1) >= 10; }));
    server.protocol_violation();
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.data_from(2) >= 10; }));
    co_return absl::OkStatus();
  });
  std::vector<TestVenue::Closed> closed = venue.closed();
  ASSERT_GE(closed.size(), 1u);
  EXPECT_EQ(closed[0].down.cause, DownCause::Failed);
  EXPECT_EQ(closed[0].down.status, absl::StatusCode::kInvalidArgument) << closed[0].detail;
  EXPECT_EQ(s->health().session.reconnects, 1u);
}

// --- the server's pings -------------------------------------------------------------------

// Venues ping and cut a client that does not answer: every server Ping gets
// its Pong from the core's auto-pong, on the same connection, and is counted.
// A session told to leave them unanswered is refused before it connects.
TYPED_TEST(SessionBackends, AnswersTheServersPings) {
  using B = TypeParam;
  FeedServer server;
  TestVenue venue(1);
  Running<B> s(this->ctx, server.url(), venue, fast_options());
  this->play(s, venue, [&]() -> TaskOf<B> {
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.data_from(1) >= 10; }));
    for (int i = 1; i <= 3; ++i) {
      server.ping_clients();
      EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return server.pongs_received() >= i; })) << "ping " << i;
    }
    co_return absl::OkStatus();
  });
  EXPECT_EQ(server.pongs_received(), 3);
  EXPECT_EQ(s->health().lifetime.pings_received, 3u);
  EXPECT_EQ(venue.opens(), 1);
  EXPECT_EQ(server.accepted(), 1);

  SessionOptions deaf = fast_options();
  deaf.ws.auto_pong = false;
  TestVenue unused(1);
  Session<B, TestVenue> refused(this->ctx, server.url(), unused, deaf);
  const absl::Status st = B::run(this->ctx, refused.run());
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_EQ(server.accepted(), 1);
}

// --- close 1001 ---------------------------------------------------------------------------------

TYPED_TEST(SessionBackends, GoingAwayReconnects) {
  using B = TypeParam;
  FeedServer server;
  TestVenue venue(2);
  Running<B> s(this->ctx, server.url(), venue, fast_options());
  this->play(s, venue, [&]() -> TaskOf<B> {
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.data_from(1) >= 10; }));
    server.close_all(ws::CloseCode::GoingAway);
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.data_from(2) >= 10; }));
    co_return absl::OkStatus();
  });
  std::vector<TestVenue::Closed> closed = venue.closed();
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[0].down.cause, DownCause::PeerClosed);
  EXPECT_EQ(closed[0].down.code, ws::CloseCode::GoingAway);
  EXPECT_EQ(closed[0].down.status, absl::StatusCode::kOk);
  EXPECT_EQ(closed[0].detail, "going away");
  // Proven by data, so retried after about backoff_initial, not a long wait.
  EXPECT_LT(closed[0].down.reconnect_at - absl::Now(), absl::Seconds(1));
  std::vector<std::vector<std::string>> got = server.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], venue.expected_replay());
}

// --- planned rotation under a steady stream ---------------------------------------------

TYPED_TEST(SessionBackends, RotationLosesNothing) {
  using B = TypeParam;
  FeedServer server(0, absl::Microseconds(500));  // 2000 messages a second
  TestVenue venue(2);
  Running<B> s(this->ctx, server.url(), venue, fast_options());
  this->play(s, venue, [&]() -> TaskOf<B> {
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.data_from(1) >= 200; }));
    EXPECT_TRUE(s->request_rotation());
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.switches() >= 1 && venue.closes() >= 1; }));
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.data_from(2) >= 400; }));
    co_return absl::OkStatus();
  });
  EXPECT_EQ(venue.missing(), 0u) << "sequence numbers lost across the rotation";
  EXPECT_GT(venue.duplicates(), 0u) << "both connections delivered during the drain, tagged by id";
  EXPECT_EQ(venue.last_switch(), (std::pair<ConnectionId, ConnectionId>{1, 2}));
  std::vector<TestVenue::Closed> closed = venue.closed();
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[0].down.id, 1u);
  EXPECT_EQ(closed[0].down.cause, DownCause::Rotated);
  EXPECT_EQ(closed[0].down.replaced_by, 2u);
  EXPECT_EQ(closed[1].down.cause, DownCause::Stopped);
  std::vector<std::vector<std::string>> got = server.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], venue.expected_replay());
  EXPECT_EQ(s->health().session.rotations, 1u);
}

// --- TLS: verified by default -------------------------------------------------------------

// A wss venue whose certificate the system trust store does not know: the
// default options refuse it (every attempt a ConnectFailed with
// kPermissionDenied, the handler never opened); trusting the test CA
// connects.
TYPED_TEST(SessionBackends, TlsVerifiedByDefault) {
  using B = TypeParam;
  const tls::TlsConfig server_tls = tls::testing::server_tls_config(tls::testing::test_pki().good);
  FeedServer server(0, absl::Milliseconds(1), &server_tls);
  {
    TestVenue venue(1);
    Running<B> s(this->ctx, server.url(), venue, fast_options());
    this->play(s, venue, [&]() -> TaskOf<B> {
      EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return s->health().session.connect_failures >= 2; }));
      co_return absl::OkStatus();
    });
    EXPECT_EQ(venue.opens(), 0);
    const HealthSnapshot h = s->health();
    ASSERT_GE(h.error_count, 1u);
    EXPECT_EQ(h.errors[0].kind, ErrorKind::ConnectFailed);
    EXPECT_EQ(h.errors[0].status, absl::StatusCode::kPermissionDenied) << h.errors[0].text();
  }
  const tls::TlsConfig client_tls = tls::testing::client_tls_config();
  SessionOptions options = fast_options();
  options.ws.tls = &client_tls;
  TestVenue venue(1);
  Running<B> s(this->ctx, server.url(), venue, options);
  this->play(s, venue, [&]() -> TaskOf<B> {
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.data_from(1) >= 10; }));
    co_return absl::OkStatus();
  });
  EXPECT_EQ(venue.opens(), 1);
}

// --- stop while backing off ----------------------------------------------------------------

TYPED_TEST(SessionBackends, StopsWhileBackingOff) {
  using B = TypeParam;
  FeedServer server;
  const std::string url = server.url();
  server.kill();  // nothing listens: every attempt is refused
  TestVenue venue(1);
  Running<B> s(this->ctx, url, venue, fast_options());
  this->play(s, venue, [&]() -> TaskOf<B> {
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return s->health().session.connect_failures >= 3; }));
    const absl::Time asked = absl::Now();
    s->stop();
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return s.done(); }));
    // Within the control coroutine's nap (or at once on posix).
    EXPECT_LT(absl::Now() - asked, absl::Seconds(1));
    co_return absl::OkStatus();
  });
  EXPECT_EQ(venue.opens(), 0);
  EXPECT_EQ(venue.closes(), 0);
  const HealthSnapshot h = s->health();
  EXPECT_GE(h.error_count, 3u);
  EXPECT_EQ(h.errors[0].kind, ErrorKind::ConnectFailed);
  EXPECT_EQ(h.errors[0].status, absl::StatusCode::kUnavailable);
}

// --- application pings, auth confirmation, runtime messages, resync -----------------------

// TestVenue with the optional hooks: a text "ping" every app_ping_interval
// answered "pong", auth confirmed by "auth ok", and from its callbacks (the
// loop's thread on every backend) runtime messages and a resync request.
template <typename B>
class AppVenue : public TestVenue {
 public:
  using TestVenue::TestVenue;
  void app_ping(Out& out) { (void)out.add_text("ping"); }
  bool is_app_pong(const ws::Message& m) {
    if (m.text() != "pong") return false;
    ++app_pongs;
    return true;
  }
  bool is_auth_confirmed(const ws::Message& m) {
    if (m.text() != "auth ok") return false;
    ++auth_confirmations;
    return true;
  }
  bool on_message(const ws::Message& m, ConnectionId id, Out& out) {
    const bool data = TestVenue::on_message(m, id, out);
    if (data && ++data_seen == 50) {
      // A new subscription while live (paced), and an unpaced message.
      runtime_paced = session->send_text("sub late", Pacing::Paced);
      runtime_now = session->send_text("hello");
    }
    if (data && data_seen == 100) out.request_resync();  // a sequence gap, say
    return data;
  }

  Session<B, AppVenue>* session = nullptr;
  std::atomic<int> app_pongs{0};
  std::atomic<int> auth_confirmations{0};
  int data_seen = 0;
  absl::Status runtime_paced = absl::UnknownError("not sent");
  absl::Status runtime_now = absl::UnknownError("not sent");
};

TYPED_TEST(SessionBackends, AppPingsAuthRuntimeMessagesAndResync) {
  using B = TypeParam;
  FeedServer server;
  AppVenue<B> venue(2);
  SessionOptions options = fast_options();
  options.policy.app_ping_interval = absl::Milliseconds(60);
  options.policy.app_pong_timeout = absl::Milliseconds(300);
  options.policy.wait_for_auth = true;
  options.policy.auth_timeout = absl::Seconds(1);
  Running<B, AppVenue<B>> s(this->ctx, server.url(), venue, options);
  venue.session = &*s;
  this->play(s, venue, [&]() -> TaskOf<B> {
    // The resync is a make-before-break rotation: connection 2 takes over.
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] {
      return venue.switches() >= 1 && venue.closes() >= 1 && venue.data_from(2) >= 20;
    }));
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.app_pongs.load() >= 3; }));
    co_return absl::OkStatus();
  });
  EXPECT_TRUE(venue.runtime_paced.ok()) << venue.runtime_paced;
  EXPECT_TRUE(venue.runtime_now.ok()) << venue.runtime_now;
  EXPECT_EQ(venue.auth_confirmations.load(), 2);  // once per connection
  EXPECT_EQ(venue.missing(), 0u);
  std::vector<TestVenue::Closed> closed = venue.closed();
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[0].down.cause, DownCause::Rotated);
  // Connection 1: the replay (auth first, the subscriptions after "auth
  // ok"), then the runtime messages, application pings in between.
  std::vector<std::vector<std::string>> got = server.received();
  ASSERT_EQ(got.size(), 2u);
  std::vector<std::string> first;
  int pings = 0;
  for (const std::string& m : got[0]) {
    if (m == "ping") {
      ++pings;
    } else {
      first.push_back(m);
    }
  }
  EXPECT_GE(pings, 1);
  std::vector<std::string> want = venue.expected_replay();
  want.push_back("hello");
  want.push_back("sub late");
  EXPECT_EQ(first, want);
}

// --- deterministic fault injection ----------------------------------------------------------

// Fails the n-th transport operation for n = 0, 1, 2, ... until the scenario
// (open, replay, 20 data messages on one connection, stop) completes with no
// fault fired. Each run checks the handler's contract and that every
// connection got the replay at most once, in order.
TYPED_TEST(SessionBackends, FaultInjection) {
  using FB = ::tern::testing::Faulty<TypeParam>;
  FeedServer server;
  int completed_clean = 0;
  std::int64_t n = 0;
  for (; n <= 200; ++n) {
    SCOPED_TRACE(::testing::Message() << "fault at operation " << n);
    const std::size_t base = server.received().size();
    TestVenue venue(2);
    typename FB::Context ctx;
    FB::arm(n);
    bool reached = false;
    {
      Running<FB> s(ctx, server.url(), venue, fast_options());
      const absl::Status st = FB::run(ctx, [&]() -> TaskOf<FB> {
        reached = co_await until<FB>(ctx, [&] {
          for (ConnectionId id = 1; id < 16; ++id) {
            if (venue.data_from(id) >= 20) return true;
          }
          return false;
        });
        s->stop();
        co_await until<FB>(ctx, [&] { return s.done(); });
        co_return absl::OkStatus();
      }());
      EXPECT_TRUE(st.ok()) << st;
      EXPECT_TRUE(s.done());
      if (!s.done()) break;
    }
    EXPECT_TRUE(reached) << "the session did not recover from the fault";
    expect_no_violations(venue);
    EXPECT_EQ(venue.open_now(), 0) << "an open without its close";
    const std::vector<std::vector<std::string>> got = server.received();
    const std::vector<std::string> replay = venue.expected_replay();
    for (std::size_t i = base; i < got.size(); ++i) {
      ASSERT_LE(got[i].size(), replay.size()) << "a subscription replayed twice on connection " << i;
      for (std::size_t k = 0; k < got[i].size(); ++k) EXPECT_EQ(got[i][k], replay[k]);
    }
    if (!FB::fired()) {
      ++completed_clean;
      break;
    }
  }
  std::printf("%s: %lld runs, a fault at each operation of the scenario (%lld counted in the clean run)\n",
              std::string(FB::kName).c_str(), static_cast<long long>(n + 1),
              static_cast<long long>(FB::operations()));
  FB::disarm();
  EXPECT_EQ(completed_clean, 1) << "no run got past every fault point within 200";
  EXPECT_GE(n, 3) << "the scenario has more than three operations";
}

// --- allocations --------------------------------------------------------------------------------

TYPED_TEST(SessionBackends, SteadyStateAndReplayAllocateNothing) {
  using B = TypeParam;
  FeedServer server;
  TestVenue venue(3);
  Running<B> s(this->ctx, server.url(), venue, fast_options());
  std::size_t steady = 0;
  std::uint64_t counted = 0;
  this->play(s, venue, [&]() -> TaskOf<B> {
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.data_from(1) >= 300; }));
    // Steady state: data, pings and pongs, the control coroutine's naps.
    const std::uint64_t from = venue.data_from(1);
    const ::tern::testing::AllocCounter count;
    const absl::Time end = absl::Now() + absl::Milliseconds(400);
    while (absl::Now() < end) (void)co_await B::sleep_for(this->ctx, absl::Milliseconds(50));
    steady = count.allocations();
    counted = venue.data_from(1) - from;
    // A reconnect: its connect allocates, its replay must not (counted by
    // the venue from on_open to the first data after the replay).
    server.close_all(ws::CloseCode::GoingAway);
    EXPECT_TRUE(co_await until<B>(this->ctx, [&] { return venue.data_from(2) >= 10; }));
    co_return absl::OkStatus();
  });
  EXPECT_GT(counted, 200u);
  EXPECT_EQ(steady, 0u) << "over " << counted << " messages";
  EXPECT_EQ(venue.replay_allocations(2), 0) << "from on_open to the first data message";
}

}  // namespace
}  // namespace tern::session
