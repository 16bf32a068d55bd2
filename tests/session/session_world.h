// File: session_world.h
//
// World drives a SessionPolicy the way the session driver will, against a
// scripted server, in simulated time: it executes every action (a Connect
// opens or fails after connect_latency, a Ping is answered after rtt, a
// Replay is sent at once, a Close completes after close_latency), feeds the
// server's data to the policy, and jumps the fake clock to the next policy
// deadline or scripted event. It records every action with its time and
// checks the driver-side invariants as it goes: every accepted connection
// gets exactly one Down, no Down for one never accepted, nothing sent on a
// connection after its Down, no message delivered after it.
#ifndef TERN_TESTS_SESSION_SESSION_WORLD_H_
#define TERN_TESTS_SESSION_SESSION_WORLD_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "backends/session/session_policy.h"
#include "gtest/gtest.h"

namespace tern::session::testing {

// An arbitrary origin for the monotonic clock.
inline absl::Time t0() { return absl::UnixEpoch() + absl::Hours(100); }

struct Logged {
  absl::Time at;
  Action action;
};

// Every action until Wait or Stopped; the Wait (or Stopped) is in *last.
inline std::vector<Action> drain(SessionPolicy& p, absl::Time now, Action* last = nullptr) {
  std::vector<Action> out;
  for (int i = 0; i < 100; ++i) {
    const Action a = p.next_action(now);
    if (a.type == ActionType::Wait || a.type == ActionType::Stopped) {
      if (last != nullptr) *last = a;
      return out;
    }
    out.push_back(a);
  }
  ADD_FAILURE() << "next_action() never said Wait";
  return out;
}

class World {
 public:
  explicit World(const SessionConfig& config) : policy(*SessionPolicy::create(config)) {}

  // --- the scripted server ---------------------------------------------
  std::function<bool(ConnectionId)> accepts = [](ConnectionId) { return true; };
  Ended refusal{ws::CloseCode::Abnormal, absl::StatusCode::kUnavailable, 0};
  absl::Duration connect_latency = absl::Milliseconds(10);
  absl::Duration close_latency = absl::Milliseconds(10);
  absl::Duration rtt = absl::Milliseconds(5);
  // Closes each connection this long after it opened (accept-then-close).
  std::optional<absl::Duration> close_after_open;
  Ended server_close{ws::CloseCode::PolicyViolation, absl::StatusCode::kOk, 0};
  // What the handler queues on open.
  std::uint32_t replay_messages = 3;
  std::uint32_t auth_messages = 0;
  // Data every data_interval once a connection's replay is all sent (0:
  // none); the sequence number is shared, like a venue's feed.
  absl::Duration data_interval = absl::Milliseconds(100);
  // Which connections get data at all (acks and pongs regardless).
  std::function<bool(ConnectionId)> sends_data = [](ConnectionId) { return true; };
  bool answer_pings = true;
  bool answer_app_pings = true;
  // From this time on the server sends nothing (black hole).
  absl::Time mute_from = absl::InfiniteFuture();
  // Confirm auth this long after the auth messages were sent (none: never).
  std::optional<absl::Duration> auth_confirm_after = absl::Milliseconds(20);

  // --- what happened -----------------------------------------------------
  SessionPolicy policy;
  absl::Time now = t0();
  std::vector<Logged> log;
  std::set<ConnectionId> accepted;   // on_open() said true
  std::set<ConnectionId> downed;     // Down seen
  std::map<ConnectionId, std::uint32_t> replayed;  // messages sent
  std::map<ConnectionId, std::uint64_t> delivered;  // data messages delivered
  std::vector<std::pair<ConnectionId, std::uint64_t>> sequence;  // (id, seq) delivered
  bool stopped = false;

  void at(absl::Time when, std::function<void()> f) { events_.emplace(when, std::move(f)); }

  std::vector<Logged> of(ActionType type) const {
    std::vector<Logged> out;
    for (const Logged& l : log) {
      if (l.action.type == type) out.push_back(l);
    }
    return out;
  }

  // Runs until `end` (or Stopped), at most max_steps wake-ups.
  void run_until(absl::Time end, int max_steps = 200000) {
    int spins = 0;
    for (int step = 0; step < max_steps; ++step) {
      absl::Time wake = absl::InfiniteFuture();
      for (int i = 0; i < 1000; ++i) {
        const Action a = policy.next_action(now);
        if (a.type == ActionType::Stopped) {
          stopped = true;
          break;
        }
        if (a.type == ActionType::Wait) {
          wake = a.at;
          break;
        }
        log.push_back({now, a});
        execute(a);
      }
      if (stopped) return;
      // A deadline at or before now right after a drain is allowed once (a
      // silence deadline re-checked); twice in a row is a busy loop.
      if (wake <= now) {
        ASSERT_LT(++spins, 3) << "the policy asks to be woken in the past repeatedly";
      } else {
        spins = 0;
      }
      absl::Time next = wake;
      if (!events_.empty()) next = std::min(next, events_.begin()->first);
      if (next > end) {
        now = std::max(now, end);
        return;
      }
      now = std::max(now, next);
      while (!events_.empty() && events_.begin()->first <= now) {
        auto f = std::move(events_.begin()->second);
        events_.erase(events_.begin());
        f();
      }
    }
    FAIL() << "run_until: too many steps";
  }

  bool alive(ConnectionId id) const { return accepted.count(id) != 0 && downed.count(id) == 0; }

 private:
  void execute(const Action& a) {
    const ConnectionId id = a.id;
    switch (a.type) {
      case ActionType::Connect:
        if (accepts(id)) {
          at(now + connect_latency, [this, id] { open(id); });
        } else {
          at(now + connect_latency, [this, id] { policy.on_connect_failed(id, now, refusal); });
        }
        break;
      case ActionType::SendPing: {
        ASSERT_TRUE(alive(id)) << "Ping on " << id << " after its Down";
        std::array<std::uint8_t, 8> payload;
        encode_ping_token(a.token, payload);
        if (answer_pings && now + rtt < mute_from) {
          at(now + rtt, [this, id, payload] {
            if (alive(id)) policy.on_pong(id, now, payload);
          });
        }
        break;
      }
      case ActionType::SendAppPing:
        ASSERT_TRUE(alive(id)) << "app ping on " << id << " after its Down";
        if (answer_app_pings && now + rtt < mute_from) {
          at(now + rtt, [this, id] {
            if (!alive(id)) return;
            policy.on_message(id, now, /*is_data=*/false);
            policy.on_app_pong(id, now);
          });
        }
        break;
      case ActionType::Replay: {
        ASSERT_TRUE(alive(id)) << "Replay on " << id << " after its Down";
        ASSERT_GT(a.count, 0u);
        const std::uint32_t before = replayed[id];
        replayed[id] += a.count;
        policy.on_replay_sent(id, now, a.count);
        if (auth_messages > 0 && before < auth_messages && replayed[id] >= auth_messages &&
            auth_confirm_after) {
          at(now + *auth_confirm_after, [this, id] {
            if (alive(id) && now < mute_from) policy.on_auth_confirmed(id, now);
          });
        }
        if (replayed[id] == replay_messages && data_interval > absl::ZeroDuration()) {
          at(now + data_interval, [this, id] { feed(id); });
        }
        break;
      }
      case ActionType::Close:
        at(now + close_latency, [this, id] {
          policy.on_closed(id, now, {ws::CloseCode::Normal, absl::StatusCode::kOk, 0});
        });
        break;
      case ActionType::Down:
        ASSERT_EQ(accepted.count(id), 1u) << "Down for " << id << ", never accepted";
        ASSERT_EQ(downed.count(id), 0u) << "second Down for " << id;
        downed.insert(id);
        break;
      case ActionType::SwitchTo:
        ASSERT_TRUE(alive(id)) << "SwitchTo " << id << " after its Down";
        break;
      case ActionType::Wait:
      case ActionType::Stopped:
        break;
    }
  }

  void open(ConnectionId id) {
    if (!policy.on_open(id, now)) return;
    ASSERT_EQ(accepted.count(id), 0u);
    accepted.insert(id);
    policy.on_replay_queued(id, now, replay_messages, auth_messages);
    if (replay_messages == 0 && data_interval > absl::ZeroDuration()) {
      at(now + data_interval, [this, id] { feed(id); });
    }
    if (close_after_open) {
      at(now + *close_after_open, [this, id] {
        if (alive(id) && policy.connection_state(id) != ConnectionState::Closing) {
          policy.on_closed(id, now, server_close);
        }
      });
    }
  }

  void feed(ConnectionId id) {
    if (!alive(id) || policy.connection_state(id) == ConnectionState::Closing) return;
    if (now >= mute_from) return;
    if (!sends_data(id)) {
      at(now + data_interval, [this, id] { feed(id); });
      return;
    }
    // The feed's sequence number advances with time, the same on every
    // connection, as a venue's does.
    const std::uint64_t seq = static_cast<std::uint64_t>((now - t0()) / data_interval);
    ++delivered[id];
    sequence.emplace_back(id, seq);
    policy.on_message(id, now, /*is_data=*/true);
    at(now + data_interval, [this, id] { feed(id); });
  }

  std::multimap<absl::Time, std::function<void()>> events_;
};

}  // namespace tern::session::testing

#endif  // TERN_TESTS_SESSION_SESSION_WORLD_H_
