"""The main job: one cross-border case through the running service, as real clients drive it.

``run_demo(settings)`` (what ``chainarb demo`` and ``make demo`` run) composes the service
on the embedded default (SQLite + local IPFS blockstore + the embedded chain, all in the
data dir) or on what the settings name instead (``DATABASE_URL``,
``CHAINARB_CHAIN_RPC_URL`` of a dev node, ``CHAINARB_IPFS_API_URL``), serves it with
uvicorn on a free 127.0.0.1 port in a background thread, and then acts only as clients do:
each party, neutral, the institution's staff and the court holds its own key, signs in with
``personal_sign``, and signs every step as EIP-712 typed data (eth-account, the records of
``evidence.records``); parties send their own on-chain transactions (pay into escrow,
deposit the guarantee, raise the dispute) from their own wallets. The server never sees a
private key.

The demo moves no clock: the service, the chain and the time-stamping authority all run on
the real time, so ``chainarb serve`` on the same data dir afterwards answers every demo case
(and the RFC 3161 tokens are dated when the blocks they stamp were made). The objection
window is short instead: the contracts of a development chain are deployed with
``DEV_CHAIN_TIMEOUTS`` (an objection window of ``DEV_OBJECTION_SECONDS``; docs/chain.md),
the service's rules follow the escrow's window (``create_app``), and the demo waits it
out in real time.

What the demo adds to the service, only in the demo's own composition (never in
``chainarb serve``): **anchoring at once.** The anchoring worker runs after every step
(``POST /admin/tick``, interval 0), with RFC 3161 stamping by a local time-stamping
authority (``openssl ts`` in ``<data_dir>/demo-tsa``), so every step is anchored and
stamped before the next.

A fresh run works whatever earlier runs left in the data dir: the contracts are deployed
once (``deployment.json``, the same ones ``chainarb serve`` uses), and each run uses new
keys, a new order and so a new case. A data dir from a version of the demo that moved the
clock (an escrow with a window of days, blocks dated ahead) is refused with a clear
message. The last line of stdout is one JSON object (see ``DemoResult`` keys in README
"The main job").
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.markup import escape

from backend.settings import Settings
from evidence.commitment import commitment_of
from evidence.records import (
    Award,
    CourtConfirmation,
    Domain,
    ProceduralStep,
    SettlementOffer,
    SignedRecord,
    canonical_json,
)

__all__ = ["DemoError", "LocalTsa", "run_demo"]

DAY = 86_400
DECIMALS = 6
UNIT = 10**DECIMALS
ZERO32 = "0x" + "00" * 32
MAX_OBJECTION_WAIT = 60  # seconds the demo will wait for an escrow's objection window


class DemoError(Exception):
    """A step of the demo was refused or the result does not add up (message says which)."""


def fmt_amount(units: int, symbol: str = "tUSD") -> str:
    """Exact decimal of a 6-decimal token amount: 12500000 -> '12.500000 tUSD'."""
    return f"{Decimal(units).scaleb(-DECIMALS):.{DECIMALS}f} {symbol}".strip()


def _dec(units: int) -> str:
    return f"{Decimal(units).scaleb(-DECIMALS):.{DECIMALS}f}"


def _sha(data: bytes) -> str:
    return "0x" + hashlib.sha256(data).hexdigest()


def _short(value: str | None, keep: int = 10) -> str:
    if not value:
        return "—"
    return value if len(value) <= 2 * keep + 1 else f"{value[:keep]}…{value[-6:]}"


# --- the clock: the real one, never behind the chain ----------------------------------------

def _wall_clock(handle: Any) -> Callable[[], datetime]:
    """What the clients sign ``signedAt`` with: the real time, or the latest block's time if
    that is later (a step's records come after the blocks it names; on a healthy node the
    two agree to the second)."""
    def now() -> datetime:
        return max(datetime.now(UTC), _chain_now(handle))

    return now


# --- a local RFC 3161 time-stamping authority (openssl ts) --------------------------------

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


# --- the chain: contracts once per data dir; the parties' own wallets ----------------------

def _send_eth(w3: Any, sender: LocalAccount, to: str, value: int) -> str:
    """A plain value transfer signed locally (the institution funds the parties' gas)."""
    tx = {"to": to, "value": value, "gas": 21_000, "nonce": w3.eth.get_transaction_count(
        sender.address, "pending"), "chainId": int(w3.eth.chain_id),
        "maxFeePerGas": 2 * int(w3.eth.gas_price) + 1, "maxPriorityFeePerGas": 1}
    raw = sender.sign_transaction(tx).raw_transaction
    h = w3.eth.send_raw_transaction(raw)
    receipt = w3.eth.wait_for_transaction_receipt(h, timeout=30)
    if receipt["status"] != 1:
        raise DemoError(f"funding {to} failed (tx 0x{bytes(h).hex()})")
    return "0x" + bytes(h).hex()


# --- the service in a background thread ----------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class _Running:
    base_url: str
    app: Any
    server: Any
    thread: threading.Thread


@contextmanager
def _serve(app: Any, port: int) -> Iterator[_Running]:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="critical", lifespan="on",
                                           access_log=False))
    thread = threading.Thread(target=server.run, name="demo-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise DemoError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.02)
    try:
        yield _Running(f"http://127.0.0.1:{port}", app, server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# --- clients -------------------------------------------------------------------------------

@dataclass
class Client:
    """One person at a wallet: their own key, a session token, signed requests."""

    label: str
    label_zh: str
    key: LocalAccount
    http: httpx.Client
    clock: Callable[[], datetime]  # the wallet's clock, for signedAt
    token: str = ""

    @property
    def address(self) -> str:
        return str(self.key.address)

    def sign_in(self) -> None:
        r = self.http.get("/auth/nonce", params={"address": self.address})
        _ok(r, f"{self.label}: sign-in challenge")
        message = r.json()["message"]
        signature = self.key.sign_message(encode_defunct(text=message)).signature
        r = self.http.post("/auth/sign-in", json={"message": message,
                                                  "signature": "0x" + bytes(signature).hex()})
        self.token = _ok(r, f"{self.label}: sign-in")["token"]

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            return self.http.request(method, path, headers=headers, **kw)
        except httpx.TransportError:  # the server closed a kept-alive connection: once more
            return self.http.request(method, path, headers=headers, **kw)

    def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        r = self._request(method, path, **kw)
        if r.status_code == 401 and "expired" in r.text:  # a session that ran out mid-run
            self.sign_in()
            r = self._request(method, path, **kw)
        return r

    def get(self, path: str, **kw: Any) -> Any:
        return _ok(self._send("GET", path, **kw), f"{self.label}: GET {path}")

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        if body is not None:
            kw["json"] = body
        return _ok(self._send("POST", path, **kw), f"{self.label}: POST {path}")

    def at(self) -> int:
        return int(self.clock().timestamp())

    def head(self, case_id: str) -> tuple[int, str, Domain]:
        """Where the next signed step goes: what the case page gives a wallet to sign over."""
        view = self.get(f"/cases/{case_id}")
        return view["nextSequence"], view["prevHash"], Domain.from_json_obj(view["domain"])

    def step(self, case_id: str, action: str, payload: dict[str, Any] | None = None, *,
             payload_hash: str | None = None) -> tuple[dict[str, Any], Domain]:
        seq, prev, domain = self.head(case_id)
        rec = ProceduralStep(case_id=case_id, sequence=seq, prev_hash=prev,
                             actor=self.address, action=action,
                             payload_hash=payload_hash or _sha(canonical_json(payload or {})),
                             signed_at=self.at())
        return rec.sign(self.key.key, domain).to_json_obj(), domain

    def plain(self, case_id: str, action: str, payload: dict[str, Any] | None = None,
              **extra: Any) -> dict[str, Any]:
        record, _ = self.step(case_id, action, payload or {})
        return {"record": record, "payload": payload or {}, **extra}


def _ok(r: httpx.Response, what: str) -> Any:
    if r.status_code not in (200, 201):
        raise DemoError(f"{what}: expected 200/201, found {r.status_code}: {r.text[:500]}")
    return r.json() if r.content else None


def _doc(filename: str, media_type: str, content: bytes) -> dict[str, str]:
    return {"filename": filename, "media_type": media_type,
            "content_base64": base64.b64encode(content).decode()}


# --- evidence files (generated: real formats the server sniffs) ---------------------------

def make_invoice_pdf(order_id: int, amount: int) -> bytes:
    """The seller's commercial invoice (PDF, reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(f"Commercial invoice, order {order_id}")
    y = 800
    for line in (
        "Shenzhen Brightway Lighting Co., Ltd. - Commercial Invoice",
        f"Order {order_id} - buyer: L. Fischer, Hamburg, Germany",
        "Item: 40 x LED panel 60x60 cm, 4000 K, 40 W (model BW-6060-40)",
        f"Total: {fmt_amount(amount)} (stablecoin, paid into escrow)",
        "Incoterms: DAP Hamburg. Packing: 4 cartons, foam corners.",
    ):
        c.drawString(60, y, line)
        y -= 22
    c.showPage()
    c.save()
    return buf.getvalue()


def make_photo_jpeg() -> bytes:
    """The buyer's photo of a cracked panel (JPEG, Pillow)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (320, 240), (236, 236, 240))
    d = ImageDraw.Draw(img)
    d.rectangle((40, 30, 280, 210), outline=(90, 90, 100), width=4)
    d.line((60, 50, 150, 130, 120, 200), fill=(20, 20, 20), width=3)
    d.line((150, 130, 250, 90), fill=(20, 20, 20), width=2)
    d.text((46, 214), "BW-6060-40  carton 3/4  cracked", fill=(160, 0, 0))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    return out.getvalue()


def make_chat_log(order_id: int) -> bytes:
    return (
        f"Chat export, order {order_id} (times UTC)\n"
        "2026-11-02 09:14 buyer: 12 of the 40 panels arrived cracked; photos attached.\n"
        "2026-11-02 16:40 seller: 您好，我们的包装符合标准。Packing met the standard.\n"
        "2026-11-03 08:05 buyer: The cartons were intact, the panels were not.\n"
        "2026-11-03 10:22 seller: We can offer 10% back.\n"
    ).encode()


# --- printing -----------------------------------------------------------------------------

STAGE_ZH = {
    "setup": "准备", "not_filed": "未立案", "filed": "已立案", "negotiation": "协商",
    "facilitation": "调解", "arbitrator_appointment": "指定仲裁员", "evidence": "举证",
    "record_closed": "审理终结", "awarded": "已裁决", "final": "裁决生效",
    "enforced": "已执行", "judicially_confirmed": "司法确认", "settled": "已和解",
    "package": "司法材料包",
}


@dataclass
class Printer:
    console: Console
    count: int = 0

    def rule(self, en: str, zh: str) -> None:
        self.console.rule(f"[bold]{escape(en)} / {zh}")

    def step(self, stage: str, actor: str, text: str, *, tx: str | None = None,
             cid: str | None = None, root: str | None = None, seq: int | None = None) -> None:
        self.count += 1
        zh = STAGE_ZH.get(stage, "")
        pos = f"#{seq}" if seq is not None else "  "
        self.console.print(f"[cyan]{self.count:>2}[/] [bold]{stage}[/] {zh} {pos} "
                           f"[magenta]{escape(actor)}[/]: {escape(text)}")
        extras = []
        if tx:
            extras.append(f"tx 交易 {tx}")
        if cid:
            extras.append(f"CID {cid}")
        if root:
            extras.append(f"anchored root 锚定根 {root}")
        for e in extras:
            self.console.print(f"      [dim]{escape(e)}[/]")


# --- the run ------------------------------------------------------------------------------

@dataclass
class _World:
    settings: Settings
    handle: Any
    deployment: Any
    clock: Callable[[], datetime]
    printer: Printer
    app: Any = None
    admin: Client | None = None
    seen_batches: set[int] = field(default_factory=set)
    stages: list[str] = field(default_factory=list)

    def note_stage(self, stage: str) -> None:
        if not self.stages or self.stages[-1] != stage:
            self.stages.append(stage)

    def tick(self) -> list[dict[str, Any]]:
        """Run the background work now (admin): deadlines, chain actions, anchoring, TSA."""
        assert self.admin is not None
        self.admin.post("/admin/tick")
        return self.new_batches()

    def new_batches(self) -> list[dict[str, Any]]:
        """Anchor batches confirmed since the last look (the operator's view, from the DB)."""
        from sqlmodel import col, select

        from backend.db.models import AnchorBatch, AnchorStatus

        with self.app.state.ctx.sessions() as session:
            rows = session.exec(select(AnchorBatch).where(
                col(AnchorBatch.status) == AnchorStatus.CONFIRMED)).all()
            fresh = [{"id": b.id, "root": b.root, "tx": b.tx_hash, "leaves": b.leaf_count,
                      "block": b.block_number, "stamped": b.timestamp_token is not None}
                     for b in rows if b.id not in self.seen_batches]
        self.seen_batches.update(b["id"] for b in fresh)
        return fresh

    def anchored_items(self, case_id: str) -> tuple[int, int]:
        from sqlmodel import col, select

        from backend.db.models import AnchorBatch, AnchorStatus, Leaf

        with self.app.state.ctx.sessions() as session:
            leaves = session.exec(select(Leaf).where(col(Leaf.case_id) == case_id)).all()
            confirmed = {b.id for b in session.exec(select(AnchorBatch).where(
                col(AnchorBatch.status) == AnchorStatus.CONFIRMED)).all()}
        return sum(1 for leaf in leaves if leaf.batch_id in confirmed), len(leaves)


def _chain_label(handle: Any) -> str:
    if handle.embedded:
        return f"the embedded chain {handle.chain_id}"
    return f"the chain {handle.chain_id} at {handle.rpc_url}"


def _chain_now(handle: Any) -> datetime:
    return datetime.fromtimestamp(int(handle.w3.eth.get_block("latest")["timestamp"]), UTC)


def run_demo(settings: Settings, *, console: Console | None = None,
             out: Any = None) -> dict[str, Any]:
    """Run the whole loop; print each step; print the result as the last line; return it."""
    from backend.gateway import contracts_deployer, ensure_deployment, open_chain

    started = time.monotonic()
    stdout = out or sys.stdout
    console = console or Console(file=stdout, highlight=False, soft_wrap=True)
    printer = Printer(console)
    printer.rule("chainarb — the main job: one cross-border case, end to end",
                 "跨境电商争议：从付款到司法确认的完整流程")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tsa = LocalTsa(settings.data_dir / "demo-tsa")
    tsa_url = tsa.start()
    settings = settings.model_copy(update={
        "anchor_interval_seconds": 0.0, "tsa_url": tsa_url, "tsa_cert_file": tsa.chain_pem})
    handle = open_chain(settings)
    try:
        # The demo deploys its contracts on any node it is pointed at (a dev node such as
        # anvil), not only on the embedded chain; the same ones `chainarb serve` then uses.
        deployment = ensure_deployment(
            handle, settings, contracts_deployer(settings.institution_private_key()),
            allow_deploy=True)
        _check_real_time(handle, deployment)
        world = _World(settings=settings, handle=handle, deployment=deployment,
                       clock=_wall_clock(handle), printer=printer)
        result = _run(world, tsa)
    finally:
        handle.close()
        tsa.stop()
    result["seconds"] = round(time.monotonic() - started, 1)
    console.print(f"[bold green]Done in {result['seconds']} s. / 完成。[/]")
    stdout.write(json.dumps(result, sort_keys=True) + "\n")
    stdout.flush()
    return result


def _check_real_time(handle: Any, deployment: Any) -> None:
    """Refuse a data dir the demo cannot finish in real time (made by a version of the demo
    that moved the clock): an escrow whose objection window is days long, or blocks dated
    ahead of the real time. Says what to do instead."""
    from backend.chain import EscrowContract, Transactor

    ahead = (_chain_now(handle) - datetime.now(UTC)).total_seconds()
    if ahead > MAX_OBJECTION_WAIT:
        raise DemoError(
            f"{_chain_label(handle)} has blocks dated {ahead / 86_400:.1f} days ahead of the "
            "real time (an earlier demo moved its clock); the demo now runs on the real "
            "time: point CHAINARB_DATA_DIR at a new directory")
    window = EscrowContract(Transactor(handle.w3), deployment.escrow).timeouts().objection
    if window > MAX_OBJECTION_WAIT:
        raise DemoError(
            f"the escrow {deployment.escrow} on {_chain_label(handle)} has an objection window "
            f"of {window} s; the demo waits the window out in real time (at most "
            f"{MAX_OBJECTION_WAIT} s) and moves no clock: point CHAINARB_DATA_DIR at a new "
            "directory (its contracts get a short window) or deploy a development escrow")


def _run(world: _World, tsa: LocalTsa) -> dict[str, Any]:
    from backend.api.app import create_app
    from backend.chain import EscrowContract, TokenContract, Transactor
    from backend.worker.runner import build_worker

    settings, handle, dep, clock, pr = (world.settings, world.handle, world.deployment,
                                        world.clock, world.printer)
    w3 = handle.w3
    institution = Account.from_key(settings.institution_private_key())
    txr = Transactor(w3)
    escrow = EscrowContract(txr, dep.escrow)
    usdc = TokenContract(txr, dep.token)
    symbol = usdc.symbol()

    # Fresh people each run (so a fresh order and case whatever the data dir holds).
    keys = {n: Account.from_key(secrets.token_bytes(32)) for n in (
        "buyer", "seller", "admin", "mediator", "arbitrator", "court")}
    port = _free_port()
    # The demo's own admin joins the configured ones (validated like the environment's).
    admins = ",".join(a for a in (settings.institution_admins, keys["admin"].address) if a)
    settings = Settings.model_validate({**settings.model_dump(), "port": port,
                                        "institution_admins": admins})
    # The service on the real clock, as `chainarb serve` composes it; its rules' objection
    # window follows the escrow's (seconds on a development chain).
    app = create_app(settings, background=False)
    # The demo's composition: anchoring (with RFC 3161 stamps) at once after every step.
    app.state.ctx.anchoring = build_worker(settings, app.state.ctx.sessions, handle,
                                           dep.anchor)
    world.app = app
    pr.step("setup", "institution 机构",
            f"contracts on {_chain_label(handle)}: ArbitrationEscrow "
            f"{dep.escrow}, EvidenceAnchor {dep.anchor}, stablecoin {symbol} "
            f"({usdc.decimals()} decimals) {dep.token}; data dir {settings.data_dir}")

    with _serve(app, port) as running, httpx.Client(base_url=running.base_url,
                                                    timeout=60) as http:
        pr.step("setup", "institution 机构",
                f"service on {running.base_url} (OpenAPI {running.base_url}/docs); "
                f"time-stamping authority {tsa.url}")
        people = {
            "buyer": ("Lena Fischer (buyer, Hamburg, DE)", "买方 · 德国汉堡"),
            "seller": ("Shenzhen Brightway Lighting (seller, CN)", "卖方 · 中国深圳"),
            "admin": ("case officer (institution)", "机构案件秘书"),
            "mediator": ("mediator M. Rossi", "调解员"),
            "arbitrator": ("arbitrator Dr. Chen Wei", "仲裁员"),
            "court": ("Hangzhou Internet Court", "杭州互联网法院"),
        }
        c = {n: Client(people[n][0], people[n][1], k, http, clock) for n, k in keys.items()}
        buyer, seller, admin, mediator, arbitrator, court = (
            c["buyer"], c["seller"], c["admin"], c["mediator"], c["arbitrator"], c["court"])
        world.admin = admin
        for cl in c.values():
            cl.sign_in()
        pr.step("setup", "everyone 各方",
                "each signs in with the wallet (EIP-4361 message, personal_sign); "
                + ", ".join(f"{cl.label.split(' (')[0]} {_short(cl.address, 6)}"
                            for cl in c.values()))

        # -- the trade: on-chain, from the parties' own wallets ---------------------------
        price, guarantee = 480 * UNIT, 200 * UNIT
        for cl in (buyer, seller):
            _send_eth(w3, institution, cl.address, 10**18)
        usdc.mint(seller.key, seller.address, 1_000 * UNIT)
        usdc.mint(buyer.key, buyer.address, 1_000 * UNIT)
        usdc.approve(seller.key, escrow.address, guarantee)
        r = escrow.deposit_guarantee(seller.key, usdc.address, guarantee)
        pr.step("setup", seller.label, f"deposits a guarantee of {fmt_amount(guarantee, symbol)}"
                " with the escrow (卖方保证金)", tx=_hx(r.tx_hash))
        rules_hash = _rules_hash(http, app.state.ctx.service.config.rules)
        usdc.approve(buyer.key, escrow.address, price)
        order_id, r = escrow.open_order(
            buyer.key, seller=seller.address, amount=price,
            delivery_deadline=int(_chain_now(handle).timestamp()) + 30 * DAY,
            institution=institution.address, token=usdc.address, rules_hash=rules_hash)
        open_tx = _hx(r.tx_hash)
        pr.step("setup", buyer.label, f"orders 40 LED panels and pays {fmt_amount(price, symbol)}"
                f" into escrow: order {order_id} (付款至托管)", tx=open_tx)
        before = _balances(usdc, escrow, buyer.address, seller.address)

        # -- filing ---------------------------------------------------------------------
        view = buyer.post("/cases", {"orderId": str(order_id)})
        case_id = view["caseId"]
        world.note_stage(view["stage"])
        statement = (b"Statement of claim: 12 of 40 LED panels (order %d) arrived cracked; "
                     b"the goods are not as described. I ask a partial refund of 240 tUSD."
                     % order_id)
        filing = {"claimant": buyer.address, "respondent": seller.address,
                  "orderId": str(order_id), "disputeType": "not_as_described",
                  "remedy": "partial_refund", "claimedAmount": str(240 * UNIT),
                  "statementHash": _sha(statement)}
        res = buyer.post(f"/cases/{case_id}/filing", buyer.plain(case_id, "case.filed", filing))
        _shown(world, "filed", buyer, "files the claim: goods not as described, partial refund "
               f"{fmt_amount(240 * UNIT, symbol)} (提出仲裁申请) — case {case_id}", res)
        r = escrow.raise_dispute(buyer.key, order_id, bytes.fromhex(case_id[2:]))
        pr.step("filed", buyer.label, "the buyer's wallet freezes the escrow: raiseDispute "
                "(冻结托管资金)", tx=_hx(r.tx_hash))
        _anchor(world)

        # -- negotiation ------------------------------------------------------------------
        seq, prev, domain = seller.head(case_id)
        offer = SettlementOffer(case_id=case_id, sequence=seq, prev_hash=prev,
                                offeror=seller.address, order_id=order_id,
                                to_buyer=48 * UNIT, to_seller=432 * UNIT, compensation=0,
                                expires_at=seller.at() + 2 * DAY, signed_at=seller.at())
        from evidence.records import Settlement

        settlement = Settlement(order_id=order_id, case_id=case_id, to_buyer=48 * UNIT,
                                to_seller=432 * UNIT, compensation=0)
        res = seller.post(f"/cases/{case_id}/offers", {
            "record": offer.sign(seller.key.key, domain).to_json_obj(),
            "attachments": [settlement.sign(seller.key.key, domain).to_json_obj()]})
        _shown(world, "negotiation", seller, "offers a 10% refund "
               f"({fmt_amount(48 * UNIT, symbol)}), open 2 days (和解要约)", res)
        res = buyer.post(f"/cases/{case_id}/facilitation",
                         buyer.plain(case_id, "facilitation.requested"))
        _shown(world, "facilitation", buyer, "rejects the offer (lets it lapse) and asks for a "
               "mediator: negotiation failed (协商失败，申请调解)", res)

        # -- facilitated settlement -----------------------------------------------------------
        res = admin.post(f"/cases/{case_id}/mediator", admin.plain(
            case_id, "appoint.mediator", {"role": "mediator", "appointees": [mediator.address]}))
        _shown(world, "facilitation", admin, f"appoints the mediator {_short(mediator.address)}"
               " (conflict check passed; 指定调解员)", res)
        pre = _pre_evaluation(mediator, case_id)
        report = pre["canonical"].encode()
        res = mediator.post(f"/cases/{case_id}/pre-evaluation", mediator.plain(
            case_id, "preevaluation.published",
            {"recommended": pre["recommended"], "reportHash": pre["sha256"]},
            document=_doc("pre-evaluation.json", "application/json", report)))
        rules = ", ".join(r.get("rule", "?") for r in pre["report"].get("reasons", []))
        _shown(world, "facilitation", mediator, "publishes the rule-based pre-evaluation: "
               f"{pre['recommended']} ({rules}); non-binding (调解前评估)", res)
        proposal_id = _sha(b"proposal:" + case_id.encode())
        expires = mediator.at() + 3 * DAY
        res = mediator.post(f"/cases/{case_id}/proposals", mediator.plain(
            case_id, "settlement.proposed",
            {"offerId": proposal_id, "toBuyer": str(150 * UNIT), "toSeller": str(330 * UNIT),
             "compensation": "0", "expiresAt": str(expires)}))
        _shown(world, "facilitation", mediator, "proposes a refund of "
               f"{fmt_amount(150 * UNIT, symbol)}; the seller does not accept (调解方案未被接受)",
               res)
        for party in (seller, buyer):
            res = party.post(f"/cases/{case_id}/arbitration-agreement",
                             party.plain(case_id, "arbitration.agreed"))
            _shown(world, res["stage"], party, "signs the arbitration agreement (同意仲裁)", res)
        res = mediator.post(f"/cases/{case_id}/impasse", mediator.plain(case_id,
                                                                         "impasse.declared"))
        _shown(world, res["stage"], mediator, "declares an impasse: mediation failed "
               "(调解失败)", res)

        # -- arbitration ----------------------------------------------------------------------
        res = admin.post(f"/cases/{case_id}/arbitrator", admin.plain(
            case_id, "appoint.arbitrator",
            {"role": "arbitrator", "appointees": [arbitrator.address]}))
        _shown(world, res["stage"], admin, f"appoints the arbitrator {_short(arbitrator.address)}"
               " (conflict check; on-chain appointArbitrator; 指定仲裁员)", res)
        files = [
            (buyer, "photo", "cracked-panel.jpg", "image/jpeg", make_photo_jpeg(),
             "photo of a cracked panel (照片)"),
            (buyer, "communication", "chat-log.txt", "text/plain", make_chat_log(order_id),
             "chat log with the seller (聊天记录)"),
            (seller, "invoice", "invoice.pdf", "application/pdf",
             make_invoice_pdf(order_id, price), "commercial invoice (商业发票)"),
        ]
        evidence_cids: list[str] = []
        for who, kind, name, ctype, content, what in files:
            res = _upload(who, case_id, kind, name, ctype, content)
            evidence_cids.append(res["contentCid"])
            _shown(world, "evidence", who, f"uploads {name} ({len(content):,} bytes, {what}): "
                   "encrypted, stored in IPFS, salted commitment signed (EIP-712)", res,
                   cid=res["contentCid"])
        answer = (b"Answer: the panels left our factory intact and were packed to standard; "
                  b"any damage happened in transit. We accept a refund for the 12 cracked "
                  b"panels at most.")
        res = seller.post(f"/cases/{case_id}/answer", seller.plain(
            case_id, "answer.submitted", {"answerHash": _sha(answer)},
            document=_doc("answer.txt", "text/plain", answer)))
        _shown(world, "evidence", seller, "files the answer (答辩)", res)
        res = arbitrator.post(f"/cases/{case_id}/close-record",
                              arbitrator.plain(case_id, "record.closed"))
        _shown(world, res["stage"], arbitrator, "closes the record (审理终结)", res)

        to_buyer, to_seller, compensation = 180 * UNIT, 300 * UNIT, 42_500_000
        award_doc = _award_document(order_id, case_id, to_buyer, to_seller, compensation)
        seq, prev, domain = arbitrator.head(case_id)
        award = Award(order_id=order_id, case_id=case_id, to_buyer=to_buyer,
                      to_seller=to_seller, compensation=compensation,
                      award_hash=_sha(award_doc), round=0).sign(arbitrator.key.key, domain)
        record, _ = arbitrator.step(case_id, "award.issued",
                                    payload_hash="0x" + award.record_hash.hex())
        res = arbitrator.post(f"/cases/{case_id}/award", {
            "record": record, "attachments": [award.to_json_obj()],
            "document": _doc("award.md", "text/markdown", award_doc)})
        award_record_hash = "0x" + award.record_hash.hex()
        submit_tx = next((a.get("txHash") for a in res["chainActions"]
                          if a["kind"] == "submit_award"), None)
        _shown(world, res["stage"], arbitrator,
               f"issues the signed, reasoned award: refund {fmt_amount(to_buyer, symbol)}, "
               f"seller {fmt_amount(to_seller, symbol)}, compensation "
               f"{fmt_amount(compensation, symbol)} from the guarantee (裁决)", res, tx=submit_tx)

        # -- the objection window passes, in real time ----------------------------------------
        view = buyer.get(f"/cases/{case_id}")
        window = escrow.timeouts().objection
        ends = max(escrow.order(order_id).deadline,
                   int(datetime.fromisoformat(view["deadline"]).timestamp()))
        waited = _wait_until(ends + 1)
        world.tick()
        view = buyer.get(f"/cases/{case_id}")
        world.note_stage(view["stage"])
        pr.step(view["stage"], "time 时间", f"the {window}-second objection window of this "
                f"development escrow passes without an objection (waited {waited:.1f} s in real "
                "time; no clock is moved; 异议期届满)")
        if view["stage"] != "final":
            raise DemoError(f"after the objection window the case should be final, found "
                            f"{view['stage']}")

        # -- enforcement ----------------------------------------------------------------------
        res = buyer.post(f"/cases/{case_id}/enforcement",
                         buyer.plain(case_id, "enforcement.requested"))
        _shown(world, res["stage"], buyer, "asks for enforcement (anyone may; 申请执行)", res)
        enforcement_tx = None
        for _ in range(10):
            world.tick()
            view = buyer.get(f"/cases/{case_id}")
            enforcement_tx = next((a.get("txHash") for a in view["chainActions"]
                                   if a["kind"] == "execute_award" and a["status"] == "done"),
                                  None)
            if view["stage"] == "enforced" and enforcement_tx:
                break
        world.note_stage(view["stage"])
        if view["stage"] != "enforced" or not enforcement_tx:
            raise DemoError(f"the award was not executed: stage {view['stage']}, "
                            f"chain actions {view['chainActions']}")
        receipt = w3.eth.get_transaction_receipt(enforcement_tx)
        from backend.chain import decode_logs

        resolved = [e for e in decode_logs(receipt["logs"]) if e.name == "OrderResolved"]
        paid = dict(resolved[0].args) if resolved else {}
        after = _balances(usdc, escrow, buyer.address, seller.address)
        comp_paid = int(paid.get("compensationPaid", -1))
        pr.step("enforced", "escrow 托管合约", "executeAward pays out on-chain: buyer "
                f"+{fmt_amount(after['buyer'] - before['buyer'], symbol)}, seller "
                f"+{fmt_amount(after['seller'] - before['seller'], symbol)}, guarantee "
                f"{fmt_amount(before['guarantee'], symbol)} → "
                f"{fmt_amount(after['guarantee'], symbol)} (裁决已在链上执行)", tx=enforcement_tx)
        for b in world.tick():
            _show_batch(world, b)

        # -- the court: package, verification, confirmation -----------------------------------
        admin.post("/admin/courts", {"address": court.address, "name": court.label})
        admin.post(f"/cases/{case_id}/courts", {"court": court.address})
        pr.step("enforced", admin.label, f"gives {court.label} access to the case "
                "(法院调取案卷)")
        package_path = settings.data_dir / "packages" / f"case-{case_id[2:14]}-order-" \
                                                          f"{order_id}.zip"
        package_path.parent.mkdir(parents=True, exist_ok=True)
        package_bytes, manifest_sha = _download_package(world, court, case_id)
        package_path.write_bytes(package_bytes)
        pr.step("package", court.label, f"downloads the judicial package "
                f"({package_path.stat().st_size:,} bytes): {package_path} (司法确认材料包)")
        from evidence.judicial import verify_package
        from evidence.judicial.verify import STATUS_WORDS

        report_v = verify_package(package_path, chain=w3,
                                  tsa_trust=_load_tsa_trust(tsa.dir / "ca.pem"))
        for check in report_v.checks:
            mark = "pass 通过" if check.passed else STATUS_WORDS[check.status].upper()
            console_line = f"{check.name:<14} {mark}: {check.reason}"
            pr.console.print(f"      [dim]{escape(console_line)}[/]")
        pr.step("package", court.label, "verifies the package against the chain and the "
                f"TSA's certificate: {'ALL CHECKS PASS' if report_v.ok else 'FAILED'} "
                f"(核验{'通过' if report_v.ok else '未通过'}); digest {report_v.package_digest}")
        package_hash = manifest_sha or _sha(package_bytes)
        seq, prev, domain = court.head(case_id)
        decision = CourtConfirmation(
            case_id=case_id, sequence=seq, prev_hash=prev, court=court.address,
            package_hash=package_hash, award_record_hash=award_record_hash, confirmed=True,
            reasons_hash=ZERO32, court_reference=f"(2026) Zhe 0192 Min Te {order_id}",
            signed_at=court.at())
        res = court.post(f"/cases/{case_id}/court-decision",
                         {"record": decision.sign(court.key.key, domain).to_json_obj()})
        _shown(world, res["stage"], court, "confirms the award judicially (signed step; "
               "司法确认)", res)
        anchored, total = world.anchored_items(case_id)
        timeline = buyer.get(f"/cases/{case_id}/timeline")

    if not report_v.ok:
        raise DemoError(f"the judicial package did not verify: {report_v.failed()}")
    refund = after["buyer"] - before["buyer"] - comp_paid
    result = {
        "case": case_id,
        "order": order_id,
        "stages": world.stages,
        "token": {"symbol": symbol, "address": dep.token, "decimals": DECIMALS},
        "buyer_refund": _dec(refund),
        "seller_payout": _dec(after["seller"] - before["seller"]),
        "compensation": _dec(comp_paid),
        "award": {"to_buyer": _dec(to_buyer), "to_seller": _dec(to_seller),
                  "compensation": _dec(compensation)},
        "guarantee_left": _dec(after["guarantee"]),
        "anchored_items": anchored,
        "leaves": total,
        "steps": sum(1 for i in timeline if i["type"] == "step"),
        "package": str(package_path.resolve()),
        "package_verified": report_v.ok,
        "package_digest": report_v.package_digest,
        "enforcement_tx": enforcement_tx,
        "open_order_tx": open_tx,
        "evidence_cids": evidence_cids,
        "chain_id": handle.chain_id,
        "escrow": dep.escrow,
        "buyer": buyer.address,
        "seller": seller.address,
        "data_dir": str(settings.data_dir.resolve()),
    }
    return result


def _wait_until(epoch_seconds: int) -> float:
    """Sleep until the real time passes ``epoch_seconds``; returns the seconds waited."""
    started = time.monotonic()
    while (left := epoch_seconds - time.time()) > 0:
        time.sleep(min(left, 0.5))
    return time.monotonic() - started


def _hx(value: Any) -> str:
    return "0x" + bytes(value).hex()


def _balances(usdc: Any, escrow: Any, buyer: str, seller: str) -> dict[str, int]:
    return {"buyer": usdc.balance_of(buyer), "seller": usdc.balance_of(seller),
            "guarantee": escrow.guarantee(seller, usdc.address).balance,
            "escrow": usdc.balance_of(escrow.address)}


def _anchor(world: _World) -> None:
    for b in world.tick():
        _show_batch(world, b)


def _show_batch(world: _World, b: dict[str, Any]) -> None:
    stamp = "RFC 3161 token 可信时间戳" if b["stamped"] else "no timestamp token"
    world.printer.console.print(
        f"      [green]⚓ anchored root 锚定根 {b['root']}[/] [dim]({b['leaves']} item(s), "
        f"block {b['block']}, tx {b['tx']}, {stamp})[/]")


def _shown(world: _World, stage: str, who: Client, text: str, res: dict[str, Any], *,
           tx: str | None = None, cid: str | None = None) -> None:
    """Print a signed step the service accepted, then anchor it at once."""
    stage = res.get("stage", stage)
    world.note_stage(stage)
    kind = CHAIN_KIND.get(res.get("action", ""))
    txs = [a["txHash"] for a in res.get("chainActions", [])
           if a.get("txHash") and a["kind"] == kind]
    world.printer.step(stage, f"{who.label} {who.label_zh}", text,
                       tx=tx or (txs[-1] if txs else None),
                       cid=cid or res.get("cid"), seq=res.get("sequence"))
    _anchor(world)


CHAIN_KIND = {"appoint.arbitrator": "appoint_arbitrator", "award.issued": "submit_award"}


def _upload(who: Client, case_id: str, kind: str, name: str, ctype: str, content: bytes
            ) -> dict[str, Any]:
    """Upload, check the commitment offered for signing against our own file, sign, submit."""
    salt = secrets.token_bytes(32)
    sha = hashlib.sha256(content).digest()
    staged = who.post(f"/cases/{case_id}/evidence", params={"kind": kind},
                      files={"file": (name, content, ctype)},
                      data={"sha256": "0x" + sha.hex(), "salt": "0x" + salt.hex()})
    typed = staged["typedData"]
    expected = "0x" + commitment_of(sha, bytes.fromhex(staged["salt"][2:])).hex()
    if staged["sha256"] != "0x" + sha.hex() or typed["message"]["commitment"] != expected:
        raise DemoError(f"{name}: the server's commitment does not match our own file")
    signature = who.key.sign_typed_data(full_message=typed).signature
    record = SignedRecord.from_json_obj(staged["unsignedRecord"]).with_signature(
        bytes(signature)).to_json_obj()
    res = who.post(f"/cases/{case_id}/evidence/{staged['id']}/submit", {"record": record})
    res.setdefault("contentCid", typed["message"].get("contentCid"))
    return dict(res)


def _award_document(order_id: int, case_id: str, to_buyer: int, to_seller: int,
                    compensation: int) -> bytes:
    return (
        f"# Award / 裁决书\n\nCase {case_id}, escrow order {order_id}.\n\n"
        "## Reasons / 理由\n\nThe buyer's photo and chat log show that 12 of 40 panels "
        "arrived cracked in intact cartons; the seller's invoice shows the panels were sold "
        "as fit for installation. The goods were not as described for 12 panels. The "
        "seller's answer (transit damage) is not supported by any carrier report.\n\n"
        "## Decision / 裁决\n\n"
        f"- Partial refund to the buyer / 部分退款: {fmt_amount(to_buyer)}\n"
        f"- Payment to the seller / 支付卖方: {fmt_amount(to_seller)}\n"
        f"- Compensation from the seller's guarantee / 保证金赔偿: {fmt_amount(compensation)}"
        "\n"
    ).encode()


def _pre_evaluation(mediator: Client, case_id: str) -> dict[str, Any]:
    """The rule-based report the mediator publishes (docs/procedure.md, Pre-evaluation).

    Asked of the service; should the service fail to prepare it (HTTP 5xx), the mediator
    applies the same published rules (``procedure.pre_evaluate``) to the facts the case
    page shows them: dispute type, remedy, amounts and evidence kinds, never content.
    """
    r = mediator._send("GET", f"/cases/{case_id}/pre-evaluation",
                       params={"tracking": "delivered"})
    if r.status_code == 200:
        return dict(r.json())
    if r.status_code < 500:
        _ok(r, f"{mediator.label}: pre-evaluation")
    from backend import procedure as p

    view = mediator.get(f"/cases/{case_id}")
    kinds = {"buyer": set(), "seller": set()}  # type: dict[str, set[str]]
    for item in view["evidence"]:
        side = "buyer" if item["submittedBy"] == view["buyer"] else "seller"
        kinds[side].add(item["kind"])
    facts = p.PreEvaluationFacts(
        dispute_type=view["disputeType"], remedy=view["remedy"], amount=int(view["amount"]),
        claimed_amount=int(view["claimedAmount"]), guarantee=int(view["guarantee"]),
        tracking="delivered", buyer_evidence=frozenset(kinds["buyer"]),  # type: ignore[arg-type]
        seller_evidence=frozenset(kinds["seller"]))  # type: ignore[arg-type]
    report = p.pre_evaluate(facts).as_dict()
    raw = canonical_json(report)
    return {"report": report, "canonical": raw.decode(), "sha256": _sha(raw),
            "recommended": report.get("outcome")}


def _rules_hash(http: httpx.Client, case_rules: Any) -> bytes:
    """The rules the order commits to (``rulesHash`` of ``openOrder``).

    The institution publishes its rules; the judicial package carries the same object and
    the verifier holds its SHA-256 (canonical JSON) to the order's ``rulesHash``. Asked of
    the service at ``GET /rules`` when it offers it, else the service's own rules object.
    """
    r = http.get("/rules")
    if r.status_code == 200 and "sha256" in r.json():
        return bytes.fromhex(r.json()["sha256"].removeprefix("0x"))
    from backend.services.package import rules_hash

    return rules_hash(case_rules)


def _download_package(world: _World, court: Client, case_id: str
                      ) -> tuple[bytes, str | None]:
    """The ZIP and the manifest's SHA-256 the court's decision names (``packageHash``).

    The first request may find records not anchored yet (409: the escrow records the
    steps carry are queued then); the next anchoring round covers them.
    """
    for _ in range(4):
        r = court._send("GET", f"/cases/{case_id}/judicial-package")
        if r.status_code != 409:
            break
        for b in world.tick():
            _show_batch(world, b)
    if r.status_code != 200:
        raise DemoError(f"package export: expected 200, found {r.status_code}: {r.text[:300]}")
    return r.content, r.headers.get("X-Package-Manifest-Sha256")


def _load_tsa_trust(ca_pem: Path) -> bytes:
    """The court pins the authority's root certificate (not the package's copy)."""
    return ca_pem.read_bytes()
