#include "backends/session/session_policy.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace tern::session {
namespace {

constexpr std::string_view kReasonStop = "stop";
constexpr std::string_view kReasonRotated = "rotated";
constexpr std::string_view kReasonRotationTimeout = "rotation timeout";
constexpr std::string_view kReasonNotNeeded = "not needed";
constexpr std::string_view kReasonPongTimeout = "pong timeout";
constexpr std::string_view kReasonAppPongTimeout = "app pong timeout";
constexpr std::string_view kReasonSilent = "no data";
constexpr std::string_view kReasonAuthTimeout = "auth timeout";

// splitmix64 (Steele, Lea, Flood 2014): a tiny PRNG whose every seed,
// zero included, gives a good stream.
std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

absl::Status invalid(std::string_view field, std::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat("SessionConfig.", absl::string_view(field.data(), field.size()), " ",
                   absl::string_view(rule.data(), rule.size())));
}

}  // namespace

absl::Status validate(const SessionConfig& c) {
  const absl::Duration zero = absl::ZeroDuration();
  if (!(c.backoff_initial > zero) || c.backoff_initial == absl::InfiniteDuration()) {
    return invalid("backoff_initial", "must be positive and finite");
  }
  if (!(c.backoff_multiplier >= 1.0) || !std::isfinite(c.backoff_multiplier)) {
    return invalid("backoff_multiplier", "must be finite and >= 1");
  }
  if (c.backoff_max < c.backoff_initial || c.backoff_max == absl::InfiniteDuration()) {
    return invalid("backoff_max", "must be finite and >= backoff_initial");
  }
  if (!(c.backoff_jitter >= 0.0 && c.backoff_jitter <= 1.0)) {
    return invalid("backoff_jitter", "must be in [0, 1]");
  }
  if (c.stable_after < zero) return invalid("stable_after", "must not be negative");
  if (c.ping_interval < zero) return invalid("ping_interval", "must not be negative");
  if (c.pong_timeout < zero) return invalid("pong_timeout", "must not be negative");
  if (c.app_ping_interval < zero) return invalid("app_ping_interval", "must not be negative");
  if (c.app_pong_timeout < zero) return invalid("app_pong_timeout", "must not be negative");
  if (c.max_silence < zero) return invalid("max_silence", "must not be negative");
  if (!(c.max_replay_rate > 0.0)) return invalid("max_replay_rate", "must be positive (infinity: unpaced)");
  if (c.replay_burst < 1) return invalid("replay_burst", "must be at least 1");
  if (c.auth_timeout < zero) return invalid("auth_timeout", "must not be negative");
  if (!(c.max_connection_age > zero)) return invalid("max_connection_age", "must be positive");
  if (!(c.rotation_timeout > zero)) return invalid("rotation_timeout", "must be positive");
  if (c.rotation_drain < zero) return invalid("rotation_drain", "must not be negative");
  if (!(c.rotation_retry > zero)) return invalid("rotation_retry", "must be positive");
  return absl::OkStatus();
}

std::string_view name(SessionState state) noexcept {
  switch (state) {
    case SessionState::Idle: return "Idle";
    case SessionState::Connecting: return "Connecting";
    case SessionState::Backoff: return "Backoff";
    case SessionState::Live: return "Live";
    case SessionState::Rotating: return "Rotating";
    case SessionState::Stopping: return "Stopping";
    case SessionState::Stopped: return "Stopped";
  }
  return "Unknown";
}

std::string_view name(ConnectionState state) noexcept {
  switch (state) {
    case ConnectionState::Free: return "Free";
    case ConnectionState::Connecting: return "Connecting";
    case ConnectionState::Replaying: return "Replaying";
    case ConnectionState::Live: return "Live";
    case ConnectionState::Draining: return "Draining";
    case ConnectionState::Closing: return "Closing";
  }
  return "Unknown";
}

std::string_view name(DownCause cause) noexcept {
  switch (cause) {
    case DownCause::PeerClosed: return "PeerClosed";
    case DownCause::Failed: return "Failed";
    case DownCause::PongTimeout: return "PongTimeout";
    case DownCause::AppPongTimeout: return "AppPongTimeout";
    case DownCause::Silent: return "Silent";
    case DownCause::AuthTimeout: return "AuthTimeout";
    case DownCause::Rotated: return "Rotated";
    case DownCause::RotationAbandoned: return "RotationAbandoned";
    case DownCause::Stopped: return "Stopped";
  }
  return "Unknown";
}

std::string_view name(ActionType type) noexcept {
  switch (type) {
    case ActionType::Wait: return "Wait";
    case ActionType::Connect: return "Connect";
    case ActionType::SendPing: return "SendPing";
    case ActionType::SendAppPing: return "SendAppPing";
    case ActionType::Replay: return "Replay";
    case ActionType::Close: return "Close";
    case ActionType::SwitchTo: return "SwitchTo";
    case ActionType::Down: return "Down";
    case ActionType::Stopped: return "Stopped";
  }
  return "Unknown";
}

absl::StatusOr<SessionPolicy> SessionPolicy::create(const SessionConfig& config) {
  if (absl::Status s = validate(config); !s.ok()) return s;
  return SessionPolicy(config);
}

SessionPolicy::SessionPolicy(const SessionConfig& config) noexcept
    : config_(config),
      replay_interval_(std::isinf(config.max_replay_rate) ? absl::ZeroDuration()
                                                          : absl::Seconds(1.0 / config.max_replay_rate)),
      replay_tolerance_(replay_interval_ * static_cast<std::int64_t>(config.replay_burst - 1)),
      rng_(config.seed) {}

// --- the session -------------------------------------------------------------

void SessionPolicy::start(absl::Time now) noexcept {
  if (state_ != SessionState::Idle && state_ != SessionState::Stopped) return;
  state_ = SessionState::Connecting;
  streak_ = 0;
  reconnect_at_ = now;  // the first attempt has no delay
  rotation_requested_ = false;
  force_poll();
}

void SessionPolicy::stop(absl::Time now) noexcept {
  if (state_ == SessionState::Stopping || state_ == SessionState::Stopped) return;
  if (state_ == SessionState::Idle) {
    state_ = SessionState::Stopped;
    force_poll();
    return;
  }
  state_ = SessionState::Stopping;
  primary_ = candidate_ = -1;  // nothing below draws session consequences
  reconnect_at_ = rotation_at_ = rotation_deadline_ = absl::InfiniteFuture();
  rotation_requested_ = false;
  for (int s = 0; s < static_cast<int>(kMaxConnections); ++s) {
    Conn& c = conns_[s];
    if (c.state == ConnectionState::Connecting) {
      c.doomed = true;
    } else if (c.open()) {
      close(s, now, DownCause::Stopped, ws::CloseCode::Normal, kReasonStop);
    }
  }
  check_stopped();
  force_poll();
}

bool SessionPolicy::request_rotation(absl::Time) noexcept {
  if (state_ == SessionState::Stopping || state_ == SessionState::Stopped) return false;
  if (primary_ < 0 || !conns_[primary_].open()) return false;
  if (candidate_ < 0) {
    rotation_requested_ = true;
    force_poll();
  }
  return true;
}

// --- connection lifecycle -------------------------------------------------------

bool SessionPolicy::on_open(ConnectionId id, absl::Time now) noexcept {
  const int s = find(id);
  if (s < 0 || conns_[s].state != ConnectionState::Connecting) return false;
  Conn& c = conns_[s];
  force_poll();
  if (c.doomed) {
    c.state = ConnectionState::Closing;
    Action a;
    a.type = ActionType::Close;
    a.id = id;
    a.code = ws::CloseCode::Normal;
    a.reason = kReasonNotNeeded;
    push(a);
    return false;
  }
  c.state = ConnectionState::Replaying;
  c.opened = true;
  c.opened_at = now;
  c.last_inbound = now;
  c.tat = now;
  c.next_ping_at = config_.ping_interval > absl::ZeroDuration() ? now + config_.ping_interval
                                                                 : absl::InfiniteFuture();
  c.next_app_ping_at = config_.app_ping_interval > absl::ZeroDuration()
                           ? now + config_.app_ping_interval
                           : absl::InfiniteFuture();
  if (s == primary_) {
    hot_ = s;
    rotation_at_ = now + config_.max_connection_age;
  }
  return true;
}

void SessionPolicy::on_connect_failed(ConnectionId id, absl::Time now, const Ended& why) noexcept {
  const int s = find(id);
  if (s < 0 || conns_[s].state != ConnectionState::Connecting) return;
  release(s);
  if (s == primary_) {
    primary_ = -1;
    schedule_reconnect(now, /*proven=*/false, /*long_lived=*/false, why.throttled());
  } else if (s == candidate_) {
    candidate_ = -1;
    rotation_deadline_ = absl::InfiniteFuture();
    rotation_at_ = now + config_.rotation_retry;
    if (state_ == SessionState::Rotating) state_ = SessionState::Live;
  }
  check_stopped();
  force_poll();
}

void SessionPolicy::on_closed(ConnectionId id, absl::Time now, const Ended& why) noexcept {
  const int s = find(id);
  if (s < 0) return;
  Conn& c = conns_[s];
  if (c.state == ConnectionState::Connecting) {
    on_connect_failed(id, now, why);
    return;
  }
  if (c.open()) {
    const DownCause cause = why.status == absl::StatusCode::kOk ? DownCause::PeerClosed : DownCause::Failed;
    down(s, now, cause, why.code, why.status, why.throttled());
  }
  release(s);
  check_stopped();
  force_poll();
}

// --- replay and auth -------------------------------------------------------------

void SessionPolicy::on_replay_queued(ConnectionId id, absl::Time now, std::uint32_t messages,
                                     std::uint32_t auth_messages) noexcept {
  const int s = find(id);
  if (s < 0) return;
  Conn& c = conns_[s];
  if (c.state != ConnectionState::Replaying && c.state != ConnectionState::Live) return;
  // Auth messages count only while they lead the queue.
  if (c.queued == c.auth) c.auth += std::min(auth_messages, messages);
  c.queued += messages;
  c.replay_known = true;
  update_live(s, now);
  force_poll();
}

void SessionPolicy::on_replay_sent(ConnectionId id, absl::Time now, std::uint32_t sent) noexcept {
  const int s = find(id);
  if (s < 0) return;
  Conn& c = conns_[s];
  if (c.state != ConnectionState::Replaying && c.state != ConnectionState::Live) return;
  // Unsent ones stay queued; the pacing already charged them, which only
  // errs on the slow side.
  c.sent += std::min(sent, c.in_flight);
  c.in_flight = 0;
  if (config_.wait_for_auth && c.auth > 0 && !c.auth_confirmed && c.sent >= c.auth &&
      c.auth_deadline == absl::InfiniteFuture() && config_.auth_timeout > absl::ZeroDuration()) {
    c.auth_deadline = now + config_.auth_timeout;
  }
  update_live(s, now);
  force_poll();
}

void SessionPolicy::on_auth_confirmed(ConnectionId id, absl::Time now) noexcept {
  const int s = find(id);
  if (s < 0) return;
  Conn& c = conns_[s];
  if (c.state != ConnectionState::Replaying && c.state != ConnectionState::Live) return;
  c.auth_confirmed = true;
  c.auth_deadline = absl::InfiniteFuture();
  update_live(s, now);
  force_poll();
}

// --- inbound ---------------------------------------------------------------------

void SessionPolicy::on_message_elsewhere(ConnectionId id, absl::Time now, bool is_data) noexcept {
  const int s = find(id);
  if (s < 0) return;
  Conn& c = conns_[s];
  if (!c.open()) return;
  c.last_inbound = now;
  if (is_data && !c.saw_data) first_data(s, now);
}

void SessionPolicy::first_data(int slot, absl::Time now) noexcept {
  Conn& c = conns_[slot];
  c.saw_data = true;
  if (config_.reset_on_first_data && c.state != ConnectionState::Draining) {
    c.proven = true;
    streak_ = 0;
  }
  if (slot == candidate_) maybe_switch(now);
}

std::optional<absl::Duration> SessionPolicy::on_pong(ConnectionId id, absl::Time now,
                                                     std::span<const std::uint8_t> payload) noexcept {
  const int s = conns_[hot_].id == id ? hot_ : find(id);
  if (s < 0 || !conns_[s].open()) return std::nullopt;
  Conn& c = conns_[s];
  c.last_inbound = now;
  const std::optional<std::uint64_t> token = decode_ping_token(payload);
  if (c.ping_token == 0 || token != c.ping_token) return std::nullopt;  // unsolicited or late
  c.ping_token = 0;
  c.pong_deadline = absl::InfiniteFuture();
  force_poll();  // the next Ping may have been waiting for this Pong
  return now - c.ping_sent_at;
}

std::optional<absl::Duration> SessionPolicy::on_app_pong(ConnectionId id, absl::Time now) noexcept {
  const int s = find(id);
  if (s < 0 || !conns_[s].open()) return std::nullopt;
  Conn& c = conns_[s];
  c.last_inbound = now;
  if (c.app_ping_sent_at == absl::InfiniteFuture()) return std::nullopt;
  const absl::Duration rtt = now - c.app_ping_sent_at;
  c.app_ping_sent_at = absl::InfiniteFuture();
  c.app_pong_deadline = absl::InfiniteFuture();
  force_poll();
  return rtt;
}

// --- decisions ---------------------------------------------------------------------

Action SessionPolicy::next_action_slow(absl::Time now) noexcept {
  for (;;) {
    if (queued_ == 0) poll(now);
    if (queued_ == 0) break;
    const Action a = queue_[head_];
    head_ = (head_ + 1) % kQueue;
    --queued_;
    // A Ping, app ping or Replay decided before the connection went down
    // is dropped rather than sent on a closing connection.
    if (a.type == ActionType::SendPing || a.type == ActionType::SendAppPing ||
        a.type == ActionType::Replay) {
      const int s = find(a.id);
      if (s < 0 || (conns_[s].state != ConnectionState::Replaying && conns_[s].state != ConnectionState::Live)) {
        continue;
      }
    }
    return a;
  }
  Action a;
  if (state_ == SessionState::Stopped) {
    a.type = ActionType::Stopped;
    return a;
  }
  a.at = wake_;
  return a;
}

void SessionPolicy::poll(absl::Time now) noexcept {
  absl::Time wake = absl::InfiniteFuture();
  for (int s = 0; s < static_cast<int>(kMaxConnections); ++s) poll_connection(s, now, wake);
  poll_session(now, wake);
  // Stopped: every call takes the slow path and says so.
  wake_ = state_ == SessionState::Stopped ? absl::InfinitePast() : wake;
}

void SessionPolicy::poll_connection(int slot, absl::Time now, absl::Time& wake) noexcept {
  Conn& c = conns_[slot];
  if (c.state == ConnectionState::Draining) {
    if (now >= c.drain_until) {
      close(slot, now, DownCause::Rotated, ws::CloseCode::Normal, kReasonRotated);
    } else {
      wake = std::min(wake, c.drain_until);
    }
    return;
  }
  if (c.state != ConnectionState::Replaying && c.state != ConnectionState::Live) return;

  // Staleness first: a dead connection gets no more pings. RFC 6455 has no
  // code for "you went quiet"; 1011 is what Python websockets sends on a
  // keepalive timeout.
  if (now >= c.pong_deadline) {
    close(slot, now, DownCause::PongTimeout, ws::CloseCode::InternalError, kReasonPongTimeout);
    return;
  }
  if (now >= c.app_pong_deadline) {
    close(slot, now, DownCause::AppPongTimeout, ws::CloseCode::InternalError, kReasonAppPongTimeout);
    return;
  }
  if (config_.max_silence > absl::ZeroDuration()) {
    const absl::Time silent_at = c.last_inbound + config_.max_silence;
    if (now >= silent_at) {
      close(slot, now, DownCause::Silent, ws::CloseCode::InternalError, kReasonSilent);
      return;
    }
    wake = std::min(wake, silent_at);
  }
  if (now >= c.auth_deadline) {
    close(slot, now, DownCause::AuthTimeout, ws::CloseCode::InternalError, kReasonAuthTimeout);
    return;
  }
  wake = std::min(wake, c.auth_deadline);

  // Protocol pings: at most one waits for its Pong (without a pong
  // deadline, a new Ping replaces the old token).
  if (now >= c.next_ping_at && c.pong_deadline == absl::InfiniteFuture()) {
    Action a;
    a.type = ActionType::SendPing;
    a.id = c.id;
    a.token = next_token_++;
    push(a);
    c.ping_token = a.token;
    c.ping_sent_at = now;
    if (config_.pong_timeout > absl::ZeroDuration()) c.pong_deadline = now + config_.pong_timeout;
    c.next_ping_at = now + config_.ping_interval;
  }
  // A Ping waiting for a Pong is re-considered when the Pong comes.
  wake = std::min(wake, c.pong_deadline != absl::InfiniteFuture() ? c.pong_deadline : c.next_ping_at);

  // Application pings, the same way.
  if (now >= c.next_app_ping_at && c.app_pong_deadline == absl::InfiniteFuture()) {
    Action a;
    a.type = ActionType::SendAppPing;
    a.id = c.id;
    push(a);
    c.app_ping_sent_at = now;
    if (config_.app_pong_timeout > absl::ZeroDuration()) c.app_pong_deadline = now + config_.app_pong_timeout;
    c.next_app_ping_at = now + config_.app_ping_interval;
  }
  wake = std::min(wake, c.app_pong_deadline != absl::InfiniteFuture() ? c.app_pong_deadline
                                                                      : c.next_app_ping_at);

  // Paced messages: one Replay in flight at a time; the auth gate and a
  // GCRA (theoretical arrival time `tat`, tolerance (burst - 1) intervals)
  // decide how many may go now.
  const std::uint32_t waiting = c.queued - c.sent - c.in_flight;
  if (waiting == 0 || c.in_flight != 0) return;
  std::uint32_t allowed = waiting;
  if (config_.wait_for_auth && c.auth > 0 && !c.auth_confirmed) {
    allowed = c.sent < c.auth ? std::min(waiting, c.auth - c.sent) : 0;
  }
  if (allowed == 0) return;  // on_auth_confirmed() re-polls
  std::uint32_t grant = allowed;
  if (replay_interval_ != absl::ZeroDuration()) {
    const absl::Time tat = std::max(c.tat, now);
    const absl::Time earliest = tat - replay_tolerance_;
    if (now < earliest) {
      wake = std::min(wake, earliest);
      return;
    }
    absl::Duration rem;
    const std::int64_t k = 1 + absl::IDivDuration(now - earliest, replay_interval_, &rem);
    grant = static_cast<std::uint32_t>(
        std::min<std::int64_t>({static_cast<std::int64_t>(allowed), k,
                                static_cast<std::int64_t>(config_.replay_burst)}));
    c.tat = tat + replay_interval_ * static_cast<std::int64_t>(grant);
  }
  Action a;
  a.type = ActionType::Replay;
  a.id = c.id;
  a.count = grant;
  push(a);
  c.in_flight = grant;
}

void SessionPolicy::poll_session(absl::Time now, absl::Time& wake) noexcept {
  if (state_ == SessionState::Idle || state_ == SessionState::Stopping || state_ == SessionState::Stopped) return;
  if (primary_ < 0) {
    if (now < reconnect_at_) {
      wake = std::min(wake, reconnect_at_);
      return;
    }
    // With every slot still closing, on_closed() re-polls.
    const int s = free_slot();
    if (s < 0) return;
    connect(s, now);
    primary_ = s;
    state_ = SessionState::Connecting;
    return;
  }
  if (candidate_ >= 0) {
    if (now < rotation_deadline_) {
      wake = std::min(wake, rotation_deadline_);
      return;
    }
    abandon_candidate(now);
  }
  if (conns_[primary_].state != ConnectionState::Live) return;  // update_live() re-polls
  if (!rotation_requested_ && now < rotation_at_) {
    wake = std::min(wake, rotation_at_);
    return;
  }
  const int s = free_slot();
  if (s < 0) return;
  connect(s, now);
  candidate_ = s;
  rotation_requested_ = false;
  rotation_deadline_ = now + config_.rotation_timeout;
  state_ = SessionState::Rotating;
  wake = std::min(wake, rotation_deadline_);
}

// --- helpers -----------------------------------------------------------------------

int SessionPolicy::find(ConnectionId id) const noexcept {
  if (id == 0) return -1;
  for (int s = 0; s < static_cast<int>(kMaxConnections); ++s) {
    if (conns_[s].id == id) return s;
  }
  return -1;
}

int SessionPolicy::free_slot() const noexcept {
  for (int s = 0; s < static_cast<int>(kMaxConnections); ++s) {
    if (conns_[s].state == ConnectionState::Free) return s;
  }
  return -1;
}

void SessionPolicy::connect(int slot, absl::Time) noexcept {
  Conn& c = conns_[slot];
  c = Conn{};
  c.id = next_id_++;
  c.state = ConnectionState::Connecting;
  Action a;
  a.type = ActionType::Connect;
  a.id = c.id;
  push(a);
}

void SessionPolicy::release(int slot) noexcept { conns_[slot] = Conn{}; }

void SessionPolicy::close(int slot, absl::Time now, DownCause cause, ws::CloseCode code,
                          std::string_view reason) noexcept {
  Conn& c = conns_[slot];
  Action a;
  a.type = ActionType::Close;
  a.id = c.id;
  a.code = code;
  a.reason = reason;
  push(a);
  c.state = ConnectionState::Closing;
  const bool timed_out = is_stale(cause) || cause == DownCause::AuthTimeout ||
                         cause == DownCause::RotationAbandoned;
  down(slot, now, cause, code, timed_out ? absl::StatusCode::kDeadlineExceeded : absl::StatusCode::kOk,
       /*throttled=*/false);
}

void SessionPolicy::down(int slot, absl::Time now, DownCause cause, ws::CloseCode code,
                         absl::StatusCode status, bool throttled) noexcept {
  Conn& c = conns_[slot];
  Action a;
  a.type = ActionType::Down;
  a.id = c.id;
  a.cause = cause;
  a.code = code;
  a.status = status;
  const bool tell = c.opened && !c.down_sent;
  c.down_sent = true;
  Action handover;  // SwitchTo when a rotation's open candidate takes over
  if (slot == primary_) {
    primary_ = -1;
    rotation_requested_ = false;
    if (candidate_ >= 0) {
      // The rotation's new connection carries the session on.
      const int n = candidate_;
      candidate_ = -1;
      primary_ = hot_ = n;
      rotation_deadline_ = absl::InfiniteFuture();
      Conn& next = conns_[n];
      a.other = next.id;
      if (next.open()) {
        handover.type = ActionType::SwitchTo;
        handover.id = next.id;
        handover.other = c.id;
        rotation_at_ = next.opened_at + config_.max_connection_age;
        state_ = next.state == ConnectionState::Live ? SessionState::Live : SessionState::Connecting;
      } else {
        state_ = SessionState::Connecting;
      }
    } else if (state_ != SessionState::Stopping) {
      // How long it was useful: a stale connection stopped being useful at
      // its last frame, not when we noticed.
      const absl::Time until = is_stale(cause) ? c.last_inbound : now;
      const bool long_lived = c.opened && until - c.opened_at >= config_.stable_after;
      // Auth never confirmed: whatever its uptime, it never worked.
      const bool proven = c.opened && cause != DownCause::AuthTimeout && (c.proven || long_lived);
      schedule_reconnect(now, proven, long_lived, throttled);
      a.at = reconnect_at_;
    }
  } else if (slot == candidate_) {
    candidate_ = -1;
    rotation_deadline_ = absl::InfiniteFuture();
    rotation_at_ = now + config_.rotation_retry;
    if (state_ == SessionState::Rotating) state_ = SessionState::Live;
  } else if (cause == DownCause::Rotated && primary_ >= 0) {
    a.other = conns_[primary_].id;
  }
  if (tell) push(a);
  if (handover.type == ActionType::SwitchTo) push(handover);
}

void SessionPolicy::schedule_reconnect(absl::Time now, bool proven, bool long_lived, bool throttled) noexcept {
  absl::Duration delay;
  if (proven && !throttled) {
    streak_ = 0;
    delay = config_.immediate_first_retry && long_lived
                ? config_.backoff_initial * (config_.backoff_jitter * uniform())
                : config_.backoff_initial * (1.0 - config_.backoff_jitter * uniform());
  } else {
    if (streak_ < std::numeric_limits<std::uint32_t>::max()) ++streak_;
    delay = backoff_delay();
  }
  reconnect_at_ = now + delay;
  state_ = SessionState::Backoff;
}

absl::Duration SessionPolicy::backoff_delay() noexcept {
  const double initial = absl::ToDoubleSeconds(config_.backoff_initial);
  const double max = absl::ToDoubleSeconds(config_.backoff_max);
  // pow() of a large streak is inf, which min() caps.
  const double nominal = std::min(max, initial * std::pow(config_.backoff_multiplier, streak_ - 1.0));
  return absl::Seconds(nominal * (1.0 - config_.backoff_jitter * uniform()));
}

double SessionPolicy::uniform() noexcept {
  return static_cast<double>(splitmix64(rng_) >> 11) * 0x1.0p-53;
}

void SessionPolicy::update_live(int slot, absl::Time now) noexcept {
  Conn& c = conns_[slot];
  if (c.state != ConnectionState::Replaying || !c.replay_known) return;
  if (c.sent != c.queued || c.in_flight != 0) return;
  if (config_.wait_for_auth && c.auth > 0 && !c.auth_confirmed) return;
  c.state = ConnectionState::Live;
  if (slot == primary_ && state_ == SessionState::Connecting) state_ = SessionState::Live;
  if (slot == candidate_) maybe_switch(now);
}

void SessionPolicy::maybe_switch(absl::Time now) noexcept {
  if (candidate_ < 0 || primary_ < 0) return;
  Conn& next = conns_[candidate_];
  if (next.state != ConnectionState::Live || !next.saw_data) return;
  Conn& old = conns_[primary_];
  Action a;
  a.type = ActionType::SwitchTo;
  a.id = next.id;
  a.other = old.id;
  push(a);
  old.state = ConnectionState::Draining;
  old.drain_until = now + config_.rotation_drain;
  primary_ = hot_ = candidate_;
  candidate_ = -1;
  rotation_deadline_ = absl::InfiniteFuture();
  rotation_at_ = next.opened_at + config_.max_connection_age;
  state_ = SessionState::Live;
  force_poll();
}

void SessionPolicy::abandon_candidate(absl::Time now) noexcept {
  const int s = candidate_;
  Conn& c = conns_[s];
  if (c.state == ConnectionState::Connecting) {
    c.doomed = true;  // its on_open() answers false and closes it
    candidate_ = -1;
    rotation_deadline_ = absl::InfiniteFuture();
    rotation_at_ = now + config_.rotation_retry;
    if (state_ == SessionState::Rotating) state_ = SessionState::Live;
    return;
  }
  close(s, now, DownCause::RotationAbandoned, ws::CloseCode::Normal, kReasonRotationTimeout);
}

void SessionPolicy::check_stopped() noexcept {
  if (state_ != SessionState::Stopping) return;
  for (const Conn& c : conns_) {
    if (c.state != ConnectionState::Free) return;
  }
  state_ = SessionState::Stopped;
}

void SessionPolicy::push(const Action& a) noexcept {
  assert(queued_ < kQueue && "SessionPolicy action queue overflow");
  if (queued_ == kQueue) return;
  queue_[(head_ + queued_) % kQueue] = a;
  ++queued_;
}

ConnectionState SessionPolicy::connection_state(ConnectionId id) const noexcept {
  const int s = find(id);
  return s < 0 ? ConnectionState::Free : conns_[s].state;
}

ConnectionId SessionPolicy::current() const noexcept {
  if (primary_ < 0) return 0;
  const Conn& c = conns_[primary_];
  return c.state == ConnectionState::Replaying || c.state == ConnectionState::Live ? c.id : 0;
}

}  // namespace tern::session
