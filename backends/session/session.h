// File: session.h
//
// Session<B, Handler> is the resilient WebSocket client: one feed kept up
// for weeks over any tern backend B (posix, epoll, Asio). It executes what
// SessionPolicy decides (connect and reconnect with backoff, pings and
// staleness, paced replay of auth and subscriptions, make-before-break
// rotation), records Health, and calls the handler, which owns the venue's
// state and writes its messages into Outboxes the session allocated at
// construction, so the steady state allocates nothing, replay included.
//
//   struct MyVenue {
//     void on_open(tern::session::Out& out, tern::session::ConnectionId id) {
//       (void)out.add_text(R"({"op":"login",...})", /*auth=*/true);
//       for (const auto& s : symbols) (void)out.add_text(subscribe(s));
//     }
//     bool on_message(const tern::ws::Message& m, tern::session::ConnectionId id,
//                     tern::session::Out& reply) {
//       return book.apply(m.text(), id);          // true: it was data
//     }
//     void on_close(const tern::session::Down& why) { book.mark_stale(); }
//   };
//   MyVenue venue;
//   tern::session::Session<tern::epoll::Backend, MyVenue> s(loop, "wss://stream.venue/ws", venue, {});
//   co_await s.run();                 // until s.stop(); or B::spawn it
//
// The handler (the SessionHandler concept below) sees on_open(id) and
// on_close(id) strictly paired, nothing from a connection after its
// on_close, and every message tagged with the id of the connection it came
// from: during a rotation two connections deliver at once, so a handler
// that drops duplicates by sequence number loses nothing.
//
// How it runs, per kind of backend (docs/session.md has the details):
//   event loops (epoll, Asio): run() is the control coroutine; each
//     connection has one task that connects, reads, and closes it. Events
//     are handled inline by the task that saw them; timers by the control
//     coroutine, and by short sleeper tasks when an event moves the next
//     deadline earlier (the Backend concept has no wakeable timer). The
//     control coroutine naps at most kMaxNap, so run() returns within that
//     of the session stopping.
//   posix (blocking): run() is a loop in the calling thread that waits in
//     poll(2) on every open connection (two during a rotation) with the
//     policy's next deadline as the timeout; connects and close handshakes
//     run in helper threads (B::spawn) so the loop never blocks on them.
//
// Threads: health() from any thread. On posix, stop() and
// request_rotation() from any thread too (the loop picks them up); every
// other call belongs to the thread running run() (on event loops, the
// loop's thread; on posix, handler callbacks). The session must outlive
// run() and every task it started: destroy it after run() has returned (or
// after the event loop itself is gone).
#ifndef TERN_BACKENDS_SESSION_SESSION_H_
#define TERN_BACKENDS_SESSION_SESSION_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backends/backend.h"
#include "backends/options.h"
#include "backends/session/health.h"
#include "backends/session/outbox.h"
#include "backends/session/session_policy.h"
#include "backends/session/wakeup.h"
#include "backends/status.h"
#include "core/ws/close_code.h"
#include "core/ws/frame.h"
#include "core/ws/frame_reader.h"

namespace tern::session {

// What the handler writes into: an Outbox (add_text(), add_binary(),
// spare() + commit()) that also carries requests to the session.
//   on_open(out, id)       the connection's replay: auth (marked auth=true,
//                          first) then subscriptions, paced by the policy
//                          and kept until the connection ends;
//   on_message(m, id, out) replies sent on that connection as soon as the
//                          call returns (unpaced), all in one flush;
//   app_ping(out)          the application ping, sent at once.
class Out : public Outbox {
 public:
  explicit Out(std::size_t capacity = 0) : Outbox(capacity) {}

  // From on_message: the sequence-gap hook. The session starts a
  // make-before-break rotation once the call returns: a fresh connection
  // replays the subscriptions (a venue sends a fresh snapshot), the handler
  // switches over when it delivers data, and the old one keeps delivering
  // until then, so the feed has no hole while it resyncs.
  void request_resync() noexcept { resync_ = true; }
  bool resync_requested() const noexcept { return resync_; }

 private:
  template <Backend, class>
  friend class Session;
  bool resync_ = false;
};

// Why a connection the handler saw open is down: what on_close() gets.
struct Down {
  ConnectionId id = 0;
  DownCause cause = DownCause::PeerClosed;
  // The peer's Close code (Abnormal when none came), or the code the
  // session closed with (1000 planned, 1011 stale or auth timeout).
  ws::CloseCode code = ws::CloseCode::Abnormal;
  // kOk for a clean end; else the transport's or, for timeouts the session
  // decided, kDeadlineExceeded.
  absl::StatusCode status = absl::StatusCode::kOk;
  // The peer's close reason, the failure's message, or why the session
  // closed it; valid during on_close().
  std::string_view detail;
  // The next connect attempt (InfiniteFuture: none needed: stop, rotation,
  // or replaced_by already carries the session).
  absl::Time reconnect_at = absl::InfiniteFuture();
  // The rotation's connection taking over from this one, else 0.
  ConnectionId replaced_by = 0;
};

// The handler: required members. Optional ones, used when present:
//   void on_switch(ConnectionId from, ConnectionId to)   rotation hand-over
//   void app_ping(Out& out)          writes the venue's text ping; required
//                                    when SessionConfig::app_ping_interval > 0
//   bool is_app_pong(const ws::Message& m)   its answer (then not passed to
//                                    on_message; asked only while one is due)
//   bool is_auth_confirmed(const ws::Message& m)   the venue accepted the
//                                    auth (wait_for_auth; asked only while
//                                    waiting; the message still goes to
//                                    on_message)
// on_message returns whether the message was the feed's data (not an ack,
// an error or the venue's heartbeat): data proves a connection (resets the
// backoff) and lets a rotation switch.
template <typename H>
concept SessionHandler = requires(H& h, Out& out, const ws::Message& m, ConnectionId id, const Down& down) {
  h.on_open(out, id);
  { h.on_message(m, id, out) } -> std::convertible_to<bool>;
  h.on_close(down);
};

namespace session_detail {
template <typename H>
concept HasSwitch = requires(H& h, ConnectionId id) { h.on_switch(id, id); };
template <typename H>
concept HasAppPing = requires(H& h, Out& out) { h.app_ping(out); };
template <typename H>
concept HasAppPong = requires(H& h, const ws::Message& m) {
  { h.is_app_pong(m) } -> std::convertible_to<bool>;
};
template <typename H>
concept HasAuthConfirmed = requires(H& h, const ws::Message& m) {
  { h.is_auth_confirmed(m) } -> std::convertible_to<bool>;
};

// A status's message (Debian's Abseil has its own string_view).
inline std::string_view text_of(const absl::Status& status) noexcept {
  return {status.message().data(), status.message().size()};
}
// An Ended from a failed operation's status (a refused upgrade's HTTP
// status included).
Ended ended_by(const absl::Status& status);
// The posix read timeout a session sets when the caller left it infinite:
// a peer stalled in the middle of a frame is then stale no later than the
// policy would call a silent one (see Session's constructor).
absl::Duration stall_bound(const SessionConfig& config);
}  // namespace session_detail

struct SessionOptions {
  // Every connection's options. tls == nullptr: wss:// servers are
  // verified against the system trust store (verification is never off by
  // default).
  WebSocketOptions ws;
  SessionConfig policy;
  // Bytes of each connection's replay Out: what on_open() writes plus
  // paced messages sent on that connection later (send_text(..., Paced)).
  std::size_t replay_capacity = 16u << 10;
  // Bytes of the Out on_message() and app_ping() write their replies into.
  std::size_t reply_capacity = 4u << 10;
};

enum class Pacing : std::uint8_t {
  Immediate,  // sent at once on the current connection
  Paced,      // behind the replay, at the policy's max_replay_rate
};

// Session: see the file comment. Neither copyable nor movable (tasks and
// Health readers hold its address).
template <Backend B, class Handler>
class Session {
  static_assert(SessionHandler<Handler>,
                "Handler needs on_open(Out&, ConnectionId), bool on_message(const ws::Message&, ConnectionId, "
                "Out&) and on_close(const Down&)");

 public:
  using Options = SessionOptions;
  using Context = typename B::Context;
  template <typename T>
  using Task = typename B::template Task<T>;

  // The longest the control coroutine sleeps at once (event loops): run()
  // returns within this of the session stopping; idle, a session wakes this
  // often to look at the clock.
  static constexpr absl::Duration kMaxNap = absl::Milliseconds(100);

  // A bad options.policy (validate()) or a missing app_ping() makes run()
  // return InvalidArgument at once.
  Session(Context& ctx, std::string url, Handler& handler, Options options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Starts the session and runs it until stop() has closed every
  // connection. OK then; InvalidArgument for a bad config; the context's
  // error (kCancelled) if it stops under the session. May be run again
  // after it returned.
  Task<absl::Status> run();
  // Closes every connection (Close 1000, the handler's on_close for each)
  // and makes run() return. No-op when not running.
  void stop();
  // Make-before-break rotation as soon as the current connection is Live;
  // false when there is none to rotate (posix: queued for the loop, true).
  bool request_rotation();
  // Health figures; any thread.
  HealthSnapshot health() const noexcept { return health_.snapshot(); }
  // A runtime message on the current connection: Immediate, or Paced
  // behind the replay (counted against max_replay_rate, e.g. a new
  // subscription). FailedPrecondition without a current connection;
  // ResourceExhausted when the Out or the write buffer has no room.
  absl::Status send_text(std::string_view text, Pacing pacing = Pacing::Immediate);
  absl::Status send_binary(std::span<const std::uint8_t> bytes, Pacing pacing = Pacing::Immediate);

  SessionState state() const noexcept { return policy_ ? policy_->state() : SessionState::Idle; }
  // The connection the handler reads from (open), or 0.
  ConnectionId current() const noexcept { return policy_ ? policy_->current() : 0; }
  const std::string& url() const noexcept { return url_; }

 private:
  using WebSocket = typename B::WebSocket;
  static constexpr int kSlots = static_cast<int>(kMaxConnections);
  // Messages read from one connection before the posix loop looks at its
  // timers and the other connections.
  static constexpr int kReadBatch = 64;
  // Data messages read back to back that share one clock reading (event
  // loops; see message_time()).
  static constexpr std::uint32_t kClockBatch = 64;

  // One connection (or connection attempt) of the session.
  struct Conn {
    ConnectionId id = 0;
    bool active = false;  // holds, or is getting, a connection
    // Two places, taken in turn: a connection never has the address of the
    // one before it in this slot (Faulty<B> and logs tell connections apart
    // by address).
    std::array<std::optional<WebSocket>, 2> places;
    std::uint8_t place = 0;
    Out replay;
    Outbox::Iterator next;      // the next paced record of `replay`
    bool down = false;          // the handler was told: deliver nothing more
    bool awaiting_auth = false;  // wait_for_auth: is_auth_confirmed() is asked
    bool app_ping_out = false;   // is_app_pong() is asked
    // Writing: one coroutine at a time flushes (`writing`); others queue
    // frames and set `dirty` or `ping_pending` for it.
    bool writing = false;
    bool dirty = false;
    bool ping_pending = false;
    std::uint8_t ping_len = 0;
    std::array<std::uint8_t, 8> ping_payload{};
    // Ending (event loops): a Close action sets `closing` and the reader
    // runs the handshake; a reader parked in recv() is woken by a Ping the
    // peer answers, or after kill_at by destroying the connection under it
    // (`killed`). A failed send sets `failed`: no handshake.
    bool reading = false;
    bool closing = false;
    bool failed = false;
    bool killed = false;
    ws::CloseCode close_code = ws::CloseCode::Normal;
    std::string_view close_reason;  // the policy's static text
    absl::Time kill_at = absl::InfiniteFuture();
    // How it ended (first wins), for on_closed() and the Down's detail.
    bool ended_set = false;
    Ended ended;
    std::size_t detail_len = 0;
    std::array<char, 96> detail{};
    // posix: a helper thread's connect result, under mailbox_mu_.
    std::optional<absl::StatusOr<WebSocket>> connected;
    // Data messages not yet in Health: one record per clock reading.
    std::uint64_t pending_messages = 0;
    std::uint64_t pending_bytes = 0;
    absl::Time pending_at;

    std::optional<WebSocket>& ws() noexcept { return places[place]; }
    std::string_view detail_text() const noexcept { return {detail.data(), detail_len}; }
  };

  // An event-loop task's claim on the session, from the moment it is
  // spawned until its frame is destroyed (finished, or destroyed unstarted
  // by a loop going away): a parameter of the task, so it lives in the
  // frame. run() returns, and the session may go, only when none is left.
  class Ticket {
   public:
    explicit Ticket(Session* s) noexcept : s_(s) { ++s_->tasks_; }
    Ticket(Ticket&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() {
      if (s_ != nullptr) --s_->tasks_;
    }
    Session* session() const noexcept { return s_; }

   private:
    Session* s_;
  };
  struct CallbackScope {
    explicit CallbackScope(int& depth) noexcept : depth(depth) { ++depth; }
    CallbackScope(const CallbackScope&) = delete;
    ~CallbackScope() { --depth; }
    int& depth;
  };

  // --- shared by every backend ------------------------------------------------
  int slot_of(const Conn& c) const noexcept { return static_cast<int>(&c - conns_.data()); }
  Conn* find(ConnectionId id) noexcept;
  // Open and writable: not closing, failed or gone.
  Conn* find_open(ConnectionId id) noexcept;
  void reset(Conn& c, ConnectionId id) noexcept;
  void record_end(Conn& c, const Ended& e, std::string_view detail) noexcept;

  // Runs every action the policy has due (handler callbacks included).
  void run_actions(absl::Time now);
  void execute(const Action& a, absl::Time now);
  void start_connect(ConnectionId id, absl::Time now);
  void replay(const Action& a, absl::Time now);
  void send_app_ping(ConnectionId id, absl::Time now);
  void close_connection(const Action& a, absl::Time now);
  void report_down(const Action& a, absl::Time now);

  // A connect finished.
  void connect_failed(Conn& c, const absl::Status& status, absl::Time now);
  void opened(Conn& c, absl::Time now);
  // One frame from c; false when it ended the connection (the peer's Close).
  bool on_frame(Conn& c, const ws::Message& m, absl::Time now);
  bool on_frame_slow(Conn& c, const ws::Message& m, absl::Time now);
  bool on_control(Conn& c, const ws::Message& m, absl::Time now);
  // is_app_pong / is_auth_confirmed; true if the message is consumed.
  bool special_message(Conn& c, const ws::Message& m, absl::Time now);
  // Queues what the handler wrote into reply_ on c.
  void send_replies(Conn& c, absl::Time now);
  absl::Status queue_record(Conn& c, Outbox::Kind kind, std::span<const std::uint8_t> bytes);
  absl::Status send_runtime(Outbox::Kind kind, std::span<const std::uint8_t> bytes, Pacing pacing);
  // The time of a data message: event loops read the clock once for up to
  // kClockBatch messages read back to back, and again whenever any other
  // session code has run in between (`epoch_`; the control coroutine runs
  // at least every kMaxNap), so a message's time is at most that old.
  absl::Time message_time() noexcept {
    if (ABSL_PREDICT_FALSE(clock_left_ == 0 || clock_epoch_ != epoch_)) {
      clock_ = B::now(ctx_);
      clock_left_ = kClockBatch;
      clock_epoch_ = epoch_;
    }
    --clock_left_;
    return clock_;
  }
  // Data messages go into Health once per clock reading.
  void count_in(Conn& c, absl::Time now, std::size_t bytes) noexcept {
    if (ABSL_PREDICT_FALSE(c.pending_at != now) && c.pending_messages != 0) flush_health(c);
    c.pending_at = now;
    ++c.pending_messages;
    c.pending_bytes += bytes;
  }
  void flush_health(Conn& c) noexcept {
    if (c.pending_messages == 0) return;
    health_.on_messages_in(c.id, c.pending_at, c.pending_messages, c.pending_bytes);
    c.pending_messages = c.pending_bytes = 0;
  }
  void flush_health() noexcept {
    for (Conn& c : conns_) flush_health(c);
  }
  void want_pump(Conn& c) noexcept {
    c.dirty = true;
    pumps_wanted_ |= 1u << slot_of(c);
  }
  // A send on c failed: it ends without a handshake.
  void fail(Conn& c, const absl::Status& status);
  // The connection is over: forget it, tell Health and the policy.
  void finish(Conn& c, absl::Time now);

  // After an event: the actions, the writes they queued, the next wake-up.
  Task<absl::Status> after_event(absl::Time now);
  // The one writer of slot s while it runs.
  Task<absl::Status> pump(int s, ConnectionId id);
  // From a plain call (stop(), send_text()): actions and writes, spawned
  // on event loops, inline on posix.
  void act_now();
  Task<absl::Status> pumps_task(Ticket ticket);

  // --- event loops ----------------------------------------------------------------
  Task<absl::Status> run_events();
  Task<absl::Status> connection_task(Ticket ticket, int s, ConnectionId id);
  Task<absl::Status> sleeper(Ticket ticket, std::int64_t unix_ns);
  // Makes sure something wakes at `at` (a sleeper if nothing does sooner).
  void arm(absl::Time at);
  absl::Time next_wake() const noexcept;
  void kill_overdue(absl::Time now);
  void kill(Conn& c);

  // --- posix ----------------------------------------------------------------------
  Task<absl::Status> run_blocking();
  Task<absl::Status> connect_blocking(int s, ConnectionId id);
  static Task<absl::Status> close_detached(WebSocket ws, ws::CloseCode code, std::string reason);
  Task<absl::Status> read_batch(int s, absl::Time now);
  // `woken`: the wake-up fd was readable.
  void take_requests(absl::Time now, bool woken);

  Context& ctx_;
  const std::string url_;
  Handler& handler_;
  Options options_;
  absl::Status config_status_;
  std::optional<SessionPolicy> policy_;
  Health health_;
  std::array<Conn, kMaxConnections> conns_;
  Out reply_;
  std::uint32_t pumps_wanted_ = 0;
  // message_time()'s cached reading; epoch_ counts runs of session code
  // other than the readers' steady state.
  absl::Time clock_;
  std::uint32_t clock_left_ = 0;
  std::uint32_t epoch_ = 0;
  std::uint32_t clock_epoch_ = 0;
  bool in_actions_ = false;
  int callbacks_ = 0;  // handler callbacks on the stack
  bool running_ = false;
  bool stopped_ = false;
  // Event loops: tasks alive, and when the control coroutine and the
  // earliest sleeper wake (InfinitePast while the control coroutine is
  // awake: it looks at the deadline itself before sleeping).
  int tasks_ = 0;
  absl::Time control_at_ = absl::InfiniteFuture();
  absl::Time sleeper_at_ = absl::InfiniteFuture();
  absl::Time armed_at_ = absl::InfiniteFuture();
  // posix: connects in flight in helper threads (the loop's count), their
  // results (Conn::connected, under mailbox_mu_), requests from other
  // threads.
  std::mutex mailbox_mu_;
  detail::Wakeup wakeup_;
  int connects_ = 0;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> rotation_requested_{false};
};

// --- implementation -------------------------------------------------------------------

template <Backend B, class Handler>
Session<B, Handler>::Session(Context& ctx, std::string url, Handler& handler, Options options)
    : ctx_(ctx), url_(std::move(url)), handler_(handler), options_(std::move(options)), reply_(options_.reply_capacity) {
  absl::StatusOr<SessionPolicy> policy = SessionPolicy::create(options_.policy);
  if (!policy.ok()) {
    config_status_ = policy.status();
  } else {
    policy_.emplace(*std::move(policy));
  }
  if (!options_.ws.auto_pong) {
    // The server's pings are answered by the core's auto-pong; a session
    // that left them unanswered would be cut as stale by the venue.
    config_status_ = absl::InvalidArgumentError("SessionOptions.ws.auto_pong must stay on: it answers the server's pings");
  }
  if (options_.policy.app_ping_interval > absl::ZeroDuration() && !session_detail::HasAppPing<Handler>) {
    config_status_ = absl::InvalidArgumentError("SessionConfig.app_ping_interval needs a handler with app_ping(Out&)");
  }
  for (Conn& c : conns_) {
    c.replay = Out(options_.replay_capacity);
    c.next = c.replay.begin();
  }
  if constexpr (B::kBlocking) {
    // recv() is called only once poll(2) saw bytes; a peer that stops in
    // the middle of a frame is then caught by the read timeout, which a
    // blocking read cannot otherwise have.
    if (options_.ws.socket.read_timeout == absl::InfiniteDuration()) {
      options_.ws.socket.read_timeout = session_detail::stall_bound(options_.policy);
    }
    if (config_status_.ok() && !wakeup_.open()) config_status_ = absl::ResourceExhaustedError("eventfd failed");
  }
}

template <Backend B, class Handler>
Session<B, Handler>::~Session() {
  // A task or helper thread still holding this would touch freed memory:
  // fail loudly instead (stop() and let run() return first).
  if (running_ || tasks_ != 0 || connects_ != 0) std::abort();
}

// --- the public calls ----------------------------------------------------------------

template <Backend B, class Handler>
auto Session<B, Handler>::run() -> Task<absl::Status> {
  if (!config_status_.ok()) co_return config_status_;
  if (running_) co_return absl::FailedPreconditionError("session already running");
  if constexpr (B::kBlocking) {
    co_return co_await run_blocking();
  } else {
    co_return co_await run_events();
  }
}

template <Backend B, class Handler>
void Session<B, Handler>::stop() {
  if constexpr (B::kBlocking) {
    stop_requested_.store(true);
    wakeup_.signal();
  } else {
    if (!running_ || !policy_) return;
    policy_->stop(B::now(ctx_));
    // From a handler callback the caller's own flow runs the actions next.
    if (callbacks_ == 0) act_now();
  }
}

template <Backend B, class Handler>
bool Session<B, Handler>::request_rotation() {
  if constexpr (B::kBlocking) {
    if (!policy_) return false;
    rotation_requested_.store(true);
    wakeup_.signal();
    return true;
  } else {
    if (!running_ || !policy_) return false;
    const bool ok = policy_->request_rotation(B::now(ctx_));
    if (callbacks_ == 0) act_now();
    return ok;
  }
}

template <Backend B, class Handler>
absl::Status Session<B, Handler>::send_text(std::string_view text, Pacing pacing) {
  return send_runtime(Outbox::Kind::Text, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, pacing);
}

template <Backend B, class Handler>
absl::Status Session<B, Handler>::send_binary(std::span<const std::uint8_t> bytes, Pacing pacing) {
  return send_runtime(Outbox::Kind::Binary, bytes, pacing);
}

template <Backend B, class Handler>
absl::Status Session<B, Handler>::send_runtime(Outbox::Kind kind, std::span<const std::uint8_t> bytes,
                                               Pacing pacing) {
  if (!policy_) return config_status_;
  const ConnectionId id = policy_->current();
  Conn* c = find_open(id);
  if (c == nullptr) return absl::FailedPreconditionError("no current connection");
  const absl::Time now = B::now(ctx_);
  if (pacing == Pacing::Paced) {
    const bool added = kind == Outbox::Kind::Text
                           ? c->replay.add_text({reinterpret_cast<const char*>(bytes.data()), bytes.size()})
                           : c->replay.add_binary(bytes);
    if (!added) return absl::ResourceExhaustedError("the connection's replay Out is full");
    policy_->on_replay_queued(id, now, 1);
  } else {
    if (absl::Status st = queue_record(*c, kind, bytes); !st.ok()) return st;
    want_pump(*c);
  }
  if (callbacks_ == 0) act_now();
  return absl::OkStatus();
}

// --- shared pieces -----------------------------------------------------------------

template <Backend B, class Handler>
auto Session<B, Handler>::find(ConnectionId id) noexcept -> Conn* {
  for (Conn& c : conns_) {
    if (c.id == id && id != 0) return &c;
  }
  return nullptr;
}

template <Backend B, class Handler>
auto Session<B, Handler>::find_open(ConnectionId id) noexcept -> Conn* {
  Conn* c = find(id);
  if (c == nullptr || !c->active || !c->ws().has_value() || c->closing || c->failed || c->killed) return nullptr;
  return c;
}

template <Backend B, class Handler>
void Session<B, Handler>::reset(Conn& c, ConnectionId id) noexcept {
  c.id = id;
  c.active = true;
  c.ws().reset();
  c.place ^= 1;
  c.replay.clear();
  c.replay.resync_ = false;
  c.next = c.replay.begin();
  c.down = c.awaiting_auth = c.app_ping_out = false;
  c.writing = c.dirty = c.ping_pending = false;
  c.reading = c.closing = c.failed = c.killed = false;
  c.close_code = ws::CloseCode::Normal;
  c.close_reason = {};
  c.kill_at = absl::InfiniteFuture();
  c.ended_set = false;
  c.ended = Ended{};
  c.detail_len = 0;
  c.connected.reset();
}

template <Backend B, class Handler>
void Session<B, Handler>::record_end(Conn& c, const Ended& e, std::string_view detail) noexcept {
  if (c.ended_set) return;
  c.ended_set = true;
  c.ended = e;
  c.detail_len = std::min(detail.size(), c.detail.size());
  if (c.detail_len != 0) std::memcpy(c.detail.data(), detail.data(), c.detail_len);
}

template <Backend B, class Handler>
void Session<B, Handler>::run_actions(absl::Time now) {
  // A handler callback that calls stop() or send_text() lands here again:
  // the loop below goes on with what that queued.
  if (in_actions_) return;
  in_actions_ = true;
  for (;;) {
    const Action a = policy_->next_action(now);
    if (a.type == ActionType::Wait) break;
    if (a.type == ActionType::Stopped) {
      stopped_ = true;
      break;
    }
    execute(a, now);
  }
  in_actions_ = false;
}

template <Backend B, class Handler>
void Session<B, Handler>::execute(const Action& a, absl::Time now) {
  switch (a.type) {
    case ActionType::Connect:
      start_connect(a.id, now);
      break;
    case ActionType::SendPing: {
      Conn* c = find_open(a.id);
      if (c == nullptr) break;
      encode_ping_token(a.token, std::span<std::uint8_t, 8>(c->ping_payload));
      c->ping_len = 8;
      c->ping_pending = true;
      health_.on_ping_sent(a.id);
      want_pump(*c);
      break;
    }
    case ActionType::SendAppPing:
      send_app_ping(a.id, now);
      break;
    case ActionType::Replay:
      replay(a, now);
      break;
    case ActionType::Close:
      close_connection(a, now);
      break;
    case ActionType::SwitchTo:
      health_.on_switch(a.id);
      if constexpr (session_detail::HasSwitch<Handler>) {
        CallbackScope scope(callbacks_);
        handler_.on_switch(a.other, a.id);
      }
      break;
    case ActionType::Down:
      report_down(a, now);
      break;
    case ActionType::Wait:
    case ActionType::Stopped:
      break;
  }
}

template <Backend B, class Handler>
void Session<B, Handler>::start_connect(ConnectionId id, absl::Time now) {
  health_.on_connect_started(id, now);
  Conn* slot = nullptr;
  for (Conn& c : conns_) {
    if (!c.active) {
      slot = &c;
      break;
    }
  }
  if (slot == nullptr) {
    // The policy holds as many connections as there are slots, and both
    // free one at the same time: not reached.
    const absl::Status st = absl::ResourceExhaustedError("no free connection slot");
    const Ended e = session_detail::ended_by(st);
    health_.on_connect_failed(id, now, e, session_detail::text_of(st));
    policy_->on_connect_failed(id, now, e);
    return;
  }
  reset(*slot, id);
  const int s = slot_of(*slot);
  if constexpr (B::kBlocking) {
    ++connects_;
    B::spawn(ctx_, [this, s, id]() { return connect_blocking(s, id); });
  } else {
    // The slot and id fit the 8 bytes beside the ticket: the callable stays
    // inside the AnyInvocable.
    const std::uint64_t where = std::uint64_t{id} << 8 | static_cast<std::uint64_t>(s);
    B::spawn(ctx_, [t = Ticket(this), where]() mutable {
      Session* self = t.session();
      return self->connection_task(std::move(t), static_cast<int>(where & 0xff),
                                   static_cast<ConnectionId>(where >> 8));
    });
  }
}

template <Backend B, class Handler>
void Session<B, Handler>::replay(const Action& a, absl::Time now) {
  Conn* c = find_open(a.id);
  std::uint32_t sent = 0;
  if (c != nullptr) {
    while (sent < a.count && c->next != c->replay.end()) {
      const Outbox::Record r = *c->next;
      if (!queue_record(*c, r.kind, r.bytes).ok()) break;
      ++c->next;
      ++sent;
    }
    if (sent != 0) want_pump(*c);
  }
  policy_->on_replay_sent(a.id, now, sent);
}

template <Backend B, class Handler>
void Session<B, Handler>::send_app_ping(ConnectionId id, absl::Time now) {
  if constexpr (session_detail::HasAppPing<Handler>) {
    Conn* c = find_open(id);
    if (c == nullptr) return;
    reply_.clear();
    {
      CallbackScope scope(callbacks_);
      handler_.app_ping(reply_);
    }
    c->app_ping_out = true;
    send_replies(*c, now);
  } else {
    (void)id;
    (void)now;
  }
}

template <Backend B, class Handler>
void Session<B, Handler>::close_connection(const Action& a, absl::Time now) {
  Conn* c = find(a.id);
  if (c == nullptr || !c->active) return;
  c->close_code = a.code;
  c->close_reason = a.reason;
  if constexpr (B::kBlocking) {
    // The loop stops reading it now; a helper thread that owns it finishes
    // the closing handshake (up to close_timeout) without blocking the loop.
    if (c->ws().has_value() && !c->failed) {
      B::spawn(ctx_, [ws = *std::move(c->ws()), code = a.code, reason = std::string(a.reason)]() mutable {
        return close_detached(std::move(ws), code, std::move(reason));
      });
    }
    record_end(*c, Ended{a.code, absl::StatusCode::kOk, 0}, a.reason);
    finish(*c, now);
  } else {
    c->closing = true;
    if (c->reading && !c->killed) {
      // Parked in recv(): the concept cannot cancel a receive, so have the
      // peer wake it (a Ping it answers); one that does not answer within
      // close_timeout is cut off.
      if (!c->ping_pending) {
        c->ping_len = 0;
        c->ping_pending = true;
      }
      want_pump(*c);
      c->kill_at = now + options_.ws.close_timeout;
    }
  }
}

template <Backend B, class Handler>
void Session<B, Handler>::report_down(const Action& a, absl::Time now) {
  Conn* c = find(a.id);
  std::string_view detail;
  if (c != nullptr) {
    flush_health(*c);
    c->down = true;
    c->awaiting_auth = c->app_ping_out = false;
    detail = c->ended_set ? c->detail_text() : c->close_reason;
  }
  health_.on_down(a, now, detail);
  Down d;
  d.id = a.id;
  d.cause = a.cause;
  d.code = a.code;
  d.status = a.status;
  d.detail = detail;
  d.reconnect_at = a.at;
  d.replaced_by = a.other;
  CallbackScope scope(callbacks_);
  handler_.on_close(d);
}

template <Backend B, class Handler>
void Session<B, Handler>::connect_failed(Conn& c, const absl::Status& status, absl::Time now) {
  const Ended e = session_detail::ended_by(status);
  const ConnectionId id = c.id;
  c.active = false;
  health_.on_connect_failed(id, now, e, session_detail::text_of(status));
  policy_->on_connect_failed(id, now, e);
}

template <Backend B, class Handler>
void Session<B, Handler>::opened(Conn& c, absl::Time now) {
  if (!policy_->on_open(c.id, now)) return;  // not wanted any more: a Close follows
  health_.on_open(c.id, now);
  c.replay.clear();
  c.next = c.replay.begin();
  {
    CallbackScope scope(callbacks_);
    handler_.on_open(c.replay, c.id);
  }
  c.replay.resync_ = false;
  if (ABSL_PREDICT_FALSE(c.replay.overflowed())) {
    health_.record_error(now, c.id, absl::StatusCode::kResourceExhausted,
                         "replay Out full: raise SessionOptions::replay_capacity");
  }
  const auto auth = static_cast<std::uint32_t>(c.replay.auth_prefix());
  c.awaiting_auth = options_.policy.wait_for_auth && auth > 0 && session_detail::HasAuthConfirmed<Handler>;
  policy_->on_replay_queued(c.id, now, static_cast<std::uint32_t>(c.replay.size()), auth);
}

template <Backend B, class Handler>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool Session<B, Handler>::on_frame(Conn& c, const ws::Message& m,
                                                                     absl::Time now) {
  // The steady state, inline in the reading loop: a data message on a
  // connection with nothing special pending.
  if (ABSL_PREDICT_TRUE((m.opcode == ws::Opcode::Text || m.opcode == ws::Opcode::Binary) &&
                        !(c.down | c.app_ping_out | c.awaiting_auth))) {
    const ConnectionId id = c.id;
    count_in(c, now, m.payload.size());
    ++callbacks_;
    const bool data = handler_.on_message(m, id, reply_);
    --callbacks_;
    policy_->on_message(id, now, data);
    if (ABSL_PREDICT_FALSE(!reply_.empty() | reply_.resync_)) send_replies(c, now);
    return true;
  }
  return on_frame_slow(c, m, now);
}

template <Backend B, class Handler>
bool Session<B, Handler>::on_frame_slow(Conn& c, const ws::Message& m, absl::Time now) {
  flush_health(c);
  if constexpr (!B::kBlocking) {
    // Pongs time RTTs: a fresh reading, which the next messages share.
    now = clock_ = B::now(ctx_);
    clock_left_ = kClockBatch;
    clock_epoch_ = epoch_;
  }
  if (m.opcode != ws::Opcode::Text && m.opcode != ws::Opcode::Binary) return on_control(c, m, now);
  const ConnectionId id = c.id;
  health_.on_message_in(id, now, m.payload.size());
  // After on_close, nothing more from this connection reaches the handler.
  if (ABSL_PREDICT_FALSE(c.down)) return true;
  if (ABSL_PREDICT_FALSE(c.app_ping_out || c.awaiting_auth) && special_message(c, m, now)) return true;
  bool data;
  {
    CallbackScope scope(callbacks_);
    data = handler_.on_message(m, id, reply_);
  }
  policy_->on_message(id, now, data);
  if (ABSL_PREDICT_FALSE(!reply_.empty() || reply_.resync_)) send_replies(c, now);
  return true;
}

template <Backend B, class Handler>
bool Session<B, Handler>::on_control(Conn& c, const ws::Message& m, absl::Time now) {
  switch (m.opcode) {
    case ws::Opcode::Ping:  // the core has already answered it
      policy_->on_ping_from_server(c.id, now);
      health_.on_ping_received(c.id, now);
      return true;
    case ws::Opcode::Pong:
      health_.on_pong(c.id, now, policy_->on_pong(c.id, now, m.payload));
      return true;
    case ws::Opcode::Close:  // the core has already echoed it
      record_end(c, Ended{m.close_code, absl::StatusCode::kOk, 0}, m.close_reason());
      return false;
    default:
      return true;
  }
}

template <Backend B, class Handler>
bool Session<B, Handler>::special_message(Conn& c, const ws::Message& m, absl::Time now) {
  if constexpr (session_detail::HasAppPong<Handler>) {
    bool pong;
    {
      CallbackScope scope(callbacks_);
      pong = c.app_ping_out && handler_.is_app_pong(m);
    }
    if (pong) {
      c.app_ping_out = false;
      (void)policy_->on_app_pong(c.id, now);
      return true;
    }
  }
  if constexpr (session_detail::HasAuthConfirmed<Handler>) {
    bool confirmed;
    {
      CallbackScope scope(callbacks_);
      confirmed = c.awaiting_auth && handler_.is_auth_confirmed(m);
    }
    if (confirmed) {
      c.awaiting_auth = false;
      policy_->on_auth_confirmed(c.id, now);
    }
  }
  (void)now;
  return false;
}

template <Backend B, class Handler>
void Session<B, Handler>::send_replies(Conn& c, absl::Time now) {
  bool queued = false;
  for (const Outbox::Record& r : reply_) {
    if (absl::Status st = queue_record(c, r.kind, r.bytes); !st.ok()) {
      health_.record_error(now, c.id, st.code(), session_detail::text_of(st));
      break;
    }
    queued = true;
  }
  if (reply_.overflowed()) {
    health_.record_error(now, c.id, absl::StatusCode::kResourceExhausted,
                         "reply Out full: raise SessionOptions::reply_capacity");
  }
  const bool resync = reply_.resync_;
  reply_.clear();
  reply_.resync_ = false;
  if (queued) want_pump(c);
  if (resync) (void)policy_->request_rotation(now);
}

template <Backend B, class Handler>
absl::Status Session<B, Handler>::queue_record(Conn& c, Outbox::Kind kind, std::span<const std::uint8_t> bytes) {
  absl::Status st = kind == Outbox::Kind::Text
                        ? B::queue_text(*c.ws(), {reinterpret_cast<const char*>(bytes.data()), bytes.size()})
                        : B::queue_binary(*c.ws(), bytes);
  if (st.ok()) health_.on_message_out(c.id, bytes.size());
  return st;
}

template <Backend B, class Handler>
void Session<B, Handler>::fail(Conn& c, const absl::Status& status) {
  if (c.failed) return;
  c.failed = true;
  record_end(c, session_detail::ended_by(status), session_detail::text_of(status));
  if constexpr (!B::kBlocking) {
    if (c.reading) kill(c);  // its reader is parked: end it now
  }
}

template <Backend B, class Handler>
void Session<B, Handler>::finish(Conn& c, absl::Time now) {
  const ConnectionId id = c.id;
  flush_health(c);
  c.ws().reset();
  c.active = false;
  c.reading = false;
  c.kill_at = absl::InfiniteFuture();
  if (!c.ended_set) record_end(c, Ended{}, "connection ended");
  health_.on_closed(id);
  policy_->on_closed(id, now, c.ended);
}

template <Backend B, class Handler>
auto Session<B, Handler>::after_event(absl::Time now) -> Task<absl::Status> {
  ++epoch_;
  run_actions(now);
  while (pumps_wanted_ != 0) {
    const int s = std::countr_zero(pumps_wanted_);
    pumps_wanted_ &= pumps_wanted_ - 1;
    (void)co_await pump(s, conns_[s].id);
  }
  if constexpr (!B::kBlocking) arm(next_wake());
  co_return absl::OkStatus();
}

template <Backend B, class Handler>
auto Session<B, Handler>::pump(int s, ConnectionId id) -> Task<absl::Status> {
  Conn& c = conns_[s];
  if (c.writing || c.id != id || !c.active) co_return absl::OkStatus();
  c.writing = true;
  absl::Status st;
  for (;;) {
    if (c.id != id || !c.active || !c.ws().has_value() || c.failed || c.killed) break;
    if (c.ping_pending) {
      // A Ping leaves with everything queued before it.
      c.ping_pending = false;
      c.dirty = false;
      st = co_await B::send_ping(*c.ws(), std::span<const std::uint8_t>(c.ping_payload.data(), c.ping_len));
    } else if (c.dirty) {
      c.dirty = false;
      st = co_await B::flush(*c.ws());
    } else {
      break;
    }
    if (!st.ok()) {
      if (c.id == id && c.active) fail(c, st);
      break;
    }
  }
  if (c.id == id) c.writing = false;
  co_return st;
}

template <Backend B, class Handler>
void Session<B, Handler>::act_now() {
  const absl::Time now = B::now(ctx_);
  if constexpr (B::kBlocking) {
    // A SyncTask has run by the time it is returned.
    (void)after_event(now);
  } else {
    run_actions(now);
    if (pumps_wanted_ != 0) {
      B::spawn(ctx_, [t = Ticket(this)]() mutable {
        Session* self = t.session();
        return self->pumps_task(std::move(t));
      });
    }
    arm(next_wake());
  }
}

template <Backend B, class Handler>
auto Session<B, Handler>::pumps_task(Ticket) -> Task<absl::Status> {
  co_return co_await after_event(B::now(ctx_));
}

// --- event loops ------------------------------------------------------------------

template <Backend B, class Handler>
auto Session<B, Handler>::run_events() -> Task<absl::Status> {
  struct Running {
    explicit Running(Session& s) noexcept : s(s) { s.running_ = true; }
    Running(const Running&) = delete;
    ~Running() {
      s.running_ = false;
      s.control_at_ = s.armed_at_ = absl::InfiniteFuture();
    }
    Session& s;
  } running(*this);
  stopped_ = false;
  policy_->start(B::now(ctx_));
  for (;;) {
    // Awake: nothing needs a sleeper, this coroutine looks at the deadline
    // before it sleeps again.
    control_at_ = armed_at_ = absl::InfinitePast();
    absl::Time now = B::now(ctx_);
    flush_health();  // what the readers counted since
    kill_overdue(now);
    (void)co_await after_event(now);
    if (stopped_ && tasks_ == 0) break;
    now = B::now(ctx_);
    const absl::Time wake = std::min(next_wake(), now + kMaxNap);
    control_at_ = wake;
    armed_at_ = std::min(control_at_, sleeper_at_);
    if (absl::Status st = co_await B::sleep_for(ctx_, wake - now); !st.ok()) co_return st;
  }
  co_return absl::OkStatus();
}

template <Backend B, class Handler>
auto Session<B, Handler>::connection_task(Ticket, int s, ConnectionId id) -> Task<absl::Status> {
  Conn& c = conns_[s];
  absl::StatusOr<WebSocket> ws = co_await B::connect_websocket(ctx_, url_, options_.ws);
  absl::Time now = B::now(ctx_);
  if (!ws.ok()) {
    connect_failed(c, ws.status(), now);
    (void)co_await after_event(now);
    co_return absl::OkStatus();
  }
  c.ws().emplace(*std::move(ws));
  opened(c, now);
  (void)co_await after_event(now);
  // The reader: this task is the only one that receives on c.ws(), and the
  // one that closes it.
  while (!c.closing && !c.failed) {
    c.reading = true;
    absl::StatusOr<ws::Message> m = co_await B::recv(*c.ws());
    c.reading = false;
    if (ABSL_PREDICT_FALSE(c.killed)) break;  // the view may point into freed memory
    if (ABSL_PREDICT_FALSE(!m.ok())) {
      record_end(c, session_detail::ended_by(m.status()), session_detail::text_of(m.status()));
      break;
    }
    now = message_time();
    if (ABSL_PREDICT_FALSE(!on_frame(c, *m, now))) break;
    // The steady state: nothing due, no write queued, no earlier deadline.
    const absl::Time due = policy_->next_deadline();
    if (ABSL_PREDICT_FALSE(pumps_wanted_ != 0 || due <= now || due < armed_at_)) (void)co_await after_event(clock_);
  }
  c.kill_at = absl::InfiniteFuture();
  if (c.closing && !c.failed && !c.killed && c.ws().has_value()) {
    // A send still in flight (a full socket buffer) holds the writing side
    // the closing handshake needs: let it end, for up to close_timeout.
    const absl::Time give_up = B::now(ctx_) + options_.ws.close_timeout;
    while (c.writing && c.ws().has_value() && B::now(ctx_) < give_up) {
      const absl::Status slept = co_await B::sleep_for(ctx_, absl::Milliseconds(1));
      if (!slept.ok()) break;
    }
  }
  if (c.closing && !c.failed && !c.killed && c.ws().has_value() && !c.writing) {
    const absl::Status st = co_await B::close(*c.ws(), c.close_code, std::string(c.close_reason));
    record_end(c, Ended{c.close_code, st.code(), 0}, c.close_reason);
  }
  now = B::now(ctx_);
  finish(c, now);
  (void)co_await after_event(now);
  co_return absl::OkStatus();
}

template <Backend B, class Handler>
auto Session<B, Handler>::sleeper(Ticket, std::int64_t unix_ns) -> Task<absl::Status> {
  const absl::Time at = absl::FromUnixNanos(unix_ns);
  const absl::Status slept = co_await B::sleep_for(ctx_, at - B::now(ctx_));
  if (sleeper_at_ == at) sleeper_at_ = absl::InfiniteFuture();
  armed_at_ = std::min(control_at_, sleeper_at_);
  if (slept.ok()) {
    const absl::Time now = B::now(ctx_);
    flush_health();
    kill_overdue(now);
    (void)co_await after_event(now);
  }
  co_return absl::OkStatus();
}

template <Backend B, class Handler>
void Session<B, Handler>::arm(absl::Time at) {
  // Whatever wakes first (the control coroutine or a sleeper) looks at the
  // deadline again, so one sleeper per earlier deadline is enough.
  if (at >= armed_at_) return;
  sleeper_at_ = at;
  armed_at_ = at;
  B::spawn(ctx_, [t = Ticket(this), ns = absl::ToUnixNanos(at)]() mutable {
    Session* self = t.session();
    return self->sleeper(std::move(t), ns);
  });
}

template <Backend B, class Handler>
absl::Time Session<B, Handler>::next_wake() const noexcept {
  absl::Time t = policy_->next_deadline();
  for (const Conn& c : conns_) {
    if (c.active) t = std::min(t, c.kill_at);
  }
  return t;
}

template <Backend B, class Handler>
void Session<B, Handler>::kill_overdue(absl::Time now) {
  for (Conn& c : conns_) {
    if (c.active && c.kill_at <= now) {
      c.kill_at = absl::InfiniteFuture();
      if (c.reading) {
        record_end(c, Ended{c.close_code, absl::StatusCode::kDeadlineExceeded, 0}, "close: the peer did not answer");
        kill(c);
      }
    }
  }
}

template <Backend B, class Handler>
void Session<B, Handler>::kill(Conn& c) {
  // Destroying the connection completes its pending receive (and send)
  // with kCancelled on every event-loop backend.
  c.killed = true;
  c.kill_at = absl::InfiniteFuture();
  c.ws().reset();
}

// --- posix ---------------------------------------------------------------------------

template <Backend B, class Handler>
auto Session<B, Handler>::run_blocking() -> Task<absl::Status> {
  running_ = true;
  stopped_ = false;
  stop_requested_.store(false);
  rotation_requested_.store(false);
  policy_->start(B::now(ctx_));
  bool woken = true;  // look at the mailbox and the requests once first
  for (;;) {
    absl::Time now = B::now(ctx_);
    take_requests(now, woken);
    (void)co_await after_event(now);
    // A send failed: the connection ends here, without a handshake.
    for (Conn& c : conns_) {
      if (c.active && c.failed) {
        finish(c, now);
        (void)co_await after_event(now);
      }
    }
    if (stopped_ && connects_ == 0) break;
    WebSocket* waited[kMaxConnections];
    int slots[kMaxConnections];
    bool ready[kMaxConnections + 1] = {};  // and the wake-up fd
    std::size_t n = 0;
    for (Conn& c : conns_) {
      if (c.active && c.ws().has_value()) {
        slots[n] = slot_of(c);
        waited[n++] = &*c.ws();
      }
    }
    const absl::Time deadline = policy_->next_deadline();
    now = B::now(ctx_);
    const absl::Duration timeout = deadline == absl::InfiniteFuture() ? absl::InfiniteDuration()
                                                                      : std::max(absl::ZeroDuration(), deadline - now);
    absl::StatusOr<bool> any = WebSocket::wait_readable(std::span<WebSocket* const>(waited, n),
                                                        std::span<bool>(ready, n + 1), timeout, wakeup_.fd());
    woken = any.ok() && ready[n];
    if (!any.ok()) {
      // poll(2) itself failed (not a connection's fault): say so, go on.
      health_.record_error(B::now(ctx_), 0, any.status().code(), session_detail::text_of(any.status()));
      continue;
    }
    if (!*any) continue;
    now = B::now(ctx_);
    for (std::size_t i = 0; i < n; ++i) {
      if (ready[i]) (void)co_await read_batch(slots[i], now);
    }
  }
  running_ = false;
  co_return absl::OkStatus();
}

template <Backend B, class Handler>
auto Session<B, Handler>::read_batch(int s, absl::Time now) -> Task<absl::Status> {
  Conn& c = conns_[s];
  const ConnectionId id = c.id;
  // One clock reading per batch: the messages of one read arrived together.
  for (int i = 0; i < kReadBatch; ++i) {
    if (!c.active || c.id != id || !c.ws().has_value() || c.failed) break;
    absl::StatusOr<ws::Message> m = co_await B::recv(*c.ws());
    if (ABSL_PREDICT_FALSE(!m.ok())) {
      record_end(c, session_detail::ended_by(m.status()), session_detail::text_of(m.status()));
      finish(c, now);
      (void)co_await after_event(now);
      break;
    }
    if (ABSL_PREDICT_FALSE(!on_frame(c, *m, now))) {
      finish(c, now);
      (void)co_await after_event(now);
      break;
    }
    if (ABSL_PREDICT_FALSE(pumps_wanted_ != 0 || policy_->next_deadline() <= now)) (void)co_await after_event(now);
    if (!c.active || c.id != id || !c.ws().has_value() || c.failed) break;
    absl::StatusOr<bool> more = c.ws()->wait_readable(absl::ZeroDuration());
    if (!more.ok() || !*more) break;
  }
  if (c.active && c.id == id) flush_health(c);
  co_return absl::OkStatus();
}

template <Backend B, class Handler>
void Session<B, Handler>::take_requests(absl::Time now, bool woken) {
  // Steady state: two loads, no syscall, no lock.
  if (woken) wakeup_.drain();
  if (stop_requested_.load(std::memory_order_relaxed) && stop_requested_.exchange(false)) policy_->stop(now);
  if (rotation_requested_.load(std::memory_order_relaxed) && rotation_requested_.exchange(false)) {
    (void)policy_->request_rotation(now);
  }
  if (connects_ == 0) return;  // only this thread raises it
  std::array<std::optional<absl::StatusOr<WebSocket>>, kMaxConnections> done;
  {
    std::lock_guard<std::mutex> lock(mailbox_mu_);
    for (int s = 0; s < kSlots; ++s) {
      if (conns_[s].connected.has_value()) {
        done[s] = std::move(conns_[s].connected);
        conns_[s].connected.reset();
        --connects_;
      }
    }
  }
  for (int s = 0; s < kSlots; ++s) {
    if (!done[s].has_value()) continue;
    Conn& c = conns_[s];
    if (!done[s]->ok()) {
      connect_failed(c, done[s]->status(), now);
    } else {
      c.ws().emplace(**std::move(done[s]));
      opened(c, now);
    }
  }
}

template <Backend B, class Handler>
auto Session<B, Handler>::connect_blocking(int s, ConnectionId id) -> Task<absl::Status> {
  (void)id;
  absl::StatusOr<WebSocket> ws = co_await B::connect_websocket(ctx_, url_, options_.ws);
  // The last this helper thread touches of the session: after the unlock,
  // the loop may finish and the session go.
  std::lock_guard<std::mutex> lock(mailbox_mu_);
  conns_[s].connected.emplace(std::move(ws));
  wakeup_.signal();
  co_return absl::OkStatus();
}

template <Backend B, class Handler>
auto Session<B, Handler>::close_detached(WebSocket ws, ws::CloseCode code, std::string reason) -> Task<absl::Status> {
  co_return co_await B::close(ws, code, std::move(reason));
}

}  // namespace tern::session

#endif  // TERN_BACKENDS_SESSION_SESSION_H_
