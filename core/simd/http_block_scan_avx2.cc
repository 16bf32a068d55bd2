// classify_http_blocks for AVX2 (built with -mavx2; reached only after the
// dispatcher has checked CPUID/XCR0): the nibble-table lookup of
// http_block_scan_kernels.h, two shuffles per 32 bytes for both classes.
#include <immintrin.h>

#include "core/simd/http_block_scan_kernels.h"

namespace tern::simd::internal {

void classify_http_blocks_avx2(const std::uint8_t* data, std::size_t blocks,
                               HttpBlockMasks* out) noexcept {
  const __m256i lo_t = _mm256_load_si256(reinterpret_cast<const __m256i*>(kClassLo.data()));
  const __m256i hi_t = _mm256_load_si256(reinterpret_cast<const __m256i*>(kClassHi.data()));
  const __m256i nib = _mm256_set1_epi8(0x0F);
  const __m256i ctl_bits = _mm256_set1_epi8(static_cast<char>(kCtlBits));
  const __m256i tchar_bits = _mm256_set1_epi8(static_cast<char>(kTcharBits));
  const __m256i zero = _mm256_setzero_si256();
  // Bits set where (t & bits) == 0, for the 32 bytes at q.
  auto classify32 = [&](const std::uint8_t* q, std::uint64_t* not_ctl,
                        std::uint64_t* not_tchar) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
    const __m256i t = _mm256_and_si256(
        _mm256_shuffle_epi8(lo_t, v),
        _mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi16(v, 4), nib)));
    *not_ctl = static_cast<std::uint32_t>(
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(t, ctl_bits), zero)));
    *not_tchar = static_cast<std::uint32_t>(
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(t, tchar_bits), zero)));
  };
  for (std::size_t k = 0; k < blocks; ++k) {
    std::uint64_t c0, c1, t0, t1;
    classify32(data + k * 64, &c0, &t0);
    classify32(data + k * 64 + 32, &c1, &t1);
    out[k] = {~(c1 << 32 | c0), ~(t1 << 32 | t0)};
  }
}

}  // namespace tern::simd::internal
