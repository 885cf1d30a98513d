"""Signed profiles and disclosures as a person's wallet makes them, posted to the API."""

from __future__ import annotations

from typing import Any

from evidence.records import Disclosure, Profile, bytes32
from tests.support.world import Actor

STATEMENT = ("I am impartial and independent of the parties and their counsel, and know of "
             "no circumstance likely to give rise to justifiable doubts about it.")


def profile_body(actor: Actor, name: str, name_zh: str = "", country: str = "",
                 language: str = "en", contact: str = "") -> dict[str, Any]:
    """`PUT /profile`'s body: the actor's own Profile, signed with its key."""
    rec = Profile(subject=actor.address, issuer=actor.address, name=name, name_zh=name_zh,
                  country=country, language=language, contact=contact,
                  signed_at=int(actor.world.clock.now.timestamp()))
    return {"record": rec.sign(actor.key.key, actor.world.domain).to_json_obj()}


def declare_profile(actor: Actor, name: str, name_zh: str = "", country: str = "",
                    **kw: str) -> dict[str, Any]:
    r = actor.world.client.put("/profile", json=profile_body(actor, name, name_zh, country, **kw),
                               headers=actor.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def disclosure_body(actor: Actor, case_id: str, role: str, appointment_hash: str, *,
                    independent: bool = True, conflicts: str = "") -> dict[str, Any]:
    rec = Disclosure(case_id=bytes32(case_id), appointee=actor.address, role=role,
                     appointment_hash=bytes32(appointment_hash), independent=independent,
                     conflicts=conflicts, statement=STATEMENT,
                     signed_at=int(actor.world.clock.now.timestamp()))
    return {"record": rec.sign(actor.key.key, actor.world.domain).to_json_obj()}


def disclose(actor: Actor, case_id: str, role: str, appointment: dict[str, Any]
             ) -> dict[str, Any]:
    """The appointee's disclosure on `appointment` (the appointment step's 201 answer)."""
    r = actor.post(f"/cases/{case_id}/disclosures",
                   json=disclosure_body(actor, case_id, role, appointment["recordHash"]))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]
