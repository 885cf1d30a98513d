"""A local RFC 3161 time-stamping authority: ``openssl ts -reply`` behind HTTP on 127.0.0.1.

Why here and not in the demo: the demo stamps its anchored roots with it (a stand-in for a
public TSA), and the tests use the very same authority (tests/support/tsa.py), so the
openssl configuration and the certificates are made in one place. The tokens are the ones
``openssl ts -verify`` checks, signed by a local root (a court pins its own with
``--tsa-cert``).

The authority is made once in its directory (root CA, optionally an intermediate CA, the
TSA certificate with extended key usage critical timeStamping) and reused by later runs.
"""

from __future__ import annotations

import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

__all__ = ["LocalTsa", "LocalTsaError"]

MAX_QUERY = 64 * 1024

_SECTION = """\
[ {name} ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.57264.1.1
digests = {digests}
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""

# chainarb asks for SHA-256 imprints only, so a section that accepts nothing but SHA-512
# answers each of its queries with a real rejection (status rejection, failInfo badAlg).
_SECTIONS = {"tsa_ok": "sha256", "tsa_reject": "sha512"}

_CA_EXT = """\
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

_TSA_EXT = """\
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


class LocalTsaError(RuntimeError):
    """An openssl command of the local authority failed (the message carries its stderr)."""


class LocalTsa:
    """One authority in ``directory``: ``start()`` serves POST / (and POST ``reject_path``,
    when given, which answers every chainarb query with a rejection) until ``stop()``.

    ``chain_pem`` is the TSA certificate, any intermediate and the root (what a package's
    ``tsa-certificates.pem`` carries); ``ca_pem`` the root alone (what a verifier trusts).
    """

    def __init__(self, directory: Path, *, name: str = "chainarb demo",
                 key: Literal["ec", "rsa"] = "ec", intermediate: bool = False,
                 reject_path: str | None = None) -> None:
        self.dir = directory.resolve()
        self.ca_pem = self.dir / "ca.pem"
        self.tsa_pem = self.dir / "tsa.pem"
        self.chain_pem = self.dir / "chain.pem"
        self.config = self.dir / "tsa.cnf"
        self._name = name
        self._key = key
        self._intermediate = intermediate
        self._reject_path = reject_path
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()  # openssl ts increments the serial file
        self.url = ""
        self.reject_url = ""

    def _environment(self) -> dict[str, str] | None:
        """The environment openssl runs in (None: this process's)."""
        return None

    def _openssl(self, *args: str) -> bytes:
        done = subprocess.run(["openssl", *args], cwd=self.dir, capture_output=True,
                              check=False, env=self._environment())
        if done.returncode != 0:
            raise LocalTsaError(
                f"openssl {args[0]} failed: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def _certify(self, stem: str, subject: str, issuer: str, days: int, ext: str) -> None:
        """A key and a certificate ``<stem>.pem`` issued by ``<issuer>.pem`` with ``ext``."""
        (self.dir / f"{stem}_ext.cnf").write_text(ext)
        self._openssl("req", *self._newkey(), "-keyout", f"{stem}.key", "-out", f"{stem}.csr",
                      "-subj", subject)
        self._openssl("x509", "-req", "-in", f"{stem}.csr", "-CA", f"{issuer}.pem",
                      "-CAkey", f"{issuer}.key", "-CAcreateserial", "-out", f"{stem}.pem",
                      "-days", str(days), "-extfile", f"{stem}_ext.cnf")

    def _newkey(self) -> list[str]:
        if self._key == "rsa":
            return ["-newkey", "rsa:2048", "-nodes"]
        return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]

    def ensure_authority(self) -> None:
        """Make the CA and the TSA certificate unless an earlier run made them; write the
        openssl configuration (cheap, and it follows this version's sections)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if not (self.chain_pem.is_file() and (self.dir / "tsa.key").is_file()):
            self._make_certificates()
        certs = "certs = $dir/int.pem\n" if (self.dir / "int.pem").is_file() else ""
        sections = "".join(_SECTION.format(name=name, dir=self.dir, digests=digests)
                           + (certs if name == "tsa_ok" else "")
                           for name, digests in _SECTIONS.items())
        self.config.write_text(f"[ tsa ]\ndefault_tsa = tsa_ok\n\n{sections}")

    def _make_certificates(self) -> None:
        self._openssl("req", "-x509", *self._newkey(), "-keyout", "ca.key", "-out", "ca.pem",
                      "-days", "3650", "-subj", f"/CN={self._name} time-stamping root CA",
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        issuer = "ca"
        if self._intermediate:
            self._certify("int", f"/CN={self._name} intermediate CA", "ca", 1825, _CA_EXT)
            issuer = "int"
        self._certify("tsa", f"/CN={self._name} TSA", issuer, 3650, _TSA_EXT)
        (self.dir / "serial").write_text("01\n")
        middle = [self.dir / "int.pem"] if self._intermediate else []
        tmp = self.chain_pem.with_suffix(".tmp")  # chain.pem last: it marks a whole authority
        tmp.write_text("".join(p.read_text() for p in [self.tsa_pem, *middle, self.ca_pem]))
        tmp.replace(self.chain_pem)

    def reply(self, query: bytes, *, section: str = "tsa_ok") -> bytes:
        """The DER TimeStampResp to a DER TimeStampReq (``section``: tsa_ok or tsa_reject)."""
        with self._lock:
            q = self.dir / "query.tsq"
            q.write_bytes(query)
            try:
                return self._openssl("ts", "-reply", "-config", self.config.name,
                                     "-section", section, "-queryfile", q.name, "-out", "-")
            finally:
                q.unlink(missing_ok=True)

    def start(self, port: int = 0) -> str:
        """Make the authority if need be, serve it from a daemon thread on ``port`` (0: any
        free one; give the former port to bring a stopped authority back); return its URL."""
        self.ensure_authority()
        tsa, reject_path = self, self._reject_path

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                if length <= 0 or length > MAX_QUERY:
                    self.send_error(400, "expected a timestamp query")
                    return
                section = "tsa_reject" if self.path == reject_path else "tsa_ok"
                try:
                    body = tsa.reply(self.rfile.read(length), section=section)
                except LocalTsaError as exc:
                    self.send_error(500, str(exc)[:200])
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, name="local-tsa",
                         daemon=True).start()
        base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.url = base + "/"
        self.reject_url = base + reject_path if reject_path else ""
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
