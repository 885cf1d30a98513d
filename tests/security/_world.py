"""The attacker's world: two real cases on one service (SQLite), each with its own parties.

Case A (order 7) is between ``buyer`` and ``seller`` (the test world's actors) and is brought
to the evidence stage with an uploaded, submitted evidence item and a court granted access;
case B (order 8) is between ``buyer_b`` and ``seller_b`` and is filed. Every attack in
tests/security starts from here, so "a party of another case" is a real party of a real
case, not a made-up address.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence.commitment import commitment_of
from evidence.records import SignedRecord
from tests.support.migrated import migrated
from tests.support.world import (
    ORDER_ID,
    Actor,
    World,
    filing_payload,
    make_world,
    ok,
    to_evidence,
)

__all__ = ["ORDER_B", "Attack", "Twin", "expect", "make_twin", "upload_evidence"]

ORDER_B = ORDER_ID + 1
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + b"0" * 2000 + b"\n%%EOF\n"


@dataclass
class Twin:
    """Two cases on one service: ``a`` (evidence stage, one evidence item, court granted)
    and ``b`` (filed, another pair of parties)."""

    world: World
    a: str
    b: str
    item_a: int
    item_b: int

    def actor(self, name: str) -> Actor:
        return self.world.actors[name]


def make_security_world(tmp_path: Path) -> World:
    """The API world on a fresh, migrated SQLite file with a disk blockstore and two orders
    of two pairs of parties."""
    url = f"sqlite:///{tmp_path / 'security.sqlite3'}"
    migrated(url)
    orders = ((ORDER_ID, "buyer", "seller"), (ORDER_B, "buyer_b", "seller_b"))
    return make_world(url, tmp_path, orders=orders, disk_blocks=True)


def upload_evidence(actor: Actor, case_id: str, content: bytes = PDF) -> int:
    """Upload a file and sign its EvidenceSubmission as a wallet front-end would."""
    w = actor.world
    r = actor._retry(lambda: w.client.post(
        f"/cases/{case_id}/evidence", params={"kind": "invoice"}, headers=actor.headers,
        files={"file": ("invoice.pdf", content, "application/pdf")}))
    assert r.status_code == 201, r.text
    staged = r.json()
    typed = staged["typedData"]
    assert "0x" + commitment_of(bytes.fromhex(staged["sha256"][2:]),
                                bytes.fromhex(staged["salt"][2:])).hex() == \
        typed["message"]["commitment"]
    sig = actor.key.sign_typed_data(full_message=typed).signature
    record = SignedRecord.from_json_obj(staged["unsignedRecord"]).with_signature(
        bytes(sig)).to_json_obj()
    ok(actor.post(f"/cases/{case_id}/evidence/{staged['id']}/submit", json={"record": record}))
    return int(staged["id"])


def make_twin(tmp_path: Path) -> Twin:
    w = make_security_world(tmp_path)
    w.client.__enter__()
    # case B first: filed by its own buyer, with one evidence item of its own
    w.open_case("buyer_b", order_id=ORDER_B)
    b = w.case_id
    payload = filing_payload(w, claimant="buyer") | {
        "claimant": w.buyer_b.address, "respondent": w.seller_b.address,
        "orderId": str(ORDER_B)}
    ok(w.buyer_b.post(f"/cases/{b}/filing", json=w.buyer_b.plain("case.filed", payload)))
    w.port.party_raises_dispute(ORDER_B, b)
    item_b = upload_evidence(w.buyer_b, b, PDF + b"case B")
    # case A: to the evidence stage, a court granted, one evidence item
    to_evidence(w)
    a = w.case_id
    ok(w.admin.post("/admin/courts", json={"address": w.court.address, "name": "Court"}))
    ok(w.admin.post(f"/cases/{a}/courts", json={"court": w.court.address}))
    item_a = upload_evidence(w.buyer, a, PDF + b"case A")
    return Twin(world=w, a=a, b=b, item_a=item_a, item_b=item_b)


@dataclass(frozen=True)
class Attack:
    """One named attack: what is sent and exactly how it must be refused."""

    id: str
    status: int
    code: str
    detail: Any = None


def expect(r: Any, status: int, code: str) -> dict[str, Any]:
    """The exact refusal: status, a JSON ``{"code", "detail"}`` body, and the code."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    body = r.json()
    assert set(body) == {"code", "detail"}, body
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"], body
    return body
