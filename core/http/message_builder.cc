#include "core/http/message_builder.h"

#include <array>
#include <bit>
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
      // Four checks, one branch (bools add up as 0/1).
      ok = is_token_char(p[i]) + is_token_char(p[i + 1]) + is_token_char(p[i + 2]) +
               is_token_char(p[i + 3]) ==
           4;
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

Error check_field(std::string_view name, std::string_view value,
                  bool host_reserved) noexcept {
  Error e = check_field_name(name);
  if (e == Error::None) e = check_field_value(value);
  // The writer owns framing (and a request's Host): a second copy would be a
  // conflicting duplicate (RFC 9112 §6.3, RFC 9110 §7.2).
  if (e == Error::None &&
      ((host_reserved && iequals(name, "host")) || iequals(name, "content-length") ||
       iequals(name, "transfer-encoding"))) {
    e = Error::ReservedHeader;
  }
  return e;
}

}  // namespace detail

namespace {

// Longest decimal size_t.
constexpr std::size_t kMaxDigits = 20;

// "Content-Length: " and the CRLF CRLF after the digits.
constexpr std::size_t kLengthLineBytes = 16 + 4;

// body_in_place() has the body written this far in, past the longest
// Content-Length line, and moves it back once the length is known.
constexpr std::size_t kInPlaceReserve = kLengthLineBytes + kMaxDigits;

// The words put_length_line() assembles are stored as little-endian bytes.
static_assert(std::endian::native == std::endian::little);

// "00".."99" as little-endian 16-bit words: two digits per lookup.
constexpr std::array<std::uint16_t, 100> make_digit_pairs() {
  std::array<std::uint16_t, 100> t{};
  for (int i = 0; i < 100; ++i) {
    t[i] = static_cast<std::uint16_t>(('0' + i / 10) | ('0' + i % 10) << 8);
  }
  return t;
}
constexpr std::array<std::uint16_t, 100> kDigitPairs = make_digit_pairs();

ABSL_ATTRIBUTE_NOINLINE void put_long_decimal(std::uint8_t* p, std::uint64_t v,
                                              std::size_t width) {
  char* b = reinterpret_cast<char*>(p);
  (void)std::to_chars(b, b + width, v);
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline std::size_t decimal_width(std::uint64_t v) {
  // Body lengths are mostly short: no loop below 10000.
  if (ABSL_PREDICT_TRUE(v < 10000)) return 1 + (v >= 10) + (v >= 100) + (v >= 1000);
  std::size_t width = 5;
  for (v /= 100000; v != 0; v /= 10) ++width;
  return width;
}

// "Content-Length: v\r\n\r\n" at p, which has room for exactly that
// (kLengthLineBytes + width, width = decimal_width(v)); returns its end.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline std::uint8_t* put_length_line(std::uint8_t* p,
                                                                 std::uint64_t v,
                                                                 std::size_t width) {
  std::uint8_t* const digits_end = p + 16 + width;
  if (ABSL_PREDICT_TRUE(v < 10000)) {
    // Four digits with leading zeros in one word, stored to end where the
    // number ends: its leading zeros land on the end of "Content-Length: ",
    // which is stored after them. v / 100 as a multiply and shift, exact for
    // v < 43700.
    const auto v32 = static_cast<std::uint32_t>(v);
    const std::uint32_t hi = v32 * 5243 >> 19, lo = v32 - hi * 100;
    const std::uint32_t digits =
        kDigitPairs[hi] | static_cast<std::uint32_t>(kDigitPairs[lo]) << 16;
    std::memcpy(digits_end - 4, &digits, 4);
  } else {
    put_long_decimal(p + 16, v, width);
  }
  std::memcpy(p, "Content-Length: ", 16);
  std::memcpy(digits_end, "\r\n\r\n", 4);
  return digits_end + 4;
}

// For a name of letters, digits and '-' only (no control byte can fold onto
// one): Host, Content-Length or Transfer-Encoding in any case.
bool is_reserved_plain_name(std::string_view name) {
  switch (name.size()) {
    case 4: return detail::equals_lower(name, "host");
    case 14: return detail::equals_lower(name, "content-length");
    case 17: return detail::equals_lower(name, "transfer-encoding");
    default: return false;
  }
}

// A field that is certainly valid, by the cheap tests most fields pass; false
// only means the exact checks must decide.
bool plainly_valid_field(std::string_view name, std::string_view value) {
  return detail::plain_token_bytes(name) && !is_reserved_plain_name(name) &&
         detail::all_field_value_bytes(value) &&
         (value.empty() || (value.front() != ' ' && value.back() != ' '));
}

// Why header() cannot write the field, in the order the steps are defined:
// the open start line needs `line` bytes before the field is looked at.
ABSL_ATTRIBUTE_NOINLINE Error header_error(std::string_view name, std::string_view value,
                                           std::size_t room, std::size_t line,
                                           std::size_t need) {
  if (room < line) return Error::BufferFull;
  Error e = detail::check_field(name, value, /*host_reserved=*/true);
  if (e == Error::None && room < need) e = Error::BufferFull;
  return e;
}

}  // namespace

ABSL_ATTRIBUTE_COLD void HeaderBuilder::fail(Error e) noexcept {
  if (error_ == Error::None) error_ = e;
}

ABSL_ATTRIBUTE_COLD WriteResult HeaderBuilder::fail_result() noexcept {
  return {error_, {}};  // nothing was committed: the WriteBuf is as it was
}

WriteResult HeaderBuilder::done() noexcept {
  if (ABSL_PREDICT_FALSE(error_ != Error::None)) return fail_result();
  return commit_message();
}

bool HeaderBuilder::put(std::string_view s) noexcept {
  if (ABSL_PREDICT_FALSE(error_ != Error::None)) return false;
  if (ABSL_PREDICT_FALSE(room() < s.size())) {
    fail(Error::BufferFull);
    return false;
  }
  if (!s.empty()) std::memcpy(next_, s.data(), s.size());
  next_ += s.size();
  return true;
}

void HeaderBuilder::close_start_line() noexcept {
  if (!line_open_) return;
  line_open_ = false;
  put(line_end_);
}

// header() and body() size the whole step first (the start line's end
// included), then write it through one pointer.

HeaderBuilder& HeaderBuilder::header(std::string_view name,
                                     std::string_view value) noexcept {
  if (ABSL_PREDICT_FALSE(error_ != Error::None)) return *this;
  const std::size_t line = line_open_ ? line_end_.size() : 0;
  const std::size_t need = line + name.size() + 2 + value.size() + 2;
  if (ABSL_PREDICT_FALSE(!plainly_valid_field(name, value) || room() < need)) {
    const Error e = header_error(name, value, room(), line, need);
    if (e != Error::None) {
      fail(e);
      return *this;
    }
  }
  std::uint8_t* p = next_;
  if (line != 0) {
    std::memcpy(p, line_end_.data(), line);
    p += line;
    line_open_ = false;
  }
  detail::copy_bytes(p, name.data(), name.size());
  p += name.size();
  p[0] = ':';
  p[1] = ' ';
  p += 2;
  detail::copy_bytes(p, value.data(), value.size());
  p += value.size();
  p[0] = '\r';
  p[1] = '\n';
  next_ = p + 2;
  return *this;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline std::uint8_t* HeaderBuilder::put_length_head(
    std::size_t n, std::size_t then) noexcept {
  // One size check for everything the step writes, so a failure has
  // written nothing.
  const std::size_t width = decimal_width(n);
  const std::size_t line = line_open_ ? line_end_.size() : 0;
  if (ABSL_PREDICT_FALSE(room() < line + kLengthLineBytes + width + then)) {
    fail(Error::BufferFull);
    return nullptr;
  }
  std::uint8_t* p = next_;
  if (line != 0) {
    std::memcpy(p, line_end_.data(), line);
    p += line;
    line_open_ = false;
  }
  return put_length_line(p, n, width);
}

bool HeaderBuilder::end_head_with_length(std::size_t n) noexcept {
  if (ABSL_PREDICT_FALSE(error_ != Error::None)) return false;
  std::uint8_t* p = put_length_head(n, 0);
  if (p == nullptr) return false;
  next_ = p;
  return true;
}

WriteResult HeaderBuilder::body(std::span<const std::uint8_t> bytes) noexcept {
  if (ABSL_PREDICT_FALSE(error_ != Error::None)) return fail_result();
  const std::size_t n = bytes.size();
  std::uint8_t* p = put_length_head(n, n);
  if (p == nullptr) return fail_result();
  if (n != 0) std::memcpy(p, bytes.data(), n);
  next_ = p + n;
  return commit_message();
}

std::span<std::uint8_t> HeaderBuilder::begin_in_place() noexcept {
  close_start_line();
  if (ABSL_PREDICT_FALSE(room() < kInPlaceReserve)) fail(Error::BufferFull);
  if (error_ != Error::None) return {};
  return {next_ + kInPlaceReserve, limit_};
}

WriteResult HeaderBuilder::end_in_place(std::size_t n) noexcept {
  if (ABSL_PREDICT_FALSE(n > room() - kInPlaceReserve)) {
    fail(Error::BufferFull);
    return fail_result();
  }
  std::uint8_t* const body = next_ + kInPlaceReserve;
  std::uint8_t* p = put_length_line(next_, n, decimal_width(n));
  // The body was written kInPlaceReserve bytes in; close the gap the shorter
  // decimal left.
  if (n != 0) std::memmove(p, body, n);
  next_ = p + n;
  return commit_message();
}

std::span<std::uint8_t> HeaderBuilder::begin_fixed(std::size_t n) noexcept {
  if (ABSL_PREDICT_FALSE(error_ != Error::None)) return {};
  std::uint8_t* p = put_length_head(n, n);
  if (p == nullptr) return {};
  next_ = p;
  return {p, n};
}

WriteResult HeaderBuilder::end_fixed(std::size_t n) noexcept {
  next_ += n;
  return commit_message();
}

WriteResult HeaderBuilder::finish() noexcept {
  close_start_line();
  put(zero_length_ ? std::string_view("Content-Length: 0\r\n\r\n")
                   : std::string_view("\r\n"));
  return done();
}

}  // namespace tern::http
