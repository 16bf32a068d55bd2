// File: request_reader.h
//
// RequestReader parses HTTP/1.1 (and 1.0) requests from a ReadBuf, as a
// server sees them: request line (method, target, version), fields, and a body
// framed by Content-Length or chunked (RFC 9112 §6; a request with neither has
// no body). The WebSocket accept path parses its upgrade GET with it.
//
// Ownership and views: the reader owns only its fixed header array (sized by
// Limits::max_headers at construction; nothing is allocated afterwards). After
// next() returns Complete, method_text(), target(), headers(), trailers() and
// body() are views into the caller's ReadBuf, valid until the next call to
// next()/consume()/reset() or until the caller consumes or compacts the
// buffer. A chunked body is decoded in place into one contiguous view.
//
// Consumption: a Complete request occupies the first message_size() bytes of
// buf.data(); next() drops them before parsing the following (pipelined)
// request, or consume(buf) drops them at once. Later bytes are never touched.
//
// NeedMore: commit more bytes and call next() again. Failed: error() says why
// (a server answers 400, or 431 for HeaderTooLarge/TooManyHeaders, 413 for
// BodyTooLarge); the reader stays failed until reset().
//
//   tern::http::RequestReader reader;
//   if (reader.next(buf) == tern::http::Progress::Complete &&
//       reader.method() == tern::http::Method::Get &&
//       reader.headers().has_token("Connection", "upgrade")) { ... }
#ifndef TERN_CORE_HTTP_REQUEST_READER_H_
#define TERN_CORE_HTTP_REQUEST_READER_H_

#include <cstddef>
#include <string_view>

#include "core/buf/read_buf.h"
#include "core/http/error.h"
#include "core/http/headers.h"
#include "core/http/limits.h"
#include "core/http/message_parser.h"
#include "core/http/method.h"

namespace tern::http {

class RequestReader {
 public:
  explicit RequestReader(const Limits& limits = {})
      : p_(detail::MessageParser::Kind::Request, limits) {}

  // Parses what buf holds. Consumes a previously completed request first.
  Progress next(ReadBuf& buf) noexcept { return p_.next(buf, false); }
  // The peer closed: an unfinished request fails with Error::UnexpectedEof.
  Progress finish(ReadBuf& buf) noexcept { return p_.next(buf, true); }
  // Drops the completed request's bytes from buf now (no-op otherwise).
  void consume(ReadBuf& buf) noexcept { p_.consume(buf); }
  // Forgets all state, including an error (the buffer is left alone).
  void reset() noexcept { p_.reset(); }

  Error error() const noexcept { return p_.error(); }
  // Bytes of buf.data() the completed request occupies (0 unless Complete).
  std::size_t message_size() const noexcept { return p_.message_size(); }

  // Valid after Complete:
  Method method() const noexcept { return p_.method(); }  // Other if unknown
  std::string_view method_text() const noexcept { return p_.method_text(); }
  std::string_view target() const noexcept { return p_.target(); }
  int version_minor() const noexcept { return p_.version_minor(); }  // 0 or 1
  HeaderList headers() const noexcept { return p_.headers(); }
  HeaderList trailers() const noexcept { return p_.trailers(); }
  std::string_view body() const noexcept { return p_.body(); }
  bool keep_alive() const noexcept { return p_.keep_alive(); }
  bool chunked() const noexcept { return p_.chunked(); }

 private:
  detail::MessageParser p_;
};

}  // namespace tern::http

#endif  // TERN_CORE_HTTP_REQUEST_READER_H_
