// SSE2 kernels: the x86-64 baseline, built without extra -m flags. SSE2 has
// no byte shuffle (pshufb is SSSE3), so UTF-8 uses the vector ASCII skip plus
// the byte automaton instead of the lookup algorithm.
#include <emmintrin.h>

#include "core/simd/kernel_impl.h"
#include "core/simd/kernels.h"

namespace tern::simd::internal {
namespace {

struct Sse2 {
  using A = xsimd::sse2;
  using B = xsimd::batch<std::uint8_t, A>;
  static constexpr std::size_t kWidth = 16;

  static std::uint64_t bits(const xsimd::batch_bool<std::uint8_t, A>& m) noexcept {
    return static_cast<std::uint32_t>(_mm_movemask_epi8(m));
  }
  static bool is_ascii(const B& v) noexcept { return _mm_movemask_epi8(v) == 0; }
  static void mask_small(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
                         std::uint32_t key) noexcept {
    mask_swar(dst, src, n, key);
  }
  template <class P>
  static std::size_t scan_small(const std::uint8_t* p, std::size_t n, const P& pred) noexcept {
    return scan_swar(p, n, pred);
  }
};

void mask_sse2(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
               std::uint32_t key) noexcept {
  mask_vec<Sse2>(dst, src, n, key);
}
bool validate_utf8_sse2(const std::uint8_t* p, std::size_t n) noexcept {
  return validate_utf8_hybrid<Sse2>(p, n);
}
bool unmask_validate_utf8_sse2(std::uint8_t* p, std::size_t n, std::uint32_t key) noexcept {
  return unmask_validate_utf8_hybrid<Sse2>(p, n, key);
}
bool validate_utf8_nokey_sse2(std::uint8_t* p, std::size_t n, std::uint32_t) noexcept {
  return validate_utf8_hybrid<Sse2>(p, n);
}
std::size_t find_line_end_or_ctl_sse2(const std::uint8_t* p, std::size_t n) noexcept {
  return scan_vec<Sse2>(p, n, CtlPred{});
}
std::size_t find_byte_sse2(const std::uint8_t* p, std::size_t n, std::uint8_t c) noexcept {
  return scan_vec<Sse2>(p, n, BytePred{c});
}

}  // namespace

const Kernels kSse2Kernels = {&mask_sse2, &validate_utf8_sse2, &unmask_validate_utf8_sse2, &validate_utf8_nokey_sse2,
                              &find_line_end_or_ctl_sse2, &find_byte_sse2};

}  // namespace tern::simd::internal
