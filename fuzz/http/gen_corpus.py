#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/http from the cases the tests use.

Reader seeds: [flags][seed][wire] (see fuzz_util.h). Writer seeds:
[method][steps], step = [kind][len][bytes] (see request_writer_fuzz.cc).
Run from the repository root: python3 fuzz/http/gen_corpus.py
"""
import os

HERE = os.path.dirname(__file__)

RESPONSES = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;e=1\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil close",
    b"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    b"HTTP/1.1 200 OK\r\nA:  x y \t\r\nB:\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\nX: a\r\n b\r\n\r\n",
    # What a user agent must accept: obs-fold (RFC 9112 §5.2), also in a
    # framing field and a trailer, and status codes outside 100..599.
    b"HTTP/1.1 200 OK\r\nX: a \r\n\t b\r\nContent-Length:\r\n 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nT: 1\r\n 2\r\n\r\n",
    b"HTTP/1.1 600 Odd\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 099\r\nConnection: close\r\n\r\nclose-delimited",
]
REQUESTS = [
    b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    b"POST /api/v3/order HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"qty\":100}GET / HTTP/1.1\r\n\r\n",
    b"PUT /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
    b"\r\nGET / HTTP/1.0\r\n\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
    b"G(T /\xe9 HTTP/1.10\r\n\r\n",
]
CHUNKED = [
    b"5\r\nhello\r\n0\r\n\r\n",
    b"000A;name=value\r\n0123456789\r\nb ; ext\r\nabcdefghijk\r\n00\r\n\r\n",
    b"3\r\nabc\r\n0\r\nX-Checksum: 42\r\nX-Other:  v \r\n\r\n",
    b"10000000000000000\r\n",
    b"5\r\nhelloXX0\r\n\r\n",
    b"5 x\r\nhello\r\n",
]


def write(name, seeds):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    for i, s in enumerate(seeds):
        with open(os.path.join(d, "seed_%02d" % i), "wb") as f:
            f.write(s)


def reader_seeds(wires):
    out = []
    for i, w in enumerate(wires):
        flags = (i % 4) | (4 if b"close" in w or w.startswith(b"HTTP/1.0") else 0)
        out.append(bytes([flags, i * 37 % 256]) + w)
        out.append(bytes([flags | 0x08, 0]) + w)  # small limits, bytewise
    return out


write("response_reader_corpus", reader_seeds(RESPONSES))
write("request_reader_corpus", reader_seeds(REQUESTS))
write("chunked_corpus", reader_seeds(CHUNKED))
seq = b"".join(RESPONSES[:2] + [RESPONSES[3], RESPONSES[4]])
write("keepalive_corpus",
      [bytes([cap << 5, s]) + seq for cap, s in ((0, 1), (3, 0), (5, 17), (7, 3))]
      + [bytes([0x04 | 7 << 5, 5]) + RESPONSES[0] + RESPONSES[2]])


def step(kind, data):
    return bytes([kind, len(data)]) + data


write("request_writer_corpus", [
    bytes([1]) + step(0, b"/order") + step(1, b"symbolBTC-USD") + step(2, b"Content-Type:application/json")
    + step(3, b'{"side":"buy"}'),
    bytes([0]) + step(0, b"/t?a=1") + step(1, b"k v&=") + step(4, b"in place"),
    bytes([2]) + step(2, b"X-Bad\r\n:v") + step(3, b"x"),
    bytes([3]) + step(0, b"/a b") + step(2, b"Host:evil"),
    bytes([4]) + step(2, b"X: lead") + step(1, b"\x00\x01\xfe\xff"),
])
