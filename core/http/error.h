// File: error.h
//
// Why an HTTP/1.1 reader or writer failed. One enumerator per cause so logs and
// tests can tell a smuggling attempt from a slow peer from a full buffer.
// "Need more bytes" is not here: it is Progress::NeedMore. Readers keep the
// first error until reset(); writers report it per request and stay usable.
#ifndef TERN_CORE_HTTP_ERROR_H_
#define TERN_CORE_HTTP_ERROR_H_

#include <cstdint>
#include <string_view>

namespace tern::http {

// Result of feeding a reader.
enum class Progress : std::uint8_t {
  NeedMore,  // the message is incomplete; commit more bytes and call again
  Complete,  // a whole message is available through the reader's accessors
  Failed,    // see error(); sticky until reset()
};

enum class Error : std::uint8_t {
  None = 0,
  // Start line (RFC 9112 §3, §4).
  BadMethod,        // request method empty or not a token
  BadTarget,        // request-target empty or with bytes outside VCHAR
  BadVersion,       // not "HTTP/1.0" or "HTTP/1.1" (any HTTP/1.x digit)
  BadStatus,        // status code not three digits (any three are read)
  BadStartLine,     // control byte or missing SP in a request/status line
  // Field section (RFC 9112 §5, §2.2).
  BadLineEnding,     // bare LF, or CR not followed by LF
  BadHeaderName,     // field name empty, not a token, or space before ':'
  BadHeaderValue,    // control byte (other than HTAB) in a field value
  ObsoleteLineFolding,  // obs-fold in a request (RFC 9112 §5.2; a response
                        // is unfolded), or whitespace before the first field
  HeaderTooLarge,    // start line + fields exceed Limits::max_header_bytes
  TooManyHeaders,    // more fields than Limits::max_headers
  // Framing (RFC 9112 §6).
  InvalidContentLength,      // Content-Length not 1*DIGIT
  ContentLengthOverflow,     // Content-Length does not fit in 64 bits
  ConflictingContentLength,  // two Content-Length fields that differ
  TransferEncodingWithContentLength,  // both present: smuggling, §6.3 ¶3
  BadTransferEncoding,       // request whose final coding is not chunked
  InvalidChunkSize,          // chunk-size not hex, or junk before chunk-ext
  ChunkSizeOverflow,         // chunk-size does not fit in 64 bits
  ChunkLineTooLong,          // chunk-size line (with extensions) too long
  BadChunkTerminator,        // chunk data not followed by CRLF
  BodyTooLarge,              // body exceeds Limits::max_body_size
  UnexpectedEof,             // peer closed before the message was complete
  BufferFull,                // message cannot fit the ReadBuf/WriteBuf
  // Writers (local misuse, RFC 9110 §5.5, RFC 3986).
  CrlfInjection,       // CR, LF or NUL in a name, value, path or query
  InvalidHeaderName,   // writer given a field name that is not a token
  InvalidHeaderValue,  // writer given a control byte or edge whitespace
  InvalidPath,         // path empty, not starting with '/', or with SP/CTL
  InvalidStatus,       // ResponseWriter status outside 100..599, or
                       // head_only() on 1xx/204 (no Content-Length there)
  ReservedHeader,      // Host/Content-Length/Transfer-Encoding: the writer's
                       // (keep ReservedHeader last: tests iterate up to it)
};

// Stable identifier for logs and tests, e.g. "ConflictingContentLength".
std::string_view name(Error e) noexcept;

}  // namespace tern::http

#endif  // TERN_CORE_HTTP_ERROR_H_
