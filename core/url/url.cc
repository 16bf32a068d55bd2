#include "core/url/url.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tern {
namespace {

// RFC 3986 §3.2.2 reg-name: unreserved / pct-encoded / sub-delims.
bool is_reg_name_char(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case '-': case '.': case '_': case '~': case '%':
    case '!': case '$': case '&': case '\'': case '(': case ')':
    case '*': case '+': case ',': case ';': case '=':
      return true;
    default:
      return false;
  }
}

// Path and query bytes: visible ASCII except '#' (a fragment) — percent
// escapes pass through untouched; tern never rewrites the caller's target.
bool is_target_char(char c) { return c > 0x20 && c < 0x7F; }

// Debian's Abseil is built with its own absl::string_view, distinct from
// std::string_view.
absl::string_view absl_view(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

std::string_view name(UrlError error) noexcept {
  switch (error) {
    case UrlError::kNone: return "None";
    case UrlError::kBadScheme: return "BadScheme";
    case UrlError::kMissingHost: return "MissingHost";
    case UrlError::kUserinfo: return "Userinfo";
    case UrlError::kBadIpv6Literal: return "BadIpv6Literal";
    case UrlError::kBadHost: return "BadHost";
    case UrlError::kBadPort: return "BadPort";
    case UrlError::kFragment: return "Fragment";
    case UrlError::kBadTarget: return "BadTarget";
  }
  return "Unknown";
}

UrlError parse_url(std::string_view text, Url& out) noexcept {
  out = Url{};
  const std::size_t colon = text.find("://");
  if (colon == std::string_view::npos) return UrlError::kBadScheme;
  const std::string_view scheme = text.substr(0, colon);
  if (absl::EqualsIgnoreCase(absl_view(scheme), "ws")) out.scheme = Scheme::kWs;
  else if (absl::EqualsIgnoreCase(absl_view(scheme), "wss")) out.scheme = Scheme::kWss;
  else if (absl::EqualsIgnoreCase(absl_view(scheme), "http")) out.scheme = Scheme::kHttp;
  else if (absl::EqualsIgnoreCase(absl_view(scheme), "https")) out.scheme = Scheme::kHttps;
  else return UrlError::kBadScheme;
  std::string_view rest = text.substr(colon + 3);

  if (rest.find('#') != std::string_view::npos) return UrlError::kFragment;
  const std::size_t auth_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view target =
      auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
  if (authority.find('@') != std::string_view::npos) return UrlError::kUserinfo;

  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return UrlError::kBadIpv6Literal;
    out.host = authority.substr(1, close - 1);
    out.host_is_ipv6 = true;
    if (out.host.empty() || out.host.find(':') == std::string_view::npos) {
      return UrlError::kBadIpv6Literal;
    }
    for (char c : out.host) {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
        return UrlError::kBadIpv6Literal;
      }
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return UrlError::kBadIpv6Literal;
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    if (authority.find(']') != std::string_view::npos) return UrlError::kBadIpv6Literal;
    const std::size_t port_colon = authority.rfind(':');
    if (port_colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(port_colon + 1);
      authority = authority.substr(0, port_colon);
    }
    out.host = authority;
    for (char c : out.host) {
      if (!is_reg_name_char(c)) return UrlError::kBadHost;
    }
  }
  if (out.host.empty()) return UrlError::kMissingHost;

  out.port = out.secure() ? 443 : 80;
  if (has_port) {
    // 1..5 digits (at most 99999: no overflow), then 1..65535.
    std::uint32_t port = 0;
    bool digits = !port_text.empty() && port_text.size() <= 5;
    for (char c : port_text) {
      digits = digits && absl::ascii_isdigit(static_cast<unsigned char>(c));
      port = port * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (!digits || port == 0 || port > 65535) return UrlError::kBadPort;
    out.port = static_cast<std::uint16_t>(port);
    out.port_is_default = out.port == (out.secure() ? 443 : 80);
  }

  for (char c : target) {
    if (!is_target_char(c)) return UrlError::kBadTarget;
  }
  // RFC 6455 §3 resource name: the path ("/" if empty), then "?" and the
  // query if one was given, even an empty one.
  const std::size_t q = target.find('?');
  out.path = target.substr(0, q);
  if (out.path.empty()) out.path = "/";
  if (q != std::string_view::npos) {
    out.has_query = true;
    out.query = target.substr(q + 1);
  }
  return UrlError::kNone;
}

std::string host_field(const Url& url) {
  const absl::string_view host(url.host.data(), url.host.size());
  std::string field = url.host_is_ipv6 ? absl::StrCat("[", host, "]") : std::string(host);
  if (!url.port_is_default) absl::StrAppend(&field, ":", url.port);
  return field;
}

}  // namespace tern
