"""Evidence on a test world: a World on a disk blockstore, multipart uploads, signing.

The client side is what a wallet front-end does: upload the file, check the commitment it
is asked to sign against its own file, sign the typed data (eth_signTypedData_v4), post it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from backend.services.evidence import EvidenceService
from evidence.commitment import commitment_of
from evidence.ipfs import LocalBlockstore
from evidence.records import SignedRecord, SignedRecordJson
from tests.support.world import ORDER_ID, Actor, World, file_claim, make_world

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + b"0" * 2000 + b"\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00" * 300


def make_evidence_world(db_url: str, tmp_path: Path) -> World:
    """The API world with a second order of the same parties and a disk blockstore (the
    evidence tests look at the blocks a file left behind)."""
    orders = ((ORDER_ID, "buyer", "seller"), (ORDER_ID + 1, "buyer", "seller"))
    return make_world(db_url, tmp_path, orders=orders, disk_blocks=True)


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
    store = world.blockstore
    assert isinstance(store, LocalBlockstore), "an evidence world keeps its blocks on disk"
    return set(store.keys())


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


def sign_staged(actor: Actor, staged: dict[str, Any]) -> SignedRecordJson:
    """Check the commitment against the file the client holds, then sign the typed data."""
    typed = staged["typedData"]
    salt = bytes.fromhex(staged["salt"][2:])
    sha = bytes.fromhex(staged["sha256"][2:])
    assert "0x" + commitment_of(sha, salt).hex() == typed["message"]["commitment"]
    sig = actor.key.sign_typed_data(full_message=typed).signature
    return SignedRecord.from_json_obj(staged["unsignedRecord"]).with_signature(
        bytes(sig)).to_json_obj()


def submit(actor: Actor, item_id: int, record: Mapping[str, object], case_id: str | None = None
           ) -> Any:
    cid = case_id or actor.world.case_id
    return actor.post(f"/cases/{cid}/evidence/{item_id}/submit", json={"record": record})


def upload_and_submit(actor: Actor, content: bytes, **kw: Any) -> dict[str, Any]:
    r = upload(actor, content, **kw)
    assert r.status_code == 201, r.text
    staged = r.json()
    s = submit(actor, staged["id"], sign_staged(actor, staged), kw.get("case_id"))
    assert s.status_code == 201, s.text
    accepted: dict[str, Any] = s.json()
    return accepted


def sha256(data: bytes) -> str:
    return "0x" + hashlib.sha256(data).hexdigest()
