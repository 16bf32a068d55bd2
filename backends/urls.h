// File: urls.h
//
// The URL checks every backend's connect() starts with, written once: a
// ws:// or wss:// URL for a WebSocket, an http:// or https:// one for HTTP,
// with the same statuses everywhere (InvalidArgument naming the fault). The
// Url's views point into `text`, which must outlive it.
#ifndef TERN_BACKENDS_URLS_H_
#define TERN_BACKENDS_URLS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/url/url.h"

namespace tern {

absl::StatusOr<Url> websocket_url(std::string_view text);
absl::StatusOr<Url> http_url(std::string_view text);
// "host:port" as connected, e.g. for deciding whether a connection fits a URL.
std::string authority(const Url& url);

}  // namespace tern

#endif  // TERN_BACKENDS_URLS_H_
