"""Upload metadata in its own columns; readers' X25519 keys in ``reader_key`` (one per
member and case, replaced on re-registration), on SQLite and PostgreSQL (``pg_world`` runs
on both)."""

from __future__ import annotations

import io
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlmodel import select

from backend.db import EvidenceItem
from backend.db.service_models import CaseEvent, ReaderKey
from evidence.encryption import KeyWraps, generate_recipient_key, iter_decrypt, public_key_bytes
from evidence.errors import NotARecipient
from evidence.ipfs import cat
from tests.support.evidence import PDF, filed_case, service, sign_staged, submit, upload
from tests.support.world import World


def _register(w: World, actor: str, key: X25519PrivateKey) -> dict:
    r = w.client.put(f"/cases/{w.case_id}/encryption-key", headers=w.actors[actor].headers,
                     json={"publicKey": "0x" + public_key_bytes(key).hex()})
    assert r.status_code == 200, r.text
    return r.json()


def test_upload_metadata_is_in_columns_not_in_the_key_json(pg_world: World) -> None:
    w = pg_world
    filed_case(w)
    r = upload(w.buyer, PDF, content_type="image/png", kind="invoice")
    assert r.status_code == 201, r.text
    staged = r.json()
    assert staged["kind"] == "invoice" and staged["claimedMediaType"] == "image/png"
    assert staged["mediaType"] == "application/pdf"  # sniffed; the claim is only recorded
    with w.app.state.ctx.sessions() as s:
        item = s.get(EvidenceItem, staged["id"])
        assert item is not None
        assert (item.kind, item.claimed_media_type) == ("invoice", "image/png")
        assert item.upload_session.startswith("auth-session:")
        assert set(item.wrapped_keys) == {"keywraps", "service", "recipients"}
    assert submit(w.buyer, staged["id"], sign_staged(w.buyer, staged)).status_code == 201
    with w.app.state.ctx.sessions() as s:
        item = s.get(EvidenceItem, staged["id"])
        assert item is not None
        signed = [e["entry"] for e in item.provenance
                  if e["entry"]["action"] == "record.signed"]
        assert [e["session"] for e in signed] == [item.upload_session]
    listed = w.seller.get(f"/cases/{w.case_id}/evidence").json()["items"]
    assert [i["kind"] for i in listed] == ["invoice"]


def test_a_second_registration_replaces_the_key(pg_world: World) -> None:
    w = pg_world
    filed_case(w)
    first, second = generate_recipient_key(), generate_recipient_key()
    _register(w, "seller", first)
    _register(w, "seller", second)
    with w.app.state.ctx.sessions() as s:
        rows = s.exec(select(ReaderKey).where(ReaderKey.case_id == w.case_id)).all()
        assert [(r.address, r.public_key) for r in rows] == [
            (w.seller.address, "0x" + public_key_bytes(second).hex())]
        # registrations are no longer case events
        assert s.exec(select(CaseEvent).where(CaseEvent.kind == "encryption_key")).all() == []
    # an item filed now is wrapped for the current key only
    r = upload(w.buyer, PDF)
    staged = r.json()
    assert submit(w.buyer, staged["id"], sign_staged(w.buyer, staged)).status_code == 201
    kw = w.seller.get(f"/cases/{w.case_id}/evidence/{staged['id']}/keywraps").json()
    assert kw["recipients"] == {w.seller.address: "0x" + public_key_bytes(second).hex()}
    wraps = KeyWraps.from_json(kw["keywraps"])
    container = b"".join(cat(kw["cid"], w.blockstore))
    assert b"".join(iter_decrypt(io.BytesIO(container), wraps.unwrap(second))) == PDF
    with pytest.raises(NotARecipient):
        wraps.unwrap(first)
    # the timeline shows the member's current key once
    timeline = w.seller.get(f"/cases/{w.case_id}/timeline").json()
    keys = [i for i in timeline if i["type"] == "encryption_key"]
    assert [(i["address"], i["publicKey"]) for i in keys] == [
        (w.seller.address, "0x" + public_key_bytes(second).hex())]


def test_concurrent_registrations_leave_one_row(pg_world: World) -> None:
    """Racing first registrations of one member: every call succeeds (the loser of the
    unique (case, address) insert retries as a replacement) and one key is kept."""
    w = pg_world
    filed_case(w)
    svc = service(w)
    keys = ["0x" + public_key_bytes(generate_recipient_key()).hex() for _ in range(6)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(keys))

    def register(k: str) -> None:
        barrier.wait()
        try:
            svc.register_key(w.buyer.address, w.case_id, k)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with w.app.state.ctx.sessions() as s:
        rows = s.exec(select(ReaderKey).where(ReaderKey.address == w.buyer.address)).all()
    assert len(rows) == 1 and rows[0].public_key in keys


def test_a_stranger_or_a_bad_key_is_refused(world: World) -> None:
    filed_case(world)
    good = "0x" + public_key_bytes(generate_recipient_key()).hex()
    r = world.client.put(f"/cases/{world.case_id}/encryption-key",
                         headers=world.stranger.headers, json={"publicKey": good})
    assert r.status_code == 403, r.text
    for bad in ("0x" + "00" * 32, "0x1234", "not hex"):
        r = world.client.put(f"/cases/{world.case_id}/encryption-key",
                             headers=world.buyer.headers, json={"publicKey": bad})
        assert r.status_code in (400, 422), (bad, r.text)
    with world.app.state.ctx.sessions() as s:
        assert s.exec(select(ReaderKey)).all() == []
