"""The trust model (../shared/DESIGN.md, "Trust model") under attack, through HTTP.

Every action is an EIP-712 signature bound to chain, contract, case and position; the
backend gives each case's data only to that case's roles. Each test below is one attack
class; each parametrised case one attack, refused with its exact status and code while
the case stays as it was. Two real cases share one service (``_world.Twin``): case A at
the evidence stage (arbitrator appointed, court granted, one evidence item) and case B,
filed, between two other parties.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from sqlmodel import col, select

from backend.db import AuthSession
from backend.services.auth import token_digest
from evidence.records import (
    SECP256K1_N,
    Award,
    Domain,
    ProceduralStep,
    Settlement,
    SettlementOffer,
    SignedRecord,
)
from tests.security._world import ORDER_B, Twin, expect
from tests.support.world import AWARD_DOC, ORDER_ID, Actor, ok, sha

# -- building records as an attacker would ---------------------------------------------------


def _head(t: Twin, case_id: str) -> tuple[int, str]:
    view = t.world.admin.case(case_id)
    return view["nextSequence"], view["prevHash"]


def _record(t: Twin, signer: Actor, action: str, payload: dict[str, Any], *, case_id: str,
            actor: Actor | None = None, sequence: int | None = None, prev: str | None = None,
            record_case: str | None = None) -> ProceduralStep:
    seq, prv = _head(t, case_id)
    return ProceduralStep(case_id=record_case or case_id,
                          sequence=seq if sequence is None else sequence,
                          prev_hash=prv if prev is None else prev,
                          actor=(actor or signer).address, action=action,
                          payload_hash=_payload_hash(payload), signed_at=signer.at())


def _payload_hash(payload: dict[str, Any]) -> str:
    from backend.services.steps import payload_hash

    return payload_hash(payload)


def _body(rec: Any, signer: Actor, payload: dict[str, Any] | None, *,
          domain: Domain | None = None) -> dict[str, Any]:
    signed = rec.sign(signer.key.key, domain or signer.world.domain)
    return {"record": signed.to_json_obj(), "payload": payload}


ANSWER = {"answerHash": sha(b"the respondent's answer")}


def _answer(t: Twin, **kw: Any) -> dict[str, Any]:
    """The respondent's (seller's) genuine answer in case A: the base of the forgeries."""
    rec = _record(t, t.actor("seller"), "answer.submitted", ANSWER, case_id=t.a, **kw)
    return _body(rec, t.actor("seller"), ANSWER)


def _unchanged(t: Twin, send: Callable[[], Any], status: int, code: str) -> dict[str, Any]:
    """Send the attack; it must be refused exactly and change neither case."""
    before = {c: t.world.admin.case(c) for c in (t.a, t.b)}
    body = expect(send(), status, code)
    for c, view in before.items():
        after = t.world.admin.case(c)
        assert (after["stage"], after["nextSequence"], after["prevHash"]) == (
            view["stage"], view["nextSequence"], view["prevHash"]), c
    return body


def _post(t: Twin, who: str, path: str, body: Any) -> Callable[[], Any]:
    return lambda: t.actor(who).post(path, json=body)


# -- forged signatures -----------------------------------------------------------------------


def _sig_parts(body: dict[str, Any]) -> tuple[int, int, int]:
    raw = bytes.fromhex(body["record"]["signatures"][0][2:])
    return int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]


def _with_sig(body: dict[str, Any], sig: bytes | str | list[Any]) -> dict[str, Any]:
    sigs = sig if isinstance(sig, list) else ["0x" + sig.hex() if isinstance(sig, bytes)
                                              else sig]
    return {**body, "record": {**body["record"], "signatures": sigs}}


def _rsv(r: int, s: int, v: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


def _signed_by(t: Twin, who: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def forge(body: dict[str, Any]) -> dict[str, Any]:
        signed = SignedRecord.from_json_obj(body["record"])
        sig = Account._sign_hash(signed.record.digest(signed.domain),
                                 t.actor(who).key.key).signature
        return _with_sig(body, bytes(sig))

    return forge


def _flip_s_bit(body: dict[str, Any]) -> dict[str, Any]:
    r, s, v = _sig_parts(body)
    return _with_sig(body, _rsv(r, s ^ 1, v))


def _high_s(body: dict[str, Any]) -> dict[str, Any]:
    r, s, v = _sig_parts(body)
    return _with_sig(body, _rsv(r, SECP256K1_N - s, 55 - v))  # the other valid form


def _v(value: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(body: dict[str, Any]) -> dict[str, Any]:
        r, s, _ = _sig_parts(body)
        return _with_sig(body, _rsv(r, s, value))

    return change


def _swap_v(body: dict[str, Any]) -> dict[str, Any]:
    r, s, v = _sig_parts(body)
    return _with_sig(body, _rsv(r, s, 55 - v))


def _personal_sign(t: Twin) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The seller's EIP-191 signature of the EIP-712 digest (a wallet tricked into
    personal_sign): a valid signature of something else."""

    def forge(body: dict[str, Any]) -> dict[str, Any]:
        signed = SignedRecord.from_json_obj(body["record"])
        digest = signed.record.digest(signed.domain)
        sig = t.actor("seller").key.sign_message(encode_defunct(primitive=digest)).signature
        return _with_sig(body, bytes(sig))

    return forge


def _other_record(t: Twin) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The seller's genuine signature over another answer, pasted on this one."""

    def forge(body: dict[str, Any]) -> dict[str, Any]:
        other = _record(t, t.actor("seller"), "answer.submitted",
                        {"answerHash": sha(b"another answer")}, case_id=t.a)
        sig = other.sign(t.actor("seller").key.key, t.world.domain).signatures[0]
        return _with_sig(body, bytes(sig))

    return forge


FORGERIES: list[tuple[str, Callable[[Twin], Callable[[dict[str, Any]], dict[str, Any]]],
                      int, str]] = [
    ("signed-by-a-stranger", lambda t: _signed_by(t, "stranger"), 403, "wrong_signer"),
    ("signed-by-the-other-party", lambda t: _signed_by(t, "buyer"), 403, "wrong_signer"),
    ("signed-by-the-arbitrator", lambda t: _signed_by(t, "arbitrator"), 403, "wrong_signer"),
    ("bit-flipped-s", lambda t: _flip_s_bit, 403, "wrong_signer"),
    ("malleable-high-s", lambda t: _high_s, 400, "malleable_signature"),
    ("v-swapped-27-28", lambda t: _swap_v, 403, "wrong_signer"),
    ("v-29", lambda t: _v(29), 400, "invalid_signature"),
    ("v-26", lambda t: _v(26), 400, "invalid_signature"),
    ("v-255", lambda t: _v(255), 400, "invalid_signature"),
    ("r-zero", lambda t: lambda b: _with_sig(b, _rsv(0, _sig_parts(b)[1], 27)), 400,
     "invalid_signature"),
    ("s-zero", lambda t: lambda b: _with_sig(b, _rsv(_sig_parts(b)[0], 0, 27)), 400,
     "invalid_signature"),
    ("r-at-curve-order", lambda t: lambda b: _with_sig(b, _rsv(SECP256K1_N, 1, 27)), 400,
     "invalid_signature"),
    ("compact-64-bytes", lambda t: lambda b: _with_sig(b, bytes.fromhex(
        b["record"]["signatures"][0][2:])[:64]), 400, "invalid_signature"),
    ("66-bytes", lambda t: lambda b: _with_sig(b, bytes.fromhex(
        b["record"]["signatures"][0][2:]) + b"\0"), 400, "invalid_signature"),
    ("not-hex", lambda t: lambda b: _with_sig(b, "0x" + "zz" * 65), 400, "invalid_signature"),
    ("no-signature", lambda t: lambda b: _with_sig(b, []), 400, "invalid_signature"),
    ("personal-sign-of-the-digest", _personal_sign, 403, "wrong_signer"),
    ("signature-of-another-record", _other_record, 403, "wrong_signer"),
]


@pytest.mark.parametrize(("forge", "status", "code"), [(f, s, c) for _, f, s, c in FORGERIES],
                         ids=[i for i, *_ in FORGERIES])
def test_forged_signature_is_refused(twin: Twin, forge: Any, status: int, code: str) -> None:
    body = forge(twin)(_answer(twin))
    _unchanged(twin, _post(twin, "seller", f"/cases/{twin.a}/answer", body), status, code)


def test_a_genuine_record_of_another_signer_is_refused_from_this_session(twin: Twin) -> None:
    """The seller's genuine answer, posted with the buyer's session: not the buyer's act."""
    _unchanged(twin, _post(twin, "buyer", f"/cases/{twin.a}/answer", _answer(twin)), 403,
               "access_denied")


# -- replayed steps --------------------------------------------------------------------------


def test_replayed_steps_are_refused(fresh_twin: Callable[[], Twin]) -> None:
    """Each replay class against a case whose head moves under it: the same record twice,
    a record at a stale or a future position, a wrong previous hash, and a record of
    another case posted to this one by its own signer."""
    t = fresh_twin()
    path = f"/cases/{t.a}/answer"
    first = _answer(t)
    ok(t.actor("seller").post(path, json=first))
    # the same signed record again
    _unchanged(t, _post(t, "seller", path, first), 409, "stale_sequence")
    seq, _prev = _head(t, t.a)
    # fresh records signed for the position the first one took, for a future position,
    # and after another previous record
    for kw in ({"sequence": seq - 1}, {"sequence": seq + 1}, {"prev": sha(b"another chain")}):
        rec = _record(t, t.actor("buyer"), "arbitration.agreed", {}, case_id=t.a, **kw)
        _unchanged(t, _post(t, "buyer", f"/cases/{t.a}/steps",
                            _body(rec, t.actor("buyer"), {})), 409, "stale_sequence")
    # case B's genuine, accepted record replayed into case A (by its signer)
    rec_b = _record(t, t.actor("seller_b"), "arbitration.agreed", {}, case_id=t.b)
    body_b = _body(rec_b, t.actor("seller_b"), {})
    ok(t.actor("seller_b").post(f"/cases/{t.b}/arbitration-agreement", json=body_b))
    _unchanged(t, _post(t, "seller_b", f"/cases/{t.a}/arbitration-agreement", body_b), 409,
               "replay")
    # ... and into case B again
    _unchanged(t, _post(t, "seller_b", f"/cases/{t.b}/arbitration-agreement", body_b), 409,
               "stale_sequence")


# -- cross-case --------------------------------------------------------------------------------

def _cross_case_bodies(t: Twin) -> list[tuple[str, str, str, dict[str, Any], int, str]]:
    """(id, poster, endpoint, body, status, code): records signed for one case, posted to
    the other at the other's current position."""
    out = []
    # the institution admin is in both cases: its appointment for A, posted to B
    appoint = {"role": "mediator", "appointees": [t.actor("mediator").address]}
    seq_b, prev_b = _head(t, t.b)
    rec = ProceduralStep(case_id=t.a, sequence=seq_b, prev_hash=prev_b,
                         actor=t.actor("admin").address, action="appoint.mediator",
                         payload_hash=_payload_hash(appoint), signed_at=t.actor("admin").at())
    out.append(("admin-appointment-for-A-posted-to-B", "admin", f"/cases/{t.b}/mediator",
                _body(rec, t.actor("admin"), appoint), 409, "replay"))
    # A's seller answers, signed for A at B's position, posted to B
    rec = ProceduralStep(case_id=t.a, sequence=seq_b, prev_hash=prev_b,
                         actor=t.actor("seller").address, action="answer.submitted",
                         payload_hash=_payload_hash(ANSWER), signed_at=t.actor("seller").at())
    out.append(("party-step-for-A-posted-to-B", "seller", f"/cases/{t.b}/steps",
                _body(rec, t.actor("seller"), ANSWER), 409, "replay"))
    # B's buyer agrees to arbitrate, signed for B, posted to A at A's position
    seq_a, prev_a = _head(t, t.a)
    rec = ProceduralStep(case_id=t.b, sequence=seq_a, prev_hash=prev_a,
                         actor=t.actor("buyer_b").address, action="arbitration.agreed",
                         payload_hash=_payload_hash({}), signed_at=t.actor("buyer_b").at())
    out.append(("party-step-for-B-posted-to-A", "buyer_b",
                f"/cases/{t.a}/arbitration-agreement", _body(rec, t.actor("buyer_b"), {}),
                409, "replay"))
    # A's seller offers in A, carrying the escrow Settlement signed for case B (an award's
    # Award attachment is refused alike: tests/backend/api/test_refusals.py; here the
    # procedure admits the step, so the carried record's binding is what refuses it)
    seller = t.actor("seller")
    seq_a, prev_a = _head(t, t.a)
    offer = SettlementOffer(case_id=t.a, sequence=seq_a, prev_hash=prev_a,
                            offeror=seller.address, order_id=ORDER_ID, to_buyer=600_000_000,
                            to_seller=400_000_000, compensation=0,
                            expires_at=seller.at() + 3 * 86400, signed_at=seller.at())
    settlement_b = Settlement(order_id=ORDER_B, case_id=t.b, to_buyer=600_000_000,
                              to_seller=400_000_000, compensation=0
                              ).sign(seller.key.key, t.world.domain)
    body = _body(offer, seller, None) | {"attachments": [settlement_b.to_json_obj()]}
    out.append(("settlement-attachment-for-B-in-A", "seller", f"/cases/{t.a}/offers", body,
                409, "replay"))
    return out


CROSS_CASE_IDS = ["admin-appointment-for-A-posted-to-B", "party-step-for-A-posted-to-B",
                  "party-step-for-B-posted-to-A", "settlement-attachment-for-B-in-A"]


@pytest.mark.parametrize("attack", CROSS_CASE_IDS)
def test_cross_case_record_is_refused(twin: Twin, attack: str) -> None:
    _id, who, path, body, status, code = next(
        a for a in _cross_case_bodies(twin) if a[0] == attack)
    _unchanged(twin, _post(twin, who, path, body), status, code)


# -- cross-chain ---------------------------------------------------------------------------------

OTHER_CONTRACT = "0x" + "ab" * 20


def _cross_chain(t: Twin, variant: str) -> dict[str, Any]:
    d = t.world.domain
    seller = t.actor("seller")
    rec = _record(t, seller, "answer.submitted", ANSWER, case_id=t.a)
    if variant == "chain-id-1":
        return _body(rec, seller, ANSWER, domain=Domain(chain_id=1,
                                                        verifying_contract=d.verifying_contract))
    if variant == "chain-id-plus-one":
        return _body(rec, seller, ANSWER,
                     domain=Domain(chain_id=d.chain_id + 1,
                                   verifying_contract=d.verifying_contract))
    if variant == "other-verifying-contract":
        from evidence.records import checksum_address

        return _body(rec, seller, ANSWER,
                     domain=Domain(chain_id=d.chain_id,
                                   verifying_contract=checksum_address(OTHER_CONTRACT)))
    body = _body(rec, seller, ANSWER)
    dom = body["record"]["domain"]
    if variant == "signed-for-chain-1-labelled-ours":
        foreign = Domain(chain_id=1, verifying_contract=d.verifying_contract)
        return _with_sig(body, bytes(rec.sign(seller.key.key, foreign).signatures[0]))
    if variant == "domain-name-changed":
        return {**body, "record": {**body["record"], "domain": {**dom, "name": "other"}}}
    if variant == "domain-version-changed":
        return {**body, "record": {**body["record"], "domain": {**dom, "version": "9"}}}
    if variant == "chain-id-zero":
        return {**body, "record": {**body["record"], "domain": {**dom, "chainId": "0"}}}
    raise AssertionError(variant)


CROSS_CHAIN = [
    ("chain-id-1", 409, "replay"),
    ("chain-id-plus-one", 409, "replay"),
    ("other-verifying-contract", 409, "replay"),
    ("signed-for-chain-1-labelled-ours", 403, "wrong_signer"),
    ("domain-name-changed", 422, "invalid_record"),
    ("domain-version-changed", 422, "unsupported_version"),
    ("chain-id-zero", 422, "invalid_record"),
]


@pytest.mark.parametrize(("variant", "status", "code"), CROSS_CHAIN,
                         ids=[v for v, *_ in CROSS_CHAIN])
def test_cross_chain_record_is_refused(twin: Twin, variant: str, status: int, code: str
                                       ) -> None:
    body = _cross_chain(twin, variant)
    _unchanged(twin, _post(twin, "seller", f"/cases/{twin.a}/answer", body), status, code)


# -- wrong-role signatures -------------------------------------------------------------------


def _wrong_role(t: Twin, attack: str) -> tuple[str, str, dict[str, Any]]:
    """(poster, path, body): each signed by the poster with its own key, in its own name."""
    a = f"/cases/{t.a}"
    w = t.world
    if attack == "party-signs-the-award":
        return "buyer", f"{a}/award", _award(t, "buyer")
    if attack == "mediator-signs-the-award":
        return "mediator", f"{a}/award", _award(t, "mediator")
    if attack == "unappointed-neutral-signs-the-award":
        return "panel1", f"{a}/award", _award(t, "panel1")
    if attack == "claimant-signs-the-respondents-answer":
        rec = _record(t, t.actor("buyer"), "answer.submitted", ANSWER, case_id=t.a)
        return "buyer", f"{a}/answer", _body(rec, t.actor("buyer"), ANSWER)
    if attack == "respondent-signs-in-the-claimants-name":
        rec = _record(t, t.actor("buyer"), "answer.submitted", ANSWER, case_id=t.a)
        body = _body(rec, t.actor("buyer"), ANSWER)
        return "seller", f"{a}/answer", _signed_by(t, "seller")(body)
    if attack == "unappointed-arbitrator-closes-the-record":
        rec = _record(t, t.actor("panel1"), "record.closed", {}, case_id=t.a)
        return "panel1", f"{a}/close-record", _body(rec, t.actor("panel1"), {})
    if attack == "mediator-closes-the-record":
        rec = _record(t, t.actor("mediator"), "record.closed", {}, case_id=t.a)
        return "mediator", f"{a}/close-record", _body(rec, t.actor("mediator"), {})
    if attack == "party-closes-the-record":
        rec = _record(t, t.actor("seller"), "record.closed", {}, case_id=t.a)
        return "seller", f"{a}/close-record", _body(rec, t.actor("seller"), {})
    if attack == "admin-signs-a-partys-answer":
        rec = _record(t, t.actor("admin"), "answer.submitted", ANSWER, case_id=t.a)
        return "admin", f"{a}/answer", _body(rec, t.actor("admin"), ANSWER)
    if attack == "party-of-another-case-answers":
        rec = _record(t, t.actor("seller_b"), "answer.submitted", ANSWER, case_id=t.a)
        return "seller_b", f"{a}/answer", _body(rec, t.actor("seller_b"), ANSWER)
    if attack == "court-not-granted-decides":
        return "court", f"/cases/{t.b}/court-decision", _court_decision(t, t.b)
    if attack == "court-decides-before-any-award":
        return "court", f"{a}/court-decision", _court_decision(t, t.a)
    if attack == "stranger-appoints-the-panel":
        payload = {"role": "panelist", "appointees": [w.panel1.address, w.panel2.address,
                                                      w.panel3.address]}
        rec = _record(t, t.actor("stranger"), "appoint.panel", payload, case_id=t.a)
        return "stranger", f"{a}/panel", _body(rec, t.actor("stranger"), payload)
    raise AssertionError(attack)


def _award(t: Twin, who: str) -> dict[str, Any]:
    signer = t.actor(who)
    award = Award(order_id=ORDER_ID, case_id=t.a, to_buyer=600_000_000, to_seller=400_000_000,
                  compensation=0, award_hash=sha(AWARD_DOC), round=0
                  ).sign(signer.key.key, t.world.domain)
    rec = replace(_record(t, signer, "award.issued", {}, case_id=t.a),
                  payload_hash="0x" + award.record_hash.hex())  # type: ignore[arg-type]
    import base64

    return _body(rec, signer, None) | {
        "attachments": [award.to_json_obj()],
        "document": {"filename": "award.md", "media_type": "text/markdown",
                     "content_base64": base64.b64encode(AWARD_DOC).decode()}}


def _court_decision(t: Twin, case_id: str) -> dict[str, Any]:
    from evidence.records import CourtConfirmation

    court = t.actor("court")
    seq, prev = _head(t, case_id)
    rec = CourtConfirmation(case_id=case_id, sequence=seq, prev_hash=prev, court=court.address,
                            package_hash=sha(b"package manifest"),
                            award_record_hash=sha(b"no award"), confirmed=True,
                            reasons_hash="0x" + "00" * 32,
                            court_reference="(2026) Hang 0192 Min Te 17", signed_at=court.at())
    return {"record": rec.sign(court.key.key, t.world.domain).to_json_obj(), "reasons": None}


WRONG_ROLE = [
    ("party-signs-the-award", 403, "wrong_actor"),
    ("mediator-signs-the-award", 403, "wrong_actor"),
    ("unappointed-neutral-signs-the-award", 403, "wrong_actor"),
    ("claimant-signs-the-respondents-answer", 403, "wrong_actor"),
    ("respondent-signs-in-the-claimants-name", 403, "wrong_signer"),
    ("unappointed-arbitrator-closes-the-record", 403, "wrong_actor"),
    ("mediator-closes-the-record", 403, "wrong_actor"),
    ("party-closes-the-record", 403, "wrong_actor"),
    ("admin-signs-a-partys-answer", 403, "wrong_actor"),
    ("party-of-another-case-answers", 403, "wrong_actor"),
    ("court-not-granted-decides", 403, "wrong_actor"),
    # the procedure's order: a court decides only after a settlement or enforcement
    ("court-decides-before-any-award", 409, "wrong_stage"),
    ("stranger-appoints-the-panel", 403, "wrong_actor"),
]


@pytest.mark.parametrize(("attack", "status", "code"), WRONG_ROLE,
                         ids=[a for a, *_ in WRONG_ROLE])
def test_wrong_role_signature_is_refused(twin: Twin, attack: str, status: int, code: str
                                         ) -> None:
    who, path, body = _wrong_role(twin, attack)
    _unchanged(twin, _post(twin, who, path, body), status, code)


# -- reading another case's data -------------------------------------------------------------


def _reads(t: Twin) -> dict[str, tuple[str, str]]:
    """Every read of case A's data: id -> (method, path)."""
    a, i = f"/cases/{t.a}", t.item_a
    return {
        "case": ("GET", a), "timeline": ("GET", f"{a}/timeline"),
        "step-0": ("GET", f"{a}/steps/0"), "notices": ("GET", f"{a}/notices"),
        "evidence-list": ("GET", f"{a}/evidence"), "evidence-item": ("GET", f"{a}/evidence/{i}"),
        "evidence-content": ("GET", f"{a}/evidence/{i}/content"),
        "evidence-keywraps": ("GET", f"{a}/evidence/{i}/keywraps"),
        "evidence-provenance": ("GET", f"{a}/evidence/{i}/provenance"),
        "evidence-typed-data": ("GET", f"{a}/evidence/{i}/typed-data"),
        "judicial-package": ("GET", f"{a}/judicial-package"),
        "pre-evaluation": ("GET", f"{a}/pre-evaluation?tracking=delivered"),
    }


READS = ["case", "timeline", "step-0", "notices", "evidence-list", "evidence-item",
         "evidence-content", "evidence-keywraps", "evidence-provenance", "evidence-typed-data",
         "judicial-package", "pre-evaluation"]


def _token(t: Twin, kind: str) -> dict[str, str]:
    """Authorization headers of each kind of caller who is not a reader of case A."""
    w = t.world
    if kind == "anonymous":
        return {}
    if kind == "basic-auth":
        return {"Authorization": "Basic YnV5ZXI6cGFzc3dvcmQ="}
    if kind == "empty-bearer":
        return {"Authorization": "Bearer  "}
    if kind == "forged-token":
        return {"Authorization": "Bearer " + "A" * 43}
    if kind == "tampered-token":
        real = w.buyer.sign_in()
        w.buyer.token = None
        last = "A" if real[-1] != "A" else "B"
        return {"Authorization": f"Bearer {real[:-1]}{last}"}
    if kind == "revoked-token":
        token = w.buyer.sign_in()
        w.buyer.token = None
        r = w.client.post("/auth/sign-out", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 204, r.text
        return {"Authorization": f"Bearer {token}"}
    if kind == "expired-token":
        token = w.buyer.sign_in()
        w.buyer.token = None
        with w.app.state.ctx.sessions() as session:
            row = session.exec(select(AuthSession).where(
                col(AuthSession.token_sha256) == token_digest(
                    token, w.app.state.ctx.auth_cache.secret))).one()
            row.expires_at = w.clock.now.replace(year=2020)
            session.add(row)
            session.commit()
        return {"Authorization": f"Bearer {token}"}
    if kind == "party-of-another-case":
        return w.buyer_b.headers
    if kind == "stranger":
        return w.stranger.headers
    raise AssertionError(kind)


CALLERS = [("anonymous", 401, "auth_required"), ("basic-auth", 401, "auth_required"),
           ("empty-bearer", 401, "auth_required"),
           ("forged-token", 401, "auth_required"), ("tampered-token", 401, "auth_required"),
           ("revoked-token", 401, "auth_required"), ("expired-token", 401, "auth_required"),
           ("party-of-another-case", 403, "access_denied"),
           ("stranger", 403, "access_denied")]


@pytest.mark.parametrize("read", READS)
@pytest.mark.parametrize(("caller", "status", "code"), CALLERS, ids=[c for c, *_ in CALLERS])
def test_another_cases_data_is_not_readable(twin: Twin, read: str, caller: str, status: int,
                                            code: str) -> None:
    method, path = _reads(twin)[read]
    r = twin.world.client.request(method, path, headers=_token(twin, caller))
    expect(r, status, code)
    if status == 401:
        assert r.headers.get("www-authenticate") == "Bearer"


@pytest.mark.parametrize("read", ["evidence-item", "evidence-content", "evidence-keywraps",
                                  "evidence-provenance", "evidence-typed-data"])
def test_another_cases_evidence_through_this_case_is_not_found(twin: Twin, read: str) -> None:
    """Case A's party asks for case B's evidence item under case A's path."""
    _method, path = _reads(twin)[read]
    path = path.replace(f"/evidence/{twin.item_a}", f"/evidence/{twin.item_b}")
    expect(twin.world.buyer.get(path), 404, "not_found")


def test_the_court_of_one_case_reads_no_other(twin: Twin) -> None:
    for path in ("", "/timeline", "/judicial-package", f"/evidence/{twin.item_b}/content"):
        expect(twin.world.court.get(f"/cases/{twin.b}{path}"), 403, "access_denied")


# -- acting on another case: uploads, keys, prepare -------------------------------------------

def test_another_cases_writes_are_refused(twin: Twin) -> None:
    w, a = twin.world, f"/cases/{twin.a}"
    b_party = w.buyer_b
    _unchanged(twin, lambda: w.client.post(
        f"{a}/evidence", params={"kind": "invoice"}, headers=b_party.headers,
        files={"file": ("x.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")}),
        403, "access_denied")
    items = {i["id"] for i in twin.world.admin.get(f"{a}/evidence").json()["items"]}
    assert items == {twin.item_a}, items
    _unchanged(twin, lambda: w.client.put(f"{a}/encryption-key", headers=b_party.headers,
                                          json={"publicKey": "0x" + "11" * 32}),
               403, "access_denied")
    _unchanged(twin, lambda: b_party.post(f"{a}/steps/prepare",
                                          json={"action": "answer.submitted",
                                                "payload": ANSWER}),
               403, "access_denied")


# -- admin endpoints as a party -----------------------------------------------------------------

ADMIN = [
    ("register-court", "POST", "/admin/courts", {"address": "0x" + "22" * 20, "name": "Fake"}),
    ("grant-court", "POST", "/cases/{a}/courts", {"court": "0x" + "22" * 20}),
    ("tick", "POST", "/admin/tick", None),
    ("chain-actions", "GET", "/admin/chain-actions", None),
    ("retry-chain-action", "POST", "/admin/chain-actions/1/retry", None),
]


@pytest.mark.parametrize("who", ["buyer", "seller", "arbitrator", "court", "buyer_b"])
@pytest.mark.parametrize(("method", "path", "body"), [a[1:] for a in ADMIN],
                         ids=[a[0] for a in ADMIN])
def test_admin_endpoint_refuses_a_non_admin(twin: Twin, who: str, method: str, path: str,
                                            body: Any) -> None:
    actor = twin.actor(who)
    send = lambda: twin.world.client.request(  # noqa: E731
        method, path.format(a=twin.a), headers=actor.headers, json=body)
    _unchanged(twin, send, 403, "access_denied")


@pytest.mark.parametrize(("method", "path", "body"), [a[1:] for a in ADMIN],
                         ids=[a[0] for a in ADMIN])
def test_admin_endpoint_refuses_anonymous(twin: Twin, method: str, path: str, body: Any
                                          ) -> None:
    r = twin.world.client.request(method, path.format(a=twin.a), json=body)
    expect(r, 401, "auth_required")


# -- control: the genuine record, after the attacks, is accepted ---------------------------


def test_the_genuine_answer_is_accepted(fresh_twin: Callable[[], Twin]) -> None:
    """The base of every forgery above is a record the service accepts: each refusal was
    for the stated reason, not because the base was bad."""
    t = fresh_twin()
    r = t.actor("seller").post(f"/cases/{t.a}/answer", json=_answer(t))
    assert r.status_code == 201, r.text
