#!/usr/bin/env python3
"""Writes the connection_fuzz seed corpus.

Each seed: [flags][flags2][n][n ops of 2 bytes][stream]; see
connection_fuzz.cc for the bits and the op kinds. Server-bound frames are
masked (some with the all-zero key, which leaves the payload readable to
mutations). Run from the repository root: python3 fuzz/ws/gen_connection_corpus.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(__file__), "connection_corpus")

(DELIVER, DELIVER_MANY, SEND_TEXT, SEND_BINARY, SEND_PING, SEND_PONG, BEGIN, CONTINUE,
 FINISH, CLOSE, TAKE_SOME, TAKE_ALL, EXPIRE, EOF, ABORT, DRAIN) = range(16)

SERVER, RAW, NO_AUTO_PONG, SUBPROTOCOL = 1, 2, 4, 8
EOF_AFTER = 4


def write_size(i):
    return i << 4  # 512, 1 KiB, 4 KiB, 64 KiB


def limits(i):
    return i << 6  # 64K/64K, 1000/4000, 125/300, 16/64


def frame(b0, payload, key=None, length_bytes=None):
    n = len(payload)
    if length_bytes is None:
        length_bytes = 0 if n < 126 else 2 if n < 65536 else 8
    m = 0x80 if key is not None else 0
    if length_bytes == 0:
        head = bytes([b0, m | n])
    elif length_bytes == 2:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if key is not None:
        payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
        head += key
    return head + payload


ZERO = bytes(4)
KEY = bytes([0x37, 0xFA, 0x21, 0x3D])

REQUEST = (b"GET /feed HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Version: 13\r\n")
# The harness's 101 (accept is always 28 characters).
LEN_101 = len(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: " + b"x" * 28 + b"\r\n\r\n")


def seed(name, flags, ops, stream, flags2=0):
    assert len(ops) <= 255
    body = bytes([flags, flags2, len(ops)]) + b"".join(bytes([k, a]) for k, a in ops) + stream
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(body)


def deliver(n):
    """Ops that deliver exactly n bytes."""
    ops = []
    while n >= 16 * 256:
        ops.append((DELIVER_MANY, 255))
        n -= 16 * 256
    if n >= 16:
        ops.append((DELIVER_MANY, n // 16 - 1))
        n %= 16
    if n:
        ops.append((DELIVER, n - 1))
    return ops


def conversation(key):
    """What a peer sends: every message kind, a fragmented one with a Ping
    inside, then Close(1000, "bye")."""
    return b"".join([
        frame(0x81, b"hello", key),
        frame(0x82, bytes(range(40)), key),
        frame(0x89, b"ping", key),
        frame(0x8A, b"pong", key),
        frame(0x01, b"frag", key),
        frame(0x89, b"", key),
        frame(0x00, b"men", key),
        frame(0x80, b"ted \xe2\x82\xac", key),
        frame(0x82, b"x" * 300, key),
        frame(0x88, b"\x03\xe8bye", key),
    ])


USER = [(SEND_TEXT, 5), (SEND_BINARY, 40), (SEND_PING, 3), (BEGIN, 7), (SEND_PONG, 2),
        (CONTINUE, 4), (FINISH, 9), (TAKE_SOME, 20), (DRAIN, 0)]

os.makedirs(OUT, exist_ok=True)
for role, key, flags in (("client", None, 0), ("server", ZERO, SERVER), ("server_key", KEY, SERVER)):
    conv = conversation(key)
    # The peer talks and closes; we answer.
    seed(f"{role}_peer_closes", flags | write_size(2),
         deliver(LEN_101 if role == "client" else len(REQUEST) + 2) + USER + deliver(len(conv)) + [(TAKE_ALL, 0)],
         conv)
    if role == "server_key":
        continue
    # We close first, then the peer's data and Close arrive.
    seed(f"{role}_we_close", flags | write_size(1) | SUBPROTOCOL,
         [(DELIVER_MANY, 15)] + USER + [(CLOSE, 8 * 3), (SEND_TEXT, 1), (DELIVER_MANY, 40), (TAKE_ALL, 0)],
         conv)
    # A full write buffer: Pings arrive while no Pong fits; close() anyway.
    seed(f"{role}_full_buffer", flags | write_size(0),
         [(DELIVER_MANY, 15)] + [(SEND_BINARY, 63)] * 8 + [(SEND_TEXT, 0)] * 8 +
         [(DELIVER_MANY, 255), (TAKE_SOME, 30), (CLOSE, 1), (TAKE_ALL, 0), (TAKE_ALL, 0)],
         frame(0x89, b"one", key) + frame(0x89, b"two", key) + frame(0x81, b"after", key))
    # Protocol errors: bad UTF-8 (1007), a reserved opcode (1002), too large (1009).
    seed(f"{role}_bad_utf8", flags | limits(1), [], frame(0x81, b"ok \xc0\xaf", key))
    seed(f"{role}_bad_opcode", flags | NO_AUTO_PONG, [(DELIVER_MANY, 20)],
         frame(0x89, b"p", key) + frame(0x83, b"", key))
    seed(f"{role}_too_large", flags | limits(2), [], frame(0x82, b"z" * 200, key))
    # Timeouts, EOF and abort in the states they matter.
    seed(f"{role}_close_timeout", flags, [(DELIVER_MANY, 15), (CLOSE, 0), (TAKE_ALL, 0), (EXPIRE, 0)],
         frame(0x81, b"late", key))
    seed(f"{role}_eof_closing", flags, [(DELIVER_MANY, 15), (CLOSE, 1), (EOF, 0)], frame(0x81, b"x", key))
    seed(f"{role}_handshake_timeout", flags, [(DELIVER, 10), (EXPIRE, 0), (ABORT, 0)], b"")
    seed(f"{role}_eof_open", flags, [], frame(0x82, b"part", key)[:4], EOF_AFTER)
    seed(f"{role}_abort_open", flags | write_size(0) | NO_AUTO_PONG,
         [(DELIVER_MANY, 15), (SEND_PING, 100), (ABORT, 0), (TAKE_ALL, 0)], frame(0x89, b"x", key))

# Raw handshakes: the fuzz bytes carry the peer's handshake message.
seed("server_raw_valid", SERVER | RAW | SUBPROTOCOL, deliver(40) + USER,
     REQUEST + b"Sec-WebSocket-Protocol: chat\r\n\r\n" + conversation(ZERO))
seed("server_raw_version8", SERVER | RAW, [], REQUEST.replace(b"Version: 13", b"Version: 8") + b"\r\n")
seed("server_raw_bytewise", SERVER | RAW, [(DELIVER, 0)] * 200, REQUEST + b"\r\n" + frame(0x81, b"hi", ZERO))
seed("server_raw_eof", SERVER | RAW, [(DELIVER, 30), (EOF, 0)], REQUEST)
seed("server_raw_small_read_buffer", SERVER | RAW, [], REQUEST + b"X-Pad: " + b"p" * 300 + b"\r\n\r\n", 1)
seed("client_raw_bad_accept", RAW,
     [(DELIVER_MANY, 255)],
     b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
     b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
seed("client_raw_403", RAW, [], b"HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope")
seed("client_raw_eof_body", RAW, [], b"HTTP/1.1 404 Not Found\r\n\r\nto the end", EOF_AFTER)
