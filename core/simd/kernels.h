// File: kernels.h (internal to core/simd)
//
// The per-ISA kernel table. Each kernel_<isa>.cc is compiled with its own
// -m flags and defines one table; dispatch.cc picks one at first use and
// calls through it. Entry points normalise arguments before calling
// (the mask key arrives already rotated by the phase), so kernels stay small.
#ifndef TERN_CORE_SIMD_KERNELS_H_
#define TERN_CORE_SIMD_KERNELS_H_

#include <cstddef>
#include <cstdint>

namespace tern::simd::internal {

struct Kernels {
  // dst[i] = src[i] ^ key_byte[i % 4] (key in memory order, phase applied).
  // dst == src allowed; other overlaps are not.
  void (*mask)(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
               std::uint32_t key) noexcept;
  // Whole-string UTF-8 validity (RFC 3629).
  bool (*validate_utf8)(const std::uint8_t* data, std::size_t n) noexcept;
  // mask(data, data, n, key) and then validate_utf8(data, n), in one pass:
  // each vector is unmasked in registers, stored, and validated from the
  // register. All n bytes are unmasked whatever the result.
  bool (*unmask_validate_utf8)(std::uint8_t* data, std::size_t n,
                               std::uint32_t key) noexcept;
  // validate_utf8 with the signature above (key ignored, data not written):
  // what utf8_text_kernel(false) hands out.
  bool (*validate_utf8_nokey)(std::uint8_t* data, std::size_t n,
                              std::uint32_t key) noexcept;
  std::size_t (*find_line_end_or_ctl)(const std::uint8_t* data,
                                      std::size_t n) noexcept;
  std::size_t (*find_byte)(const std::uint8_t* data, std::size_t n,
                           std::uint8_t c) noexcept;
};

extern const Kernels kSse2Kernels;      // kernel_sse2.cc
extern const Kernels kSsse3Kernels;     // kernel_ssse3.cc
extern const Kernels kAvx2Kernels;      // kernel_avx2.cc
extern const Kernels kAvx512bwKernels;  // kernel_avx512bw.cc

}  // namespace tern::simd::internal

#endif  // TERN_CORE_SIMD_KERNELS_H_
