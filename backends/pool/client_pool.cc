#include "backends/pool/client_pool.h"

#include <time.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/http/error.h"

namespace tern::pool::detail {

Outcome outcome_of(const http::ClientConnection& c, bool usable) noexcept {
  // A request still in flight was abandoned or failed mid-way: its response
  // may yet arrive, so the connection cannot carry another.
  if (c.in_flight() != 0) return Outcome::Poisoned;
  if (usable) return Outcome::Reusable;
  switch (c.end_reason()) {
    case http::EndReason::ConnectionClose:
    case http::EndReason::CloseDelimited:
    case http::EndReason::PeerClosed:  // after a complete response
    case http::EndReason::Upgraded:
      return Outcome::Closed;
    default:
      return Outcome::Poisoned;
  }
}

http::Method request_method(std::span<const std::uint8_t> request) noexcept {
  const std::size_t n = std::min(request.size(), http::ClientConnection::kMaxMethodLength + 1);
  const std::string_view line(reinterpret_cast<const char*>(request.data()), n);
  const std::size_t sp = line.find(' ');
  return sp == std::string_view::npos ? http::Method::Other : http::parse_method(line.substr(0, sp));
}

absl::Time monotonic_now() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return absl::UnixEpoch() + absl::DurationFromTimespec(ts);
}

absl::Status build_failure(std::size_t slot, std::size_t slots, const absl::Status& cause) {
  return absl::Status(cause.code(), absl::StrCat("pool build: connection ", slot + 1, " of ", slots,
                                                 " failed, so none was kept: ", cause.message()));
}

absl::Status build_timeout(absl::Duration waited) {
  return absl::DeadlineExceededError(
      absl::StrCat("pool build: connects still pending after ", absl::FormatDuration(waited)));
}

absl::Status request_refused(http::Error error) {
  const std::string_view n = http::name(error);
  return absl::InvalidArgumentError(
      absl::StrCat("pool send: the request was refused: ", absl::string_view(n.data(), n.size())));
}

bool Sleepers::covers(absl::Time t) const noexcept {
  return std::any_of(wakes_.begin(), wakes_.end(), [t](absl::Time w) { return w <= t; });
}

void Sleepers::add(absl::Time wake) { wakes_.push_back(wake); }

void Sleepers::remove(absl::Time wake) noexcept {
  const auto it = std::find(wakes_.begin(), wakes_.end(), wake);
  if (it == wakes_.end()) return;
  *it = wakes_.back();
  wakes_.pop_back();
}

}  // namespace tern::pool::detail
