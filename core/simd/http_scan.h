// File: http_scan.h
//
// Byte scanning for HTTP/1.1 header parsing. Each function returns the index
// of the first byte of interest in [data, data + n), or n if there is none.
// The SIMD versions skip uninteresting bytes in 16/32/64-byte steps; the
// scalar versions are the reference they are tested against. The contract
// lets them load up to ReadBuf::kPadding bytes past data + n (never store),
// so callers pass memory from a padded ReadBuf or pad themselves; the current
// kernels do not use that slack: they never read outside [data, data + n)
// (tails are an overlapping last vector, 8-byte words, or an AVX-512 masked
// load), which the tests check with exact-size heap blocks under ASan.
#ifndef TERN_CORE_SIMD_HTTP_SCAN_H_
#define TERN_CORE_SIMD_HTTP_SCAN_H_

#include <cstddef>
#include <cstdint>

namespace tern::simd {

// First byte that may end or corrupt a header value or a request/status line:
// CR, LF, or a control byte other than HTAB (0x00–0x08, 0x0A–0x1F, 0x7F).
std::size_t find_line_end_or_ctl(const std::uint8_t* data, std::size_t n) noexcept;
std::size_t find_line_end_or_ctl_scalar(const std::uint8_t* data, std::size_t n) noexcept;

// First occurrence of byte c.
std::size_t find_byte(const std::uint8_t* data, std::size_t n, std::uint8_t c) noexcept;
std::size_t find_byte_scalar(const std::uint8_t* data, std::size_t n, std::uint8_t c) noexcept;

}  // namespace tern::simd

#endif  // TERN_CORE_SIMD_HTTP_SCAN_H_
