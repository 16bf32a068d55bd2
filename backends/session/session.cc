#include "backends/session/session.h"

#include <algorithm>

namespace tern::session::session_detail {

Ended ended_by(const absl::Status& status) {
  Ended e;
  e.code = ws::CloseCode::Abnormal;
  e.status = status.code();
  if (const std::optional<int> http = handshake_http_status(status)) e.http_status = *http;
  return e;
}

absl::Duration stall_bound(const SessionConfig& config) {
  absl::Duration bound = absl::InfiniteDuration();
  if (config.ping_interval > absl::ZeroDuration() && config.pong_timeout > absl::ZeroDuration()) {
    bound = config.ping_interval + config.pong_timeout;
  }
  if (config.max_silence > absl::ZeroDuration()) bound = std::min(bound, config.max_silence);
  return bound;
}

}  // namespace tern::session::session_detail
