// File: isa.h
//
// Which instruction set the SIMD entry points (mask.h, utf8.h, http_scan.h)
// run on. The best ISA the CPU and OS support is chosen once, at the first
// call of any entry point; there is no static initializer. force_isa() pins
// one for tests, fuzzers and benchmarks so that every kernel the machine can
// run is exercised; production code never needs it.
//
// Kernels exist for x86-64 only: SSE2 (baseline, always present), SSSE3
// (pshufb, for the UTF-8 lookup algorithm on CPUs without AVX2), AVX2, and
// AVX-512 (F+BW+VL+DQ+CD, the set xsimd 8.1's avx512bw arch needs; every
// AVX-512BW CPU shipped has all five).
#ifndef TERN_CORE_SIMD_ISA_H_
#define TERN_CORE_SIMD_ISA_H_

#include <cstdint>
#include <string_view>

namespace tern::simd {

enum class Isa : std::uint8_t { kSse2, kSsse3, kAvx2, kAvx512bw };

inline constexpr Isa kAllIsas[] = {Isa::kSse2, Isa::kSsse3, Isa::kAvx2, Isa::kAvx512bw};

std::string_view name(Isa isa) noexcept;

// True if this CPU and OS can run the kernel (CPUID bits and XCR0 state).
bool cpu_supports(Isa isa) noexcept;

// The widest supported ISA: what the entry points pick on first use.
Isa best_isa() noexcept;

// The ISA the entry points currently run (choosing it if nothing ran yet).
Isa active_isa() noexcept;

// Makes every entry point use `isa` from now on. Returns false, changing
// nothing, if the CPU cannot run it. Not meant to race with callers on other
// threads (they would see either table, both correct).
bool force_isa(Isa isa) noexcept;

}  // namespace tern::simd

#endif  // TERN_CORE_SIMD_ISA_H_
