#include "backends/epoll/timer_wheel.h"

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/alloc_counter.h"

namespace tern::epoll {
namespace {

constexpr std::uint64_t kMs = 1'000'000;

struct Timer : TimerNode {
  int id = 0;
};

int id_of(TimerNode& node) { return static_cast<Timer&>(node).id; }

// Records the ids fired by each advance().
struct Recorder {
  std::vector<int> fired;
  auto callback() {
    return [this](TimerNode& node) { fired.push_back(id_of(node)); };
  }
};

std::uint64_t ceil_tick(std::uint64_t ns, std::uint64_t tick) {
  return ns / tick + (ns % tick != 0);
}

// Drives the wheel the way the loop does, from one next_expiry() to the
// next, until the single armed timer fires. Checks that nothing fires before
// `fire_ns`, that next_expiry() is never later than it, and that the timer
// fires at the advance() whose now is exactly `fire_ns`.
void expect_fires_at(TimerWheel& wheel, std::uint64_t fire_ns) {
  std::size_t fired = 0;
  auto count = [&](TimerNode&) { ++fired; };
  for (int step = 0; step < 200 && fired == 0; ++step) {
    const std::uint64_t next = wheel.next_expiry();
    ASSERT_LE(next, fire_ns) << "next_expiry late";
    if (next > wheel.now()) {
      wheel.advance(next - 1, count);
      ASSERT_EQ(fired, 0u) << "fired before its deadline, at " << next - 1;
    }
    wheel.advance(next, count);
    if (fired != 0) {
      EXPECT_EQ(next, fire_ns);
    }
  }
  EXPECT_EQ(fired, 1u);
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_EQ(wheel.next_expiry(), TimerWheel::kNever);
}

TEST(TimerWheelTest, FiresOnItsTickAcrossLevelBoundaries) {
  const std::uint64_t starts[] = {0, 1, 63, 64, 4095, 262'143, 12'345'678'901,
                                  (std::uint64_t{1} << 36) - 5, (std::uint64_t{1} << 36) + 7};
  std::vector<std::uint64_t> delays = {0, 1, 2};
  for (int bits = 6; bits <= 42; bits += 6) {  // each level's edge; 36+: beyond the range
    const std::uint64_t edge = std::uint64_t{1} << bits;
    delays.insert(delays.end(), {edge - 1, edge, edge + 1});
  }
  for (const std::uint64_t tick : {kMs, std::uint64_t{1}, std::uint64_t{3}}) {
    for (const std::uint64_t start : starts) {
      for (const std::uint64_t delay : delays) {
        for (const std::uint64_t sub_tick : {std::uint64_t{0}, std::uint64_t{1}}) {
          if (sub_tick >= tick) continue;
          SCOPED_TRACE(::testing::Message() << "tick " << tick << " start " << start
                                            << " delay " << delay << " +" << sub_tick);
          const std::uint64_t deadline = (start + delay) * tick + sub_tick;
          const std::uint64_t fire_ns = ceil_tick(deadline, tick) * tick;
          // Stepping the way the loop does.
          {
            TimerWheel wheel(start * tick, tick);
            Timer t;
            wheel.schedule(t, deadline);
            expect_fires_at(wheel, fire_ns);
          }
          // One jump to just before, then onto the tick.
          {
            TimerWheel wheel(start * tick, tick);
            Timer t;
            Recorder r;
            wheel.schedule(t, deadline);
            if (fire_ns > start * tick) {
              EXPECT_EQ(wheel.advance(fire_ns - 1, r.callback()), 0u);
            }
            EXPECT_EQ(wheel.advance(fire_ns, r.callback()), 1u);
          }
        }
      }
    }
  }
}

TEST(TimerWheelTest, PastDeadlineFiresAtTheNextAdvance) {
  TimerWheel wheel(10 * kMs);
  Timer a, b;
  wheel.schedule(a, 3 * kMs);
  wheel.schedule(b, 10 * kMs);
  EXPECT_EQ(wheel.next_expiry(), 10 * kMs);
  Recorder r;
  EXPECT_EQ(wheel.advance(10 * kMs, r.callback()), 2u);
  EXPECT_FALSE(a.scheduled());
  EXPECT_FALSE(b.scheduled());
}

TEST(TimerWheelTest, NextExpiry) {
  TimerWheel wheel(0);
  EXPECT_EQ(wheel.next_expiry(), TimerWheel::kNever);
  Timer a, b, far;
  wheel.schedule(a, 40 * kMs + 1);  // level 0: exact, rounded up to the tick
  EXPECT_EQ(wheel.next_expiry(), 41 * kMs);
  wheel.schedule(b, 20 * kMs);
  EXPECT_EQ(wheel.next_expiry(), 20 * kMs);
  wheel.cancel(b);
  EXPECT_EQ(wheel.next_expiry(), 41 * kMs);
  wheel.cancel(a);
  EXPECT_EQ(wheel.next_expiry(), TimerWheel::kNever);
  // A coarse slot: early (its range's start), never late.
  wheel.schedule(far, 100'000 * kMs);
  EXPECT_GT(wheel.next_expiry(), 0u);
  EXPECT_LE(wheel.next_expiry(), 100'000 * kMs);
  Recorder r;
  wheel.advance(99'999 * kMs, r.callback());
  EXPECT_EQ(wheel.next_expiry(), 100'000 * kMs);  // now in level 0
  wheel.schedule(a, 5 * kMs);                      // already due
  EXPECT_EQ(wheel.next_expiry(), wheel.now());
}

TEST(TimerWheelTest, PostponeLaterIsLazyAndExact) {
  TimerWheel wheel(0);
  Timer t;
  Recorder r;
  wheel.schedule(t, 40 * kMs);  // level 0: next_expiry() is exact
  wheel.advance(20 * kMs, r.callback());
  wheel.postpone(t, 55 * kMs);
  EXPECT_EQ(t.deadline(), 55 * kMs);
  EXPECT_EQ(wheel.next_expiry(), 40 * kMs);  // still filed at 40: early
  const auto before = wheel.counters().nodes_visited;
  EXPECT_EQ(wheel.advance(40 * kMs, r.callback()), 0u);  // re-filed, not fired
  EXPECT_EQ(wheel.counters().nodes_visited, before + 1);
  EXPECT_EQ(wheel.next_expiry(), 55 * kMs);
  EXPECT_EQ(wheel.advance(55 * kMs - 1, r.callback()), 0u);
  EXPECT_EQ(wheel.advance(55 * kMs, r.callback()), 1u);
}

TEST(TimerWheelTest, PostponeEarlierIsExact) {
  TimerWheel wheel(0);
  Timer t;
  Recorder r;
  wheel.postpone(t, 100 * kMs);  // not armed: schedule
  EXPECT_TRUE(t.scheduled());
  wheel.postpone(t, 60 * kMs);
  EXPECT_EQ(wheel.next_expiry(), 60 * kMs);
  EXPECT_EQ(wheel.advance(60 * kMs - 1, r.callback()), 0u);
  EXPECT_EQ(wheel.advance(60 * kMs, r.callback()), 1u);
  // Postponed into the past: due at once.
  wheel.schedule(t, 90 * kMs);
  wheel.postpone(t, 10 * kMs);
  EXPECT_EQ(wheel.advance(60 * kMs, r.callback()), 1u);
}

// A read deadline pushed on every message never fires while messages keep
// coming, then fires exactly one timeout after the last one.
TEST(TimerWheelTest, ReadDeadlinePushedOnEveryMessage) {
  TimerWheel wheel(0);
  Timer t;
  Recorder r;
  const std::uint64_t timeout = 30 * kMs;
  std::uint64_t now = 0;
  wheel.schedule(t, now + timeout);
  for (int message = 0; message < 10'000; ++message) {
    now += kMs / 2 + static_cast<std::uint64_t>(message % 7) * kMs / 4;
    ASSERT_EQ(wheel.advance(now, r.callback()), 0u) << message;
    wheel.postpone(t, now + timeout);
  }
  const std::uint64_t last = now;
  while (r.fired.empty() && now < last + 2 * timeout) {
    now += kMs / 4;
    wheel.advance(now, r.callback());
  }
  ASSERT_EQ(r.fired.size(), 1u);
  EXPECT_EQ(now, ceil_tick(last + timeout, kMs) * kMs);
}

TEST(TimerWheelTest, CallbackCancelsAnotherInTheSameSlot) {
  TimerWheel wheel(0);
  Timer a, b;
  a.id = 1;
  b.id = 2;
  wheel.schedule(a, 7 * kMs);
  wheel.schedule(b, 7 * kMs);
  int calls = 0;
  wheel.advance(7 * kMs, [&](TimerNode& n) {
    ++calls;
    wheel.cancel(id_of(n) == 1 ? static_cast<TimerNode&>(b) : a);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(a.scheduled());
  EXPECT_FALSE(b.scheduled());
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheelTest, CallbackReArmsItselfForNowWithoutLooping) {
  TimerWheel wheel(0);
  Timer t;
  int calls = 0;
  auto rearm = [&](TimerNode& n) {
    ++calls;
    wheel.schedule(n, wheel.now());
  };
  wheel.schedule(t, 5 * kMs);
  EXPECT_EQ(wheel.advance(5 * kMs, rearm), 1u);
  EXPECT_TRUE(t.scheduled());
  EXPECT_EQ(wheel.next_expiry(), 5 * kMs);
  EXPECT_EQ(wheel.advance(5 * kMs, rearm), 1u);
  EXPECT_EQ(calls, 2);
  // Re-armed a tick later: a heartbeat.
  wheel.cancel(t);
  calls = 0;
  auto heartbeat = [&](TimerNode& n) {
    ++calls;
    wheel.schedule(n, wheel.now() + kMs);
  };
  wheel.schedule(t, 6 * kMs);
  for (std::uint64_t ms = 6; ms < 106; ++ms) wheel.advance(ms * kMs, heartbeat);
  EXPECT_EQ(calls, 100);
}

TEST(TimerWheelTest, CallbackPostponesAndSchedulesOthers) {
  TimerWheel wheel(0);
  Timer a, b, c, d;
  a.id = 1;
  b.id = 2;
  c.id = 3;
  d.id = 4;
  for (Timer* t : {&a, &b, &c}) wheel.schedule(*t, 9 * kMs);
  std::vector<int> order;
  bool first = true;
  auto cb = [&](TimerNode& n) {
    order.push_back(id_of(n));
    if (!first) return;
    first = false;
    // The other two are due in this same advance.
    Timer& later = id_of(n) == 1 ? b : a;
    Timer& due_again = id_of(n) == 3 ? b : c;
    wheel.postpone(later, 20 * kMs);     // leaves this advance
    wheel.postpone(due_again, 9 * kMs);  // re-armed due: the next advance
    wheel.schedule(d, 12 * kMs);
    wheel.schedule(n, 9 * kMs);          // itself, due: the next advance
  };
  EXPECT_EQ(wheel.advance(9 * kMs, cb), 1u);
  EXPECT_EQ(wheel.advance(9 * kMs, cb), 2u);
  EXPECT_EQ(wheel.advance(12 * kMs, cb), 1u);
  EXPECT_EQ(order.back(), 4);
  EXPECT_EQ(wheel.advance(20 * kMs - 1, cb), 0u);
  EXPECT_EQ(wheel.advance(20 * kMs, cb), 1u);
  EXPECT_EQ(order.size(), 5u);
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheelTest, CallbackDestroysNodes) {
  TimerWheel wheel(0);
  std::optional<Timer> nodes[3];
  for (int i = 0; i < 3; ++i) {
    nodes[i].emplace();
    nodes[i]->id = i;
    wheel.schedule(*nodes[i], 4 * kMs);
  }
  int calls = 0;
  wheel.advance(4 * kMs, [&](TimerNode& n) {
    ++calls;
    const int self = id_of(n);
    nodes[(self + 1) % 3].reset();  // another one due in this advance
    nodes[self].reset();            // the one firing
  });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_EQ(wheel.next_expiry(), TimerWheel::kNever);
}

TEST(TimerWheelTest, DestroyedNodeLeavesTheWheel) {
  TimerWheel wheel(0);
  Timer keep;
  wheel.schedule(keep, 500 * kMs);
  for (const std::uint64_t deadline : {0 * kMs, 3 * kMs, 70 * kMs, 5000 * kMs}) {
    {
      Timer t;
      wheel.schedule(t, deadline);
      EXPECT_EQ(wheel.size(), 2u);
    }
    EXPECT_EQ(wheel.size(), 1u);
    // The slot's bit went with it: the earliest is `keep` again.
    EXPECT_LE(wheel.next_expiry(), 500 * kMs);
    EXPECT_GT(wheel.next_expiry(), 100 * kMs);
  }
  Recorder r;
  EXPECT_EQ(wheel.advance(500 * kMs, r.callback()), 1u);
}

TEST(TimerWheelTest, WheelDestroyedBeforeItsNodes) {
  Timer a, b, c;
  {
    TimerWheel wheel(0);
    wheel.schedule(a, 0);
    wheel.schedule(b, 10 * kMs);
    wheel.schedule(c, 10'000'000 * kMs);
  }
  EXPECT_FALSE(a.scheduled());
  EXPECT_FALSE(b.scheduled());
  EXPECT_FALSE(c.scheduled());
}

// "Nothing is due" touches no slot and no node, whatever the population:
// only the occupancy bitmaps.
TEST(TimerWheelTest, NothingDueVisitsNoSlot) {
  for (const int population : {10, 10'000}) {
    TimerWheel wheel(0);
    std::vector<Timer> timers(static_cast<std::size_t>(population));
    std::mt19937_64 rng(1);
    for (Timer& t : timers) {
      wheel.schedule(t, 3'600'000 * kMs + rng() % (3'600'000 * kMs));  // 1 to 2 hours
    }
    const std::uint64_t next = wheel.next_expiry();
    Recorder r;
    std::uint64_t now = 0;
    for (int i = 0; i < 100'000; ++i) {  // 100 s in 1 ms steps
      now += kMs;
      ASSERT_EQ(wheel.advance(now, r.callback()), 0u);
    }
    EXPECT_EQ(wheel.counters().slots_visited, 0u);
    EXPECT_EQ(wheel.counters().nodes_visited, 0u);
    EXPECT_EQ(wheel.next_expiry(), next);
    EXPECT_EQ(wheel.now(), now);
  }
}

// Every node moves at most once per level on its way down.
TEST(TimerWheelTest, CascadeWorkIsBounded) {
  TimerWheel wheel(0);
  std::vector<Timer> timers(10'000);
  std::mt19937_64 rng(2);
  for (Timer& t : timers) wheel.schedule(t, rng() % (20'000'000 * kMs));  // < 5.6 h
  Recorder r;
  for (std::uint64_t now = 0; wheel.size() != 0; now += 1000 * kMs) {
    wheel.advance(now, r.callback());
  }
  EXPECT_EQ(r.fired.size(), timers.size());
  EXPECT_LE(wheel.counters().nodes_visited, timers.size() * (TimerWheel::kLevels - 1));
}

TEST(TimerWheelTest, NoAllocations) {
  TimerWheel wheel(0);
  std::vector<Timer> timers(1000);
  std::mt19937_64 rng(3);
  std::size_t fired = 0;
  auto count = [&fired](TimerNode&) { ++fired; };
  tern::testing::AllocCounter allocations;
  std::uint64_t now = 0;
  for (int round = 0; round < 200; ++round) {
    for (Timer& t : timers) wheel.schedule(t, now + rng() % (100'000 * kMs));
    for (Timer& t : timers) wheel.postpone(t, t.deadline() + rng() % (10 * kMs));
    for (std::size_t i = 0; i < timers.size(); i += 3) wheel.cancel(timers[i]);
    now += rng() % (50'000 * kMs);
    wheel.advance(now, count);
    (void)wheel.next_expiry();
  }
  EXPECT_EQ(allocations.allocations(), 0u);
  EXPECT_GT(fired, 0u);
}

// ---------------------------------------------------------------------------
// Random schedules, postpones, cancels, destructions and advances against an
// ordered reference (std::multimap by tick). After each advance(): exactly
// the timers due when it started fired (less those a callback touched
// first), once each, in order, with the deadline the reference holds; then
// size(), now() and the bounds on next_expiry(). Callbacks do random
// operations too. A failure names the seed and the operation's index.

class Reference {
 public:
  Reference(std::size_t nodes, std::uint64_t tick) : tick_(tick), deadline_(nodes), pos_(nodes) {}

  void arm(int id, std::uint64_t deadline) {
    disarm(id);
    deadline_[id] = deadline;
    pos_[id] = by_tick_.emplace(tick_of(deadline), id);
  }
  void disarm(int id) {
    if (!deadline_[id]) return;
    by_tick_.erase(pos_[id]);
    deadline_[id].reset();
  }
  std::uint64_t tick_of(std::uint64_t ns) const { return ceil_tick(ns, tick_); }
  const std::optional<std::uint64_t>& deadline(int id) const { return deadline_[id]; }
  const std::multimap<std::uint64_t, int>& by_tick() const { return by_tick_; }
  std::size_t size() const { return by_tick_.size(); }

 private:
  std::uint64_t tick_;
  std::vector<std::optional<std::uint64_t>> deadline_;
  std::multimap<std::uint64_t, int> by_tick_;
  std::vector<std::multimap<std::uint64_t, int>::iterator> pos_;
};

struct RandomConfig {
  std::uint64_t tick;
  std::size_t nodes;
  int ops;
};

// Returns false (after recording a failure) on the first mismatch.
bool run_random(std::uint64_t seed, const RandomConfig& config) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " tick " << config.tick << " nodes "
                                    << config.nodes);
  std::mt19937_64 rng(seed);
  auto below = [&rng](std::uint64_t n) { return n == 0 ? 0 : rng() % n; };
  const std::uint64_t tick = config.tick;
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 62;  // keep clear of 2^63

  std::uint64_t now = below(std::uint64_t{1} << 40);
  TimerWheel wheel(now, tick);
  Reference ref(config.nodes, tick);
  std::vector<std::optional<Timer>> nodes(config.nodes);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].emplace();
    nodes[i]->id = static_cast<int>(i);
  }
  std::uint64_t current_tick = now / tick;
  // Armed with a deadline already due (fire first, in any order).
  std::vector<char> armed_due(config.nodes, 0);
  // Due at the start of the running advance() and not touched since.
  std::vector<char> expected(config.nodes, 0);
  std::size_t expected_left = 0;
  bool ok = true;
  int op_index = 0;
  std::size_t calls = 0;  // of on_expire, over the run
  std::size_t total_fired = 0;  // as advance() reported

  auto random_deadline = [&]() -> std::uint64_t {
    const std::uint64_t r = below(100);
    std::uint64_t delta_ticks;
    if (r < 10) {
      const std::uint64_t back = below(5) * tick;
      return now > back ? now - back : 0;
    } else if (r < 50) {
      delta_ticks = below(200);
    } else if (r < 80) {
      delta_ticks = below(300'000);
    } else if (r < 95) {
      delta_ticks = below(std::uint64_t{1} << 37);
    } else {
      delta_ticks = below(std::uint64_t{1} << 41);
    }
    const std::uint64_t room = (kLimit - now) / tick;
    if (delta_ticks > room) delta_ticks = below(room);
    return now + delta_ticks * tick + below(tick);
  };
  auto touch = [&](int id) {
    if (expected[id]) {
      expected[id] = 0;
      --expected_left;
    }
  };
  // One random operation on a random node; mirrored in the reference.
  auto random_op = [&](int percent) {
    const int id = static_cast<int>(below(config.nodes));
    touch(id);
    Timer& node = *nodes[id];
    if (percent < 45) {
      const std::uint64_t d = random_deadline();
      wheel.schedule(node, d);
      ref.arm(id, d);
      armed_due[id] = ref.tick_of(d) <= current_tick;
    } else if (percent < 75) {
      // Mostly later, as a read deadline moves; sometimes earlier.
      std::uint64_t d;
      if (ref.deadline(id) && below(4) != 0) {
        d = *ref.deadline(id) + below(below(2) ? 3 * tick : 400'000 * tick);
        if (d >= kLimit) d = *ref.deadline(id);
      } else {
        d = random_deadline();
      }
      wheel.postpone(node, d);
      ref.arm(id, d);
      armed_due[id] = ref.tick_of(d) <= current_tick;
    } else if (percent < 93) {
      wheel.cancel(node);
      ref.disarm(id);
    } else {
      nodes[id].reset();
      ref.disarm(id);
      nodes[id].emplace();
      nodes[id]->id = id;
    }
  };

  std::uint64_t last_clock_tick = 0;
  bool clock_due_seen = false;
  auto on_expire = [&](TimerNode& n) {
    ++calls;
    const int id = id_of(n);
    if (!expected[id]) {
      ADD_FAILURE() << "op " << op_index << ": node " << id << " fired unexpectedly";
      ok = false;
      return;
    }
    const std::uint64_t t = ref.tick_of(*ref.deadline(id));
    if (n.deadline() != *ref.deadline(id) || t > current_tick) {
      ADD_FAILURE() << "op " << op_index << ": node " << id << " deadline " << n.deadline();
      ok = false;
    }
    if (armed_due[id]) {
      if (clock_due_seen) {
        ADD_FAILURE() << "op " << op_index << ": node armed due fired after one due by the clock";
        ok = false;
      }
    } else {
      if (clock_due_seen && t < last_clock_tick) {
        ADD_FAILURE() << "op " << op_index << ": out of order, tick " << t << " after "
                      << last_clock_tick;
        ok = false;
      }
      clock_due_seen = true;
      last_clock_tick = t;
    }
    touch(id);
    ref.disarm(id);
    armed_due[id] = 0;
    if (below(5) == 0) random_op(static_cast<int>(below(100)));
  };

  for (op_index = 0; op_index < config.ops && ok; ++op_index) {
    const int r = static_cast<int>(below(100));
    if (r >= 35) {
      random_op(static_cast<int>(below(100)));
      continue;
    }
    // Advance.
    // Rare jumps past the wheel's range (about ten a run, so the clock stays
    // far from kLimit and the run never degenerates into a stopped clock).
    std::uint64_t step;
    const std::uint64_t kind = below(1'000'000);
    if (kind < 20) {
      step = below(tick << 38);
    } else if (kind < 600'000) {
      step = below(3 * tick);
    } else if (kind < 900'000) {
      step = below(5000 * tick);
    } else {
      step = below(tick << 20);
    }
    now += step;
    if (now >= kLimit / 2) {
      ADD_FAILURE() << "the test's clock ran too far";
      return false;
    }
    current_tick = now / tick;
    for (auto it = ref.by_tick().begin(); it != ref.by_tick().end() && it->first <= current_tick;
         ++it) {
      expected[it->second] = 1;
      ++expected_left;
    }
    clock_due_seen = false;
    const std::size_t fired = wheel.advance(now, on_expire);
    total_fired += fired;
    if (expected_left != 0) {
      ADD_FAILURE() << "op " << op_index << ": " << expected_left << " due timers did not fire";
      return false;
    }
    if (wheel.size() != ref.size() || wheel.now() != current_tick * tick) {
      ADD_FAILURE() << "op " << op_index << ": size " << wheel.size() << " vs " << ref.size();
      return false;
    }
    const std::uint64_t next = wheel.next_expiry();
    if (ref.size() == 0) {
      if (next != TimerWheel::kNever) {
        ADD_FAILURE() << "op " << op_index << ": next_expiry " << next << " with nothing armed";
        return false;
      }
    } else {
      const std::uint64_t earliest = ref.by_tick().begin()->first;
      const bool good = earliest <= current_tick ? next == wheel.now()
                                                 : next > wheel.now() && next <= earliest * tick;
      if (!good) {
        ADD_FAILURE() << "op " << op_index << ": next_expiry " << next << ", earliest tick "
                      << earliest << ", now " << wheel.now();
        return false;
      }
    }
  }
  if (ok && (calls != total_fired || total_fired < static_cast<std::size_t>(config.ops) / 10)) {
    ADD_FAILURE() << "advance() reported " << total_fired << " fired, callbacks saw " << calls;
    ok = false;
  }
  return ok;
}

TEST(TimerWheelTest, RandomAgainstReference) {
  const RandomConfig configs[] = {
      {kMs, 2000, 1'200'000},  // the loop's default
      {kMs, 50, 600'000},      // few nodes: slots empty and refill
      {1, 2000, 900'000},      // 1 ns ticks: the range is 68 s, clamping is common
      {3, 500, 600'000},       // a tick that divides nothing evenly
      {1000, 5000, 900'000},
  };
  std::uint64_t seed = 0x7e4e'0001;
  for (const RandomConfig& config : configs) {
    for (int round = 0; round < 2; ++round) {
      if (!run_random(seed++, config)) return;
    }
  }
}

}  // namespace
}  // namespace tern::epoll
