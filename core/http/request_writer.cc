#include "core/http/request_writer.h"

#include <charconv>
#include <cstring>
#include <iterator>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/http/byte_checks.h"
#include "core/http/tokens.h"

namespace tern::http {
namespace {

// RFC 3986 §2.3: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
constexpr std::array<bool, 256> make_unreserved() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  t['-'] = t['.'] = t['_'] = t['~'] = true;
  return t;
}
constexpr std::array<bool, 256> kUnreserved = make_unreserved();

bool is_injection(std::uint8_t c) { return c == '\r' || c == '\n' || c == 0; }

// Path bytes: visible ASCII except '#' (a fragment is never sent, RFC 9112
// §3.2.1). CR/LF/NUL are reported as injection, other bad bytes as InvalidPath.
ABSL_ATTRIBUTE_NOINLINE Error path_error(std::string_view path, bool allow_empty) {
  if (path.empty()) return allow_empty ? Error::None : Error::InvalidPath;
  Error e = path.front() == '/' ? Error::None : Error::InvalidPath;
  for (char ch : path) {
    const auto c = static_cast<std::uint8_t>(ch);
    if (ABSL_PREDICT_FALSE(c <= 0x20 || c >= 0x7F || c == '#')) {
      if (is_injection(c)) return Error::CrlfInjection;
      e = Error::InvalidPath;
    }
  }
  return e;
}

inline Error check_path(std::string_view path, bool allow_empty, bool* query) {
  if (ABSL_PREDICT_TRUE(!path.empty() && path.front() == '/' &&
                        detail::clean_path_bytes(path, query))) {
    return Error::None;
  }
  return path_error(path, allow_empty);
}

// The request line's first bytes: the method and the space after it, 4..8
// bytes, so two overlapping 4-byte moves write any of them. Indexed by
// Method; Method::Other has no name of its own (RFC 9110 §9 lists these).
struct MethodPrefix {
  char text[9];  // with the literal's NUL, never copied
  std::uint8_t size;
};
constexpr MethodPrefix kMethodPrefixes[] = {
    {"GET ", 4},      {"HEAD ", 5},    {"POST ", 5},    {"PUT ", 4},     {"DELETE ", 7},
    {"PATCH ", 6},    {"OPTIONS ", 8}, {"CONNECT ", 8}, {"TRACE ", 6},
};
static_assert(std::size(kMethodPrefixes) == static_cast<std::size_t>(Method::Other));

absl::Status config_error(std::string_view what, Error e) {
  return absl::InvalidArgumentError(
      absl::StrCat("RequestWriter: ", absl::string_view(what.data(), what.size()),
                   ": ", absl::string_view(name(e).data(), name(e).size())));
}

}  // namespace

absl::StatusOr<RequestWriter> RequestWriter::create(Options options) {
  RequestWriter w;
  bool query = false;
  Error e = check_path(options.base_path, /*allow_empty=*/true, &query);
  if (e != Error::None) return config_error("base_path", e);
  if (!options.base_path.empty() && options.base_path.back() == '/') {
    options.base_path.pop_back();  // "/api/" + "/x" would double the slash
  }
  w.base_path_ = std::move(options.base_path);
  // RFC 9112 §3.2: a client MUST send Host in every HTTP/1.1 request.
  e = detail::check_field_value(options.host);
  if (e == Error::None && options.host.empty()) e = Error::InvalidHeaderValue;
  if (e != Error::None) return config_error("host", e);
  absl::StrAppend(&w.line_end_, " HTTP/1.1\r\nHost: ", options.host, "\r\n");
  for (const auto& [name, value] : options.default_headers) {
    e = detail::check_field(name, value, /*host_reserved=*/true);
    if (e != Error::None) return config_error(name, e);
    absl::StrAppend(&w.line_end_, name, ": ", value, "\r\n");
  }
  return w;
}

RequestBuilder RequestWriter::start(WriteBuf& out, Method method,
                                    std::string_view path) const noexcept {
  const bool zero_length = method == Method::Post || method == Method::Put ||
                           method == Method::Patch;
  RequestBuilder b(out, line_end_, zero_length);
  const auto m = static_cast<std::size_t>(method);
  bool query = false;
  Error e = m < std::size(kMethodPrefixes) ? check_path(path, false, &query)
                                           : Error::BadMethod;
  if (ABSL_PREDICT_FALSE(e != Error::None)) {
    b.fail(e);
    return b;
  }
  const MethodPrefix& prefix = kMethodPrefixes[m];
  const std::size_t need = prefix.size + base_path_.size() + path.size();
  if (ABSL_PREDICT_FALSE(b.room() < need)) {
    b.fail(Error::BufferFull);
    return b;
  }
  std::uint8_t* p = b.next_;
  std::memcpy(p, prefix.text, 4);
  std::memcpy(p + prefix.size - 4, prefix.text + prefix.size - 4, 4);
  p += prefix.size;
  if (!base_path_.empty()) {  // often none: the caller's paths are absolute
    detail::copy_bytes(p, base_path_.data(), base_path_.size());
    p += base_path_.size();
  }
  detail::copy_bytes(p, path.data(), path.size());
  b.next_ = p + path.size();
  b.line_open_ = true;
  b.has_query_ = query;
  return b;
}

void RequestBuilder::put_encoded(std::string_view s) noexcept {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::size_t need = s.size();
  if (room() < 3 * s.size()) {  // exact size only when it may not fit
    for (char ch : s) need += kUnreserved[static_cast<std::uint8_t>(ch)] ? 0 : 2;
    if (ABSL_PREDICT_FALSE(room() < need)) {
      fail(Error::BufferFull);
      return;
    }
  }
  std::uint8_t* p = next_;
  for (char ch : s) {
    const auto c = static_cast<std::uint8_t>(ch);
    if (kUnreserved[c]) {
      *p++ = c;
    } else {
      p[0] = '%';
      p[1] = static_cast<std::uint8_t>(kHex[c >> 4]);
      p[2] = static_cast<std::uint8_t>(kHex[c & 15]);
      p += 3;
    }
  }
  next_ = p;
}

RequestBuilder& RequestBuilder::query(std::string_view key,
                                      std::string_view value) noexcept {
  if (ABSL_PREDICT_FALSE(error_ != Error::None)) return *this;
  if (ABSL_PREDICT_FALSE(!line_open_)) return *this;  // unreachable by type
  for (std::string_view s : {key, value}) {
    for (char ch : s) {
      // Encoding would neutralize them, but a CR/LF in a parameter is far
      // more likely an injection attempt than data (issue #5 policy).
      if (ABSL_PREDICT_FALSE(is_injection(static_cast<std::uint8_t>(ch)))) {
        fail(Error::CrlfInjection);
        return *this;
      }
    }
  }
  put(has_query_ ? "&" : "?");
  has_query_ = true;
  put_encoded(key);
  put("=");
  put_encoded(value);
  return *this;
}

RequestBuilder& RequestBuilder::query(std::string_view key,
                                      std::int64_t value) noexcept {
  char digits[24];
  auto r = std::to_chars(digits, digits + sizeof digits, value);
  return query(key, std::string_view(digits, static_cast<std::size_t>(r.ptr - digits)));
}

}  // namespace tern::http
