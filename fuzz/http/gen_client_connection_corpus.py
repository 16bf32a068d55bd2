#!/usr/bin/env python3
"""Writes the seed corpus of fuzz/http:client_connection_fuzz.

Input: [config][action count][actions: (op, arg) pairs][response bytes]
(see client_connection_fuzz.cc). Run from the repository root:
python3 fuzz/http/gen_client_connection_corpus.py
"""
import os

HERE = os.path.dirname(__file__)

# ops
QUEUE, DELIVER, NEXT, CONSUME, EOF, ABORT, WRITE, READ_SPACE = range(8)
# queue args: index into kRequests; | 0x80 queues a span
GET, HEAD, POST, PUT, DELETE, OPTIONS, CONNECT, PATCH, FOO, NO_SP, LEAD_SP, EMPTY = range(12)
SPAN = 0x80
DRAIN = 2  # next() arg bit: call until not Complete


def config(read=3, write=3, limits_a=0, limits_b=0):
    return read | write << 2 | limits_a << 4 | limits_b << 6


def seed(cfg, actions, responses):
    out = bytes([cfg, len(actions)])
    for op, arg in actions:
        out += bytes([op, arg])
    return out + responses


HELLO = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\n")
SEEDS = [
    # one GET, whole
    seed(config(), [(QUEUE, GET), (CONSUME, 255), (DELIVER, 255), (NEXT, DRAIN)], HELLO),
    # GET, HEAD, POST pipelined, three responses in one read
    seed(config(), [(QUEUE, GET), (QUEUE, HEAD), (QUEUE, POST), (CONSUME, 10), (CONSUME, 255),
                    (DELIVER, 255), (DELIVER, 255), (NEXT, DRAIN), (NEXT, 1)],
         HELLO + b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n" + CHUNKED),
    # interim responses, chunked, a 128-byte read buffer, trickled
    seed(config(read=0), [(QUEUE, POST)] + [(DELIVER, 9), (NEXT, 0), (READ_SPACE, 0)] * 20,
         b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n" + CHUNKED),
    # Connection: close, then a request after it and one behind it
    seed(config(), [(QUEUE, GET), (QUEUE, GET), (DELIVER, 255), (NEXT, DRAIN), (QUEUE, GET),
                    (QUEUE, SPAN | GET), (NEXT, 0)],
         b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"),
    # close-delimited body, EOF
    seed(config(), [(QUEUE, GET), (DELIVER, 255), (NEXT, 0), (EOF, 0), (NEXT, 0), (QUEUE, GET)],
         b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nuntil the close"),
    # 101 with frames after it
    seed(config(), [(QUEUE, GET), (QUEUE, GET), (DELIVER, 255), (NEXT, DRAIN), (NEXT, 0)],
         b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
         b"\x81\x02hi"),
    # partial output, unqueued bytes, abort mid-response
    seed(config(), [(QUEUE, GET), (QUEUE, DELETE), (CONSUME, 5), (CONSUME, 20), (WRITE, 10),
                    (QUEUE, GET), (DELIVER, 30), (NEXT, 0), (ABORT, 0), (NEXT, 1)], HELLO),
    # 33 requests: TooManyInFlight, then all answered
    seed(config(), [(QUEUE, GET)] * 33 + [(CONSUME, 255)] * 8 + [(DELIVER, 255), (NEXT, DRAIN)] * 8,
         HELLO * 32),
    # a malformed response
    seed(config(), [(QUEUE, GET), (QUEUE, GET), (DELIVER, 255), (NEXT, 0), (NEXT, 1)],
         b"HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello"),
    # bytes with nothing in flight
    seed(config(), [(DELIVER, 255), (NEXT, 0), (QUEUE, GET)], HELLO),
    # HEAD with Content-Length, small reader limits on one reader
    seed(config(limits_a=1), [(QUEUE, HEAD), (QUEUE, GET), (DELIVER, 255), (NEXT, 0), (NEXT, 1),
                              (NEXT, 0)],
         b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + HELLO),
    # every queue refusal, both forms
    seed(config(write=1), [(QUEUE, NO_SP), (QUEUE, LEAD_SP), (QUEUE, EMPTY), (QUEUE, SPAN | EMPTY),
                           (QUEUE, SPAN | NO_SP), (WRITE, 5), (QUEUE, SPAN | HEAD),
                           (QUEUE, POST), (QUEUE, POST), (QUEUE, POST), (CONSUME, 3),
                           (QUEUE, SPAN | PATCH)], b""),
    # a 2xx to CONNECT, then tunnel bytes
    seed(config(), [(QUEUE, CONNECT), (DELIVER, 255), (NEXT, 0), (QUEUE, GET), (NEXT, 0)],
         b"HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03\x01\x00\x05hello"),
    # HTTP/1.0 with keep-alive, then without; EOF while idle
    seed(config(read=1), [(QUEUE, GET), (QUEUE, OPTIONS), (DELIVER, 255), (NEXT, DRAIN),
                          (EOF, 0), (QUEUE, FOO)],
         b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"
         b"HTTP/1.0 204 No Content\r\n\r\n"),
    # EOF mid-response
    seed(config(), [(QUEUE, PUT), (DELIVER, 20), (NEXT, 0), (EOF, 0), (NEXT, 1)], HELLO),
]


def main():
    d = os.path.join(HERE, "client_connection_corpus")
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    for i, s in enumerate(SEEDS):
        with open(os.path.join(d, "seed_%02d" % i), "wb") as f:
            f.write(s)


if __name__ == "__main__":
    main()
