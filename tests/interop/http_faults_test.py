"""Fault cases for tern's http_client, each against a tiny real server on
loopback (raw sockets, Python's ssl for TLS): the server closes or resets
mid-response, never answers, refuses the connection, sends garbage or too
large a body, or presents a wrong-host or untrusted certificate. Each must
end in one precise "ERROR <reason>" line and exit 1, well within the time
bounds (never a hang). Plus the edge cases a keep-alive client must get
right: 1xx skipped, a close-delimited body, reconnecting after it; and what
RFC 9110/9112 ask a user agent to accept, with the default limits: large
fields, a hundred fields, status codes outside 100..599, obs-fold."""

import os
import socket
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

CLIENT = peers.binary("http_client")


def responder(*replies, then_close=True, linger_reset=False):
    """A handler that answers each request with the next reply (bytes)."""
    def handle(sock):
        for reply in replies:
            if not peers.read_request(sock):
                return
            sock.sendall(reply)
        if linger_reset:
            # SO_LINGER 0: close() sends RST instead of FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if not then_close:
            time.sleep(30)
    return handle


class FaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = peers.Pki(peers.scratch_dir("pki-"))

    def setUp(self):
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()

    def serve(self, handler, **kw):
        s = peers.RawServer(handler, **kw)
        self.servers.append(s)
        return s

    def client(self, *args, timeout=20):
        rc, out, err, secs = peers.run([CLIENT, *args], timeout=timeout)
        return rc, out.splitlines(), secs

    def fails(self, args, error, secs_max=10):
        rc, lines, secs = self.client(*args)
        self.assertEqual(rc, 1, lines)
        self.assertTrue(lines and lines[-1].startswith("ERROR "), lines)
        if hasattr(error, "match"):
            self.assertRegex(lines[-1], error)
        else:
            self.assertEqual(lines[-1], error)
        self.assertLess(secs, secs_max)
        return lines

    def url(self, server, path="/", scheme="http"):
        return f"{scheme}://127.0.0.1:{server.port}{path}"

    # ------------------------------------------------------------ closes

    def test_server_closes_mid_body(self):
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"))
        self.fails(["GET", self.url(s)],
                   "ERROR UNAVAILABLE: http: bad response: UnexpectedEof (server closed mid-response)")

    def test_server_closes_mid_chunk(self):
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123"))
        self.fails(["GET", self.url(s)],
                   "ERROR UNAVAILABLE: http: bad response: UnexpectedEof (server closed mid-response)")

    def test_server_closes_mid_head(self):
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nContent-Le"))
        self.fails(["GET", self.url(s)],
                   "ERROR UNAVAILABLE: http: bad response: UnexpectedEof (server closed mid-response)")

    def test_server_closes_without_answering(self):
        s = self.serve(responder(b""))
        self.fails(["GET", self.url(s)],
                   "ERROR UNAVAILABLE: http: bad response: UnexpectedEof (server closed mid-response)")

    def test_server_resets_mid_body(self):
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n01234", linger_reset=True))
        self.fails(["GET", self.url(s)], "ERROR UNAVAILABLE: read: Connection reset by peer")

    def test_keepalive_connection_closed_between_requests(self):
        # The server answers once (keep-alive) and then closes. The client
        # does not retry (it cannot know the request was not processed): the
        # second request fails with a precise error, after the first result.
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        lines = self.fails(["GET", self.url(s, "/a"), self.url(s, "/b")],
                           peers_re(r"^ERROR UNAVAILABLE: (http: bad response: UnexpectedEof \(server closed "
                                    r"mid-response\)|read: Connection reset by peer|write: Broken pipe)$"))
        self.assertEqual(lines[:3], ["STATUS 200"] + peers.expect_lines(b"ok"))

    # ------------------------------------------------------------ timeouts

    def test_server_never_answers(self):
        s = self.serve(responder(then_close=False))
        t0 = time.monotonic()
        self.fails(["--timeout", "300", "GET", self.url(s)], "ERROR DEADLINE_EXCEEDED: read timed out after 300ms",
                   secs_max=5)
        self.assertGreater(time.monotonic() - t0, 0.29)

    def test_server_stops_mid_body(self):
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n01234", then_close=False))
        self.fails(["--timeout", "300", "GET", self.url(s)], "ERROR DEADLINE_EXCEEDED: read timed out after 300ms",
                   secs_max=5)

    def test_tls_server_never_handshakes(self):
        s = self.serve(lambda sock: time.sleep(30))  # plain TCP, silent
        self.fails(["--timeout", "300", "--ca", self.pki.ca, "GET", self.url(s, scheme="https")],
                   "ERROR DEADLINE_EXCEEDED: read timed out after 300ms", secs_max=5)

    def test_connection_refused(self):
        port = peers.free_port()
        self.fails(["GET", f"http://127.0.0.1:{port}/"],
                   f"ERROR UNAVAILABLE: connect 127.0.0.1:{port}: Connection refused")

    # ------------------------------------------------------------ bad responses

    def test_malformed_status_line(self):
        s = self.serve(responder(b"HTTP/1.1 abc OK\r\n\r\n"))
        self.fails(["GET", self.url(s)], peers_re(r"^ERROR INVALID_ARGUMENT: http: bad response: \w+$"))

    def test_not_http(self):
        s = self.serve(responder(b"SSH-2.0-OpenSSH_9.2\r\n"))
        self.fails(["GET", self.url(s)], peers_re(r"^ERROR INVALID_ARGUMENT: http: bad response: \w+$"))

    def test_body_over_max_body(self):
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n" + b"x" * 1001))
        self.fails(["--max-body", "1000", "GET", self.url(s)],
                   "ERROR RESOURCE_EXHAUSTED: http: bad response: BodyTooLarge")

    def test_close_delimited_body_over_max_body(self):
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 5000))
        self.fails(["--max-body", "1000", "GET", self.url(s)],
                   "ERROR RESOURCE_EXHAUSTED: http: bad response: BodyTooLarge")

    # ------------------------------------------------------------ TLS

    def tls_fails(self, cert, error):
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
                       tls_cert=self.pki.cert(cert), tls_key=self.pki.key(cert))
        self.fails(["--ca", self.pki.ca, "GET", self.url(s, scheme="https")], error)

    def test_tls_untrusted_certificate(self):
        self.tls_fails("untrusted",
                       peers_re(r"^ERROR PERMISSION_DENIED: tls UntrustedCertificate: .*unable to get local issuer"))

    def test_tls_wrong_host(self):
        self.tls_fails("wronghost", peers_re(r"^ERROR PERMISSION_DENIED: tls HostnameMismatch: "))

    def test_tls_without_ca_uses_system_store(self):
        # Without --ca the test CA is unknown: the system store rejects it.
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
                       tls_cert=self.pki.cert("server"), tls_key=self.pki.key("server"))
        self.fails(["GET", self.url(s, scheme="https")], peers_re(r"^ERROR PERMISSION_DENIED: tls UntrustedCertificate"))

    def test_tls_good_certificate(self):
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
                       tls_cert=self.pki.cert("server"), tls_key=self.pki.key("server"))
        rc, lines, _ = self.client("--ca", self.pki.ca, "GET", self.url(s, scheme="https"),
                                   f"https://localhost:{s.port}/")
        self.assertEqual((rc, lines), (0, (["STATUS 200"] + peers.expect_lines(b"ok")) * 2))

    # ------------------------------------------------------------ edge cases that must work

    def test_interim_responses_skipped(self):
        s = self.serve(responder(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                                 b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"))
        rc, lines, _ = self.client("POST", self.url(s))
        self.assertEqual((rc, lines), (0, ["STATUS 201"] + peers.expect_lines(b"ok")))

    def test_close_delimited_body_then_reconnect(self):
        body = b"until the connection closes " * 100
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\n\r\n" + body))
        rc, lines, _ = self.client("GET", self.url(s, "/a"), self.url(s, "/b"))
        self.assertEqual((rc, lines), (0, (["STATUS 200"] + peers.expect_lines(body)) * 2))
        self.assertEqual(len(s.conns), 2)

    def test_exits_without_waiting_for_close(self):
        # Keep-alive response and the server keeps the connection open: the
        # client is done after the last body, not after a timeout.
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", then_close=False))
        rc, lines, secs = self.client("--timeout", "20000", "GET", self.url(s))
        self.assertEqual((rc, lines), (0, ["STATUS 200"] + peers.expect_lines(b"ok")))
        self.assertLess(secs, 5)

    # ------------------------------------------------------------ what RFC 9110/9112 ask a user agent to accept
    # With http_client's defaults (Limits{} but --max-body): legal but
    # unusual responses real servers send.

    def test_large_fields_accepted(self):
        # An 8 KiB cookie and a 16 KiB CSP header: 24 KiB of head.
        cookie = b"session=" + b"c" * (8 * 1024 - 8)
        csp = b"default-src 'self'; " + b"s" * (16 * 1024 - 20)
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nSet-Cookie: " + cookie + b"\r\nContent-Security-Policy: "
                                 + csp + b"\r\nContent-Length: 2\r\n\r\nok"))
        rc, lines, _ = self.client("GET", self.url(s))
        self.assertEqual((rc, lines), (0, ["STATUS 200"] + peers.expect_lines(b"ok")))

    def test_hundred_fields_accepted(self):
        fields = b"".join(b"X-Field-%d: value %d\r\n" % (i, i) for i in range(100))
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\n" + fields + b"Content-Length: 2\r\n\r\nok"))
        rc, lines, _ = self.client("GET", self.url(s))
        self.assertEqual((rc, lines), (0, ["STATUS 200"] + peers.expect_lines(b"ok")))

    def test_head_over_the_default_limit_fails(self):
        # The defaults still bound the head: 70 KiB > 64 KiB.
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nX: " + b"v" * (70 * 1024) + b"\r\nContent-Length: 0\r\n\r\n"))
        self.fails(["GET", self.url(s)], "ERROR RESOURCE_EXHAUSTED: http: bad response: HeaderTooLarge")

    def test_status_outside_100_599_is_reported_and_framed_as_5xx(self):
        # RFC 9110 §15: processed as a 5xx, i.e. a final response with its
        # content; the keep-alive connection then carries the next request.
        s = self.serve(responder(b"HTTP/1.1 600 Odd\r\nContent-Length: 3\r\n\r\nodd",
                                 b"HTTP/1.1 099\r\nContent-Length: 2\r\n\r\nok",
                                 b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        rc, lines, _ = self.client("GET", self.url(s, "/a"), self.url(s, "/b"), self.url(s, "/c"))
        self.assertEqual((rc, lines), (0, ["STATUS 600"] + peers.expect_lines(b"odd") + ["STATUS 99"]
                                       + peers.expect_lines(b"ok") + ["STATUS 200"] + peers.expect_lines(b"ok")))
        self.assertEqual(len(s.conns), 1)

    def test_obs_fold_unfolded(self):
        # RFC 9112 §5.2: each obs-fold becomes SP before the value is read;
        # here the folded Content-Length frames the body, and a folded
        # trailer follows a chunked one.
        s = self.serve(responder(b"HTTP/1.1 200 OK\r\nX-Folded: part one,\r\n\tpart two\r\n"
                                 b"Content-Length:\r\n 5\r\n\r\nhello",
                                 b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 b"5\r\nworld\r\n0\r\nX-Trailer: a\r\n b\r\n\r\n"))
        rc, lines, _ = self.client("GET", self.url(s, "/a"), self.url(s, "/b"))
        self.assertEqual((rc, lines), (0, ["STATUS 200"] + peers.expect_lines(b"hello")
                                       + ["STATUS 200"] + peers.expect_lines(b"world")))
        self.assertEqual(len(s.conns), 1)

    def test_usage_errors(self):
        for args, msg in [(["GET"], "expected METHOD and at least one URL"),
                          (["FETCH", "http://x/"], 'unsupported method "FETCH"'),
                          (["--backend=nope", "GET", "http://x/"], 'unknown backend "nope" (available: posix, epoll'),
                          (["--max-body", "lots", "GET", "http://x/"], "--max-body"),
                          (["--nope", "GET", "http://x/"], "unknown flag --nope")]:
            rc, out, err, _ = peers.run([CLIENT, *args], timeout=10)
            with self.subTest(args=args):
                self.assertEqual(rc, 2)
                self.assertIn(msg, err)
        rc, out, err, _ = peers.run([CLIENT, "GET", "ws://127.0.0.1/"], timeout=10)
        self.assertEqual((rc, out), (1, 'ERROR INVALID_ARGUMENT: not an http(s) URL: "ws://127.0.0.1/"\n'))


def peers_re(pattern):
    import re
    return re.compile(pattern)


if __name__ == "__main__":
    unittest.main(verbosity=2)
