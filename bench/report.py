#!/usr/bin/env python3
"""Turns Google Benchmark JSON into a markdown table of medians and ratios.

Benchmarks are named "<workload>/<library>" (any further "/arg" parts stay in
the workload). For each workload the table shows every library's median time
(and bytes/s or items/s when the benchmark set them), how many times slower
than tern it is, and allocations per operation when the benchmark counts
them (an "allocs_per_op" counter). Usage:

  bazel-bin/bench/ws/frame_bench --benchmark_repetitions=10 \
      --benchmark_report_aggregates_only=true --benchmark_format=json > ws.json
  python3 bench/report.py ws.json [more.json ...]
"""
import json
import sys
from collections import OrderedDict

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load(paths):
    rows = OrderedDict()
    context = None
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        context = context or doc.get("context", {})
        for b in doc["benchmarks"]:
            if b.get("aggregate_name", "median") != "median":
                continue
            name = b.get("run_name", b["name"])
            if "/" not in name:
                continue
            workload, library = name.rsplit("/", 1)
            if library.startswith(("real_time", "iterations", "repeats")):
                continue
            ns = b["cpu_time"] * UNIT_NS[b.get("time_unit", "ns")]
            rows.setdefault(workload, OrderedDict())[library] = (
                ns, b.get("bytes_per_second"), b.get("items_per_second"),
                b.get("allocs_per_op"))
    return rows, context or {}


def fmt_rate(bps):
    if bps is None:
        return ""
    return f"{bps / 1e9:.2f} GB/s"


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    rows, ctx = load(argv[1:])
    # library_build_type describes Debian's libbenchmark (always "debug"),
    # not tern, which --config=bench builds with -O2: leave it out.
    print(f"CPU: {ctx.get('num_cpus', '?')} x {ctx.get('mhz_per_cpu', '?')} MHz (TSC), "
          f"host {ctx.get('host_name', '?')}\n")
    allocs = any(r[3] is not None for libs in rows.values() for r in libs.values())
    print("| workload | library | median ns | throughput | × tern |"
          + (" allocs/op |" if allocs else ""))
    print("|---|---|---:|---:|---:|" + ("---:|" if allocs else ""))
    for workload, libs in rows.items():
        base = libs.get("tern", (None,))[0]
        for library, (ns, bps, _ips, per_op) in libs.items():
            ratio = f"{ns / base:.1f}×" if base else ""
            extra = (f" {per_op:g} |" if per_op is not None else " |") if allocs else ""
            print(f"| {workload} | {library} | {ns:.1f} | {fmt_rate(bps)} | {ratio} |{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
