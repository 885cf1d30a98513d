"""The fast track through HTTP (issue 14 item 6, docs/jury.md "Fast track"), on SQLite and
PostgreSQL: the mediator proposes the pre-evaluation of the order's evidence with its
reasons; with no objection it binds when the window passes and the escrow executes it;
an objection sends the case to a sole arbitrator and waits for the party's wallet.

Attacks are tests: a proposal that is not the pre-evaluation (other figures, another
report), one without its report, one by a party, a proposal above the threshold, an
objection by a stranger, after the window, or twice.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.migrated import migrated
from tests.support.world import AMOUNT, ORDER_ID, World, file_claim, make_world, ok


@pytest.fixture
def fast_world(clean_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = make_world(clean_db_url, tmp_path, fast_track_max_amount=AMOUNT)
    with w.client:
        yield w


def _refused(r: Any, status: int, code: str) -> None:
    assert (r.status_code, r.json().get("code")) == (status, code), r.text


def _document(canonical: str) -> dict[str, str]:
    return {"filename": "fast-track-proposal.json", "media_type": "application/json",
            "content_base64": base64.b64encode(canonical.encode()).decode()}


def _to_facilitation(w: World) -> None:
    w.open_case("buyer")
    file_claim(w)  # not as described, a partial refund of 400,000,000
    w.port.party_raises_dispute(ORDER_ID, w.case_id)
    ok(w.buyer.post(f"/cases/{w.case_id}/evidence-submissions",
                    json=w.buyer.evidence_step(b"a photo of the cracked panel")))
    for party in (w.buyer, w.seller):
        ok(party.post(f"/cases/{w.case_id}/arbitration-agreement",
                      json=party.plain("arbitration.agreed")))
    ok(w.buyer.post(f"/cases/{w.case_id}/facilitation",
                    json=w.buyer.plain("facilitation.requested")))
    ok(w.admin.post(f"/cases/{w.case_id}/mediator", json=w.admin.appoint("mediator", w.mediator)))
    assert w.admin.case()["stage"] == "facilitation"


def _propose(w: World) -> dict[str, Any]:
    prop = w.mediator.get(f"/cases/{w.case_id}/fast-track").json()
    body = {**w.mediator.plain("fasttrack.proposed", prop["payload"]),
            "document": _document(prop["canonical"])}
    res = ok(w.mediator.post(f"/cases/{w.case_id}/fast-track", json=body))
    assert res["stage"] == "fast_track_proposed"
    return prop


def test_the_report_is_the_pre_evaluation_with_its_reasons(fast_world: World) -> None:
    w = fast_world
    _to_facilitation(w)
    r = w.buyer.get(f"/cases/{w.case_id}/fast-track")
    _refused(r, 403, "access_denied")  # prepared for the mediator
    prop = w.mediator.get(f"/cases/{w.case_id}/fast-track").json()
    report = prop["report"]
    assert report["binding"] == "unless_objected" and report["windowSeconds"] == 3 * 86_400
    assert [x["rule"] for x in report["reasons"]] == ["PE-NAD-4", "PE-REM-2"]
    assert all(x["en"] and x["zh-Hans"] for x in report["reasons"])
    assert "3 days" in report["disclaimer"]["en"] and "3 天" in report["disclaimer"]["zh-Hans"]
    assert report["basis"]["trackingSource"] == "no_evidence"
    assert prop["payload"] == {"recommended": "partial_refund", "toBuyer": "400000000",
                               "toSeller": str(AMOUNT - 400_000_000), "compensation": "0",
                               "reportHash": prop["sha256"]}


def test_a_proposal_other_than_the_pre_evaluation_is_refused(fast_world: World) -> None:
    w = fast_world
    _to_facilitation(w)
    prop = w.mediator.get(f"/cases/{w.case_id}/fast-track").json()
    path = f"/cases/{w.case_id}/fast-track"
    more = {**prop["payload"], "toBuyer": str(AMOUNT), "toSeller": "0",
            "recommended": "full_refund"}
    _refused(w.mediator.post(path, json={**w.mediator.plain("fasttrack.proposed", more),
                                         "document": _document(prop["canonical"])}),
             422, "not_the_pre_evaluation")
    other = prop["canonical"].replace("PE-NAD-4", "PE-NAD-2")  # another report
    forged = {**prop["payload"], "reportHash": "0x" + "ab" * 32}
    _refused(w.mediator.post(path, json={**w.mediator.plain("fasttrack.proposed", forged),
                                         "document": _document(other)}),
             422, "not_the_pre_evaluation")
    _refused(w.mediator.post(path, json=w.mediator.plain("fasttrack.proposed",
                                                         prop["payload"])),
             422, "bad_submission")  # no report: the reasons must be in the record
    body = {**w.buyer.plain("fasttrack.proposed", prop["payload"]),
            "document": _document(prop["canonical"])}
    _refused(w.buyer.post(path, json=body), 403, "wrong_actor")
    assert w.admin.case()["stage"] == "facilitation"


def test_no_objection_binds_and_the_escrow_executes_it(fast_world: World) -> None:
    w = fast_world
    _to_facilitation(w)
    prop = _propose(w)
    w.tick()
    order = w.port.read_order(ORDER_ID)
    assert order.status == "DecisionPending"
    # the reasons are in the record: the step's document is the report
    view = w.buyer.case()
    assert view["preEvaluation"][1] == prop["sha256"]
    late = w.buyer.plain("fasttrack.objected")
    w.clock.advance(days=3)
    _refused(w.buyer.post(f"/cases/{w.case_id}/fast-track/objection", json=late),
             409, "deadline_passed")
    w.tick()  # the deadline fires, then the escrow executes and the payout is recorded
    w.tick()
    view = w.buyer.case()
    assert view["stage"] == "enforced", view["chainActions"]
    kinds = {a["kind"]: a["status"] for a in view["chainActions"]}
    assert kinds["submit_fast_track"] == "done" and kinds["execute_award"] == "done"
    assert w.port.read_order(ORDER_ID).status == "Resolved"
    paid = [c for kind, c in w.port.calls if kind == "execute_award"]
    assert paid and paid[0]["allocation"] == {"to_buyer": 400_000_000,
                                              "to_seller": AMOUNT - 400_000_000,
                                              "compensation": 0}
    timeline = w.buyer.get(f"/cases/{w.case_id}/timeline").json()
    steps = [i["action"] for i in timeline if i["type"] == "step"]
    assert steps[-3:] == ["fasttrack.proposed", "deadline_missed.fast_track_proposed",
                          "enforcement.recorded"]


def test_an_objection_goes_to_a_sole_arbitrator(fast_world: World) -> None:
    w = fast_world
    _to_facilitation(w)
    _propose(w)
    w.tick()
    path = f"/cases/{w.case_id}/fast-track/objection"
    _refused(w.stranger.post(path, json=w.stranger.plain("fasttrack.objected")),
             403, "wrong_actor")
    res = ok(w.seller.post(path, json=w.seller.plain("fasttrack.objected")))
    assert res["stage"] == "arbitrator_appointment"
    _refused(w.buyer.post(path, json=w.buyer.plain("fasttrack.objected")), 409, "wrong_stage")
    # the escrow waits for the seller's own wallet (objectToDecision)
    w.tick()
    waiting = [a for a in w.buyer.case()["chainActions"] if a["kind"] == "object"]
    assert waiting and waiting[0]["status"] == "awaiting_party"
    w.port.party_objects(ORDER_ID)
    w.tick()
    done = [a for a in w.buyer.case()["chainActions"] if a["kind"] == "object"]
    assert done[0]["status"] == "done"
    assert w.port.read_order(ORDER_ID).status == "Disputed"
    ok(w.admin.post(f"/cases/{w.case_id}/arbitrator",
                    json=w.admin.appoint("arbitrator", w.arbitrator)))
    w.tick()
    assert w.port.read_order(ORDER_ID).status == "ArbitratorAppointed"


def test_above_the_threshold_the_track_is_closed(clean_db_url: str, tmp_path: Path) -> None:
    w = make_world(clean_db_url, tmp_path, fast_track_max_amount=AMOUNT - 1)
    with w.client:
        _to_facilitation(w)
        prop = w.mediator.get(f"/cases/{w.case_id}/fast-track").json()
        body = {**w.mediator.plain("fasttrack.proposed", prop["payload"]),
                "document": _document(prop["canonical"])}
        _refused(w.mediator.post(f"/cases/{w.case_id}/fast-track", json=body),
                 422, "invalid_command")
        steps = w.mediator.case()["allowedSteps"]
        assert "fasttrack.proposed" in steps  # the table admits it; the content refuses it


def test_the_settings_open_the_track_and_set_its_window(clean_db_url: str, tmp_path: Path
                                                         ) -> None:
    """CHAINARB_FAST_TRACK_MAX_AMOUNT opens the track to orders up to it (0, the default:
    closed); CHAINARB_FAST_TRACK_DAYS is the window a proposal opens."""

    closed = f"sqlite:///{tmp_path / 'closed.sqlite3'}"
    migrated(closed)
    for url, settings, is_open, window in (
            (closed, {}, False, 3),
            (clean_db_url, {"fast_track_max_amount": AMOUNT, "fast_track_days": 2}, True, 2)):
        w = make_world(url, tmp_path / str(window), **settings)  # type: ignore[arg-type]
        with w.client:
            _to_facilitation(w)
            fast = w.mediator.case()["fastTrack"]
            assert (fast["open"], fast["windowSeconds"]) == (is_open, window * 86_400)
            if is_open:
                _propose(w)
                view = w.buyer.case()
                assert view["fastTrack"]["proposal"]["report_hash"] == view["preEvaluation"][1]
                deadline, entered = view["deadline"], view["stageEnteredAt"]
                from datetime import datetime
                span = datetime.fromisoformat(deadline) - datetime.fromisoformat(entered)
                assert span.total_seconds() == window * 86_400
