// Tests of the pool policy with a fake clock (plain absl::Time values):
// every transition, the backoff and acquire schedules, retry decisions,
// metrics, allocation counts, and a seeded random walk checked against a
// model of what the pool may and may not do.
#include "backends/pool/pool_policy.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"

namespace tern::pool {
namespace {

const absl::Time kT0 = absl::UnixEpoch() + absl::Hours(1);
constexpr auto kAlive = [](std::size_t) { return true; };

PoolPolicy make(const PoolConfig& config) {
  absl::StatusOr<PoolPolicy> p = PoolPolicy::create(config);
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

PoolConfig config(std::size_t n) {
  PoolConfig c;
  c.connections = n;
  c.seed = 42;
  return c;
}

// Every slot connected at `t`, in index order: the top of the stack is n-1.
PoolPolicy built(const PoolConfig& c, absl::Time t = kT0) {
  PoolPolicy p = make(c);
  p.begin_build(t);
  for (std::size_t i = 0; i < c.connections; ++i) p.on_connected(i, t);
  EXPECT_TRUE(p.built());
  return p;
}

// The delay a slot entering Backoff at `now` got.
absl::Duration waited(const PoolPolicy& p, std::size_t slot, absl::Time now) { return p.retry_at(slot) - now; }

TEST(PoolConfigTest, DefaultsAreTheSeedsFigures) {
  const PoolConfig c;
  EXPECT_EQ(c.connections, 1u);
  EXPECT_EQ(c.acquire_initial_delay, absl::Milliseconds(1));
  EXPECT_EQ(c.acquire_multiplier, 2.0);
  EXPECT_EQ(c.acquire_max_delay, absl::Seconds(1));
  EXPECT_EQ(c.max_acquire_attempts, 20);
  EXPECT_EQ(c.reconnect_initial_delay, absl::Milliseconds(100));
  EXPECT_EQ(c.reconnect_multiplier, 2.0);
  EXPECT_EQ(c.reconnect_max_delay, absl::Seconds(5));
  EXPECT_EQ(c.reconnect_jitter, 0.2);
  EXPECT_FALSE(c.max_idle_age.has_value());
  EXPECT_FALSE(c.retry_unsent);
  EXPECT_FALSE(c.retry_idempotent);
  EXPECT_EQ(c.max_retries, 1);
  EXPECT_TRUE(validate(c).ok());
}

TEST(PoolConfigTest, ValidateRefusesNonsense) {
  struct Case {
    const char* name;
    void (*edit)(PoolConfig&);
  } const cases[] = {
      {"no connections", [](PoolConfig& c) { c.connections = 0; }},
      {"too many connections", [](PoolConfig& c) { c.connections = PoolPolicy::kMaxConnections + 1; }},
      {"zero acquire delay", [](PoolConfig& c) { c.acquire_initial_delay = absl::ZeroDuration(); }},
      {"acquire max < initial", [](PoolConfig& c) { c.acquire_max_delay = absl::Microseconds(1); }},
      {"infinite acquire max", [](PoolConfig& c) { c.acquire_max_delay = absl::InfiniteDuration(); }},
      {"acquire multiplier < 1", [](PoolConfig& c) { c.acquire_multiplier = 0.5; }},
      {"NaN multiplier", [](PoolConfig& c) { c.reconnect_multiplier = std::nan(""); }},
      {"negative attempts", [](PoolConfig& c) { c.max_acquire_attempts = -1; }},
      {"zero reconnect delay", [](PoolConfig& c) { c.reconnect_initial_delay = absl::ZeroDuration(); }},
      {"reconnect max < initial", [](PoolConfig& c) { c.reconnect_max_delay = absl::Milliseconds(1); }},
      {"jitter 1", [](PoolConfig& c) { c.reconnect_jitter = 1.0; }},
      {"negative jitter", [](PoolConfig& c) { c.reconnect_jitter = -0.1; }},
      {"zero idle age", [](PoolConfig& c) { c.max_idle_age = absl::ZeroDuration(); }},
      {"negative retries", [](PoolConfig& c) { c.max_retries = -1; }},
  };
  for (const Case& k : cases) {
    PoolConfig c;
    k.edit(c);
    EXPECT_EQ(validate(c).code(), absl::StatusCode::kInvalidArgument) << k.name;
    EXPECT_EQ(PoolPolicy::create(c).status().code(), absl::StatusCode::kInvalidArgument) << k.name;
  }
  PoolConfig edge;
  edge.connections = PoolPolicy::kMaxConnections;
  edge.reconnect_jitter = 0.0;
  edge.max_acquire_attempts = 0;
  edge.max_retries = 0;
  edge.acquire_multiplier = 1.0;
  EXPECT_TRUE(validate(edge).ok());
}

TEST(PoolPolicyTest, BuildSucceedsWhenEverySlotConnects) {
  PoolPolicy p = make(config(3));
  // Before the build: nothing to hand out, nothing due.
  EXPECT_FALSE(p.try_acquire(kT0, kAlive).has_value());
  EXPECT_FALSE(p.built());
  EXPECT_FALSE(p.build_failed());

  p.begin_build(kT0);
  PoolMetrics m = p.metrics();
  EXPECT_EQ(m.connecting, 3u);
  EXPECT_EQ(m.reconnecting, 0u);  // the build is not a reconnect
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(p.state(i), SlotState::Connecting);

  p.on_connected(0, kT0);
  p.on_connected(2, kT0);
  EXPECT_FALSE(p.built());
  p.on_connected(1, kT0);
  EXPECT_TRUE(p.built());
  EXPECT_FALSE(p.build_failed());
  m = p.metrics();
  EXPECT_EQ(m.slots, 3u);
  EXPECT_EQ(m.healthy, 3u);
  EXPECT_EQ(m.free, 3u);
  EXPECT_EQ(m.connecting, 0u);
  EXPECT_EQ(m.reconnects, 0u);
  EXPECT_EQ(p.free_count(), 3u);
}

TEST(PoolPolicyTest, BuildFailsOnAnyConnectFailureUntilStartedOver) {
  PoolPolicy p = make(config(3));
  p.begin_build(kT0);
  p.on_connected(0, kT0);
  p.on_connect_failed(1, kT0, absl::UnavailableError("connection refused"));
  p.on_connected(2, kT0);
  EXPECT_TRUE(p.build_failed());
  EXPECT_FALSE(p.built());
  EXPECT_EQ(p.state(1), SlotState::Backoff);
  const SlotMetrics s = p.slot_metrics(1);
  EXPECT_EQ(s.last_error, absl::UnavailableError("connection refused"));
  EXPECT_EQ(s.failed_connects, 1u);
  EXPECT_EQ(p.metrics().failed_connects, 1u);

  p.begin_build(kT0 + absl::Seconds(1));
  EXPECT_FALSE(p.build_failed());
  EXPECT_TRUE(p.slot_metrics(1).last_error.ok());
  EXPECT_EQ(p.metrics().failed_connects, 0u);
  EXPECT_EQ(p.free_count(), 0u);
  for (std::size_t i = 0; i < 3; ++i) p.on_connected(i, kT0);
  EXPECT_TRUE(p.built());
}

TEST(PoolPolicyTest, LifoHandsOutTheWarmestSlotFirst) {
  PoolPolicy p = built(config(4));
  std::vector<std::size_t> order;
  while (auto s = p.try_acquire(kT0, kAlive)) order.push_back(*s);
  EXPECT_EQ(order, (std::vector<std::size_t>{3, 2, 1, 0}));
  EXPECT_EQ(p.metrics().in_use, 4u);

  p.release(1, kT0 + absl::Milliseconds(1));
  p.release(3, kT0 + absl::Milliseconds(2));
  p.release(0, kT0 + absl::Milliseconds(3));
  order.clear();
  while (auto s = p.try_acquire(kT0 + absl::Milliseconds(4), kAlive)) order.push_back(*s);
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 3, 1}));
}

TEST(PoolPolicyTest, DeadSlotIsEjectedAndTheWalkMovesOn) {
  PoolPolicy p = built(config(3));
  EXPECT_FALSE(p.take_deadline_moved());
  std::vector<std::size_t> asked;
  const absl::Time now = kT0 + absl::Seconds(1);
  auto slot = p.try_acquire(now, [&](std::size_t i) {
    asked.push_back(i);
    return i != 2;
  });
  ASSERT_TRUE(slot.has_value());
  EXPECT_EQ(*slot, 1u);
  EXPECT_EQ(asked, (std::vector<std::size_t>{2, 1}));
  EXPECT_EQ(p.state(2), SlotState::Backoff);
  EXPECT_GE(waited(p, 2, now), absl::Milliseconds(80));
  EXPECT_LE(waited(p, 2, now), absl::Milliseconds(100));
  EXPECT_TRUE(p.take_deadline_moved());
  EXPECT_FALSE(p.take_deadline_moved());
  EXPECT_EQ(p.next_deadline(), p.retry_at(2));
  const SlotMetrics s = p.slot_metrics(2);
  EXPECT_EQ(s.last_error.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.poisoned, 1u);
  // Even alive now, it is not handed out before a reconnect.
  EXPECT_EQ(p.try_acquire(now, kAlive), std::optional<std::size_t>(0));
  EXPECT_FALSE(p.try_acquire(now, kAlive).has_value());
}

TEST(PoolPolicyTest, AllDeadReturnsNothingAndEjectsAll) {
  PoolPolicy p = built(config(4));
  EXPECT_FALSE(p.try_acquire(kT0, [](std::size_t) { return false; }).has_value());
  const PoolMetrics m = p.metrics();
  EXPECT_EQ(m.backoff, 4u);
  EXPECT_EQ(m.reconnecting, 4u);
  EXPECT_EQ(m.healthy, 0u);
  EXPECT_EQ(m.poisoned, 4u);
}

TEST(PoolPolicyTest, IdleSlotIsRefreshedNotHandedOut) {
  PoolConfig c = config(3);
  c.max_idle_age = absl::Seconds(10);
  PoolPolicy p = built(c);  // all Free since kT0; top is 2
  const absl::Time t1 = kT0 + absl::Seconds(9);
  auto s = p.try_acquire(t1, kAlive);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, 2u);
  p.release(2, t1);  // 2 is fresh again; 0 and 1 idle since kT0

  // Exactly max_idle_age counts as too old.
  const absl::Time t2 = kT0 + absl::Seconds(10);
  std::vector<std::size_t> asked;
  auto ask = [&](std::size_t i) {
    asked.push_back(i);
    return true;
  };
  EXPECT_EQ(p.try_acquire(t2, ask), std::optional<std::size_t>(2));
  EXPECT_FALSE(p.try_acquire(t2, ask).has_value());
  EXPECT_EQ(asked, (std::vector<std::size_t>{2}));  // the stale ones were not asked
  for (std::size_t i : {0u, 1u}) {
    EXPECT_EQ(p.state(i), SlotState::Backoff);
    EXPECT_EQ(p.retry_at(i), t2);  // due at once
    EXPECT_TRUE(p.slot_metrics(i).last_error.ok());  // not a failure
  }
  EXPECT_EQ(p.metrics().idle_refreshes, 2u);
  EXPECT_EQ(p.metrics().poisoned, 0u);
  std::array<std::size_t, 4> due{};
  ASSERT_EQ(p.due_reconnects(t2, due), 2u);
  EXPECT_EQ(due[0], 0u);
  EXPECT_EQ(due[1], 1u);
  p.on_connected(0, t2);
  EXPECT_EQ(p.try_acquire(t2, kAlive), std::optional<std::size_t>(0));
  EXPECT_EQ(p.metrics().reconnects, 1u);
}

// The hot path tests idle age against a cutoff cached for a short window;
// slots near the limit still get the exact answer, a nanosecond either side.
TEST(PoolPolicyTest, IdleCheckIsExactToTheNanosecond) {
  PoolConfig c = config(3);
  c.max_idle_age = absl::Seconds(10);
  PoolPolicy p = built(c);
  const absl::Time just_under = kT0 + absl::Seconds(10) - absl::Nanoseconds(1);
  EXPECT_EQ(p.try_acquire(kT0 + absl::Seconds(1), kAlive), std::optional<std::size_t>(2));
  EXPECT_EQ(p.try_acquire(just_under, kAlive), std::optional<std::size_t>(1));
  EXPECT_FALSE(p.try_acquire(kT0 + absl::Seconds(10), kAlive).has_value());
  EXPECT_EQ(p.state(0), SlotState::Backoff);
  EXPECT_EQ(p.metrics().idle_refreshes, 1u);
}

TEST(PoolPolicyTest, OldestFreeSlotsAreRefreshedAheadOfTime) {
  PoolConfig c = config(3);
  c.max_idle_age = absl::Seconds(10);
  PoolPolicy p = make(c);
  p.begin_build(kT0);
  p.on_connected(0, kT0);
  p.on_connected(1, kT0 + absl::Seconds(1));
  p.on_connected(2, kT0 + absl::Seconds(2));
  EXPECT_EQ(p.next_deadline(), kT0 + absl::Seconds(10));

  std::array<std::size_t, 2> due{};
  EXPECT_EQ(p.due_reconnects(kT0 + absl::Seconds(9), due), 0u);
  // Slot 2 used and released: still the oldest (0) that is due first.
  ASSERT_EQ(p.try_acquire(kT0 + absl::Seconds(5), kAlive), std::optional<std::size_t>(2));
  p.release(2, kT0 + absl::Seconds(5));
  EXPECT_EQ(p.next_deadline(), kT0 + absl::Seconds(10));

  ASSERT_EQ(p.due_reconnects(kT0 + absl::Seconds(11), due), 2u);  // out holds two
  EXPECT_EQ(due[0], 0u);
  EXPECT_EQ(due[1], 1u);
  EXPECT_EQ(p.state(0), SlotState::Connecting);
  EXPECT_EQ(p.state(2), SlotState::Free);
  EXPECT_EQ(p.next_deadline(), kT0 + absl::Seconds(15));
  EXPECT_EQ(p.due_reconnects(kT0 + absl::Seconds(11), due), 0u);
  p.on_connected(1, kT0 + absl::Seconds(11));
  p.on_connected(0, kT0 + absl::Seconds(11));
  EXPECT_EQ(p.try_acquire(kT0 + absl::Seconds(12), kAlive), std::optional<std::size_t>(0));
  EXPECT_EQ(p.metrics().idle_refreshes, 2u);
  EXPECT_EQ(p.metrics().reconnects, 2u);
}

TEST(PoolPolicyTest, PoisonedSlotIsNeverHandedOutBeforeAReconnect) {
  PoolPolicy p = built(config(2));
  ASSERT_EQ(p.try_acquire(kT0, kAlive), std::optional<std::size_t>(1));
  p.release(1, kT0, Outcome::Poisoned, absl::DeadlineExceededError("read timeout"));
  EXPECT_EQ(p.state(1), SlotState::Backoff);
  EXPECT_EQ(p.slot_metrics(1).last_error, absl::DeadlineExceededError("read timeout"));
  const absl::Time due_at = p.retry_at(1);

  // Before, at and after its retry time, until a reconnect: only slot 0.
  for (absl::Time t = kT0; t < due_at + absl::Seconds(1); t += absl::Milliseconds(7)) {
    auto s = p.try_acquire(t, kAlive);
    ASSERT_TRUE(s.has_value());
    ASSERT_EQ(*s, 0u);
    p.release(0, t);
  }
  std::array<std::size_t, 2> due{};
  EXPECT_EQ(p.due_reconnects(due_at - absl::Nanoseconds(1), due), 0u);
  ASSERT_EQ(p.due_reconnects(due_at, due), 1u);
  EXPECT_EQ(due[0], 1u);
  EXPECT_EQ(p.state(1), SlotState::Connecting);
  EXPECT_EQ(p.try_acquire(due_at, kAlive), std::optional<std::size_t>(0));
  EXPECT_FALSE(p.try_acquire(due_at, kAlive).has_value());
  p.release(0, due_at);
  p.on_connected(1, due_at);
  EXPECT_EQ(p.try_acquire(due_at, kAlive), std::optional<std::size_t>(1));
  // The error stays as history.
  EXPECT_EQ(p.slot_metrics(1).last_error, absl::DeadlineExceededError("read timeout"));
  EXPECT_EQ(p.slot_metrics(1).reconnects, 1u);
}

TEST(PoolPolicyTest, PoisonedWithoutACauseStillRecordsAnError) {
  PoolPolicy p = built(config(1));
  ASSERT_TRUE(p.try_acquire(kT0, kAlive).has_value());
  p.release(0, kT0, Outcome::Poisoned);
  EXPECT_EQ(p.slot_metrics(0).last_error.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(p.metrics().poisoned, 1u);
}

TEST(PoolPolicyTest, ClosedReconnectsAtOnceWithoutError) {
  PoolPolicy p = built(config(1));
  ASSERT_TRUE(p.try_acquire(kT0, kAlive).has_value());
  p.release(0, kT0, Outcome::Closed);
  EXPECT_EQ(p.state(0), SlotState::Backoff);
  EXPECT_EQ(p.retry_at(0), kT0);
  EXPECT_TRUE(p.slot_metrics(0).last_error.ok());
  EXPECT_EQ(p.metrics().poisoned, 0u);
  std::array<std::size_t, 1> due{};
  ASSERT_EQ(p.due_reconnects(kT0, due), 1u);
  p.on_connected(0, kT0);
  // The backoff did not grow: a later failure starts from the initial delay.
  ASSERT_TRUE(p.try_acquire(kT0, kAlive).has_value());
  p.release(0, kT0, Outcome::Poisoned, absl::UnavailableError("reset"));
  EXPECT_LE(waited(p, 0, kT0), absl::Milliseconds(100));
  EXPECT_GE(waited(p, 0, kT0), absl::Milliseconds(80));
}

TEST(PoolPolicyTest, BackoffGrowsToItsMaxWithinTheJitterAndNeverGivesUp) {
  PoolPolicy p = built(config(1));
  ASSERT_TRUE(p.try_acquire(kT0, kAlive).has_value());
  absl::Time now = kT0;
  p.release(0, now, Outcome::Poisoned, absl::UnavailableError("reset"));
  const std::int64_t nominal_ms[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000};
  std::array<std::size_t, 1> due{};
  for (int step = 0; step < 40; ++step) {
    const absl::Duration d = absl::Milliseconds(nominal_ms[std::min(step, 9)]);
    const absl::Duration w = waited(p, 0, now);
    EXPECT_GE(w, d * 0.8) << "step " << step;
    EXPECT_LE(w, d) << "step " << step;
    now = p.retry_at(0);
    EXPECT_EQ(p.next_deadline(), now);
    ASSERT_EQ(p.due_reconnects(now, due), 1u) << "step " << step;
    p.on_connect_failed(0, now, absl::UnavailableError("connection refused"));
    ASSERT_EQ(p.state(0), SlotState::Backoff);
  }
  EXPECT_EQ(p.slot_metrics(0).failed_connects, 40u);
  EXPECT_EQ(p.slot_metrics(0).last_error, absl::UnavailableError("connection refused"));
}

TEST(PoolPolicyTest, NoJitterGivesTheExactSequence) {
  PoolConfig c = config(1);
  c.reconnect_jitter = 0;
  c.reconnect_initial_delay = absl::Milliseconds(10);
  c.reconnect_multiplier = 3;
  c.reconnect_max_delay = absl::Milliseconds(200);
  PoolPolicy p = built(c);
  ASSERT_TRUE(p.try_acquire(kT0, kAlive).has_value());
  p.release(0, kT0, Outcome::Poisoned, absl::UnavailableError("x"));
  absl::Time now = kT0;
  std::array<std::size_t, 1> due{};
  for (std::int64_t ms : {10, 30, 90, 200, 200}) {
    EXPECT_EQ(waited(p, 0, now), absl::Milliseconds(ms));
    now = p.retry_at(0);
    ASSERT_EQ(p.due_reconnects(now, due), 1u);
    p.on_connect_failed(0, now, absl::UnavailableError("x"));
  }
}

// The delays of `draws` poison -> reconnect cycles of one slot (each at the
// initial delay, since every reconnect succeeds).
std::vector<absl::Duration> initial_draws(PoolConfig c, int draws) {
  c.connections = 1;
  PoolPolicy p = built(c);
  std::vector<absl::Duration> out;
  absl::Time now = kT0;
  std::array<std::size_t, 1> due{};
  for (int i = 0; i < draws; ++i) {
    if (!p.try_acquire(now, kAlive).has_value()) break;
    p.release(0, now, Outcome::Poisoned, absl::UnavailableError("x"));
    out.push_back(waited(p, 0, now));
    now = p.retry_at(0);
    if (p.due_reconnects(now, due) != 1) break;
    p.on_connected(0, now);
  }
  return out;
}

TEST(PoolPolicyTest, JitterCoversItsRangeAndStaysInside) {
  const std::vector<absl::Duration> d = initial_draws(config(1), 10'000);
  ASSERT_EQ(d.size(), 10'000u);
  const auto [lo, hi] = std::minmax_element(d.begin(), d.end());
  EXPECT_GE(*lo, absl::Milliseconds(80));
  EXPECT_LE(*hi, absl::Milliseconds(100));
  // Uniform: the extremes are reached to within 1% of the 20 ms span, and
  // the mean is in the middle.
  EXPECT_LT(*lo, absl::Milliseconds(80) + absl::Microseconds(200));
  EXPECT_GT(*hi, absl::Milliseconds(100) - absl::Microseconds(200));
  absl::Duration sum;
  for (absl::Duration x : d) sum += x;
  EXPECT_NEAR(absl::ToDoubleMilliseconds(sum / 10'000), 90.0, 0.3);
}

TEST(PoolPolicyTest, SeedMakesDelaysReproducible) {
  PoolConfig a = config(1);
  a.seed = 7;
  PoolConfig b = config(1);
  b.seed = 8;
  EXPECT_EQ(initial_draws(a, 50), initial_draws(a, 50));
  EXPECT_NE(initial_draws(a, 50), initial_draws(b, 50));
  PoolConfig unseeded = config(1);
  unseeded.seed.reset();
  EXPECT_EQ(initial_draws(unseeded, 50).size(), 50u);
}

TEST(PoolPolicyTest, BackoffResetsAfterASuccessfulConnect) {
  PoolPolicy p = built(config(1));
  ASSERT_TRUE(p.try_acquire(kT0, kAlive).has_value());
  absl::Time now = kT0;
  p.release(0, now, Outcome::Poisoned, absl::UnavailableError("x"));
  std::array<std::size_t, 1> due{};
  for (int i = 0; i < 5; ++i) {
    now = p.retry_at(0);
    ASSERT_EQ(p.due_reconnects(now, due), 1u);
    p.on_connect_failed(0, now, absl::UnavailableError("x"));
  }
  EXPECT_GE(waited(p, 0, now), absl::Milliseconds(2560));  // 3.2 s nominal
  now = p.retry_at(0);
  ASSERT_EQ(p.due_reconnects(now, due), 1u);
  p.on_connected(0, now);
  ASSERT_TRUE(p.try_acquire(now, kAlive).has_value());
  p.release(0, now, Outcome::Poisoned, absl::UnavailableError("x"));
  EXPECT_GE(waited(p, 0, now), absl::Milliseconds(80));
  EXPECT_LE(waited(p, 0, now), absl::Milliseconds(100));
}

TEST(PoolPolicyTest, AcquireScheduleIsTwentyWaitsFrom1msTo1s) {
  PoolPolicy p = make(config(1));
  absl::Duration total;
  for (int k = 0; k < 20; ++k) {
    const std::optional<absl::Duration> d = p.acquire_delay(k);
    ASSERT_TRUE(d.has_value()) << k;
    EXPECT_EQ(*d, k < 10 ? absl::Milliseconds(1 << k) : absl::Seconds(1)) << k;
    total += *d;
  }
  EXPECT_EQ(total, absl::Milliseconds(11'023));
  EXPECT_FALSE(p.acquire_delay(20).has_value());
  EXPECT_FALSE(p.acquire_delay(-1).has_value());
  const absl::Status timeout = p.acquire_timeout_status();
  EXPECT_EQ(timeout.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(timeout.message().find("pool acquire timed out"), std::string::npos) << timeout;

  PoolConfig c = config(1);
  c.acquire_initial_delay = absl::Milliseconds(5);
  c.acquire_multiplier = 3;
  c.acquire_max_delay = absl::Milliseconds(100);
  c.max_acquire_attempts = 4;
  PoolPolicy q = make(c);
  EXPECT_EQ(q.acquire_delay(0), absl::Milliseconds(5));
  EXPECT_EQ(q.acquire_delay(1), absl::Milliseconds(15));
  EXPECT_EQ(q.acquire_delay(2), absl::Milliseconds(45));
  EXPECT_EQ(q.acquire_delay(3), absl::Milliseconds(100));
  EXPECT_FALSE(q.acquire_delay(4).has_value());
}

TEST(PoolPolicyTest, RetryDecisions) {
  struct Row {
    bool unsent, idempotent;
    int max_retries;
    const char* method;
    bool nothing_sent, reused;
    int retries;
    bool expected;
  } const rows[] = {
      // Defaults: never.
      {false, false, 1, "GET", true, true, 0, false},
      {false, false, 1, "POST", true, false, 0, false},
      // retry_unsent: only what provably never left, any method, once.
      {true, false, 1, "POST", true, false, 0, true},
      {true, false, 1, "POST", true, false, 1, false},
      {true, false, 1, "GET", false, true, 0, false},
      // retry_idempotent: idempotent methods on a reused connection, once.
      {false, true, 1, "GET", false, true, 0, true},
      {false, true, 1, "DELETE", false, true, 0, true},
      {false, true, 1, "GET", false, false, 0, false},  // a fresh connection failed
      {false, true, 1, "POST", false, true, 0, false},
      {false, true, 1, "PATCH", true, true, 0, false},  // unsent retry is off
      {false, true, 1, "GET", false, true, 1, false},
      // Both, more retries allowed.
      {true, true, 2, "POST", true, false, 1, true},
      {true, true, 2, "POST", true, false, 2, false},
      {true, true, 2, "PUT", false, true, 1, true},
      {true, true, 0, "GET", true, true, 0, false},
  };
  for (const Row& r : rows) {
    PoolConfig c = config(1);
    c.retry_unsent = r.unsent;
    c.retry_idempotent = r.idempotent;
    c.max_retries = r.max_retries;
    PoolPolicy p = make(c);
    EXPECT_EQ(p.may_retry(r.method, r.nothing_sent, r.reused, r.retries), r.expected)
        << r.unsent << r.idempotent << r.max_retries << " " << r.method << " sent=" << !r.nothing_sent
        << " reused=" << r.reused << " retries=" << r.retries;
  }
}

TEST(PoolPolicyTest, IdempotentMethodsPerRfc9110) {
  for (const char* m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) EXPECT_TRUE(idempotent_method(m)) << m;
  for (const char* m : {"POST", "PATCH", "CONNECT", "get", "Get", "", "GETX", "PROPFIND"}) {
    EXPECT_FALSE(idempotent_method(m)) << m;
  }
}

TEST(PoolPolicyTest, ReusedMeansTheConnectionServedARequestBefore) {
  PoolPolicy p = built(config(1));
  ASSERT_TRUE(p.try_acquire(kT0, kAlive).has_value());
  EXPECT_FALSE(p.reused(0));
  p.release(0, kT0);
  ASSERT_TRUE(p.try_acquire(kT0, kAlive).has_value());
  EXPECT_TRUE(p.reused(0));
  p.release(0, kT0, Outcome::Closed);
  std::array<std::size_t, 1> due{};
  ASSERT_EQ(p.due_reconnects(kT0, due), 1u);
  p.on_connected(0, kT0);
  ASSERT_TRUE(p.try_acquire(kT0, kAlive).has_value());
  EXPECT_FALSE(p.reused(0));
}

TEST(PoolPolicyTest, NextDeadlineIsTheEarliestDueSlot) {
  PoolPolicy p = built(config(3));
  EXPECT_EQ(p.next_deadline(), absl::InfiniteFuture());
  ASSERT_EQ(p.try_acquire(kT0, kAlive), std::optional<std::size_t>(2));
  ASSERT_EQ(p.try_acquire(kT0, kAlive), std::optional<std::size_t>(1));
  p.release(2, kT0, Outcome::Poisoned, absl::UnavailableError("x"));
  p.release(1, kT0 + absl::Milliseconds(50), Outcome::Poisoned, absl::UnavailableError("x"));
  const absl::Time first = std::min(p.retry_at(1), p.retry_at(2));
  const absl::Time second = std::max(p.retry_at(1), p.retry_at(2));
  EXPECT_EQ(p.next_deadline(), first);
  std::array<std::size_t, 3> due{};
  ASSERT_EQ(p.due_reconnects(first, due), 1u);
  EXPECT_EQ(p.next_deadline(), second);
  ASSERT_EQ(p.due_reconnects(second, due), 1u);
  EXPECT_EQ(p.next_deadline(), absl::InfiniteFuture());
}

TEST(PoolPolicyTest, DueReconnectsFillsOnlyTheSpanItIsGiven) {
  PoolPolicy p = built(config(3));
  EXPECT_FALSE(p.try_acquire(kT0, [](std::size_t) { return false; }).has_value());
  const absl::Time late = kT0 + absl::Seconds(1);
  std::array<std::size_t, 2> two{};
  ASSERT_EQ(p.due_reconnects(late, std::span<std::size_t>(two.data(), 0)), 0u);
  ASSERT_EQ(p.due_reconnects(late, two), 2u);
  EXPECT_EQ(two[0], 0u);
  EXPECT_EQ(two[1], 1u);
  EXPECT_EQ(p.state(2), SlotState::Backoff);
  EXPECT_LE(p.next_deadline(), late);
  ASSERT_EQ(p.due_reconnects(late, two), 1u);
  EXPECT_EQ(two[0], 2u);
  EXPECT_EQ(p.metrics().connecting, 3u);
}

TEST(PoolPolicyTest, DeadlineMovesWhenAFreeSlotStartsAging) {
  PoolConfig c = config(1);
  c.max_idle_age = absl::Seconds(1);
  PoolPolicy p = built(c);
  EXPECT_TRUE(p.take_deadline_moved());  // the build filled an empty stack
  ASSERT_TRUE(p.try_acquire(kT0, kAlive).has_value());
  EXPECT_EQ(p.next_deadline(), absl::InfiniteFuture());
  EXPECT_FALSE(p.take_deadline_moved());
  p.release(0, kT0 + absl::Seconds(3));
  EXPECT_TRUE(p.take_deadline_moved());
  EXPECT_EQ(p.next_deadline(), kT0 + absl::Seconds(4));
}

TEST(PoolPolicyTest, MetricsCountStatesAndReconnecting) {
  PoolPolicy p = built(config(5));
  ASSERT_EQ(p.try_acquire(kT0, kAlive), std::optional<std::size_t>(4));
  ASSERT_EQ(p.try_acquire(kT0, kAlive), std::optional<std::size_t>(3));
  ASSERT_EQ(p.try_acquire(kT0, kAlive), std::optional<std::size_t>(2));
  p.release(3, kT0, Outcome::Poisoned, absl::UnavailableError("x"));
  p.release(2, kT0, Outcome::Closed);
  std::array<std::size_t, 1> due{};
  ASSERT_EQ(p.due_reconnects(kT0, due), 1u);  // 2, Closed: due at once
  EXPECT_EQ(due[0], 2u);
  const PoolMetrics m = p.metrics();
  EXPECT_EQ(m.slots, 5u);
  EXPECT_EQ(m.free, 2u);
  EXPECT_EQ(m.in_use, 1u);
  EXPECT_EQ(m.healthy, 3u);
  EXPECT_EQ(m.connecting, 1u);
  EXPECT_EQ(m.backoff, 1u);
  EXPECT_EQ(m.reconnecting, 2u);
  EXPECT_EQ(m.poisoned, 1u);
  EXPECT_EQ(p.slot_metrics(4).state, SlotState::InUse);
  EXPECT_EQ(p.slot_metrics(3).state, SlotState::Backoff);
  EXPECT_EQ(name(SlotState::InUse), "InUse");
}

TEST(PoolPolicyTest, MovedPolicyKeepsItsState) {
  PoolPolicy p = built(config(2));
  ASSERT_TRUE(p.try_acquire(kT0, kAlive).has_value());
  PoolPolicy q = std::move(p);
  EXPECT_EQ(q.metrics().in_use, 1u);
  q.release(1, kT0);
  EXPECT_EQ(q.try_acquire(kT0, kAlive), std::optional<std::size_t>(1));
}

TEST(PoolPolicyDeathTest, ReleasingASlotNotInUseIsRefused) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  PoolPolicy p = built(config(2));
  // Debug: asserts. Release builds: ignored, so the slot is not stacked twice.
  EXPECT_DEBUG_DEATH(p.release(0, kT0), "not in use");
  EXPECT_DEBUG_DEATH(p.release(7, kT0), "not in use");
  EXPECT_EQ(p.free_count(), 2u);
}

TEST(PoolPolicyTest, SteadyStateAllocatesNothing) {
  PoolConfig c = config(4);
  c.max_idle_age = absl::Seconds(30);
  PoolPolicy p = built(c);
  const absl::Status cause = absl::UnavailableError("connection reset");  // built by the driver
  std::array<std::size_t, 4> due{};
  absl::Time now = kT0;
  testing::AllocCounter count;
  for (int i = 0; i < 10'000; ++i) {
    now += absl::Microseconds(10);
    auto s = p.try_acquire(now, kAlive);
    ASSERT_TRUE(s.has_value());
    p.release(*s, now);
  }
  EXPECT_EQ(count.allocations(), 0u) << "acquire/release";
  testing::AllocCounter cold;
  for (int i = 0; i < 1'000; ++i) {
    now += absl::Seconds(6);
    auto s = p.try_acquire(now, [&](std::size_t slot) { return slot != 3; });  // slot 3: found dead
    if (s.has_value()) p.release(*s, now, (i % 2 == 0) ? Outcome::Poisoned : Outcome::Closed, cause);
    const std::size_t k = p.due_reconnects(now, due);
    for (std::size_t j = 0; j < k; ++j) {
      if (j % 3 == 2) {
        p.on_connect_failed(due[j], now, cause);
      } else {
        p.on_connected(due[j], now);
      }
    }
    (void)p.next_deadline();
    (void)p.metrics();
    (void)p.take_deadline_moved();
  }
  EXPECT_EQ(cold.allocations(), 0u) << "ejections, poisoning, reconnects, metrics";
}

// Another thread reads metrics while the pool churns: the counts always add
// up. Under --config=tsan this also checks that the reads are race-free.
TEST(PoolPolicyTest, MetricsReadableFromAnotherThread) {
  PoolConfig c = config(8);
  c.max_idle_age = absl::Milliseconds(50);
  PoolPolicy p = built(c);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (!stop.load(std::memory_order_relaxed) && absl::Now() < deadline) {
      const PoolMetrics m = p.metrics();
      if (m.free + m.in_use + m.connecting + m.backoff != m.slots || m.healthy != m.free + m.in_use) {
        bad.fetch_add(1);
      }
      (void)p.slot_metrics(static_cast<std::size_t>(reads.fetch_add(1)) % 8);
    }
  });
  std::mt19937 rng(1);
  std::array<std::size_t, 8> due{};
  absl::Time now = kT0;
  // At least 20,000 steps and until the reader has read 1,000 times (it may
  // start late), for at most 20 s.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  for (int i = 0; i < 20'000 || (reads.load() < 1'000 && (i % 1024 != 0 || absl::Now() < deadline)); ++i) {
    now += absl::Milliseconds(1);
    if (auto s = p.try_acquire(now, [&](std::size_t) { return rng() % 16 != 0; })) {
      const unsigned r = rng() % 10;
      p.release(*s, now, r < 8 ? Outcome::Reusable : r == 8 ? Outcome::Closed : Outcome::Poisoned,
                absl::UnavailableError("x"));
    }
    const std::size_t k = p.due_reconnects(now, due);
    for (std::size_t j = 0; j < k; ++j) p.on_connected(due[j], now);
  }
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GE(reads.load(), 1'000);
}

// A seeded random walk over every operation, checked at each step against a
// model of the invariants: a slot is handed out only when Free, fresh and
// usable; never to two holders; never after poisoning, ejection or refresh
// until a reconnect succeeded; counts, the free stack and next_deadline()
// match the slot states.
TEST(PoolPolicyTest, RandomWalkKeepsEveryInvariant) {
  constexpr std::size_t kSlots = 8;
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    PoolConfig c = config(kSlots);
    c.seed = seed;
    c.max_idle_age = absl::Seconds(2);
    PoolPolicy p = built(c);
    std::mt19937_64 rng(seed);
    std::array<bool, kSlots> held{}, tainted{}, connecting{};
    absl::Time now = kT0;
    std::size_t handed_out = 0;
    for (int step = 0; step < 20'000; ++step) {
      now += absl::Milliseconds(rng() % 300);
      std::array<SlotState, kSlots> before{};
      for (std::size_t i = 0; i < kSlots; ++i) before[i] = p.state(i);
      switch (rng() % 4) {
        case 0: {  // acquire
          std::array<int, kSlots> answer{};  // 0 not asked, 1 alive, 2 dead
          auto s = p.try_acquire(now, [&](std::size_t i) {
            answer[i] = (rng() % 20 == 0) ? 2 : 1;
            return answer[i] == 1;
          });
          if (s.has_value()) {
            ASSERT_LT(*s, kSlots);
            ASSERT_EQ(before[*s], SlotState::Free);
            ASSERT_FALSE(held[*s]);
            ASSERT_FALSE(tainted[*s]);
            ASSERT_EQ(answer[*s], 1);
            ASSERT_GT(p.last_used(*s), now - *c.max_idle_age);
            held[*s] = true;
            ++handed_out;
          }
          for (std::size_t i = 0; i < kSlots; ++i) {
            if (before[i] == SlotState::Free && p.state(i) == SlotState::Backoff) {
              // Dead (asked, said no) or stale (not asked).
              ASSERT_NE(answer[i], 1);
              tainted[i] = true;
            }
          }
          break;
        }
        case 1: {  // release one held slot
          std::vector<std::size_t> mine;
          for (std::size_t i = 0; i < kSlots; ++i) {
            if (held[i]) mine.push_back(i);
          }
          if (mine.empty()) break;
          const std::size_t s = mine[rng() % mine.size()];
          const unsigned r = rng() % 10;
          const Outcome o = r < 7 ? Outcome::Reusable : r < 8 ? Outcome::Closed : Outcome::Poisoned;
          p.release(s, now, o, absl::UnavailableError("x"));
          held[s] = false;
          if (o != Outcome::Reusable) tainted[s] = true;
          ASSERT_EQ(p.state(s), o == Outcome::Reusable ? SlotState::Free : SlotState::Backoff);
          break;
        }
        case 2: {  // due reconnects into a span of random size
          std::array<std::size_t, kSlots> due{};
          const std::size_t room = rng() % (kSlots + 1);
          const std::size_t k = p.due_reconnects(now, std::span<std::size_t>(due.data(), room));
          ASSERT_LE(k, room);
          for (std::size_t j = 0; j < k; ++j) {
            const std::size_t s = due[j];
            ASSERT_TRUE(before[s] == SlotState::Backoff || before[s] == SlotState::Free);
            ASSERT_FALSE(held[s]);
            ASSERT_EQ(p.state(s), SlotState::Connecting);
            connecting[s] = true;
            tainted[s] = true;  // its transport is being replaced
          }
          break;
        }
        case 3: {  // a connect finishes
          std::vector<std::size_t> pending;
          for (std::size_t i = 0; i < kSlots; ++i) {
            if (connecting[i]) pending.push_back(i);
          }
          if (pending.empty()) break;
          const std::size_t s = pending[rng() % pending.size()];
          connecting[s] = false;
          if (rng() % 4 == 0) {
            p.on_connect_failed(s, now, absl::UnavailableError("refused"));
            ASSERT_EQ(p.state(s), SlotState::Backoff);
            ASSERT_GE(p.retry_at(s), now + absl::Milliseconds(80));
            ASSERT_LE(p.retry_at(s), now + absl::Seconds(5));
          } else {
            p.on_connected(s, now);
            tainted[s] = false;
          }
          break;
        }
      }
      // Counts, stack and deadline agree with the states.
      const PoolMetrics m = p.metrics();
      std::size_t counts[4] = {};
      absl::Time deadline = absl::InfiniteFuture();
      for (std::size_t i = 0; i < kSlots; ++i) {
        const SlotState st = p.state(i);
        ++counts[static_cast<int>(st)];
        ASSERT_EQ(st == SlotState::InUse, held[i]) << i;
        ASSERT_EQ(st == SlotState::Connecting, connecting[i]) << i;
        if (st == SlotState::Backoff) deadline = std::min(deadline, p.retry_at(i));
        if (st == SlotState::Free) deadline = std::min(deadline, p.last_used(i) + *c.max_idle_age);
      }
      ASSERT_EQ(m.connecting, counts[static_cast<int>(SlotState::Connecting)]);
      ASSERT_EQ(m.free, counts[static_cast<int>(SlotState::Free)]);
      ASSERT_EQ(m.in_use, counts[static_cast<int>(SlotState::InUse)]);
      ASSERT_EQ(m.backoff, counts[static_cast<int>(SlotState::Backoff)]);
      ASSERT_EQ(m.healthy, m.free + m.in_use);
      ASSERT_EQ(m.reconnecting, m.backoff + m.connecting);
      ASSERT_EQ(p.free_count(), m.free);
      ASSERT_EQ(p.next_deadline(), deadline);
    }
    EXPECT_GT(handed_out, 1000u);
    EXPECT_GT(p.metrics().reconnects, 100u);
  }
}

}  // namespace
}  // namespace tern::pool
