"""The jury track through HTTP: every step declared once in evidence/steps.py reaches its
generated route, each juror signs with their own key, and the refusals of issue 14 come
back with their documented codes (docs/jury.md, docs/api.md)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evidence import jury as public_jury
from tests.support.jury import DrawChain, admit, seed_hash
from tests.support.jury import vote_payload as _vote
from tests.support.jury import vote_salt as _salt
from tests.support.jury_files import pdf_with_metadata, photo_with_metadata, readable
from tests.support.migrated import migrated
from tests.support.world import AMOUNT, ORDER_ID, Actor, World, file_claim, make_world, ok

SEED = "0x" + "5e" * 32
OPTIONS = [{"toBuyer": str(AMOUNT), "toSeller": "0", "compensation": "0"},
           {"toBuyer": str(AMOUNT // 2), "toSeller": str(AMOUNT // 2), "compensation": "0"},
           {"toBuyer": "0", "toSeller": str(AMOUNT), "compensation": "0"}]
ASSESSORS = ("panel1", "panel2", "panel3", "stranger")


@pytest.fixture
def jury_world(tmp_path: Path) -> Iterator[World]:

    url = f"sqlite:///{tmp_path / 'jury.sqlite3'}"
    migrated(url)
    w = make_world(url, tmp_path, jury_max_amount=AMOUNT, jury_size=3,
                   anchor_sender=DrawChain(), anchor_interval_seconds=0)
    with w.client:
        admit(w, *ASSESSORS)
        yield w


def chain_of(w: World) -> DrawChain:
    """The world's anchoring chain (the draw block's source)."""
    sender = w.client.app.state.ctx.anchoring.sender  # type: ignore[attr-defined]
    assert isinstance(sender, DrawChain)
    return sender


def _post(w: World, who: Actor, path: str, action: str, payload: dict[str, Any] | None = None
          ) -> Any:
    return who.post(f"/cases/{w.case_id}/{path}", json=who.plain(action, payload))


def _refused(r: Any, status: int, code: str) -> None:
    assert (r.status_code, r.json().get("code")) == (status, code), r.text


def _to_jury_draw(w: World) -> None:
    w.open_case("buyer")
    file_claim(w)
    w.port.party_raises_dispute(ORDER_ID, w.case_id)
    ok(_post(w, w.seller, "jury/choice", "jury.chosen"))
    ok(_post(w, w.buyer, "jury/choice", "jury.chosen"))
    ok(_post(w, w.buyer, "facilitation", "facilitation.requested"))
    ok(w.admin.post(f"/cases/{w.case_id}/mediator", json=w.admin.appoint("mediator", w.mediator)))
    ok(_post(w, w.mediator, "impasse", "impasse.declared"))
    assert w.admin.case()["stage"] == "jury_draw"


def _pool(w: World) -> list[str]:
    return [w.actors[n].address for n in ASSESSORS]


def _draw(w: World, round_: int = 0, seed: str = SEED, kept: tuple[str, ...] = ()
          ) -> tuple[list[Actor], Actor]:
    """Commit the seed on the service's snapshot, anchor it, mine the draw block, reveal
    (a wrong reveal first), draw; (the jurors drawn now, one assessor not drawn — or the
    court, never an assessor, when the snapshot was drawn whole)."""
    chain = chain_of(w)
    snap = ok(w.admin.get(f"/cases/{w.case_id}/jury/snapshot"))
    assert snap["round"] == round_
    pool, pool_hash = snap["pool"], snap["poolHash"]
    draw_block = chain.head() + 3
    # prepare fills in the service's snapshot: the admin gives the seed hash and the block
    fields = {"seedHash": seed_hash(w, round_, seed), "drawBlock": str(draw_block)}
    prepared = ok(w.admin.post(f"/cases/{w.case_id}/steps/prepare", json={
        "action": "jury.seed_committed", "payload": fields}))
    assert prepared["payload"] == {**fields, "pool": pool, "poolHash": pool_hash}
    _refused(w.admin.post(f"/cases/{w.case_id}/steps/prepare", json={
        "action": "jury.seed_committed", "payload": {**fields, "pool": pool,
                                                     "poolHash": pool_hash}}),
             422, "bad_payload")  # the snapshot is never typed in
    ok(_post(w, w.admin, "jury/seed", "jury.seed_committed",
             {"seedHash": seed_hash(w, round_, seed), "drawBlock": str(draw_block),
              "pool": pool, "poolHash": pool_hash}))
    w.tick()  # the anchoring worker anchors the commitment (a block before the draw block)
    chain.mine_to(draw_block)
    header = chain.draw_header(draw_block)
    assert header is not None
    randomness = public_jury.draw_randomness(w.case_id, round_, seed, header.block_hash,
                                             header.prevrandao, pool_hash)
    drawn = public_jury.draw(pool, 3 - len(kept), randomness)
    draw = {"role": "juror", "appointees": [*kept, *drawn], "seed": seed,
            "blockHash": header.block_hash, "prevrandao": header.prevrandao,
            "options": OPTIONS if round_ == 0 else []}
    _refused(_post(w, w.admin, "jury/draw", "jury.drawn", {**draw, "seed": "0x" + "00" * 32}),
             422, "wrong_reveal")
    ok(_post(w, w.admin, "jury/draw", "jury.drawn", draw))
    by_address = {w.actors[n].address: w.actors[n] for n in ASSESSORS}
    outsider = next((a for a in pool if a not in drawn), None)  # none when all are drawn
    return [by_address[a] for a in drawn], by_address.get(outsider or "", w.actors["court"])


def test_a_jury_decides_through_the_api(jury_world: World) -> None:
    w = jury_world
    _to_jury_draw(w)
    jurors, outsider = _draw(w)
    view = w.admin.case()
    assert view["stage"] == "jury_acceptance"

    # someone not drawn cannot act in the case
    _refused(_post(w, outsider, "jury/acceptance", "jury.accepted"), 403, "wrong_actor")
    for juror in jurors:
        ok(_post(w, juror, "jury/acceptance", "jury.accepted"))
    assert w.admin.case()["stage"] == "jury_voting"

    # a juror never reads the case's record (the parties' identities)
    r = jurors[0].get(f"/cases/{w.case_id}")
    _refused(r, 403, "access_denied")
    assert w.buyer.address not in r.text and w.seller.address not in r.text
    # but may have its own step prepared
    prepared = ok(jurors[0].post(f"/cases/{w.case_id}/steps/prepare", json={
        "action": "jury.vote_committed",
        "payload": _vote(w, jurors[0], 1, 2)}))
    assert prepared["action"] == "jury.vote_committed"
    assert w.buyer.address not in str(prepared) and w.seller.address not in str(prepared)

    votes = [(jurors[0], 1, 2), (jurors[1], 1, 6), (jurors[2], 0, 1)]
    for juror, choice, reason in votes[:2]:
        ok(_post(w, juror, "jury/votes", "jury.vote_committed",
                 _vote(w, juror, choice, reason)))
    # a vote whose JuryVote signature is not the juror's own (the escrow would not count it)
    _refused(_post(w, jurors[2], "jury/votes", "jury.vote_committed",
                   _vote(w, jurors[2], 0, 1, signer=outsider)), 403, "wrong_signer")
    # a juror cannot vote twice
    _refused(_post(w, jurors[0], "jury/votes", "jury.vote_committed",
                   _vote(w, jurors[0], 0, 1)), 409, "duplicate_action")
    # nor reveal before the vote ends
    _refused(_post(w, jurors[0], "jury/reveals", "jury.vote_revealed",
                   {"choice": "1", "reasonCode": "2", "salt": _salt(jurors[0])}),
             409, "wrong_stage")
    ok(_post(w, jurors[2], "jury/votes", "jury.vote_committed", _vote(w, jurors[2], 0, 1)))
    # every juror committed: the reveals open at once
    assert w.admin.case()["stage"] == "jury_reveal"
    # nor vote after it
    _refused(_post(w, jurors[2], "jury/votes", "jury.vote_committed",
                   _vote(w, jurors[2], 1, 2)), 409, "wrong_stage")
    # nor reveal a different choice
    _refused(_post(w, jurors[2], "jury/reveals", "jury.vote_revealed",
                   {"choice": "1", "reasonCode": "1", "salt": _salt(jurors[2])}),
             422, "wrong_reveal")
    for juror, choice, reason in votes:
        ok(_post(w, juror, "jury/reveals", "jury.vote_revealed",
                 {"choice": str(choice), "reasonCode": str(reason), "salt": _salt(juror)}))
    assert w.admin.case()["stage"] == "jury_tally"

    _refused(_post(w, w.admin, "jury/tally", "jury.tallied",
                   {"counts": ["2", "1", "0"], "winner": "0"}), 422, "invalid_command")
    ok(_post(w, w.admin, "jury/tally", "jury.tallied", {"counts": ["1", "2", "0"], "winner": "1"}))
    view = w.admin.case()
    assert view["stage"] == "jury_decided"
    tally_hash = "0x" + public_jury.tally_hash(w.case_id, (1, 2, 0), 1).hex()
    assert view["awardRecordHash"] == tally_hash  # what an objection names
    steps = [i["action"] for i in ok(w.admin.get(f"/cases/{w.case_id}/timeline"))
             if i["type"] == "step"]
    for action in ("jury.chosen", "jury.seed_committed", "jury.drawn", "jury.accepted",
                   "jury.vote_committed", "jury.vote_revealed", "jury.tallied"):
        assert action in steps, action

    # the escrow holds the jury (fixed when the vote opened) and its verdict, counted anew
    kinds = {a["kind"]: a["status"] for a in view["chainActions"]}
    assert (kinds["appoint_jury"], kinds["submit_jury_verdict"]) == ("done", "done"), kinds
    assert w.port.read_order(ORDER_ID).status == "DecisionPending"
    # no objection in the window: the verdict binds and anyone has the escrow pay it
    w.clock.advance(days=10, seconds=60)
    w.tick()
    assert w.admin.case()["stage"] == "jury_final"
    ok(w.stranger.post(f"/cases/{w.case_id}/enforcement",
                       json=w.stranger.plain("enforcement.requested")))
    view = w.admin.case()
    assert view["stage"] == "enforced", view["chainActions"]
    order = w.port.read_order(ORDER_ID)
    assert order.status == "Resolved"
    assert w.port._orders[ORDER_ID].resolution == "JuryVerdictExecuted"


def test_the_settings_make_the_jury_track_and_its_size(jury_world: World) -> None:
    """CHAINARB_JURY_MAX_AMOUNT opens the track for this order; CHAINARB_JURY_SIZE = 3 is
    the number of jurors drawn (a draw of another size is refused)."""
    w = jury_world
    _to_jury_draw(w)
    jurors, _ = _draw(w)
    assert len(jurors) == 3


def test_without_the_setting_there_is_no_jury_track(tmp_path: Path) -> None:

    url = f"sqlite:///{tmp_path / 'nojury.sqlite3'}"
    migrated(url)
    w = make_world(url, tmp_path)
    with w.client:
        w.open_case("buyer")
        file_claim(w)
        r = _post(w, w.seller, "jury/choice", "jury.chosen")
        _refused(r, 422, "invalid_command")
        assert "at most 0" in r.text


# -- what a juror reads: the dispute, never the parties -------------------------------------

BUYER_NAME, BUYER_ZH, BUYER_CONTACT = "Lena Fischer", "莉娜·菲舍尔", "lena.fischer@example.de"
SELLER_NAME, SELLER_ZH, SELLER_CONTACT = "Wang Jianguo", "王建国", "+86 138 0013 8000"


def _statement(w: World) -> bytes:
    return (f"Claim of {BUYER_NAME} ({BUYER_ZH}), wallet {w.buyer.address}, against "
            f"{SELLER_NAME} of Shenzhen ({SELLER_ZH}, seller wallet "
            f"{w.seller.address.lower()[2:]}). Write to {BUYER_CONTACT} or call "
            f"+49 30 1234 5678. The seller answered from {SELLER_CONTACT} and "
            "jianguo.wang@shop.example.cn; see https://shop.example.cn/order/77. "
            "The 40 LED panels arrived cracked; photos were taken on delivery.").encode()


def _identity_strings(w: World) -> list[str]:
    out = [BUYER_NAME, BUYER_ZH, BUYER_CONTACT, SELLER_NAME, SELLER_ZH, SELLER_CONTACT,
           "Fischer", "Jianguo", "jianguo.wang@shop.example.cn", "+49 30 1234 5678",
           "shop.example.cn"]
    for a in (w.buyer.address, w.seller.address):
        out += [a, a.lower(), a.lower()[2:]]
    return out


class Recorder:
    """Every answer a juror's requests got, to scan them all (a file's bytes read every way
    a reader could find a name in them: tests/support/jury_files.readable)."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def keep(self, r: Any) -> Any:
        self.texts.append(r.text)
        self.texts += readable(r.content)
        return r


def test_no_juror_visible_response_names_a_party(jury_world: World) -> None:
    from backend.services.steps import payload_hash
    from tests.support.identity import declare_profile
    from tests.support.world import b64, filing_payload, sha

    w = jury_world
    declare_profile(w.buyer, BUYER_NAME, BUYER_ZH, "DE", contact=BUYER_CONTACT)
    declare_profile(w.seller, SELLER_NAME, SELLER_ZH, "CN", contact=SELLER_CONTACT)
    w.open_case("buyer")
    statement = _statement(w)
    payload = filing_payload(w, statement=statement)
    body = {"record": w.buyer.step("case.filed", payload), "payload": payload,
            "document": {"filename": "claim.txt", "media_type": "text/plain",
                         "content_base64": b64(statement)}}
    assert payload["statementHash"] == sha(statement) and payload_hash(payload)
    ok(w.buyer.post(f"/cases/{w.case_id}/filing", json=body))
    w.port.party_raises_dispute(ORDER_ID, w.case_id)
    ok(_post(w, w.seller, "jury/choice", "jury.chosen"))
    ok(_post(w, w.buyer, "jury/choice", "jury.chosen"))
    ok(_post(w, w.buyer, "facilitation", "facilitation.requested"))
    ok(w.admin.post(f"/cases/{w.case_id}/mediator", json=w.admin.appoint("mediator", w.mediator)))
    ok(_post(w, w.mediator, "impasse", "impasse.declared"))
    # the jury's record: the buyer submits a note, a photo and two PDFs (their metadata
    # and file names naming the parties) and puts them before the jury
    files = [(b"photo of the cracked panels, sent by Lena Fischer", "photo", "note.txt"),
             (photo_with_metadata(), "photo", "Lena Fischer cracked.jpg"),
             (pdf_with_metadata("The 40 LED panels arrived cracked."), "inspection_report",
              "Wang Jianguo inspection.pdf"),
             (pdf_with_metadata("Invoice from Wang Jianguo, Shenzhen"), "contract",
              "invoice.pdf")]
    items = []
    for content, kind, filename in files:
        ok(w.buyer.post(f"/cases/{w.case_id}/evidence-submissions",
                        json=w.buyer.evidence_step(content, kind=kind, filename=filename)))
        items.append(w.buyer.case()["evidence"][-1]["evidenceId"])
        ok(_post(w, w.buyer, "jury/evidence", "jury.evidence_marked",
                 {"evidenceId": items[-1]}))
    item = items[0]
    _refused(_post(w, w.seller, "jury/evidence", "jury.evidence_marked", {"evidenceId": item}),
             422, "invalid_command")  # not the seller's item
    jurors, outsider = _draw(w)

    seen = Recorder()
    for juror in jurors:
        view = seen.keep(juror.get(f"/cases/{w.case_id}/jury/view")).json()
        assert view["claim"]["disputeType"] == "not_as_described"
        assert "LED panels arrived cracked" in view["claim"]["text"]
        assert "[claimant]" in view["claim"]["text"] and "[respondent]" in view["claim"]["text"]
        assert len(view["options"]) == 3 and view["myVote"]["accepted"] is False
        assert [(e["evidenceId"], e["by"], e["kind"]) for e in view["evidence"]] == [
            (items[0], "claimant", "photo"), (items[1], "claimant", "photo"),
            (items[2], "claimant", "inspection_report"), (items[3], "claimant", "contract")]
        shown = [(e["file"]["shown"], e["file"]["mediaType"]) for e in view["evidence"]]
        assert shown == [(True, "text/plain"), (True, "image/jpeg"),
                         (True, "application/pdf"), (False, None)], shown
        assert "names a party" in view["evidence"][3]["file"]["reason"]
        for e, (_content, _kind, filename) in zip(view["evidence"], files, strict=True):
            r = seen.keep(juror.get(f"/cases/{w.case_id}/jury/files/{e['evidenceId']}"))
            if e["file"]["shown"]:
                assert r.status_code == 200 and filename not in r.headers[
                    "content-disposition"], r.headers
                assert r.headers["content-type"].startswith(e["file"]["mediaType"])
            else:
                _refused(r, 403, "file_withheld")
        note = seen.keep(juror.get(view["evidence"][0]["file"]["href"]))
        assert note.text == "photo of the cracked panels, sent by [claimant]"
        # an item not before the jury has no file for it
        _refused(seen.keep(juror.get(f"/cases/{w.case_id}/jury/files/0x{'00' * 32}")),
                 404, "not_found")
        seen.keep(juror.get(f"/cases/{w.case_id}"))  # refused
        seen.keep(juror.get(f"/cases/{w.case_id}/timeline"))  # refused
        seen.keep(juror.get(f"/cases/{w.case_id}/documents"))  # refused
        seen.keep(juror.get(f"/cases/{w.case_id}/steps/0"))  # refused
        seen.keep(juror.get(f"/cases/{w.case_id}/steps/0/document"))  # refused
        seen.keep(juror.get(f"/cases/{w.case_id}/evidence"))
        seen.keep(juror.get("/cases"))
        seen.keep(juror.get("/notices"))
        seen.keep(juror.post(f"/cases/{w.case_id}/steps/prepare",
                             json={"action": "jury.accepted", "payload": {}}))
        seen.keep(_post(w, juror, "jury/acceptance", "jury.accepted"))
        seen.keep(juror.post(f"/cases/{w.case_id}/steps/prepare", json={
            "action": "jury.vote_committed",
            "payload": _vote(w, juror, 1, 2)}))
        seen.keep(_post(w, juror, "jury/votes", "jury.vote_committed",
                        _vote(w, juror, 1, 2)))
        seen.keep(_post(w, juror, "jury/votes", "jury.vote_committed",  # refused: twice
                        _vote(w, juror, 1, 2)))
    # the one not drawn reads nothing either
    _refused(seen.keep(outsider.get(f"/cases/{w.case_id}/jury/view")), 403, "access_denied")
    _refused(seen.keep(outsider.get(f"/cases/{w.case_id}/jury/files/{items[1]}")), 403,
             "access_denied")

    forbidden = _identity_strings(w)
    for text in seen.texts:
        lowered = text.lower()
        for s in forbidden:
            assert s.lower() not in lowered, (s, text[:300])
    # each read of the juror view is logged (the institution sees who read when)
    logged = [i for i in ok(w.admin.get(f"/cases/{w.case_id}/timeline"))
              if i["type"] == "jury_view"]
    assert sorted(i["juror"] for i in logged) == sorted(j.address for j in jurors)
    reads = [i for i in ok(w.admin.get(f"/cases/{w.case_id}/timeline"))
             if i["type"] == "jury_file"]  # each file read too, shown or withheld
    assert len(reads) == len(jurors) * (len(files) + 1)
    assert {(i["evidenceId"], i["shown"]) for i in reads} == {
        *((x, True) for x in items[:3]), (items[3], False)}
    # the parties read the same entries with pseudonyms
    party_reads = [i for i in ok(w.buyer.get(f"/cases/{w.case_id}/timeline"))
                   if i["type"] == "jury_file"]
    assert {i["juror"] for i in party_reads} == {"juror-1", "juror-2", "juror-3"}


def test_an_objection_to_the_verdict_goes_to_a_sole_arbitrator(jury_world: World) -> None:
    w = jury_world
    _to_jury_draw(w)
    jurors, _ = _draw(w)
    for juror in jurors:
        ok(_post(w, juror, "jury/acceptance", "jury.accepted"))
    for juror in jurors:
        ok(_post(w, juror, "jury/votes", "jury.vote_committed",
                 _vote(w, juror, 2, 4)))
    for juror in jurors:
        ok(_post(w, juror, "jury/reveals", "jury.vote_revealed",
                 {"choice": "2", "reasonCode": "4", "salt": _salt(juror)}))
    ok(_post(w, w.admin, "jury/tally", "jury.tallied", {"counts": ["0", "0", "3"], "winner": "2"}))
    tally_hash = w.admin.case()["awardRecordHash"]
    assert w.port.read_order(ORDER_ID).status == "DecisionPending"
    ok(w.buyer.post(f"/cases/{w.case_id}/objection",
                    json=w.buyer.objection(tally_hash, b"The panels were cracked.")))
    view = w.admin.case()
    assert view["stage"] == "arbitrator_appointment"
    # the party's wallet objects on the escrow too: the order waits for the arbitrator
    w.port.party_objects(ORDER_ID)
    w.tick()
    assert w.port.read_order(ORDER_ID).status == "Disputed"
    # a juror may not be the arbitrator
    _refused(w.admin.post(f"/cases/{w.case_id}/arbitrator",
                          json=w.admin.appoint("arbitrator", jurors[0])),
             422, "conflict_of_interest")
    ok(w.admin.post(f"/cases/{w.case_id}/arbitrator",
                    json=w.admin.appoint("arbitrator", w.arbitrator)))
    assert w.admin.case()["stage"] == "evidence"


def test_a_party_holding_every_bundle_finds_no_juror(jury_world: World) -> None:
    """The IPFS bundles of a jury case (issue 14 item 3): a party that fetches the bundle of
    every step it knows the CID of (its timeline) reads no juror's or pool member's
    address; the sealed bundles open with the institution's key (the court reads them in
    the judicial package)."""
    from sqlmodel import select

    from backend.db.service_models import StepDetail
    from evidence.encryption import iter_decrypt
    from evidence.ipfs import cat

    w = jury_world
    _to_jury_draw(w)
    jurors, _ = _draw(w)
    for juror in jurors:
        ok(_post(w, juror, "jury/acceptance", "jury.accepted"))
    for juror in jurors:
        ok(_post(w, juror, "jury/votes", "jury.vote_committed", _vote(w, juror, 0, 1)))
    for juror in jurors:
        ok(_post(w, juror, "jury/reveals", "jury.vote_revealed",
                 {"choice": "0", "reasonCode": "1", "salt": _salt(juror)}))
    ok(_post(w, w.admin, "jury/tally", "jury.tallied", {"counts": ["3", "0", "0"], "winner": "0"}))
    secret = {a.lower().removeprefix("0x") for a in _pool(w)}
    for party in (w.buyer, w.seller):
        steps = [i for i in ok(party.get(f"/cases/{w.case_id}/timeline")) if i["type"] == "step"]
        assert {s["action"] for s in steps} >= {"jury.drawn", "jury.vote_revealed"}
        for s in steps:
            raw = b"".join(cat(s["cid"], w.blockstore)).decode("latin-1").lower()
            assert not [a for a in secret if a in raw], (s["action"], s["sequence"])
            sealed = s["action"] in ("jury.seed_committed", "jury.drawn", "jury.accepted",
                                     "jury.vote_committed", "jury.vote_revealed")
            assert s["confidential"] or not sealed, s
    # the institution opens a sealed bundle: the juror's signed record is in it
    keys = w.client.app.state.ctx.service.store.keys  # type: ignore[attr-defined]
    with w.client.app.state.ctx.sessions() as session:  # type: ignore[attr-defined]
        details = session.exec(select(StepDetail).where(
            StepDetail.case_id == w.case_id, StepDetail.action == "jury.vote_revealed")).all()
    opened = b"".join(iter_decrypt(io.BytesIO(b"".join(cat(details[0].bundle_cid, w.blockstore))),
                                   keys.step_data_key(details[0])))
    assert json.loads(opened)["record"]["message"]["actor"].lower()[2:] in secret
