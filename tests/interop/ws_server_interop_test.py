"""Real WebSocket clients (Python websockets, Node ws) against tern's
ws_echo_server, over ws:// and wss:// (test CA made at test time). Each
client runs a scenario (see ws_peer.py / ws_peer.js): text, binary, 0 B to
16 MiB, fragments, ping/pong, then a close whose code the server must echo."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

SERVER = peers.binary("ws_echo_server")
NODE_ENV = {"NODE_PATH": peers.NODE_PATH}


def peer_client(kind, url, ca, scenario, close):
    script = os.path.join(peers.HERE, "ws_peer.py" if kind == "python" else "ws_peer.js")
    argv = [peers.PYTHON if kind == "python" else peers.NODE, script, "client", url,
            "--scenario", scenario, "--close", close]
    if ca:
        argv += ["--ca", ca]
    return peers.run(argv, timeout=60, env=NODE_ENV)


class TernServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = peers.Pki(peers.scratch_dir("pki-"))
        cls.servers = {}
        for tls in (False, True):
            argv = [SERVER, "--port", "0"]
            if tls:
                argv += ["--tls-cert", cls.pki.cert("server"), "--tls-key", cls.pki.key("server")]
            p = peers.spawn(argv)
            cls.servers[tls] = (p, peers.wait_listening(p, timeout=10))

    @classmethod
    def tearDownClass(cls):
        for p, _ in cls.servers.values():
            peers.stop(p)

    def drive(self, kind, tls, cases):
        _, port = self.servers[tls]
        scheme = "wss" if tls else "ws"
        for scenario, close in cases:
            # "localhost" on wss checks the DNS name in the certificate.
            url = f"{scheme}://{'localhost' if tls else '127.0.0.1'}:{port}/echo"
            rc, out, err, _ = peer_client(kind, url, self.pki.ca if tls else None, scenario, close)
            with self.subTest(peer=kind, url=url, scenario=scenario, close=close):
                self.assertEqual((rc, out), (0, "OK\n"), err)

    def test_python_ws(self):
        self.drive("python", False, [("full", "1000"), ("short", "4001")])

    def test_python_wss(self):
        self.drive("python", True, [("full", "4001"), ("short", "1000")])

    def test_node_ws(self):
        # badutf8: the server must fail the connection with 1007 (RFC 6455 §8.1).
        self.drive("node", False, [("full", "1000"), ("short", "4001"), ("short", "none"), ("badutf8", "1000")])

    def test_node_wss(self):
        self.drive("node", True, [("full", "4002"), ("short", "none")])

    def test_concurrent_clients(self):
        # One thread per client: several at once, mixed peers.
        _, port = self.servers[False]
        url = f"ws://127.0.0.1:{port}/echo"
        procs = []
        for i in range(6):
            kind = "python" if i % 2 else "node"
            script = os.path.join(peers.HERE, "ws_peer.py" if kind == "python" else "ws_peer.js")
            argv = [peers.PYTHON if kind == "python" else peers.NODE, script, "client", url,
                    "--scenario", "short", "--close", str(4000 + i)]
            procs.append(peers.spawn(argv, env=NODE_ENV))
        for p in procs:
            try:
                out, _ = p.communicate(timeout=60)
            finally:
                peers.stop(p)
            self.assertEqual((p.returncode, out), (0, b"OK\n"))

    def test_port_in_use(self):
        _, port = self.servers[False]
        rc, out, _, _ = peers.run([SERVER, "--port", str(port)], timeout=10)
        self.assertEqual(rc, 1)
        self.assertTrue(out.startswith("ERROR "), out)
        self.assertIn("Address already in use", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
