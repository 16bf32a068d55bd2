"""tern's ws_echo_client against real WebSocket servers: Python websockets
and Node ws, over ws:// and wss:// (test CA made at test time). The peer
drives each connection (see ws_peer.py / ws_peer.js) and reports a RESULT
line; the client must exit 0 after echoing the peer's close, and non-zero
with an ERROR line when the peer breaks the protocol or TLS fails."""

import base64
import hashlib
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

CLIENT = peers.binary("ws_echo_client")
NODE_ENV = {"NODE_PATH": peers.NODE_PATH}


def start_peer(kind, pki=None, cert="server"):
    script = os.path.join(peers.HERE, "ws_peer.py" if kind == "python" else "ws_peer.js")
    argv = [peers.PYTHON, script] if kind == "python" else [peers.NODE, script]
    argv.append("server")
    if pki:
        argv += ["--cert", pki.cert(cert), "--key", pki.key(cert)]
    p = peers.spawn(argv, env=NODE_ENV)
    return p, peers.wait_listening(p, timeout=30)


class TernClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = peers.Pki(peers.scratch_dir("pki-"))

    def drive(self, kind, tls, cases):
        """cases: [(path, expected client rc, expected ERROR substring)]."""
        server, port = start_peer(kind, self.pki if tls else None)
        try:
            for path, want_rc, want_error in cases:
                url = f"{'wss' if tls else 'ws'}://127.0.0.1:{port}/{path}"
                argv = [CLIENT, url, "--timeout", "20000"] + (["--ca", self.pki.ca] if tls else [])
                rc, out, err, secs = peers.run(argv, timeout=60)
                with self.subTest(peer=kind, url=url):
                    self.assertEqual(rc, want_rc, f"stdout={out!r} stderr={err!r}")
                    if want_error:
                        self.assertRegex(out, r"^ERROR ")
                        self.assertIn(want_error, out)
                    else:
                        self.assertEqual(out, "")
                    self.assertEqual(peers.read_line(server, 30), f"RESULT /{path} OK")
        finally:
            peers.stop(server)

    # Close codes: 1000, an application code with a reason (the client echoes
    # the code), and for Node a Close without status (echoed as empty: 1005).
    def test_python_ws(self):
        self.drive("python", False, [("full/1000", 0, None), ("short/4001", 0, None)])

    def test_python_wss(self):
        self.drive("python", True, [("full/4001", 0, None), ("short/1000", 0, None)])

    def test_node_ws(self):
        self.drive("node", False, [
            ("full/1000", 0, None), ("short/4001", 0, None), ("short/none", 0, None),
            # RFC 6455 §8.1: invalid UTF-8 fails the connection with 1007.
            ("badutf8/1000", 1, "INVALID_ARGUMENT: websocket protocol error: InvalidUtf8 (sent close 1007)"),
        ])

    def test_node_wss(self):
        self.drive("node", True, [("full/4002", 0, None), ("short/none", 0, None)])

    def test_connection_refused(self):
        rc, out, _, secs = peers.run([CLIENT, f"ws://127.0.0.1:{peers.free_port()}/"], timeout=20)
        self.assertEqual(rc, 1)
        self.assertRegex(out, r"^ERROR UNAVAILABLE: connect 127\.0\.0\.1:\d+: Connection refused\n$")

    def tls_failure(self, cert, want):
        server, port = start_peer("python", self.pki, cert=cert)
        try:
            rc, out, _, _ = peers.run([CLIENT, f"wss://127.0.0.1:{port}/short/1000", "--ca", self.pki.ca],
                                      timeout=20)
            self.assertEqual(rc, 1, out)
            self.assertTrue(out.startswith("ERROR PERMISSION_DENIED: tls " + want), out)
            self.assertEqual(out.count("\n"), 1, out)
        finally:
            peers.stop(server)

    def test_untrusted_certificate(self):
        self.tls_failure("untrusted", "UntrustedCertificate")

    def test_wrong_host_certificate(self):
        self.tls_failure("wronghost", "HostnameMismatch")

    def test_not_a_websocket_server(self):
        s = peers.RawServer(lambda sock: peers.read_request(sock) and sock.sendall(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
        try:
            rc, out, _, _ = peers.run([CLIENT, f"ws://127.0.0.1:{s.port}/feed"], timeout=20)
        finally:
            s.stop()
        self.assertEqual((rc, out), (1, "ERROR FAILED_PRECONDITION: websocket handshake: server answered 404 "
                                        "instead of 101\n"))

    def test_silent_server_times_out(self):
        # Completes the upgrade (RFC 6455 §4.2.2), then sends nothing.
        def handle(sock):
            head = peers.read_request(sock).decode()
            key = [l.split(":", 1)[1].strip() for l in head.split("\r\n")
                   if l.lower().startswith("sec-websocket-key:")][0]
            accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                      .digest()).decode()
            sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
            time.sleep(30)
        s = peers.RawServer(handle)
        try:
            rc, out, _, secs = peers.run([CLIENT, f"ws://127.0.0.1:{s.port}/", "--timeout", "300"], timeout=20)
        finally:
            s.stop()
        self.assertEqual((rc, out), (1, "ERROR DEADLINE_EXCEEDED: read timed out after 300ms\n"))
        self.assertLess(secs, 5)

    def test_usage(self):
        rc, out, err, _ = peers.run([CLIENT, "ws://127.0.0.1:1/", "--backend=nope"], timeout=10)
        self.assertEqual(rc, 2)
        self.assertIn('unknown backend "nope" (available: posix, epoll', err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
