"""Profiles and disclosures through the API: who may post which, and what is refused.

A person declares only their own profile; a disclosure is posted by the person the named
appointment step appoints; a registered court gets a profile the institution signs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from eth_account import Account

from evidence.records import Profile, SignedRecord
from tests.support.identity import declare_profile, disclosure_body, profile_body
from tests.support.world import World, to_evidence


def _appointment(w: World, action: str) -> str:
    """The record hash of the case's step `action` (read back through the API)."""
    seq = 0
    while True:
        r = w.admin.get(f"/cases/{w.case_id}/steps/{seq}")
        assert r.status_code == 200, (action, r.text)
        if r.json()["action"] == action:
            return str(r.json()["recordHash"])
        seq += 1


def _put(w: World, who: str, body: dict[str, Any]) -> Any:
    actor = w.actors[who]
    return w.client.put("/profile", json=body, headers=actor.headers)


def test_a_person_declares_and_reads_a_profile(sqlite_world: World) -> None:
    w = sqlite_world
    # The domain to sign under, before any case exists (no sign-in needed).
    assert w.client.get("/eip712-domain").json() == w.domain.to_json_obj()
    shown = declare_profile(w.buyer, "Lena Fischer", "莉娜·菲舍尔", "DE",
                            contact="lena@example.de")
    assert (shown["address"], shown["name"], shown["nameZh"], shown["country"]) == (
        w.buyer.address, "Lena Fischer", "莉娜·菲舍尔", "DE")
    assert shown["issuer"] == w.buyer.address
    r = w.seller.get(f"/profiles/{w.buyer.address.lower()}")
    assert r.status_code == 200 and r.json()["recordHash"] == shown["recordHash"]
    w.clock.advance(seconds=60)
    newer = declare_profile(w.buyer, "Lena Fischer-Wang", "", "DE")
    assert w.seller.get(f"/profiles/{w.buyer.address}").json()["recordHash"] == \
        newer["recordHash"]  # the newest signed one is in effect
    r = w.seller.get(f"/profiles/{w.mediator.address}")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_a_profile_about_someone_else_is_refused(sqlite_world: World) -> None:
    w = sqlite_world
    rec = Profile(subject=w.seller.address, issuer=w.buyer.address, name="Not The Seller",
                  name_zh="", country="CN", language="en", contact="",
                  signed_at=int(w.clock.now.timestamp()))
    body = {"record": rec.sign(w.buyer.key.key, w.domain).to_json_obj()}
    r = _put(w, "buyer", body)
    assert r.status_code == 403 and r.json()["code"] == "access_denied", r.text
    # The seller's own profile, posted by the buyer's session: also refused.
    r = _put(w, "buyer", profile_body(w.seller, "Shenzhen Brightway"))
    assert r.status_code == 403 and r.json()["code"] == "access_denied", r.text


def test_a_profile_not_signed_by_its_issuer_is_refused(sqlite_world: World) -> None:
    w = sqlite_world
    good = SignedRecord.from_json_obj(profile_body(w.buyer, "Lena Fischer")["record"])
    other = Account.create()  # signs the buyer's words: it recovers to someone else
    sig = Account.sign_typed_data(other.key, full_message=good.record.typed_data(w.domain))
    forged = SignedRecord(w.domain, good.record, (bytes(sig.signature),))
    r = _put(w, "buyer", {"record": forged.to_json_obj()})
    assert r.status_code == 403 and r.json()["code"] == "wrong_signer", r.text
    assert other.address in r.json()["detail"]


def test_profile_refusals_name_what_to_fix(sqlite_world: World) -> None:
    w = sqlite_world
    future = profile_body(w.buyer, "Lena")
    rec = SignedRecord.from_json_obj(future["record"]).record
    assert isinstance(rec, Profile)
    late = dataclasses.replace(rec, signed_at=rec.signed_at + 3600)
    r = _put(w, "buyer", {"record": late.sign(w.buyer.key.key, w.domain).to_json_obj()})
    assert r.status_code == 422 and r.json()["code"] == "clock_skew", r.text
    other_type = disclosure_body(w.buyer, "0x" + "11" * 32, "arbitrator", "0x" + "22" * 32)
    r = _put(w, "buyer", other_type)
    assert r.status_code == 422 and r.json()["code"] == "wrong_record_type", r.text
    bad = dict(future["record"], message=dict(future["record"]["message"], country="Germany"))
    r = _put(w, "buyer", {"record": bad})
    assert r.status_code == 422 and r.json()["code"] == "invalid_record", r.text
    assert "ISO 3166-1 alpha-2" in r.json()["detail"]
    r = _put(w, "buyer", {"record": {"format": "something else"}})
    assert r.status_code == 422 and r.json()["code"] == "invalid_record", r.text
    r = w.buyer.post("/cases/0x" + "11" * 32 + "/disclosures", json={"record": {}})
    assert r.status_code == 422 and r.json()["code"] == "invalid_record", r.text


def test_an_appointee_discloses_a_stranger_may_not(sqlite_world: World) -> None:
    w = sqlite_world
    to_evidence(w)
    appointment = _appointment(w, "appoint.arbitrator")
    r = w.arbitrator.post(f"/cases/{w.case_id}/disclosures",
                          json=disclosure_body(w.arbitrator, w.case_id, "arbitrator",
                                               appointment))
    assert r.status_code == 201, r.text
    assert r.json()["appointmentHash"] == appointment and r.json()["independent"] is True
    # The mediator's disclosure cannot answer the arbitrator's appointment.
    r = w.mediator.post(f"/cases/{w.case_id}/disclosures",
                        json=disclosure_body(w.mediator, w.case_id, "arbitrator", appointment))
    assert r.status_code == 403 and r.json()["code"] == "wrong_actor", r.text
    # Nor the mediator's own, named on another step than its appointment.
    r = w.mediator.post(f"/cases/{w.case_id}/disclosures",
                        json=disclosure_body(w.mediator, w.case_id, "mediator", appointment))
    assert r.status_code == 403 and r.json()["code"] == "wrong_actor", r.text
    r = w.mediator.post(f"/cases/{w.case_id}/disclosures",
                        json=disclosure_body(w.mediator, w.case_id, "mediator",
                                             _appointment(w, "appoint.mediator")))
    assert r.status_code == 201, r.text
    # A disclosure in the arbitrator's name, posted by the seller's session.
    r = w.seller.post(f"/cases/{w.case_id}/disclosures",
                      json=disclosure_body(w.arbitrator, w.case_id, "arbitrator", appointment))
    assert r.status_code == 403 and r.json()["code"] == "access_denied", r.text


def test_a_registered_court_gets_the_institutions_profile(sqlite_world: World) -> None:
    w = sqlite_world
    r = w.admin.post("/admin/courts", json={"address": w.court.address,
                                            "name": "Hangzhou Internet Court",
                                            "nameZh": "杭州互联网法院", "country": "CN"})
    assert r.status_code == 201, r.text
    shown = w.buyer.get(f"/profiles/{w.court.address}").json()
    assert (shown["name"], shown["nameZh"], shown["country"]) == (
        "Hangzhou Internet Court", "杭州互联网法院", "CN")
    institution = w.app.state.ctx.service.institution_address
    assert shown["issuer"] == institution != w.court.address
    signed = SignedRecord.from_json_obj(shown["record"])
    assert signed.verify() == (institution,)


def test_the_institution_registers_a_neutral_never_names_a_party(sqlite_world: World
                                                                  ) -> None:
    """A neutral on the register gets the institution's profile; a party's own profile is
    the one a package uses, even when the institution signed a newer one about it."""
    w = sqlite_world
    r = w.admin.post("/admin/neutrals", json={"address": w.arbitrator.address,
                                              "name": "Dr. Chen Wei", "nameZh": "陈伟博士",
                                              "country": "SG"})
    assert r.status_code == 201, r.text
    shown = w.buyer.get(f"/profiles/{w.arbitrator.address}").json()
    assert shown["name"] == "Dr. Chen Wei" and shown["issuer"] != w.arbitrator.address
    r = w.buyer.post("/admin/neutrals", json={"address": w.buyer.address, "name": "Me"})
    assert r.status_code == 403 and r.json()["code"] == "access_denied", r.text
    own = declare_profile(w.buyer, "Lena Fischer", country="DE")
    w.clock.advance(seconds=60)
    w.admin.post("/admin/neutrals", json={"address": w.buyer.address, "name": "Renamed"})
    from backend.services.identity import IdentityService

    service = w.app.state.ctx.service
    with service.sessions() as session:
        chosen = IdentityService(service).profile_of(session, w.buyer.address, own=True)
    assert chosen is not None and "0x" + chosen.record_hash.hex() == own["recordHash"]
