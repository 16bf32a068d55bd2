// The head parsers of MessageParser: the start lines, the field section
// (general: resumes anywhere, judges every error; and the whole-head fast
// path), and the framing fields.
#include <cstring>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "core/http/head_scan.h"
#include "core/http/message_parser.h"
#include "core/http/tokens.h"

namespace tern::http::detail {
namespace {

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

// Replaces each obs-fold (OWS CRLF RWS, RFC 9112 §5.2) in p[from, to) with
// as many SP bytes, in place: the value keeps its length and its bytes stay
// where they are (zero copy). Every CR in the range begins a fold: the line
// scan let no other CR through. Each byte is looked at once or twice.
ABSL_ATTRIBUTE_COLD void unfold(std::uint8_t* p, std::size_t from, std::size_t to) {
  std::size_t done = from;  // bytes before this are final
  while (done < to) {
    const void* found = std::memchr(p + done, '\r', to - done);
    if (found == nullptr) break;
    std::size_t a = static_cast<std::size_t>(static_cast<const std::uint8_t*>(found) - p);
    std::size_t b = a + 2;  // past the LF
    while (a > done && is_ows(p[a - 1])) --a;
    while (b < to && is_ows(p[b])) ++b;
    std::memset(p + a, ' ', b - a);
    done = b;
  }
}

}  // namespace

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
  // Any three digits (RFC 9112 §4). RFC 9110 §15: codes outside 100..599
  // are invalid, and a client SHOULD process such a response as a 5xx, so it
  // is framed as a final response with content (start_body()) and reported
  // as sent (ResponseReader::status_class() is 5 for it).
  status_ = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
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

ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool MessageParser::on_head_field(
    std::string_view name, std::string_view value) noexcept {
  // Only Connection, Content-Length and Transfer-Encoding change framing;
  // their names are recognised by length and two 8-byte compares, other
  // names cost one length test.
  const std::size_t len = name.size();
  // Bits 10, 14 and 17; len & 63 may alias a longer name onto them, which
  // the compares below then reject.
  constexpr std::uint64_t kFramingLengths = (1u << 10) | (1u << 14) | (1u << 17);
  if (ABSL_PREDICT_TRUE(((kFramingLengths >> (len & 63)) & 1) == 0)) return true;
  if (len == 14 && equals_lower(name, "content-length")) {
    return parse_content_length(value);
  }
  if (len == 10 && equals_lower(name, "connection")) {
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
  return true;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline MessageParser::Scan MessageParser::end_field_line(
    const std::uint8_t* p, std::size_t n, std::size_t i, std::size_t last) noexcept {
  // The limit is judged on the bytes before the first byte of interest
  // (when the line is incomplete or bad) and on the whole line with its
  // CRLF (when it is complete), so the verdict does not depend on how the
  // input was split.
  if (ABSL_PREDICT_FALSE(i + 1 >= n)) {
    if (i >= n || p[i] == '\r') {
      if (ABSL_PREDICT_FALSE(i > last)) {
        fail(Error::HeaderTooLarge);
        return Scan::Bad;
      }
      return Scan::More;  // at n, or a lone CR revisited once its LF may be here
    }
  }
  if (ABSL_PREDICT_FALSE(load16(p + i) != kCrLf)) {
    // RFC 9112 §2.2: bare CR and bare LF are rejected (a bare LF accepted
    // by one parser and not another is a smuggling vector).
    fail(i > last                          ? Error::HeaderTooLarge
         : p[i] == '\r' || p[i] == '\n'    ? Error::BadLineEnding
                                           : Error::BadHeaderValue);
    return Scan::Bad;
  }
  if (ABSL_PREDICT_FALSE(i + 2 > last)) {
    fail(Error::HeaderTooLarge);
    return Scan::Bad;
  }
  return Scan::Found;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline std::size_t MessageParser::section_last() const noexcept {
  const std::size_t start = section_start_;
  return limits_.max_header_bytes > SIZE_MAX - start ? SIZE_MAX
                                                     : start + limits_.max_header_bytes;
}

template <bool kHead>
MessageParser::Scan MessageParser::parse_fields(std::uint8_t* p, std::size_t n,
                                                BlockWindow& w,
                                                std::size_t* blank) noexcept {
  // The hot loop of the parser: every complete field line in the buffer.
  // Cursors live in locals (stores into the Header array could alias the
  // members) and are written back on every exit.
  std::size_t pos = pos_;
  std::size_t scan = scan_;
  Header* h = headers_.get() + n_headers_ + n_trailers_;
  Header* const h_end = headers_.get() + limits_.max_headers;
  const std::size_t last = section_last();  // the section may not pass it
  Scan result;
  for (;;) {
    std::size_t i = w.find_ctl(scan);
    result = end_field_line(p, n, i, last);
    if (result != Scan::Found) {
      scan = i;
      break;
    }
    if (i == pos) {  // the blank line ends the section
      *blank = i;
      break;
    }
    // RFC 9112 §5.1: field-name ":" OWS field-value OWS, no whitespace
    // before the colon. p[i] is CR (neither a token byte, ':' nor OWS), so
    // it stops each search without a bound check. The name ends at the first
    // non-tchar (one bit search when the line start is in the window; a line
    // that began before the window was refilled takes the table loop, whose
    // four bytes a step may look up to 3 bytes past the CR, still inside the
    // LF, later data or padding).
    const std::size_t k =
        ABSL_PREDICT_TRUE(w.covers(pos)) ? w.token_end(pos) : token_end_by_table(p, pos);
    if (kind_ == Kind::Response) {
      // RFC 9112 §5.2: a user agent replaces each obs-fold in a response
      // with SP before interpreting the value, so a response field line is
      // judged and taken whole, once the next line is seen to start without
      // SP/HTAB (its verdicts are then those of the unfolded line; the
      // unfolding changes no byte the name search above depends on).
      if (ABSL_PREDICT_FALSE(i + 2 >= n)) {
        scan = i;
        result = Scan::More;
        break;
      }
      if (ABSL_PREDICT_FALSE(is_ows(p[i + 2]))) {
        result = end_folded_line(p, n, w, pos, last, i + 2, &i);
        if (result != Scan::Found) {
          // Resumed by next_general() in the Folded phase.
          if (result == Scan::More) phase_ = kHead ? Phase::FieldsFolded : Phase::TrailersFolded;
          scan = i;
          break;
        }
      }
    }
    if (ABSL_PREDICT_FALSE(k == pos || p[k] != ':')) {
      // RFC 9112 §5.2: obs-fold (a line starting with SP/HTAB, which is not
      // a tchar) is rejected in a request. In a response it continues the
      // line before, so a line with whitespace first here follows the start
      // line or the last chunk: RFC 9112 §2.2 lets a recipient reject that.
      fail(is_ows(p[pos]) ? Error::ObsoleteLineFolding : Error::BadHeaderName);
      result = Scan::Bad;
      break;
    }
    if (ABSL_PREDICT_FALSE(h == h_end)) {
      fail(Error::TooManyHeaders);
      result = Scan::Bad;
      break;
    }
    const std::string_view name = view(p, pos, k);
    const std::string_view value = field_value(p, k, i);
    h->name = name;
    h->value = value;
    ++h;
    pos = scan = i + 2;
    if constexpr (kHead) {
      if (ABSL_PREDICT_FALSE(!on_head_field(name, value))) {
        result = Scan::Bad;
        break;
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

ABSL_ATTRIBUTE_COLD MessageParser::Scan MessageParser::end_folded_line(
    std::uint8_t* p, std::size_t n, BlockWindow& w, std::size_t start,
    std::size_t last, std::size_t from, std::size_t* cr) noexcept {
  // Each line that starts with SP/HTAB continues the field; the lines are
  // judged as the hot loop judges them. A call that stops here resumes at
  // `from` = scan_, so a folded field trickling in is still scanned once.
  std::size_t i = from;
  for (;;) {
    i = w.find_ctl(i);
    const Scan s = end_field_line(p, n, i, last);
    // Bad or More as in the hot loop; More too while the byte after this
    // line's CRLF, which says whether the field goes on, has not arrived.
    if (s != Scan::Found || i + 2 >= n) {
      *cr = i;
      return s == Scan::Found ? Scan::More : s;
    }
    if (!is_ows(p[i + 2])) break;
    i += 2;
  }
  unfold(p, start, i);
  *cr = i;
  return Scan::Found;
}

ABSL_ATTRIBUTE_COLD MessageParser::Scan MessageParser::resume_folded_line(
    std::uint8_t* p, std::size_t n, BlockWindow& w) noexcept {
  std::size_t i;
  const Scan s = end_folded_line(p, n, w, pos_, section_last(), scan_, &i);
  if (s == Scan::More) scan_ = i;
  if (s != Scan::Found) return s;
  // Unfolded: the field is now one line, which the hot loop parses again
  // from its start (once per folded field). Its bytes changed after the
  // window classified them, so the window starts afresh.
  phase_ = phase_ == Phase::FieldsFolded ? Phase::Fields : Phase::Trailers;
  scan_ = pos_;
  w = BlockWindow(p, n);
  return s;
}

template MessageParser::Scan MessageParser::parse_fields<true>(
    std::uint8_t*, std::size_t, BlockWindow&, std::size_t*) noexcept;
template MessageParser::Scan MessageParser::parse_fields<false>(
    std::uint8_t*, std::size_t, BlockWindow&, std::size_t*) noexcept;

MessageParser::Fast MessageParser::parse_whole_head(const std::uint8_t* p,
                                                    std::size_t n) noexcept {
  // One pass with every cursor in a register: the CR/LF/control bits are
  // walked in order (each line's CR, then its LF), and a field name ends at
  // the first clear tchar bit after the line start. Lines must end, CRLF
  // included, within both the buffered bytes and the head limit (`end`);
  // anything else is left to the general path, which starts again at byte
  // 0 and so judges it exactly as if this had not run.
  const std::size_t end =
      n < limits_.max_header_bytes ? n : limits_.max_header_bytes;
  if (ABSL_PREDICT_FALSE(end < 2)) return Fast::Declined;
  constexpr std::size_t kBlocks = 4;
  constexpr std::size_t kBlock = simd::kHttpBlock;
  simd::HttpBlockMasks m[kBlocks];
  std::size_t blocks = classify_window<kBlocks>(p, 0, end, m);
  const simd::HttpBlockMasks* cur = m;  // the walk's block
  std::size_t blk = 0;                  // its offset in p
  std::uint64_t ctl = m[0].ctl;         // its bits not yet walked
  // Moves the walk to the next block with a ctl bit, classifying the next
  // window when this one is spent; false at `end`.
  auto advance = [&]() -> bool {
    do {
      blk += kBlock;
      if (++cur == m + blocks) {
        if (blk >= end) return false;
        blocks = classify_window<kBlocks>(p, blk, end, m);
        cur = m;
      }
      ctl = cur->ctl;
    } while (ctl == 0);
    return true;
  };
  // *cr = the next line's CR, its LF walked past; false unless that line
  // ends in CRLF before `end` (bits at and past `end` are forced set, so a
  // missing CRLF is found as a control byte at `end`).
  auto next_line = [&](std::size_t* cr) ABSL_ATTRIBUTE_ALWAYS_INLINE -> bool {
    if (ABSL_PREDICT_FALSE(ctl == 0) && !advance()) return false;
    const std::size_t i = blk + ctz(ctl);
    if (ABSL_PREDICT_FALSE(i + 1 >= end || load16(p + i) != kCrLf)) return false;
    ctl &= ctl - 1;
    if (ABSL_PREDICT_FALSE(ctl == 0)) (void)advance();  // the LF is in the next block
    ctl &= ctl - 1;  // the LF (a control byte before `end`: advance found it)
    *cr = i;
    return true;
  };

  std::size_t i;
  // An empty first line (a request may be preceded by some) is the general
  // path's.
  if (ABSL_PREDICT_FALSE(!next_line(&i) || i == 0)) return Fast::Declined;
  if (kind_ == Kind::Response ? !parse_status_line(p, i) : !parse_request_line(p, i)) {
    return Fast::Failed;  // the general path's verdict: the same call on the same line
  }
  std::size_t pos = i + 2;
  Header* h = headers_.get();
  Header* const h_end = h + limits_.max_headers;
  for (;;) {
    if (ABSL_PREDICT_FALSE(!next_line(&i))) return decline_head();
    if (i == pos) break;  // the blank line
    // The name ends at the first non-tchar from pos; the line's CR (in
    // *cur, with its LF) is one, so the search ends in *cur at the latest.
    std::size_t k;
    if (ABSL_PREDICT_TRUE(pos >= blk)) {
      k = pos + ctz(~cur->token >> (pos - blk));
    } else if (cur != m && pos + kBlock >= blk) {  // began in the block before
      const std::uint64_t t = ~cur[-1].token >> (pos + kBlock - blk);
      k = t != 0 ? pos + ctz(t) : blk + ctz(~cur->token);
    } else {  // a line longer than a block, or one across a new window
      k = token_end_by_table(p, pos);
    }
    if (ABSL_PREDICT_FALSE(k == pos || p[k] != ':' || h == h_end)) return decline_head();
    const std::string_view name = view(p, pos, k);
    const std::string_view value = field_value(p, k, i);
    h->name = name;
    h->value = value;
    ++h;
    pos = i + 2;
    // A framing field that fails is left to the general path: in a response
    // an obs-fold on the next line may still complete its value.
    if (ABSL_PREDICT_FALSE(!on_head_field(name, value))) return decline_head();
  }
  n_headers_ = static_cast<std::size_t>(h - headers_.get());
  pos_ = scan_ = i + 2;
  return Fast::Parsed;
}

ABSL_ATTRIBUTE_COLD MessageParser::Fast MessageParser::decline_head() noexcept {
  // The fast path only starts on a cleared message without an error; the
  // general path then parses it from byte 0 as if the fast path had not run.
  clear_message();
  error_ = Error::None;
  return Fast::Declined;
}

}  // namespace tern::http::detail
