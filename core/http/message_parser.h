// File: message_parser.h
//
// Logically private: the state machine behind RequestReader and
// ResponseReader. Use those.
//
// The parser works in offsets from the start of buf.data(), where the current
// message always begins (the previous one is consumed before a new one
// starts). Header views are stored as string_views; if the caller compacts the
// ReadBuf between calls (or the parser does, to make room), they are moved by
// the distance the data moved, so nothing is re-parsed.
#ifndef TERN_CORE_HTTP_MESSAGE_PARSER_H_
#define TERN_CORE_HTTP_MESSAGE_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/buf/read_buf.h"
#include "core/http/error.h"
#include "core/http/headers.h"
#include "core/http/limits.h"
#include "core/http/method.h"

namespace tern::http::detail {

class BlockWindow;  // head_scan.h

class MessageParser {
 public:
  enum class Kind : std::uint8_t { Request, Response };

  // A chunk-size line longer than this (extensions and CRLF included) is
  // rejected:
  // extensions are ignored, so there is no reason to buffer many of them.
  static constexpr std::size_t kMaxChunkLine = 1024;

  MessageParser(Kind kind, const Limits& limits);

  Progress next(ReadBuf& buf, bool eof) noexcept;
  void consume(ReadBuf& buf) noexcept;
  void reset() noexcept;

  Error error() const noexcept { return error_; }
  bool complete() const noexcept { return phase_ == Phase::Done; }
  std::size_t message_size() const noexcept {
    return phase_ == Phase::Done ? pos_ : 0;
  }

  std::string_view method_text() const noexcept { return method_text_; }
  Method method() const noexcept { return method_; }
  std::string_view target() const noexcept { return target_; }
  int status() const noexcept { return status_; }
  std::string_view reason() const noexcept { return reason_; }
  int version_minor() const noexcept { return minor_; }
  HeaderList headers() const noexcept { return {headers_.get(), n_headers_}; }
  HeaderList trailers() const noexcept {
    return {headers_.get() + n_headers_, n_trailers_};
  }
  std::string_view body() const noexcept {
    return {reinterpret_cast<const char*>(base_) + body_begin_, body_len_};
  }
  bool keep_alive() const noexcept { return keep_alive_; }
  bool chunked() const noexcept { return te_chunked_ && has_te_; }

  void set_request_method(Method m) noexcept { request_method_ = m; }

 private:
  // FieldsFolded and TrailersFolded: a call stopped inside a response
  // field line with an obs-fold (RFC 9112 §5.2), the field at pos_, the
  // search to resume at scan_.
  enum class Phase : std::uint8_t {
    StartLine, Fields, FieldsFolded, Length, ChunkSize, ChunkData, ChunkEnd,
    Trailers, TrailersFolded, ToEof, Done, Failed,
  };
  enum class Scan : std::uint8_t { Found, More, Bad };

  // Judges the line at pos_ given i, the first CR/LF/control byte at or
  // after scan_ (n if none): Found with *cr = i for a CRLF, More (scan_
  // updated so the search resumes there) or Bad. A line longer than `limit`
  // bytes (CRLF included) counted from `start` fails with limit_error; a
  // control byte with ctl_error.
  Scan end_line(const std::uint8_t* p, std::size_t n, std::size_t i,
                std::size_t start, std::size_t limit, Error limit_error,
                Error ctl_error, std::size_t* cr) noexcept;
  bool parse_request_line(const std::uint8_t* p, std::size_t cr) noexcept;
  bool parse_status_line(const std::uint8_t* p, std::size_t cr) noexcept;
  // Parses every complete field line from pos_. Found: the blank line that
  // ends the section starts at *blank. kHead: the head's fields (framing
  // fields take effect) rather than trailers (which have none). p is
  // written only to replace a response's obs-folds with SP.
  template <bool kHead>
  Scan parse_fields(std::uint8_t* p, std::size_t n, BlockWindow& w,
                    std::size_t* blank) noexcept;
  // Judges the first CR/LF/control byte i of a field line: Found for a CRLF
  // within `last` (the section's limit), More if the line may still end
  // (scan from i again), Bad (failed).
  Scan end_field_line(const std::uint8_t* p, std::size_t n, std::size_t i,
                      std::size_t last) noexcept;
  // The last byte offset the current head or trailer section may reach.
  std::size_t section_last() const noexcept;
  // A response field line starting at `start` with an obs-fold: a line end
  // followed by SP/HTAB, the next line starting at `from`. Finds the
  // field's last line and unfolds the field in place. Found: *cr is that
  // line's CR. More: scan again from *cr. Bad: failed.
  Scan end_folded_line(std::uint8_t* p, std::size_t n, BlockWindow& w,
                       std::size_t start, std::size_t last, std::size_t from,
                       std::size_t* cr) noexcept;
  // Phase::FieldsFolded / TrailersFolded: goes on with the folded field at
  // pos_ from scan_; once it is whole and unfolded, back to Fields/Trailers
  // with scan_ = pos_.
  Scan resume_folded_line(std::uint8_t* p, std::size_t n, BlockWindow& w) noexcept;
  // The framing side of a head field (Content-Length, Connection,
  // Transfer-Encoding); false once it failed.
  bool on_head_field(std::string_view name, std::string_view value) noexcept;
  // The start line and fields in one pass, when the whole head is already
  // buffered and valid: Parsed (pos_ past the blank line), Failed (a verdict
  // of the start line), or Declined: anything it does not handle (an
  // incomplete head, a line to judge, an obs-fold, a framing field that
  // fails, a limit), left to the general path, which starts again at byte 0.
  enum class Fast : std::uint8_t { Parsed, Failed, Declined };
  Fast parse_whole_head(const std::uint8_t* p, std::size_t n) noexcept;
  Fast decline_head() noexcept;
  bool parse_content_length(std::string_view value) noexcept;
  void on_connection(std::string_view value) noexcept;  // any list
  void on_transfer_encoding(std::string_view value) noexcept;
  // Decides body framing at the end of the head (RFC 9112 §6.3).
  bool start_body(ReadBuf& buf) noexcept;
  // Phase::Length: takes what of the body buf holds (n bytes in all); true
  // once the whole body is there (phase_ is then Done).
  bool take_length_body(std::size_t n) noexcept;
  void clear_message() noexcept;
  void rebase(const std::uint8_t* p) noexcept;
  Progress fail(Error e) noexcept;
  // next() after its fast path: the phases one by one, from any state.
  Progress next_general(ReadBuf& buf, bool eof) noexcept;
  // A 1xx response other than 101 (RFC 9110 §15.2): dropped, so the caller
  // sees only the final response.
  bool is_interim() const noexcept {
    return kind_ == Kind::Response && is_1xx() && status_ != 101;
  }
  // 100..199: any three digits are read (RFC 9112 §4), and one below 100 is
  // not informational (RFC 9110 §15: treated as a 5xx).
  bool is_1xx() const noexcept { return static_cast<unsigned>(status_ - 100) < 100u; }

  Kind kind_;
  Phase phase_ = Phase::StartLine;
  Error error_ = Error::None;
  Limits limits_;
  std::unique_ptr<Header[]> headers_;

  const std::uint8_t* base_ = nullptr;  // buf.data() at the last return
  std::size_t pos_ = 0;    // first unparsed byte
  std::size_t scan_ = 0;   // line-end search resumes here (>= pos_)
  std::size_t section_start_ = 0;  // head or trailer start, for the limit
  std::size_t body_begin_ = 0;
  std::size_t body_len_ = 0;       // decoded body bytes so far
  std::uint64_t remaining_ = 0;    // of Content-Length or current chunk
  std::uint64_t cl_ = 0;
  std::size_t n_headers_ = 0;
  std::size_t n_trailers_ = 0;

  std::string_view method_text_;
  std::string_view target_;
  std::string_view reason_;
  int status_ = 0;
  Method method_ = Method::Get;
  Method request_method_ = Method::Get;
  std::uint8_t minor_ = 1;
  bool has_cl_ = false;
  bool has_te_ = false;
  bool te_chunked_ = false;
  bool conn_close_ = false;
  bool conn_keep_alive_ = false;
  bool keep_alive_ = false;
};

}  // namespace tern::http::detail

#endif  // TERN_CORE_HTTP_MESSAGE_PARSER_H_
