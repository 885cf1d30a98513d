"""A local RFC 3161 time-stamping authority for the demo (``openssl ts`` over HTTP)."""

from __future__ import annotations

import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from backend.demo.common import DemoError

__all__ = ["LocalTsa"]

_TSA_CONF = """\
[ tsa ]
default_tsa = demo_tsa

[ demo_tsa ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.57264.1.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""

_TSA_EXT = """\
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


class LocalTsa:
    """The demo's time-stamping authority: a CA and a TSA certificate made once with the
    openssl CLI in ``directory``, answering RFC 3161 requests over HTTP on 127.0.0.1.

    A demo stand-in for a public TSA: the same tokens ``openssl ts -verify`` checks, signed
    by a local root the package carries (a court pins its own with ``--tsa-cert``).
    """

    def __init__(self, directory: Path) -> None:
        self.dir = directory.resolve()
        self.chain_pem = self.dir / "chain.pem"
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self.url = ""

    def _openssl(self, *args: str, data: bytes | None = None) -> bytes:
        done = subprocess.run(["openssl", *args], cwd=self.dir, input=data,
                              capture_output=True, check=False)
        if done.returncode != 0:
            raise DemoError(f"openssl {args[0]} failed: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def ensure_authority(self) -> None:
        if self.chain_pem.is_file() and (self.dir / "tsa.key").is_file():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        self._openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days",
                      "3650", "-subj", "/CN=chainarb demo time-stamping root CA",
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self._openssl("req", *ec, "-keyout", "tsa.key", "-out", "tsa.csr",
                      "-subj", "/CN=chainarb demo TSA")
        (self.dir / "tsa_ext.cnf").write_text(_TSA_EXT)
        self._openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                      "-CAcreateserial", "-out", "tsa.pem", "-days", "3650",
                      "-extfile", "tsa_ext.cnf")
        (self.dir / "serial").write_text("01\n")
        (self.dir / "tsa.cnf").write_text(_TSA_CONF.format(dir=self.dir))
        tmp = self.chain_pem.with_suffix(".tmp")
        tmp.write_text((self.dir / "tsa.pem").read_text() + (self.dir / "ca.pem").read_text())
        os.replace(tmp, self.chain_pem)

    def reply(self, query: bytes) -> bytes:
        with self._lock:  # openssl ts increments the serial file
            q = self.dir / f"q{threading.get_ident()}.tsq"
            q.write_bytes(query)
            try:
                return self._openssl("ts", "-reply", "-config", "tsa.cnf", "-queryfile",
                                     q.name, "-out", "-")
            finally:
                q.unlink(missing_ok=True)

    def start(self) -> str:
        self.ensure_authority()
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                if length <= 0 or length > 64 * 1024:
                    self.send_error(400, "expected a timestamp query")
                    return
                try:
                    body = tsa.reply(self.rfile.read(length))
                except DemoError as exc:
                    self.send_error(500, str(exc)[:200])
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="demo-tsa",
                         daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

