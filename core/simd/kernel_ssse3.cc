// SSSE3 kernels, built with -mssse3 (see BUILD.bazel): for x86-64 CPUs
// without AVX2. pshufb (SSSE3) is what the UTF-8 lookup algorithm needs, so
// mixed text runs the same vector algorithm as AVX2 on 16-byte vectors
// instead of SSE2's byte automaton. Masking and scans are the SSE2 code
// (SSSE3 adds nothing they use). Only reached through kSsse3Kernels after
// dispatch.cc has checked CPUID.
#include <tmmintrin.h>

#include "core/simd/kernel_impl.h"
#include "core/simd/kernels.h"

namespace tern::simd::internal {
namespace {

struct Ssse3 {
  using A = xsimd::ssse3;
  using B = xsimd::batch<std::uint8_t, A>;
  static constexpr bool kMaskedTail = false;  // see unmask_validate_utf8_lookup
  static constexpr std::size_t kWidth = 16;

  static std::uint64_t bits(const xsimd::batch_bool<std::uint8_t, A>& m) noexcept {
    return static_cast<std::uint32_t>(_mm_movemask_epi8(m));
  }
  static bool is_ascii(const B& v) noexcept { return _mm_movemask_epi8(v) == 0; }
  // No ptest before SSE4.1: compare with zero.
  static bool any_nonzero(const B& v) noexcept {
    return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) != 0xFFFF;
  }

  static B table16(const std::uint8_t (&t)[16]) noexcept {
    return _mm_load_si128(reinterpret_cast<const __m128i*>(t));
  }
  static B lookup16(const B& table, const B& idx) noexcept { return _mm_shuffle_epi8(table, idx); }
  static B subs(const B& a, const B& b) noexcept { return _mm_subs_epu8(a, b); }
  static B shr4(const B& v) noexcept {
    return _mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0x0F));
  }
  // Bytes of `in` moved up by N, the gap filled with the last N bytes of prev.
  template <int N>
  static B prev(const B& in, const B& prev) noexcept {
    return _mm_alignr_epi8(in, prev, 16 - N);
  }
  static void load_partial(const std::uint8_t* p, std::size_t n, B (&v)[4]) noexcept {
    alignas(16) std::uint8_t buf[64] = {};
    std::memcpy(buf, p, n);
    for (std::size_t j = 0; j < 4; ++j) v[j] = B::load_aligned(buf + 16 * j);
  }
  static void unmask_partial(std::uint8_t* p, std::size_t r, const B& k, B (&v)[4]) noexcept {
    unmask_partial_buffered<Ssse3>(p, r, k, v);
  }

  static void mask_small(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
                         std::uint32_t key) noexcept {
    mask_swar(dst, src, n, key);
  }
  template <class P>
  static std::size_t scan_small(const std::uint8_t* p, std::size_t n, const P& pred) noexcept {
    return scan_swar(p, n, pred);
  }
};

void mask_ssse3(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
                std::uint32_t key) noexcept {
  mask_vec<Ssse3>(dst, src, n, key);
}
bool validate_utf8_ssse3(const std::uint8_t* p, std::size_t n) noexcept {
  return validate_utf8_lookup<Ssse3>(p, n);
}
bool unmask_validate_utf8_ssse3(std::uint8_t* p, std::size_t n, std::uint32_t key) noexcept {
  return unmask_validate_utf8_lookup<Ssse3>(p, n, key);
}
bool validate_utf8_nokey_ssse3(std::uint8_t* p, std::size_t n, std::uint32_t) noexcept {
  return validate_utf8_lookup<Ssse3>(p, n);
}
std::size_t find_line_end_or_ctl_ssse3(const std::uint8_t* p, std::size_t n) noexcept {
  return scan_vec<Ssse3>(p, n, CtlPred{});
}
std::size_t find_byte_ssse3(const std::uint8_t* p, std::size_t n, std::uint8_t c) noexcept {
  return scan_vec<Ssse3>(p, n, BytePred{c});
}

}  // namespace

const Kernels kSsse3Kernels = {&mask_ssse3,
                               &validate_utf8_ssse3,
                               &unmask_validate_utf8_ssse3,
                               &validate_utf8_nokey_ssse3,
                               &find_line_end_or_ctl_ssse3,
                               &find_byte_ssse3};

}  // namespace tern::simd::internal
