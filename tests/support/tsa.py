"""A local RFC 3161 time-stamping authority for tests: `openssl ts -reply` over HTTP.

Why: the judicial package needs real tokens, and `openssl ts` is the same tool an expert
uses to check them. `start_tsa(workdir)` creates a root CA and a TSA certificate (extended
key usage critical timeStamping) with the openssl CLI, then serves POST / (and POST
/reject, which answers with a rejection) on 127.0.0.1 from a thread.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

OPENSSL = "openssl"

_CONFIG = """\
[ tsa ]
default_tsa = tsa_ok

[ tsa_ok ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/chain-extra.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.57264.1.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256

[ tsa_reject ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.57264.1.1
digests = sha512
"""

_TSA_EXT = """\
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


@dataclass(frozen=True)
class LocalTSA:
    url: str
    reject_url: str
    dir: Path
    ca_pem: Path
    tsa_pem: Path
    config: Path
    chain_pem: Path
    """The TSA certificate and any intermediate, for `-untrusted`."""

    def openssl_verify(self, tsr: Path, digest_hex: str) -> subprocess.CompletedProcess[str]:
        """`openssl ts -verify` of a response against this authority's CA."""
        return subprocess.run(
            [
                OPENSSL,
                "ts",
                "-verify",
                "-digest",
                digest_hex,
                "-in",
                str(tsr),
                "-CAfile",
                str(self.ca_pem),
                "-untrusted",
                str(self.tsa_pem),
            ],
            capture_output=True,
            text=True,
            check=False,
        )


def _run(*args: str, cwd: Path) -> None:
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True)


_CA_EXT = """\
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def make_authority(
    workdir: Path, *, key: str = "ec", intermediate: bool = False
) -> tuple[Path, Path, Path, Path]:
    """Create a root CA (ca.pem), optionally an intermediate CA, and the TSA certificate
    (tsa.pem, tsa.key) under `workdir`; return (root, tsa cert, config, chain for -untrusted).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    newkey = (
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        if key == "ec"
        else ["-newkey", "rsa:2048"]
    )
    _run(
        "req",
        "-x509",
        *newkey,
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=chainarb test root CA",
        "-days",
        "3650",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=workdir,
    )
    issuer = "ca"
    (workdir / "ca_ext.cnf").write_text(_CA_EXT)
    extra = b""
    if intermediate:
        _run(
            "req",
            *newkey,
            "-nodes",
            "-keyout",
            "int.key",
            "-out",
            "int.csr",
            "-subj",
            "/CN=chainarb test intermediate CA",
            cwd=workdir,
        )
        _run(
            "x509",
            "-req",
            "-in",
            "int.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "int.pem",
            "-days",
            "1825",
            "-extfile",
            "ca_ext.cnf",
            cwd=workdir,
        )
        issuer = "int"
        extra = (workdir / "int.pem").read_bytes()
    _run(
        "req",
        *newkey,
        "-nodes",
        "-keyout",
        "tsa.key",
        "-out",
        "tsa.csr",
        "-subj",
        "/CN=chainarb test TSA/O=Test Time Authority",
        cwd=workdir,
    )
    (workdir / "tsa_ext.cnf").write_text(_TSA_EXT)
    _run(
        "x509",
        "-req",
        "-in",
        "tsa.csr",
        "-CA",
        f"{issuer}.pem",
        "-CAkey",
        f"{issuer}.key",
        "-CAcreateserial",
        "-out",
        "tsa.pem",
        "-days",
        "365",
        "-extfile",
        "tsa_ext.cnf",
        cwd=workdir,
    )
    (workdir / "chain-extra.pem").write_bytes(extra or (workdir / "ca.pem").read_bytes())
    (workdir / "chain.pem").write_bytes((workdir / "tsa.pem").read_bytes() + extra)
    (workdir / "serial").write_text("01\n")
    config = workdir / "tsa.cnf"
    config.write_text(_CONFIG.format(dir=workdir))
    return workdir / "ca.pem", workdir / "tsa.pem", config, workdir / "chain.pem"


@contextmanager
def start_tsa(workdir: Path, *, key: str = "ec", intermediate: bool = False) -> Iterator[LocalTSA]:
    ca, tsa_cert, config, chain = make_authority(workdir, key=key, intermediate=intermediate)
    lock = threading.Lock()
    counter = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            if length <= 0 or length > 65536:
                self.send_error(400, "bad length")
                return
            query = self.rfile.read(length)
            section = "tsa_reject" if self.path.startswith("/reject") else "tsa_ok"
            with lock:
                counter[0] += 1
                qpath = workdir / f"q{counter[0]}.tsq"
                rpath = workdir / f"r{counter[0]}.tsr"
                qpath.write_bytes(query)
                proc = subprocess.run(
                    [
                        OPENSSL,
                        "ts",
                        "-reply",
                        "-config",
                        str(config),
                        "-section",
                        section,
                        "-queryfile",
                        str(qpath),
                        "-out",
                        str(rpath),
                    ],
                    capture_output=True,
                    check=False,
                )
            if proc.returncode != 0 or not rpath.exists():
                self.send_error(500, proc.stderr.decode(errors="replace")[:200])
                return
            body = rpath.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield LocalTSA(
            url=f"http://{host}:{port}/",
            reject_url=f"http://{host}:{port}/reject",
            dir=workdir,
            ca_pem=ca,
            tsa_pem=tsa_cert,
            config=config,
            chain_pem=chain,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
