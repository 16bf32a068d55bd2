#include "backends/session/health.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace tern::session {

// --- RttHistogram --------------------------------------------------------------

int RttHistogram::bucket_of(std::uint64_t ns) noexcept {
  if (ns < (std::uint64_t{1} << kMinExponent)) return 0;
  const int e = 63 - std::countl_zero(ns);
  if (e > kMaxExponent) return kBuckets - 1;
  const int sub = static_cast<int>(ns >> (e - 3)) & (kSubBuckets - 1);
  return 1 + (e - kMinExponent) * kSubBuckets + sub;
}

std::uint64_t RttHistogram::bucket_upper_ns(int bucket) noexcept {
  if (bucket <= 0) return std::uint64_t{1} << kMinExponent;
  if (bucket >= kBuckets - 1) return UINT64_MAX;
  const int e = kMinExponent + (bucket - 1) / kSubBuckets;
  const int sub = (bucket - 1) % kSubBuckets;
  return static_cast<std::uint64_t>(kSubBuckets + sub + 1) << (e - 3);
}

std::uint64_t RttHistogram::to_ns(absl::Duration d) noexcept {
  if (d <= absl::ZeroDuration()) return 0;
  if (d == absl::InfiniteDuration()) return UINT64_MAX;
  return static_cast<std::uint64_t>(absl::ToInt64Nanoseconds(d));
}

int RttHistogram::record_ns(std::uint64_t ns) noexcept {
  const int b = bucket_of(ns);
  ++buckets_[b];
  ++count_;
  sum_ns_ += ns;
  min_ns_ = std::min(min_ns_, ns);
  max_ns_ = std::max(max_ns_, ns);
  return b;
}

void RttHistogram::merge(const RttHistogram& other) noexcept {
  for (int b = 0; b < kBuckets; ++b) buckets_[b] += other.buckets_[b];
  count_ += other.count_;
  sum_ns_ += other.sum_ns_;
  min_ns_ = std::min(min_ns_, other.min_ns_);
  max_ns_ = std::max(max_ns_, other.max_ns_);
}

absl::Duration RttHistogram::percentile(double q) const noexcept {
  if (count_ == 0) return absl::ZeroDuration();
  if (!(q > 0.0)) return min();
  q = std::min(q, 1.0);
  const std::uint64_t rank =
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += buckets_[b];
    if (seen >= rank) {
      const std::uint64_t ns = std::clamp(bucket_upper_ns(b), min_ns_, max_ns_);
      return absl::Nanoseconds(static_cast<std::int64_t>(std::min<std::uint64_t>(ns, INT64_MAX)));
    }
  }
  return max();
}

TrafficCounters& TrafficCounters::operator+=(const TrafficCounters& o) noexcept {
  messages_in += o.messages_in;
  bytes_in += o.bytes_in;
  messages_out += o.messages_out;
  bytes_out += o.bytes_out;
  pings_sent += o.pings_sent;
  pongs_received += o.pongs_received;
  pings_received += o.pings_received;
  return *this;
}

std::string_view name(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::ConnectFailed: return "ConnectFailed";
    case ErrorKind::Down: return "Down";
    case ErrorKind::Other: return "Other";
  }
  return "Unknown";
}

// --- Health: the loop thread ------------------------------------------------------

void Health::on_connect_started(ConnectionId, absl::Time) noexcept {
  Hot& h = hot_.local();
  hot_.begin();
  ++h.session.connect_attempts;
  hot_.publish(h.session.connect_attempts);
  hot_.end();
}

void Health::on_connect_failed(ConnectionId id, absl::Time now, const Ended& why,
                               std::string_view detail) noexcept {
  Hot& h = hot_.local();
  hot_.begin();
  ++h.session.connect_failures;
  hot_.publish(h.session.connect_failures);
  hot_.end();
  ErrorRecord e;
  e.at = now;
  e.id = id;
  e.kind = ErrorKind::ConnectFailed;
  e.code = why.code;
  e.status = why.status;
  e.http_status = why.http_status;
  add_error(e, detail, "connect failed");
}

void Health::on_open(ConnectionId id, absl::Time now) noexcept {
  Hot& h = hot_.local();
  int s = -1;
  for (int i = 0; i < static_cast<int>(kMaxConnections); ++i) {
    if (h.slots[i].id == 0) {
      s = i;
      break;
    }
  }
  hot_.begin();
  if (s < 0) {
    // The driver missed an on_closed(): fold the oldest other than the
    // current one to make room.
    for (int i = 0; i < static_cast<int>(kMaxConnections); ++i) {
      if (i != h.current && (s < 0 || h.slots[i].opened_at < h.slots[s].opened_at)) s = i;
    }
    h.closed += h.slots[s].traffic;
    h.closed_last_receive = std::max(h.closed_last_receive, h.slots[s].last_receive);
    hot_.publish(h.closed);
    hot_.publish(h.closed_last_receive);
  }
  Slot& slot = h.slots[s];
  slot = Slot{};
  slot.id = id;
  slot.opened_at = now;
  hot_.publish(slot);
  ++h.session.opens;
  hot_.publish(h.session.opens);
  const bool becomes_current = h.current < 0;
  if (becomes_current) {
    if (h.had_current != 0) {
      ++h.session.reconnects;
      hot_.publish(h.session.reconnects);
    }
    h.current = s;
    h.had_current = 1;
    hot_.publish(h.current);
    hot_.publish(h.had_current);
  }
  hot_.end();
  if (becomes_current) {
    Cold& c = cold_.local();
    cold_.begin();
    c.current_rtt.clear();
    cold_.publish(c.current_rtt);
    cold_.end();
  }
}

void Health::on_switch(ConnectionId id) noexcept {
  const int s = slot_of(id);
  if (s < 0) return;
  Hot& h = hot_.local();
  hot_.begin();
  h.current = s;
  ++h.session.rotations;
  hot_.publish(h.current);
  hot_.publish(h.session.rotations);
  hot_.end();
  Cold& c = cold_.local();
  cold_.begin();
  c.current_rtt.clear();
  cold_.publish(c.current_rtt);
  cold_.end();
}

void Health::on_ping_sent(ConnectionId id) noexcept {
  const int s = slot_of(id);
  if (s < 0) return;
  Slot& slot = hot_.local().slots[s];
  hot_.begin();
  ++slot.traffic.pings_sent;
  hot_.publish(slot.traffic.pings_sent);
  hot_.end();
}

void Health::on_ping_received(ConnectionId id, absl::Time now) noexcept {
  const int s = slot_of(id);
  if (s < 0) return;
  Slot& slot = hot_.local().slots[s];
  hot_.begin();
  ++slot.traffic.pings_received;
  slot.last_receive = now;
  hot_.publish(slot.traffic.pings_received);
  hot_.publish(slot.last_receive);
  hot_.end();
}

void Health::on_pong(ConnectionId id, absl::Time now, std::optional<absl::Duration> rtt) noexcept {
  const int s = slot_of(id);
  if (s < 0) return;
  Hot& h = hot_.local();
  Slot& slot = h.slots[s];
  hot_.begin();
  ++slot.traffic.pongs_received;
  slot.last_receive = now;
  hot_.publish(slot.traffic.pongs_received);
  hot_.publish(slot.last_receive);
  hot_.end();
  if (!rtt) return;
  const std::uint64_t ns = RttHistogram::to_ns(*rtt);
  Cold& c = cold_.local();
  cold_.begin();
  record_rtt(c.lifetime_rtt, ns);
  if (s == h.current) record_rtt(c.current_rtt, ns);
  cold_.end();
}

void Health::record_rtt(RttHistogram& hist, std::uint64_t ns) noexcept {
  const int b = hist.record_ns(ns);
  cold_.publish(hist.count_);
  cold_.publish(hist.sum_ns_);
  cold_.publish(hist.min_ns_);
  cold_.publish(hist.max_ns_);
  cold_.publish(hist.buckets_[b]);
}

void Health::on_down(const Action& down, absl::Time now, std::string_view detail) noexcept {
  Hot& h = hot_.local();
  const int s = slot_of(down.id);
  hot_.begin();
  ++h.session.downs;
  hot_.publish(h.session.downs);
  if (is_stale(down.cause)) {
    ++h.session.stale_events;
    hot_.publish(h.session.stale_events);
  }
  // The handler reads from it no more, even while its close finishes.
  if (s >= 0 && s == h.current) {
    h.current = -1;
    hot_.publish(h.current);
  }
  hot_.end();
  if (is_planned(down.cause)) return;
  ErrorRecord e;
  e.at = now;
  e.id = down.id;
  e.kind = ErrorKind::Down;
  e.cause = down.cause;
  e.code = down.code;
  e.status = down.status;
  add_error(e, detail, name(down.cause));
}

void Health::on_closed(ConnectionId id) noexcept {
  const int s = slot_of(id);
  if (s < 0) return;
  Hot& h = hot_.local();
  hot_.begin();
  h.closed += h.slots[s].traffic;
  h.closed_last_receive = std::max(h.closed_last_receive, h.slots[s].last_receive);
  h.slots[s] = Slot{};
  if (h.current == s) h.current = -1;
  hot_.publish(h.closed);
  hot_.publish(h.closed_last_receive);
  hot_.publish(h.slots[s]);
  hot_.publish(h.current);
  hot_.end();
}

void Health::record_error(absl::Time now, ConnectionId id, absl::StatusCode status,
                          std::string_view detail) noexcept {
  ErrorRecord e;
  e.at = now;
  e.id = id;
  e.kind = ErrorKind::Other;
  e.status = status;
  add_error(e, detail, "error");
}

void Health::add_error(const ErrorRecord& e, std::string_view detail, std::string_view fallback) noexcept {
  const std::string_view text = detail.empty() ? fallback : detail;
  Cold& c = cold_.local();
  ErrorRecord& slot = c.errors[c.error_total % kErrorRing];
  cold_.begin();
  slot = e;
  slot.text_size = static_cast<std::uint8_t>(std::min(text.size(), ErrorRecord::kTextSize));
  std::memcpy(slot.text_data, text.data(), slot.text_size);
  ++c.error_total;
  cold_.publish(slot);
  cold_.publish(c.error_total);
  cold_.end();
  Hot& h = hot_.local();
  hot_.begin();
  ++h.session.errors;
  hot_.publish(h.session.errors);
  hot_.end();
}

// --- Health: any thread ------------------------------------------------------------

HealthSnapshot Health::snapshot() const noexcept {
  Hot h;
  hot_.read(h);
  HealthSnapshot out;
  out.session = h.session;
  out.lifetime = h.closed;
  out.last_receive = h.closed_last_receive;
  for (const Slot& slot : h.slots) {
    if (slot.id == 0) continue;
    ++out.open_connections;
    out.lifetime += slot.traffic;
    out.last_receive = std::max(out.last_receive, slot.last_receive);
  }
  if (h.current >= 0 && h.current < static_cast<int>(kMaxConnections)) {
    const Slot& slot = h.slots[h.current];
    out.current.id = slot.id;
    out.current.opened_at = slot.opened_at;
    out.current.last_receive = slot.last_receive;
    out.current.traffic = slot.traffic;
  }
  Cold c;
  cold_.read(c);
  out.lifetime_rtt = c.lifetime_rtt;
  out.current_rtt = c.current_rtt;
  const std::uint64_t n = std::min<std::uint64_t>(c.error_total, kErrorRing);
  out.error_count = static_cast<std::size_t>(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    out.errors[i] = c.errors[(c.error_total - n + i) % kErrorRing];
  }
  return out;
}

}  // namespace tern::session
