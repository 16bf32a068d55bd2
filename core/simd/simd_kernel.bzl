"""simd_kernel: one ISA's kernels in a library of their own, with its -m flags.

Kernels are always optimized: at -O0 the inline helpers of xsimd and the
standard library would be emitted as weak symbols, and the linker may keep
the -mavx2 copy of a function that baseline code also calls. At -O2 they are
inlined (docs/simd.md, "ODR"). Only the kernel's own translation unit gets
the flags, so everything else runs on a baseline x86-64.
"""

_ISA_COPTS = {
    "sse2": [],
    "ssse3": ["-mssse3"],
    "avx2": ["-mavx2"],
    "avx512bw": [
        "-mavx2",
        "-mavx512f",
        "-mavx512bw",
        "-mavx512vl",
        "-mavx512dq",
        "-mavx512cd",
    ],
}

# GCC 12's AVX-512 headers trip its own -Wmaybe-uninitialized (a screenful
# per intrinsic call site, GCC bug 105593): the AVX-512 kernels see
# <immintrin.h> first through avx512_intrin.h, which silences that warning
# for the header's lines only, so tern's code keeps it. -include finds the
# file through the "..." include path, also when tern is an external repo.
_ISA_PREINCLUDE = {
    "avx512bw": "core/simd/avx512_intrin.h",
}

def simd_kernel(name, src, isa, api):
    preinclude = _ISA_PREINCLUDE.get(isa)
    native.cc_library(
        name = name,
        srcs = [src] + (["avx512_intrin.h"] if preinclude else []),
        copts = ["-O2"] + _ISA_COPTS[isa] + (["-include", preinclude] if preinclude else []),
        visibility = ["//visibility:private"],
        deps = [api],
        alwayslink = True,
    )
