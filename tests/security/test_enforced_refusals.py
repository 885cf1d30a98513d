"""Issue 9, defect 3: the documented refusals of evidence and court steps are enforced.

Over HTTP, through the generic step routes (the paths the outside test used): an
``EvidenceSubmission`` that no upload of its signer in this case backs, and a
``CourtConfirmation`` naming a package never exported to that court for this case, are
refused with the documented status and code, and nothing of them is stored. The real
thing passes the same route.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evidence.commitment import commitment_of
from evidence.ipfs import MemoryBlockstore, add_bytes_text
from evidence.records import EvidenceSubmission
from tests.support.evidence import make_evidence_world
from tests.support.migrated import migrated
from tests.support.snapshots import StageSnapshots
from tests.support.world import (
    ORDER_ID,
    Actor,
    World,
    award_record_hash,
    filing_payload,
    ok,
    to_awarded,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(tmp_path: Path, stage_snapshots: StageSnapshots) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'refusals.sqlite3'}"
    migrated(url)
    w = make_evidence_world(url, tmp_path)
    w.snapshots = stage_snapshots  # the drivers restore stages built once
    with w.client:
        yield w


def _filed(w: World, order_id: int) -> str:
    case_id = w.open_case("buyer", order_id)
    payload = filing_payload(w) | {"orderId": str(order_id)}
    ok(w.buyer.post(f"/cases/{case_id}/filing", json=w.buyer.plain("case.filed", payload)))
    return case_id


def _submission(a: Actor, case_id: str, commitment: str, cid: str) -> dict[str, Any]:
    seq, prev = a.head(case_id)
    rec = EvidenceSubmission(case_id=case_id, sequence=seq, prev_hash=prev, submitter=a.address,
                             commitment=commitment, content_cid=cid, signed_at=a.at())
    return {"record": rec.sign(a.key.key, a.world.domain).to_json_obj(),
            "payload": {"kind": "photo"}}


def _staged(a: Actor, case_id: str, content: bytes) -> dict[str, Any]:
    r = a.upload(content, case_id=case_id)
    assert r.status_code == 201, r.text
    return r.json()


def _refused(a: Actor, case_id: str, path: str, body: dict[str, Any], status: int,
             code: str) -> None:
    before = a.world.admin.case(case_id)
    r = a.post(f"/cases/{case_id}/{path}", json=body)
    assert (r.status_code, r.json().get("code")) == (status, code), r.text
    after = a.world.admin.case(case_id)
    assert (after["nextSequence"], after["stage"]) == (before["nextSequence"], before["stage"])


def test_evidence_step_with_a_random_commitment_is_refused(world: World) -> None:
    case_id = _filed(world, ORDER_ID)
    body = _submission(world.buyer, case_id, "0x" + secrets.token_hex(32),
                       "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
    _refused(world.buyer, case_id, "evidence-submissions", body, 409, "evidence_not_uploaded")


def test_evidence_step_naming_a_real_cid_never_uploaded_is_refused(world: World) -> None:
    case_id = _filed(world, ORDER_ID)
    content = b"an invoice the service never received\n"
    cid = add_bytes_text(content, cid_version=1, blockstore=MemoryBlockstore())
    commitment = "0x" + commitment_of(hashlib.sha256(content).digest(), b"\x07" * 32).hex()
    _refused(world.buyer, case_id, "evidence-submissions",
             _submission(world.buyer, case_id, commitment, cid), 409, "evidence_not_uploaded")


def test_evidence_step_naming_an_upload_of_another_case_is_refused(world: World) -> None:
    case_a = _filed(world, ORDER_ID)
    case_b = _filed(world, ORDER_ID + 1)
    other = _staged(world.buyer, case_b, b"uploaded to the other case\n")
    body = _submission(world.buyer, case_a, other["commitment"], other["contentCid"])
    _refused(world.buyer, case_a, "evidence-submissions", body, 409, "evidence_not_uploaded")


def test_evidence_step_naming_an_upload_of_the_other_party_is_refused(world: World) -> None:
    case_id = _filed(world, ORDER_ID)
    theirs = _staged(world.seller, case_id, b"the seller's own photo caption\n")
    body = _submission(world.buyer, case_id, theirs["commitment"], theirs["contentCid"])
    _refused(world.buyer, case_id, "evidence-submissions", body, 409, "evidence_not_uploaded")


def test_a_backed_evidence_step_is_admitted_once_and_bound(world: World) -> None:
    case_id = _filed(world, ORDER_ID)
    staged = _staged(world.buyer, case_id, b"the real exhibit\n")
    body = {"record": world.buyer.sign_staged(staged), "payload": {"kind": "invoice"}}
    r = world.buyer.post(f"/cases/{case_id}/evidence-submissions", json=body)
    assert r.status_code == 201, r.text
    item = ok(world.buyer.get(f"/cases/{case_id}/evidence/{staged['id']}"))
    assert item["status"] == "submitted" and item["kind"] == "photo"  # the upload's kind
    again = _submission(world.buyer, case_id, staged["commitment"], staged["contentCid"])
    _refused(world.buyer, case_id, "evidence-submissions", again, 409, "already_submitted")


# -- court decisions --------------------------------------------------------------------------

@pytest.fixture
def enforced(world: World) -> World:
    """Case ORDER_ID enforced, the court registered and given access; a second case."""
    w = world
    to_awarded(w)
    w.clock.advance(days=10, seconds=1)
    w.tick()
    ok(w.stranger.post(f"/cases/{w.case_id}/enforcement",
                       json=w.stranger.plain("enforcement.requested")))
    ok(w.admin.post("/admin/courts", json={"address": w.court.address, "name": "Court"}))
    ok(w.admin.post(f"/cases/{w.case_id}/courts", json={"court": w.court.address}))
    assert w.admin.case()["stage"] == "enforced"
    return w


PACKAGE = "0x" + hashlib.sha256(b"the manifest the court verified").hexdigest()


def test_court_decision_naming_a_package_never_exported_is_refused(enforced: World) -> None:
    w = enforced
    for confirmed in (True, False):
        body = w.court.court_decision(award_record_hash(w), confirmed=confirmed,
                                      reasons="" if confirmed else "Procedure defective.",
                                      package_hash=PACKAGE, downloaded=False)
        _refused(w.court, w.case_id, "court-decision", body, 409, "unknown_package")


def test_court_decision_naming_a_package_of_another_case_is_refused(enforced: World) -> None:
    w = enforced
    case_a = w.case_id
    case_b = w.open_case("buyer", ORDER_ID + 1)
    w.case_id = case_a
    w.record_package_download(w.court, PACKAGE, case_id=case_b)  # exported for case B
    w.record_package_download(w.stranger, PACKAGE, case_id=case_a)  # to someone else
    body = w.court.court_decision(award_record_hash(w), confirmed=True, package_hash=PACKAGE,
                                  downloaded=False)
    _refused(w.court, case_a, "court-decision", body, 409, "unknown_package")


def test_court_decision_naming_its_downloaded_package_is_admitted(enforced: World) -> None:
    w = enforced
    body = w.court.court_decision(award_record_hash(w), confirmed=True, package_hash=PACKAGE)
    r = w.court.post(f"/cases/{w.case_id}/court-decision", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["stage"] == "judicially_confirmed"
