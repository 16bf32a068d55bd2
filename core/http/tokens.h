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
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/base/attributes.h"
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

inline std::uint64_t load64(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
// ASCII case-insensitive equality of `s` with a lowercase literal made of
// letters, digits and '-', eight bytes at a time (the hot framing field names,
// without a call into Abseil). OR-ing 0x20 folds letters; it also maps some
// control bytes onto '-' and digits (CR becomes '-'), so `s` must hold none:
// the parsers' line scans stop at controls, the writers check tokens first.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool equals_lower(std::string_view s,
                                                     std::string_view lower) noexcept {
  if (s.size() != lower.size()) return false;
  constexpr std::uint64_t kFold = 0x2020202020202020ull;
  const std::size_t n = s.size();
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
      if ((load64(s.data() + i) | kFold) != load64(lower.data() + i)) return false;
    }
    return (load64(s.data() + n - 8) | kFold) == load64(lower.data() + n - 8);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if ((static_cast<unsigned char>(s[i]) | 0x20u) != static_cast<unsigned char>(lower[i])) {
      return false;
    }
  }
  return true;
}
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
