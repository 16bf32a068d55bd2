// MessageParser's state machine: phases, body framing (Content-Length,
// chunked decoding in place, close-delimited), buffer bookkeeping. The head
// itself is parsed in head_parser.cc.
#include "core/http/message_parser.h"

#include <cstring>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "core/http/head_scan.h"
#include "core/simd/http_scan.h"

namespace tern::http::detail {
namespace {

// -1 if c is not a hex digit.
constexpr int hex_value(std::uint8_t c) {
  if (static_cast<unsigned>(c - '0') < 10u) return c - '0';
  const unsigned lower = c | 0x20u;
  if (lower - 'a' < 6u) return static_cast<int>(lower - 'a' + 10);
  return -1;
}

}  // namespace

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
    // 2xx to CONNECT (a tunnel follows). Classes are tested as unsigned
    // ranges: a code below 100 is invalid and framed as a 5xx (RFC 9110 §15).
    if (request_method_ == Method::Head || is_1xx() || status_ == 204 ||
        status_ == 304 ||
        (request_method_ == Method::Connect &&
         static_cast<unsigned>(status_ - 200) < 100u)) {
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

ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool MessageParser::take_length_body(
    std::size_t n) noexcept {
  const std::size_t avail = n - pos_;
  const std::size_t take = avail < remaining_ ? avail : remaining_;
  pos_ += take;
  remaining_ -= take;
  if (remaining_ != 0) return false;
  body_len_ = cl_;
  phase_ = Phase::Done;
  return true;
}

Progress MessageParser::next(ReadBuf& buf, bool eof) noexcept {
  // The usual case, outside the general loop: nothing of this message
  // examined yet, and its head (and a Content-Length body) already whole in
  // buf. The fast path declines anything else, after at most one pass per
  // message (the general path then moves scan_ on), and the general path
  // starts again at byte 0.
  if (phase_ == Phase::Done) consume(buf);  // the previous message
  if (phase_ == Phase::StartLine && scan_ == 0 && !eof) {
    const std::uint8_t* p = buf.data().data();
    const std::size_t n = buf.size();
    const Fast f = parse_whole_head(p, n);
    if (f == Fast::Failed) return Progress::Failed;
    if (f == Fast::Parsed) {
      base_ = p;
      if (!start_body(buf)) return Progress::Failed;
      if (phase_ == Phase::Length && take_length_body(n)) return Progress::Complete;
      // A final response without a body is complete; an interim one is
      // consumed by the general path, which then parses what follows.
      if (phase_ == Phase::Done && !is_interim()) return Progress::Complete;
    }
  }
  return next_general(buf, eof);
}

Progress MessageParser::next_general(ReadBuf& buf, bool eof) noexcept {
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
      case Phase::FieldsFolded:
      case Phase::TrailersFolded: {
        const Scan s = resume_folded_line(p, n, w);
        if (s == Scan::Bad) return Progress::Failed;
        if (s == Scan::More) goto need_more;
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
        if (phase_ == Phase::Done && is_interim()) {
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
      case Phase::Length:
        if (!take_length_body(n)) goto need_more;
        continue;
      case Phase::ChunkSize: {
        // RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF
        // Fast path for the common "1e\r\n": up to 16 hex digits (cannot
        // overflow) right before CRLF. Anything else takes the general path,
        // which gives the same verdict for these lines.
        std::uint64_t size = 0;
        std::size_t cr = pos_;
        const std::size_t end = n - pos_ > 16 ? pos_ + 16 : n;
        for (int d; cr < end && (d = hex_value(p[cr])) >= 0; ++cr) {
          size = size << 4 | static_cast<unsigned>(d);
        }
        if (!(cr != pos_ && cr + 1 < n && p[cr] == '\r' && p[cr + 1] == '\n')) {
          const Scan s = end_line(
              p, n, scan_ + simd::find_line_end_or_ctl(p + scan_, n - scan_), pos_,
              kMaxChunkLine, Error::ChunkLineTooLong, Error::InvalidChunkSize, &cr);
          if (s == Scan::Bad) return Progress::Failed;
          if (s == Scan::More) goto need_more;
          size = 0;
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
