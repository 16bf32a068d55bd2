// classify_http_blocks for AVX-512BW: the nibble-table lookup of
// http_block_scan_kernels.h on one 64-byte load per block, tested straight
// into mask registers.
#include <immintrin.h>

#include "core/simd/http_block_scan_kernels.h"

namespace tern::simd::internal {

void classify_http_blocks_avx512bw(const std::uint8_t* data, std::size_t blocks,
                                   HttpBlockMasks* out) noexcept {
  const __m512i lo_t = _mm512_load_si512(kClassLo.data());
  const __m512i hi_t = _mm512_load_si512(kClassHi.data());
  const __m512i nib = _mm512_set1_epi8(0x0F);
  const __m512i ctl_bits = _mm512_set1_epi8(static_cast<char>(kCtlBits));
  const __m512i tchar_bits = _mm512_set1_epi8(static_cast<char>(kTcharBits));
  for (std::size_t k = 0; k < blocks; ++k) {
    const __m512i v = _mm512_loadu_si512(data + k * 64);
    const __m512i t = _mm512_and_si512(
        _mm512_shuffle_epi8(lo_t, v),
        _mm512_shuffle_epi8(hi_t, _mm512_and_si512(_mm512_srli_epi16(v, 4), nib)));
    out[k] = {static_cast<std::uint64_t>(_mm512_test_epi8_mask(t, ctl_bits)),
              static_cast<std::uint64_t>(_mm512_test_epi8_mask(t, tchar_bits))};
  }
}

}  // namespace tern::simd::internal
