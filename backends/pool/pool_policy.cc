#include "backends/pool/pool_policy.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

namespace tern::pool {

std::string_view name(SlotState state) noexcept {
  switch (state) {
    case SlotState::Connecting: return "Connecting";
    case SlotState::Free: return "Free";
    case SlotState::InUse: return "InUse";
    case SlotState::Backoff: return "Backoff";
  }
  return "?";
}

namespace {

bool finite_positive(absl::Duration d) { return d > absl::ZeroDuration() && d < absl::InfiniteDuration(); }

}  // namespace

absl::Status validate(const PoolConfig& c) {
  auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("pool config: ", what));
  };
  if (c.connections < 1 || c.connections > PoolPolicy::kMaxConnections) {
    return bad(absl::StrCat("connections must be in 1..", PoolPolicy::kMaxConnections, ", not ", c.connections));
  }
  if (!finite_positive(c.acquire_initial_delay) || !finite_positive(c.acquire_max_delay) ||
      c.acquire_max_delay < c.acquire_initial_delay) {
    return bad("acquire delays must be finite, positive, initial <= max");
  }
  // Written to be false for NaN too.
  if (!(c.acquire_multiplier >= 1.0) || !(c.reconnect_multiplier >= 1.0) ||
      !std::isfinite(c.acquire_multiplier) || !std::isfinite(c.reconnect_multiplier)) {
    return bad("multipliers must be finite and >= 1");
  }
  if (c.max_acquire_attempts < 0) return bad("max_acquire_attempts must be >= 0");
  // A zero reconnect delay would let a slot whose server refuses every
  // connect spin the driver's loop.
  if (!finite_positive(c.reconnect_initial_delay) || !finite_positive(c.reconnect_max_delay) ||
      c.reconnect_max_delay < c.reconnect_initial_delay) {
    return bad("reconnect delays must be finite, positive, initial <= max");
  }
  if (!(c.reconnect_jitter >= 0.0 && c.reconnect_jitter < 1.0)) return bad("reconnect_jitter must be in [0, 1)");
  if (c.max_idle_age.has_value() && !finite_positive(*c.max_idle_age)) {
    return bad("max_idle_age must be finite and positive");
  }
  if (c.max_retries < 0) return bad("max_retries must be >= 0");
  return absl::OkStatus();
}

bool idempotent_method(std::string_view m) noexcept {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" || m == "DELETE";
}

absl::StatusOr<PoolPolicy> PoolPolicy::create(const PoolConfig& config) {
  if (absl::Status s = validate(config); !s.ok()) return s;
  return PoolPolicy(config);
}

PoolPolicy::PoolPolicy(const PoolConfig& config)
    : config_(config),
      shared_(std::make_unique<Shared>(config.connections)),
      slots_(shared_->slots.get()),
      size_(config.connections),
      ring_(new std::uint32_t[std::bit_ceil(config.connections)]),
      ring_mask_(static_cast<std::uint32_t>(std::bit_ceil(config.connections) - 1)),
      idle_limited_(config.max_idle_age.has_value()),
      max_idle_(config.max_idle_age.value_or(absl::InfiniteDuration())),
      // Wide enough that the window rarely moves, narrow enough that few
      // slots fall in it (slots idle within it of the limit).
      idle_slack_(std::min(max_idle_ / 64, absl::Milliseconds(100))),
      dead_status_(absl::UnavailableError("pool: connection found unusable at acquire")),
      poisoned_status_(absl::UnavailableError("pool: connection poisoned")) {
  if (config.seed.has_value()) {
    rng_ = *config.seed;
  } else {
    absl::BitGen gen;
    rng_ = absl::Uniform<std::uint64_t>(gen);
  }
  for (std::size_t i = 0; i < size_; ++i) slots_[i].next_delay = config_.reconnect_initial_delay;
}

void PoolPolicy::begin_build(absl::Time now) noexcept {
  {
    std::lock_guard<std::mutex> lock(shared_->error_mutex);
    for (std::size_t i = 0; i < size_; ++i) slots_[i].last_error = absl::OkStatus();
  }
  for (std::size_t i = 0; i < size_; ++i) {
    Slot& s = slots_[i];
    set_state(s, SlotState::Connecting);
    s.ever_connected = false;
    s.reused = false;
    s.last_used = now;
    s.retry_at = now;
    s.next_delay = config_.reconnect_initial_delay;
    for (auto* counter : {&s.reconnects, &s.failed_connects, &s.poisoned, &s.idle_refreshes}) {
      counter->store(0, std::memory_order_relaxed);
    }
  }
  free_bottom_ = free_count_ = 0;
  backoff_deadline_ = absl::InfiniteFuture();
  deadline_moved_ = false;
  unbuilt_ = size_;
  shared_->build.store(Build::Building, std::memory_order_relaxed);
}

void PoolPolicy::on_connected(std::size_t slot, absl::Time now) noexcept {
  if (slot >= size_ || state(slot) != SlotState::Connecting) {
    assert(false && "on_connected() for a slot that is not connecting");
    return;
  }
  Slot& s = slots_[slot];
  if (s.ever_connected) {
    bump(s.reconnects);
  } else {
    s.ever_connected = true;
    if (build() == Build::Building && --unbuilt_ == 0) {
      shared_->build.store(Build::Done, std::memory_order_relaxed);
    }
  }
  s.next_delay = config_.reconnect_initial_delay;
  s.reused = false;
  s.last_used = now;
  set_state(s, SlotState::Free);
  push_free(static_cast<std::uint32_t>(slot));
}

void PoolPolicy::on_connect_failed(std::size_t slot, absl::Time now, const absl::Status& cause) noexcept {
  if (slot >= size_ || state(slot) != SlotState::Connecting) {
    assert(false && "on_connect_failed() for a slot that is not connecting");
    return;
  }
  Slot& s = slots_[slot];
  bump(s.failed_connects);
  set_error(s, cause.ok() ? poisoned_status_ : cause);
  if (build() == Build::Building) shared_->build.store(Build::Failed, std::memory_order_relaxed);
  enter_backoff(static_cast<std::uint32_t>(slot), now, draw_backoff(s));
}

void PoolPolicy::move_idle_window(absl::Time now) noexcept {
  idle_window_end_ = now + idle_slack_;
  fresh_after_ = idle_window_end_ - max_idle_;
}

bool PoolPolicy::idle_too_long(const Slot& s, absl::Time now) const noexcept {
  return s.last_used <= now - max_idle_;
}

void PoolPolicy::eject_stale(std::uint32_t slot, absl::Time now) noexcept {
  bump(slots_[slot].idle_refreshes);
  enter_backoff(slot, now, absl::ZeroDuration());
}

void PoolPolicy::eject_dead(std::uint32_t slot, absl::Time now) noexcept {
  Slot& s = slots_[slot];
  bump(s.poisoned);
  set_error(s, dead_status_);
  enter_backoff(slot, now, draw_backoff(s));
}

void PoolPolicy::release_slow(std::size_t slot, absl::Time now, Outcome outcome,
                              const absl::Status& cause) noexcept {
  Slot& s = slots_[slot];
  s.last_used = now;
  if (outcome == Outcome::Closed) {
    enter_backoff(static_cast<std::uint32_t>(slot), now, absl::ZeroDuration());
    return;
  }
  bump(s.poisoned);
  set_error(s, cause.ok() ? poisoned_status_ : cause);
  enter_backoff(static_cast<std::uint32_t>(slot), now, draw_backoff(s));
}

void PoolPolicy::enter_backoff(std::uint32_t slot, absl::Time now, absl::Duration delay) noexcept {
  Slot& s = slots_[slot];
  s.retry_at = now + delay;
  set_state(s, SlotState::Backoff);
  if (s.retry_at < backoff_deadline_) backoff_deadline_ = s.retry_at;
  deadline_moved_ = true;
}

absl::Duration PoolPolicy::draw_backoff(Slot& s) noexcept {
  const std::int64_t d = absl::ToInt64Nanoseconds(s.next_delay);
  // Uniform in [d - floor(d * jitter), d], inside [d * (1 - jitter), d].
  const auto span = static_cast<std::uint64_t>(static_cast<double>(d) * config_.reconnect_jitter);
  // Modulo bias at most (span + 1) / 2^64: nil for any delay below years.
  const std::uint64_t off = next_random() % (span + 1);
  s.next_delay = std::min(config_.reconnect_max_delay, s.next_delay * config_.reconnect_multiplier);
  return absl::Nanoseconds(d - static_cast<std::int64_t>(off));
}

void PoolPolicy::set_error(Slot& s, const absl::Status& cause) noexcept {
  std::lock_guard<std::mutex> lock(shared_->error_mutex);
  s.last_error = cause;
}

// splitmix64 (Steele, Lea, Flood 2014): one add and two multiplies, and
// the same sequence for a seed on every platform, unlike absl::BitGen.
std::uint64_t PoolPolicy::next_random() noexcept {
  std::uint64_t z = (rng_ += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

std::size_t PoolPolicy::due_reconnects(absl::Time now, std::span<std::size_t> out) noexcept {
  std::size_t taken = 0;
  if (backoff_deadline_ <= now) {
    absl::Time next = absl::InfiniteFuture();
    for (std::size_t i = 0; i < size_; ++i) {
      Slot& s = slots_[i];
      if (state(i) != SlotState::Backoff) continue;
      if (s.retry_at <= now && taken < out.size()) {
        set_state(s, SlotState::Connecting);
        out[taken++] = i;
      } else if (s.retry_at < next) {
        next = s.retry_at;
      }
    }
    backoff_deadline_ = next;
  }
  if (idle_limited_ && free_count_ != 0 && taken < out.size()) {
    const absl::Time stale_at_or_before = now - max_idle_;
    while (free_count_ != 0 && taken < out.size()) {
      const std::uint32_t slot = ring_[free_bottom_];
      Slot& s = slots_[slot];
      if (s.last_used > stale_at_or_before) break;
      free_bottom_ = (free_bottom_ + 1) & ring_mask_;
      --free_count_;
      bump(s.idle_refreshes);
      set_state(s, SlotState::Connecting);
      out[taken++] = slot;
    }
  }
  return taken;
}

absl::Time PoolPolicy::next_deadline() const noexcept {
  absl::Time t = backoff_deadline_;
  if (idle_limited_ && free_count_ != 0) t = std::min(t, slots_[ring_[free_bottom_]].last_used + max_idle_);
  return t;
}

std::optional<absl::Duration> PoolPolicy::acquire_delay(int attempt) const noexcept {
  if (attempt < 0 || attempt >= config_.max_acquire_attempts) return std::nullopt;
  // absl::Duration * double saturates instead of overflowing.
  return std::min(config_.acquire_max_delay,
                  config_.acquire_initial_delay * std::pow(config_.acquire_multiplier, attempt));
}

absl::Status PoolPolicy::acquire_timeout_status() const {
  absl::Duration total;
  for (int k = 0; k < config_.max_acquire_attempts; ++k) total += *acquire_delay(k);
  const PoolMetrics m = metrics();
  return absl::DeadlineExceededError(absl::StrCat(
      "pool acquire timed out after ", config_.max_acquire_attempts + 1, " tries over ",
      absl::FormatDuration(total), ": ", m.in_use, " of ", m.slots, " slots in use, ", m.connecting,
      " connecting, ", m.backoff, " backing off"));
}

bool PoolPolicy::may_retry(std::string_view method, bool nothing_sent, bool reused, int retries) const noexcept {
  if (retries >= config_.max_retries) return false;
  if (nothing_sent && config_.retry_unsent) return true;
  return config_.retry_idempotent && reused && idempotent_method(method);
}

PoolMetrics PoolPolicy::metrics() const noexcept {
  PoolMetrics m;
  m.slots = size_;
  for (std::size_t i = 0; i < size_; ++i) {
    const Slot& s = slots_[i];
    switch (s.state.load(std::memory_order_relaxed)) {
      case SlotState::Connecting: ++m.connecting; break;
      case SlotState::Free: ++m.free; break;
      case SlotState::InUse: ++m.in_use; break;
      case SlotState::Backoff: ++m.backoff; break;
    }
    m.reconnects += s.reconnects.load(std::memory_order_relaxed);
    m.failed_connects += s.failed_connects.load(std::memory_order_relaxed);
    m.poisoned += s.poisoned.load(std::memory_order_relaxed);
    m.idle_refreshes += s.idle_refreshes.load(std::memory_order_relaxed);
  }
  m.healthy = m.free + m.in_use;
  m.reconnecting = build() == Build::Done ? m.backoff + m.connecting : 0;
  return m;
}

SlotMetrics PoolPolicy::slot_metrics(std::size_t slot) const {
  const Slot& s = slots_[slot];
  SlotMetrics m;
  m.state = s.state.load(std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(shared_->error_mutex);
    m.last_error = s.last_error;
  }
  m.reconnects = s.reconnects.load(std::memory_order_relaxed);
  m.failed_connects = s.failed_connects.load(std::memory_order_relaxed);
  m.poisoned = s.poisoned.load(std::memory_order_relaxed);
  m.idle_refreshes = s.idle_refreshes.load(std::memory_order_relaxed);
  return m;
}

}  // namespace tern::pool
