// File: byte_checks.h (internal to core/http)
//
// Whole-string byte-class checks for the writers' arguments (field names and
// values, paths): SSE2 on x86-64, 16 bytes per compare. Strings of 4..16
// bytes are read as two overlapping halves, so nothing outside
// [s.data(), s.data() + size) is ever touched (the caller's strings have no
// padding) and every lane holds one of the string's own bytes. Shorter
// strings and other targets take the scalar loops. Each answers only "all
// clean?"; callers find the precise cause on the cold path.
#ifndef TERN_CORE_HTTP_BYTE_CHECKS_H_
#define TERN_CORE_HTTP_BYTE_CHECKS_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/http/tokens.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tern::http::detail {

#if defined(__SSE2__)
// The n bytes at p, 4 <= n <= 16, as two overlapping halves (8-byte halves
// for n >= 8, else two 4-byte words repeated); lanes repeat bytes rather than
// holding zeros, so a lane test needs no mask for the short case.
inline __m128i load_4_to_16(const char* p, std::size_t n) noexcept {
  if (n >= 8) {
    return _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)),
                              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + n - 8)));
  }
  std::int32_t a, b;
  std::memcpy(&a, p, 4);
  std::memcpy(&b, p + n - 4, 4);
  const __m128i w = _mm_unpacklo_epi32(_mm_cvtsi32_si128(a), _mm_cvtsi32_si128(b));
  return _mm_unpacklo_epi64(w, w);
}

// Calls f on vectors that together cover exactly p[0, n), n >= 4.
template <typename F>
inline void for_each_vector(const char* p, std::size_t n, F f) noexcept {
  if (n <= 16) {
    f(load_4_to_16(p, n));
    return;
  }
  for (std::size_t i = 0; i + 16 < n; i += 16) {
    f(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)));
  }
  f(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16)));
}

// OR of movemask(f(v)) over the vectors covering p[0, n), n >= 4.
template <typename F>
inline unsigned any_lane(const char* p, std::size_t n, F f) noexcept {
  unsigned acc = 0;
  for_each_vector(p, n, [&](__m128i v) {
    acc |= static_cast<unsigned>(_mm_movemask_epi8(f(v)));
  });
  return acc;
}
inline __m128i bytes_of(int c) noexcept { return _mm_set1_epi8(static_cast<char>(c)); }
// Lanes with lo <= byte <= hi (unsigned): the range is moved to the bottom
// of the signed bytes, so one signed compare bounds both ends (hi - lo < 127).
inline __m128i in_range(__m128i v, int lo, int hi) noexcept {
  return _mm_cmplt_epi8(_mm_add_epi8(v, bytes_of(0x80 - lo)), bytes_of(0x80 + hi - lo + 1));
}
#endif

// No byte below 0x20 (HTAB included) and no DEL; obs-text (>= 0x80) passes.
inline bool all_field_value_bytes(std::string_view s) noexcept {
  const char* p = s.data();
  const std::size_t n = s.size();
#if defined(__SSE2__)
  if (n >= 4) {
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

// A non-empty string of letters, digits and '-' only: the bytes of nearly
// every field name, a subset of tchar cheap to test 16 at a time. False says
// nothing; the caller then checks each byte against the full tchar table.
inline bool plain_token_bytes(std::string_view s) noexcept {
  const char* p = s.data();
  const std::size_t n = s.size();
#if defined(__SSE2__)
  if (n >= 4) {
    return any_lane(p, n, [](__m128i v) {
             const __m128i letter = in_range(_mm_or_si128(v, bytes_of(0x20)), 'a', 'z');
             const __m128i plain = _mm_or_si128(
                 _mm_or_si128(letter, in_range(v, '0', '9')), _mm_cmpeq_epi8(v, bytes_of('-')));
             return _mm_xor_si128(plain, _mm_set1_epi8(-1));
           }) == 0;
  }
#endif
  bool ok = n != 0;
  for (std::size_t i = 0; i < n; ++i) ok &= is_token_char(static_cast<std::uint8_t>(p[i]));
  return ok;
}

// Visible ASCII (0x21..0x7E) without '#'; *query: a '?' is present.
inline bool clean_path_bytes(std::string_view s, bool* query) noexcept {
  const char* p = s.data();
  const std::size_t n = s.size();
#if defined(__SSE2__)
  if (n >= 4) {
    unsigned bad = 0, question = 0;
    for_each_vector(p, n, [&](__m128i v) {
      const __m128i good =
          _mm_andnot_si128(_mm_cmpeq_epi8(v, bytes_of('#')), in_range(v, 0x21, 0x7E));
      bad |= static_cast<unsigned>(_mm_movemask_epi8(good)) ^ 0xFFFFu;
      question |= static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, bytes_of('?'))));
    });
    *query = question != 0;
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
