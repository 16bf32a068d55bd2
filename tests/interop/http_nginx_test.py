"""tern's http_client against nginx (run as this user from a temp dir):
fixed, large (8 MiB) and chunked bodies over http and https, compared with
SHA-256 computed here; HEAD, 204 and 304 with empty bodies; 1000 requests
on one keep-alive connection, checked in nginx's access log ($connection,
$connection_requests); reconnection after "Connection: close" and when the
origin changes."""

import base64
import http.client
import os
import random
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

CLIENT = peers.binary("http_client")
FIXED = b"fixed body from nginx\n"

rng = random.Random(9112)
FILES = {
    "small.txt": b"tern interop\n" * 100,
    "large.bin": rng.randbytes(8 << 20),
    "chunked/small.html": b"<html><body>chunked by nginx's SSI filter</body></html>\n",
    # Base64 has no '<', so SSI finds no directive and passes the bytes through.
    "chunked/large.txt": base64.b64encode(rng.randbytes(6 << 20)),
}
BIG = ["--max-body", str(16 << 20)]


class NginxTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = peers.Pki(peers.scratch_dir("pki-"))
        cls.nginx = peers.Nginx(FILES, cls.pki)

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()

    def url(self, path, tls=False):
        return self.nginx.url(path, tls, tag=self.id().split(".")[-1])

    def log(self, expect):
        return self.nginx.requests(self.id().split(".")[-1], expect)

    def client(self, method, urls, extra=(), timeout=60):
        argv = [CLIENT, "--ca", self.pki.ca, *extra, method, *urls]
        rc, out, err, _ = peers.run(argv, timeout=timeout)
        return rc, out.splitlines(), err

    def ok(self, method, urls, extra=()):
        rc, lines, err = self.client(method, urls, extra)
        self.assertEqual(rc, 0, f"{lines[-3:]} {err}")
        self.assertEqual(len(lines), 3 * len(urls))
        return lines

    def expect(self, status, body):
        return [f"STATUS {status}"] + peers.expect_lines(body)

    def test_nginx_really_chunks(self):
        # The chunked cases are only meaningful if nginx sends chunked framing.
        c = http.client.HTTPConnection("127.0.0.1", self.nginx.port, timeout=10)
        for path in ("/chunked/small.html", "/chunked/large.txt"):
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            self.assertEqual(r.getheader("Transfer-Encoding"), "chunked", path)
            self.assertIsNone(r.getheader("Content-Length"), path)
            self.assertEqual(body, FILES[path[1:]])
        c.request("GET", "/fixed")
        r = c.getresponse()
        self.assertEqual((r.getheader("Content-Length"), r.read()), (str(len(FIXED)), FIXED))
        c.close()

    def bodies(self, tls):
        urls, want = [], []
        for path, body in [("/fixed", FIXED), ("/small.txt", FILES["small.txt"]),
                           ("/large.bin", FILES["large.bin"]),
                           ("/chunked/small.html", FILES["chunked/small.html"]),
                           ("/chunked/large.txt", FILES["chunked/large.txt"])]:
            urls.append(self.url(path, tls))
            want += self.expect(200, body)
        self.assertEqual(self.ok("GET", urls, BIG), want)
        log = self.log(5)
        self.assertEqual([s for _, _, s, _, _ in log], [200] * 5)
        self.assertEqual(len({c for c, _, _, _, _ in log}), 1, f"not one connection: {log}")

    def test_bodies_http(self):
        self.bodies(False)

    def test_bodies_https(self):
        self.bodies(True)

    def empty_bodies(self, tls):
        # RFC 9110 §9.3.2, §15.3.5, §15.4.5: no content after HEAD, 204, 304.
        lines = self.ok("HEAD", [self.url(p, tls) for p in ("/large.bin", "/chunked/large.txt", "/fixed")], BIG)
        self.assertEqual(lines, self.expect(200, b"") * 3)
        lines = self.ok("GET", [self.url(p, tls) for p in ("/nocontent", "/notmodified", "/fixed")])
        self.assertEqual(lines, self.expect(204, b"") + self.expect(304, b"") + self.expect(200, FIXED))

    def test_empty_bodies_http(self):
        self.empty_bodies(False)

    def test_empty_bodies_https(self):
        self.empty_bodies(True)

    def test_post_and_not_found(self):
        lines = self.ok("POST", [self.url("/fixed")])
        self.assertEqual(lines, self.expect(200, FIXED))
        c = http.client.HTTPConnection("127.0.0.1", self.nginx.port, timeout=10)
        c.request("GET", "/missing")
        page = c.getresponse().read()
        c.close()
        self.assertEqual(self.ok("GET", [self.url("/missing")]), self.expect(404, page))
        log = self.log(2)
        self.assertEqual([(m, s) for _, _, s, m, _ in log], [("POST", 200), ("GET", 404)])

    def keepalive(self, tls):
        paths = ["/fixed", "/small.txt", "/chunked/small.html", "/nocontent"]
        bodies = {"/fixed": (200, FIXED), "/small.txt": (200, FILES["small.txt"]),
                  "/chunked/small.html": (200, FILES["chunked/small.html"]), "/nocontent": (204, b"")}
        urls = [self.url(paths[i % 4], tls) for i in range(1000)]
        want = []
        for i in range(1000):
            want += self.expect(*bodies[paths[i % 4]])
        self.assertEqual(self.ok("GET", urls), want)
        log = self.log(1000)
        self.assertEqual(len(log), 1000)
        self.assertEqual(len({c for c, _, _, _, _ in log}), 1, "1000 requests were not on one connection")
        self.assertEqual([n for _, n, _, _, _ in log], list(range(1, 1001)))

    def test_keepalive_1000_http(self):
        self.keepalive(False)

    def test_keepalive_1000_https(self):
        self.keepalive(True)

    def test_reconnects_after_connection_close(self):
        # /close answers "Connection: close": the next request needs a new
        # connection, and the client must open one instead of failing.
        urls = [self.url(p) for p in ("/close", "/close", "/fixed", "/fixed")]
        lines = self.ok("GET", urls)
        self.assertEqual(lines, self.expect(200, b"closing\n") * 2 + self.expect(200, FIXED) * 2)
        conns = [c for c, _, _, _, _ in self.log(4)]
        self.assertEqual(len(set(conns[:3])), 3, conns)
        self.assertEqual(conns[2], conns[3], conns)

    def test_reconnects_when_origin_changes(self):
        urls = [self.url("/fixed", tls) for tls in (False, False, True, True, False)]
        self.assertEqual(self.ok("GET", urls), self.expect(200, FIXED) * 5)
        conns = [c for c, _, _, _, _ in self.log(5)]
        self.assertEqual(conns[0], conns[1])
        self.assertEqual(conns[2], conns[3])
        self.assertEqual(len({conns[0], conns[2], conns[4]}), 3, conns)

    def test_max_body(self):
        # Default --max-body is 1 MiB: the 8 MiB bodies are refused, whether
        # announced by Content-Length or found while de-chunking.
        for path in ("/large.bin", "/chunked/large.txt"):
            for tls in (False, True):
                rc, lines, _ = self.client("GET", [self.url("/fixed", tls), self.url(path, tls)])
                with self.subTest(path=path, tls=tls):
                    self.assertEqual(rc, 1)
                    self.assertEqual(lines[:3], self.expect(200, FIXED))
                    self.assertEqual(lines[3:], ["ERROR RESOURCE_EXHAUSTED: http: bad response: BodyTooLarge"])
        # A limit exactly at the body size passes.
        size = len(FILES["chunked/large.txt"])
        self.assertEqual(self.ok("GET", [self.url("/chunked/large.txt")], ["--max-body", str(size)]),
                         self.expect(200, FILES["chunked/large.txt"]))
        rc, lines, _ = self.client("GET", [self.url("/chunked/large.txt")], ["--max-body", str(size - 1)])
        self.assertEqual((rc, lines), (1, ["ERROR RESOURCE_EXHAUSTED: http: bad response: BodyTooLarge"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
