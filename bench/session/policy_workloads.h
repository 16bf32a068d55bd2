// File: policy_workloads.h
//
// The steady-state work the session adds per inbound message, shared by
// policy_bench (ns) and policy_instr (callgrind instructions): a Live
// connection, one message per simulated microsecond, and per message what
// the driver will do, next_action() until Wait (answering the rare Ping and
// application ping the schedule brings). Workloads:
//
//   clock          the loop alone: advance `now` (absl::Time + Duration)
//   policy         on_message + next_action, default config (20 s pings)
//   policy_silence the same with max_silence = 5 s (a lazy deadline)
//   health         Health::on_message_in alone
//   session        policy + health: the session's whole per-message work
//   reconnect      one full cycle: Down, backoff wait, Connect, open,
//                  3 paced messages replayed, Live (per cycle, not message)
#ifndef TERN_BENCH_SESSION_POLICY_WORKLOADS_H_
#define TERN_BENCH_SESSION_POLICY_WORKLOADS_H_

#include <array>
#include <cstdint>
#include <string_view>

#include "absl/base/optimization.h"
#include "absl/time/time.h"
#include "backends/session/health.h"
#include "backends/session/session_policy.h"

namespace tern::session::bench {

enum class Workload { Clock, Policy, PolicySilence, Health, Session, Reconnect };

inline bool parse_workload(std::string_view s, Workload& w) {
  if (s == "clock") w = Workload::Clock;
  else if (s == "policy") w = Workload::Policy;
  else if (s == "policy_silence") w = Workload::PolicySilence;
  else if (s == "health") w = Workload::Health;
  else if (s == "session") w = Workload::Session;
  else if (s == "reconnect") w = Workload::Reconnect;
  else return false;
  return true;
}

// A sink the compiler cannot see through.
template <class T>
inline void keep(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

class Fixture {
 public:
  explicit Fixture(Workload w) : workload_(w), policy_(*SessionPolicy::create(config(w))) {
    policy_.start(now_);
    id_ = policy_.next_action(now_).id;
    (void)policy_.on_open(id_, now_);
    policy_.on_replay_queued(id_, now_, 0);
    health_.on_open(id_, now_);
    step();
  }

  // Runs n units (messages, or reconnect cycles); returns n.
  std::uint64_t run(std::uint64_t n) {
    switch (workload_) {
      case Workload::Clock:
        for (std::uint64_t i = 0; i < n; ++i) {
          now_ += absl::Microseconds(1);
          keep(now_);
        }
        break;
      case Workload::Policy:
      case Workload::PolicySilence:
        for (std::uint64_t i = 0; i < n; ++i) {
          now_ += absl::Microseconds(1);
          policy_.on_message(id_, now_, true);
          step();
        }
        break;
      case Workload::Health:
        for (std::uint64_t i = 0; i < n; ++i) {
          now_ += absl::Microseconds(1);
          health_.on_message_in(id_, now_, 120);
        }
        break;
      case Workload::Session:
        for (std::uint64_t i = 0; i < n; ++i) {
          now_ += absl::Microseconds(1);
          policy_.on_message(id_, now_, true);
          health_.on_message_in(id_, now_, 120);
          step();
        }
        break;
      case Workload::Reconnect:
        for (std::uint64_t i = 0; i < n; ++i) reconnect();
        break;
    }
    return n;
  }

 private:
  static SessionConfig config(Workload w) {
    SessionConfig c;
    if (w == Workload::PolicySilence) c.max_silence = absl::Seconds(5);
    return c;
  }

  // What a driver's loop does after each message: one next_action(),
  // inline; anything but Wait (rare) is handled out of line.
  void step() {
    const Action a = policy_.next_action(now_);
    if (ABSL_PREDICT_FALSE(a.type != ActionType::Wait)) act(a);
  }
  [[gnu::noinline]] void act(Action a) {
    for (; a.type != ActionType::Wait; a = policy_.next_action(now_)) {
      switch (a.type) {
        case ActionType::SendPing: {
          std::array<std::uint8_t, 8> payload;
          encode_ping_token(a.token, payload);
          keep(policy_.on_pong(a.id, now_, payload));
          break;
        }
        case ActionType::Replay:
          policy_.on_replay_sent(a.id, now_, a.count);
          break;
        case ActionType::Connect:
          id_ = a.id;
          break;
        default:
          break;
      }
    }
  }

  // The server closes; the session waits out its backoff, reconnects and
  // replays three messages at the default 2/s.
  void reconnect() {
    now_ += absl::Seconds(10);
    policy_.on_closed(id_, now_, {ws::CloseCode::GoingAway, absl::StatusCode::kOk, 0});
    for (int step = 0; step < 16; ++step) {
      const Action a = policy_.next_action(now_);
      if (a.type == ActionType::Wait) {
        if (policy_.connection_state(id_) == ConnectionState::Live) return;
        now_ = a.at;
        continue;
      }
      if (a.type == ActionType::Connect) {
        id_ = a.id;
        (void)policy_.on_open(id_, now_);
        policy_.on_replay_queued(id_, now_, 3);
      } else if (a.type == ActionType::Replay) {
        policy_.on_replay_sent(a.id, now_, a.count);
      }
    }
  }

  Workload workload_;
  absl::Time now_ = absl::UnixEpoch() + absl::Hours(100);
  SessionPolicy policy_;
  Health health_;
  ConnectionId id_ = 0;
};

}  // namespace tern::session::bench

#endif  // TERN_BENCH_SESSION_POLICY_WORKLOADS_H_
