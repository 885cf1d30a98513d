"""Deadline-driven transitions through the scheduler with the injected clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from evidence.records import ProceduralStep, SignedRecord
from tests.support.clock import T0
from tests.support.migrated import migrated
from tests.support.world import World, ok, to_filed


def _steps(w: World) -> list[dict[str, object]]:
    return [i for i in ok(w.admin.get(f"/cases/{w.case_id}/timeline")) if i["type"] == "step"]


def test_silent_respondent_then_no_arbitration_goes_to_litigation(world: World) -> None:
    w = world
    to_filed(w)
    view = w.admin.case()
    assert view["deadline"] == "2026-12-04T08:00:00Z"  # negotiation: 10 days from filing
    w.clock.advance(days=9, hours=23)
    assert w.tick()["advanced"] == []  # not yet due: nothing happens
    assert w.admin.case()["stage"] == "filed"
    # the scheduler runs late (30 days): both defaults happen, each at its own deadline
    w.clock.now = T0 + timedelta(days=30)
    assert w.tick()["advanced"] == [w.case_id]
    view = w.admin.case()
    assert view["stage"] == "closed_for_litigation"
    defaults = [s for s in _steps(w) if str(s["action"]).startswith("deadline_missed.")]
    assert [s["action"] for s in defaults] == ["deadline_missed.filed",
                                               "deadline_missed.facilitation"]
    assert {s["signer"] for s in defaults} == {view["institution"]}
    changes = [i for i in ok(w.admin.get(f"/cases/{w.case_id}/timeline"))
               if i["type"] == "stage_changed"]
    assert [(c["to"], c["at"], c["byDefault"]) for c in changes][-2:] == [
        ("facilitation", "2026-12-04T08:00:00Z", True),
        ("closed_for_litigation", "2026-12-14T08:00:00Z", True)]
    # the defaults are signed records in the chain like any other, by the institution key
    for s in defaults:
        step = ok(w.admin.get(f"/cases/{w.case_id}/steps/{s['sequence']}"))
        rec = SignedRecord.from_json_obj(step["record"])
        assert isinstance(rec.record, ProceduralStep)
        assert rec.verify() == (view["institution"],)
    # the escrow is released by timeout (the buyer refunded) once the chain allows it
    kinds = {a["kind"]: a["status"] for a in view["chainActions"]}
    assert kinds.get("resolve_by_timeout") == "done", view["chainActions"]
    # nothing more to do; a terminal case is never due again
    assert w.tick()["advanced"] == []
    r = w.seller.post(f"/cases/{w.case_id}/arbitration-agreement",
                      json=w.seller.plain("arbitration.agreed"))
    assert r.status_code == 409 and r.json()["code"] == "case_closed"
    # the parties were told of each stage change
    kinds = [n["kind"] for n in ok(w.seller.get(f"/cases/{w.case_id}/notices"))]  # type: ignore[assignment]
    assert kinds.count("stage_changed") >= 2  # type: ignore[attr-defined]


def test_objection_window_makes_the_award_final(world: World) -> None:
    from tests.support.world import to_awarded

    w = world
    to_awarded(w)
    w.clock.advance(days=10)  # deadlines are exclusive: at the instant it is late
    w.tick()
    assert w.admin.case()["stage"] == "final"


def test_only_due_cases_advance(world: World) -> None:
    w = world
    to_filed(w)
    first = w.case_id
    from backend.services.chain import OrderInfo
    from tests.support.world import ORDER_ID

    o = w.port.orders[ORDER_ID]
    w.port.add_order(OrderInfo(**{**o.__dict__, "order_id": ORDER_ID + 1}))
    w.clock.advance(days=5)
    w.open_case("seller", order_id=ORDER_ID + 1)
    from tests.support.world import filing_payload

    payload = filing_payload(w, claimant="seller", dispute="buyer_refuses_to_pay",
                             remedy="release_payment", amount=1_000_000_000)
    payload["orderId"] = str(ORDER_ID + 1)
    ok(w.seller.post(f"/cases/{w.case_id}/filing", json=w.seller.plain("case.filed", payload)))
    w.clock.advance(days=5, seconds=1)
    assert w.tick()["advanced"] == [first]
    assert w.admin.case()["stage"] == "filed"
    assert w.admin.case(first)["stage"] == "facilitation"


def test_deadlines_come_from_the_settings(tmp_path: Path) -> None:
    from tests.support.world import make_world

    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    migrated(url)
    w = make_world(url, tmp_path, negotiation_days=3)
    with w.client:
        to_filed(w)
        assert w.admin.case()["deadline"] == "2026-11-27T08:00:00Z"


def test_two_schedulers_at_once_record_each_default_once(world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    w = world
    to_filed(w)
    w.clock.advance(days=10, seconds=1)
    service = w.app.state.ctx.service
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: service.run_due(), range(2)))
    assert sorted(len(r) for r in results) == [0, 1]
    defaults = [s for s in _steps(w) if str(s["action"]).startswith("deadline_missed.")]
    assert [s["action"] for s in defaults] == ["deadline_missed.filed"]
    assert w.admin.case()["stage"] == "facilitation"
