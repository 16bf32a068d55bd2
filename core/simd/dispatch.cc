// Entry points: pick a kernel table once, then call through it.
//
// The table pointer starts at kResolver, whose functions detect the CPU,
// install the best table and forward the call (simdutf's "detect on first
// use"). After that a call costs one load and one indirect call: no guard
// variable, no static initializer, nothing to order at program start-up.
#include <atomic>
#include <bit>

#include <cpuid.h>

#include <xsimd/xsimd.hpp>

#include "absl/base/optimization.h"
#include "core/simd/http_scan.h"
#include "core/simd/isa.h"
#include "core/simd/kernels.h"
#include "core/simd/mask.h"
#include "core/simd/utf8.h"
#include "core/simd/utf8_dfa.h"

namespace tern::simd {
namespace internal {
namespace {

struct CpuFeatures {
  bool ssse3 = false;
  bool avx2 = false;
  bool avx512 = false;
};

std::uint64_t read_xcr0() noexcept {
  std::uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (std::uint64_t{edx} << 32) | eax;
}

// xsimd reads the CPUID feature bits; it does not ask the OS (XCR0) whether
// it saves YMM/ZMM state, nor report AVX512VL, so those are checked here.
CpuFeatures detect() noexcept {
  const auto arch = xsimd::available_architectures();
  unsigned a = 0, b = 0, c = 0, d = 0;
  const bool osxsave = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_OSXSAVE) != 0;
  const std::uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  const bool ymm_state = (xcr0 & 0x6) == 0x6;      // SSE + AVX state
  const bool zmm_state = (xcr0 & 0xE6) == 0xE6;    // + opmask, ZMM_Hi256, Hi16_ZMM
  const bool avx512vl = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 31)) != 0;
  CpuFeatures f;
  f.ssse3 = arch.ssse3;  // SSE state is always enabled on x86-64
  f.avx2 = arch.avx2 && ymm_state;
  f.avx512 = f.avx2 && arch.avx512f && arch.avx512bw && arch.avx512dq && arch.avx512cd &&
             avx512vl && zmm_state;
  return f;
}

const CpuFeatures& features() noexcept {
  static const CpuFeatures f = detect();
  return f;
}

const Kernels* table_for(Isa isa) noexcept {
  switch (isa) {
    case Isa::kAvx512bw: return &kAvx512bwKernels;
    case Isa::kAvx2: return &kAvx2Kernels;
    case Isa::kSsse3: return &kSsse3Kernels;
    case Isa::kSse2: break;
  }
  return &kSse2Kernels;
}

extern const Kernels kResolver;
std::atomic<const Kernels*> g_kernels{&kResolver};

const Kernels& install_best() noexcept {
  const Kernels* k = table_for(best_isa());
  g_kernels.store(k, std::memory_order_release);
  return *k;
}

void resolve_mask(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
                  std::uint32_t key) noexcept {
  install_best().mask(dst, src, n, key);
}
bool resolve_validate_utf8(const std::uint8_t* p, std::size_t n) noexcept {
  return install_best().validate_utf8(p, n);
}
bool resolve_unmask_validate_utf8(std::uint8_t* p, std::size_t n, std::uint32_t key) noexcept {
  return install_best().unmask_validate_utf8(p, n, key);
}
bool resolve_validate_utf8_nokey(std::uint8_t* p, std::size_t n, std::uint32_t key) noexcept {
  return install_best().validate_utf8_nokey(p, n, key);
}
std::size_t resolve_find_line_end_or_ctl(const std::uint8_t* p, std::size_t n) noexcept {
  return install_best().find_line_end_or_ctl(p, n);
}
std::size_t resolve_find_byte(const std::uint8_t* p, std::size_t n, std::uint8_t c) noexcept {
  return install_best().find_byte(p, n, c);
}

const Kernels kResolver = {&resolve_mask, &resolve_validate_utf8,
                           &resolve_unmask_validate_utf8, &resolve_validate_utf8_nokey,
                           &resolve_find_line_end_or_ctl,
                           &resolve_find_byte};

inline const Kernels& kernels() noexcept {
  return *g_kernels.load(std::memory_order_acquire);
}

}  // namespace
}  // namespace internal

using internal::kernels;

std::string_view name(Isa isa) noexcept {
  switch (isa) {
    case Isa::kSse2: return "sse2";
    case Isa::kSsse3: return "ssse3";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512bw: return "avx512bw";
  }
  return "unknown";
}

bool cpu_supports(Isa isa) noexcept {
  switch (isa) {
    case Isa::kSse2: return true;  // part of x86-64
    case Isa::kSsse3: return internal::features().ssse3;
    case Isa::kAvx2: return internal::features().avx2;
    case Isa::kAvx512bw: return internal::features().avx512;
  }
  return false;
}

Isa best_isa() noexcept {
  if (cpu_supports(Isa::kAvx512bw)) return Isa::kAvx512bw;
  if (cpu_supports(Isa::kAvx2)) return Isa::kAvx2;
  if (cpu_supports(Isa::kSsse3)) return Isa::kSsse3;
  return Isa::kSse2;
}

Isa active_isa() noexcept {
  const internal::Kernels* k = &kernels();
  if (k == &internal::kResolver) k = &internal::install_best();
  if (k == &internal::kAvx512bwKernels) return Isa::kAvx512bw;
  if (k == &internal::kAvx2Kernels) return Isa::kAvx2;
  if (k == &internal::kSsse3Kernels) return Isa::kSsse3;
  return Isa::kSse2;
}

bool force_isa(Isa isa) noexcept {
  if (!cpu_supports(isa)) return false;
  internal::g_kernels.store(internal::table_for(isa), std::memory_order_release);
  return true;
}

// RFC 6455 §5.3: octet i of the payload is XORed with octet (i mod 4) of the
// key; `phase` continues a payload unmasked in pieces. Kernels take the key
// rotated so that its first byte applies to data[0].
void mask(std::uint8_t* data, std::size_t n, std::uint32_t key, std::size_t phase) noexcept {
  kernels().mask(data, data, n, std::rotr(key, static_cast<int>(8 * (phase & 3))));
}

void mask_copy(std::uint8_t* dst, const std::uint8_t* src, std::size_t n, std::uint32_t key,
               std::size_t phase) noexcept {
  kernels().mask(dst, src, n, std::rotr(key, static_cast<int>(8 * (phase & 3))));
}

bool validate_utf8(const std::uint8_t* data, std::size_t n) noexcept {
  return kernels().validate_utf8(data, n);
}

bool unmask_validate_utf8(std::uint8_t* data, std::size_t n, std::uint32_t key,
                          std::size_t phase) noexcept {
  return kernels().unmask_validate_utf8(data, n,
                                        std::rotr(key, static_cast<int>(8 * (phase & 3))));
}

Utf8TextKernel utf8_text_kernel(bool masked) noexcept {
  const internal::Kernels* k = &kernels();
  if (k == &internal::kResolver) k = &internal::install_best();
  return masked ? k->unmask_validate_utf8 : k->validate_utf8_nokey;
}

// A piece is split into: bytes finishing the sequence left open by the last
// feed (automaton), a middle that starts and ends on character boundaries
// (SIMD, whole-string check), and at most 3 trailing bytes of a sequence the
// piece cuts (automaton, which rejects "E0 80" or "F4 90" at once and leaves
// "E2 82" open). The middle ends just before a lead byte, so "middle valid
// and tail a valid prefix" is exactly "prefix valid": fail-fast is exact.
bool Utf8Validator::feed(const std::uint8_t* s, std::size_t n) noexcept {
  if (ABSL_PREDICT_FALSE(failed_)) return false;
  internal::Utf8Dfa dfa;
  dfa.pending = pending_;
  dfa.lo = static_cast<std::uint8_t>(state_ & 0xFF);
  dfa.hi = static_cast<std::uint8_t>(state_ >> 8);
  std::size_t i = 0;
  if (dfa.pending != 0) {
    i = n < dfa.pending ? n : dfa.pending;
    if (ABSL_PREDICT_FALSE(!dfa.run(s, i))) return !(failed_ = true);
  }
  if (dfa.pending == 0 && i < n) {
    // Find a lead byte among the last 3 whose sequence runs past the end.
    std::size_t cut = n;
    for (std::size_t j = n; j > i && j + 3 > n;) {
      const std::uint8_t b = s[--j];
      if ((b & 0xC0) == 0x80) continue;  // continuation: keep looking back
      if (b >= 0xC0) {
        const std::size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
        if (j + len > n) cut = j;
      }
      break;
    }
    if (ABSL_PREDICT_FALSE(!kernels().validate_utf8(s + i, cut - i))) {
      return !(failed_ = true);
    }
    if (ABSL_PREDICT_FALSE(!dfa.run(s + cut, n - cut))) return !(failed_ = true);
  }
  pending_ = dfa.pending;
  state_ = dfa.lo | (std::uint32_t{dfa.hi} << 8);
  return true;
}

std::size_t find_line_end_or_ctl(const std::uint8_t* data, std::size_t n) noexcept {
  return kernels().find_line_end_or_ctl(data, n);
}

std::size_t find_byte(const std::uint8_t* data, std::size_t n, std::uint8_t c) noexcept {
  return kernels().find_byte(data, n, c);
}

}  // namespace tern::simd
