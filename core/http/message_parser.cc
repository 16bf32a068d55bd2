#include "core/http/message_parser.h"

#include <cstring>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/ascii.h"
#include "core/http/tokens.h"
#include "core/simd/http_block_scan.h"
#include "core/simd/http_scan.h"

namespace tern::http::detail {
namespace {

// The header scans may load this far past the readable bytes.
static_assert(ReadBuf::kPadding >= 64, "http_scan kernels over-read 64 bytes");
static_assert(ReadBuf::kPadding >= simd::kHttpBlock,
              "BlockWindow classifies whole blocks past the last byte");

constexpr bool is_ows(std::uint8_t c) { return c == ' ' || c == '\t'; }
constexpr bool is_digit(std::uint8_t c) { return static_cast<unsigned>(c - '0') < 10u; }

std::string_view view(const std::uint8_t* p, std::size_t begin,
                      std::size_t end) {
  return {reinterpret_cast<const char*>(p) + begin, end - begin};
}

// ASCII case-insensitive equality of `s` with a lowercase literal made of
// letters, digits and '-'. OR-ing 0x20 folds letters; on bytes that can reach
// here (no CR/LF/NUL: the line scan stops at controls) it maps nothing else
// onto a letter, digit or '-'. Eight bytes at a time: the hot framing fields
// are compared without a call into Abseil.
inline std::uint64_t load64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool equals_lower(std::string_view s,
                                                     std::string_view lower) {
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

// -1 if c is not a hex digit.
constexpr int hex_value(std::uint8_t c) {
  if (static_cast<unsigned>(c - '0') < 10u) return c - '0';
  const unsigned lower = c | 0x20u;
  if (lower - 'a' < 6u) return static_cast<int>(lower - 'a' + 10);
  return -1;
}

// "HTTP/1.x" (RFC 9112 §2.3); a later minor version is read as 1.1
// (RFC 9110 §2.5: a recipient treats it as the highest it conforms to).
// v has at least 8 readable bytes.
bool parse_version(const std::uint8_t* v, std::uint8_t* minor) {
  std::uint64_t w;
  std::memcpy(&w, v, 8);
  std::uint64_t want;
  std::memcpy(&want, "HTTP/1.0", 8);
  // The first seven bytes exactly, then one digit.
  constexpr std::uint64_t kSeven = 0x00FFFFFFFFFFFFFFull;  // little-endian
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__);
  if (((w ^ want) & kSeven) != 0 || !is_digit(v[7])) return false;
  *minor = v[7] == '0' ? 0 : 1;
  return true;
}

// "\r\n" as a little-endian 16-bit load.
constexpr std::uint16_t kCrLf = 0x0A0D;
inline std::uint16_t load16(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

inline unsigned ctz(std::uint64_t m) { return static_cast<unsigned>(__builtin_ctzll(m)); }

}  // namespace

// The head's line ends and field-name ends, from bitmasks of up to kBlocks
// 64-byte blocks classified in one call (simd::classify_http_blocks), so the
// per-line work is a few bit operations instead of a scan call per line.
// Lives for one next() call (p and n are that call's buffer). Blocks are
// classified on demand from the first position searched, never twice, so
// trickled input still costs O(n) (plus one block per call). The last block
// may extend past n into the ReadBuf padding or spare bytes: its ctl bits
// from n on are forced to 1, so every search stops at n at the latest.
class BlockWindow {
 public:
  static constexpr std::size_t kBlocks = 4;

  BlockWindow(const std::uint8_t* p, std::size_t n) : p_(p), n_(n) {}

  // First CR, LF or control byte (other than HTAB) at or after s, or n.
  ABSL_ATTRIBUTE_ALWAYS_INLINE std::size_t find_ctl(std::size_t s) noexcept {
    for (;;) {
      std::size_t rel = s - base_;  // wraps (>= span_) when s < base_
      if (ABSL_PREDICT_FALSE(rel >= span_)) {
        if (s >= n_) return n_;
        fill(s);
        rel = 0;
      }
      const std::uint64_t m = masks_[rel / 64].ctl >> (rel % 64);
      if (ABSL_PREDICT_TRUE(m != 0)) return s + ctz(m);
      s += 64 - rel % 64;
    }
  }

  // True if s lies in the classified bytes (token_end may be asked).
  bool covers(std::size_t s) const noexcept { return s - base_ < span_; }

  // First non-tchar at or after s. Precondition: covers(s), and a control
  // byte before n follows s inside the window (the line's CR), which stops
  // the search.
  ABSL_ATTRIBUTE_ALWAYS_INLINE std::size_t token_end(std::size_t s) const noexcept {
    std::size_t rel = s - base_;
    for (;;) {
      const std::uint64_t m = ~masks_[rel / 64].token >> (rel % 64);
      if (ABSL_PREDICT_TRUE(m != 0)) return base_ + rel + ctz(m);
      rel += 64 - rel % 64;
    }
  }

 private:
  void fill(std::size_t s) noexcept {
    const std::size_t avail = n_ - s;
    std::size_t blocks = (avail + simd::kHttpBlock - 1) / simd::kHttpBlock;
    if (blocks > kBlocks) blocks = kBlocks;
    simd::classify_http_blocks(p_ + s, blocks, masks_);
    base_ = s;
    span_ = blocks * simd::kHttpBlock;
    if (avail < span_) masks_[avail / 64].ctl |= ~std::uint64_t{0} << (avail % 64);
  }

  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t base_ = 0;
  std::size_t span_ = 0;
  simd::HttpBlockMasks masks_[kBlocks];
};

MessageParser::MessageParser(Kind kind, const Limits& limits)
    : kind_(kind),
      limits_(limits),
      headers_(new Header[limits.max_headers > 0 ? limits.max_headers : 1]) {}

ABSL_ATTRIBUTE_COLD Progress MessageParser::fail(Error e) noexcept {
  error_ = e;
  phase_ = Phase::Failed;
  return Progress::Failed;
}

void MessageParser::clear_message() noexcept {
  phase_ = Phase::StartLine;
  pos_ = scan_ = section_start_ = 0;
  body_begin_ = body_len_ = 0;
  remaining_ = cl_ = 0;
  n_headers_ = n_trailers_ = 0;
  method_text_ = target_ = reason_ = {};
  status_ = 0;
  minor_ = 1;
  has_cl_ = has_te_ = te_chunked_ = false;
  conn_close_ = conn_keep_alive_ = keep_alive_ = false;
}

void MessageParser::reset() noexcept {
  clear_message();
  error_ = Error::None;
  base_ = nullptr;
}

void MessageParser::consume(ReadBuf& buf) noexcept {
  if (phase_ != Phase::Done) return;
  buf.consume(pos_);
  clear_message();
  base_ = nullptr;
}

ABSL_ATTRIBUTE_COLD void MessageParser::rebase(const std::uint8_t* p) noexcept {
  const char* from = reinterpret_cast<const char*>(base_);
  const char* to = reinterpret_cast<const char*>(p);
  auto move = [&](std::string_view& v) {
    if (v.data() != nullptr) v = {to + (v.data() - from), v.size()};
  };
  move(method_text_);
  move(target_);
  move(reason_);
  for (std::size_t i = 0; i < n_headers_ + n_trailers_; ++i) {
    move(headers_[i].name);
    move(headers_[i].value);
  }
  base_ = p;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline MessageParser::Scan MessageParser::end_line(
    const std::uint8_t* p, std::size_t n, std::size_t i, std::size_t start,
    std::size_t limit, Error limit_error, Error ctl_error,
    std::size_t* cr) noexcept {
  // The limit is judged on the bytes before the first byte of interest, and
  // again on the whole line once it ends, so the verdict does not depend on
  // how the input was split.
  if (ABSL_PREDICT_FALSE(i - start > limit)) {
    fail(limit_error);
    return Scan::Bad;
  }
  if (i >= n) {
    scan_ = n;
    return Scan::More;
  }
  if (ABSL_PREDICT_TRUE(p[i] == '\r')) {
    if (i + 1 >= n) {
      scan_ = i;  // revisit the CR once its LF may have arrived
      return Scan::More;
    }
    if (ABSL_PREDICT_TRUE(p[i + 1] == '\n')) {
      if (ABSL_PREDICT_FALSE(i + 2 - start > limit)) {
        fail(limit_error);
        return Scan::Bad;
      }
      *cr = i;
      return Scan::Found;
    }
  }
  // RFC 9112 §2.2: a bare CR must be rejected; a bare LF is tolerated by some,
  // but accepting it is a smuggling vector between disagreeing parsers.
  fail(p[i] == '\r' || p[i] == '\n' ? Error::BadLineEnding : ctl_error);
  return Scan::Bad;
}

bool MessageParser::parse_request_line(const std::uint8_t* p,
                                       std::size_t cr) noexcept {
  // RFC 9112 §3: request-line = method SP request-target SP HTTP-version
  // p[cr] is CR, not a token byte: it stops the loop without a bound check.
  std::size_t i = pos_;
  while (is_token_char(p[i])) ++i;
  if (ABSL_PREDICT_FALSE(i == pos_ || i == cr || p[i] != ' ')) {
    fail(Error::BadMethod);
    return false;
  }
  method_text_ = view(p, pos_, i);
  method_ = parse_method(method_text_);
  const std::size_t t = ++i;
  // RFC 9112 §3.2 / RFC 3986: the target is visible ASCII only.
  while (i < cr && p[i] > 0x20 && p[i] < 0x7F) ++i;
  if (ABSL_PREDICT_FALSE(i == t || (i < cr && p[i] != ' '))) {
    fail(Error::BadTarget);
    return false;
  }
  if (ABSL_PREDICT_FALSE(i == cr)) {
    fail(Error::BadStartLine);
    return false;
  }
  target_ = view(p, t, i);
  ++i;
  if (ABSL_PREDICT_FALSE(cr - i != 8 || !parse_version(p + i, &minor_))) {
    fail(Error::BadVersion);
    return false;
  }
  return true;
}

bool MessageParser::parse_status_line(const std::uint8_t* p,
                                      std::size_t cr) noexcept {
  // RFC 9112 §4: status-line = HTTP-version SP status-code SP [reason-phrase]
  const std::uint8_t* s = p + pos_;
  const std::size_t len = cr - pos_;
  if (ABSL_PREDICT_FALSE(len < 8 || !parse_version(s, &minor_))) {
    fail(Error::BadVersion);
    return false;
  }
  if (ABSL_PREDICT_FALSE(len < 9 || s[8] != ' ')) {
    fail(Error::BadStartLine);
    return false;
  }
  // Some servers omit the SP before an empty reason; accept "HTTP/1.1 200".
  if (ABSL_PREDICT_FALSE(len < 12 || !is_digit(s[9]) || !is_digit(s[10]) ||
                         !is_digit(s[11]) || (len > 12 && s[12] != ' '))) {
    fail(Error::BadStatus);
    return false;
  }
  status_ = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
  // RFC 9110 §15: status codes are 100..599.
  if (ABSL_PREDICT_FALSE(status_ < 100 || status_ > 599)) {
    fail(Error::BadStatus);
    return false;
  }
  reason_ = len > 12 ? view(p, pos_ + 13, cr) : view(p, cr, cr);
  return true;
}

bool MessageParser::parse_content_length(std::string_view v) noexcept {
  // RFC 9112 §6.3 ¶5 / RFC 9110 §8.6: Content-Length = 1*DIGIT.
  if (ABSL_PREDICT_FALSE(v.empty())) {
    fail(Error::InvalidContentLength);
    return false;
  }
  std::uint64_t x = 0;
  if (ABSL_PREDICT_TRUE(v.size() <= 19)) {
    // 19 digits stay below 10^19 < 2^64: no overflow test per digit.
    for (char ch : v) {
      const unsigned d = static_cast<unsigned char>(ch) - unsigned{'0'};
      if (ABSL_PREDICT_FALSE(d > 9)) {
        fail(Error::InvalidContentLength);
        return false;
      }
      x = x * 10 + d;
    }
  } else {
    for (char ch : v) {
      const std::uint8_t c = static_cast<std::uint8_t>(ch);
      if (ABSL_PREDICT_FALSE(!is_digit(c))) {
        fail(Error::InvalidContentLength);
        return false;
      }
      const std::uint64_t d = c - '0';
      if (ABSL_PREDICT_FALSE(x > (UINT64_MAX - d) / 10)) {
        fail(Error::ContentLengthOverflow);
        return false;
      }
      x = x * 10 + d;
    }
  }
  // Identical duplicates are one value (RFC 9110 §8.6); differing ones are
  // a framing ambiguity an attacker can exploit.
  if (ABSL_PREDICT_FALSE(has_cl_ && x != cl_)) {
    fail(Error::ConflictingContentLength);
    return false;
  }
  has_cl_ = true;
  cl_ = x;
  return true;
}

void MessageParser::on_connection(std::string_view value) noexcept {
  // RFC 9112 §9.3, §9.6: one pass over the list for both options.
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view e = value.substr(0, comma);
    while (!e.empty() && is_ows(e.front())) e.remove_prefix(1);
    while (!e.empty() && is_ows(e.back())) e.remove_suffix(1);
    conn_close_ |= equals_lower(e, "close");
    conn_keep_alive_ |= equals_lower(e, "keep-alive");
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

void MessageParser::on_transfer_encoding(std::string_view value) noexcept {
  // RFC 9112 §6.3 ¶4: only a final "chunked" coding frames the body.
  has_te_ = true;
  te_chunked_ = equals_lower(value, "chunked") || iequals(last_token(value), "chunked");
}

template <bool kHead>
MessageParser::Scan MessageParser::parse_fields(const std::uint8_t* p,
                                                std::size_t n, BlockWindow& w,
                                                std::size_t* blank) noexcept {
  // The hot loop of the parser: every complete field line in the buffer.
  // Cursors live in locals (stores into the Header array could alias the
  // members) and are written back on every exit.
  std::size_t pos = pos_;
  std::size_t scan = scan_;
  Header* h = headers_.get() + n_headers_ + n_trailers_;
  Header* const h_end = headers_.get() + limits_.max_headers;
  // The section may not extend past `last` (start + limit, saturated).
  const std::size_t start = section_start_;
  const std::size_t last = limits_.max_header_bytes > SIZE_MAX - start
                               ? SIZE_MAX
                               : start + limits_.max_header_bytes;
  Scan result;
  for (;;) {
    const std::size_t i = w.find_ctl(scan);
    // The limit is judged on the bytes before the first byte of interest
    // (when the line is incomplete or bad) and on the whole line with its
    // CRLF (when it is complete), so the verdict does not depend on how the
    // input was split.
    if (ABSL_PREDICT_FALSE(i + 1 >= n)) {
      if (i >= n || p[i] == '\r') {
        if (ABSL_PREDICT_FALSE(i > last)) {
          fail(Error::HeaderTooLarge);
          result = Scan::Bad;
          break;
        }
        scan = i;  // n, or a lone CR revisited once its LF may be here
        result = Scan::More;
        break;
      }
    }
    if (ABSL_PREDICT_FALSE(load16(p + i) != kCrLf)) {
      // RFC 9112 §2.2: bare CR and bare LF are rejected (a bare LF accepted
      // by one parser and not another is a smuggling vector).
      fail(i > last                          ? Error::HeaderTooLarge
           : p[i] == '\r' || p[i] == '\n'    ? Error::BadLineEnding
                                             : Error::BadHeaderValue);
      result = Scan::Bad;
      break;
    }
    if (ABSL_PREDICT_FALSE(i + 2 > last)) {
      fail(Error::HeaderTooLarge);
      result = Scan::Bad;
      break;
    }
    if (i == pos) {  // the blank line ends the section
      *blank = i;
      result = Scan::Found;
      break;
    }
    // RFC 9112 §5.1: field-name ":" OWS field-value OWS, no whitespace
    // before the colon. p[i] is CR (neither a token byte, ':' nor OWS), so
    // it stops each search without a bound check. The name ends at the first
    // non-tchar (one bit search when the line start is in the window; a line
    // that began before the window was refilled takes the table loop, whose
    // four bytes a step may look up to 3 bytes past the CR, still inside the
    // LF, later data or padding).
    std::size_t k = pos;
    if (ABSL_PREDICT_TRUE(w.covers(pos))) {
      k = w.token_end(pos);
    } else {
      while (is_token_char(p[k]) & is_token_char(p[k + 1]) &
             is_token_char(p[k + 2]) & is_token_char(p[k + 3])) {
        k += 4;
      }
      while (is_token_char(p[k])) ++k;
    }
    if (ABSL_PREDICT_FALSE(k == pos || p[k] != ':')) {
      // RFC 9112 §5.2: obs-fold (a line starting with SP/HTAB, which is not
      // a tchar) must be rejected (or replaced) by recipients.
      fail(is_ows(p[pos]) ? Error::ObsoleteLineFolding : Error::BadHeaderName);
      result = Scan::Bad;
      break;
    }
    // OWS around the value. One compare each in the usual case (one SP
    // before, none after): SP, HTAB and the CR of an empty value are the
    // only bytes <= 0x20 that can be here.
    std::size_t v = k + 1;
    v += p[v] == ' ';
    if (ABSL_PREDICT_FALSE(p[v] <= ' ')) {
      while (is_ows(p[v])) ++v;
    }
    std::size_t e = i;
    if (ABSL_PREDICT_FALSE(p[e - 1] <= ' ')) {
      while (e > v && is_ows(p[e - 1])) --e;
    }
    if (ABSL_PREDICT_FALSE(h == h_end)) {
      fail(Error::TooManyHeaders);
      result = Scan::Bad;
      break;
    }
    const std::string_view name = view(p, pos, k);
    const std::string_view value = view(p, v, e);
    h->name = name;
    h->value = value;
    ++h;
    pos = scan = i + 2;
    if constexpr (kHead) {
      // Only Connection, Content-Length and Transfer-Encoding change
      // framing; their names are recognised by length and two 8-byte
      // compares, other names cost one length test.
      const std::size_t len = name.size();
      // Bits 10, 14 and 17; len & 63 may alias a longer name onto them,
      // which the compares below then reject.
      constexpr std::uint64_t kFramingLengths = (1u << 10) | (1u << 14) | (1u << 17);
      if (ABSL_PREDICT_FALSE((kFramingLengths >> (len & 63)) & 1)) {
        if (len == 14 && equals_lower(name, "content-length")) {
          if (!parse_content_length(value)) {
            result = Scan::Bad;
            break;
          }
        } else if (len == 10 && equals_lower(name, "connection")) {
          // Common single values first.
          if (equals_lower(value, "keep-alive")) {
            conn_keep_alive_ = true;
          } else if (equals_lower(value, "close")) {
            conn_close_ = true;
          } else {
            on_connection(value);
          }
        } else if (len == 17 && equals_lower(name, "transfer-encoding")) {
          on_transfer_encoding(value);
        }
      }
    }
  }
  pos_ = pos;
  scan_ = scan;
  const std::size_t count = static_cast<std::size_t>(h - headers_.get());
  if constexpr (kHead) {
    n_headers_ = count;
  } else {
    n_trailers_ = count - n_headers_;
  }
  return result;
}

bool MessageParser::start_body(ReadBuf& buf) noexcept {
  keep_alive_ = minor_ == 1 ? !conn_close_ : conn_keep_alive_ && !conn_close_;
  body_begin_ = pos_;
  // RFC 9112 §6.3 ¶3 and §11.2: both framings present is how requests are
  // smuggled past a proxy that picks the other one.
  if (ABSL_PREDICT_FALSE(has_te_ && has_cl_)) {
    fail(Error::TransferEncodingWithContentLength);
    return false;
  }
  if (kind_ == Kind::Response) {
    // RFC 9112 §6.3 ¶1-2: no content after HEAD, for 1xx, 204, 304, and a
    // 2xx to CONNECT (a tunnel follows).
    if (request_method_ == Method::Head || status_ < 200 || status_ == 204 ||
        status_ == 304 ||
        (request_method_ == Method::Connect && status_ < 300)) {
      // 101: the connection now speaks another protocol.
      if (status_ == 101) keep_alive_ = false;
      phase_ = Phase::Done;
      return true;
    }
    if (has_te_) {
      // §6.3 ¶4: a response whose final coding is not chunked runs to close.
      phase_ = te_chunked_ ? Phase::ChunkSize : Phase::ToEof;
      if (!te_chunked_) keep_alive_ = false;
    } else if (has_cl_) {
      phase_ = Phase::Length;
    } else {
      phase_ = Phase::ToEof;  // §6.3 ¶8
      keep_alive_ = false;
    }
  } else {
    if (has_te_) {
      // §6.3 ¶4: a request without a final chunked coding is 400.
      if (ABSL_PREDICT_FALSE(!te_chunked_)) {
        fail(Error::BadTransferEncoding);
        return false;
      }
      phase_ = Phase::ChunkSize;
    } else if (has_cl_) {
      phase_ = Phase::Length;
    } else {
      phase_ = Phase::Done;  // §6.3 ¶7: no body
      return true;
    }
  }
  if (phase_ == Phase::Length) {
    if (ABSL_PREDICT_FALSE(cl_ > limits_.max_body_size)) {
      fail(Error::BodyTooLarge);
      return false;
    }
    if (ABSL_PREDICT_FALSE(cl_ > buf.capacity() - body_begin_)) {
      fail(Error::BufferFull);
      return false;
    }
    remaining_ = cl_;
    if (cl_ == 0) phase_ = Phase::Done;
  }
  return true;
}

Progress MessageParser::next(ReadBuf& buf, bool eof) noexcept {
  if (ABSL_PREDICT_FALSE(phase_ == Phase::Failed)) return Progress::Failed;
  if (phase_ == Phase::Done) consume(buf);
  std::uint8_t* p = buf.mutable_data().data();
  std::size_t n = buf.size();
  if (ABSL_PREDICT_FALSE(p != base_) && base_ != nullptr) rebase(p);
  base_ = p;

  BlockWindow w(p, n);
  for (;;) {
    switch (phase_) {
      case Phase::StartLine: {
        std::size_t cr;
        const Scan s = end_line(p, n, w.find_ctl(scan_), section_start_,
                                limits_.max_header_bytes, Error::HeaderTooLarge,
                                Error::BadStartLine, &cr);
        if (s == Scan::Bad) return Progress::Failed;
        if (s == Scan::More) goto need_more;
        if (kind_ == Kind::Request) {
          // RFC 9112 §2.2: ignore empty lines before a request-line.
          if (cr == pos_) {
            pos_ = scan_ = cr + 2;
            continue;
          }
          if (!parse_request_line(p, cr)) return Progress::Failed;
        } else {
          if (!parse_status_line(p, cr)) return Progress::Failed;
        }
        pos_ = scan_ = cr + 2;
        phase_ = Phase::Fields;
        continue;
      }
      case Phase::Fields:
      case Phase::Trailers: {
        const bool head = phase_ == Phase::Fields;
        std::size_t cr = 0;
        const Scan s = head ? parse_fields<true>(p, n, w, &cr)
                            : parse_fields<false>(p, n, w, &cr);
        if (s == Scan::Bad) return Progress::Failed;
        if (s == Scan::More) goto need_more;
        pos_ = scan_ = cr + 2;  // the blank line ends the section
        if (!head) {
          phase_ = Phase::Done;
          continue;
        }
        if (!start_body(buf)) return Progress::Failed;
        if (phase_ == Phase::Done && kind_ == Kind::Response &&
            status_ < 200 && status_ != 101) {
          // RFC 9110 §15.2: interim responses precede the final one; drop
          // them so the caller sees only the final response (and 101).
          buf.consume(pos_);
          clear_message();
          p = buf.mutable_data().data();
          n = buf.size();
          base_ = p;
          w = BlockWindow(p, n);
        }
        continue;
      }
      case Phase::Length: {
        const std::size_t avail = n - pos_;
        const std::size_t take = avail < remaining_ ? avail : remaining_;
        pos_ += take;
        remaining_ -= take;
        if (remaining_ != 0) goto need_more;
        body_len_ = cl_;
        phase_ = Phase::Done;
        continue;
      }
      case Phase::ChunkSize: {
        // RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF
        {
          // Fast path for the common "1e\r\n": up to 16 hex digits (cannot
          // overflow) right before CRLF. Anything else takes the general
          // path below, which gives the same verdict for these lines.
          std::uint64_t size = 0;
          std::size_t i = pos_;
          const std::size_t end = n - pos_ > 16 ? pos_ + 16 : n;
          for (int d; i < end && (d = hex_value(p[i])) >= 0; ++i) {
            size = size << 4 | static_cast<unsigned>(d);
          }
          if (i != pos_ && i + 1 < n && p[i] == '\r' && p[i + 1] == '\n') {
            pos_ = scan_ = i + 2;
            if (size == 0) {
              phase_ = Phase::Trailers;
              section_start_ = pos_;
              continue;
            }
            if (ABSL_PREDICT_FALSE(size > limits_.max_body_size - body_len_)) {
              return fail(Error::BodyTooLarge);
            }
            remaining_ = size;
            phase_ = Phase::ChunkData;
            continue;
          }
        }
        std::size_t cr;
        const Scan s = end_line(
            p, n, scan_ + simd::find_line_end_or_ctl(p + scan_, n - scan_), pos_,
            kMaxChunkLine, Error::ChunkLineTooLong, Error::InvalidChunkSize, &cr);
        if (s == Scan::Bad) return Progress::Failed;
        if (s == Scan::More) goto need_more;
        std::uint64_t size = 0;
        std::size_t i = pos_;
        for (int d; i < cr && (d = hex_value(p[i])) >= 0; ++i) {
          if (ABSL_PREDICT_FALSE(size >> 60)) return fail(Error::ChunkSizeOverflow);
          size = size << 4 | static_cast<unsigned>(d);
        }
        if (ABSL_PREDICT_FALSE(i == pos_)) return fail(Error::InvalidChunkSize);
        // §7.1.1: chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ),
        // ignored here, but nothing else may follow the size.
        while (i < cr && is_ows(p[i])) ++i;
        if (ABSL_PREDICT_FALSE(i < cr && p[i] != ';')) {
          return fail(Error::InvalidChunkSize);
        }
        pos_ = scan_ = cr + 2;
        if (size == 0) {
          phase_ = Phase::Trailers;  // §7.1.2: trailer-section CRLF
          section_start_ = pos_;
          continue;
        }
        if (ABSL_PREDICT_FALSE(size > limits_.max_body_size - body_len_)) {
          return fail(Error::BodyTooLarge);
        }
        remaining_ = size;
        phase_ = Phase::ChunkData;
        continue;
      }
      case Phase::ChunkData: {
        // Decode in place: chunk data slides down over the size lines so the
        // body ends up contiguous at body_begin_.
        const std::size_t avail = n - pos_;
        const std::size_t take = avail < remaining_ ? avail : remaining_;
        const std::size_t dst = body_begin_ + body_len_;
        if (dst != pos_ && take != 0) std::memmove(p + dst, p + pos_, take);
        body_len_ += take;
        pos_ += take;
        scan_ = pos_;
        remaining_ -= take;
        if (remaining_ != 0) goto need_more;
        phase_ = Phase::ChunkEnd;
        continue;
      }
      case Phase::ChunkEnd: {
        if (n - pos_ < 2) {
          if (n - pos_ == 1 && ABSL_PREDICT_FALSE(p[pos_] != '\r')) {
            return fail(Error::BadChunkTerminator);
          }
          goto need_more;
        }
        if (ABSL_PREDICT_FALSE(p[pos_] != '\r' || p[pos_ + 1] != '\n')) {
          return fail(Error::BadChunkTerminator);
        }
        pos_ = scan_ = pos_ + 2;
        phase_ = Phase::ChunkSize;
        continue;
      }
      case Phase::ToEof: {
        pos_ = n;
        body_len_ = n - body_begin_;
        if (ABSL_PREDICT_FALSE(body_len_ > limits_.max_body_size)) {
          return fail(Error::BodyTooLarge);
        }
        if (!eof) goto need_more;
        phase_ = Phase::Done;  // RFC 9112 §6.3 ¶8: the close ends the body
        continue;
      }
      case Phase::Done:
        return Progress::Complete;
      case Phase::Failed:
        return Progress::Failed;
    }
  }

need_more:
  if (ABSL_PREDICT_FALSE(eof)) return fail(Error::UnexpectedEof);
  // Nothing more can arrive: the message does not fit the buffer.
  if (ABSL_PREDICT_FALSE(n >= buf.capacity())) return fail(Error::BufferFull);
  // Make room at the back; views are rebased on the next call.
  if (buf.spare().empty()) buf.compact();
  return Progress::NeedMore;
}

}  // namespace tern::http::detail
