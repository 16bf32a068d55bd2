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

def simd_kernel(name, src, isa, api):
    native.cc_library(
        name = name,
        srcs = [src],
        copts = ["-O2"] + _ISA_COPTS[isa],
        visibility = ["//visibility:private"],
        deps = [api],
        alwayslink = True,
    )
