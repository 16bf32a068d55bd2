// File: limits.h
//
// Resource limits shared by RequestReader and ResponseReader. Each is checked
// as bytes arrive, so a hostile peer cannot make a reader buffer or scan more
// than these bounds (and the ReadBuf capacity) allow.
//
// The defaults are sized for a REST client on a real venue, not for the
// smallest legal message: one 8 KiB field (a large cookie, a CSP header, a
// signed token) must pass with room to spare, and so must a response with a
// hundred fields. Common clients accept at least as much by default (Node's
// http a 16 KiB head, curl 100 KiB per field and 300 KiB in all, Go 10 MiB).
// What they cost: the head's bytes stay in the caller's ReadBuf (the reader
// owns none of them), so max_header_bytes bounds how much of that buffer a
// head may take and how far the reader scans before it gives up (once: the
// scan resumes where it stopped, O(n) however the bytes trickle in). The
// field array is the reader's only allocation, 32 bytes per entry, made once
// at construction: 128 entries are 4 KiB per reader. A server facing
// untrusted clients, or a memory-tight embedding, passes smaller Limits.
#ifndef TERN_CORE_HTTP_LIMITS_H_
#define TERN_CORE_HTTP_LIMITS_H_

#include <cstddef>

namespace tern::http {

struct Limits {
  // Start line + field lines + the blank line (trailers are held to the same
  // bound separately). Error::HeaderTooLarge beyond it. 64 KiB: eight 8 KiB
  // fields. The ReadBuf must hold a head this large for this limit, rather
  // than Error::BufferFull, to be what stops it.
  std::size_t max_header_bytes = 64 * 1024;
  // Field lines, trailers included; sizes the header array allocated once at
  // construction. Error::TooManyHeaders beyond it. 128: a hundred fields
  // with room for trailers, at 4 KiB.
  std::size_t max_headers = 128;
  // Decoded body bytes. Error::BodyTooLarge as soon as a Content-Length, a
  // chunk size or close-delimited bytes would pass it.
  std::size_t max_body_size = 8 * 1024 * 1024;
};

}  // namespace tern::http

#endif  // TERN_CORE_HTTP_LIMITS_H_
