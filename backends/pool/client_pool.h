// File: client_pool.h
//
// ClientPool<B> and AtomicClientPool<B> keep N warm keep-alive HTTP/1.1
// connections to one server, for a REST client that must never send an
// order on a dead connection. One template, written once over the Backend
// concept (backends/backend.h): B is tern::posix::Backend,
// tern::epoll::Backend or tern::asio::Backend (or a wrapper of one, such as
// the tests' Faulty<B>). Every decision (which slot, when a slot is too old
// or dead, backoff, the acquire schedule, retry, metrics) is PoolPolicy's
// (pool_policy.h); this driver owns the connections and executes what the
// policy says.
//
//   auto pool = co_await tern::pool::ClientPool<tern::epoll::Backend>::builder()
//                   .url("https://api.exchange.com").base_path("/api/v3")
//                   .default_header("X-API-KEY", key).connections(4).tls(&tls)
//                   .build(loop);
//   if (!pool.ok()) co_return pool.status();
//   if (auto lease = pool->try_acquire()) { ... }          // fast path: no I/O, no wait
//   absl::StatusOr<Pool::Lease> lease = co_await pool->acquire();   // patient path
//   (void)lease->request(tern::http::Method::Post, "/order").body(json);
//   absl::StatusOr<tern::HttpResponse> r = co_await lease->send();
//
// A slot owns a whole pipeline: a RequestWriter (Host from the URL, the base
// path, the default fields), a ResponseReader (the builder's limits) and
// the connection. A reconnect replaces only the connection. A Lease is the
// slot while you hold it (RAII: its destruction gives the slot back); the
// HttpResponse that send() returns is a set of views into the slot's
// connection, valid until the lease's next send() or its release. Releasing
// reports how the request left the connection: reusable, ended cleanly
// (Connection: close: reconnect at once) or poisoned (an I/O error, a read
// timeout, a parse error, an early close, a request abandoned mid-flight:
// reconnect after the backoff, and never handed out before). A request
// written into request_buffer() but not sent is dropped at release.
//
// Reconnects run in the background on event loops (tasks sleeping until
// the policy's next deadline) and inline in acquire() on posix, where
// everything blocks (and in reconnect_due(), for a posix caller that wants
// to heal the pool at a moment of its choosing). Nothing retries a request
// unless the config opts in (PoolConfig::retry_unsent, retry_idempotent);
// send() then reports how many retries it made (Reply::retries).
//
// Threads: a ClientPool belongs to one thread (the loop's, on an event
// loop), as do its leases. An AtomicClientPool has one acquirer, the thread
// that built it (the loop's thread on an event loop); its leases may be
// handed to other threads, which use them (posix: blocking sends; loops:
// reading the response) and release them without a lock (ReturnStack).
// The acquirer collects returned slots at its next try_acquire() or its own
// next release; until then they count as in use. metrics() and
// slot_metrics() may be called from any thread. Leases must be released
// before the pool is destroyed, and the pool before its context
// (EventLoop, io_context); the pool's background tasks end within 100 ms
// of its destruction.
//
// Allocation: the slots, their buffers and the policy's tables at build();
// nothing per acquire, send or release in steady state. Reconnects allocate
// (the new connection, its background task).
#ifndef TERN_BACKENDS_POOL_CLIENT_POOL_H_
#define TERN_BACKENDS_POOL_CLIENT_POOL_H_

#include <algorithm>
#include <atomic>
#include <cassert>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backends/backend.h"
#include "backends/http_response.h"
#include "backends/options.h"
#include "backends/pool/client_pool_options.h"
#include "backends/pool/pool_policy.h"
#include "backends/pool/return_stack.h"
#include "core/buf/write_buf.h"
#include "core/http/client_connection.h"
#include "core/http/method.h"
#include "core/http/request_writer.h"
#include "core/http/response_reader.h"
#include "core/tls/tls_config.h"

namespace tern::pool {

// What the pool needs beyond the Backend concept: every tern backend's
// HttpConnection exposes its request buffer, the core's ClientConnection
// (what was sent, why it ended) and why it finished.
template <typename B>
concept PoolBackend = Backend<B> && requires(typename B::HttpConnection& c, const typename B::HttpConnection& cc) {
  { c.request_buffer() } -> std::same_as<WriteBuf&>;
  { cc.connection() } -> std::same_as<const http::ClientConnection&>;
  { cc.finished() } -> std::convertible_to<const absl::Status&>;
};

template <PoolBackend B, bool kAtomic>
class BasicClientPool;
template <PoolBackend B, bool kAtomic>
class PoolLease;

// One thread drives it (see the file comment).
template <PoolBackend B>
using ClientPool = BasicClientPool<B, false>;
// One acquirer; leases returned from any thread.
template <PoolBackend B>
using AtomicClientPool = BasicClientPool<B, true>;

namespace detail {

// How a request left its connection: Reusable while the backend calls it
// usable and no request is left in flight; Closed after a clean end
// (Connection: close, a close-delimited body, the server closing after a
// complete response, an upgrade); Poisoned otherwise.
Outcome outcome_of(const http::ClientConnection& connection, bool usable) noexcept;

// The method of the request at the front of `request` (Other if unknown).
http::Method request_method(std::span<const std::uint8_t> request) noexcept;

// CLOCK_MONOTONIC as an absl::Time since the Unix epoch: the clock every
// tern backend's now() reads (posix and Asio directly, epoll once per loop
// round). AtomicClientPool stamps releases made on other threads with it,
// since B::now() belongs to the loop's thread on epoll.
absl::Time monotonic_now() noexcept;

// The statuses the driver builds, on failure paths only.
absl::Status build_failure(std::size_t slot, std::size_t slots, const absl::Status& cause);
absl::Status build_timeout(absl::Duration waited);
absl::Status request_refused(http::Error error);

// The wake-up times of the background tasks that sleep until the policy's
// next deadline (event loops). A task is spawned only for a deadline no
// sleeper covers, and a sleeper that wakes goes back to sleep only for a
// deadline no other sleeper covers, so sleepers do not pile up.
class Sleepers {
 public:
  void reserve(std::size_t n) { wakes_.reserve(n); }
  // Some sleeper wakes at or before `t`.
  bool covers(absl::Time t) const noexcept;
  void add(absl::Time wake);
  void remove(absl::Time wake) noexcept;
  std::size_t size() const noexcept { return wakes_.size(); }

 private:
  std::vector<absl::Time> wakes_;
};

// The pool's state, shared (std::shared_ptr) with its background tasks so
// that a task waking after the pool is gone finds it closed, not freed.
// Only the driving thread touches it, except what the file comment says:
// leases on other threads (AtomicClientPool) use their own slot and push it
// back; metrics are read from any thread.
template <PoolBackend B, bool kAtomic>
class PoolCore : public std::enable_shared_from_this<PoolCore<B, kAtomic>> {
 public:
  template <typename T>
  using Task = typename B::template Task<T>;
  using Context = typename B::Context;
  using Connection = typename B::HttpConnection;
  using Lease = PoolLease<B, kAtomic>;

  // One cache line apart: AtomicClientPool's holders write their own
  // slot's report from different threads.
  struct alignas(64) Slot {
    Slot(const http::RequestWriter& w, const http::Limits& limits) : writer(w), reader(limits) {}
    std::optional<Connection> conn;  // engaged unless Connecting
    http::RequestWriter writer;
    http::ResponseReader reader;
    // The holder's last failed send (OK if none) and whether it provably
    // put no byte on the wire.
    absl::Status failure;
    bool unsent = false;
    // AtomicClientPool: the holder's report, written before ReturnStack::push.
    Outcome outcome = Outcome::Reusable;
    absl::Status cause;
    absl::Time released_at;
  };

  PoolCore(Context& context, ClientPoolOptions o, PoolPolicy p, const http::RequestWriter& writer);
  PoolCore(const PoolCore&) = delete;
  PoolCore& operator=(const PoolCore&) = delete;

  Task<absl::Status> build();
  // The pool is gone: connections closed, background tasks told to stop.
  void close() noexcept;

  std::optional<Lease> try_acquire() noexcept;
  Task<absl::StatusOr<Lease>> acquire();
  // Any thread for AtomicClientPool (the holder's), else the driving thread.
  void give_back(std::uint32_t slot) noexcept;
  ABSL_ATTRIBUTE_NOINLINE void give_back_slow(std::uint32_t slot) noexcept;
  Task<absl::StatusOr<HttpResponse>> send_on(std::uint32_t slot);

  // Posix: runs the due reconnects now (blocking). Loops: starts them.
  Task<absl::Status> reconnect_due();

  Context& ctx;
  const ClientPoolOptions options;
  PoolPolicy policy;
  std::vector<Slot> slots;
  std::atomic<std::uint64_t> retries{0};  // written by the driving thread only

 private:
  // The longest a background sleeper waits before it looks again.
  static constexpr absl::Duration kNap = absl::Milliseconds(100);

  Task<absl::Status> connect_slot(std::size_t slot);
  static Task<absl::Status> build_task(std::shared_ptr<PoolCore> core, std::size_t slot);
  static Task<absl::Status> reconnect_task(std::shared_ptr<PoolCore> core, std::size_t slot);
  static Task<absl::Status> sleeper_task(std::shared_ptr<PoolCore> core, absl::Time wake);

  // After a policy call: if the next deadline may have moved earlier,
  // loops start what is due and make sure a sleeper covers the rest.
  void settle() noexcept {
    if (ABSL_PREDICT_FALSE(policy.take_deadline_moved())) reschedule();
  }
  ABSL_ATTRIBUTE_NOINLINE void reschedule() noexcept;
  // Loops: spawns a reconnect task for every slot that is due.
  void start_due(absl::Time now) noexcept;
  // AtomicClientPool: applies the slots returned since the last call.
  void drain() noexcept;

  std::unique_ptr<std::size_t[]> due_;  // due_reconnects() output, one per slot
  std::optional<ReturnStack> returns_;  // AtomicClientPool
  std::thread::id driver_;              // the thread that built the pool
  const bool idle_limited_;             // options.config.max_idle_age is set
  absl::Time last_now_;                 // B::now() at the last try_acquire()
  Sleepers sleepers_;
  bool building_ = true;
  bool closed_ = false;
  bool scheduling_ = false;
  bool schedule_again_ = false;
  std::size_t build_pending_ = 0;
  absl::Status build_error_;
};

}  // namespace detail

// A slot while you hold it; gives it back when destroyed (or release()d).
// Move-only. See the file comment for what may outlive what.
template <PoolBackend B, bool kAtomic>
class PoolLease {
 public:
  template <typename T>
  using Task = typename B::template Task<T>;

  PoolLease(PoolLease&& o) noexcept : core_(std::exchange(o.core_, nullptr)), slot_(o.slot_) {}
  PoolLease& operator=(PoolLease&& o) noexcept {
    if (this != &o) {
      release();
      core_ = std::exchange(o.core_, nullptr);
      slot_ = o.slot_;
    }
    return *this;
  }
  PoolLease(const PoolLease&) = delete;
  PoolLease& operator=(const PoolLease&) = delete;
  ~PoolLease() { release(); }

  // Which slot (0..connections-1), for logs and slot_metrics().
  std::size_t slot() const noexcept { return slot_; }
  // The slot's writer (Host, base path, default fields) and where its
  // next request goes:
  //   lease.request(Method::Get, "/time").query("symbol", "BTC-USD").finish();
  const http::RequestWriter& writer() const noexcept { return s().writer; }
  WriteBuf& request_buffer() noexcept { return s().conn->request_buffer(); }
  http::RequestBuilder request(http::Method method, std::string_view path) noexcept {
    return s().writer.start(s().conn->request_buffer(), method, path);
  }
  http::ResponseReader& reader() noexcept { return s().reader; }
  typename B::HttpConnection& connection() noexcept { return *s().conn; }

  // co_await: sends the request in request_buffer() and reads its
  // response with the slot's reader. A failure poisons the slot when the
  // lease is released (unless the request was refused before it was
  // queued, e.g. a malformed request line: the connection is still good).
  Task<absl::StatusOr<HttpResponse>> send() { return core_->send_on(slot_); }
  // After a failed send(): no byte of the request reached the transport.
  bool nothing_sent() const noexcept { return s().unsent; }

  // Gives the slot back now; the lease is then empty.
  void release() noexcept {
    if (core_ != nullptr) std::exchange(core_, nullptr)->give_back(slot_);
  }
  explicit operator bool() const noexcept { return core_ != nullptr; }

 private:
  using Core = detail::PoolCore<B, kAtomic>;
  friend Core;
  PoolLease(Core* core, std::uint32_t slot) noexcept : core_(core), slot_(slot) {}
  typename Core::Slot& s() const noexcept { return core_->slots[slot_]; }

  Core* core_;
  std::uint32_t slot_;
};

// What BasicClientPool::send() returns: the response (views into the
// lease's connection) and the lease that keeps them valid.
template <PoolBackend B, bool kAtomic>
struct PoolReply {
  HttpResponse response;
  PoolLease<B, kAtomic> lease;
  // Times the request went out again on another slot (PoolConfig's retry
  // rules; 0 unless they are switched on).
  int retries = 0;
};

template <PoolBackend B, bool kAtomic>
class ClientPoolBuilder;

template <PoolBackend B, bool kAtomic>
class BasicClientPool {
 public:
  template <typename T>
  using Task = typename B::template Task<T>;
  using Backend = B;
  using Context = typename B::Context;
  using Lease = PoolLease<B, kAtomic>;
  using Reply = PoolReply<B, kAtomic>;
  using Builder = ClientPoolBuilder<B, kAtomic>;
  static constexpr bool kAtomicReturns = kAtomic;

  static Builder builder() { return Builder(); }

  // Connects every slot (concurrently on an event loop, one after another
  // on posix) and fails, keeping nothing, if any connect fails: that
  // connect's status, naming the slot. InvalidArgument for bad options.
  static Task<absl::StatusOr<BasicClientPool>> create(Context& ctx, ClientPoolOptions options);

  BasicClientPool(BasicClientPool&&) noexcept = default;
  BasicClientPool& operator=(BasicClientPool&& o) noexcept {
    if (this != &o) {
      if (core_) core_->close();
      core_ = std::move(o.core_);
    }
    return *this;
  }
  ~BasicClientPool() {
    if (core_) core_->close();
  }

  // A slot, or nothing when every slot is busy, connecting or backing
  // off. Never blocks, does no I/O: LIFO (the warmest connection first),
  // ejecting dead or too old slots to a reconnect on the way.
  std::optional<Lease> try_acquire() noexcept { return core_->try_acquire(); }
  // try_acquire(), else wait with the config's acquire schedule (1 ms
  // doubling to 1 s, 20 waits by default) and try again; then
  // DeadlineExceeded "pool acquire timed out ...". Posix: due reconnects
  // run here first, and at their deadlines while it waits.
  Task<absl::StatusOr<Lease>> acquire() { return core_->acquire(); }

  // acquire(), build the request with `build(writer, request_buffer)` (a
  // callable returning the http::WriteResult of its RequestWriter chain),
  // send it, and return the response with its lease. A failure is
  // returned as is, unless PoolConfig's retry rules allow sending the
  // request again on another slot (build is then called again for that
  // slot): a request that provably put no byte on the wire (retry_unsent),
  // or an idempotent method on a reused connection (retry_idempotent).
  template <typename Build>
    requires std::invocable<Build&, const http::RequestWriter&, WriteBuf&>
  Task<absl::StatusOr<Reply>> send(Build build) {
    return send_impl(core_.get(), std::move(build));
  }
  // The same for a request built elsewhere (copied into the slot's buffer).
  // `request` must stay valid until the send completes.
  Task<absl::StatusOr<Reply>> send(std::span<const std::uint8_t> request) {
    return send_impl(core_.get(), [request](const http::RequestWriter&, WriteBuf& out) {
      if (!out.append(request)) return http::WriteResult{http::Error::BufferFull, {}};
      return http::WriteResult{http::Error::None, out.data()};
    });
  }

  // Posix: reconnects the slots that are due now (blocking), so a caller
  // can heal the pool when it suits it (acquire() does it too). Event
  // loops: reconnects run in the background; this only starts due ones.
  Task<absl::Status> reconnect_due() { return core_->reconnect_due(); }

  // Any thread.
  PoolMetrics metrics() const noexcept { return core_->policy.metrics(); }
  SlotMetrics slot_metrics(std::size_t slot) const { return core_->policy.slot_metrics(slot); }
  // Requests send() sent again on another slot.
  std::uint64_t retries() const noexcept { return core_->retries.load(std::memory_order_relaxed); }
  std::size_t size() const noexcept { return core_->slots.size(); }
  const ClientPoolOptions& options() const noexcept { return core_->options; }

 private:
  using Core = detail::PoolCore<B, kAtomic>;
  explicit BasicClientPool(std::shared_ptr<Core> core) noexcept : core_(std::move(core)) {}
  template <typename Build>
  static Task<absl::StatusOr<Reply>> send_impl(Core* core, Build build);

  std::shared_ptr<Core> core_;
};

// Collects ClientPoolOptions one call at a time, then build(ctx).
template <PoolBackend B, bool kAtomic>
class ClientPoolBuilder {
 public:
  using Pool = BasicClientPool<B, kAtomic>;

  ClientPoolBuilder& url(std::string url) { return set(o_.url, std::move(url)); }
  ClientPoolBuilder& base_path(std::string path) { return set(o_.base_path, std::move(path)); }
  ClientPoolBuilder& default_header(std::string name, std::string value) {
    o_.default_headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  ClientPoolBuilder& connections(std::size_t n) { return set(o_.config.connections, n); }
  // https:// trust settings (nullptr: the system store); must outlive the pool.
  ClientPoolBuilder& tls(const tls::TlsConfig* config) { return set(o_.http.tls, config); }
  ClientPoolBuilder& tcp_nodelay(bool on) { return set(o_.http.socket.tcp_nodelay, on); }
  ClientPoolBuilder& keepalive(bool on) { return set(o_.http.socket.keepalive, on); }
  ClientPoolBuilder& connect_timeout(absl::Duration d) { return set(o_.http.socket.connect_timeout, d); }
  // A response that does not arrive within it poisons the slot.
  ClientPoolBuilder& read_timeout(absl::Duration d) { return set(o_.http.socket.read_timeout, d); }
  ClientPoolBuilder& write_timeout(absl::Duration d) { return set(o_.http.socket.write_timeout, d); }
  ClientPoolBuilder& socket_options(const SocketOptions& s) { return set(o_.http.socket, s); }
  // Capacity for one request.
  ClientPoolBuilder& request_buffer(std::size_t bytes) { return set(o_.http.write_buffer_size, bytes); }
  // Capacity for one whole response; must exceed max_body_size.
  ClientPoolBuilder& response_buffer(std::size_t bytes) {
    response_buffer_set_ = true;
    return set(o_.http.read_buffer_size, bytes);
  }
  // Largest body accepted (BodyTooLarge beyond); the response buffer grows
  // to hold it unless response_buffer() sets it.
  ClientPoolBuilder& max_body_size(std::size_t bytes) {
    o_.limits.max_body_size = bytes;
    if (!response_buffer_set_) o_.http.read_buffer_size = bytes + (64u << 10);
    return *this;
  }
  ClientPoolBuilder& limits(const http::Limits& l) { return set(o_.limits, l); }
  // The patient acquire(): wait `initial`, multiplied up to `max`, `attempts` times.
  ClientPoolBuilder& acquire_backoff(absl::Duration initial, double multiplier, absl::Duration max,
                                     int attempts) {
    o_.config.acquire_initial_delay = initial;
    o_.config.acquire_multiplier = multiplier;
    o_.config.acquire_max_delay = max;
    o_.config.max_acquire_attempts = attempts;
    return *this;
  }
  // Reconnects: `initial`, multiplied up to `max`, each drawn in [d(1-jitter), d].
  ClientPoolBuilder& reconnect_backoff(absl::Duration initial, double multiplier, absl::Duration max,
                                       double jitter) {
    o_.config.reconnect_initial_delay = initial;
    o_.config.reconnect_multiplier = multiplier;
    o_.config.reconnect_max_delay = max;
    o_.config.reconnect_jitter = jitter;
    return *this;
  }
  // Below the server's keep-alive timeout (PoolConfig::max_idle_age).
  ClientPoolBuilder& max_idle_age(absl::Duration d) { return set(o_.config.max_idle_age, d); }
  ClientPoolBuilder& retry_unsent(bool on = true) { return set(o_.config.retry_unsent, on); }
  ClientPoolBuilder& retry_idempotent(bool on = true) { return set(o_.config.retry_idempotent, on); }
  ClientPoolBuilder& max_retries(int n) { return set(o_.config.max_retries, n); }
  ClientPoolBuilder& seed(std::uint64_t s) { return set(o_.config.seed, s); }
  // Every policy figure at once (connections included).
  ClientPoolBuilder& config(const PoolConfig& c) { return set(o_.config, c); }

  const ClientPoolOptions& options() const noexcept { return o_; }
  // Pool::create() with these options.
  typename Pool::template Task<absl::StatusOr<Pool>> build(typename B::Context& ctx) const {
    return Pool::create(ctx, o_);
  }

 private:
  template <typename Field, typename Value>
  ClientPoolBuilder& set(Field& field, Value&& value) {
    field = std::forward<Value>(value);
    return *this;
  }
  ClientPoolOptions o_;
  bool response_buffer_set_ = false;
};

// ---- Implementation ---------------------------------------------------------

namespace detail {

template <PoolBackend B, bool kAtomic>
PoolCore<B, kAtomic>::PoolCore(Context& context, ClientPoolOptions o, PoolPolicy p,
                               const http::RequestWriter& writer)
    : ctx(context),
      options(std::move(o)),
      policy(std::move(p)),
      due_(new std::size_t[options.config.connections]),
      driver_(std::this_thread::get_id()),
      idle_limited_(options.config.max_idle_age.has_value()) {
  const std::size_t n = options.config.connections;
  slots.reserve(n);
  for (std::size_t i = 0; i < n; ++i) slots.emplace_back(writer, options.limits);
  if constexpr (kAtomic) returns_.emplace(n);
  // Each sleeper covers a deadline that was the earliest when it started:
  // at most about one per slot plus the idle deadline.
  sleepers_.reserve(n + 2);
}

template <PoolBackend B, bool kAtomic>
auto PoolCore<B, kAtomic>::build() -> Task<absl::Status> {
  const std::size_t n = slots.size();
  policy.begin_build(B::now(ctx));
  if constexpr (B::kBlocking) {
    for (std::size_t i = 0; i < n && !policy.build_failed(); ++i) (void)co_await connect_slot(i);
  } else {
    // The others connect concurrently while this one connects slot 0.
    build_pending_ = n - 1;
    for (std::size_t i = 1; i < n; ++i) {
      B::spawn(ctx, [core = this->shared_from_this(), i]() { return build_task(core, i); });
    }
    (void)co_await connect_slot(0);
    // Each connect ends within its connect timeout (name resolution aside);
    // give up a while after that rather than wait forever.
    const absl::Duration bound = options.http.socket.connect_timeout + absl::Seconds(10);
    const absl::Time give_up = B::now(ctx) + bound;
    while (build_pending_ != 0) {
      if (B::now(ctx) > give_up) {
        building_ = false;
        co_return build_timeout(bound);
      }
      if (absl::Status slept = co_await B::sleep_for(ctx, absl::Milliseconds(1)); !slept.ok()) {
        building_ = false;
        co_return slept;
      }
    }
  }
  building_ = false;
  if (!build_error_.ok()) co_return build_error_;
  // Deadlines the build moved (idle ages) start the background work.
  (void)policy.take_deadline_moved();
  if constexpr (!B::kBlocking) reschedule();
  co_return absl::OkStatus();
}

template <PoolBackend B, bool kAtomic>
auto PoolCore<B, kAtomic>::build_task(std::shared_ptr<PoolCore> core, std::size_t slot) -> Task<absl::Status> {
  (void)co_await core->connect_slot(slot);
  --core->build_pending_;
  co_return absl::OkStatus();
}

template <PoolBackend B, bool kAtomic>
auto PoolCore<B, kAtomic>::connect_slot(std::size_t slot) -> Task<absl::Status> {
  absl::StatusOr<Connection> conn = co_await B::connect_http(ctx, options.url, options.http);
  // The pool went away meanwhile: the new connection closes with this frame.
  if (closed_) co_return absl::OkStatus();
  const absl::Time now = B::now(ctx);
  if (conn.ok()) {
    slots[slot].conn.emplace(*std::move(conn));
    policy.on_connected(slot, now);
  } else {
    if (building_ && build_error_.ok()) build_error_ = build_failure(slot, slots.size(), conn.status());
    policy.on_connect_failed(slot, now, conn.status());
  }
  settle();
  co_return absl::OkStatus();
}

template <PoolBackend B, bool kAtomic>
auto PoolCore<B, kAtomic>::reconnect_task(std::shared_ptr<PoolCore> core, std::size_t slot)
    -> Task<absl::Status> {
  co_return co_await core->connect_slot(slot);
}

template <PoolBackend B, bool kAtomic>
auto PoolCore<B, kAtomic>::sleeper_task(std::shared_ptr<PoolCore> core, absl::Time wake) -> Task<absl::Status> {
  for (;;) {
    // Naps of at most kNap: nothing can cut a B::sleep_for short, and a
    // sleeper that outlives its pool must not keep the loop busy (run()
    // waiting for its tasks) until a deadline seconds away.
    const absl::Duration left = std::max(wake - B::now(core->ctx), absl::ZeroDuration());
    const absl::Status slept = co_await B::sleep_for(core->ctx, std::min(left, kNap));
    // Cancelled: the loop is stopping.
    if (!slept.ok() || core->closed_) {
      core->sleepers_.remove(wake);
      co_return absl::OkStatus();
    }
    if (B::now(core->ctx) < wake) continue;
    core->sleepers_.remove(wake);
    core->start_due(B::now(core->ctx));
    const absl::Time next = core->policy.next_deadline();
    if (next == absl::InfiniteFuture() || core->sleepers_.covers(next)) co_return absl::OkStatus();
    core->sleepers_.add(next);
    wake = next;
  }
}

template <PoolBackend B, bool kAtomic>
void PoolCore<B, kAtomic>::reschedule() noexcept {
  // Posix has no background: acquire() runs what is due.
  if constexpr (!B::kBlocking) {
    if (building_ || closed_) return;
    // start_due() only spawns (tasks start later), but stay safe against a
    // backend that would run them at once.
    if (scheduling_) {
      schedule_again_ = true;
      return;
    }
    scheduling_ = true;
    do {
      schedule_again_ = false;
      start_due(B::now(ctx));
      const absl::Time next = policy.next_deadline();
      if (next != absl::InfiniteFuture() && !sleepers_.covers(next)) {
        sleepers_.add(next);
        B::spawn(ctx, [core = this->shared_from_this(), next]() { return sleeper_task(core, next); });
      }
      (void)policy.take_deadline_moved();
    } while (schedule_again_);
    scheduling_ = false;
  }
}

template <PoolBackend B, bool kAtomic>
void PoolCore<B, kAtomic>::start_due(absl::Time now) noexcept {
  const std::size_t k = policy.due_reconnects(now, std::span<std::size_t>(due_.get(), slots.size()));
  for (std::size_t j = 0; j < k; ++j) {
    const std::size_t slot = due_[j];
    slots[slot].conn.reset();  // the old transport closes first
    B::spawn(ctx, [core = this->shared_from_this(), slot]() { return reconnect_task(core, slot); });
  }
}

template <PoolBackend B, bool kAtomic>
auto PoolCore<B, kAtomic>::reconnect_due() -> Task<absl::Status> {
  if constexpr (B::kBlocking) {
    const std::size_t k = policy.due_reconnects(B::now(ctx), std::span<std::size_t>(due_.get(), slots.size()));
    for (std::size_t j = 0; j < k; ++j) {
      const std::size_t slot = due_[j];
      slots[slot].conn.reset();
      (void)co_await connect_slot(slot);
    }
  } else {
    if (!closed_ && !building_) start_due(B::now(ctx));
  }
  co_return absl::OkStatus();
}

template <PoolBackend B, bool kAtomic>
void PoolCore<B, kAtomic>::drain() noexcept {
  ReturnStack::Batch batch = returns_->take_all();
  for (std::uint32_t slot = batch.pop(); slot != ReturnStack::kEmpty; slot = batch.pop()) {
    Slot& s = slots[slot];
    policy.release(slot, s.released_at, s.outcome, s.cause);
    if (ABSL_PREDICT_FALSE(!s.cause.ok())) s.cause = absl::OkStatus();
  }
}

template <PoolBackend B, bool kAtomic>
auto PoolCore<B, kAtomic>::try_acquire() noexcept -> std::optional<Lease> {
  if constexpr (kAtomic) drain();
  last_now_ = B::now(ctx);
  const std::optional<std::size_t> slot =
      policy.try_acquire(last_now_, [this](std::size_t i) { return B::usable(*slots[i].conn); });
  settle();
  if (!slot.has_value()) return std::nullopt;
  return Lease(this, static_cast<std::uint32_t>(*slot));
}

template <PoolBackend B, bool kAtomic>
auto PoolCore<B, kAtomic>::acquire() -> Task<absl::StatusOr<Lease>> {
  for (int attempt = 0;; ++attempt) {
    if constexpr (B::kBlocking) {
      if (policy.next_deadline() <= B::now(ctx)) (void)co_await reconnect_due();
    }
    if (std::optional<Lease> lease = try_acquire()) co_return *std::move(lease);
    const std::optional<absl::Duration> wait = policy.acquire_delay(attempt);
    if (!wait.has_value()) co_return policy.acquire_timeout_status();
    if constexpr (B::kBlocking) {
      // Nothing runs in the background here: wake for each reconnect that
      // falls due during the wait, then go on waiting.
      const absl::Time end = B::now(ctx) + *wait;
      for (;;) {
        const absl::Time now = B::now(ctx);
        const absl::Time wake = std::min(end, policy.next_deadline());
        if (wake > now) (void)co_await B::sleep_for(ctx, wake - now);
        if (wake >= end) break;
        (void)co_await reconnect_due();
        if (std::optional<Lease> lease = try_acquire()) co_return *std::move(lease);
      }
    } else {
      if (absl::Status slept = co_await B::sleep_for(ctx, *wait); !slept.ok()) co_return slept;
    }
  }
}

template <PoolBackend B, bool kAtomic>
auto PoolCore<B, kAtomic>::send_on(std::uint32_t slot) -> Task<absl::StatusOr<HttpResponse>> {
  Slot& s = slots[slot];
  absl::StatusOr<HttpResponse> response = co_await B::send(*s.conn, s.reader);
  if (ABSL_PREDICT_FALSE(!response.ok())) {
    const http::ClientConnection& c = s.conn->connection();
    s.failure = response.status();
    // Never queued (in_flight() == 0: refused, or the transport failed
    // before the request reached it), or queued and not one byte taken.
    s.unsent = c.in_flight() == 0 || c.nothing_sent(0);
  }
  co_return response;
}

template <PoolBackend B, bool kAtomic>
void PoolCore<B, kAtomic>::give_back(std::uint32_t slot) noexcept {
  Slot& s = slots[slot];
  Connection& conn = *s.conn;
  const http::ClientConnection& c = conn.connection();
  // The usual case: the request completed, nothing is left in the buffer
  // and the connection stays open.
  if (ABSL_PREDICT_FALSE(!s.failure.ok() || c.in_flight() != 0 || !conn.request_buffer().empty() ||
                         !B::usable(conn))) {
    give_back_slow(slot);
    return;
  }
  if constexpr (kAtomic) {
    if (std::this_thread::get_id() != driver_) {
      s.outcome = Outcome::Reusable;
      s.released_at = idle_limited_ ? monotonic_now() : absl::InfinitePast();
      returns_->push(slot);  // after this the slot is the acquirer's
      return;
    }
    // The acquirer's own release needs no stack: the slots returned before
    // it go first, so this one ends on top of the LIFO stack.
    drain();
  }
  // The policy reads a reusable slot's release time only for the idle age:
  // without one, the time of its acquire stands in (no clock read).
  policy.release(slot, idle_limited_ ? B::now(ctx) : last_now_);
  settle();
}

template <PoolBackend B, bool kAtomic>
void PoolCore<B, kAtomic>::give_back_slow(std::uint32_t slot) noexcept {
  Slot& s = slots[slot];
  Connection& conn = *s.conn;
  const http::ClientConnection& c = conn.connection();
  // A request written but never sent must not ride along with the next one.
  WriteBuf& out = conn.request_buffer();
  if (out.size() != c.pending_output().size()) out.truncate(c.pending_output().size());
  const bool usable = B::usable(conn);
  const Outcome outcome = outcome_of(c, usable);
  // A send refused before its request was queued leaves a good connection.
  const absl::Status& cause = !s.failure.ok() ? s.failure : conn.finished();
  if constexpr (kAtomic) {
    if (std::this_thread::get_id() != driver_) {
      s.outcome = outcome;
      if (outcome == Outcome::Poisoned) s.cause = cause;
      s.released_at = monotonic_now();
      s.failure = absl::OkStatus();
      returns_->push(slot);
      return;
    }
    drain();
  }
  policy.release(slot, B::now(ctx), outcome, outcome == Outcome::Poisoned ? cause : absl::OkStatus());
  s.failure = absl::OkStatus();
  settle();
}

template <PoolBackend B, bool kAtomic>
void PoolCore<B, kAtomic>::close() noexcept {
  if (closed_) return;
  closed_ = true;
  if constexpr (kAtomic) drain();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    assert(policy.state(i) != SlotState::InUse && "a lease outlived its pool");
    if (policy.state(i) != SlotState::InUse) slots[i].conn.reset();
  }
}

}  // namespace detail

template <PoolBackend B, bool kAtomic>
auto BasicClientPool<B, kAtomic>::create(Context& ctx, ClientPoolOptions options)
    -> Task<absl::StatusOr<BasicClientPool>> {
  absl::StatusOr<http::RequestWriter> writer = request_writer_for(options);
  if (!writer.ok()) co_return writer.status();
  absl::StatusOr<PoolPolicy> policy = PoolPolicy::create(options.config);
  if (!policy.ok()) co_return policy.status();
  auto core = std::make_shared<Core>(ctx, std::move(options), *std::move(policy), *writer);
  if (absl::Status built = co_await core->build(); !built.ok()) {
    core->close();
    co_return built;
  }
  co_return BasicClientPool(std::move(core));
}

template <PoolBackend B, bool kAtomic>
template <typename Build>
auto BasicClientPool<B, kAtomic>::send_impl(Core* core, Build build) -> Task<absl::StatusOr<Reply>> {
  for (int retries = 0;; ++retries) {
    absl::StatusOr<Lease> lease = co_await core->acquire();
    if (!lease.ok()) co_return lease.status();
    const http::WriteResult request = build(lease->writer(), lease->request_buffer());
    if (!request.ok()) co_return detail::request_refused(request.error);
    const http::Method method = detail::request_method(request.bytes);
    // Asked before the release: whether this connection had served a request.
    const bool reused = core->policy.reused(lease->slot());
    absl::StatusOr<HttpResponse> response = co_await lease->send();
    if (response.ok()) co_return Reply{*std::move(response), *std::move(lease), retries};
    // Refused before it was queued (the connection is fine): the same bytes
    // would be refused on any slot.
    const bool refused = B::usable(lease->connection()) && lease->connection().connection().in_flight() == 0;
    const bool unsent = lease->nothing_sent();
    lease->release();
    if (refused || !core->policy.may_retry(http::method_name(method), unsent, reused, retries)) {
      co_return response.status();
    }
    core->retries.store(core->retries.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
}

}  // namespace tern::pool

#endif  // TERN_BACKENDS_POOL_CLIENT_POOL_H_
