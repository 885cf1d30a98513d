"""Each step endpoint's refusal paths, for the role that may take the step.

For every endpoint of the access matrix, at the stage where its act is allowed, the
allowed role's genuine body is tampered with in each way an attacker or a stale client
would, and each is refused with its own code while the case stays as it was: a record
re-signed for the next position (stale), for another case (replay), a signature by
another key (forged), and the same act after the stage's deadline (where the stage has
one). Finally the genuine body is accepted: the refusals were for the stated reason.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from eth_account import Account

from evidence.records import SignedRecord
from tests.backend.api.access_matrix import MATRIX
from tests.support.world import World

ENDPOINTS = list(MATRIX)


def _resign(w: World, body: dict[str, Any], signer: Any, **changes: Any) -> dict[str, Any]:
    signed = SignedRecord.from_json_obj(body["record"])
    rec = replace(signed.record, **changes)
    return {**body, "record": rec.sign(signer.key.key, signed.domain).to_json_obj()}


def _forged(w: World, body: dict[str, Any]) -> dict[str, Any]:
    signed = SignedRecord.from_json_obj(body["record"])
    sig = Account._sign_hash(signed.record.digest(signed.domain),
                             w.stranger.key.key).signature
    return {**body, "record": SignedRecord(signed.domain, signed.record,
                                           (bytes(sig),)).to_json_obj()}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_refusals_of_each_endpoint(endpoint: str, sqlite_world: World) -> None:
    w = sqlite_world
    setup, body_of, allowed = MATRIX[endpoint]
    setup(w)
    role = next(r for r, s in allowed.items() if s == 201)
    actor = w.actors[role]
    body = body_of(actor)
    signed = SignedRecord.from_json_obj(body["record"])
    seq = signed.record.sequence  # type: ignore[attr-defined]
    path = f"/cases/{w.case_id}/{endpoint}"

    def refused(b: dict[str, Any], status: int, code: str) -> None:
        before = w.admin.case()
        r = actor.post(path, json=b)
        assert (r.status_code, r.json().get("code")) == (status, code), r.text
        after = w.admin.case()
        assert (after["stage"], after["nextSequence"], after["prevHash"]) == (
            before["stage"], before["nextSequence"], before["prevHash"])

    refused(_resign(w, body, actor, sequence=seq + 1), 409, "stale_sequence")
    refused(_resign(w, body, actor, case_id="0x" + "ee" * 32), 409, "replay")
    refused(_forged(w, body), 403, "wrong_signer")
    refused({**body, "record": {**body["record"], "signatures": []}}, 400,
            "invalid_signature")
    deadline = w.admin.case()["deadline"]
    if deadline is not None and endpoint != "enforcement":
        saved = w.clock.now
        w.clock.now = datetime.fromisoformat(deadline.replace("Z", "+00:00"))
        refused(body, 409, "deadline_passed")
        w.clock.now = saved
    r = actor.post(path, json=body)
    assert r.status_code == 201, r.text
