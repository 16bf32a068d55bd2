"""Shared helpers for the interop tests: binaries, child processes, ports, a
test PKI made with the openssl CLI, and an nginx instance in a temp dir.

Every wait has a timeout, and every child is started in its own process
group and killed (SIGKILL to the group) when the test ends, however it ends.
"""

import atexit
import hashlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"  # Debian's, with python3-websockets
# Debian paths first: a non-root PATH often lacks /usr/sbin.
NODE = "/usr/bin/node" if os.path.exists("/usr/bin/node") else shutil.which("node") or "node"
NGINX = "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else shutil.which("nginx") or "nginx"
NODE_PATH = "/usr/share/nodejs"


# The backend the tern programs run on (--backend), set per Bazel target by
# run_py.sh: the same scenarios run on every backend.
BACKEND = os.environ.get("TERN_BACKEND", "posix")
TERN_PROGRAMS = ("ws_echo_client", "ws_echo_server", "http_client")


def _with_backend(argv):
    """Adds --backend=BACKEND to a tern program's command line unless the
    test names one itself (the usage tests do)."""
    argv = list(argv)
    if (argv and os.path.dirname(argv[0]) == HERE and os.path.basename(argv[0]) in TERN_PROGRAMS
            and not any(str(a).startswith("--backend") for a in argv[1:])):
        argv.insert(1, "--backend=" + BACKEND)
    return argv


def binary(name):
    """Path of an interop program built by Bazel (a data dependency)."""
    path = os.path.join(HERE, name)
    if not os.path.exists(path):
        raise RuntimeError(f"missing {path}: add it to the test's data")
    return path


def scratch_dir(prefix):
    base = os.environ.get("TEST_TMPDIR") or tempfile.gettempdir()
    return tempfile.mkdtemp(prefix=prefix, dir=base)


# ---------------------------------------------------------------- children

_children = []


def _kill_all():
    for p in list(_children):
        stop(p)


atexit.register(_kill_all)


def _on_signal(signum, _frame):
    _kill_all()
    os._exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def spawn(argv, env=None, stdout=subprocess.PIPE, stderr=None, cwd=None):
    """Starts a child in its own process group; stop() or exit kills it."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    p = subprocess.Popen(_with_backend(argv), stdout=stdout, stderr=stderr, env=full_env, cwd=cwd,
                         start_new_session=True)
    _children.append(p)
    return p


def stop(p, grace=1.0):
    """SIGTERM, then SIGKILL to the whole group after `grace` seconds."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    for f in (p.stdout, p.stderr):
        if f:
            f.close()
    if p in _children:
        _children.remove(p)


def read_line(p, timeout):
    """One line of p's stdout (bytes decoded), or raises after `timeout`."""
    deadline = time.monotonic() + timeout
    buf = b""
    fd = p.stdout.fileno()
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no line from {p.args[0]} within {timeout}s (got {buf!r})")
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        b = os.read(fd, 1)  # byte by byte: leave the rest in the pipe
        if not b:
            raise RuntimeError(f"{p.args[0]} exited (rc={p.poll()}) before a line, got {buf!r}")
        buf += b
    return buf.decode().rstrip("\n")


def wait_listening(p, timeout=10):
    """Reads "listening on PORT" from a server's stdout; returns PORT."""
    line = read_line(p, timeout)
    if not line.startswith("listening on "):
        raise RuntimeError(f"unexpected first line from {p.args[0]}: {line!r}")
    return int(line.split()[-1])


def run(argv, timeout=30, env=None):
    """Runs a program to completion; returns (rc, stdout, stderr, seconds)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    t0 = time.monotonic()
    p = subprocess.Popen(_with_backend(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env,
                         start_new_session=True)
    _children.append(p)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(p)
        raise AssertionError(f"{argv[0]} did not finish within {timeout}s: {argv}")
    _children.remove(p)
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), time.monotonic() - t0


# ---------------------------------------------------------------- ports

def free_port():
    """A port nothing listens on right now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10, host="127.0.0.1", proc=None):
    """Waits until something accepts on host:port; fails early if `proc`
    (the server expected to listen there) has exited."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")
            time.sleep(0.02)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def expect_lines(body):
    """The http_client lines for one successful response with this body."""
    return [f"BODY-SHA256 {sha256(body)}", f"BODY-LEN {len(body)}"]


# ---------------------------------------------------------------- PKI

def _openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {r.stderr.decode()}")


class Pki:
    """A throwaway PKI (EC P-256, 2 days) generated into `dir` at test time:
      ca.pem                 the test CA the clients trust (--ca)
      server.pem/.key        localhost + 127.0.0.1, signed by the CA
      wronghost.pem/.key     wrong.example only, signed by the CA
      untrusted.pem/.key     localhost + 127.0.0.1, signed by another CA
    """

    def __init__(self, dir):
        self.dir = dir
        self._ca("ca", "tern interop test CA")
        self._ca("otherca", "tern interop untrusted CA")
        self._leaf("server", "ca", "localhost", "DNS:localhost,IP:127.0.0.1")
        self._leaf("wronghost", "ca", "wrong.example", "DNS:wrong.example")
        self._leaf("untrusted", "otherca", "localhost", "DNS:localhost,IP:127.0.0.1")

    def path(self, name):
        return os.path.join(self.dir, name)

    @property
    def ca(self):
        return self.path("ca.pem")

    def cert(self, name):
        return self.path(name + ".pem")

    def key(self, name):
        return self.path(name + ".key")

    def _ca(self, name, cn):
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
                 "-subj", "/CN=" + cn,
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)

    def _leaf(self, name, ca, cn, san):
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w") as f:
            f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn, cwd=self.dir)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                 "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", ext, cwd=self.dir)


# ---------------------------------------------------------------- nginx

NGINX_CONF = """\
{user}
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    log_format tern '$connection $connection_requests $status $request_method $uri $arg_tag';
    access_log {dir}/access.log tern;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    types {{ text/plain txt; text/html html; application/octet-stream bin; }}
    default_type application/octet-stream;
    keepalive_requests 100000;
    keepalive_timeout 60s;
    server {{
        listen 127.0.0.1:{port};
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {dir}/www;
        location = /fixed {{ return 200 "fixed body from nginx\\n"; }}
        location = /nocontent {{ return 204; }}
        location = /notmodified {{ return 304; }}
        # keepalive_timeout 0 makes nginx answer with "Connection: close".
        location = /close {{ keepalive_timeout 0; return 200 "closing\\n"; }}
        # SSI drops the Content-Length of static files, so HTTP/1.1
        # responses from here are sent with Transfer-Encoding: chunked.
        location /chunked/ {{ ssi on; ssi_types *; }}
    }}
}}
"""


class Nginx:
    """nginx on 127.0.0.1 (plain `port`, TLS `tls_port`) serving `files`
    (name -> bytes, under /; names may include "chunked/...")."""

    def __init__(self, files, pki, timeout=10):
        self.dir = scratch_dir("nginx-")
        os.makedirs(os.path.join(self.dir, "tmp"))
        for name, data in files.items():
            path = os.path.join(self.dir, "www", name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        self.pki = pki
        # free_port() can race with another process taking the port before
        # nginx binds it: try a few times.
        for attempt in range(3):
            try:
                self._start(timeout)
                return
            except RuntimeError:
                if attempt == 2:
                    raise

    def _start(self, timeout):
        self.port = free_port()
        self.tls_port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(
                # As root nginx would switch to "nobody", who cannot read the
                # temp dir; as anyone else "user" only draws a warning.
                user="user root;" if os.geteuid() == 0 else "",
                dir=self.dir, port=self.port, tls_port=self.tls_port,
                cert=self.pki.cert("server"), key=self.pki.key("server")))
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = spawn([NGINX, "-p", self.dir, "-c", conf, "-e", "stderr"],
                          stdout=subprocess.DEVNULL, stderr=self._stderr)
        try:
            wait_port(self.port, timeout, proc=self.proc)
            wait_port(self.tls_port, timeout, proc=self.proc)
        except Exception:
            self.stop()
            raise RuntimeError("nginx did not start: " + open(self.stderr_path).read())

    def url(self, path, tls=False, tag=None):
        """The URL of `path`; with a tag, "?tag=TAG" marks the request so
        requests(TAG) finds its access-log line."""
        base = f"https://127.0.0.1:{self.tls_port}" if tls else f"http://127.0.0.1:{self.port}"
        return base + path + (f"?tag={tag}" if tag else "")

    def requests(self, tag, expect, timeout=5.0):
        """Access-log lines of the requests tagged `tag`, in order, as
        [(connection, connection_requests, status, method, uri)]; polls until
        there are `expect` of them (nginx logs just after responding)."""
        path = os.path.join(self.dir, "access.log")
        deadline = time.monotonic() + timeout
        while True:
            with open(path, "rb") as f:
                lines = f.read().decode().split("\n")[:-1]
            out = []
            for line in lines:
                c, n, status, method, uri, t = line.split(" ")
                if t == tag:
                    out.append((int(c), int(n), int(status), method, uri))
            if len(out) >= expect or time.monotonic() > deadline:
                return out
            time.sleep(0.02)

    def stop(self):
        stop(self.proc)
        self._stderr.close()


# ---------------------------------------------------------------- raw servers

class RawServer:
    """A tiny TCP server on 127.0.0.1 for fault cases: each connection is
    handed to handler(sock) on a thread (optionally after a TLS handshake
    with `tls_cert`/`tls_key`; a failed handshake is recorded in
    `tls_errors`). stop() closes everything."""

    def __init__(self, handler, tls_cert=None, tls_key=None):
        import ssl
        import threading
        self.handler = handler
        self.tls_errors = []
        self.ctx = None
        if tls_cert:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(tls_cert, tls_key)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        import threading
        while not self.stopping.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c.settimeout(10)
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            if self.ctx:
                try:
                    c = self.ctx.wrap_socket(c, server_side=True)
                except (OSError, ValueError) as e:
                    self.tls_errors.append(str(e))
                    return
            self.handler(c)
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def stop(self):
        self.stopping.set()
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.thread.join(timeout=2)


def read_request(sock, timeout=10):
    """Reads one request head (to the blank line); returns it, or b"" on EOF."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return b""
        data += chunk
    return data
