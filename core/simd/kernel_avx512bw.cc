// AVX-512 kernels (F, BW, VL, DQ, CD: xsimd 8.1's avx512bw arch derives from
// avx512dq and avx512cd, so all five are compiler flags and runtime checks).
// Tails use masked loads and stores, which never fault on masked-off bytes,
// so nothing here touches memory outside [p, p + n).
#include <immintrin.h>

#include "core/simd/kernel_impl.h"
#include "core/simd/kernels.h"

namespace tern::simd::internal {
namespace {

inline __mmask64 low_bytes(std::size_t n) noexcept {
  return n >= 64 ? ~__mmask64{0} : ((__mmask64{1} << n) - 1);
}

struct Avx512 {
  using A = xsimd::avx512bw;
  using B = xsimd::batch<std::uint8_t, A>;
  static constexpr bool kMaskedTail = true;  // see unmask_validate_utf8_lookup
  static constexpr std::size_t kWidth = 64;

  static std::uint64_t bits(const xsimd::batch_bool<std::uint8_t, A>& m) noexcept {
    return static_cast<__mmask64>(m);
  }
  static bool is_ascii(const B& v) noexcept { return _mm512_movepi8_mask(v) == 0; }
  static bool any_nonzero(const B& v) noexcept { return _mm512_test_epi8_mask(v, v) != 0; }

  static B table16(const std::uint8_t (&t)[16]) noexcept {
    return _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(t)));
  }
  static B lookup16(const B& table, const B& idx) noexcept {
    return _mm512_shuffle_epi8(table, idx);
  }
  static B subs(const B& a, const B& b) noexcept { return _mm512_subs_epu8(a, b); }
  static B shr4(const B& v) noexcept {
    return _mm512_and_si512(_mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0F));
  }
  // Lane i of t is lane i-1 of [prev, in]; alignr then shifts bytes within
  // lanes, pulling the last N bytes of the lane below.
  template <int N>
  static B prev(const B& in, const B& prev) noexcept {
    const __m512i t =
        _mm512_permutex2var_epi64(prev, _mm512_setr_epi64(6, 7, 8, 9, 10, 11, 12, 13), in);
    return _mm512_alignr_epi8(in, t, 16 - N);
  }
  static void load_partial(const std::uint8_t* p, std::size_t n, B (&v)[1]) noexcept {
    v[0] = _mm512_maskz_loadu_epi8(low_bytes(n), p);
  }

  // Masked load and store: the bytes past p + r are neither read nor
  // written, and the unmasked vector keeps zeros (ASCII) there.
  static void unmask_partial(std::uint8_t* p, std::size_t r, const B& k, B (&v)[1]) noexcept {
    const __mmask64 m = low_bytes(r);
    v[0] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, p), _mm512_maskz_mov_epi8(m, k));
    _mm512_mask_storeu_epi8(p, m, v[0]);
  }

  static void mask_small(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
                         std::uint32_t key) noexcept {
    const __mmask64 k = low_bytes(n);
    const __m512i v = _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, src),
                                       _mm512_set1_epi32(static_cast<int>(key)));
    _mm512_mask_storeu_epi8(dst, k, v);
  }
  template <class P>
  static std::size_t scan_small(const std::uint8_t* p, std::size_t n, const P& pred) noexcept {
    const __mmask64 k = low_bytes(n);
    const std::uint64_t m = bits(pred.vec(B(_mm512_maskz_loadu_epi8(k, p)))) & k;
    return m ? static_cast<std::size_t>(ctz64(m)) : n;
  }
};

void mask_avx512bw(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
                   std::uint32_t key) noexcept {
  mask_vec<Avx512>(dst, src, n, key);
}
bool validate_utf8_avx512bw(const std::uint8_t* p, std::size_t n) noexcept {
  return validate_utf8_lookup<Avx512>(p, n);
}
bool unmask_validate_utf8_avx512bw(std::uint8_t* p, std::size_t n,
                                   std::uint32_t key) noexcept {
  return unmask_validate_utf8_lookup<Avx512>(p, n, key);
}
bool validate_utf8_nokey_avx512bw(std::uint8_t* p, std::size_t n, std::uint32_t) noexcept {
  return validate_utf8_lookup<Avx512>(p, n);
}
std::size_t find_line_end_or_ctl_avx512bw(const std::uint8_t* p, std::size_t n) noexcept {
  return scan_vec<Avx512>(p, n, CtlPred{});
}
std::size_t find_byte_avx512bw(const std::uint8_t* p, std::size_t n, std::uint8_t c) noexcept {
  return scan_vec<Avx512>(p, n, BytePred{c});
}

}  // namespace

const Kernels kAvx512bwKernels = {&mask_avx512bw, &validate_utf8_avx512bw,
                                  &unmask_validate_utf8_avx512bw, &validate_utf8_nokey_avx512bw,
                                  &find_line_end_or_ctl_avx512bw, &find_byte_avx512bw};

}  // namespace tern::simd::internal
