"""A scripted WebSocket peer on Python's `websockets` (Debian's
python3-websockets 10.x), to check tern's echo programs against it.

  ws_peer.py server [--cert F --key F]   prints "listening on PORT"; for each
      connection to /<scenario>/<close> runs the scenario and prints
      "RESULT /<scenario>/<close> OK" or "... FAIL <why>".
  ws_peer.py client URL [--ca F] --scenario S --close C
      runs the scenario against URL; prints OK or FAIL <why>; exit 0 / 1.

A scenario sends messages, and checks each echo (type and bytes), sends
pings and checks the pongs, then closes with code C ("none" is not possible
with this library) and a reason, and checks the peer echoed the code.
"""

import argparse
import asyncio
import random
import ssl
import sys

import websockets

TIMEOUT = 30  # seconds for one whole scenario


def messages(scenario):
    """[(kind, payload)], kind in text/binary (payload str/bytes, or a list
    of fragments) or ping (bytes)."""
    rng = random.Random(6455)
    if scenario == "short":
        return [("text", "one message")]
    if scenario != "full":
        raise ValueError(f"unknown scenario {scenario!r}")
    out = [("text", "hello"), ("text", ""), ("binary", b"")]
    for n in (1, 125, 126, 127, 65535, 65536, 65537):
        out.append(("binary", rng.randbytes(n)))
    out.append(("text", "héllo wörld € 𝄞 ✓"))
    out.append(("text", "tern€𝄞" * (1 << 17)))  # ~1.1 MiB of multi-byte UTF-8
    out.append(("binary", rng.randbytes(1 << 20)))
    out.append(("ping", b"ping payload"))
    out.append(("binary", rng.randbytes(16 << 20)))  # 16 MiB
    # Fragmented messages (an iterable is sent as one message in fragments).
    out.append(("text", ["frag", "mented ", "", "€ text 𝄞"]))
    out.append(("binary", [rng.randbytes(65536), b"x", b"", rng.randbytes(100000)]))
    out.append(("ping", b""))
    out.append(("text", "after the pings"))
    return out


def joined(payload):
    if isinstance(payload, list):
        return "".join(payload) if isinstance(payload[0], str) else b"".join(payload)
    return payload


async def run_scenario(ws, scenario, close_code):
    for i, (kind, payload) in enumerate(messages(scenario)):
        if kind == "ping":
            pong = await ws.ping(payload)
            await pong  # resolves only on a Pong with this payload
            continue
        await ws.send(payload)
        got = await ws.recv()
        want = joined(payload)
        if type(got) is not type(want):
            raise AssertionError(f"message {i}: echo is {type(got).__name__}, sent {type(want).__name__}")
        if got != want:
            raise AssertionError(f"message {i} ({kind}, {len(want)} B): echo differs ({len(got)} B)")
    reason = f"bye {close_code}"
    await ws.close(code=close_code, reason=reason)
    if ws.close_code != close_code:
        raise AssertionError(f"sent close {close_code}, peer answered {ws.close_code}")


async def guarded(ws, scenario, close_code):
    try:
        await asyncio.wait_for(run_scenario(ws, scenario, close_code), TIMEOUT)
        return "OK"
    except asyncio.TimeoutError:
        return f"FAIL timeout after {TIMEOUT}s (close code {ws.close_code})"
    except websockets.ConnectionClosed as e:
        return f"FAIL connection closed: {e}"
    except Exception as e:  # noqa: BLE001 - reported, not swallowed
        return f"FAIL {type(e).__name__}: {e}"


OPTIONS = dict(max_size=None, compression=None, ping_interval=None, close_timeout=5)


async def serve(args):
    ctx = None
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)

    async def handler(ws, *_):
        parts = ws.path.strip("/").split("/")
        result = await guarded(ws, parts[0], int(parts[1]))
        print(f"RESULT {ws.path} {result}", flush=True)

    async with websockets.serve(handler, "127.0.0.1", 0, ssl=ctx, **OPTIONS) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on {port}", flush=True)
        await asyncio.Future()


async def client(args):
    ctx = None
    if args.url.startswith("wss:"):
        ctx = ssl.create_default_context(cafile=args.ca)
    try:
        ws = await asyncio.wait_for(websockets.connect(args.url, ssl=ctx, **OPTIONS), 10)
    except Exception as e:  # noqa: BLE001
        print(f"FAIL connect: {type(e).__name__}: {e}", flush=True)
        return 1
    result = await guarded(ws, args.scenario, int(args.close))
    print(result, flush=True)
    return 0 if result == "OK" else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("server")
    s.add_argument("--cert")
    s.add_argument("--key")
    c = sub.add_parser("client")
    c.add_argument("url")
    c.add_argument("--ca")
    c.add_argument("--scenario", default="full")
    c.add_argument("--close", default="1000")
    args = p.parse_args()
    if args.mode == "server":
        asyncio.run(serve(args))
    else:
        sys.exit(asyncio.run(client(args)))


if __name__ == "__main__":
    main()
