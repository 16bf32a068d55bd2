// classify_http_blocks for AVX-512BW: one 64-byte load per block, compares
// straight into mask registers.
#include <immintrin.h>

#include "core/simd/http_block_scan_kernels.h"

namespace tern::simd::internal {

void classify_http_blocks_avx512bw(const std::uint8_t* data, std::size_t blocks,
                                   HttpBlockMasks* out) noexcept {
  const __m512i lo_t = _mm512_load_si512(kTcharLo.data());
  const __m512i hi_t = _mm512_load_si512(kTcharHi.data());
  const __m512i x1f = _mm512_set1_epi8(0x1F);
  const __m512i tab = _mm512_set1_epi8('\t');
  const __m512i del = _mm512_set1_epi8(0x7F);
  const __m512i nib = _mm512_set1_epi8(0x0F);
  for (std::size_t k = 0; k < blocks; ++k) {
    const __m512i v = _mm512_loadu_si512(data + k * 64);
    const __mmask64 below_sp = _mm512_cmple_epu8_mask(v, x1f);
    const __mmask64 c = _mm512_mask_cmpneq_epi8_mask(below_sp, v, tab) |
                        _mm512_cmpeq_epi8_mask(v, del);
    const __m512i t = _mm512_and_si512(
        _mm512_shuffle_epi8(lo_t, v),
        _mm512_shuffle_epi8(hi_t, _mm512_and_si512(_mm512_srli_epi16(v, 4), nib)));
    out[k] = {static_cast<std::uint64_t>(c), static_cast<std::uint64_t>(_mm512_test_epi8_mask(t, t))};
  }
}

}  // namespace tern::simd::internal
