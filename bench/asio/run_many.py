#!/usr/bin/env python3
"""The many-connection echo benchmark (bench/servers/run_many.py) with tern's
Asio backend among the servers: the same generator, pinning, rounds and
columns; this wrapper only tells it where tern_asio_echo_server is built.

  bazel build --config=bench //bench/servers:all //bench/asio:tern_asio_echo_server
  python3 bench/asio/run_many.py --servers tern_asio,beast [--rounds 3] [--seconds 3] [--points 1,10,100,1000]
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "servers"))
import run_many  # noqa: E402

ASIO_BIN = os.path.join(run_many.ROOT, "bazel-out/k8-opt-bench/bin/bench/asio")


def start_server(name):
    binary = os.path.join(ASIO_BIN if name == "tern_asio" else run_many.BIN, f"{name}_echo_server")
    p = subprocess.Popen(["taskset", "-c", "0", binary, "0"], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("listening on "):
        p.kill()
        raise RuntimeError(f"{name}: {line!r}")
    return p, int(line.split()[-1])


run_many.start_server = start_server
run_many.SERVERS = ["tern_asio", "beast", "tern_epoll"]

if __name__ == "__main__":
    run_many.main()
