#include "backends/urls.h"

#include "absl/strings/str_cat.h"
#include "backends/status.h"

namespace tern {

absl::StatusOr<Url> websocket_url(std::string_view text) {
  Url url;
  if (const UrlError e = parse_url(text, url); e != UrlError::kNone) return url_status(text, e);
  if (!url.websocket()) return absl::InvalidArgumentError("websocket URL must be ws:// or wss://");
  return url;
}

absl::StatusOr<Url> http_url(std::string_view text) {
  Url url;
  if (const UrlError e = parse_url(text, url); e != UrlError::kNone) return url_status(text, e);
  if (url.websocket()) return absl::InvalidArgumentError("HTTP URL must be http:// or https://");
  return url;
}

std::string authority(const Url& url) {
  return absl::StrCat(absl::string_view(url.host.data(), url.host.size()), ":", url.port);
}

}  // namespace tern
