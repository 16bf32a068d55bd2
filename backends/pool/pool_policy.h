// File: pool_policy.h
//
// PoolPolicy is every decision of tern's connection pools (ClientPool and
// AtomicClientPool, on every backend) as a sans-IO state machine: which slot
// to hand out, when a slot is too old or dead to trust, when to reconnect it
// and how long to back off, how long a patient acquire waits, whether a
// failed request may be retried, and the metrics. It does no I/O, reads no
// clock, starts no thread: the driver (backends/pool/client_pool.h) passes
// `now`, reports what its connects did, and executes what the policy says,
// inline on posix and as tasks on an event loop.
//
// Slots are the indices 0..n-1; the driver keeps the connection of slot i in
// its own array. Each slot is in one SlotState:
//
//   Connecting --on_connected--> Free --try_acquire--> InUse
//       ^   \                     ^  \                   |
//       |    on_connect_failed    |   dead / too old     release(Reusable): Free, top of the stack
//       |            v            |        v             release(Closed):   Backoff, due at once
//       +-due_reconnects-- Backoff <-------+------------ release(Poisoned): Backoff, after the delay
//
// Free slots form a LIFO stack: try_acquire() takes the most recently
// released (warmest) connection first. Time is the caller's monotonic clock
// as absl::Time (backends' B::now()); only differences matter, and it should
// not go backwards.
//
//   auto policy = tern::pool::PoolPolicy::create({.connections = 4});
//   policy->begin_build(now);            // connect every slot, then for each:
//   policy->on_connected(slot, now);     //   or on_connect_failed(slot, now, status)
//   if (policy->build_failed()) ...      // tear everything down
//   if (auto slot = policy->try_acquire(now, [&](std::size_t i) { return B::usable(conns[i]); })) {
//     ... send on conns[*slot] ...
//     policy->release(*slot, now);       // or Outcome::Poisoned with the cause
//   }
//   std::size_t due[kMax];               // in the reconnect task, at next_deadline():
//   for (std::size_t i = 0, k = policy->due_reconnects(now, due); i < k; ++i) ...connect due[i]...
//
// Allocation: the slot tables at create(); nothing afterwards (copying an
// absl::Status the caller built is a reference count). Threads: everything
// is for the one thread that drives the pool, except metrics() and
// slot_metrics(), which any thread may call (see there).
#ifndef TERN_BACKENDS_POOL_POOL_POLICY_H_
#define TERN_BACKENDS_POOL_POOL_POLICY_H_

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tern::pool {

enum class SlotState : std::uint8_t {
  Connecting,  // the first connect or a reconnect is in flight (the driver's)
  Free,        // connected, on the LIFO stack
  InUse,       // handed out by try_acquire(), until release()
  Backoff,     // waiting for retry_at(), then due_reconnects() hands it out
};
// "Connecting", "Free", "InUse", "Backoff".
std::string_view name(SlotState state) noexcept;

// How a request left its slot's connection.
enum class Outcome : std::uint8_t {
  Reusable,  // keep-alive: back on top of the stack
  Closed,    // ended cleanly (Connection: close, a body read to EOF): reconnect at once, no error
  Poisoned,  // I/O error, read timeout, parse error, early close: reconnect after the backoff
};

// Every figure of the pool's behaviour. The defaults are the seed's
// (nexus-async-net) where it had one; the rest are off.
struct PoolConfig {
  // Slots (connections), 1..PoolPolicy::kMaxConnections.
  std::size_t connections = 1;

  // The patient acquire(): wait acquire_delay(k) after the k-th failed try,
  // from the initial delay multiplied up to the max, max_acquire_attempts
  // times (1 ms doubling to 1 s, 20 waits: 11.023 s in all), then fail.
  absl::Duration acquire_initial_delay = absl::Milliseconds(1);
  double acquire_multiplier = 2.0;
  absl::Duration acquire_max_delay = absl::Seconds(1);
  int max_acquire_attempts = 20;

  // Reconnect backoff, never giving up: a slot that enters Backoff waits
  // its current delay d, drawn uniformly in [d * (1 - jitter), d] so that
  // slots (and clients) that failed together do not reconnect together;
  // each failed connect multiplies d up to the max; a successful connect
  // resets it to the initial delay. The seed: 100 ms doubling to 5 s, no jitter.
  absl::Duration reconnect_initial_delay = absl::Milliseconds(100);
  double reconnect_multiplier = 2.0;
  absl::Duration reconnect_max_delay = absl::Seconds(5);
  double reconnect_jitter = 0.2;  // in [0, 1)

  // A Free slot idle for at least this long (since its last release or
  // connect) is never handed out: it is refreshed (reconnected) first.
  // Set it below the server's keep-alive timeout, so that the server's
  // close cannot race the next request (hyper#2136, akka-http#3806).
  std::optional<absl::Duration> max_idle_age;

  // Request retry (may_retry()); the caller owns idempotency, so both are
  // off. retry_unsent: a request that provably put no byte on the wire may
  // be retried on another slot. retry_idempotent: GET, HEAD, OPTIONS,
  // TRACE, PUT, DELETE may be retried after a failure on a reused
  // connection (the keep-alive race Go's transport retries). At most
  // max_retries retries per request.
  bool retry_unsent = false;
  bool retry_idempotent = false;
  int max_retries = 1;

  // Seed of the jitter's generator (splitmix64, so the same seed gives the
  // same delays everywhere); none: drawn from absl::BitGen at create().
  std::optional<std::uint64_t> seed;
};

// Why a config is refused (InvalidArgument), or OK.
absl::Status validate(const PoolConfig& config);

// RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE (case-sensitive,
// §9.1). An empty name (http::method_name of an unknown method) is not.
bool idempotent_method(std::string_view method) noexcept;

// The pool at one instant. Counts come from one pass over the slots, so
// they add up (free + in_use + connecting + backoff == slots) even when
// read from another thread while the pool works.
struct PoolMetrics {
  std::size_t slots = 0;
  std::size_t healthy = 0;       // Free + InUse
  std::size_t free = 0;
  std::size_t in_use = 0;
  std::size_t connecting = 0;    // Connecting: the build, or a reconnect in flight
  std::size_t backoff = 0;
  std::size_t reconnecting = 0;  // after the build: Backoff + Connecting
  std::uint64_t reconnects = 0;       // successful connects of slots that had connected before
  std::uint64_t failed_connects = 0;  // build and reconnect attempts that failed
  std::uint64_t poisoned = 0;         // released Poisoned or found dead at acquire
  std::uint64_t idle_refreshes = 0;   // refreshed for idle age (at acquire or ahead of it)
};

struct SlotMetrics {
  SlotState state = SlotState::Connecting;
  // The last failure seen on this slot (connect failure, poisoning, found
  // dead); OK if none. Kept after the slot heals: it says what happened last.
  absl::Status last_error;
  std::uint64_t reconnects = 0;
  std::uint64_t failed_connects = 0;
  std::uint64_t poisoned = 0;
  std::uint64_t idle_refreshes = 0;
};

// PoolPolicy: the state of n slots and every rule above. Move-only (the
// tables are on the heap, so a move keeps them where metrics readers see
// them; do not move it while another thread reads metrics).
class PoolPolicy {
 public:
  static constexpr std::size_t kMaxConnections = 1 << 16;

  // InvalidArgument if validate(config) refuses it. All slots start
  // Connecting, before any build.
  static absl::StatusOr<PoolPolicy> create(const PoolConfig& config);

  PoolPolicy(PoolPolicy&&) noexcept = default;
  PoolPolicy& operator=(PoolPolicy&&) noexcept = default;
  ~PoolPolicy() = default;

  // ---- Building ----------------------------------------------------------

  // Starts (or starts over) the build: every slot Connecting, counters and
  // errors cleared. The driver connects every slot and reports each result.
  void begin_build(absl::Time now) noexcept;
  // Any connect of the build failed: the driver tears everything down
  // ("fails, creating nothing"). Stays true until begin_build().
  bool build_failed() const noexcept { return build() == Build::Failed; }
  // Every slot has connected once and none failed.
  bool built() const noexcept { return build() == Build::Done; }

  // ---- Connect results (build and reconnects) -----------------------------

  // `slot` (Connecting) has a new transport: it goes Free, on top of the
  // stack, its backoff reset to the initial delay.
  void on_connected(std::size_t slot, absl::Time now) noexcept;
  // `slot`'s connect failed: Backoff for its current delay (jittered), the
  // delay then multiplied for next time; `cause` becomes its last error.
  void on_connect_failed(std::size_t slot, absl::Time now, const absl::Status& cause) noexcept;

  // ---- Hand-out -----------------------------------------------------------

  // A Free slot for one request, or nullopt when every slot is busy,
  // connecting or backing off. Never blocks, no I/O. Takes the top of the
  // LIFO stack; a slot idle for max_idle_age or more is refreshed (Backoff,
  // due at once) without asking `usable`; one for which usable(slot) (the
  // driver asks its backend whether the transport is alive) is false is
  // ejected like a poisoned one; the walk then goes on down the stack.
  // O(1) plus O(1) per ejected slot; the usual case (the top slot is fresh
  // and usable) is inline and does no absl::Time arithmetic.
  template <class Usable>
  std::optional<std::size_t> try_acquire(absl::Time now, Usable&& usable) noexcept(
      noexcept(static_cast<bool>(usable(std::size_t{}))));

  // Gives back a slot handed out by try_acquire(). `cause` is recorded for
  // Poisoned (OK is replaced by a generic "poisoned" status). A slot that
  // is not InUse is ignored (asserts in debug builds): releasing twice
  // must never put one slot in two hands.
  void release(std::size_t slot, absl::Time now, Outcome outcome = Outcome::Reusable,
               const absl::Status& cause = absl::OkStatus()) noexcept;

  // Whether `slot`'s current connection has completed a request before
  // (was released Reusable since it connected): may_retry()'s `reused`.
  // Ask before releasing the failed request's slot.
  bool reused(std::size_t slot) const noexcept { return slots_[slot].reused; }

  // ---- Reconnects ---------------------------------------------------------

  // Moves the slots that are due to Connecting and writes their indices to
  // `out` (up to out.size(); the rest stay due for the next call); returns
  // how many. Due: Backoff with retry_at() <= now, then, with max_idle_age,
  // Free slots idle for max_idle_age or more, oldest first (refreshed ahead
  // of the next acquire, so a burst finds live connections). The driver
  // replaces each one's transport and reports on_connected or
  // on_connect_failed. O(n) when a Backoff slot is due, else O(1) plus the
  // slots taken.
  std::size_t due_reconnects(absl::Time now, std::span<std::size_t> out) noexcept;

  // When due_reconnects() next has work: the earliest retry_at() of a
  // Backoff slot or, with max_idle_age, the time the oldest Free slot
  // becomes too old; absl::InfiniteFuture() if neither. O(1).
  absl::Time next_deadline() const noexcept;

  // True once after any call that may have moved next_deadline() earlier
  // (a slot entered Backoff, also inside try_acquire(), or a slot joined
  // an empty stack while max_idle_age is set): wake the reconnect task.
  bool take_deadline_moved() noexcept {
    const bool moved = deadline_moved_;
    deadline_moved_ = false;
    return moved;
  }

  // ---- The patient acquire and request retry --------------------------------

  // The wait after the attempt-th failed try (0-based) of acquire():
  // min(initial * multiplier^attempt, max); nullopt once max_acquire_attempts
  // waits are used up (then fail with acquire_timeout_status()).
  std::optional<absl::Duration> acquire_delay(int attempt) const noexcept;
  // DeadlineExceeded "pool acquire timed out ..." with the slot counts.
  // Built on the failure path (allocates).
  absl::Status acquire_timeout_status() const;

  // Whether a request that failed may be sent again (on another slot):
  // `retries` it already had < max_retries, and either nothing_sent with
  // retry_unsent, or retry_idempotent with idempotent_method(method) and a
  // `reused` connection (a fresh one that fails says the server is in
  // trouble; retrying adds load). `method` is the request line's token.
  bool may_retry(std::string_view method, bool nothing_sent, bool reused, int retries) const noexcept;

  // ---- State and metrics --------------------------------------------------

  // Any thread: slot states and counters are relaxed atomics that only the
  // driving thread writes (plain stores on x86, no read-modify-write on the
  // hot path), and last errors are copied under a mutex that the driving
  // thread takes only when it records a failure. O(n).
  PoolMetrics metrics() const noexcept;
  SlotMetrics slot_metrics(std::size_t slot) const;

  // Driving thread.
  std::size_t size() const noexcept { return size_; }
  SlotState state(std::size_t slot) const noexcept {
    return slots_[slot].state.load(std::memory_order_relaxed);
  }
  std::size_t free_count() const noexcept { return free_count_; }
  // When a Backoff slot becomes due.
  absl::Time retry_at(std::size_t slot) const noexcept { return slots_[slot].retry_at; }
  // When `slot` last went Free (released Reusable or connected).
  absl::Time last_used(std::size_t slot) const noexcept { return slots_[slot].last_used; }
  const PoolConfig& config() const noexcept { return config_; }

 private:
  enum class Build : std::uint8_t { NotStarted, Building, Done, Failed };

  struct Slot {
    std::atomic<SlotState> state{SlotState::Connecting};
    bool ever_connected = false;  // so a later connect is a reconnect
    bool reused = false;
    absl::Time last_used;                  // Free: idle since
    absl::Time retry_at;                   // Backoff: due at
    absl::Duration next_delay;             // the next Backoff's nominal delay
    std::atomic<std::uint64_t> reconnects{0};
    std::atomic<std::uint64_t> failed_connects{0};
    std::atomic<std::uint64_t> poisoned{0};
    std::atomic<std::uint64_t> idle_refreshes{0};
    absl::Status last_error;  // written under Shared::error_mutex
  };

  // What other threads read, on the heap so that the policy can move.
  struct Shared {
    explicit Shared(std::size_t n) : slots(new Slot[n]) {}
    std::unique_ptr<Slot[]> slots;
    std::atomic<Build> build{Build::NotStarted};
    // std::mutex, not absl::Mutex: Debian's Abseil is not built with TSan's
    // annotations, so TSan would not see absl::Mutex order anything.
    std::mutex error_mutex;
  };

  explicit PoolPolicy(const PoolConfig& config);

  Build build() const noexcept { return shared_->build.load(std::memory_order_relaxed); }
  void set_state(Slot& s, SlotState state) noexcept { s.state.store(state, std::memory_order_relaxed); }
  // Single writer: a load and a store, not a locked increment.
  static void bump(std::atomic<std::uint64_t>& counter) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void push_free(std::uint32_t slot) noexcept {
    if (idle_limited_ && free_count_ == 0) deadline_moved_ = true;
    ring_[(free_bottom_ + free_count_++) & ring_mask_] = slot;
  }

  // The idle check without absl::Time arithmetic (out of line in Abseil,
  // about 4 ns) on the hot path: for every now <= idle_window_end_, a slot
  // with last_used > fresh_after_ (= idle_window_end_ - max_idle_age) is
  // fresh, so only a slot within idle_slack_ of the limit pays for the
  // exact test. The window moves at most once per idle_slack_.
  ABSL_ATTRIBUTE_NOINLINE void move_idle_window(absl::Time now) noexcept;
  ABSL_ATTRIBUTE_NOINLINE bool idle_too_long(const Slot& s, absl::Time now) const noexcept;

  // try_acquire() beyond its inline case: a slot, or kNoSlot.
  static constexpr std::uint32_t kNoSlot = UINT32_MAX;
  template <class Usable>
  ABSL_ATTRIBUTE_NOINLINE std::uint32_t acquire_walk(absl::Time now, Usable& usable) noexcept(
      noexcept(static_cast<bool>(usable(std::size_t{}))));

  // Cold transitions, out of line.
  ABSL_ATTRIBUTE_NOINLINE void eject_stale(std::uint32_t slot, absl::Time now) noexcept;
  ABSL_ATTRIBUTE_NOINLINE void eject_dead(std::uint32_t slot, absl::Time now) noexcept;
  ABSL_ATTRIBUTE_NOINLINE void release_slow(std::size_t slot, absl::Time now, Outcome outcome,
                                            const absl::Status& cause) noexcept;
  // Backoff until now + `delay` (refreshes: zero).
  void enter_backoff(std::uint32_t slot, absl::Time now, absl::Duration delay) noexcept;
  // The slot's next delay, jittered; multiplies the one after.
  absl::Duration draw_backoff(Slot& s) noexcept;
  void set_error(Slot& s, const absl::Status& cause) noexcept;
  std::uint64_t next_random() noexcept;

  PoolConfig config_;
  std::unique_ptr<Shared> shared_;
  Slot* slots_ = nullptr;  // shared_->slots, one indirection less on the hot path
  std::size_t size_ = 0;

  // The Free stack: a ring so that the oldest (bottom) can be refreshed
  // ahead of time as cheaply as the top is taken. Releases come in time
  // order, so the ring is sorted by last_used, bottom oldest.
  std::unique_ptr<std::uint32_t[]> ring_;
  std::uint32_t ring_mask_ = 0;
  std::uint32_t free_bottom_ = 0;
  std::uint32_t free_count_ = 0;

  bool idle_limited_ = false;
  bool deadline_moved_ = false;
  absl::Duration max_idle_;
  absl::Duration idle_slack_;
  absl::Time idle_window_end_ = absl::InfinitePast();
  absl::Time fresh_after_ = absl::InfiniteFuture();
  absl::Time backoff_deadline_ = absl::InfiniteFuture();  // min retry_at over Backoff slots
  std::size_t unbuilt_ = 0;  // slots still to connect for the first time in the build
  std::uint64_t rng_ = 0;
  // Built once, copied (a reference count) when a slot is found dead or
  // poisoned without a cause, so those paths do not allocate.
  absl::Status dead_status_;
  absl::Status poisoned_status_;
};

template <class Usable>
inline std::optional<std::size_t> PoolPolicy::try_acquire(absl::Time now, Usable&& usable) noexcept(
    noexcept(static_cast<bool>(usable(std::size_t{})))) {
  // The usual case inline: the top slot is fresh and alive. Everything
  // else (an empty stack, a slot to eject, the idle window to move) is the
  // walk, out of line.
  if (ABSL_PREDICT_TRUE(free_count_ != 0 && (!idle_limited_ || now <= idle_window_end_))) {
    const std::uint32_t slot = ring_[(free_bottom_ + free_count_ - 1) & ring_mask_];
    Slot& s = slots_[slot];
    if (ABSL_PREDICT_TRUE(!idle_limited_ || s.last_used > fresh_after_)) {
      --free_count_;
      if (ABSL_PREDICT_TRUE(static_cast<bool>(usable(static_cast<std::size_t>(slot))))) {
        set_state(s, SlotState::InUse);
        return slot;
      }
      eject_dead(slot, now);
    }
  }
  // A plain index from the walk, not an optional: GCC merges two optionals
  // through memory (a byte and a word stored, sixteen bytes loaded), a
  // store-forwarding stall that doubled the cost of the whole call.
  const std::uint32_t slot = acquire_walk(now, usable);
  if (slot == kNoSlot) return std::nullopt;
  return slot;
}

template <class Usable>
std::uint32_t PoolPolicy::acquire_walk(absl::Time now, Usable& usable) noexcept(
    noexcept(static_cast<bool>(usable(std::size_t{})))) {
  if (free_count_ == 0) return kNoSlot;
  if (idle_limited_ && now > idle_window_end_) move_idle_window(now);
  do {
    const std::uint32_t slot = ring_[(free_bottom_ + --free_count_) & ring_mask_];
    Slot& s = slots_[slot];
    if (idle_limited_ && s.last_used <= fresh_after_ && idle_too_long(s, now)) {
      eject_stale(slot, now);
      continue;
    }
    if (!static_cast<bool>(usable(static_cast<std::size_t>(slot)))) {
      eject_dead(slot, now);
      continue;
    }
    set_state(s, SlotState::InUse);
    return slot;
  } while (free_count_ != 0);
  return kNoSlot;
}

inline void PoolPolicy::release(std::size_t slot, absl::Time now, Outcome outcome,
                                const absl::Status& cause) noexcept {
  if (ABSL_PREDICT_FALSE(slot >= size_ || state(slot) != SlotState::InUse)) {
    assert(false && "release() of a slot that is not in use");
    return;
  }
  if (ABSL_PREDICT_FALSE(outcome != Outcome::Reusable)) {
    release_slow(slot, now, outcome, cause);
    return;
  }
  Slot& s = slots_[slot];
  s.last_used = now;
  s.reused = true;
  set_state(s, SlotState::Free);
  push_free(static_cast<std::uint32_t>(slot));
}

}  // namespace tern::pool

#endif  // TERN_BACKENDS_POOL_POOL_POLICY_H_
