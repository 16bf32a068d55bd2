#!/usr/bin/env python3
"""Many-connection WebSocket echo benchmark: one echo server per library, on
one thread pinned to CPU 0, driven by bench/servers/load_gen (tern epoll
clients in closed loops) pinned to CPU 1. For each point (connections x
payload size), every server runs in turn, for several rounds (rates here
drift 30-45% between runs even pinned, so servers are interleaved and the
median ratio is what counts).

Per run: messages/s (generator), server CPU (from /proc/PID/schedstat over
the measured window), messages per second of server CPU, generator p99, and
syscalls per echo on the server (perf stat on raw_syscalls:sys_enter over a
window inside the measured one; needs root or perf_event_paranoid <= 1).

  bazel build --config=bench //bench/servers:all
  python3 bench/servers/run_many.py [--rounds 3] [--seconds 3] [--points 1,10,100,1000] [--sizes 40,128]
"""
import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "bazel-out/k8-opt-bench/bin/bench/servers")
SERVERS = ["tern_epoll", "tern_asio", "tern_asio_cb", "beast", "wspp"]


def cpu_ns(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def start_server(name):
    p = subprocess.Popen(["taskset", "-c", "0", os.path.join(BIN, f"{name}_echo_server"), "0"],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("listening on "):
        p.kill()
        raise RuntimeError(f"{name}: {line!r}")
    return p, int(line.split()[-1])


def perf_syscalls(pid, seconds):
    """Server syscalls over `seconds`, counted in the kernel (tracepoint)."""
    r = subprocess.run(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-p", str(pid), "--",
                        "sleep", f"{seconds:.3f}"], capture_output=True, text=True)
    for line in r.stderr.splitlines():
        parts = line.split(",")
        if len(parts) > 2 and "raw_syscalls:sys_enter" in line and parts[0].strip().isdigit():
            return int(parts[0])
    return None


def run_one(server, connections, size, seconds):
    srv, port = start_server(server)
    try:
        gen = subprocess.Popen(["taskset", "-c", "1", os.path.join(BIN, "load_gen"), str(port), str(connections),
                                str(size), str(seconds), "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # "measuring" on stderr: the window starts.
        line = gen.stderr.readline()
        if "measuring" not in line:
            gen.kill()
            raise RuntimeError(f"load_gen: {line!r}{gen.stderr.read()}")
        cpu0 = cpu_ns(srv.pid)
        t0 = time.monotonic()
        result = {}
        inner = max(0.5, seconds - 0.6)

        def count():
            time.sleep(0.3)
            result["syscalls"] = perf_syscalls(srv.pid, inner)

        th = threading.Thread(target=count)
        th.start()
        out, err = gen.communicate(timeout=seconds + 120)
        cpu1 = cpu_ns(srv.pid)
        wall = time.monotonic() - t0
        th.join()
        if gen.returncode != 0:
            raise RuntimeError(f"load_gen failed: {err}")
        f = out.split()
        messages, secs, p50, p99 = int(f[1]), float(f[3]), float(f[5]), float(f[7])
        rate = messages / secs
        cpu_s = (cpu1 - cpu0) / 1e9
        sys_per_echo = None
        if result.get("syscalls") is not None:
            sys_per_echo = result["syscalls"] / inner / rate
        return {"rate": rate, "cpu": cpu_s / wall, "per_cpu_s": messages / cpu_s if cpu_s > 0 else 0,
                "p50": p50, "p99": p99, "syscalls": sys_per_echo}
    finally:
        srv.kill()
        srv.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--points", default="1,10,100,1000")
    ap.add_argument("--sizes", default="40,128")
    ap.add_argument("--servers", default=",".join(SERVERS))
    a = ap.parse_args()
    servers = a.servers.split(",")
    print(f"# CPU: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; server on CPU 0, generator on CPU 1; "
          f"{a.rounds} rounds x {a.seconds:.0f} s, servers interleaved")
    print("| conns | size | server | msgs/s | server CPU | msgs per server-CPU-s | vs beast | p99 µs | syscalls/echo |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for size in [int(x) for x in a.sizes.split(",")]:
        for n in [int(x) for x in a.points.split(",")]:
            runs = {s: [] for s in servers}
            for r in range(a.rounds):
                order = servers[r % len(servers):] + servers[:r % len(servers)]
                for s in order:
                    runs[s].append(run_one(s, n, size, a.seconds))
            med = {s: {k: statistics.median([x[k] for x in runs[s] if x[k] is not None] or [0]) for k in runs[s][0]}
                   for s in servers}
            # The ratio per round (same conditions), then its median.
            ratios = {}
            if "beast" in servers:
                for s in servers:
                    ratios[s] = statistics.median(
                        [x["per_cpu_s"] / b["per_cpu_s"] for x, b in zip(runs[s], runs["beast"]) if b["per_cpu_s"]])
            for s in servers:
                m = med[s]
                print(f"| {n} | {size} | {s} | {m['rate']:.0f} | {100 * m['cpu']:.0f}% | {m['per_cpu_s']:.0f} | "
                      f"{ratios.get(s, 0):.2f}x | {m['p99']:.0f} | {m['syscalls']:.2f} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
