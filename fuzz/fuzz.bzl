"""tern_fuzz_test: a libFuzzer target that is also a corpus-replay test.

Under --config=fuzz it links libFuzzer, so the binary under
bazel-out/k8-fastbuild-fuzz/bin/fuzz/... is a real fuzzer (fuzz/run runs each
briefly); otherwise main() replays every seed file, so `bazel test //...`
re-runs the corpus as an ordinary test.
"""

def tern_fuzz_test(name, srcs, deps, corpus):
    native.filegroup(name = name + "_corpus", srcs = native.glob([corpus + "/*"]))
    native.cc_test(
        name = name,
        size = "small",
        srcs = srcs,
        args = ["$(locations :" + name + "_corpus)"],
        data = [":" + name + "_corpus"],
        linkopts = select({
            "//fuzz:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        deps = deps + select({
            "//fuzz:fuzzing": [],
            "//conditions:default": ["//fuzz:fuzz_replay_main"],
        }),
        tags = ["fuzz"],
    )
