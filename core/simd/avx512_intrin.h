// File: avx512_intrin.h (internal to core/simd)
//
// <immintrin.h> for the AVX-512 kernels, included ahead of each of their
// translation units by simd_kernel.bzl (-include), with one GCC 12 false
// positive silenced for the header's own lines only. GCC 12's AVX-512
// headers build _mm512_undefined_* as `__m512i __Y = __Y;`, and once an
// intrinsic such as _mm512_broadcast_i32x4 is inlined at -O2, GCC reports
// "'__Y' may be used uninitialized" (with ASan: "is used uninitialized") at
// that line of avx512fintrin.h, a screenful per call site (GCC bug 105593,
// fixed in GCC 13 by pragmas inside the header). The pragma state is pushed
// and popped around the include, so both warnings still apply to every line
// of tern's own code, the kernels included; the header's include guard
// makes the kernel's own #include <immintrin.h> a no-op.
#ifndef TERN_CORE_SIMD_AVX512_INTRIN_H_
#define TERN_CORE_SIMD_AVX512_INTRIN_H_

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

#endif  // TERN_CORE_SIMD_AVX512_INTRIN_H_
