"""The institution rotates its key in the middle of a case, on a real EVM: the handover is
a step signed by the old key and anchored, the escrow follows (the new key appoints the
arbitrator on an order that names the old one), stored data keys open with the new key
only, and the court's package spanning the rotation verifies (docs/judicial-package.md §3,
docs/operations.md "Rotating the institution key")."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from eth_account import Account
from pydantic import SecretStr
from sqlmodel import select

from backend.api.app import create_app
from backend.chain.contracts import Timeouts
from backend.chain.devchain import advance_time, fund
from backend.db import EvidenceItem
from backend.gateway.escrow import Web3EscrowPort
from backend.services.keys import ServiceKey
from backend.services.rotation import KEY_ROTATED, drop_old_wraps, rotate_institution_key
from backend.worker.chain_sender import Web3AnchorSender
from evidence.encryption import KeyWraps
from evidence.judicial import _format as fmt
from evidence.judicial.verify import verify_package
from tests.backend.package.package_world import (
    AWARD_DOC,
    ChainWorld,
    _enforced,
    award_body,
    post,
)
from tests.keys import INSTITUTION_KEY
from tests.support.asgi_client import OneTripClient
from tests.support.evidence import upload_and_submit
from tests.support.identity import declare_profile, disclose
from tests.support.world import filing_payload, sha

ETHER = 10**18
PHOTO = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00cracked" * 500


def _switch(cw: ChainWorld, new_key: str) -> OneTripClient:
    """The service restarted with the new key (same data dir, database and blockstore)."""
    w = cw.world
    old = w.app.state.ctx
    settings = old.settings.model_copy(update={"institution_key": SecretStr(new_key)})
    port = Web3EscrowPort(cw.escrow, Account.from_key(new_key))
    app = create_app(settings, clock=w.clock, port=port,
                     blockstore=w.blockstore,
                     anchor_sender=[Web3AnchorSender(cw.w3, cw.anchor, new_key)],
                     background=False)
    client = OneTripClient(app)
    client.__enter__()
    w.client, w.port = client, port  # type: ignore[assignment]
    return client


def _filed(cw: ChainWorld, case_id: str | None = None) -> str:
    w = cw.world
    case_id = case_id or w.open_case("buyer", cw.order_id)
    declare_profile(w.buyer, "Lena Fischer", "莉娜·菲舍尔", "DE", contact="lena@example.de")
    declare_profile(w.seller, "Shenzhen Brightway Lighting Co., Ltd.", "深圳明途照明有限公司",
                    "CN", language="zh-Hans")
    payload = filing_payload(w, amount=ETHER) | {"orderId": str(cw.order_id)}
    post(w.buyer, f"/cases/{case_id}/filing", w.buyer.plain("case.filed", payload))
    cw.escrow.raise_dispute(w.buyer.key, cw.order_id, bytes.fromhex(case_id[2:]))
    w.tick()
    upload_and_submit(w.buyer, PHOTO, filename="cracked.png", content_type="image/png",
                      kind="photo")
    for who in ("seller", "buyer"):
        post(w.actors[who], f"/cases/{case_id}/arbitration-agreement",
             w.actors[who].plain("arbitration.agreed"))
    post(w.buyer, f"/cases/{case_id}/facilitation", w.buyer.plain("facilitation.requested"))
    appointed = post(w.admin, f"/cases/{case_id}/mediator",
                     w.admin.appoint("mediator", w.mediator))
    disclose(w.mediator, case_id, "mediator", appointed)
    post(w.mediator, f"/cases/{case_id}/impasse", w.mediator.plain("impasse.declared"))
    return case_id


def _to_enforcement(cw: ChainWorld, case_id: str) -> None:
    w = cw.world
    appointed = post(w.admin, f"/cases/{case_id}/arbitrator",
                     w.admin.appoint("arbitrator", w.arbitrator))
    disclose(w.arbitrator, case_id, "arbitrator", appointed)
    w.tick()  # the executor appoints the arbitrator on the escrow, with the new key
    post(w.seller, f"/cases/{case_id}/answer",
         w.seller.plain("answer.submitted", {"answerHash": sha(b"The panels left intact.")}))
    post(w.arbitrator, f"/cases/{case_id}/close-record", w.arbitrator.plain("record.closed"))
    post(w.arbitrator, f"/cases/{case_id}/award",
         award_body(cw, w.arbitrator, 12 * ETHER // 10, 8 * ETHER // 10, ETHER // 4,
                    doc=AWARD_DOC))
    w.tick()
    advance_time(cw.w3, Timeouts().objection + 60)
    cw.advance(days=10, seconds=1)
    w.tick()
    post(w.buyer, f"/cases/{case_id}/enforcement", w.buyer.plain("enforcement.requested"))
    _enforced(cw)


def _package(cw: ChainWorld, case_id: str, tmp_path: Path) -> Path:
    w = cw.world
    r = w.admin.post("/admin/courts", json={"address": w.court.address, "name": "Court"})
    assert r.status_code in (200, 201), r.text
    r = w.admin.post(f"/cases/{case_id}/courts", json={"court": w.court.address})
    assert r.status_code in (200, 201), r.text
    cw.anchor_all()
    url = f"/cases/{case_id}/judicial-package"
    r = w.court.get(url)
    if r.status_code == 409:
        cw.anchor_all()
        r = w.court.get(url)
    assert r.status_code == 200, r.text[:300]
    pkg = tmp_path / "package.zip"
    pkg.write_bytes(r.content)
    return pkg


def test_a_case_spanning_a_rotation_runs_and_its_package_verifies(
        chain_world: ChainWorld, tmp_path: Path) -> None:
    cw = chain_world
    w = cw.world
    old = Account.from_key(INSTITUTION_KEY)
    new = Account.create()
    fund(cw.w3, [new.address], 10 * ETHER)
    case_id = _filed(cw)

    rotation = rotate_institution_key(w.app.state.ctx.service, new.key.hex())
    assert (rotation.old, rotation.new) == (old.address, new.address)
    assert rotation.handed_over == (case_id,) and rotation.unfiled == ()
    assert rotation.tx_hash is not None and rotation.wraps_added >= 2  # photo + documents
    assert cw.escrow.institution_of(old.address) == new.address
    assert cw.escrow.is_admin(new.address) is False  # the test deployer is the admin here
    # running it again changes nothing: every phase is done
    again = rotate_institution_key(w.app.state.ctx.service, new.key.hex())
    assert (again.handed_over, again.tx_hash, again.wraps_added) == ((), None, 0)

    timeline = w.buyer.get(f"/cases/{case_id}/timeline").json()
    handover = [e for e in timeline if KEY_ROTATED in json.dumps(e)]
    assert len(handover) == 1, timeline
    assert w.buyer.case()["institution"] == old.address  # until the service switches

    _switch(cw, new.key.hex())
    sessions = w.app.state.ctx.sessions
    dropped = drop_old_wraps(sessions, ServiceKey.from_institution_key(new.key.hex()),
                             [ServiceKey.from_institution_key(INSTITUTION_KEY).public])
    assert dropped == rotation.wraps_added
    with sessions() as s:
        item = s.exec(select(EvidenceItem)).first()
        assert item is not None
        wraps = KeyWraps.from_json(item.wrapped_keys["keywraps"])
    assert wraps.recipients() == (ServiceKey.from_institution_key(new.key.hex()).public,)
    # the photo uploaded before the rotation opens with the new key
    r = w.buyer.get(f"/cases/{case_id}/evidence/{item.id}/content")
    assert r.status_code == 200 and r.content == PHOTO, r.text[:200]

    _to_enforcement(cw, case_id)
    assert cw.escrow.order(cw.order_id).arbitrator == w.arbitrator.address

    pkg = _package(cw, case_id, tmp_path)
    report = verify_package(pkg, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes())
    assert report.ok, [(c.name, c.reason, c.details[:3]) for c in report.checks if not c.passed]
    with zipfile.ZipFile(pkg) as zf:
        manifest = json.loads(zf.read(fmt.MANIFEST))
    assert manifest["institution"]["address"] == new.address
    rotated = [t for t in manifest["timeline"] if t["action"] == KEY_ROTATED]
    assert [t["role"] for t in rotated] == ["institution"]
    checks = {c.name: c for c in report.checks}
    assert checks["attestation"].reason.endswith(f"signed by the institution {new.address}")

    identities = checks["identities"]
    assert identities.reason.endswith("2 institution key(s), each handed over by the one before")
    assert any(d.startswith(f"institution key / 机构密钥: {new.address}, handed over by "
                            f"{old.address} at step ") for d in identities.details)


@pytest.mark.parametrize("opened", ["before", "after"])
def test_a_case_filed_after_the_rotation_follows_the_escrow(
        chain_world: ChainWorld, tmp_path: Path, opened: str) -> None:
    """A case with no chain at the rotation (opened but not filed, or not even opened: the
    order was paid under the old key) gets no handover step; the package carries the
    escrow's InstitutionKeyRotated, proven by its receipt, and the verifier follows it."""
    cw = chain_world
    w = cw.world
    old = Account.from_key(INSTITUTION_KEY)
    new = Account.create()
    fund(cw.w3, [new.address], 10 * ETHER)
    case_id = w.open_case("buyer", cw.order_id) if opened == "before" else None
    rotation = rotate_institution_key(w.app.state.ctx.service, new.key.hex())
    assert rotation.handed_over == ()
    assert rotation.unfiled == ((case_id,) if case_id else ())
    _switch(cw, new.key.hex())
    if case_id is None:  # the order names the old key: the escrow says it is ours now
        case_id = w.open_case("buyer", cw.order_id)
    assert w.buyer.case(case_id)["institution"] == new.address
    _filed(cw, case_id)
    _to_enforcement(cw, case_id)

    pkg = _package(cw, case_id, tmp_path)
    report = verify_package(pkg, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes())
    assert report.ok, [(c.name, c.reason, c.details[:3]) for c in report.checks if not c.passed]
    with zipfile.ZipFile(pkg) as zf:
        manifest = json.loads(zf.read(fmt.MANIFEST))
        escrow = json.loads(zf.read(fmt.ESCROW))
    assert manifest["institution"]["address"] == new.address
    assert KEY_ROTATED not in [t["action"] for t in manifest["timeline"]]
    assert "InstitutionKeyRotated" in [a["event"] for a in escrow["acts"]]
    checks = {c.name: c for c in report.checks}
    assert any(d.startswith(f"institution key / 机构密钥: {new.address}, handed over by "
                            f"{old.address} on the escrow (InstitutionKeyRotated, tx 0x")
               for d in checks["identities"].details), checks["identities"].details
