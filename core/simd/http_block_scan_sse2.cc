// classify_http_blocks for SSE2 (the x86-64 baseline). SSE2 has no byte
// shuffle, so tchar is a union of unsigned range tests.
#include <emmintrin.h>

#include "core/simd/http_block_scan_kernels.h"

namespace tern::simd::internal {
namespace {

__m128i set1(int c) { return _mm_set1_epi8(static_cast<char>(c)); }

// lo <= v <= hi, unsigned.
__m128i in_range(__m128i v, int lo, int hi) {
  const __m128i d = _mm_sub_epi8(v, set1(lo));
  return _mm_cmpeq_epi8(_mm_min_epu8(d, set1(hi - lo)), d);
}

// CR, LF, controls except HTAB, DEL.
__m128i ctl16(__m128i v) {
  const __m128i below_sp = _mm_cmpeq_epi8(_mm_min_epu8(v, set1(0x1F)), v);
  return _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, set1('\t')), below_sp),
                      _mm_cmpeq_epi8(v, set1(0x7F)));
}

// RFC 9110 §5.6.2 tchar: ALPHA (folded), DIGIT, 0x21-0x2E without
// '"' '(' ')' ',', "^_`", '|', '~'.
__m128i tchar16(__m128i v) {
  __m128i t = in_range(_mm_or_si128(v, set1(0x20)), 'a', 'z');
  t = _mm_or_si128(t, in_range(v, '0', '9'));
  const __m128i not_sep = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(v, set1('"')), _mm_cmpeq_epi8(v, set1('('))),
      _mm_or_si128(_mm_cmpeq_epi8(v, set1(')')), _mm_cmpeq_epi8(v, set1(','))));
  t = _mm_or_si128(t, _mm_andnot_si128(not_sep, in_range(v, 0x21, 0x2E)));
  t = _mm_or_si128(t, in_range(v, '^', '`'));
  return _mm_or_si128(t, _mm_or_si128(_mm_cmpeq_epi8(v, set1('|')),
                                      _mm_cmpeq_epi8(v, set1('~'))));
}

}  // namespace

void classify_http_blocks_sse2(const std::uint8_t* data, std::size_t blocks,
                               HttpBlockMasks* out) noexcept {
  for (std::size_t k = 0; k < blocks; ++k) {
    std::uint64_t ctl = 0, token = 0;
    for (unsigned j = 0; j < 64; j += 16) {
      const __m128i v =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + k * 64 + j));
      ctl |= std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(ctl16(v)))} << j;
      token |= std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(tchar16(v)))} << j;
    }
    out[k] = {ctl, token};
  }
}

}  // namespace tern::simd::internal
