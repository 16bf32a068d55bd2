#include "backends/session/health.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"

namespace tern::session {
namespace {

absl::Time t0() { return absl::UnixEpoch() + absl::Hours(100); }
constexpr absl::Duration kMs = absl::Milliseconds(1);

Action down(ConnectionId id, DownCause cause, ws::CloseCode code = ws::CloseCode::Normal) {
  Action a;
  a.type = ActionType::Down;
  a.id = id;
  a.cause = cause;
  a.code = code;
  return a;
}

// --- RttHistogram ------------------------------------------------------------

TEST(RttHistogramTest, BucketsAreLogScaleEightPerOctave) {
  EXPECT_EQ(RttHistogram::bucket_of(0), 0);
  EXPECT_EQ(RttHistogram::bucket_of(1023), 0);
  EXPECT_EQ(RttHistogram::bucket_of(1024), 1);
  EXPECT_EQ(RttHistogram::bucket_of(1024 + 127), 1);
  EXPECT_EQ(RttHistogram::bucket_of(1024 + 128), 2);
  EXPECT_EQ(RttHistogram::bucket_of(2047), 8);
  EXPECT_EQ(RttHistogram::bucket_of(2048), 9);
  EXPECT_EQ(RttHistogram::bucket_of((std::uint64_t{1} << 36) - 1), RttHistogram::kBuckets - 2);
  EXPECT_EQ(RttHistogram::bucket_of(std::uint64_t{1} << 36), RttHistogram::kBuckets - 1);
  EXPECT_EQ(RttHistogram::bucket_of(UINT64_MAX), RttHistogram::kBuckets - 1);
  // Every value is below its bucket's upper edge and at or above the one
  // before; each bucket at most 12.5% wide.
  for (std::uint64_t v = 1000; v < (std::uint64_t{1} << 36); v = v * 9 / 8 + 7) {
    const int b = RttHistogram::bucket_of(v);
    EXPECT_LT(v, RttHistogram::bucket_upper_ns(b)) << v;
    if (b > 0) {
      EXPECT_GE(v, RttHistogram::bucket_upper_ns(b - 1)) << v;
      EXPECT_LE(RttHistogram::bucket_upper_ns(b), RttHistogram::bucket_upper_ns(b - 1) * 9 / 8 + 1) << v;
    }
  }
}

TEST(RttHistogramTest, PercentilesWithinOneBucket) {
  RttHistogram h;
  EXPECT_EQ(h.percentile(0.5), absl::ZeroDuration());
  EXPECT_EQ(h.min(), absl::ZeroDuration());
  // 1..1000 ms.
  for (int i = 1; i <= 1000; ++i) h.record(absl::Milliseconds(i));
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.min(), absl::Milliseconds(1));
  EXPECT_EQ(h.max(), absl::Milliseconds(1000));
  EXPECT_EQ(h.mean(), absl::Microseconds(500500));
  for (const double q : {0.01, 0.5, 0.9, 0.99}) {
    const double exact = q * 1000;
    const double got = absl::ToDoubleMilliseconds(h.percentile(q));
    EXPECT_GE(got, exact) << q;
    EXPECT_LE(got, exact * 1.125 + 1) << q;
  }
  EXPECT_EQ(h.percentile(1.0), absl::Milliseconds(1000));
  EXPECT_EQ(h.percentile(0.0), absl::Milliseconds(1));  // the minimum
}

TEST(RttHistogramTest, MergeAddsAndNegativeIsZero) {
  RttHistogram a, b;
  a.record(absl::Milliseconds(5));
  b.record(absl::Milliseconds(50));
  b.record(-absl::Milliseconds(1));
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.min(), absl::ZeroDuration());
  EXPECT_EQ(a.max(), absl::Milliseconds(50));
  EXPECT_EQ(a.bucket_count(0), 1u);
}

// --- Health ---------------------------------------------------------------------

TEST(HealthTest, LifetimeSurvivesReconnectsPerConnectionRestarts) {
  Health h;
  absl::Time now = t0();
  h.on_connect_started(1, now);
  h.on_open(1, now);
  for (int i = 0; i < 10; ++i) h.on_message_in(1, now + i * kMs, 100);
  h.on_message_out(1, 30);
  h.on_ping_sent(1);
  h.on_pong(1, now + 20 * kMs, absl::Milliseconds(4));
  h.on_ping_received(1, now + 30 * kMs);
  HealthSnapshot s = h.snapshot();
  EXPECT_EQ(s.current.id, 1u);
  EXPECT_EQ(s.current.traffic.messages_in, 10u);
  EXPECT_EQ(s.current.traffic.bytes_in, 1000u);
  EXPECT_EQ(s.current.traffic.pongs_received, 1u);
  EXPECT_EQ(s.current.last_receive, now + 30 * kMs);
  EXPECT_EQ(s.current_rtt.count(), 1u);
  EXPECT_EQ(s.open_connections, 1u);

  h.on_down(down(1, DownCause::PongTimeout, ws::CloseCode::InternalError), now + absl::Seconds(1), "pong timeout");
  s = h.snapshot();
  EXPECT_EQ(s.current.id, 0u);  // the handler reads from nothing now
  EXPECT_EQ(s.lifetime.messages_in, 10u);
  h.on_closed(1);
  h.on_connect_started(2, now + absl::Seconds(2));
  h.on_connect_failed(2, now + absl::Seconds(2), {ws::CloseCode::Abnormal, absl::StatusCode::kUnavailable, 0},
                      "connection refused");
  h.on_connect_started(3, now + absl::Seconds(3));
  h.on_open(3, now + absl::Seconds(3));
  h.on_message_in(3, now + absl::Seconds(4), 7);
  h.on_pong(3, now + absl::Seconds(4), absl::Milliseconds(8));

  s = h.snapshot();
  EXPECT_EQ(s.session.connect_attempts, 3u);
  EXPECT_EQ(s.session.connect_failures, 1u);
  EXPECT_EQ(s.session.opens, 2u);
  EXPECT_EQ(s.session.reconnects, 1u);
  EXPECT_EQ(s.session.downs, 1u);
  EXPECT_EQ(s.session.stale_events, 1u);
  EXPECT_EQ(s.session.errors, 2u);
  EXPECT_EQ(s.lifetime.messages_in, 11u);
  EXPECT_EQ(s.lifetime.bytes_in, 1007u);
  EXPECT_EQ(s.lifetime.messages_out, 1u);
  EXPECT_EQ(s.lifetime.pings_sent, 1u);
  EXPECT_EQ(s.lifetime.pongs_received, 2u);
  EXPECT_EQ(s.lifetime.pings_received, 1u);
  EXPECT_EQ(s.last_receive, now + absl::Seconds(4));
  EXPECT_EQ(s.lifetime_rtt.count(), 2u);
  EXPECT_EQ(s.current.id, 3u);
  EXPECT_EQ(s.current.opened_at, now + absl::Seconds(3));
  EXPECT_EQ(s.current.traffic.messages_in, 1u);
  EXPECT_EQ(s.current_rtt.count(), 1u);
  EXPECT_EQ(s.current_rtt.max(), absl::Milliseconds(8));
  ASSERT_EQ(s.error_count, 2u);
  EXPECT_EQ(s.errors[0].kind, ErrorKind::Down);
  EXPECT_EQ(s.errors[0].cause, DownCause::PongTimeout);
  EXPECT_EQ(s.errors[0].code, ws::CloseCode::InternalError);
  EXPECT_EQ(s.errors[0].id, 1u);
  EXPECT_EQ(s.errors[0].at, now + absl::Seconds(1));
  EXPECT_EQ(s.errors[0].text(), "pong timeout");
  EXPECT_EQ(s.errors[1].kind, ErrorKind::ConnectFailed);
  EXPECT_EQ(s.errors[1].status, absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.errors[1].text(), "connection refused");
}

TEST(HealthTest, RotationSwitchesTheCurrentConnection) {
  Health h;
  h.on_open(1, t0());
  h.on_message_in(1, t0(), 10);
  h.on_open(2, t0() + kMs);  // a rotation's candidate: 1 stays current
  h.on_message_in(2, t0() + kMs, 20);
  HealthSnapshot s = h.snapshot();
  EXPECT_EQ(s.current.id, 1u);
  EXPECT_EQ(s.open_connections, 2u);
  EXPECT_EQ(s.lifetime.bytes_in, 30u);
  h.on_switch(2);
  h.on_down(down(1, DownCause::Rotated), t0() + 2 * kMs);
  h.on_closed(1);
  s = h.snapshot();
  EXPECT_EQ(s.current.id, 2u);
  EXPECT_EQ(s.current.traffic.bytes_in, 20u);
  EXPECT_EQ(s.session.rotations, 1u);
  EXPECT_EQ(s.session.reconnects, 0u);
  EXPECT_EQ(s.session.downs, 1u);
  EXPECT_EQ(s.error_count, 0u);  // planned
  EXPECT_EQ(s.lifetime.bytes_in, 30u);
}

TEST(HealthTest, ErrorRingKeepsTheLastOnesOldestFirst) {
  Health h;
  for (int i = 0; i < 40; ++i) {
    h.record_error(t0() + i * kMs, static_cast<ConnectionId>(i), absl::StatusCode::kInternal,
                   "error " + std::to_string(i) + std::string(100, '.'));
  }
  const HealthSnapshot s = h.snapshot();
  EXPECT_EQ(s.session.errors, 40u);
  ASSERT_EQ(s.error_count, kErrorRing);
  for (std::size_t i = 0; i < kErrorRing; ++i) {
    EXPECT_EQ(s.errors[i].id, 8 + i);
    EXPECT_EQ(s.errors[i].at, t0() + static_cast<int>(8 + i) * kMs);
    EXPECT_EQ(s.errors[i].text().size(), ErrorRecord::kTextSize);  // truncated
    const std::string expected = "error " + std::to_string(8 + i) + ".";
    EXPECT_EQ(s.errors[i].text().substr(0, expected.size()), expected);
  }
}

TEST(HealthTest, UnknownIdsAndMissingClosesAreHarmless) {
  Health h;
  h.on_message_in(9, t0(), 1);
  h.on_pong(9, t0(), absl::Milliseconds(1));
  h.on_closed(9);
  // More opens than slots without on_closed: the oldest folds into lifetime.
  for (ConnectionId id = 1; id <= 6; ++id) {
    h.on_open(id, t0() + id * kMs);
    h.on_message_in(id, t0() + id * kMs, 1);
  }
  const HealthSnapshot s = h.snapshot();
  EXPECT_EQ(s.lifetime.messages_in, 6u);
  EXPECT_EQ(s.open_connections, kMaxConnections);
  EXPECT_EQ(s.current.id, 1u);
}

TEST(HealthTest, RecordersAllocateNothing) {
  Health h;
  h.on_open(1, t0());
  tern::testing::AllocCounter count;
  absl::Time now = t0();
  for (int i = 0; i < 100000; ++i) {
    now += absl::Microseconds(10);
    h.on_message_in(1, now, 64);
    if (i % 100 == 0) {
      h.on_message_out(1, 32);
      h.on_ping_sent(1);
      h.on_pong(1, now, absl::Microseconds(50 + i % 1000));
    }
  }
  h.record_error(now, 1, absl::StatusCode::kUnavailable, "reset by peer");
  h.on_down(down(1, DownCause::Failed), now);
  h.on_closed(1);
  const HealthSnapshot s = h.snapshot();
  EXPECT_EQ(count.allocations(), 0u);
  EXPECT_EQ(s.lifetime.messages_in, 100000u);
}

// A reader thread snapshots while the loop thread writes. Every snapshot is
// consistent (bytes = 10 x messages on every connection, lifetime >= the
// current connection's, the histogram's buckets add up to its count) and
// counters never go back. The writer keeps going until the reader has
// taken 1,000 snapshots mid-stream (bounded: 20 s, a billion messages).
// Run under --config=tsan too.
TEST(HealthTest, ConcurrentSnapshotsAreConsistent) {
  Health h;
  std::atomic<bool> done{false};
  std::atomic<int> mid_stream{0};
  std::atomic<bool> torn{false};
  std::thread reader([&] {
    std::uint64_t last_messages = 0, last_rtts = 0;
    for (int i = 0; i < 50000000; ++i) {
      const bool finished = done.load(std::memory_order_acquire);
      const HealthSnapshot s = h.snapshot();
      std::uint64_t in_buckets = 0;
      for (int b = 0; b < RttHistogram::kBuckets; ++b) in_buckets += s.lifetime_rtt.bucket_count(b);
      if (s.lifetime.bytes_in != 10 * s.lifetime.messages_in ||
          s.current.traffic.bytes_in != 10 * s.current.traffic.messages_in ||
          s.lifetime.messages_in < s.current.traffic.messages_in || s.lifetime.messages_in < last_messages ||
          s.lifetime_rtt.count() < last_rtts || s.lifetime_rtt.count() < s.current_rtt.count() ||
          in_buckets != s.lifetime_rtt.count()) {
        torn.store(true);
        return;
      }
      last_messages = s.lifetime.messages_in;
      last_rtts = s.lifetime_rtt.count();
      if (finished) return;
      if (s.lifetime.messages_in > 0) mid_stream.fetch_add(1, std::memory_order_relaxed);
    }
  });
  absl::Time now = t0();
  ConnectionId id = 1;
  h.on_open(id, now);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::uint64_t messages = 0;
  for (int i = 1; i <= 1000000000; ++i) {
    ++messages;
    now += absl::Microseconds(1);
    h.on_message_in(id, now, 10);
    if (i % 50 == 0) h.on_pong(id, now, absl::Microseconds(i % 5000));
    if (i % 1000 == 0) h.record_error(now, id, absl::StatusCode::kUnavailable, "x");
    if (i % 20000 == 0) {  // a reconnect
      h.on_down(down(id, DownCause::Failed), now);
      h.on_closed(id);
      h.on_open(++id, now);
      if (torn.load(std::memory_order_relaxed)) break;
      if (i >= 200000 && (mid_stream.load(std::memory_order_relaxed) >= 1000 ||
                          std::chrono::steady_clock::now() > deadline)) {
        break;
      }
    }
  }
  done.store(true, std::memory_order_release);
  reader.join();
  EXPECT_FALSE(torn.load());
  EXPECT_GT(mid_stream.load(), 0);  // 1,000 unless 20 s ran out
  const HealthSnapshot s = h.snapshot();
  EXPECT_EQ(s.lifetime.messages_in, messages);
  EXPECT_EQ(s.session.reconnects, messages / 20000);
}

}  // namespace
}  // namespace tern::session
