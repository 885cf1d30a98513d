"""Every variable of the README's Configuration table has a test that shows its effect.

`EFFECTS` maps each variable to the test that shows what it changes (in this module, or
an existing one elsewhere, named as `path::test`). `test_every_readme_variable_has_an_effect
_test` parses the README table, so a variable added to the README without a test, or a
test that no longer exists, fails here. The tests in this module run the service as
`chainarb serve` builds it (`create_app` from one Settings object), with an in-memory
escrow and anchoring chain so each runs in seconds; the settings are read from the
environment where the variable's name is the point (DATABASE_URL).
"""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from backend.api.app import create_app
from backend.services.chain import FakeEscrowPort, OrderInfo
from backend.settings import Settings, load_settings
from evidence.ipfs import MemoryBlockstore
from tests.support.anchor_chain import FakeChain
from tests.support.asgi_client import OneTripClient
from tests.support.clock import T0, Clock
from tests.support.world import (
    CHAIN_ID,
    ESCROW,
    NAMES,
    ORDER_ID,
    Actor,
    World,
    _key,
    ok,
    to_awarded,
    to_evidence,
    to_facilitation,
    to_filed,
    to_negotiation,
)

ROOT = Path(__file__).resolve().parents[2]

HERE = "tests/backend/test_settings_effects.py"
SERVE = "tests/backend/api/test_serve.py::test_chainarb_serve_from_environment"
EFFECTS: dict[str, str] = {
    "CHAINARB_DATA_DIR": f"{HERE}::test_data_dir",
    "DATABASE_URL": f"{HERE}::test_database_url",
    "CHAINARB_CHAIN_RPC_URL": SERVE,
    "CHAINARB_CHAIN_ID": "tests/backend/gateway/test_embedded.py::test_rpc_checks_the_chain_id",
    "CHAINARB_ANCHOR_ADDRESS": "tests/backend/gateway/test_embedded.py::test_deployment_file",
    "CHAINARB_ESCROW_ADDRESS": SERVE,
    "CHAINARB_TOKEN_ADDRESS": f"{HERE}::test_contract_addresses_win_over_the_deployment_file",
    "CHAINARB_INSTITUTION_KEY": f"{HERE}::test_institution_key",
    "CHAINARB_CONFIRMATIONS": f"{HERE}::test_confirmations",
    "CHAINARB_ANCHOR_INTERVAL_SECONDS": f"{HERE}::test_anchor_interval_seconds",
    "CHAINARB_ANCHOR_BATCH_LIMIT": f"{HERE}::test_anchor_batch_limit",
    "CHAINARB_LOG_ORIGIN": f"{HERE}::test_log_origin",
    "CHAINARB_ANCHOR_CHAINS": "tests/backend/worker/test_anchoring_chains.py::"
                              "test_a_chain_down_mid_round_catches_up_with_nothing_lost_or_doubled",
    "CHAINARB_CHAIN_NAME": "tests/backend/test_settings.py::"
                           "test_chain_labels_name_each_anchoring_chain_and_its_operator",
    "CHAINARB_CHAIN_OPERATED_BY_INSTITUTION": "tests/backend/test_settings.py::"
                                              "test_chain_labels_name_each_anchoring_chain_and_its_operator",
    "CHAINARB_IPFS_API_URL": "tests/backend/evidence/test_kubo_upload.py::test_upload_through_kubo",
    "CHAINARB_SMTP_HOST": "tests/backend/api/test_notices.py::"
                          "test_notices_in_each_language_reach_the_smtp_server",
    "CHAINARB_SMTP_PORT": "tests/backend/api/test_notices.py::"
                          "test_notices_in_each_language_reach_the_smtp_server",
    "CHAINARB_SMTP_USER": f"{HERE}::test_smtp_login_and_sender",
    "CHAINARB_SMTP_PASSWORD": f"{HERE}::test_smtp_login_and_sender",
    "CHAINARB_SMTP_FROM": f"{HERE}::test_smtp_login_and_sender",
    "CHAINARB_SMTP_STARTTLS": f"{HERE}::test_smtp_starttls",
    "CHAINARB_TSA_URLS": "tests/backend/api/test_app_settings.py::"
                         "test_serve_worker_stamps_with_the_configured_authorities",
    "CHAINARB_TSA_CERT_FILES": "tests/backend/api/test_app_settings.py::"
                               "test_serve_worker_stamps_with_the_configured_authorities",
    "CHAINARB_HOST": f"{HERE}::test_host_port_and_public_url",
    "CHAINARB_PORT": f"{HERE}::test_host_port_and_public_url",
    "CHAINARB_PUBLIC_URL": f"{HERE}::test_host_port_and_public_url",
    "CHAINARB_MAX_UPLOAD_BYTES": f"{HERE}::test_max_upload_bytes",
    "CHAINARB_WEBHOOK_SENDERS":
        "tests/backend/test_performance_config.py::test_webhook_senders_from_the_environment",
    "CHAINARB_PDF_FONT": f"{HERE}::test_pdf_font",
    "CHAINARB_SESSION_SECRET": f"{HERE}::test_session_secret",
    "CHAINARB_SESSION_LIFETIME_SECONDS": f"{HERE}::test_session_lifetime_seconds",
    "CHAINARB_INSTITUTION_ADMINS": f"{HERE}::test_institution_admins",
    "CHAINARB_TICK_SECONDS": f"{HERE}::test_tick_seconds",
    **dict.fromkeys(
        ("CHAINARB_JURY_MAX_AMOUNT", "CHAINARB_JURY_SIZE"),
        "tests/backend/api/test_jury_api.py::test_the_settings_make_the_jury_track_and_its_size"),
    **dict.fromkeys(
        ("CHAINARB_FAST_TRACK_MAX_AMOUNT", "CHAINARB_FAST_TRACK_DAYS"),
        "tests/backend/api/test_fast_track_api.py::"
        "test_the_settings_open_the_track_and_set_its_window"),
    **dict.fromkeys(
        ("CHAINARB_INSTITUTION_NAME", "CHAINARB_INSTITUTION_NAME_ZH", "CHAINARB_INSTITUTION_SEAT",
         "CHAINARB_INSTITUTION_REGISTRATION", "CHAINARB_INSTITUTION_WEBSITE",
         "CHAINARB_INSTITUTION_KEY_CUSTODY"),
        "tests/backend/package/test_package.py::test_the_package_names_everyone_in_signed_words"),
    "CHAINARB_NEGOTIATION_DAYS": f"{HERE}::test_default_deadlines",
    "CHAINARB_FACILITATION_DAYS": f"{HERE}::test_default_deadlines",
    "CHAINARB_EVIDENCE_DAYS": f"{HERE}::test_default_deadlines",
    "CHAINARB_AWARD_DAYS": f"{HERE}::test_default_deadlines",
    "CHAINARB_OBJECTION_DAYS": f"{HERE}::test_default_deadlines",
}


# --- the table ---------------------------------------------------------------------------


def readme_variables() -> list[str]:
    """The variables of the README's Configuration table; `_PORT` after `CHAINARB_SMTP_HOST`
    is resolved against the Settings fields (CHAINARB_SMTP_PORT)."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Configuration"):]
    fields = {f"CHAINARB_{name.upper()}" for name in Settings.model_fields} | {"DATABASE_URL"}
    out: list[str] = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        names = re.findall(r"`([A-Z_]+)`", line.split("|")[1])
        first = names[0]
        for name in names:
            if not name.startswith("_"):
                out.append(name)
                continue
            parts = first.split("_")
            for cut in range(len(parts) - 1, 0, -1):
                candidate = "_".join(parts[:cut]) + name
                if candidate in fields:
                    out.append(candidate)
                    break
            else:
                raise AssertionError(f"README: cannot resolve {name} after {first}")
    return out


def test_every_readme_variable_has_an_effect_test() -> None:
    variables = readme_variables()
    assert len(variables) >= 30, variables
    fields = {f"CHAINARB_{name.upper()}" for name in Settings.model_fields} | {"DATABASE_URL"}
    assert set(variables) <= fields, set(variables) - fields  # the README names real settings
    assert set(variables) == set(EFFECTS), (set(variables) ^ set(EFFECTS))
    for variable, ref in EFFECTS.items():
        path, _, name = ref.partition("::")
        source = (ROOT / path).read_text()
        assert re.search(rf"^def {name}\(", source, re.MULTILINE), (variable, ref)


# --- a service built as `chainarb serve` builds it -----------------------------------------


def _world(tmp_path: Path, *, anchor_sender: Any = None, background: bool = False,
           settings: Settings | None = None, **overrides: Any) -> World:
    """create_app from Settings (data dir and SQLite in tmp_path unless given), an in-memory
    escrow with one paid order, the API's actors; the institution is the settings' key."""
    keys = {n: _key(n) for n in NAMES}
    if settings is None:
        env: dict[str, Any] = {"data_dir": tmp_path / "data",
                               "institution_admins": keys["admin"].address, **overrides}
        settings = Settings(**env)
    institution = Account.from_key(settings.institution_private_key()).address
    clock = Clock()
    port = FakeEscrowPort(chain_id=CHAIN_ID, escrow=ESCROW, institution=institution,
                          clock=clock)
    port.add_order(OrderInfo(order_id=ORDER_ID, buyer=keys["buyer"].address,
                             seller=keys["seller"].address, amount=1_000_000_000,
                             token="0x" + "11" * 20, institution=institution, status="Paid",
                             case_id="0x" + "00" * 32, guarantee=300_000_000))
    app = create_app(settings, clock=clock, port=port, blockstore=MemoryBlockstore(),
                     anchor_sender=anchor_sender, background=background)
    world = World(client=OneTripClient(app), clock=clock, port=port,
                  blockstore=MemoryBlockstore())
    world.actors = {n: Actor(n, k, world) for n, k in keys.items()}
    return world


# --- storage -----------------------------------------------------------------------------


def test_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "elsewhere"
    w = _world(tmp_path, data_dir=data)
    with w.client:
        w.buyer.sign_in()
    assert (data / "chainarb.sqlite3").is_file()  # the database lives in the data dir ...
    assert (data / "session.secret").stat().st_mode & 0o777 == 0o600  # ... so does the secret
    with sqlite3.connect(data / "chainarb.sqlite3") as db:
        assert db.execute("select count(*) from auth_session").fetchone() == (1,)


@pytest.mark.parametrize("variable", ["DATABASE_URL", "CHAINARB_DATABASE_URL"])
def test_database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAINARB_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    target = tmp_path / "chosen.db"
    monkeypatch.setenv(variable, f"sqlite:///{target}")
    monkeypatch.setenv("CHAINARB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHAINARB_INSTITUTION_ADMINS", _key("admin").address)
    w = _world(tmp_path, settings=load_settings())
    with w.client:
        w.buyer.sign_in()
    assert not (tmp_path / "data" / "chainarb.sqlite3").exists()
    with sqlite3.connect(target) as db:
        assert db.execute("select address from auth_session").fetchall() == [
            (w.buyer.address,)]


def test_contract_addresses_win_over_the_deployment_file(tmp_path: Path) -> None:
    from backend.gateway.deployment import Deployment, load_deployment, save_deployment

    s = Settings(data_dir=tmp_path)
    save_deployment(s.deployment_path, Deployment(chain_id=31_415_926, anchor="0x" + "aa" * 20,
                                                  escrow="0x" + "bb" * 20,
                                                  token="0x" + "cc" * 20, block_number=1))
    token = "0x" + "12" * 20
    got = load_deployment(Settings(data_dir=tmp_path, token_address=token))
    assert got is not None and got.token and got.anchor and got.escrow
    assert (got.token.lower(), got.anchor.lower(), got.escrow.lower()) == (
        token, "0x" + "aa" * 20, "0x" + "bb" * 20)


# --- chain and institution -----------------------------------------------------------------


def test_institution_key(tmp_path: Path) -> None:
    key = "0x" + "4c" * 32
    w = _world(tmp_path, institution_key=key)
    with w.client:
        health = w.client.get("/health").json()
    assert health["institution"] == Account.from_key(key).address


def _anchoring_world(tmp_path: Path, chain: FakeChain, **overrides: Any) -> World:
    return _world(tmp_path, anchor_sender=chain, **overrides)


def _anchor_all(w: World, runs: int = 20) -> None:
    for _ in range(runs):
        w.app.state.ctx.anchoring.run_once()


@pytest.mark.parametrize("limit", [1, 2, 1000])
def test_anchor_batch_limit(tmp_path: Path, limit: int) -> None:
    chain = FakeChain()
    w = _anchoring_world(tmp_path, chain, anchor_batch_limit=limit)
    with w.client:
        to_negotiation(w)  # several signed steps: each is a leaf to anchor
        _anchor_all(w)
    # the limit counts records; each root also carries the log's checkpoint (one more leaf)
    counts = [tx["count"] - 1 for tx in chain.mined_tx.values()]
    assert sum(counts) >= 3, counts
    assert max(counts) == min(limit, sum(counts)), counts


@pytest.mark.parametrize("origin", ["", "odr.example.org/log"])
def test_log_origin(tmp_path: Path, origin: str) -> None:
    """The origin names the log in every checkpoint the worker signs and every receipt;
    unset, it is the public URL's host and path + /log."""
    chain = FakeChain()
    w = _anchoring_world(tmp_path, chain, log_origin=origin,
                         public_url="https://arb.example.com/odr")
    with w.client:
        to_filed(w)
        _anchor_all(w, runs=2)
        cp = ok(w.stranger.get("/log/checkpoint"))
    want = origin or "arb.example.com/odr/log"
    assert cp["checkpoint"].splitlines()[0] == want
    assert w.app.state.ctx.log.origin == want


@pytest.mark.parametrize("confirmations", [1, 3])
def test_confirmations(tmp_path: Path, confirmations: int) -> None:
    chain = FakeChain()
    w = _anchoring_world(tmp_path, chain, confirmations=confirmations)
    with w.client:
        to_filed(w)
        worker = w.app.state.ctx.anchoring
        first = [len(worker.run_once().confirmed) for _ in range(2)]  # mined, no new block
        chain.empty_block()
        chain.empty_block()
        later = len(worker.run_once().confirmed)
    if confirmations == 1:
        assert sum(first) >= 1 and later == 0
    else:
        assert first == [0, 0] and later >= 1  # only once 3 blocks hold the anchor


@pytest.mark.parametrize(("interval", "anchored_again"), [(0.0, True), (3600.0, False)])
def test_anchor_interval_seconds(tmp_path: Path, interval: float, anchored_again: bool) -> None:
    chain = FakeChain()
    w = _anchoring_world(tmp_path, chain, anchor_interval_seconds=interval)
    with w.client:
        to_filed(w)
        w.app.state.ctx.tick()  # the first tick anchors whatever the interval
        txs = len(chain.mined_tx)
        assert txs >= 1
        ok(w.seller.post(f"/cases/{w.case_id}/arbitration-agreement",
                         json=w.seller.plain("arbitration.agreed")))
        w.app.state.ctx.tick()  # at once: anchors again only with interval 0
        assert (len(chain.mined_tx) > txs) is anchored_again


@pytest.mark.parametrize(("tick", "anchored"), [(0.05, True), (3600.0, False)])
def test_tick_seconds(tmp_path: Path, tick: float, anchored: bool) -> None:
    chain = FakeChain()
    w = _anchoring_world(tmp_path, chain, background=True, tick_seconds=tick,
                         anchor_interval_seconds=0)
    with w.client:  # the lifespan starts the background loop
        to_filed(w)
        deadline = time.monotonic() + (10 if anchored else 1.5)
        while time.monotonic() < deadline and not chain.mined_tx:
            time.sleep(0.05)
    assert bool(chain.mined_tx) is anchored


# --- notices -------------------------------------------------------------------------------


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        from email import message_from_bytes

        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
            return AuthResult(success=auth_data.password == b"mail-pw")
        return AuthResult(success=False)


def _smtp_server(box: _Mailbox, **kw: Any) -> Any:
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    controller = Controller(box, hostname="127.0.0.1", port=port, **kw)
    controller.start()
    return controller


def _notify(w: World) -> dict[str, Any]:
    ok(w.client.put("/auth/me", headers=w.seller.headers,
                    json={"email": "seller@example.cn", "preferredLanguage": "en"}))
    to_filed(w)
    return w.app.state.ctx.tick().as_dict()


def test_smtp_login_and_sender(tmp_path: Path) -> None:
    box = _Mailbox()
    server = _smtp_server(box, authenticator=box.authenticate, auth_require_tls=False)
    try:
        w = _world(tmp_path, smtp_host="127.0.0.1", smtp_port=server.port, smtp_user="odr",
                   smtp_password="mail-pw", smtp_from="Registry <registry@odr.example>")
        with w.client:
            report = _notify(w)
    finally:
        server.stop()
    assert report["notices_sent"] >= 1 and report["notices_failed"] == 0
    assert box.logins and set(box.logins) == {("odr", "mail-pw")}
    assert {m["From"] for m in box.messages} == {"Registry <registry@odr.example>"}


@pytest.mark.parametrize("starttls", [False, True])
def test_smtp_starttls(tmp_path: Path, starttls: bool) -> None:
    box = _Mailbox()
    server = _smtp_server(box)  # offers no STARTTLS
    try:
        w = _world(tmp_path, smtp_host="127.0.0.1", smtp_port=server.port,
                   smtp_starttls=starttls)
        with w.client:
            report = _notify(w)
    finally:
        server.stop()
    if starttls:  # the sender insists on TLS: nothing goes out in clear
        assert report["notices_sent"] == 0 and report["notices_failed"] >= 1
        assert box.messages == []
    else:
        assert report["notices_sent"] >= 1 and box.messages


# --- web -----------------------------------------------------------------------------------


def test_host_port_and_public_url(tmp_path: Path) -> None:
    w = _world(tmp_path, host="127.0.0.5", port=8123)
    with w.client:
        msg = w.client.get("/auth/nonce", params={"address": w.buyer.address}).json()["message"]
    assert msg.startswith("127.0.0.5:8123 wants you to sign in")
    assert "\nURI: http://127.0.0.5:8123\n" in msg
    w = _world(tmp_path / "2", host="127.0.0.5", port=8123, public_url="https://odr.example")
    with w.client:
        msg = w.client.get("/auth/nonce", params={"address": w.buyer.address}).json()["message"]
    assert "\nURI: https://odr.example\n" in msg


def test_pdf_font(tmp_path: Path) -> None:
    """The font the judicial certificate embeds for its Chinese text; one that cannot serve
    stops the start with what to do."""
    from types import SimpleNamespace

    from backend.api.routes.court import get_packages
    from backend.settings import SettingsError
    from evidence.judicial import _fonts

    with pytest.raises(SettingsError, match=r"CHAINARB_PDF_FONT: PDF font .* no such file"):
        load_settings(data_dir=tmp_path, pdf_font=tmp_path / "none.ttc")
    with pytest.raises(SettingsError, match="no Chinese glyphs"):
        load_settings(data_dir=tmp_path, pdf_font=_fonts._VERA / "Vera.ttf")
    font = next(p for p, _ in _fonts.CJK_FONT_CANDIDATES if p.is_file())
    w = _world(tmp_path, pdf_font=font)
    with w.client:
        app = w.client.app
        packages = get_packages(SimpleNamespace(app=app), app.state.ctx)  # type: ignore[arg-type, attr-defined]
    assert packages.pdf_font == font  # what build_package embeds (tests/judicial/..._render)


def test_max_upload_bytes(tmp_path: Path) -> None:
    from tests.support.evidence import PDF, upload

    w = _world(tmp_path, max_upload_bytes=len(PDF))
    with w.client:
        w.open_case("buyer")
        to_filed_rest(w)
        too_big = upload(w.buyer, PDF + b"\n%" + b"0" * 100)
        assert too_big.status_code == 413, too_big.text
        assert too_big.json()["code"] == "upload_too_large"
        assert f"{len(PDF)} bytes" in too_big.json()["detail"]
        assert upload(w.buyer, PDF).status_code == 201


def to_filed_rest(w: World) -> None:
    from tests.support.world import file_claim

    file_claim(w)
    w.port.party_raises_dispute(ORDER_ID, w.case_id)
    w.tick()


def test_session_secret(tmp_path: Path) -> None:
    data = tmp_path / "data"
    secret = "s" * 40
    first = _world(tmp_path, data_dir=data, session_secret=secret)
    with first.client:
        token = first.buyer.sign_in()
        assert first.client.get("/auth/me", headers=first.buyer.headers).status_code == 200

    def me(world: World) -> int:
        with world.client:
            return world.client.get("/auth/me", headers={
                "Authorization": f"Bearer {token}"}).status_code

    assert me(_world(tmp_path, data_dir=data, session_secret=secret)) == 200  # a restart
    assert me(_world(tmp_path, data_dir=data, session_secret="t" * 40)) == 401  # rotated
    assert me(_world(tmp_path, data_dir=data)) == 401  # the generated one is another secret
    with sqlite3.connect(data / "chainarb.sqlite3") as db:
        (stored,) = db.execute("select token_sha256 from auth_session").fetchone()
    import hashlib

    assert stored != "0x" + hashlib.sha256(token.encode()).hexdigest()  # keyed, not plain


def test_session_lifetime_seconds(tmp_path: Path) -> None:
    w = _world(tmp_path, session_lifetime_seconds=600)
    with w.client:
        r = w.client.get("/auth/nonce", params={"address": w.buyer.address}).json()
        from eth_account.messages import encode_defunct

        sig = w.buyer.key.sign_message(encode_defunct(text=r["message"])).signature.hex()
        signed = w.client.post("/auth/sign-in", json={
            "message": r["message"], "signature": "0x" + sig.removeprefix("0x")}).json()
        assert signed["expiresAt"] == (T0 + timedelta(seconds=600)).strftime("%Y-%m-%dT%H:%M:%SZ")
        auth = {"Authorization": f"Bearer {signed['token']}"}
        w.clock.advance(seconds=599)
        assert w.client.get("/auth/me", headers=auth).status_code == 200
        w.clock.advance(seconds=2)
        assert w.client.get("/auth/me", headers=auth).status_code == 401


def test_institution_admins(tmp_path: Path) -> None:
    w = _world(tmp_path, institution_admins=_key("mediator").address.lower())
    with w.client:
        assert ok(w.mediator.get("/auth/me"))["admin"] is True
        assert ok(w.admin.get("/auth/me"))["admin"] is False
        r = w.admin.post("/admin/tick")
        assert r.status_code == 403 and r.json()["code"] == "access_denied"


# --- default rules -----------------------------------------------------------------------

_STAGES = {
    "negotiation_days": (to_negotiation, 3),
    "facilitation_days": (to_facilitation, 4),
    "evidence_days": (to_evidence, 2),
    "award_days": (None, 6),
    "objection_days": (to_awarded, 8),
}


def _to_record_closed(w: World) -> None:
    to_evidence(w)
    ok(w.arbitrator.post(f"/cases/{w.case_id}/close-record",
                         json=w.arbitrator.plain("record.closed")))


@pytest.mark.parametrize("field", list(_STAGES))
def test_default_deadlines(tmp_path: Path, field: str) -> None:
    drive, days = _STAGES[field]
    w = _world(tmp_path, **{field: days})  # type: ignore[arg-type]
    with w.client:
        (drive or _to_record_closed)(w)
        deadline = w.admin.case()["deadline"]
    assert deadline == (T0 + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ"), field
