#include "core/http/message_builder.h"

#include <array>
#include <charconv>
#include <cstring>
#include <initializer_list>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "core/http/byte_checks.h"
#include "core/http/tokens.h"

namespace tern::http {
namespace detail {

Error check_field_name(std::string_view name) noexcept {
  if (ABSL_PREDICT_FALSE(name.empty())) return Error::InvalidHeaderName;
  // Fast path: all token bytes, four table lookups per step.
  {
    const auto* p = reinterpret_cast<const std::uint8_t*>(name.data());
    const std::size_t n = name.size();
    std::size_t i = 0;
    bool ok = true;
    for (; ok && i + 4 <= n; i += 4) {
      ok = is_token_char(p[i]) & is_token_char(p[i + 1]) & is_token_char(p[i + 2]) &
           is_token_char(p[i + 3]);
    }
    for (; ok && i < n; ++i) ok = is_token_char(p[i]);
    if (ABSL_PREDICT_TRUE(ok)) return Error::None;
  }
  Error e = Error::None;
  for (char ch : name) {
    const auto c = static_cast<std::uint8_t>(ch);
    if (ABSL_PREDICT_FALSE(!is_token_char(c))) {
      // CR, LF, NUL would split or end the field line (RFC 9110 §5.5).
      if (c == '\r' || c == '\n' || c == 0) return Error::CrlfInjection;
      e = Error::InvalidHeaderName;
    }
  }
  return e;
}

Error check_field_value(std::string_view value) noexcept {
  if (ABSL_PREDICT_TRUE(all_field_value_bytes(value)) &&
      (value.empty() || (value.front() != ' ' && value.back() != ' '))) {
    return Error::None;  // no controls, so no HTAB at the edges either
  }
  Error e = Error::None;
  for (char ch : value) {
    const auto c = static_cast<std::uint8_t>(ch);
    if (ABSL_PREDICT_FALSE((c < 0x20 && c != '\t') || c == 0x7F)) {
      if (c == '\r' || c == '\n' || c == 0) return Error::CrlfInjection;
      e = Error::InvalidHeaderValue;
    }
  }
  // RFC 9110 §5.5: field-value has no leading or trailing whitespace.
  if (!value.empty() && (value.front() == ' ' || value.front() == '\t' ||
                         value.back() == ' ' || value.back() == '\t')) {
    if (e == Error::None) e = Error::InvalidHeaderValue;
  }
  return e;
}

}  // namespace detail

namespace {

// Longest decimal size_t.
constexpr std::size_t kMaxDigits = 20;

// "00".."99": two digits per lookup.
constexpr std::array<char, 200> make_digit_pairs() {
  std::array<char, 200> t{};
  for (int i = 0; i < 100; ++i) {
    t[2 * i] = static_cast<char>('0' + i / 10);
    t[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return t;
}
constexpr std::array<char, 200> kDigitPairs = make_digit_pairs();

// Body lengths are mostly short: up to four digits without a library call.
std::size_t put_decimal(std::uint8_t* p, std::uint64_t v) {
  if (ABSL_PREDICT_TRUE(v < 10000)) {
    const unsigned hi = static_cast<unsigned>(v / 100), lo = static_cast<unsigned>(v % 100);
    char d[4];
    std::memcpy(d, &kDigitPairs[2 * hi], 2);
    std::memcpy(d + 2, &kDigitPairs[2 * lo], 2);
    const std::size_t n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : 4;
    detail::copy_bytes(p, d + 4 - n, n);  // the last n of the 4 digits
    return n;
  }
  char* b = reinterpret_cast<char*>(p);
  return static_cast<std::size_t>(std::to_chars(b, b + kMaxDigits, v).ptr - b);
}

}  // namespace

ABSL_ATTRIBUTE_COLD void HeaderBuilder::fail(Error e) noexcept {
  if (error_ == Error::None) error_ = e;
}

ABSL_ATTRIBUTE_COLD WriteResult HeaderBuilder::fail_result() noexcept {
  out_.truncate(start_);
  return {error_, {}};
}

WriteResult HeaderBuilder::done() noexcept {
  if (ABSL_PREDICT_FALSE(error_ != Error::None)) return fail_result();
  return {Error::None, out_.data().subspan(start_)};
}

bool HeaderBuilder::put(std::string_view s) noexcept {
  if (ABSL_PREDICT_FALSE(error_ != Error::None)) return false;
  if (ABSL_PREDICT_FALSE(!out_.append(std::span<const std::uint8_t>(
          reinterpret_cast<const std::uint8_t*>(s.data()), s.size())))) {
    fail(Error::BufferFull);
    return false;
  }
  return true;
}

void HeaderBuilder::close_start_line() noexcept {
  if (!line_open_) return;
  line_open_ = false;
  std::span<std::uint8_t> sp = out_.spare();
  constexpr std::string_view kVersion = " HTTP/1.1\r\n";
  if (ABSL_PREDICT_FALSE(error_ != Error::None)) return;
  if (ABSL_PREDICT_FALSE(sp.size() < kVersion.size() + fixed_.size())) {
    fail(Error::BufferFull);
    return;
  }
  std::memcpy(sp.data(), kVersion.data(), kVersion.size());
  std::memcpy(sp.data() + kVersion.size(), fixed_.data(), fixed_.size());
  (void)out_.commit(kVersion.size() + fixed_.size());
}

HeaderBuilder& HeaderBuilder::header(std::string_view name,
                                     std::string_view value) noexcept {
  close_start_line();
  if (ABSL_PREDICT_FALSE(error_ != Error::None)) return *this;
  Error e = detail::check_field_name(name);
  if (e == Error::None) e = detail::check_field_value(value);
  if (ABSL_PREDICT_FALSE(e != Error::None)) {
    fail(e);
    return *this;
  }
  // The writer owns framing and Host: a second copy would be a conflicting
  // duplicate (RFC 9112 §6.3, RFC 9110 §7.2).
  switch (name.size()) {
    case 4:
    case 14:
    case 17:
      if (iequals(name, "host") || iequals(name, "content-length") ||
          iequals(name, "transfer-encoding")) {
        fail(Error::ReservedHeader);
        return *this;
      }
  }
  std::span<std::uint8_t> sp = out_.spare();
  const std::size_t need = name.size() + 2 + value.size() + 2;
  if (ABSL_PREDICT_FALSE(sp.size() < need)) {
    fail(Error::BufferFull);
    return *this;
  }
  std::uint8_t* p = sp.data();
  detail::copy_bytes(p, name.data(), name.size());
  p += name.size();
  p[0] = ':';
  p[1] = ' ';
  p += 2;
  detail::copy_bytes(p, value.data(), value.size());
  p += value.size();
  p[0] = '\r';
  p[1] = '\n';
  (void)out_.commit(need);
  return *this;
}

bool HeaderBuilder::end_head_with_length(std::size_t n) noexcept {
  if (ABSL_PREDICT_FALSE(error_ != Error::None)) return false;
  constexpr std::string_view kName = "Content-Length: ";
  std::span<std::uint8_t> sp = out_.spare();
  if (ABSL_PREDICT_FALSE(sp.size() < kName.size() + kMaxDigits + 4)) {
    fail(Error::BufferFull);
    return false;
  }
  std::uint8_t* p = sp.data();
  std::memcpy(p, kName.data(), kName.size());
  p += kName.size();
  p += put_decimal(p, n);
  std::memcpy(p, "\r\n\r\n", 4);
  p += 4;
  (void)out_.commit(static_cast<std::size_t>(p - sp.data()));
  return true;
}

WriteResult HeaderBuilder::body(std::span<const std::uint8_t> bytes) noexcept {
  close_start_line();
  if (!end_head_with_length(bytes.size())) return fail_result();
  if (ABSL_PREDICT_FALSE(!out_.append(bytes))) fail(Error::BufferFull);
  return done();
}

std::span<std::uint8_t> HeaderBuilder::begin_in_place() noexcept {
  close_start_line();
  constexpr std::size_t kReserve = 16 + kMaxDigits + 4;  // name, digits, CRLFCRLF
  std::span<std::uint8_t> sp = out_.spare();
  if (ABSL_PREDICT_FALSE(sp.size() < kReserve)) fail(Error::BufferFull);
  if (error_ != Error::None) return {};
  return sp.subspan(kReserve);
}

WriteResult HeaderBuilder::end_in_place(std::size_t n) noexcept {
  constexpr std::size_t kReserve = 16 + kMaxDigits + 4;
  std::span<std::uint8_t> sp = out_.spare();
  if (ABSL_PREDICT_FALSE(n > sp.size() - kReserve)) {
    fail(Error::BufferFull);
    return fail_result();
  }
  std::uint8_t* p = sp.data();
  std::memcpy(p, "Content-Length: ", 16);
  p += 16;
  p += put_decimal(p, n);
  std::memcpy(p, "\r\n\r\n", 4);
  p += 4;
  // The body was written kReserve bytes in; close the gap the shorter
  // decimal left.
  if (n != 0) std::memmove(p, sp.data() + kReserve, n);
  (void)out_.commit(static_cast<std::size_t>(p - sp.data()) + n);
  return done();
}

std::span<std::uint8_t> HeaderBuilder::begin_fixed(std::size_t n) noexcept {
  close_start_line();
  if (!end_head_with_length(n)) return {};
  std::span<std::uint8_t> sp = out_.spare();
  if (ABSL_PREDICT_FALSE(sp.size() < n)) {
    fail(Error::BufferFull);
    return {};
  }
  return sp.first(n);
}

WriteResult HeaderBuilder::end_fixed(std::size_t n) noexcept {
  (void)out_.commit(n);
  return done();
}

WriteResult HeaderBuilder::finish() noexcept {
  close_start_line();
  put(zero_length_ ? std::string_view("Content-Length: 0\r\n\r\n")
                   : std::string_view("\r\n"));
  return done();
}

}  // namespace tern::http
