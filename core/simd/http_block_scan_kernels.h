// File: http_block_scan_kernels.h (internal to core/simd)
//
// The per-ISA classify_http_blocks kernels (each in its own file with its own
// -m flags, like kernel_<isa>.cc) and the nibble tables they share.
#ifndef TERN_CORE_SIMD_HTTP_BLOCK_SCAN_KERNELS_H_
#define TERN_CORE_SIMD_HTTP_BLOCK_SCAN_KERNELS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/simd/http_block_scan.h"

namespace tern::simd::internal {

// RFC 9110 §5.6.2 tchar, the definition every kernel is checked against.
constexpr bool is_tchar(unsigned c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  for (char s : std::string_view("!#$%&'*+-.^_`|~")) {
    if (c == static_cast<unsigned char>(s)) return true;
  }
  return false;
}

constexpr bool is_http_ctl(unsigned c) { return (c < 0x20 && c != '\t') || c == 0x7F; }

// Both classes by nibbles, with two byte shuffles: t = kClassLo[c & 15] &
// kClassHi[c >> 4]; c is a control byte iff t & kCtlBits, a tchar iff
// t & kTcharBits. Shuffles zero the lanes whose index has bit 7 set, so the
// raw byte can index kClassLo and bytes >= 0x80 (neither class) come out 0.
//   bit 0: high nibble 0 (every low nibble but HTAB's 9 is a control)
//   bit 1: high nibble 1 (all controls)
//   bit 2: DEL (0x7F)
//   bits 3-7: tchar with high nibble 2, 3, 4, 5, 7. High nibble 6 (` and
//   a-o) is all tchar: its row takes every tchar bit, which works because
//   each low nibble is a tchar under at least one of those high nibbles
//   (checked below for all 256 bytes).
inline constexpr std::uint8_t kCtlBits = 0x07;
inline constexpr std::uint8_t kTcharBits = 0xF8;
constexpr std::array<std::uint8_t, 16> make_class_hi() {
  std::array<std::uint8_t, 16> t{};
  t[0] = 1;
  t[1] = 2;
  t[2] = 1 << 3;
  t[3] = 1 << 4;
  t[4] = 1 << 5;
  t[5] = 1 << 6;
  t[6] = kTcharBits;
  t[7] = (1 << 7) | 4;
  return t;
}
constexpr std::array<std::uint8_t, 16> make_class_lo() {
  std::array<std::uint8_t, 16> t{};
  constexpr unsigned kTcharRow[8] = {0, 0, 3, 4, 5, 6, 0, 7};  // high nibble -> bit
  for (unsigned l = 0; l < 16; ++l) {
    unsigned bits = 0;
    if (is_http_ctl(l)) bits |= 1;
    if (is_http_ctl(0x10 | l)) bits |= 2;
    if (l == 0xF) bits |= 4;  // 0x7F
    for (unsigned h : {2u, 3u, 4u, 5u, 7u}) {
      if (is_tchar(h << 4 | l)) bits |= 1u << kTcharRow[h];
    }
    t[l] = static_cast<std::uint8_t>(bits);
  }
  return t;
}
constexpr bool class_tables_exact() {
  const auto lo = make_class_lo();
  const auto hi = make_class_hi();
  for (unsigned c = 0; c < 256; ++c) {
    const unsigned t = c >= 0x80 ? 0 : lo[c & 15] & hi[c >> 4];
    if (((t & kCtlBits) != 0) != is_http_ctl(c)) return false;
    if (((t & kTcharBits) != 0) != is_tchar(c)) return false;
  }
  return true;
}
static_assert(class_tables_exact(), "nibble tables must reproduce both classes");

// Repeated four times: vector shuffles look up within 16-byte lanes, and a
// full-width load avoids broadcast intrinsics (GCC 12's AVX-512 broadcast
// warns about its own undefined source operand).
constexpr std::array<std::uint8_t, 64> repeat4(std::array<std::uint8_t, 16> t) {
  std::array<std::uint8_t, 64> r{};
  for (unsigned i = 0; i < 64; ++i) r[i] = t[i % 16];
  return r;
}
alignas(64) inline constexpr std::array<std::uint8_t, 64> kClassLo = repeat4(make_class_lo());
alignas(64) inline constexpr std::array<std::uint8_t, 64> kClassHi = repeat4(make_class_hi());

void classify_http_blocks_sse2(const std::uint8_t* data, std::size_t blocks,
                               HttpBlockMasks* out) noexcept;
void classify_http_blocks_avx2(const std::uint8_t* data, std::size_t blocks,
                               HttpBlockMasks* out) noexcept;
void classify_http_blocks_avx512bw(const std::uint8_t* data, std::size_t blocks,
                                   HttpBlockMasks* out) noexcept;

}  // namespace tern::simd::internal

#endif  // TERN_CORE_SIMD_HTTP_BLOCK_SCAN_KERNELS_H_
