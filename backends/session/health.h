// File: health.h
//
// Health is what a session has seen, kept across reconnects: session
// counters (attempts, opens, reconnects, downs, stale events, rotations,
// errors), traffic counters for the whole lifetime and for the current
// connection, RTT histograms likewise, the last receive time, and a ring of
// the last kErrorRing errors with their time and connection id. Nothing is
// wiped when a connection drops (defi-ws cleared its counters and histogram
// on every reconnect); a new current connection starts its own figures and
// the lifetime ones carry on.
//
// One writer, any readers. The driver's loop thread calls the on_*()
// recorders, with the same ids and `now` it gives the SessionPolicy;
// snapshot() may be called from any thread at any time and returns a
// consistent copy. The state sits behind two seqlocks, one for the counters
// written on every message (about 1 KiB) and one for the histograms and
// the error ring (written at ping rate), so a reader copying the large part
// does not race the per-message writes. Every shared word is an atomic
// written and read relaxed, so readers never race (ThreadSanitizer agrees);
// a reader retries while a write is in progress, the writer never waits.
// Nothing allocates after construction.
//
//   tern::session::Health health;                       // owned by the session
//   health.on_message_in(id, now, m.payload.size());    // loop thread
//   tern::session::HealthSnapshot s = health.snapshot();   // any thread
//   log(s.lifetime.messages_in, s.current_rtt.percentile(0.99));
#ifndef TERN_BACKENDS_SESSION_HEALTH_H_
#define TERN_BACKENDS_SESSION_HEALTH_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <thread>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "backends/session/session_policy.h"
#include "core/ws/close_code.h"

namespace tern::session {

// Errors kept: the last kErrorRing.
inline constexpr std::size_t kErrorRing = 32;

// RttHistogram: round-trip times in fixed log-scale buckets, 8 per power of
// two from 1 us to 2^36 ns (about 69 s), one below and one above; a bucket
// is at most 12.5% wide. Plain data: copy it, merge it.
class RttHistogram {
 public:
  static constexpr int kSubBuckets = 8;
  static constexpr int kMinExponent = 10;  // 2^10 ns: below it, bucket 0
  static constexpr int kMaxExponent = 35;  // [2^35, 2^36) ns: the last regular octave
  static constexpr int kBuckets = 1 + (kMaxExponent - kMinExponent + 1) * kSubBuckets + 1;

  // Negative durations count as 0.
  void record(absl::Duration rtt) noexcept { record_ns(to_ns(rtt)); }
  void merge(const RttHistogram& other) noexcept;
  void clear() noexcept { *this = RttHistogram{}; }

  std::uint64_t count() const noexcept { return count_; }
  // 0 when empty.
  absl::Duration min() const noexcept { return absl::Nanoseconds(count_ == 0 ? 0 : min_ns_); }
  absl::Duration max() const noexcept { return absl::Nanoseconds(max_ns_); }
  absl::Duration mean() const noexcept {
    return count_ == 0 ? absl::ZeroDuration() : absl::Nanoseconds(sum_ns_ / count_);
  }
  // The q-quantile (q in [0, 1]): the upper edge of the bucket holding the
  // ceil(q * count)-th smallest sample, clamped to [min(), max()]. At most
  // one bucket (12.5%) above the true value; exact at q = 0 and q = 1. 0
  // when empty.
  absl::Duration percentile(double q) const noexcept;

  std::uint64_t bucket_count(int bucket) const noexcept { return buckets_[bucket]; }
  static int bucket_of(std::uint64_t ns) noexcept;
  // Every sample in `bucket` is below this (the last bucket: no bound).
  static std::uint64_t bucket_upper_ns(int bucket) noexcept;

 private:
  friend class Health;
  static std::uint64_t to_ns(absl::Duration d) noexcept;
  // Returns the bucket it went into.
  int record_ns(std::uint64_t ns) noexcept;

  std::uint64_t count_ = 0;
  std::uint64_t sum_ns_ = 0;
  std::uint64_t min_ns_ = UINT64_MAX;
  std::uint64_t max_ns_ = 0;
  std::uint64_t buckets_[kBuckets] = {};
};

struct TrafficCounters {
  std::uint64_t messages_in = 0;  // Text and Binary messages received
  std::uint64_t bytes_in = 0;     // their payload bytes
  std::uint64_t messages_out = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t pings_sent = 0;      // protocol Pings (SendPing)
  std::uint64_t pongs_received = 0;  // every Pong, answered or not
  std::uint64_t pings_received = 0;  // the server's Pings

  TrafficCounters& operator+=(const TrafficCounters& o) noexcept;
};

struct SessionCounters {
  std::uint64_t connect_attempts = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t opens = 0;       // connections the handler saw open
  std::uint64_t reconnects = 0;  // opens after the session had lost its connection
  std::uint64_t downs = 0;       // every Down, planned ones included
  std::uint64_t stale_events = 0;  // Downs for PongTimeout, AppPongTimeout, Silent
  std::uint64_t rotations = 0;     // completed hand-overs (SwitchTo)
  std::uint64_t errors = 0;        // entries ever put in the error ring
};

// One connection's own figures.
struct ConnectionHealth {
  ConnectionId id = 0;  // 0: none
  absl::Time opened_at = absl::InfinitePast();
  absl::Time last_receive = absl::InfinitePast();  // InfinitePast: nothing yet
  TrafficCounters traffic;
};

enum class ErrorKind : std::uint8_t {
  ConnectFailed,  // on_connect_failed(): code, status, http_status
  Down,           // an unplanned Down: cause, code, status
  Other,          // record_error()
};
std::string_view name(ErrorKind kind) noexcept;

struct ErrorRecord {
  static constexpr std::size_t kTextSize = 78;

  absl::Time at = absl::InfinitePast();
  ConnectionId id = 0;
  absl::StatusCode status = absl::StatusCode::kOk;
  std::int32_t http_status = 0;
  ws::CloseCode code = ws::CloseCode::NoStatus;
  ErrorKind kind = ErrorKind::Other;
  DownCause cause = DownCause::Failed;  // kind == Down
  std::uint8_t text_size = 0;
  char text_data[kTextSize] = {};

  // The detail given (truncated to kTextSize bytes), or the cause's name.
  std::string_view text() const noexcept { return {text_data, text_size}; }
};

struct HealthSnapshot {
  SessionCounters session;
  TrafficCounters lifetime;                        // every connection, open ones included
  absl::Time last_receive = absl::InfinitePast();  // on any connection
  RttHistogram lifetime_rtt;
  ConnectionHealth current;  // the connection the handler reads from
  RttHistogram current_rtt;  // its RTTs since it became current
  std::uint32_t open_connections = 0;
  // The last error_count errors, oldest first.
  std::array<ErrorRecord, kErrorRing> errors{};
  std::size_t error_count = 0;
};

namespace health_detail {

// A seqlock over a plain struct: the writer changes its own copy (local())
// and publishes the words it touched between begin() and end(); read()
// copies every word and retries if a write overlapped. Boehm, "Can seqlocks
// get along with programming language memory models?" (MSPC 2012).
template <class T>
class Published {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) % 8 == 0);

 public:
  static constexpr std::size_t kWords = sizeof(T) / 8;

  Published() noexcept {
    for (std::size_t w = 0; w < kWords; ++w) store_word(w);
  }
  Published(const Published&) = delete;
  Published& operator=(const Published&) = delete;

  T& local() noexcept { return local_; }
  const T& local() const noexcept { return local_; }

  void begin() noexcept {
    seq_.store(seq_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
  }
  // Publishes the words of local() that hold `field`, a member of it.
  template <class F>
  void publish(const F& field) noexcept {
    const unsigned char* at = reinterpret_cast<const unsigned char*>(&field);
    const std::size_t offset = static_cast<std::size_t>(at - reinterpret_cast<const unsigned char*>(&local_));
    if constexpr (alignof(F) % 8 == 0) {
      // Whole words: a constant count of stores, straight from the field.
      for (std::size_t w = 0; w < sizeof(F) / 8; ++w) {
        std::uint64_t v;
        std::memcpy(&v, at + 8 * w, 8);
        words_[offset / 8 + w].store(v, std::memory_order_relaxed);
      }
    } else {
      for (std::size_t w = offset / 8; w <= (offset + sizeof(F) - 1) / 8; ++w) store_word(w);
    }
  }
  void end() noexcept { seq_.store(seq_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

  // Any thread.
  void read(T& out) const noexcept;

 private:
  void store_word(std::size_t w) noexcept {
    std::uint64_t v;
    std::memcpy(&v, reinterpret_cast<const unsigned char*>(&local_) + 8 * w, 8);
    words_[w].store(v, std::memory_order_relaxed);
  }

  std::atomic<std::uint64_t> seq_{0};
  T local_{};
  std::atomic<std::uint64_t> words_[kWords];
};

}  // namespace health_detail

// Health: see the file comment. Neither copyable nor movable (readers on
// other threads hold its address).
class Health {
 public:
  Health() noexcept = default;
  Health(const Health&) = delete;
  Health& operator=(const Health&) = delete;

  // --- the loop thread ------------------------------------------------------
  // A Connect action is being executed.
  void on_connect_started(ConnectionId id, absl::Time now) noexcept;
  // With the failure's text (the status message), truncated.
  void on_connect_failed(ConnectionId id, absl::Time now, const Ended& why, std::string_view detail) noexcept;
  // on_open() returned true. The first connection open while none is
  // current becomes current.
  void on_open(ConnectionId id, absl::Time now) noexcept;
  // SwitchTo{id}: a rotation handed the session over to id.
  void on_switch(ConnectionId id) noexcept;
  // Text and Binary messages received. A driver that takes several frames
  // from one read may record them once: on_messages_in(id, now, n, bytes).
  void on_message_in(ConnectionId id, absl::Time now, std::size_t bytes) noexcept {
    on_messages_in(id, now, 1, bytes);
  }
  void on_messages_in(ConnectionId id, absl::Time now, std::size_t count, std::size_t bytes) noexcept;
  void on_message_out(ConnectionId id, std::size_t bytes) noexcept;
  void on_ping_sent(ConnectionId id) noexcept;
  void on_ping_received(ConnectionId id, absl::Time now) noexcept;
  // Every Pong; `rtt` as SessionPolicy::on_pong() returned it.
  void on_pong(ConnectionId id, absl::Time now, std::optional<absl::Duration> rtt) noexcept;
  // A Down action. Unplanned ones go into the error ring with `detail` (the
  // close reason or status message; empty: the cause's name).
  void on_down(const Action& down, absl::Time now, std::string_view detail = {}) noexcept;
  // on_closed(): the connection's figures join the lifetime totals.
  void on_closed(ConnectionId id) noexcept;
  // Anything else worth keeping (a protocol error the handler saw, ...).
  void record_error(absl::Time now, ConnectionId id, absl::StatusCode status, std::string_view detail) noexcept;

  // --- any thread -------------------------------------------------------------
  HealthSnapshot snapshot() const noexcept;

 private:
  struct Slot {
    ConnectionId id = 0;  // 0: free
    std::uint32_t pad = 0;
    absl::Time opened_at = absl::InfinitePast();
    absl::Time last_receive = absl::InfinitePast();
    TrafficCounters traffic;
  };
  struct Hot {
    SessionCounters session;
    TrafficCounters closed;  // connections gone, summed
    absl::Time closed_last_receive = absl::InfinitePast();
    Slot slots[kMaxConnections];
    std::int32_t current = -1;  // slot the handler reads from
    std::uint32_t had_current = 0;
  };
  struct Cold {
    RttHistogram lifetime_rtt;
    RttHistogram current_rtt;
    std::uint64_t error_total = 0;
    ErrorRecord errors[kErrorRing];
  };
  static_assert(sizeof(ErrorRecord) % 8 == 0);

  int slot_of(ConnectionId id) const noexcept {
    const Hot& h = hot_.local();
    if (h.current >= 0 && h.slots[h.current].id == id) return h.current;
    for (int s = 0; s < static_cast<int>(kMaxConnections); ++s) {
      if (h.slots[s].id == id && id != 0) return s;
    }
    return -1;
  }
  void add_error(const ErrorRecord& e, std::string_view detail, std::string_view fallback) noexcept;
  void record_rtt(RttHistogram& h, std::uint64_t ns) noexcept;

  health_detail::Published<Hot> hot_;
  health_detail::Published<Cold> cold_;
};

// --- inline: the per-message recorders ------------------------------------------

inline void Health::on_messages_in(ConnectionId id, absl::Time now, std::size_t count,
                                   std::size_t bytes) noexcept {
  const int s = slot_of(id);
  if (s < 0) return;
  Slot& slot = hot_.local().slots[s];
  hot_.begin();
  slot.traffic.messages_in += count;
  slot.traffic.bytes_in += bytes;
  slot.last_receive = now;
  hot_.publish(slot.traffic.messages_in);
  hot_.publish(slot.traffic.bytes_in);
  hot_.publish(slot.last_receive);
  hot_.end();
}

inline void Health::on_message_out(ConnectionId id, std::size_t bytes) noexcept {
  const int s = slot_of(id);
  if (s < 0) return;
  Slot& slot = hot_.local().slots[s];
  hot_.begin();
  ++slot.traffic.messages_out;
  slot.traffic.bytes_out += bytes;
  hot_.publish(slot.traffic.messages_out);
  hot_.publish(slot.traffic.bytes_out);
  hot_.end();
}

template <class T>
void health_detail::Published<T>::read(T& out) const noexcept {
  unsigned char* to = reinterpret_cast<unsigned char*>(&out);
  for (int attempt = 0;; ++attempt) {
    // The writer may be preempted mid-write: give it the CPU.
    if (attempt >= 16) std::this_thread::yield();
    const std::uint64_t before = seq_.load(std::memory_order_acquire);
    if ((before & 1) == 0) {
      for (std::size_t w = 0; w < kWords; ++w) {
        const std::uint64_t v = words_[w].load(std::memory_order_relaxed);
        std::memcpy(to + 8 * w, &v, 8);
      }
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) == before) return;
    }
  }
}

}  // namespace tern::session

#endif  // TERN_BACKENDS_SESSION_HEALTH_H_
