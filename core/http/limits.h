// File: limits.h
//
// Resource limits shared by RequestReader and ResponseReader. Each is checked
// as bytes arrive, so a hostile peer cannot make a reader buffer or scan more
// than these bounds (and the ReadBuf capacity) allow.
#ifndef TERN_CORE_HTTP_LIMITS_H_
#define TERN_CORE_HTTP_LIMITS_H_

#include <cstddef>

namespace tern::http {

struct Limits {
  // Start line + field lines + the blank line (trailers are held to the same
  // bound separately). Error::HeaderTooLarge beyond it.
  std::size_t max_header_bytes = 8 * 1024;
  // Field lines, trailers included; sizes the header array allocated once at
  // construction. Error::TooManyHeaders beyond it.
  std::size_t max_headers = 64;
  // Decoded body bytes. Error::BodyTooLarge as soon as a Content-Length, a
  // chunk size or close-delimited bytes would pass it.
  std::size_t max_body_size = 8 * 1024 * 1024;
};

}  // namespace tern::http

#endif  // TERN_CORE_HTTP_LIMITS_H_
