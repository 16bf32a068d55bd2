// File: byte_checks.h (internal to core/http)
//
// Whole-string byte-class checks for the writers' arguments (field values,
// paths): SSE2 on x86-64, 16 bytes per compare, with 8..16-byte strings read
// as two overlapping words so nothing outside [s.data(), s.data() + size)
// is ever touched (the caller's strings have no padding). Other targets
// take the scalar loops. Each answers only "all clean?"; callers find the
// precise cause on the cold path.
#ifndef TERN_CORE_HTTP_BYTE_CHECKS_H_
#define TERN_CORE_HTTP_BYTE_CHECKS_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tern::http::detail {

#if defined(__SSE2__)
// OR of movemask(f(v)) over vectors covering exactly s (n >= 8).
template <typename F>
inline unsigned any_lane(const char* p, std::size_t n, F f) noexcept {
  if (n <= 16) {
    const __m128i v = _mm_unpacklo_epi64(
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)),
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + n - 8)));
    return static_cast<unsigned>(_mm_movemask_epi8(f(v)));
  }
  unsigned acc = 0;
  for (std::size_t i = 0; i + 16 < n; i += 16) {
    acc |= static_cast<unsigned>(
        _mm_movemask_epi8(f(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)))));
  }
  return acc | static_cast<unsigned>(_mm_movemask_epi8(
                   f(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16)))));
}
inline __m128i bytes_of(int c) noexcept { return _mm_set1_epi8(static_cast<char>(c)); }
// Lanes with lo <= byte <= hi (unsigned).
inline __m128i in_range(__m128i v, int lo, int hi) noexcept {
  const __m128i d = _mm_sub_epi8(v, bytes_of(lo));
  return _mm_cmpeq_epi8(_mm_min_epu8(d, bytes_of(hi - lo)), d);
}
#endif

// No byte below 0x20 (HTAB included) and no DEL; obs-text (>= 0x80) passes.
inline bool all_field_value_bytes(std::string_view s) noexcept {
  const char* p = s.data();
  const std::size_t n = s.size();
#if defined(__SSE2__)
  if (n >= 8) {
    return any_lane(p, n, [](__m128i v) {
             return _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, bytes_of(0x1F)), v),
                                 _mm_cmpeq_epi8(v, bytes_of(0x7F)));
           }) == 0;
  }
#endif
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<std::uint8_t>(p[i]);
    if (c < 0x20 || c == 0x7F) return false;
  }
  return true;
}

// Visible ASCII (0x21..0x7E) without '#'; *query: a '?' is present.
inline bool clean_path_bytes(std::string_view s, bool* query) noexcept {
  const char* p = s.data();
  const std::size_t n = s.size();
#if defined(__SSE2__)
  if (n >= 8) {
    const unsigned bad = any_lane(p, n, [](__m128i v) {
      return _mm_andnot_si128(
          _mm_andnot_si128(_mm_cmpeq_epi8(v, bytes_of('#')), in_range(v, 0x21, 0x7E)),
          _mm_set1_epi8(-1));
    });
    *query = any_lane(p, n, [](__m128i v) { return _mm_cmpeq_epi8(v, bytes_of('?')); }) != 0;
    return bad == 0;
  }
#endif
  bool q = false;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<std::uint8_t>(p[i]);
    if (c <= 0x20 || c >= 0x7F || c == '#') return false;
    q |= c == '?';
  }
  *query = q;
  return true;
}

}  // namespace tern::http::detail

#endif  // TERN_CORE_HTTP_BYTE_CHECKS_H_
