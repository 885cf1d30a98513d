"""Helpers of the evidence tests: a World on a disk blockstore, multipart uploads, signing.

The client side is what a wallet front-end does: upload the file, check the commitment it
is asked to sign against its own file, sign the typed data (eth_signTypedData_v4), post it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from api_helpers import (
    CHAIN_ID,
    ESCROW,
    GUARANTEE,
    NAMES,
    ORDER_ID,
    Actor,
    Clock,
    World,
    _key,
    file_claim,
)
from eth_account import Account
from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.services.chain import FakeEscrowPort, OrderInfo
from backend.services.evidence import EvidenceService
from backend.settings import Settings
from evidence.commitment import commitment_of
from evidence.ipfs import LocalBlockstore
from evidence.records import SignedRecord
from tests.keys import INSTITUTION_KEY

AMOUNT = 1_000_000_000
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + b"0" * 2000 + b"\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00" * 300


def make_evidence_world(db_url: str, tmp_path: Path) -> World:
    clock = Clock()
    institution = Account.from_key(INSTITUTION_KEY).address
    port = FakeEscrowPort(chain_id=CHAIN_ID, escrow=ESCROW, institution=institution,
                          clock=clock)
    keys = {n: _key(n) for n in NAMES}
    for order_id in (ORDER_ID, ORDER_ID + 1):
        port.add_order(OrderInfo(order_id=order_id, buyer=keys["buyer"].address,
                                 seller=keys["seller"].address, amount=AMOUNT,
                                 token="0x" + "11" * 20, institution=institution,
                                 status="Paid", case_id="0x" + "00" * 32, guarantee=GUARANTEE))
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url,
                        institution_admins=keys["admin"].address,
                        institution_key=INSTITUTION_KEY)
    blockstore = LocalBlockstore(tmp_path / "blocks", fsync=False)
    app = create_app(settings, clock=clock, port=port, blockstore=blockstore,  # type: ignore[arg-type]
                     background=False)
    world = World(client=TestClient(app), clock=clock, port=port,
                  blockstore=blockstore)  # type: ignore[arg-type]
    world.actors = {n: Actor(n, k, world) for n, k in keys.items()}
    return world


def service(world: World) -> EvidenceService:
    """The app's evidence service (built on first use by the routes)."""
    svc = getattr(world.app.state, "evidence", None)
    if svc is None:
        ctx = world.app.state.ctx
        svc = EvidenceService(ctx.sessions, ctx.service, blockstore=ctx.service.blockstore,
                              max_upload_bytes=ctx.settings.max_upload_bytes, clock=ctx.clock)
        world.app.state.evidence = svc
    return svc


def blocks(world: World) -> set[str]:
    return set(world.blockstore.keys())  # type: ignore[attr-defined]


def filed_case(world: World) -> str:
    case_id = world.open_case("buyer")
    file_claim(world)
    world.port.party_raises_dispute(ORDER_ID, case_id)  # the buyer's wallet freezes the escrow
    world.tick()
    return case_id


def upload(actor: Actor, content: bytes, *, filename: str = "invoice.pdf",
           content_type: str = "application/pdf", kind: str = "invoice",
           case_id: str | None = None, fields: dict[str, str] | None = None) -> Any:
    cid = case_id or actor.world.case_id
    return actor._retry(lambda: actor.world.client.post(
        f"/cases/{cid}/evidence", params={"kind": kind}, headers=actor.headers,
        files={"file": (filename, content, content_type)}, data=fields or {}))


def sign_staged(actor: Actor, staged: dict[str, Any]) -> dict[str, Any]:
    """Check the commitment against the file the client holds, then sign the typed data."""
    typed = staged["typedData"]
    salt = bytes.fromhex(staged["salt"][2:])
    sha = bytes.fromhex(staged["sha256"][2:])
    assert "0x" + commitment_of(sha, salt).hex() == typed["message"]["commitment"]
    sig = actor.key.sign_typed_data(full_message=typed).signature
    return SignedRecord.from_json_obj(staged["unsignedRecord"]).with_signature(
        bytes(sig)).to_json_obj()


def submit(actor: Actor, item_id: int, record: dict[str, Any], case_id: str | None = None
           ) -> Any:
    cid = case_id or actor.world.case_id
    return actor.post(f"/cases/{cid}/evidence/{item_id}/submit", json={"record": record})


def upload_and_submit(actor: Actor, content: bytes, **kw: Any) -> dict[str, Any]:
    r = upload(actor, content, **kw)
    assert r.status_code == 201, r.text
    staged = r.json()
    s = submit(actor, staged["id"], sign_staged(actor, staged), kw.get("case_id"))
    assert s.status_code == 201, s.text
    return s.json()  # type: ignore[no-any-return]


def sha256(data: bytes) -> str:
    return "0x" + hashlib.sha256(data).hexdigest()
