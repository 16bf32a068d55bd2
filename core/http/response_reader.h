// File: response_reader.h
//
// ResponseReader parses HTTP/1.1 (and 1.0) responses from a ReadBuf, as a
// client sees them: status line, fields, and the body framed per RFC 9112 §6
// (Content-Length, chunked, or until the connection closes).
//
// Ownership and views: the reader owns only its fixed header array (sized by
// Limits::max_headers at construction; nothing is allocated afterwards). The
// bytes stay in the caller's ReadBuf. After next() returns Complete, reason(),
// headers(), trailers() and body() are views into that buffer; a chunked body
// has been decoded in place into one contiguous view. They stay valid until
// the next call to next()/finish()/consume()/reset() or until the caller
// consumes or compacts the buffer.
//
// Consumption: a Complete message occupies the first message_size() bytes of
// buf.data(). The reader drops them at the start of the next next() call, or
// right away with consume(buf). Bytes after them (a pipelined response, or the
// WebSocket frames after a 101) are never touched.
//
// Need-more and failure: NeedMore means commit more bytes and call next()
// again (the reader compacts the buffer itself when its tail is full and
// remembers how far it scanned, so trickled input costs O(n)). Failed means
// error() says why; the reader stays failed until reset().
//
// Tell the reader the request method before each response (HEAD and a 2xx to
// CONNECT have no body, RFC 9112 §6.3); it stays set until changed. 1xx
// interim responses are skipped, except 101 Switching Protocols, which is
// Complete with an empty body. A body that runs until the connection closes
// is completed by finish() when the transport reports EOF.
//
// What a user agent must accept, it does: any three-digit status (one
// outside 100..599 is processed as a 5xx, RFC 9110 §15; see status_class()),
// and obs-fold (a field line continued on lines that start with SP/HTAB),
// which is replaced with SP in the buffer before the value is read (RFC 9112
// §5.2), so the value stays one view. Limits{} fit real venues' heads (see
// limits.h).
//
//   tern::http::ResponseReader reader;
//   reader.set_request_method(tern::http::Method::Get);
//   while (reader.next(buf) == tern::http::Progress::NeedMore) read_more(buf);
//   if (reader.error() == tern::http::Error::None) use(reader.body());
#ifndef TERN_CORE_HTTP_RESPONSE_READER_H_
#define TERN_CORE_HTTP_RESPONSE_READER_H_

#include <cstddef>
#include <string_view>

#include "core/buf/read_buf.h"
#include "core/http/error.h"
#include "core/http/headers.h"
#include "core/http/limits.h"
#include "core/http/message_parser.h"
#include "core/http/method.h"

namespace tern::http {

class ResponseReader {
 public:
  explicit ResponseReader(const Limits& limits = {})
      : p_(detail::MessageParser::Kind::Response, limits) {}

  // The method of the request this response answers (default GET).
  void set_request_method(Method m) noexcept { p_.set_request_method(m); }

  // Parses what buf holds. Consumes a previously completed message first.
  Progress next(ReadBuf& buf) noexcept { return p_.next(buf, false); }
  // The peer closed: completes a close-delimited body; any other unfinished
  // (or not yet started) response fails with Error::UnexpectedEof.
  Progress finish(ReadBuf& buf) noexcept { return p_.next(buf, true); }
  // Drops the completed response's bytes from buf now (no-op otherwise), so
  // buf.data() starts at whatever followed it. Its views die.
  void consume(ReadBuf& buf) noexcept { p_.consume(buf); }
  // Forgets all state, including an error or a completed message that was
  // not consumed (the buffer is left alone). Keeps the request method.
  void reset() noexcept { p_.reset(); }

  Error error() const noexcept { return p_.error(); }
  // Bytes of buf.data() the completed response occupies (0 unless Complete).
  std::size_t message_size() const noexcept { return p_.message_size(); }

  // Valid after Complete:
  // The status code as sent: any three digits, 0..999 (RFC 9112 §4).
  int status() const noexcept { return p_.status(); }
  // The class a caller should act on: status() / 100 for 100..599, and 5
  // for any other code. RFC 9110 §15: codes outside 100..599 are invalid,
  // and a client SHOULD process such a response as a 5xx (server error);
  // the reader frames its body as one. Tell such a code apart with
  // status() < 100 || status() > 599.
  int status_class() const noexcept {
    const int s = p_.status();
    return s >= 100 && s <= 599 ? s / 100 : 5;
  }
  std::string_view reason() const noexcept { return p_.reason(); }
  int version_minor() const noexcept { return p_.version_minor(); }  // 0 or 1
  HeaderList headers() const noexcept { return p_.headers(); }
  HeaderList trailers() const noexcept { return p_.trailers(); }
  std::string_view body() const noexcept { return p_.body(); }
  // The connection may carry another request (RFC 9112 §9.3): HTTP/1.1
  // without "Connection: close", or 1.0 with "keep-alive"; never after a
  // close-delimited body or a 101.
  bool keep_alive() const noexcept { return p_.keep_alive(); }
  bool chunked() const noexcept { return p_.chunked(); }

 private:
  detail::MessageParser p_;
};

}  // namespace tern::http

#endif  // TERN_CORE_HTTP_RESPONSE_READER_H_
