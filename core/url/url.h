// File: url.h
//
// Parses the absolute URLs tern connects to: ws://, wss://, http:// and
// https:// (RFC 3986 §3, with the WebSocket rules of RFC 6455 §3: no
// fragment). The result is a set of views into the caller's string, which
// must outlive it; nothing is allocated or copied.
//
//   tern::Url url;
//   if (tern::parse_url("wss://[::1]:9443/feed?x=1", url) != tern::UrlError::kNone) ...
//   // url.host == "::1", url.port == 9443, url.path == "/feed", url.query == "x=1"
#ifndef TERN_CORE_URL_URL_H_
#define TERN_CORE_URL_URL_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace tern {

enum class Scheme : std::uint8_t { kWs, kWss, kHttp, kHttps };

struct Url {
  Scheme scheme = Scheme::kWs;
  // Host without IPv6 brackets ("::1", "example.com", "127.0.0.1"); a
  // registered name keeps the caller's case.
  std::string_view host;
  bool host_is_ipv6 = false;
  // Port given in the URL, else the scheme's default (80 or 443).
  std::uint16_t port = 0;
  bool port_is_default = true;
  // The origin-form request target is `path`, then '?' and `query` when
  // has_query (RFC 6455 §3 resource name). Kept apart so "ws://h?x" needs no
  // copy to become "/?x".
  std::string_view path;   // "/" when the URL has none
  std::string_view query;  // without the '?'
  bool has_query = false;

  bool secure() const noexcept {
    return scheme == Scheme::kWss || scheme == Scheme::kHttps;
  }
  bool websocket() const noexcept {
    return scheme == Scheme::kWs || scheme == Scheme::kWss;
  }
};

enum class UrlError : std::uint8_t {
  kNone,
  kBadScheme,          // not ws, wss, http or https (case-insensitive)
  kMissingHost,
  kUserinfo,           // "user:pass@" is refused: credentials belong in headers
  kBadIpv6Literal,     // unbalanced brackets or characters other than hex, ':' and '.'
  kBadHost,            // characters outside RFC 3986 reg-name / IPv4
  kBadPort,            // empty, non-digits, 0, or above 65535
  kFragment,           // RFC 6455 §3: fragment identifiers MUST NOT be used
  kBadTarget,          // control bytes, spaces or non-ASCII in path or query
};

std::string_view name(UrlError error) noexcept;

// Fills `out` and returns kNone, or returns the first fault found (`out` is
// then unspecified).
UrlError parse_url(std::string_view text, Url& out) noexcept;

// The Host field value for a URL (RFC 9110 §7.2, RFC 6455 §4.1 item 4):
// brackets around an IPv6 literal, the port only when it is not the
// scheme's default. Allocates: for setting up a connection, not per message.
std::string host_field(const Url& url);

}  // namespace tern

#endif  // TERN_CORE_URL_URL_H_
