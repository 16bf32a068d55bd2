#include "core/http/tokens.h"


namespace tern::http {
namespace {

constexpr bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_element(std::string_view e) {
  std::size_t semi = e.find(';');
  if (semi != std::string_view::npos) e = e.substr(0, semi);
  while (!e.empty() && is_ows(e.front())) e.remove_prefix(1);
  while (!e.empty() && is_ows(e.back())) e.remove_suffix(1);
  return e;
}

}  // namespace

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_token_char(static_cast<std::uint8_t>(c))) return false;
  }
  return true;
}

bool header_has_token(std::string_view value, std::string_view token) noexcept {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view e = trim_element(value.substr(0, comma));
    if (iequals(e, token) && !e.empty()) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view last_token(std::string_view value) noexcept {
  while (!value.empty()) {
    std::size_t comma = value.rfind(',');
    std::string_view e = trim_element(
        comma == std::string_view::npos ? value : value.substr(comma + 1));
    if (!e.empty() || comma == std::string_view::npos) return e;
    value = value.substr(0, comma);  // RFC 9110 §5.6.1: skip empty elements
  }
  return {};
}

}  // namespace tern::http
