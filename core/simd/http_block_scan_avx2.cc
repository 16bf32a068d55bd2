// classify_http_blocks for AVX2 (built with -mavx2; reached only after the
// dispatcher has checked CPUID/XCR0). Raw intrinsics: xsimd 8.1 lowers the
// unsigned byte compare on AVX2 to pairs of 128-bit operations.
#include <immintrin.h>

#include "core/simd/http_block_scan_kernels.h"

namespace tern::simd::internal {

void classify_http_blocks_avx2(const std::uint8_t* data, std::size_t blocks,
                               HttpBlockMasks* out) noexcept {
  const __m256i lo_t = _mm256_load_si256(reinterpret_cast<const __m256i*>(kTcharLo.data()));
  const __m256i hi_t = _mm256_load_si256(reinterpret_cast<const __m256i*>(kTcharHi.data()));
  const __m256i x1f = _mm256_set1_epi8(0x1F);
  const __m256i tab = _mm256_set1_epi8('\t');
  const __m256i del = _mm256_set1_epi8(0x7F);
  const __m256i nib = _mm256_set1_epi8(0x0F);
  const __m256i zero = _mm256_setzero_si256();
  for (std::size_t k = 0; k < blocks; ++k) {
    std::uint64_t ctl = 0, token = 0;
    for (unsigned j = 0; j < 64; j += 32) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + k * 64 + j));
      const __m256i below_sp = _mm256_cmpeq_epi8(_mm256_min_epu8(v, x1f), v);
      const __m256i c = _mm256_or_si256(_mm256_andnot_si256(_mm256_cmpeq_epi8(v, tab), below_sp),
                                        _mm256_cmpeq_epi8(v, del));
      const __m256i t = _mm256_and_si256(
          _mm256_shuffle_epi8(lo_t, v),
          _mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi16(v, 4), nib)));
      ctl |= std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(c))} << j;
      token |= std::uint64_t{~static_cast<std::uint32_t>(
                   _mm256_movemask_epi8(_mm256_cmpeq_epi8(t, zero)))}
               << j;
    }
    out[k] = {ctl, token};
  }
}

}  // namespace tern::simd::internal
