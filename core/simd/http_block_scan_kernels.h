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

// tchar lookup by nibbles (two byte shuffles): every tchar lies in 0x21-0x7E,
// so its high nibble h is 2..7 and gets its own bit; kTcharLo[l] has bit h
// set iff byte (h << 4 | l) is a tchar. A byte is a tchar iff
// kTcharLo[low nibble] & kTcharHi[high nibble] != 0. Shuffles zero lanes
// whose index has bit 7 set, so bytes >= 0x80 come out 0 even when the raw
// byte is the index.
constexpr std::array<std::uint8_t, 16> make_tchar_lo() {
  std::array<std::uint8_t, 16> t{};
  for (unsigned h = 2; h < 8; ++h) {
    for (unsigned l = 0; l < 16; ++l) {
      if (is_tchar(h << 4 | l)) t[l] = static_cast<std::uint8_t>(t[l] | (1u << h));
    }
  }
  return t;
}
constexpr std::array<std::uint8_t, 16> make_tchar_hi() {
  std::array<std::uint8_t, 16> t{};
  for (unsigned h = 2; h < 8; ++h) t[h] = static_cast<std::uint8_t>(1u << h);
  return t;
}
// Repeated four times: vector shuffles look up within 16-byte lanes, and a
// full-width load avoids broadcast intrinsics (GCC 12's AVX-512 broadcast
// warns about its own undefined source operand).
constexpr std::array<std::uint8_t, 64> repeat4(std::array<std::uint8_t, 16> t) {
  std::array<std::uint8_t, 64> r{};
  for (unsigned i = 0; i < 64; ++i) r[i] = t[i % 16];
  return r;
}
alignas(64) inline constexpr std::array<std::uint8_t, 64> kTcharLo = repeat4(make_tchar_lo());
alignas(64) inline constexpr std::array<std::uint8_t, 64> kTcharHi = repeat4(make_tchar_hi());

void classify_http_blocks_sse2(const std::uint8_t* data, std::size_t blocks,
                               HttpBlockMasks* out) noexcept;
void classify_http_blocks_avx2(const std::uint8_t* data, std::size_t blocks,
                               HttpBlockMasks* out) noexcept;
void classify_http_blocks_avx512bw(const std::uint8_t* data, std::size_t blocks,
                                   HttpBlockMasks* out) noexcept;

}  // namespace tern::simd::internal

#endif  // TERN_CORE_SIMD_HTTP_BLOCK_SCAN_KERNELS_H_
