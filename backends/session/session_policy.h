// File: session_policy.h
//
// SessionPolicy is every decision of the resilient WebSocket session, as a
// sans-IO state machine: when to connect and reconnect (backoff with jitter
// that resets only once a connection has proved itself), heartbeats
// (protocol pings with a pong deadline, application pings), staleness,
// replay pacing and auth gating, and planned make-before-break rotation. It
// does no I/O, reads no clock, starts no thread and allocates nothing after
// create(): the driver (Session<B, Handler>, one coroutine over
// tern::Backend) feeds it events with the loop's monotonic `now` and
// executes what it says.
//
//   auto policy = tern::session::SessionPolicy::create({.max_replay_rate = 5});
//   policy->start(now);
//   for (;;) {
//     tern::session::Action a = policy->next_action(B::now(ctx));
//     if (a.type == ActionType::Stopped) break;
//     if (a.type == ActionType::Wait) { /* wait for a frame or a.at */ continue; }
//     execute(a);   // Connect, SendPing, SendAppPing, Replay, Close, SwitchTo, Down
//   }
//
// Connections are named by ConnectionId, handed out in increasing order by
// Connect actions (0 is never used). Every id the policy accepted with
// on_open() returning true gets exactly one Down action later, and no id
// gets one otherwise: the driver calls the handler's on_open/on_close from
// those, so the handler sees them strictly paired. After Down{id} the driver
// delivers nothing more from id.
//
// Time is the caller's: every event and next_action() take `now` from one
// monotonic clock (B::now), never decreasing. Jitter comes from a PRNG seeded
// by SessionConfig::seed, so the same config and events give the same
// actions. One thread: the policy belongs to the driver's loop.
#ifndef TERN_BACKENDS_SESSION_SESSION_POLICY_H_
#define TERN_BACKENDS_SESSION_SESSION_POLICY_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/ws/close_code.h"

namespace tern::session {

// Names one connection of a session; 0 is "none".
using ConnectionId = std::uint32_t;

// The most connections a session holds at once: the live one, a rotation
// candidate, and ones still finishing their close handshake.
inline constexpr std::size_t kMaxConnections = 4;

// Every field documents its default and why; docs/session.md has the table.
// validate() says which values are refused.
struct SessionConfig {
  // --- reconnect backoff ------------------------------------------------
  // The n-th consecutive attempt that did not prove itself is followed by a
  // delay d = min(backoff_max, backoff_initial * backoff_multiplier^(n-1)),
  // drawn uniformly from [d * (1 - backoff_jitter), d]. 1 s, x1.5, 30 s and
  // 0.5 are the seed's (defi-ws) values: x1.5 finds a venue that restarts
  // in a few seconds sooner than x2 does and still reaches the cap in nine
  // attempts (about a minute), after which a dead venue costs about three
  // attempts a minute, far under e.g. 300 connections per 5 min per IP.
  absl::Duration backoff_initial = absl::Seconds(1);
  double backoff_multiplier = 1.5;
  absl::Duration backoff_max = absl::Seconds(30);
  double backoff_jitter = 0.5;
  // After a connection that stayed up `stable_after` drops, reconnect at
  // once with jitter (uniform in [0, backoff_initial * backoff_jitter)), so
  // a venue that drops every client at once does not get them all back in
  // the same millisecond.
  bool immediate_first_retry = true;
  // A connection proves itself, and resets the backoff, by staying up this
  // long (reconnecting-websocket's 5 s) or, if reset_on_first_data, by
  // delivering its first data message. A handshake alone never does: a
  // server that accepts and then closes (auth rejected, rate limited) sees
  // growing delays.
  absl::Duration stable_after = absl::Seconds(5);
  bool reset_on_first_data = true;

  // --- heartbeats and staleness ------------------------------------------
  // A protocol Ping every ping_interval from the open (0: none); its Pong
  // must come within pong_timeout (0: no deadline), else the connection is
  // stale. 20 s / 20 s are Python websockets' defaults and match Binance's
  // 20 s server pings. A dead peer is detected within ping_interval +
  // pong_timeout of its last frame: 2x the heartbeat when pong_timeout <=
  // ping_interval.
  absl::Duration ping_interval = absl::Seconds(20);
  absl::Duration pong_timeout = absl::Seconds(20);
  // Application pings (text "ping" for OKX and the like): a SendAppPing
  // every app_ping_interval (0: off); if app_pong_timeout > 0, the handler's
  // reply must be reported with on_app_pong() within it.
  absl::Duration app_ping_interval = absl::ZeroDuration();
  absl::Duration app_pong_timeout = absl::ZeroDuration();
  // No inbound frame of any kind (data, Ping, Pong) for this long: stale.
  // 0: off, since pings already bound silence and a default shorter than a
  // quiet feed's gaps would close healthy connections. Set it a few times
  // the venue's own heartbeat (Kraken, Coinbase: 1 s) to detect sooner.
  absl::Duration max_silence = absl::ZeroDuration();

  // --- replay pacing -------------------------------------------------------
  // Paced messages (auth and subscriptions replayed on every connection)
  // go out at no more than max_replay_rate per second, replay_burst at
  // once (a GCRA: never more than burst + rate * t in any window t).
  // Binance allows 5 incoming messages/s per connection, pings included,
  // closed a client subscribing every 250 ms and kept one every 500 ms: 2/s
  // with no burst is the rate known to be kept. Venues take many streams per
  // subscribe message, so the replay is usually a few messages.
  // Infinity: unpaced.
  double max_replay_rate = 2.0;
  std::uint32_t replay_burst = 1;
  // Hold the messages after the auth ones until on_auth_confirmed(); a
  // venue that never confirms within auth_timeout (0: wait forever) has the
  // connection closed and retried as a failed attempt.
  bool wait_for_auth = false;
  absl::Duration auth_timeout = absl::Seconds(10);

  // --- planned rotation (make-before-break) --------------------------------
  // Rotate a connection this old (e.g. 23 h against a venue's 24 h cut);
  // infinite: only on request_rotation().
  absl::Duration max_connection_age = absl::InfiniteDuration();
  // The new connection must be fully replayed and deliver data within this
  // long of the rotation's start, else it is abandoned and the old one kept.
  absl::Duration rotation_timeout = absl::Seconds(30);
  // After the switch the old connection keeps delivering (tagged with its
  // id) for this long before it is closed, so a handler that drops
  // duplicates by sequence number loses nothing the old one had in flight.
  absl::Duration rotation_drain = absl::Seconds(1);
  // After an abandoned or failed rotation, try again this much later.
  absl::Duration rotation_retry = absl::Seconds(60);

  // Seeds the jitter.
  std::uint64_t seed = 0;
};

// OK, or InvalidArgument naming the first field out of range.
absl::Status validate(const SessionConfig& config);

enum class SessionState : std::uint8_t {
  Idle,        // before start()
  Connecting,  // an attempt is under way: connecting, or open and replaying
  Backoff,     // waiting to reconnect
  Live,        // the current connection is open and fully replayed
  Rotating,    // Live, with a replacement connecting or replaying
  Stopping,    // stop(): connections are closing
  Stopped,     // every connection closed
};
std::string_view name(SessionState state) noexcept;

enum class ConnectionState : std::uint8_t {
  Free,        // unknown id: never issued, or closed and forgotten
  Connecting,  // Connect issued; on_open or on_connect_failed to come
  Replaying,   // open; paced messages still to send (or auth to confirm)
  Live,        // open; everything replayed
  Draining,    // the old connection after a rotation's switch
  Closing,     // Close issued, or unwanted: on_closed to come
};
std::string_view name(ConnectionState state) noexcept;

// Why a connection the handler saw open is down.
enum class DownCause : std::uint8_t {
  PeerClosed,         // the peer's Close (Down::code), or a clean end
  Failed,             // transport, TLS or protocol failure (Down::status)
  PongTimeout,        // no Pong within pong_timeout
  AppPongTimeout,     // no application pong within app_pong_timeout
  Silent,             // no inbound frame for max_silence
  AuthTimeout,        // auth not confirmed within auth_timeout
  Rotated,            // replaced by a rotation: planned
  RotationAbandoned,  // a rotation's new connection did not take over in time
  Stopped,            // stop(): planned
};
std::string_view name(DownCause cause) noexcept;
// PongTimeout, AppPongTimeout or Silent.
constexpr bool is_stale(DownCause cause) noexcept {
  return cause == DownCause::PongTimeout || cause == DownCause::AppPongTimeout ||
         cause == DownCause::Silent;
}
// Rotated or Stopped: the session chose to end it.
constexpr bool is_planned(DownCause cause) noexcept {
  return cause == DownCause::Rotated || cause == DownCause::Stopped;
}

// How a connection or a connection attempt ended, as the driver saw it.
struct Ended {
  // The peer's Close code; Abnormal (1006) when none came.
  ws::CloseCode code = ws::CloseCode::Abnormal;
  // The transport's status: kOk for a clean close.
  absl::StatusCode status = absl::StatusCode::kOk;
  // A refused handshake's HTTP status (connect failures), else 0.
  int http_status = 0;
  // The server asks us to slow down: Close 1013, HTTP 429, 418 or 503.
  // Such an end never resets the backoff and never retries at once.
  constexpr bool throttled() const noexcept {
    return code == ws::CloseCode::TryAgainLater || http_status == 429 || http_status == 418 ||
           http_status == 503;
  }
};

enum class ActionType : std::uint8_t {
  Wait,         // nothing to do before `at` (InfiniteFuture: until an event)
  Connect,      // open connection `id`: B::connect_websocket, then on_open or
                // on_connect_failed
  SendPing,     // send a protocol Ping on `id` whose payload is `token`
                // (encode_ping_token); its Pong goes to on_pong()
  SendAppPing,  // have the handler write its application ping, send it on `id`
  Replay,       // send the next `count` paced messages of `id`, then
                // on_replay_sent(id, now, sent)
  Close,        // close `id` with `code` and `reason`, then on_closed()
  SwitchTo,     // rotation hand-over: the handler now reads from `id` (`other`
                // is the connection it leaves, which drains, then closes)
  Down,         // tell the handler `id` is down: `cause`, `code`, `status`;
                // `at` is the next connect attempt (InfiniteFuture: none
                // needed), `other` the connection already replacing it
  Stopped,      // stop() is complete: every connection is closed
};
std::string_view name(ActionType type) noexcept;

// One decision. Which fields are meaningful depends on `type` (above).
struct Action {
  ActionType type = ActionType::Wait;
  DownCause cause = DownCause::PeerClosed;     // Down
  ws::CloseCode code = ws::CloseCode::Normal;  // Close, Down
  ConnectionId id = 0;
  ConnectionId other = 0;                          // SwitchTo, Down
  std::uint32_t count = 0;                         // Replay
  absl::StatusCode status = absl::StatusCode::kOk;  // Down
  std::uint64_t token = 0;                         // SendPing
  std::string_view reason;                         // Close: static text
  absl::Time at = absl::InfiniteFuture();          // Wait, Down
};

// The 8-byte Ping payload that carries a SendPing token (little-endian),
// and back: nullopt for any other payload.
inline void encode_ping_token(std::uint64_t token, std::span<std::uint8_t, 8> out) noexcept {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(token >> (8 * i));
}
inline std::optional<std::uint64_t> decode_ping_token(std::span<const std::uint8_t> payload) noexcept {
  if (payload.size() != 8) return std::nullopt;
  std::uint64_t token = 0;
  for (int i = 0; i < 8; ++i) token |= std::uint64_t{payload[i]} << (8 * i);
  return token;
}

// SessionPolicy: see the file comment. Copyable and movable (plain state);
// a copy replays identically, which tests use.
class SessionPolicy {
 public:
  // InvalidArgument if validate(config) refuses it.
  static absl::StatusOr<SessionPolicy> create(const SessionConfig& config);

  // --- the session ----------------------------------------------------------
  // From Idle or Stopped: connect now. Otherwise nothing.
  void start(absl::Time now) noexcept;
  // Closes every connection (Close + Down for each open one) and connects no
  // more; next_action() says Stopped once every on_closed() is in.
  void stop(absl::Time now) noexcept;
  // Make-before-break rotation as soon as the current connection is Live.
  // False when there is no current connection to rotate (one is coming).
  bool request_rotation(absl::Time now) noexcept;

  // --- connection lifecycle --------------------------------------------------
  // Connect{id} succeeded. True: the driver calls the handler's on_open,
  // which queues its paced messages, then on_replay_queued(). False: the
  // policy no longer wants it (stop, abandoned rotation): a Close follows,
  // the handler is not told, and no Down will come for it.
  [[nodiscard]] bool on_open(ConnectionId id, absl::Time now) noexcept;
  // Connect{id} failed (resolution, TCP, TLS, handshake: `why`).
  void on_connect_failed(ConnectionId id, absl::Time now, const Ended& why) noexcept;
  // The connection is finished: after our Close, or on its own (peer Close,
  // transport failure). Down follows if the handler has not been told.
  void on_closed(ConnectionId id, absl::Time now, const Ended& why) noexcept;

  // --- replay and auth ---------------------------------------------------------
  // `messages` more paced messages are queued for id; the first
  // `auth_messages` of them authenticate (they go before the wait_for_auth
  // gate). Call it after the handler's on_open even with 0 (the connection
  // is Replaying until then), and later for runtime subscriptions.
  void on_replay_queued(ConnectionId id, absl::Time now, std::uint32_t messages,
                        std::uint32_t auth_messages = 0) noexcept;
  // `sent` of the last Replay's messages went out (fewer if a send failed).
  void on_replay_sent(ConnectionId id, absl::Time now, std::uint32_t sent) noexcept;
  // The handler saw the venue accept its auth.
  void on_auth_confirmed(ConnectionId id, absl::Time now) noexcept;

  // --- inbound frames: each counts for staleness ------------------------------
  // A Text or Binary message. is_data: the handler counts it as the feed's
  // data (not an ack, an error or the venue's heartbeat); the first one
  // proves the connection (reset_on_first_data) and lets a rotation switch.
  void on_message(ConnectionId id, absl::Time now, bool is_data = true) noexcept {
    Conn& c = conns_[hot_];
    if (ABSL_PREDICT_FALSE(c.id != id || !c.open())) {
      on_message_elsewhere(id, now, is_data);
      return;
    }
    c.last_inbound = now;
    if (ABSL_PREDICT_FALSE(is_data && !c.saw_data)) first_data(hot_, now);
  }
  // A Ping from the server (the core already answered it).
  void on_ping_from_server(ConnectionId id, absl::Time now) noexcept { on_message(id, now, false); }
  // A Pong; the RTT if it answers this connection's outstanding SendPing.
  std::optional<absl::Duration> on_pong(ConnectionId id, absl::Time now,
                                        std::span<const std::uint8_t> payload) noexcept;
  // The handler recognised the venue's answer to SendAppPing (it also went
  // to on_message). The RTT if an application ping was outstanding.
  std::optional<absl::Duration> on_app_pong(ConnectionId id, absl::Time now) noexcept;

  // --- decisions -----------------------------------------------------------------
  // The next thing to do; Wait{at} when nothing is due before `at`. Call it
  // after every event and whenever a Wait's `at` arrives, until it says
  // Wait (or Stopped). In the steady state (nothing due) this is a compare.
  Action next_action(absl::Time now) noexcept {
    if (ABSL_PREDICT_TRUE(queued_ == 0 && now < wake_)) {
      Action a;
      a.at = wake_;
      return a;
    }
    return next_action_slow(now);
  }
  // When next_action() must next be called (absent events): never later
  // than the first deadline, sometimes earlier (a silence deadline moved by
  // new frames is re-checked then). InfinitePast: now.
  absl::Time next_deadline() const noexcept { return queued_ != 0 ? absl::InfinitePast() : wake_; }

  // --- state ---------------------------------------------------------------
  SessionState state() const noexcept { return state_; }
  ConnectionState connection_state(ConnectionId id) const noexcept;
  // The connection the handler reads from (open), or 0.
  ConnectionId current() const noexcept;
  // Consecutive attempts that did not prove themselves (the backoff
  // exponent); 0 after a connection proved itself.
  std::uint32_t failures() const noexcept { return streak_; }
  const SessionConfig& config() const noexcept { return config_; }

 private:
  // One connection's state. Deadlines are InfiniteFuture when unarmed.
  struct Conn {
    ConnectionId id = 0;
    ConnectionState state = ConnectionState::Free;
    bool doomed = false;     // Connecting, no longer wanted: close on open
    bool opened = false;     // on_open() accepted it: a Down is owed
    bool down_sent = false;  // the Down went out
    bool saw_data = false;   // delivered a data message
    bool proven = false;     // proved itself by data (stable_after: see uptime)
    bool auth_confirmed = false;
    bool replay_known = false;  // on_replay_queued() was called
    absl::Time opened_at;
    absl::Time last_inbound;
    // Heartbeats.
    absl::Time next_ping_at = absl::InfiniteFuture();
    absl::Time pong_deadline = absl::InfiniteFuture();
    absl::Time ping_sent_at;
    std::uint64_t ping_token = 0;  // outstanding; 0: none
    absl::Time next_app_ping_at = absl::InfiniteFuture();
    absl::Time app_pong_deadline = absl::InfiniteFuture();
    absl::Time app_ping_sent_at = absl::InfiniteFuture();  // outstanding if finite
    // Replay: queued >= sent + in_flight.
    std::uint32_t queued = 0;
    std::uint32_t sent = 0;
    std::uint32_t in_flight = 0;  // granted by a Replay, not yet reported
    std::uint32_t auth = 0;       // the first `auth` queued messages authenticate
    absl::Time tat;               // GCRA theoretical arrival time
    absl::Time auth_deadline = absl::InfiniteFuture();
    absl::Time drain_until = absl::InfiniteFuture();

    bool open() const noexcept {
      return state == ConnectionState::Replaying || state == ConnectionState::Live ||
             state == ConnectionState::Draining;
    }
  };

  explicit SessionPolicy(const SessionConfig& config) noexcept;

  Action next_action_slow(absl::Time now) noexcept;
  void on_message_elsewhere(ConnectionId id, absl::Time now, bool is_data) noexcept;
  void first_data(int slot, absl::Time now) noexcept;

  // Runs every due timer (pushing actions) and recomputes wake_.
  void poll(absl::Time now) noexcept;
  void poll_connection(int slot, absl::Time now, absl::Time& wake) noexcept;
  void poll_session(absl::Time now, absl::Time& wake) noexcept;

  int find(ConnectionId id) const noexcept;
  int free_slot() const noexcept;
  void connect(int slot, absl::Time now) noexcept;
  void release(int slot) noexcept;
  // Close{id} (+ Down) for an open connection.
  void close(int slot, absl::Time now, DownCause cause, ws::CloseCode code, std::string_view reason) noexcept;
  // Tells the handler (once) and draws the session's consequences.
  void down(int slot, absl::Time now, DownCause cause, ws::CloseCode code, absl::StatusCode status,
            bool throttled) noexcept;
  // The primary attempt or connection is gone: schedule the reconnect.
  void schedule_reconnect(absl::Time now, bool proven, bool long_lived, bool throttled) noexcept;
  void update_live(int slot, absl::Time now) noexcept;
  void maybe_switch(absl::Time now) noexcept;
  void abandon_candidate(absl::Time now) noexcept;
  void check_stopped() noexcept;

  absl::Duration backoff_delay() noexcept;
  double uniform() noexcept;  // [0, 1)
  void push(const Action& a) noexcept;
  void force_poll() noexcept { wake_ = absl::InfinitePast(); }

  SessionConfig config_;
  absl::Duration replay_interval_;  // 1 / max_replay_rate; zero: unpaced
  absl::Duration replay_tolerance_;  // (replay_burst - 1) * replay_interval_
  SessionState state_ = SessionState::Idle;
  int primary_ = -1;    // the slot carrying the session (attempt or current)
  int candidate_ = -1;  // a rotation's new connection
  int hot_ = 0;         // on_message's first guess: the primary's slot
  std::uint32_t streak_ = 0;
  ConnectionId next_id_ = 1;
  std::uint64_t next_token_ = 1;
  std::uint64_t rng_;
  bool rotation_requested_ = false;
  absl::Time reconnect_at_ = absl::InfiniteFuture();
  absl::Time rotation_at_ = absl::InfiniteFuture();
  absl::Time rotation_deadline_ = absl::InfiniteFuture();
  // next_action() does nothing but compare before this.
  absl::Time wake_ = absl::InfiniteFuture();
  std::array<Conn, kMaxConnections> conns_{};
  // Actions decided but not yet taken, oldest first. A poll runs only on an
  // empty queue and pushes at most three per connection; events add at most
  // a Close and a Down per connection and a SwitchTo: 32 never fills.
  static constexpr std::size_t kQueue = 32;
  std::array<Action, kQueue> queue_{};
  std::uint32_t head_ = 0;
  std::uint32_t queued_ = 0;
};

}  // namespace tern::session

#endif  // TERN_BACKENDS_SESSION_SESSION_POLICY_H_
