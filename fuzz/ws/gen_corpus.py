#!/usr/bin/env python3
"""Writes the frame_reader_fuzz seed corpus from the frames the tests use.

Each seed: [flags][max_frame:2][max_message:2][k][k piece sizes][wire].
flags bit 0 = server role (frames masked), bits 1-3 = capacity index
(64, 128, 256, 1024, 4096, 65536, 128 KiB, 1 MiB). 0xFFFF = default limit.
Run from the repository root: python3 fuzz/ws/gen_corpus.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(__file__), "frame_reader_corpus")
KEY = bytes([0x37, 0xFA, 0x21, 0x3D])


def frame(b0, payload, masked=False, length_bytes=None):
    n = len(payload)
    if length_bytes is None:
        length_bytes = 0 if n < 126 else 2 if n < 65536 else 8
    m = 0x80 if masked else 0
    if length_bytes == 0:
        head = bytes([b0, m | n])
    elif length_bytes == 2:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if masked:
        payload = bytes(c ^ KEY[i % 4] for i, c in enumerate(payload))
        head += KEY
    return head + payload


def seed(name, wire, server=False, cap=4, max_frame=0xFFFF, max_msg=0xFFFF, pieces=(3, 1)):
    hdr = bytes([(1 if server else 0) | (cap << 1)]) + struct.pack(">HH", max_frame, max_msg)
    hdr += bytes([len(pieces)]) + bytes(p - 1 for p in pieces)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(hdr + wire)


def both(name, frames, **kw):
    """frames: list of (b0, payload[, length_bytes]); written for both roles."""
    for server in (False, True):
        wire = b"".join(frame(f[0], f[1], server, *f[2:]) for f in frames)
        seed(name + ("_server" if server else "_client"), wire, server=server, **kw)


os.makedirs(OUT, exist_ok=True)
# RFC 6455 §5.7 examples.
both("rfc_text_hello", [(0x81, b"Hello")])
both("rfc_fragmented", [(0x01, b"Hel"), (0x80, b"lo")])
both("rfc_ping_pong", [(0x89, b"Hello"), (0x8A, b"Hello")])
both("rfc_binary_256", [(0x82, bytes(range(256)))])
seed("rfc_binary_64k", frame(0x82, bytes(65536)), cap=6, pieces=(200, 7))
# Valid sequences from the tests.
both("controls_between_fragments",
     [(0x01, b"Hel"), (0x89, b"p1"), (0x00, b""), (0x8A, b"p2"),
      (0x80, "lo \u20ac".encode()), (0x82, b"x")])
both("close_reason", [(0x88, b"\x03\xe8bye \xc3\xa9")])
both("close_empty", [(0x88, b"")])
both("utf8_split", [(0x01, b"\xe2"), (0x00, b"\x82"), (0x80, b"\xac")])
both("limits_boundary", [(0x02, b"a" * 100), (0x80, b"b" * 50)], max_frame=100, max_msg=150)
# Error causes.
both("err_rsv", [(0xC1, b"x")])
both("err_opcode", [(0x83, b"")])
both("err_control_large", [(0x89, b"a" * 126)])
both("err_fragmented_control", [(0x09, b"a")])
both("err_unexpected_cont", [(0x80, b"a")])
both("err_expected_cont", [(0x01, b"a"), (0x81, b"b")])
both("err_nonminimal16", [(0x82, b"hello", 2)])
both("err_nonminimal64", [(0x82, b"hello", 8)])
seed("err_top_bit", bytes([0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1]))
both("err_close_1byte", [(0x88, b"\x03")])
both("err_close_code", [(0x88, b"\x03\xed")])
both("err_close_reason", [(0x88, b"\x03\xe8\xff")])
both("err_utf8", [(0x81, b"ab\xc0\xaf" + b"a" * 40)])
both("err_utf8_truncated", [(0x01, b"\xf0\x9f"), (0x80, b"\x98")])
both("err_frame_limit", [(0x82, b"a" * 101)], max_frame=100, max_msg=1000)
both("err_message_limit", [(0x02, b"a" * 60), (0x89, b""), (0x80, b"b" * 41)],
     max_frame=1000, max_msg=100)
both("err_buffer_small", [(0x02, b"a" * 60), (0x00, b"b" * 60), (0x80, b"c" * 10)], cap=1)
seed("err_mask_client", frame(0x81, b"hi", True), server=False)
seed("err_mask_server", frame(0x81, b"hi", False), server=True)
