#include "backends/session/session_policy.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "tests/session/session_world.h"
#include "tests/support/alloc_counter.h"

namespace tern::session {
namespace {

using testing::drain;
using testing::Logged;
using testing::t0;
using testing::World;

constexpr absl::Duration kMs = absl::Milliseconds(1);
constexpr absl::Duration kSec = absl::Seconds(1);

SessionPolicy make(const SessionConfig& config = {}) {
  absl::StatusOr<SessionPolicy> p = SessionPolicy::create(config);
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

// A config with no heartbeats and unpaced replay, for tests about something
// else.
SessionConfig quiet() {
  SessionConfig c;
  c.ping_interval = absl::ZeroDuration();
  c.max_replay_rate = INFINITY;
  return c;
}

const Action* find_type(const std::vector<Action>& as, ActionType type) {
  for (const Action& a : as) {
    if (a.type == type) return &a;
  }
  return nullptr;
}

// Start, connect and open connection 1 with `replay` unpaced messages all
// sent: Live at `now`.
ConnectionId open_live(SessionPolicy& p, absl::Time now, std::uint32_t replay = 0) {
  p.start(now);
  std::vector<Action> as = drain(p, now);
  EXPECT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].type, ActionType::Connect);
  const ConnectionId id = as[0].id;
  EXPECT_TRUE(p.on_open(id, now));
  p.on_replay_queued(id, now, replay);
  for (const Action& a : drain(p, now)) {
    if (a.type == ActionType::Replay) p.on_replay_sent(id, now, a.count);
  }
  EXPECT_EQ(drain(p, now).size(), 0u);
  return id;
}

// Delays between a connection's end and the next Connect, from the log.
std::vector<absl::Duration> reconnect_gaps(const World& w) {
  std::vector<absl::Duration> gaps;
  for (const Logged& l : w.log) {
    if (l.action.type == ActionType::Down && l.action.at != absl::InfiniteFuture()) {
      gaps.push_back(l.action.at - l.at);
    }
  }
  return gaps;
}

// --- configuration ----------------------------------------------------------

TEST(SessionConfigTest, DefaultsAreValid) { EXPECT_TRUE(validate(SessionConfig{}).ok()); }

TEST(SessionConfigTest, RefusesOutOfRangeValues) {
  struct Case {
    const char* field;
    void (*spoil)(SessionConfig&);
  } const cases[] = {
      {"backoff_initial", [](SessionConfig& c) { c.backoff_initial = absl::ZeroDuration(); }},
      {"backoff_multiplier", [](SessionConfig& c) { c.backoff_multiplier = 0.5; }},
      {"backoff_multiplier", [](SessionConfig& c) { c.backoff_multiplier = NAN; }},
      {"backoff_max", [](SessionConfig& c) { c.backoff_max = absl::Milliseconds(10); }},
      {"backoff_max", [](SessionConfig& c) { c.backoff_max = absl::InfiniteDuration(); }},
      {"backoff_jitter", [](SessionConfig& c) { c.backoff_jitter = 1.5; }},
      {"stable_after", [](SessionConfig& c) { c.stable_after = -kSec; }},
      {"ping_interval", [](SessionConfig& c) { c.ping_interval = -kSec; }},
      {"pong_timeout", [](SessionConfig& c) { c.pong_timeout = -kSec; }},
      {"max_silence", [](SessionConfig& c) { c.max_silence = -kSec; }},
      {"max_replay_rate", [](SessionConfig& c) { c.max_replay_rate = 0; }},
      {"replay_burst", [](SessionConfig& c) { c.replay_burst = 0; }},
      {"max_connection_age", [](SessionConfig& c) { c.max_connection_age = absl::ZeroDuration(); }},
      {"rotation_timeout", [](SessionConfig& c) { c.rotation_timeout = absl::ZeroDuration(); }},
      {"rotation_retry", [](SessionConfig& c) { c.rotation_retry = absl::ZeroDuration(); }},
  };
  for (const Case& c : cases) {
    SessionConfig config;
    c.spoil(config);
    const absl::Status s = validate(config);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(s.message().find(c.field), absl::string_view::npos) << s;
    EXPECT_FALSE(SessionPolicy::create(config).ok()) << c.field;
  }
}

// --- states and transitions ---------------------------------------------------

TEST(SessionPolicyTest, IdleUntilStarted) {
  SessionPolicy p = make();
  EXPECT_EQ(p.state(), SessionState::Idle);
  Action last;
  EXPECT_TRUE(drain(p, t0(), &last).empty());
  EXPECT_EQ(last.type, ActionType::Wait);
  EXPECT_EQ(last.at, absl::InfiniteFuture());
  EXPECT_EQ(p.current(), 0u);
}

TEST(SessionPolicyTest, StartConnectsAtOnceThenReplaysThenLive) {
  SessionPolicy p = make(quiet());
  const absl::Time now = t0();
  p.start(now);
  EXPECT_EQ(p.state(), SessionState::Connecting);
  std::vector<Action> as = drain(p, now);
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].type, ActionType::Connect);
  EXPECT_EQ(as[0].id, 1u);
  EXPECT_EQ(p.connection_state(1), ConnectionState::Connecting);
  EXPECT_EQ(p.current(), 0u);

  ASSERT_TRUE(p.on_open(1, now + kMs));
  EXPECT_EQ(p.connection_state(1), ConnectionState::Replaying);
  EXPECT_EQ(p.state(), SessionState::Connecting);  // not Live before the replay
  EXPECT_EQ(p.current(), 1u);
  EXPECT_TRUE(drain(p, now + kMs).empty());  // nothing queued yet

  p.on_replay_queued(1, now + kMs, 2);
  as = drain(p, now + kMs);
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].type, ActionType::Replay);
  EXPECT_EQ(as[0].count, 2u);
  EXPECT_TRUE(drain(p, now + kMs).empty());  // one Replay in flight at a time
  p.on_replay_sent(1, now + 2 * kMs, 2);
  EXPECT_EQ(p.connection_state(1), ConnectionState::Live);
  EXPECT_EQ(p.state(), SessionState::Live);
}

TEST(SessionPolicyTest, NothingToReplayIsLiveAtOnce) {
  SessionPolicy p = make(quiet());
  const ConnectionId id = open_live(p, t0());
  EXPECT_EQ(p.connection_state(id), ConnectionState::Live);
  EXPECT_EQ(p.state(), SessionState::Live);
}

TEST(SessionPolicyTest, StartTwiceIsOneSession) {
  SessionPolicy p = make(quiet());
  p.start(t0());
  p.start(t0());
  EXPECT_EQ(drain(p, t0()).size(), 1u);
}

TEST(SessionPolicyTest, NamesCoverEveryValue) {
  EXPECT_EQ(name(SessionState::Rotating), "Rotating");
  EXPECT_EQ(name(ConnectionState::Draining), "Draining");
  EXPECT_EQ(name(DownCause::AppPongTimeout), "AppPongTimeout");
  EXPECT_EQ(name(ActionType::SwitchTo), "SwitchTo");
  EXPECT_TRUE(is_stale(DownCause::Silent));
  EXPECT_FALSE(is_stale(DownCause::PeerClosed));
  EXPECT_TRUE(is_planned(DownCause::Stopped));
  EXPECT_FALSE(is_planned(DownCause::RotationAbandoned));
}

TEST(SessionPolicyTest, UnknownIdsAreIgnored) {
  SessionPolicy p = make(quiet());
  const ConnectionId id = open_live(p, t0());
  const absl::Time now = t0() + kSec;
  EXPECT_FALSE(p.on_open(77, now));
  p.on_message(77, now);
  p.on_closed(77, now, {});
  p.on_connect_failed(77, now, {});
  p.on_replay_queued(77, now, 3);
  p.on_replay_sent(77, now, 3);
  p.on_auth_confirmed(77, now);
  EXPECT_FALSE(p.on_pong(77, now, {}).has_value());
  EXPECT_FALSE(p.on_app_pong(77, now).has_value());
  EXPECT_FALSE(p.on_open(0, now));
  EXPECT_TRUE(drain(p, now).empty());
  EXPECT_EQ(p.state(), SessionState::Live);
  EXPECT_EQ(p.current(), id);
}

TEST(SessionPolicyTest, PingTokenRoundTrips) {
  std::array<std::uint8_t, 8> b;
  encode_ping_token(0x0102030405060708ull, b);
  EXPECT_EQ(b[0], 0x08);
  EXPECT_EQ(decode_ping_token(b), 0x0102030405060708ull);
  EXPECT_FALSE(decode_ping_token(std::span<const std::uint8_t>(b.data(), 7)).has_value());
}

// --- backoff -----------------------------------------------------------------

// Every attempt fails: the n-th delay is in [d(1-j), d], d = min(30 s,
// 1 s * 1.5^(n-1)).
TEST(SessionPolicyTest, BackoffSequenceGrowsWithinBoundsToTheCap) {
  SessionConfig c = quiet();
  c.seed = 42;
  SessionPolicy p = make(c);
  absl::Time now = t0();
  p.start(now);
  std::vector<Action> as = drain(p, now);
  ASSERT_EQ(as.size(), 1u);
  for (int n = 1; n <= 20; ++n) {
    p.on_connect_failed(as[0].id, now, {});
    EXPECT_EQ(p.state(), SessionState::Backoff);
    EXPECT_EQ(p.failures(), static_cast<std::uint32_t>(n));
    Action wait;
    ASSERT_TRUE(drain(p, now, &wait).empty());
    const absl::Duration delay = wait.at - now;
    const double d = std::min(30.0, std::pow(1.5, n - 1));
    EXPECT_GE(delay, absl::Seconds(d * 0.5)) << "attempt " << n;
    EXPECT_LE(delay, absl::Seconds(d)) << "attempt " << n;
    // Nothing before the deadline, a Connect at it.
    EXPECT_TRUE(drain(p, wait.at - kMs).empty());
    now = wait.at;
    as = drain(p, now);
    ASSERT_EQ(as.size(), 1u);
    EXPECT_EQ(as[0].type, ActionType::Connect);
    EXPECT_EQ(as[0].id, static_cast<ConnectionId>(n + 1));
    EXPECT_EQ(p.state(), SessionState::Connecting);
  }
}

TEST(SessionPolicyTest, JitterCoversItsRange) {
  SessionConfig c = quiet();
  c.seed = 7;
  SessionPolicy p = make(c);
  absl::Time now = t0();
  p.start(now);
  std::vector<Action> as = drain(p, now);
  double lo = 1e9, hi = 0;
  for (int n = 1; n <= 400; ++n) {
    p.on_connect_failed(as[0].id, now, {});
    Action wait;
    drain(p, now, &wait);
    if (n > 10) {  // at the 30 s cap: uniform in [15, 30]
      const double s = absl::ToDoubleSeconds(wait.at - now);
      ASSERT_GE(s, 15.0);
      ASSERT_LE(s, 30.0);
      lo = std::min(lo, s);
      hi = std::max(hi, s);
    }
    now = wait.at;
    as = drain(p, now);
  }
  EXPECT_LT(lo, 15.5);
  EXPECT_GT(hi, 29.5);
}

// A server that accepts and closes at once: the handshake succeeds every
// time and the delays still grow (defi-ws reset them on each handshake).
TEST(SessionPolicyTest, NoResetOnHandshakeSuccess) {
  SessionPolicy p = make(quiet());
  absl::Time now = t0();
  p.start(now);
  std::vector<Action> as = drain(p, now);
  for (int n = 1; n <= 8; ++n) {
    ASSERT_TRUE(p.on_open(as[0].id, now));
    p.on_replay_queued(as[0].id, now, 0);
    p.on_message(as[0].id, now + kMs, /*is_data=*/false);  // "auth rejected"
    p.on_closed(as[0].id, now + 2 * kMs, {ws::CloseCode::PolicyViolation, absl::StatusCode::kOk, 0});
    now += 2 * kMs;
    EXPECT_EQ(p.failures(), static_cast<std::uint32_t>(n));
    std::vector<Action> down = drain(p, now);
    ASSERT_EQ(down.size(), 1u);
    EXPECT_EQ(down[0].type, ActionType::Down);
    EXPECT_EQ(down[0].cause, DownCause::PeerClosed);
    EXPECT_EQ(down[0].code, ws::CloseCode::PolicyViolation);
    EXPECT_GE(down[0].at - now, absl::Seconds(0.5 * std::pow(1.5, n - 1)));
    now = down[0].at;
    as = drain(p, now);
    ASSERT_EQ(as.size(), 1u);
  }
}

TEST(SessionPolicyTest, StableAfterResetsAndRetriesAtOnceWithJitter) {
  SessionConfig c = quiet();
  SessionPolicy p = make(c);
  absl::Time now = t0();
  p.start(now);
  // Three failures first.
  for (int n = 0; n < 3; ++n) {
    const ConnectionId id = drain(p, now)[0].id;
    p.on_connect_failed(id, now, {});
    Action wait;
    drain(p, now, &wait);
    now = wait.at;
  }
  ASSERT_EQ(p.failures(), 3u);
  const ConnectionId id = drain(p, now)[0].id;
  ASSERT_TRUE(p.on_open(id, now));
  p.on_replay_queued(id, now, 0);
  // No data: only the 5 s of uptime prove it.
  p.on_message(id, now + 4 * kSec, /*is_data=*/false);
  p.on_closed(id, now + 5 * kSec, {ws::CloseCode::GoingAway, absl::StatusCode::kOk, 0});
  now += 5 * kSec;
  EXPECT_EQ(p.failures(), 0u);
  std::vector<Action> down = drain(p, now);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_GE(down[0].at, now);
  EXPECT_LT(down[0].at - now, absl::Milliseconds(500));  // [0, initial * jitter)
}

TEST(SessionPolicyTest, ShortUptimeWithoutDataIsAFailure) {
  SessionPolicy p = make(quiet());
  const ConnectionId id = open_live(p, t0());
  p.on_closed(id, t0() + 4 * kSec, {ws::CloseCode::GoingAway, absl::StatusCode::kOk, 0});
  EXPECT_EQ(p.failures(), 1u);
}

TEST(SessionPolicyTest, FirstDataResetsButDoesNotRetryAtOnce) {
  SessionPolicy p = make(quiet());
  absl::Time now = t0();
  p.start(now);
  ConnectionId id = drain(p, now)[0].id;
  p.on_connect_failed(id, now, {});
  Action wait;
  drain(p, now, &wait);
  now = wait.at;
  id = drain(p, now)[0].id;
  ASSERT_EQ(p.failures(), 1u);
  ASSERT_TRUE(p.on_open(id, now));
  p.on_replay_queued(id, now, 0);
  p.on_message(id, now + 100 * kMs, /*is_data=*/false);
  EXPECT_EQ(p.failures(), 1u);  // an ack is not data
  p.on_message(id, now + 200 * kMs, /*is_data=*/true);
  EXPECT_EQ(p.failures(), 0u);
  p.on_closed(id, now + kSec, {ws::CloseCode::GoingAway, absl::StatusCode::kOk, 0});
  now += kSec;
  EXPECT_EQ(p.failures(), 0u);
  std::vector<Action> down = drain(p, now);
  ASSERT_EQ(down.size(), 1u);
  // Up 1 s only: the initial delay with jitter, not the immediate retry.
  EXPECT_GE(down[0].at - now, absl::Milliseconds(500));
  EXPECT_LE(down[0].at - now, kSec);
}

TEST(SessionPolicyTest, FirstDataDoesNotResetWhenDisabled) {
  SessionConfig c = quiet();
  c.reset_on_first_data = false;
  SessionPolicy p = make(c);
  const ConnectionId id = open_live(p, t0());
  p.on_message(id, t0() + kMs, true);
  p.on_closed(id, t0() + kSec, {});
  EXPECT_EQ(p.failures(), 1u);
}

TEST(SessionPolicyTest, ImmediateRetryCanBeTurnedOff) {
  SessionConfig c = quiet();
  c.immediate_first_retry = false;
  SessionPolicy p = make(c);
  const ConnectionId id = open_live(p, t0());
  const absl::Time now = t0() + absl::Minutes(5);
  p.on_closed(id, now, {ws::CloseCode::GoingAway, absl::StatusCode::kOk, 0});
  const std::vector<Action> down = drain(p, now);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_GE(down[0].at - now, absl::Milliseconds(500));
  EXPECT_EQ(p.failures(), 0u);
}

// 1013 Try Again Later, or HTTP 429 at the handshake: back off even after
// a long good run.
TEST(SessionPolicyTest, ThrottledEndsNeverRetryAtOnce) {
  SessionPolicy p = make(quiet());
  const ConnectionId id = open_live(p, t0());
  absl::Time now = t0() + absl::Hours(1);
  p.on_closed(id, now, {ws::CloseCode::TryAgainLater, absl::StatusCode::kOk, 0});
  EXPECT_EQ(p.failures(), 1u);
  std::vector<Action> down = drain(p, now);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_GE(down[0].at - now, absl::Milliseconds(500));
  now = down[0].at;
  const ConnectionId next = drain(p, now)[0].id;
  p.on_connect_failed(next, now, {ws::CloseCode::Abnormal, absl::StatusCode::kFailedPrecondition, 429});
  EXPECT_EQ(p.failures(), 2u);
  EXPECT_TRUE((Ended{ws::CloseCode::Abnormal, absl::StatusCode::kOk, 503}.throttled()));
  EXPECT_FALSE(Ended{}.throttled());
}

// The scenario of the issue: accept-then-close for ten minutes. Delays grow
// to the cap and there is no tight loop.
TEST(SessionPolicyTest, AcceptThenCloseServerSeesGrowingDelays) {
  SessionConfig c;
  c.seed = 3;
  World w(c);
  w.close_after_open = absl::Milliseconds(50);
  w.policy.start(w.now);
  w.run_until(t0() + absl::Minutes(10));
  const std::vector<absl::Duration> gaps = reconnect_gaps(w);
  ASSERT_GE(gaps.size(), 10u);
  for (std::size_t n = 0; n < gaps.size(); ++n) {
    const double d = std::min(30.0, std::pow(1.5, static_cast<double>(n)));
    EXPECT_GE(gaps[n], absl::Seconds(0.5 * d)) << n;
    EXPECT_LE(gaps[n], absl::Seconds(d)) << n;
  }
  // At 1 s x1.5 to 30 s with jitter: under 40 connections in 10 minutes.
  EXPECT_LT(w.of(ActionType::Connect).size(), 40u);
}

// --- heartbeats and staleness ----------------------------------------------------

TEST(SessionPolicyTest, PingsEveryIntervalAndMeasuresRtt) {
  SessionConfig c = quiet();
  c.ping_interval = absl::Seconds(20);
  SessionPolicy p = make(c);
  const absl::Time start = t0();
  const ConnectionId id = open_live(p, start);
  Action wait;
  drain(p, start, &wait);
  EXPECT_EQ(wait.at, start + absl::Seconds(20));
  EXPECT_EQ(p.next_deadline(), wait.at);
  std::uint64_t last_token = 0;
  for (int n = 1; n <= 5; ++n) {
    const absl::Time at = start + absl::Seconds(20) * n;
    EXPECT_TRUE(drain(p, at - kMs).empty());
    std::vector<Action> as = drain(p, at, &wait);
    ASSERT_EQ(as.size(), 1u);
    EXPECT_EQ(as[0].type, ActionType::SendPing);
    EXPECT_EQ(as[0].id, id);
    EXPECT_GT(as[0].token, last_token);
    last_token = as[0].token;
    EXPECT_EQ(wait.at, at + absl::Seconds(20));  // the pong deadline
    std::array<std::uint8_t, 8> payload;
    encode_ping_token(as[0].token, payload);
    // A stale token is only inbound traffic.
    std::array<std::uint8_t, 8> old;
    encode_ping_token(as[0].token - 1, old);
    EXPECT_FALSE(p.on_pong(id, at + kMs, old).has_value());
    const std::optional<absl::Duration> rtt = p.on_pong(id, at + 3 * kMs, payload);
    ASSERT_TRUE(rtt.has_value());
    EXPECT_EQ(*rtt, 3 * kMs);
    EXPECT_FALSE(p.on_pong(id, at + 4 * kMs, payload).has_value());  // answered already
  }
}

TEST(SessionPolicyTest, PongTimeoutClosesAndReconnects) {
  SessionConfig c = quiet();
  c.ping_interval = absl::Seconds(20);
  c.pong_timeout = absl::Seconds(10);
  SessionPolicy p = make(c);
  const ConnectionId id = open_live(p, t0());
  std::vector<Action> as = drain(p, t0() + absl::Seconds(20));
  ASSERT_EQ(as.size(), 1u);
  ASSERT_EQ(as[0].type, ActionType::SendPing);
  // Data keeps flowing, but no Pong.
  p.on_message(id, t0() + absl::Seconds(25), true);
  EXPECT_TRUE(drain(p, t0() + absl::Seconds(30) - kMs).empty());
  const absl::Time at = t0() + absl::Seconds(30);
  as = drain(p, at);
  ASSERT_EQ(as.size(), 2u);
  EXPECT_EQ(as[0].type, ActionType::Close);
  EXPECT_EQ(as[0].id, id);
  EXPECT_EQ(as[0].code, ws::CloseCode::InternalError);
  EXPECT_EQ(as[0].reason, "pong timeout");
  EXPECT_EQ(as[1].type, ActionType::Down);
  EXPECT_EQ(as[1].cause, DownCause::PongTimeout);
  EXPECT_EQ(as[1].status, absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(p.state(), SessionState::Backoff);
  EXPECT_EQ(p.connection_state(id), ConnectionState::Closing);
  EXPECT_EQ(p.failures(), 0u);  // it had proved itself: immediate retry
  EXPECT_LT(as[1].at - at, absl::Milliseconds(500));
  // Nothing more on the closing connection, and the reconnect comes even
  // before its close finishes.
  std::vector<Action> next = drain(p, as[1].at);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].type, ActionType::Connect);
  p.on_closed(id, as[1].at + kSec, {});
  EXPECT_EQ(p.connection_state(id), ConnectionState::Free);
  EXPECT_TRUE(drain(p, as[1].at + kSec).empty());
}

TEST(SessionPolicyTest, NextPingWaitsForTheOutstandingPong) {
  SessionConfig c = quiet();
  c.ping_interval = absl::Seconds(5);
  c.pong_timeout = absl::Seconds(20);
  SessionPolicy p = make(c);
  const ConnectionId id = open_live(p, t0());
  std::vector<Action> as = drain(p, t0() + absl::Seconds(5));
  ASSERT_EQ(as.size(), 1u);
  EXPECT_TRUE(drain(p, t0() + absl::Seconds(12)).empty());  // ping due at 10 s: waits
  std::array<std::uint8_t, 8> payload;
  encode_ping_token(as[0].token, payload);
  ASSERT_TRUE(p.on_pong(id, t0() + absl::Seconds(12), payload).has_value());
  as = drain(p, t0() + absl::Seconds(12));
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].type, ActionType::SendPing);
}

TEST(SessionPolicyTest, MaxSilenceDetectsStale) {
  SessionConfig c = quiet();
  c.max_silence = absl::Seconds(5);
  SessionPolicy p = make(c);
  const ConnectionId id = open_live(p, t0());
  // Frames of every kind postpone it.
  p.on_message(id, t0() + absl::Seconds(3), true);
  p.on_ping_from_server(id, t0() + absl::Seconds(7));
  p.on_pong(id, t0() + absl::Seconds(11), {});
  EXPECT_TRUE(drain(p, t0() + absl::Seconds(16) - kMs).empty());
  std::vector<Action> as = drain(p, t0() + absl::Seconds(16));
  ASSERT_EQ(as.size(), 2u);
  EXPECT_EQ(as[0].type, ActionType::Close);
  EXPECT_EQ(as[0].reason, "no data");
  EXPECT_EQ(as[1].cause, DownCause::Silent);
}

// The guarantee: a peer that goes silent at any moment is detected within
// ping_interval + pong_timeout of its last frame, 2x the heartbeat here.
TEST(SessionPolicyTest, StaleDetectedWithinTwiceTheHeartbeat) {
  for (const absl::Duration heartbeat : {absl::Seconds(20), absl::Seconds(3)}) {
    for (int k = 0; k < 23; ++k) {
      SessionConfig c;
      c.ping_interval = heartbeat;
      c.pong_timeout = heartbeat;
      c.seed = k;
      World w(c);
      w.data_interval = absl::Milliseconds(700);
      // Silent from a point spread over two heartbeats after the first open.
      w.mute_from = t0() + heartbeat / 2 + heartbeat * (k / 11.0);
      w.policy.start(w.now);
      w.run_until(w.mute_from + 3 * heartbeat);
      const std::vector<Logged> closes = w.of(ActionType::Close);
      ASSERT_FALSE(closes.empty()) << "never detected, k=" << k;
      const Action down = w.of(ActionType::Down)[0].action;
      EXPECT_TRUE(is_stale(down.cause));
      // The last frame came just before mute_from.
      EXPECT_LE(closes[0].at - w.mute_from, 2 * heartbeat) << "k=" << k;
      EXPECT_GE(closes[0].at, w.mute_from) << "k=" << k;
    }
  }
}

// Accepts, then black-holes: each connection is detected stale 40 s after
// it opened, and those 40 s do not count as "up" (its last frame was at the
// open), so the delays grow instead of an immediate retry every 40 s.
TEST(SessionPolicyTest, SilentFromTheStartIsNeverProven) {
  World w(SessionConfig{});
  w.mute_from = t0();
  w.policy.start(w.now);
  w.run_until(t0() + absl::Minutes(10));
  const std::vector<Logged> downs = w.of(ActionType::Down);
  ASSERT_GE(downs.size(), 5u);
  for (const Logged& l : downs) {
    EXPECT_TRUE(is_stale(l.action.cause));
    EXPECT_GE(l.action.at - l.at, absl::Milliseconds(500));
  }
  EXPECT_EQ(w.policy.failures(), downs.size());
}

TEST(SessionPolicyTest, AppPingsWithAndWithoutTheirPong) {
  SessionConfig c = quiet();
  c.app_ping_interval = absl::Seconds(15);
  c.app_pong_timeout = absl::Seconds(5);
  SessionPolicy p = make(c);
  const ConnectionId id = open_live(p, t0());
  std::vector<Action> as = drain(p, t0() + absl::Seconds(15));
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].type, ActionType::SendAppPing);
  EXPECT_EQ(as[0].id, id);
  const std::optional<absl::Duration> rtt = p.on_app_pong(id, t0() + absl::Seconds(15) + 40 * kMs);
  ASSERT_TRUE(rtt.has_value());
  EXPECT_EQ(*rtt, 40 * kMs);
  EXPECT_FALSE(p.on_app_pong(id, t0() + absl::Seconds(16)).has_value());
  as = drain(p, t0() + absl::Seconds(30));
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].type, ActionType::SendAppPing);
  as = drain(p, t0() + absl::Seconds(35));  // no answer
  ASSERT_EQ(as.size(), 2u);
  EXPECT_EQ(as[1].cause, DownCause::AppPongTimeout);
}

// --- replay pacing and auth -------------------------------------------------------

// Every Replay's time and count, for one connection.
std::vector<std::pair<absl::Time, std::uint32_t>> replay_run(const SessionConfig& c, std::uint32_t n,
                                                             std::uint32_t auth = 0) {
  World w(c);
  w.replay_messages = n;
  w.auth_messages = auth;
  w.data_interval = absl::ZeroDuration();
  w.policy.start(w.now);
  w.run_until(t0() + absl::Minutes(2));
  std::vector<std::pair<absl::Time, std::uint32_t>> out;
  for (const Logged& l : w.of(ActionType::Replay)) out.emplace_back(l.at, l.action.count);
  return out;
}

TEST(SessionPolicyTest, TenSubscriptionsAtTwoPerSecondTakeFourAndAHalfSeconds) {
  SessionConfig c;
  c.ping_interval = absl::ZeroDuration();
  const auto sends = replay_run(c, 10);
  ASSERT_EQ(sends.size(), 10u);
  for (std::size_t i = 0; i < sends.size(); ++i) {
    EXPECT_EQ(sends[i].second, 1u);
    if (i > 0) {
      EXPECT_GE(sends[i].first - sends[i - 1].first, absl::Milliseconds(500)) << i;
    }
  }
  EXPECT_EQ(sends.back().first - sends.front().first, absl::Milliseconds(4500));
}

// A GCRA: in any window of length t, at most burst + rate * t messages.
TEST(SessionPolicyTest, BurstThenRateNeverFaster) {
  SessionConfig c;
  c.ping_interval = absl::ZeroDuration();
  c.max_replay_rate = 4;
  c.replay_burst = 3;
  const auto sends = replay_run(c, 20);
  std::vector<absl::Time> times;
  for (const auto& [t, n] : sends) times.insert(times.end(), n, t);
  ASSERT_EQ(times.size(), 20u);
  EXPECT_EQ(sends[0].second, 3u);  // the burst at once
  for (std::size_t i = 0; i < times.size(); ++i) {
    for (std::size_t j = i; j < times.size(); ++j) {
      const double window = absl::ToDoubleSeconds(times[j] - times[i]);
      EXPECT_LE(static_cast<double>(j - i + 1), 3 + 4 * window + 1e-9) << i << ".." << j;
    }
  }
  // 3 at once, then 17 at 250 ms.
  EXPECT_EQ(times.back() - times.front(), absl::Milliseconds(250) * 17);
}

TEST(SessionPolicyTest, UnpacedReplayGoesAtOnce) {
  SessionConfig c = quiet();
  const auto sends = replay_run(c, 50);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].second, 50u);
}

TEST(SessionPolicyTest, WaitForAuthHoldsSubscriptionsUntilConfirmed) {
  SessionConfig c = quiet();
  c.wait_for_auth = true;
  SessionPolicy p = make(c);
  const absl::Time now = t0();
  p.start(now);
  const ConnectionId id = drain(p, now)[0].id;
  ASSERT_TRUE(p.on_open(id, now));
  p.on_replay_queued(id, now, 4, /*auth_messages=*/1);
  std::vector<Action> as = drain(p, now);
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].count, 1u);  // the auth message only
  p.on_replay_sent(id, now, 1);
  Action wait;
  EXPECT_TRUE(drain(p, now + absl::Seconds(5), &wait).empty());
  EXPECT_EQ(wait.at, now + absl::Seconds(10));  // the auth deadline
  EXPECT_EQ(p.connection_state(id), ConnectionState::Replaying);
  p.on_auth_confirmed(id, now + absl::Seconds(5));
  as = drain(p, now + absl::Seconds(5));
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].count, 3u);
  p.on_replay_sent(id, now + absl::Seconds(5), 3);
  EXPECT_EQ(p.connection_state(id), ConnectionState::Live);
  EXPECT_TRUE(drain(p, now + absl::Seconds(30)).empty());  // the auth deadline is gone
}

TEST(SessionPolicyTest, WaitForAuthWithPacing) {
  SessionConfig c;
  c.ping_interval = absl::ZeroDuration();
  c.wait_for_auth = true;
  const auto sends = replay_run(c, 5, /*auth=*/2);
  std::vector<absl::Time> times;
  for (const auto& [t, n] : sends) times.insert(times.end(), n, t);
  ASSERT_EQ(times.size(), 5u);
  // auth, auth at 2/s; confirmed 20 ms after the second; then 2/s again.
  EXPECT_EQ(times[1] - times[0], absl::Milliseconds(500));
  EXPECT_EQ(times[2] - times[1], absl::Milliseconds(500));
  EXPECT_EQ(times[4] - times[2], absl::Milliseconds(1000));
}

TEST(SessionPolicyTest, AuthNeverConfirmedIsAFailedAttempt) {
  SessionConfig c = quiet();
  c.wait_for_auth = true;
  SessionPolicy p = make(c);
  absl::Time now = t0();
  p.start(now);
  const ConnectionId id = drain(p, now)[0].id;
  ASSERT_TRUE(p.on_open(id, now));
  p.on_replay_queued(id, now, 2, 1);
  drain(p, now);
  p.on_replay_sent(id, now, 1);
  p.on_message(id, now + absl::Seconds(9), false);
  std::vector<Action> as = drain(p, now + absl::Seconds(10));
  ASSERT_EQ(as.size(), 2u);
  EXPECT_EQ(as[0].type, ActionType::Close);
  EXPECT_EQ(as[0].reason, "auth timeout");
  EXPECT_EQ(as[1].cause, DownCause::AuthTimeout);
  // Up 10 s, but it never worked: no reset, no immediate retry.
  EXPECT_EQ(p.failures(), 1u);
  EXPECT_GE(as[1].at - (now + absl::Seconds(10)), absl::Milliseconds(500));
}

TEST(SessionPolicyTest, RuntimeMessagesArePacedToo) {
  SessionPolicy p = make(SessionConfig{.ping_interval = absl::ZeroDuration()});
  const ConnectionId id = open_live(p, t0());
  const absl::Time now = t0() + absl::Minutes(1);
  p.on_replay_queued(id, now, 2);
  std::vector<Action> as = drain(p, now);
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].count, 1u);
  p.on_replay_sent(id, now, 1);
  EXPECT_EQ(p.connection_state(id), ConnectionState::Live);
  EXPECT_TRUE(drain(p, now + 499 * kMs).empty());
  EXPECT_EQ(drain(p, now + 500 * kMs).size(), 1u);
}

// --- rotation ----------------------------------------------------------------------

// Live on 1; returns the candidate's id after the rotation started at `at`.
ConnectionId start_rotation(SessionPolicy& p, absl::Time at) {
  std::vector<Action> as = drain(p, at);
  EXPECT_EQ(as.size(), 1u);
  if (as.empty()) return 0;
  EXPECT_EQ(as[0].type, ActionType::Connect);
  EXPECT_EQ(p.state(), SessionState::Rotating);
  return as[0].id;
}

TEST(SessionPolicyTest, RotationAtMaxAgeSwitchesOnFirstDataThenDrainsTheOld) {
  SessionConfig c = quiet();
  c.max_connection_age = absl::Hours(23);
  SessionPolicy p = make(c);
  const ConnectionId old = open_live(p, t0());
  p.on_message(old, t0() + kSec, true);
  Action wait;
  drain(p, t0() + kSec, &wait);
  EXPECT_EQ(wait.at, t0() + absl::Hours(23));
  absl::Time now = wait.at;
  const ConnectionId next = start_rotation(p, now);
  EXPECT_EQ(p.current(), old);
  ASSERT_TRUE(p.on_open(next, now + kSec));
  p.on_replay_queued(next, now + kSec, 2);
  std::vector<Action> as = drain(p, now + kSec);
  ASSERT_EQ(as.size(), 1u);
  p.on_replay_sent(next, now + kSec, 2);
  EXPECT_EQ(p.connection_state(next), ConnectionState::Live);
  // An ack is not data: no switch yet. Both deliver meanwhile.
  p.on_message(next, now + kSec + kMs, false);
  p.on_message(old, now + kSec + kMs, true);
  EXPECT_TRUE(drain(p, now + kSec + kMs).empty());
  EXPECT_EQ(p.current(), old);
  now += 2 * kSec;
  p.on_message(next, now, true);
  as = drain(p, now);
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].type, ActionType::SwitchTo);
  EXPECT_EQ(as[0].id, next);
  EXPECT_EQ(as[0].other, old);
  EXPECT_EQ(p.current(), next);
  EXPECT_EQ(p.state(), SessionState::Live);
  EXPECT_EQ(p.connection_state(old), ConnectionState::Draining);
  // The old one still delivers until the drain ends (1 s), then closes.
  p.on_message(old, now + 500 * kMs, true);
  EXPECT_TRUE(drain(p, now + kSec - kMs).empty());
  as = drain(p, now + kSec);
  ASSERT_EQ(as.size(), 2u);
  EXPECT_EQ(as[0].type, ActionType::Close);
  EXPECT_EQ(as[0].id, old);
  EXPECT_EQ(as[0].code, ws::CloseCode::Normal);
  EXPECT_EQ(as[0].reason, "rotated");
  EXPECT_EQ(as[1].type, ActionType::Down);
  EXPECT_EQ(as[1].cause, DownCause::Rotated);
  EXPECT_EQ(as[1].other, next);
  EXPECT_EQ(as[1].at, absl::InfiniteFuture());  // no reconnect
  p.on_closed(old, now + 2 * kSec, {});
  EXPECT_EQ(p.state(), SessionState::Live);
  // The new one rotates 23 h after it opened.
  drain(p, now + 2 * kSec, &wait);
  EXPECT_EQ(wait.at, t0() + absl::Hours(23) + kSec + absl::Hours(23));
}

TEST(SessionPolicyTest, ManualRotation) {
  SessionPolicy p = make(quiet());
  EXPECT_FALSE(p.request_rotation(t0()));  // nothing to rotate
  const ConnectionId old = open_live(p, t0());
  ASSERT_TRUE(p.request_rotation(t0() + kSec));
  const ConnectionId next = start_rotation(p, t0() + kSec);
  EXPECT_TRUE(p.request_rotation(t0() + kSec));  // already rotating
  EXPECT_TRUE(drain(p, t0() + kSec).empty());
  ASSERT_TRUE(p.on_open(next, t0() + 2 * kSec));
  p.on_replay_queued(next, t0() + 2 * kSec, 0);
  // Replayed (nothing to send) and its first data: the switch.
  p.on_message(next, t0() + 2 * kSec, true);
  std::vector<Action> as = drain(p, t0() + 2 * kSec);
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].type, ActionType::SwitchTo);
  EXPECT_EQ(as[0].other, old);
}

TEST(SessionPolicyTest, SwitchWaitsForTheWholeReplay) {
  SessionConfig c;
  c.ping_interval = absl::ZeroDuration();
  SessionPolicy p = make(c);
  const ConnectionId old = open_live(p, t0());
  absl::Time now = t0() + absl::Minutes(1);
  ASSERT_TRUE(p.request_rotation(now));
  const ConnectionId next = start_rotation(p, now);
  ASSERT_TRUE(p.on_open(next, now));
  p.on_replay_queued(next, now, 3);
  std::vector<Action> as = drain(p, now);
  ASSERT_EQ(as.size(), 1u);
  p.on_replay_sent(next, now, 1);
  p.on_message(next, now + kMs, true);  // data for the first subscription
  EXPECT_TRUE(drain(p, now + kMs).empty());
  EXPECT_EQ(p.current(), old);
  for (int i = 1; i <= 2; ++i) {
    as = drain(p, now + 500 * kMs * i);
    ASSERT_EQ(as.size(), 1u);
    ASSERT_EQ(as[0].type, ActionType::Replay);
    p.on_replay_sent(next, now + 500 * kMs * i, 1);
  }
  as = drain(p, now + kSec);
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].type, ActionType::SwitchTo);
}

TEST(SessionPolicyTest, RotationAbandonedOnTimeoutKeepsTheOld) {
  SessionPolicy p = make(quiet());
  const ConnectionId old = open_live(p, t0());
  ASSERT_TRUE(p.request_rotation(t0()));
  const ConnectionId next = start_rotation(p, t0());
  ASSERT_TRUE(p.on_open(next, t0() + kSec));
  p.on_replay_queued(next, t0() + kSec, 0);
  p.on_message(next, t0() + 2 * kSec, false);  // acks only, never data
  EXPECT_TRUE(drain(p, t0() + absl::Seconds(30) - kMs).empty());
  std::vector<Action> as = drain(p, t0() + absl::Seconds(30));
  ASSERT_EQ(as.size(), 2u);
  EXPECT_EQ(as[0].type, ActionType::Close);
  EXPECT_EQ(as[0].id, next);
  EXPECT_EQ(as[0].reason, "rotation timeout");
  EXPECT_EQ(as[1].type, ActionType::Down);
  EXPECT_EQ(as[1].id, next);
  EXPECT_EQ(as[1].cause, DownCause::RotationAbandoned);
  EXPECT_EQ(as[1].at, absl::InfiniteFuture());
  EXPECT_EQ(p.current(), old);
  EXPECT_EQ(p.state(), SessionState::Live);
  p.on_closed(next, t0() + absl::Seconds(31), {});
  // Tried again rotation_retry later.
  Action wait;
  drain(p, t0() + absl::Seconds(31), &wait);
  EXPECT_EQ(wait.at, t0() + absl::Seconds(90));
  EXPECT_EQ(drain(p, wait.at)[0].type, ActionType::Connect);
}

TEST(SessionPolicyTest, RotationStillConnectingAtTimeoutIsClosedUnseen) {
  SessionPolicy p = make(quiet());
  open_live(p, t0());
  ASSERT_TRUE(p.request_rotation(t0()));
  const ConnectionId next = start_rotation(p, t0());
  EXPECT_TRUE(drain(p, t0() + absl::Seconds(30)).empty());
  EXPECT_EQ(p.state(), SessionState::Live);
  // It opens late: refused, closed, and the handler never hears of it.
  EXPECT_FALSE(p.on_open(next, t0() + absl::Seconds(40)));
  std::vector<Action> as = drain(p, t0() + absl::Seconds(40));
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].type, ActionType::Close);
  EXPECT_EQ(as[0].id, next);
  p.on_closed(next, t0() + absl::Seconds(41), {});
  EXPECT_TRUE(drain(p, t0() + absl::Seconds(41)).empty());  // no Down
}

TEST(SessionPolicyTest, RotationConnectFailureRetriesLater) {
  SessionPolicy p = make(quiet());
  open_live(p, t0());
  ASSERT_TRUE(p.request_rotation(t0()));
  const ConnectionId next = start_rotation(p, t0());
  p.on_connect_failed(next, t0() + kSec, {});
  EXPECT_EQ(p.state(), SessionState::Live);
  EXPECT_EQ(p.failures(), 0u);  // the session's backoff is untouched
  Action wait;
  EXPECT_TRUE(drain(p, t0() + kSec, &wait).empty());
  EXPECT_EQ(wait.at, t0() + absl::Seconds(61));
}

TEST(SessionPolicyTest, OldDyingDuringRotationHandsOverWithoutReconnect) {
  SessionPolicy p = make(quiet());
  const ConnectionId old = open_live(p, t0());
  ASSERT_TRUE(p.request_rotation(t0()));
  const ConnectionId next = start_rotation(p, t0());
  ASSERT_TRUE(p.on_open(next, t0() + kSec));
  p.on_replay_queued(next, t0() + kSec, 0);
  p.on_closed(old, t0() + 2 * kSec, {ws::CloseCode::GoingAway, absl::StatusCode::kOk, 0});
  std::vector<Action> as = drain(p, t0() + 2 * kSec);
  ASSERT_EQ(as.size(), 2u);
  EXPECT_EQ(as[0].type, ActionType::Down);
  EXPECT_EQ(as[0].id, old);
  EXPECT_EQ(as[0].other, next);
  EXPECT_EQ(as[0].at, absl::InfiniteFuture());
  EXPECT_EQ(as[1].type, ActionType::SwitchTo);
  EXPECT_EQ(as[1].id, next);
  EXPECT_EQ(p.current(), next);
  EXPECT_EQ(p.state(), SessionState::Live);
}

TEST(SessionPolicyTest, OldDyingWhileTheNewIsConnecting) {
  SessionPolicy p = make(quiet());
  const ConnectionId old = open_live(p, t0());
  ASSERT_TRUE(p.request_rotation(t0()));
  const ConnectionId next = start_rotation(p, t0());
  p.on_closed(old, t0() + kSec, {ws::CloseCode::Abnormal, absl::StatusCode::kUnavailable, 0});
  std::vector<Action> as = drain(p, t0() + kSec);
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].cause, DownCause::Failed);
  EXPECT_EQ(as[0].other, next);
  EXPECT_EQ(p.state(), SessionState::Connecting);
  // The new one is now the session's attempt: it opens as a plain connection.
  ASSERT_TRUE(p.on_open(next, t0() + 2 * kSec));
  EXPECT_EQ(p.current(), next);
  p.on_replay_queued(next, t0() + 2 * kSec, 0);
  EXPECT_EQ(p.state(), SessionState::Live);
  EXPECT_TRUE(drain(p, t0() + 2 * kSec).empty());
}

// A steady sequenced stream through a rotation: every sequence number is
// delivered (the handler drops the duplicates by number).
TEST(SessionPolicyTest, RotationUnderAStreamLosesNothing) {
  SessionConfig c;
  c.max_connection_age = absl::Minutes(10);
  World w(c);
  w.data_interval = absl::Milliseconds(50);
  w.policy.start(w.now);
  w.run_until(t0() + absl::Minutes(25));
  EXPECT_EQ(w.of(ActionType::SwitchTo).size(), 2u);
  EXPECT_EQ(w.policy.state(), SessionState::Live);
  std::set<std::uint64_t> seen;
  std::uint64_t duplicates = 0;
  for (const auto& [id, seq] : w.sequence) duplicates += seen.insert(seq).second ? 0 : 1;
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(*seen.rbegin() - *seen.begin() + 1, seen.size()) << "a gap";
  EXPECT_GT(duplicates, 0u);
  for (const Logged& l : w.of(ActionType::Down)) EXPECT_EQ(l.action.cause, DownCause::Rotated);
}

// --- stop ------------------------------------------------------------------------------

TEST(SessionPolicyTest, StopClosesEverythingThenSaysStopped) {
  SessionPolicy p = make(quiet());
  const ConnectionId old = open_live(p, t0());
  ASSERT_TRUE(p.request_rotation(t0()));
  const ConnectionId next = start_rotation(p, t0());
  p.stop(t0() + kSec);
  EXPECT_EQ(p.state(), SessionState::Stopping);
  std::vector<Action> as = drain(p, t0() + kSec);
  ASSERT_EQ(as.size(), 2u);
  EXPECT_EQ(as[0].type, ActionType::Close);
  EXPECT_EQ(as[0].id, old);
  EXPECT_EQ(as[0].reason, "stop");
  EXPECT_EQ(as[1].type, ActionType::Down);
  EXPECT_EQ(as[1].cause, DownCause::Stopped);
  EXPECT_EQ(as[1].at, absl::InfiniteFuture());
  EXPECT_FALSE(p.request_rotation(t0() + kSec));
  EXPECT_FALSE(p.on_open(next, t0() + 2 * kSec));
  as = drain(p, t0() + 2 * kSec);
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].type, ActionType::Close);
  EXPECT_EQ(as[0].id, next);
  p.on_closed(old, t0() + 3 * kSec, {});
  EXPECT_EQ(p.state(), SessionState::Stopping);
  p.on_closed(next, t0() + 3 * kSec, {});
  EXPECT_EQ(p.state(), SessionState::Stopped);
  Action last;
  EXPECT_TRUE(drain(p, t0() + 3 * kSec, &last).empty());
  EXPECT_EQ(last.type, ActionType::Stopped);
  EXPECT_EQ(p.next_action(t0() + absl::Hours(1)).type, ActionType::Stopped);
  // And it can start again.
  p.start(t0() + absl::Hours(1));
  as = drain(p, t0() + absl::Hours(1));
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].type, ActionType::Connect);
}

TEST(SessionPolicyTest, StopBeforeStartOrInBackoffIsImmediate) {
  SessionPolicy idle = make(quiet());
  idle.stop(t0());
  EXPECT_EQ(idle.next_action(t0()).type, ActionType::Stopped);

  SessionPolicy p = make(quiet());
  p.start(t0());
  p.on_connect_failed(drain(p, t0())[0].id, t0(), {});
  ASSERT_EQ(p.state(), SessionState::Backoff);
  p.stop(t0() + kMs);
  EXPECT_EQ(p.state(), SessionState::Stopped);
  Action last;
  EXPECT_TRUE(drain(p, t0() + absl::Minutes(1), &last).empty());
  EXPECT_EQ(last.type, ActionType::Stopped);
}

TEST(SessionPolicyTest, PendingPingForAClosedConnectionIsDropped) {
  SessionConfig c = quiet();
  c.ping_interval = absl::Seconds(1);
  c.app_ping_interval = absl::Seconds(1);
  SessionPolicy p = make(c);
  const ConnectionId id = open_live(p, t0());
  // Both pings are decided at once; the driver takes the first, then the
  // connection dies before it takes the second.
  EXPECT_EQ(p.next_action(t0() + kSec).type, ActionType::SendPing);
  p.on_closed(id, t0() + kSec, {ws::CloseCode::GoingAway, absl::StatusCode::kOk, 0});
  const std::vector<Action> as = drain(p, t0() + kSec);
  ASSERT_NE(find_type(as, ActionType::Down), nullptr);
  EXPECT_EQ(find_type(as, ActionType::SendAppPing), nullptr);
}

// --- invariants under faults -------------------------------------------------------

// Random server behaviour (deterministic per seed): refusals, accept-then-
// close, silence, deaf pings, auth never confirmed, rotations. World checks
// the pairing and "nothing after Down" as it runs.
void run_chaos(std::uint64_t seed, std::vector<Logged>* log_out = nullptr,
               std::set<DownCause>* causes = nullptr, std::size_t* failed_connects = nullptr) {
  SessionConfig c;
  c.seed = seed;
  c.ping_interval = absl::Seconds(5);
  c.pong_timeout = absl::Seconds(5);
  c.max_connection_age = absl::Minutes(3);
  c.wait_for_auth = seed % 2 == 0;
  World w(c);
  std::uint64_t rng = seed * 0x9e3779b97f4a7c15ull + 1;
  auto roll = [&rng](int n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return static_cast<int>(rng % static_cast<std::uint64_t>(n));
  };
  w.auth_messages = c.wait_for_auth ? 1 : 0;
  w.accepts = [&](ConnectionId) { return roll(4) != 0; };
  // Some connections never deliver data: as rotation candidates they are
  // abandoned.
  if (seed % 3 == 0) w.sends_data = [](ConnectionId id) { return id % 4 != 0; };
  w.policy.start(w.now);
  for (int phase = 0; phase < 40; ++phase) {
    const absl::Time end = w.now + absl::Seconds(10 + roll(30));
    w.answer_pings = roll(5) != 0;
    w.close_after_open = roll(4) == 0 ? std::optional<absl::Duration>(absl::Milliseconds(roll(3000)))
                                      : std::nullopt;
    w.auth_confirm_after = roll(6) == 0 ? std::nullopt
                                        : std::optional<absl::Duration>(absl::Milliseconds(roll(500)));
    w.mute_from = roll(6) == 0 ? w.now + absl::Seconds(roll(10)) : absl::InfiniteFuture();
    if (roll(8) == 0) w.policy.request_rotation(w.now);
    w.run_until(end);
    if (::testing::Test::HasFatalFailure()) return;
  }
  w.policy.stop(w.now);
  w.run_until(w.now + absl::Minutes(1));
  EXPECT_TRUE(w.stopped) << "seed " << seed;
  // Every accepted connection got its Down, exactly once (World checks
  // "once" and "only accepted").
  EXPECT_EQ(w.accepted, w.downed) << "seed " << seed;
  if (log_out != nullptr) *log_out = w.log;
  for (const Logged& l : w.of(ActionType::Down)) {
    if (causes != nullptr) causes->insert(l.action.cause);
  }
  if (failed_connects != nullptr) *failed_connects += w.of(ActionType::Connect).size() - w.accepted.size();
}

TEST(SessionPolicyTest, OpenAndDownStrictlyPairedUnderFaults) {
  std::set<DownCause> causes;
  std::size_t failed_connects = 0;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    run_chaos(seed, nullptr, &causes, &failed_connects);
    if (HasFatalFailure()) FAIL() << "seed " << seed;
  }
  // The faults reached every path they can.
  for (const DownCause c : {DownCause::PeerClosed, DownCause::PongTimeout, DownCause::AuthTimeout,
                            DownCause::Rotated, DownCause::RotationAbandoned, DownCause::Stopped}) {
    EXPECT_EQ(causes.count(c), 1u) << name(c);
  }
  EXPECT_GT(failed_connects, 0u);
}

bool same(const std::vector<Logged>& a, const std::vector<Logged>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const Action& x = a[i].action;
    const Action& y = b[i].action;
    if (a[i].at != b[i].at || x.type != y.type || x.id != y.id || x.count != y.count || x.token != y.token ||
        x.at != y.at || x.cause != y.cause || x.other != y.other) {
      return false;
    }
  }
  return true;
}

TEST(SessionPolicyTest, SameSeedSameActions) {
  std::vector<Logged> a, b, other;
  run_chaos(11, &a);
  run_chaos(11, &b);
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(same(a, b));
  // Only the jitter differs with the seed of the config: same faults,
  // different times.
  SessionConfig c1 = quiet();
  SessionConfig c2 = quiet();
  c2.seed = 99;
  World w1(c1), w2(c2);
  for (World* w : {&w1, &w2}) {
    w->accepts = [](ConnectionId id) { return id > 5; };
    w->policy.start(w->now);
    w->run_until(t0() + absl::Minutes(1));
  }
  EXPECT_FALSE(same(w1.log, w2.log));
}

// --- allocation ----------------------------------------------------------------------

TEST(SessionPolicyTest, SteadyStateAllocatesNothing) {
  SessionConfig c;
  c.ping_interval = absl::Seconds(1);
  c.app_ping_interval = absl::Seconds(2);
  c.max_silence = absl::Seconds(3);
  World w(c);
  w.data_interval = absl::Milliseconds(10);
  w.replay_messages = 5;
  w.policy.start(w.now);
  w.run_until(t0() + absl::Seconds(5));  // warm up: the log and the maps grow
  w.log.reserve(w.log.size() + 10000);
  SessionPolicy& p = w.policy;
  const ConnectionId id = p.current();
  ASSERT_NE(id, 0u);
  absl::Time now = w.now;
  tern::testing::AllocCounter count;
  std::uint32_t replays = 0, pings = 0;
  for (int i = 0; i < 100000; ++i) {
    now += absl::Microseconds(100);
    p.on_message(id, now, true);
    for (Action a = p.next_action(now); a.type != ActionType::Wait; a = p.next_action(now)) {
      if (a.type == ActionType::SendPing) {
        std::array<std::uint8_t, 8> payload;
        encode_ping_token(a.token, payload);
        ++pings;
        (void)p.on_pong(id, now, payload);
      } else if (a.type == ActionType::SendAppPing) {
        (void)p.on_app_pong(id, now);
      } else if (a.type == ActionType::Replay) {
        ++replays;
        p.on_replay_sent(a.id, now, a.count);
      }
    }
    if (i % 10000 == 0) p.on_replay_queued(id, now, 2);  // runtime subscriptions
  }
  EXPECT_EQ(count.allocations(), 0u);
  EXPECT_GT(pings, 5u);
  EXPECT_GE(replays, 15u);
}

}  // namespace
}  // namespace tern::session
