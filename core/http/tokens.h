// File: tokens.h
//
// Character classes and list-valued field helpers from RFC 9110 §5.6.
// Shared by the readers, the writers and the WebSocket handshake.
//
//   // Connection: keep-alive, Upgrade
//   if (tern::http::header_has_token(value, "upgrade")) ...
#ifndef TERN_CORE_HTTP_TOKENS_H_
#define TERN_CORE_HTTP_TOKENS_H_

#include <array>
#include <cstdint>
#include <string_view>

#include "absl/strings/match.h"

namespace tern::http {

namespace detail {
// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
// "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
constexpr std::array<bool, 256> make_token_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
inline constexpr std::array<bool, 256> kTokenTable = make_token_table();
}  // namespace detail

constexpr bool is_token_char(std::uint8_t c) noexcept {
  return detail::kTokenTable[c];
}

// ASCII case-insensitive equality (field names, tokens; RFC 9110 §5.1).
// Debian's Abseil has its own absl::string_view, hence the conversion.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  return absl::EqualsIgnoreCase(absl::string_view(a.data(), a.size()),
                                absl::string_view(b.data(), b.size()));
}

// True if s is a non-empty token (a valid field name or method).
bool is_token(std::string_view s) noexcept;

// True if the comma-separated list `value` (RFC 9110 §5.6.1: elements
// separated by "," with optional whitespace, empty elements ignored) has an
// element equal to `token`, ASCII case-insensitively. Parameters after ";" on
// an element are ignored ("chunked;q=1" matches "chunked").
bool header_has_token(std::string_view value, std::string_view token) noexcept;

// The last element of a comma-separated list (without parameters), or empty.
// Transfer-Encoding framing depends on the final coding (RFC 9112 §6.3).
std::string_view last_token(std::string_view value) noexcept;

}  // namespace tern::http

#endif  // TERN_CORE_HTTP_TOKENS_H_
