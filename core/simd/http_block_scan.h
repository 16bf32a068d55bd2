// File: http_block_scan.h
//
// Block classification for HTTP/1.1 head parsing: one call turns up to a few
// hundred bytes into two bitmasks per 64-byte block, so the parser finds every
// line end and every field-name end of a head with bit operations instead of
// one scan call per line (the cost that dominated find_line_end_or_ctl on
// ~30-byte field lines: setup and dispatch per call).
//
// Contract: classify_http_blocks reads exactly 64 * blocks bytes from data
// (never stores). Callers that want the bytes up to some n classify
// ceil(n / 64) blocks and ignore the bits at and past n; with a ReadBuf that
// is safe because ReadBuf::kPadding >= kHttpBlock (the parser static_asserts
// it). Bits for bytes past n depend on whatever those bytes hold.
//
// The ISA follows isa.h (active_isa(), so force_isa() reaches these kernels
// too); classify_http_blocks_scalar is the reference the kernels are tested
// against on every ISA.
#ifndef TERN_CORE_SIMD_HTTP_BLOCK_SCAN_H_
#define TERN_CORE_SIMD_HTTP_BLOCK_SCAN_H_

#include <cstddef>
#include <cstdint>

#include "core/simd/isa.h"

namespace tern::simd {

inline constexpr std::size_t kHttpBlock = 64;

struct HttpBlockMasks {
  // Bit i: byte i is CR, LF, or a control byte other than HTAB (0x00-0x08,
  // 0x0A-0x1F, 0x7F): exactly the bytes find_line_end_or_ctl stops at
  // (RFC 9110 §5.5: none may appear in a field value or a start line).
  std::uint64_t ctl;
  // Bit i: byte i is a tchar (RFC 9110 §5.6.2: "!#$%&'*+-.^_`|~", DIGIT,
  // ALPHA), i.e. may appear in a field name or method.
  std::uint64_t token;
};

// out[k] describes bytes [64k, 64k + 64) of data, for k < blocks.
void classify_http_blocks(const std::uint8_t* data, std::size_t blocks,
                          HttpBlockMasks* out) noexcept;
void classify_http_blocks_scalar(const std::uint8_t* data, std::size_t blocks,
                                 HttpBlockMasks* out) noexcept;

// The kernel for one ISA, whatever is active (tests and fuzzers compare each
// against the scalar reference). The caller checks cpu_supports(isa).
void classify_http_blocks_isa(Isa isa, const std::uint8_t* data,
                              std::size_t blocks, HttpBlockMasks* out) noexcept;

}  // namespace tern::simd

#endif  // TERN_CORE_SIMD_HTTP_BLOCK_SCAN_H_
