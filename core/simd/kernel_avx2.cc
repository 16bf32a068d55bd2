// AVX2 kernels, built with -mavx2 (see BUILD.bazel). Only reached after
// dispatch.cc has checked CPUID and XCR0; nothing in this file may be called
// from elsewhere except through kAvx2Kernels.
#include <immintrin.h>

#include "core/simd/kernel_impl.h"
#include "core/simd/kernels.h"

namespace tern::simd::internal {
namespace {

struct Avx2 {
  using A = xsimd::avx2;
  using B = xsimd::batch<std::uint8_t, A>;
  static constexpr bool kMaskedTail = false;  // see unmask_validate_utf8_lookup
  static constexpr std::size_t kWidth = 32;

  static std::uint64_t bits(const xsimd::batch_bool<std::uint8_t, A>& m) noexcept {
    return static_cast<std::uint32_t>(_mm256_movemask_epi8(m));
  }
  static bool is_ascii(const B& v) noexcept { return _mm256_movemask_epi8(v) == 0; }
  static bool any_nonzero(const B& v) noexcept { return !_mm256_testz_si256(v, v); }

  // pshufb works within 128-bit lanes, so a 16-entry table is repeated in both.
  static B table16(const std::uint8_t (&t)[16]) noexcept {
    return _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(t)));
  }
  static B lookup16(const B& table, const B& idx) noexcept {
    return _mm256_shuffle_epi8(table, idx);
  }
  static B subs(const B& a, const B& b) noexcept { return _mm256_subs_epu8(a, b); }
  static B shr4(const B& v) noexcept {
    return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
  }
  // Bytes of `in` moved up by N, the gap filled with the last N bytes of prev.
  template <int N>
  static B prev(const B& in, const B& prev) noexcept {
    return _mm256_alignr_epi8(in, _mm256_permute2x128_si256(prev, in, 0x21), 16 - N);
  }
  static void load_partial(const std::uint8_t* p, std::size_t n, B (&v)[2]) noexcept {
    alignas(32) std::uint8_t buf[64] = {};
    std::memcpy(buf, p, n);
    v[0] = B::load_aligned(buf);
    v[1] = B::load_aligned(buf + 32);
  }

  static void unmask_partial(std::uint8_t* p, std::size_t r, const B& k, B (&v)[2]) noexcept {
    unmask_partial_buffered<Avx2>(p, r, k, v);
  }

  static void mask_small(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
                         std::uint32_t key) noexcept {
    if (n >= 16) {
      const __m128i tail =
          _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + n - 16)),
                        _mm_set1_epi32(static_cast<int>(key_at(key, n - 16))));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst),
                       _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)),
                                     _mm_set1_epi32(static_cast<int>(key))));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + n - 16), tail);
      return;
    }
    mask_swar(dst, src, n, key);
  }
  template <class P>
  static std::size_t scan_small(const std::uint8_t* p, std::size_t n, const P& pred) noexcept {
    return scan_swar(p, n, pred);
  }
};

void mask_avx2(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
               std::uint32_t key) noexcept {
  mask_vec<Avx2>(dst, src, n, key);
}
bool validate_utf8_avx2(const std::uint8_t* p, std::size_t n) noexcept {
  return validate_utf8_lookup<Avx2>(p, n);
}
bool unmask_validate_utf8_avx2(std::uint8_t* p, std::size_t n, std::uint32_t key) noexcept {
  return unmask_validate_utf8_lookup<Avx2>(p, n, key);
}
bool validate_utf8_nokey_avx2(std::uint8_t* p, std::size_t n, std::uint32_t) noexcept {
  return validate_utf8_lookup<Avx2>(p, n);
}
std::size_t find_line_end_or_ctl_avx2(const std::uint8_t* p, std::size_t n) noexcept {
  return scan_vec<Avx2>(p, n, CtlPred{});
}
std::size_t find_byte_avx2(const std::uint8_t* p, std::size_t n, std::uint8_t c) noexcept {
  return scan_vec<Avx2>(p, n, BytePred{c});
}

}  // namespace

const Kernels kAvx2Kernels = {&mask_avx2, &validate_utf8_avx2, &unmask_validate_utf8_avx2, &validate_utf8_nokey_avx2,
                              &find_line_end_or_ctl_avx2, &find_byte_avx2};

}  // namespace tern::simd::internal
