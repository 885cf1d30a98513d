"""Judicial packages over the states a case can reach, not one example (issue 9, defect 4).

Each scenario drives the procedure through the real service (signed steps over HTTP, the
escrow on an in-process EVM, anchoring rounds, a local RFC 3161 authority) to a stage a
court may read, downloads the package through ``GET /cases/{id}/judicial-package`` and
verifies it with the real verifier (``evidence.judicial.verify_package``): every check
must pass. A case without evidence has no ``blocks.car`` (docs/judicial-package.md §1).

The stages a court may not read yet give ``409 wrong_stage``, never a 500: the court has
access from its appointment on, but a package exists only once the procedure has an end
(``procedure._rules.COURT_READ_STAGES``): a result to confirm, or a case closed for
litigation whose escrow refunded the buyer by timeout (before that refund: ``409
escrow_not_resolved``).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend.api.headers import DOWNLOAD_CSP
from backend.chain.contracts import Timeouts
from backend.chain.devchain import advance_time
from backend.procedure._rules import COURT_READ_STAGES
from evidence.judicial import _format as fmt
from evidence.judicial.verify import CHECKS, OPTIONAL_CHECKS, Status, verify_package
from evidence.records import CourtConfirmation
from tests.backend.package.package_world import (
    ChainWorld,
    accept_body,
    award_body,
    award_record_hash,
    offer_body,
    post,
    run_to_award,
    run_to_enforcement,
    run_to_settlement,
    staged,
)
from tests.support.identity import disclose
from tests.support.world import filing_payload

ETHER = 10**18
ZERO32 = "0x" + "00" * 32


def _grant_court(cw: ChainWorld) -> None:
    w = cw.world
    r = w.admin.post("/admin/courts", json={"address": w.court.address, "name": "Court"})
    assert r.status_code in (200, 201), r.text
    r = w.admin.post(f"/cases/{w.case_id}/courts", json={"court": w.court.address})
    assert r.status_code in (200, 201), r.text


@staged
def _file(cw: ChainWorld) -> str:
    w = cw.world
    case_id = w.open_case("buyer", cw.order_id)
    payload = filing_payload(w, amount=ETHER) | {"orderId": str(cw.order_id)}
    post(w.buyer, f"/cases/{case_id}/filing", w.buyer.plain("case.filed", payload))
    cw.escrow.raise_dispute(w.buyer.key, cw.order_id, bytes.fromhex(case_id[2:]))
    w.tick()
    return case_id


@staged
def _settle_without_evidence(cw: ChainWorld) -> str:
    """Filing, one offer, its acceptance: settled with no evidence ever uploaded."""
    w = cw.world
    case_id = _file(cw)
    made = post(w.seller, f"/cases/{case_id}/offers",
                offer_body(cw, w.seller, 6 * ETHER // 10, 14 * ETHER // 10))
    done = post(w.buyer, f"/cases/{case_id}/offers/accept",
                accept_body(cw, w.buyer, made["recordHash"], 6 * ETHER // 10,
                            14 * ETHER // 10))
    assert done["stage"] == "settled", done
    w.tick()  # the executor executes the settlement on the escrow
    return case_id


def _award_by_default(cw: ChainWorld) -> str:
    """Default proceedings: the respondent agrees to arbitrate, then takes no further part;
    the deadlines move the case to arbitration, the record closes by itself, the award is
    made and enforced. Nobody uploads evidence."""
    w = cw.world
    case_id = _file(cw)
    for who in ("seller", "buyer"):
        post(w.actors[who], f"/cases/{case_id}/arbitration-agreement",
             w.actors[who].plain("arbitration.agreed"))
    post(w.buyer, f"/cases/{case_id}/facilitation", w.buyer.plain("facilitation.requested"))
    cw.advance(days=10, seconds=1)  # facilitation runs out: to arbitration (agreed)
    w.tick()
    assert w.buyer.case()["stage"] == "arbitrator_appointment"
    appointed = post(w.admin, f"/cases/{case_id}/arbitrator",
                     w.admin.appoint("arbitrator", w.arbitrator))
    disclose(w.arbitrator, case_id, "arbitrator", appointed)
    w.tick()  # the executor appoints the arbitrator on the escrow
    cw.advance(days=7, seconds=1)  # the evidence period ends with nothing filed
    w.tick()
    assert w.buyer.case()["stage"] == "record_closed"
    post(w.arbitrator, f"/cases/{case_id}/award",
         award_body(cw, w.arbitrator, 2 * ETHER, 0, 0))
    w.tick()  # the executor relays the award
    advance_time(cw.w3, Timeouts().objection + 60)
    cw.advance(days=10, seconds=1)
    w.tick()
    post(w.buyer, f"/cases/{case_id}/enforcement", w.buyer.plain("enforcement.requested"))
    w.tick()
    assert w.buyer.case()["stage"] == "enforced"
    return case_id


def _download(cw: ChainWorld, tmp_path: Path, name: str) -> tuple[Path, Any]:
    """The package as the court downloads it: anchoring rounds until every record (and
    the escrow records the steps carry, queued on the first ask) is anchored."""
    w = cw.world
    url = f"/cases/{w.case_id}/judicial-package"
    for _ in range(3):
        cw.anchor_all()
        r = w.court.get(url)
        if r.status_code == 200:
            path = tmp_path / f"{name}.zip"
            path.write_bytes(r.content)
            return path, r
        assert r.status_code == 409 and r.json()["code"] == "not_anchored_yet", r.text
    raise AssertionError("the package was never built")


def _decide(cw: ChainWorld, response: Any, *, confirmed: bool, award: bool) -> dict[str, Any]:
    """The court signs its decision over the manifest of the package it downloaded."""
    w = cw.world
    body = w.court.court_decision(award_record_hash(cw) if award else ZERO32,
                                  confirmed=confirmed,
                                  reasons="" if confirmed else "Public policy (art. 244).")
    rec = body["record"]
    rec["message"]["packageHash"] = response.headers["x-package-manifest-sha256"]
    signed = CourtConfirmation.from_json_obj(rec["message"]).sign(w.court.key.key, w.domain)
    r = w.court.post(f"/cases/{w.case_id}/court-decision",
                     json={"record": signed.to_json_obj(), "reasons": body["reasons"]})
    assert r.status_code == 201, r.text
    return r.json()


def _then_decided(run: Callable[[ChainWorld], str], *, confirmed: bool, award: bool
                  ) -> Callable[[ChainWorld, Path], str]:
    def scenario(cw: ChainWorld, tmp_path: Path) -> str:
        case_id = run(cw)
        _grant_court(cw)
        _, first = _download(cw, tmp_path, "before-decision")
        _decide(cw, first, confirmed=confirmed, award=award)
        return case_id

    return scenario


def _plain(run: Callable[[ChainWorld], str]) -> Callable[[ChainWorld, Path], str]:
    def scenario(cw: ChainWorld, _tmp: Path) -> str:
        case_id = run(cw)
        _grant_court(cw)
        return case_id

    return scenario


def _litigation_refunded(cw: ChainWorld) -> str:
    """Nobody agreed to arbitrate and the respondent stays silent: the procedure closes
    for litigation and the escrow refunds the buyer by timeout (its deadline has passed)."""
    w = cw.world
    case_id = _file(cw)
    advance_time(cw.w3, Timeouts().appointment + 60)
    _to_litigation(cw)
    w.tick()  # the executor calls resolveByTimeout
    return case_id


# (scenario, stage it ends in, whether evidence was submitted)
PACKAGEABLE: dict[str, tuple[Callable[[ChainWorld, Path], str], str, bool]] = {
    "settled_without_evidence": (_plain(_settle_without_evidence), "settled", False),
    "settled_with_evidence": (_plain(run_to_settlement), "settled", True),
    "settled_then_confirmed": (
        _then_decided(_settle_without_evidence, confirmed=True, award=False),
        "judicially_confirmed", False),
    "settled_then_refused": (
        _then_decided(_settle_without_evidence, confirmed=False, award=False),
        "confirmation_refused", False),
    "award_by_default_enforced": (_plain(_award_by_default), "enforced", False),
    "closed_for_litigation_refunded": (_plain(_litigation_refunded), "closed_for_litigation",
                                       False),
    "award_enforced_then_refused": (
        _then_decided(run_to_enforcement, confirmed=False, award=True),
        "confirmation_refused", True),
}


def test_the_scenarios_cover_every_stage_a_court_reads() -> None:
    assert {stage for _, stage, _ in PACKAGEABLE.values()} == {s.value for s in
                                                                COURT_READ_STAGES}


@pytest.mark.parametrize("name", sorted(PACKAGEABLE))
def test_package_of_each_readable_state_verifies(name: str, chain_world: ChainWorld,
                                                 tmp_path: Path) -> None:
    run, stage, has_evidence = PACKAGEABLE[name]
    cw = chain_world
    run(cw, tmp_path)
    assert cw.world.court.case()["stage"] == stage
    path, r = _download(cw, tmp_path, name)
    assert r.headers["content-type"] == "application/zip"
    # a download: the browser saves it and runs nothing (backend/api/headers.py)
    assert r.headers["content-disposition"] == (
        f'attachment; filename="chainarb-{cw.case_id[2:14]}-'
        f'{r.headers["x-package-digest"][:12]}.zip"')
    assert r.headers["content-security-policy"] == DOWNLOAD_CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    report = verify_package(path, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes())
    results = {c.name: c.status for c in report.checks}
    assert results == {n: Status.PASSED for n, _, _ in CHECKS if n not in OPTIONAL_CHECKS}, {
        c.name: c.reason for c in report.checks if not c.passed}
    assert report.package_digest == r.headers["x-package-digest"]
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read(fmt.MANIFEST))
        index = json.loads(z.read(fmt.EVIDENCE_INDEX))
        assert ("0x" + hashlib.sha256(z.read(fmt.MANIFEST)).hexdigest()
                == r.headers["x-package-manifest-sha256"])
    assert (fmt.CAR in names) is has_evidence
    assert manifest["files"]["car"] == (fmt.CAR if has_evidence else None)
    assert bool(index["items"]) is has_evidence
    if stage in ("judicially_confirmed", "confirmation_refused"):
        actions = [t["type"] for t in manifest["timeline"]]
        assert "CourtConfirmation" in actions


def _agreed(cw: ChainWorld, case_id: str) -> None:
    """The respondent agrees to arbitrate: the filed case moves on to negotiation."""
    w = cw.world
    post(w.seller, f"/cases/{case_id}/arbitration-agreement",
         w.seller.plain("arbitration.agreed"))


def _window_passes(cw: ChainWorld, _case_id: str) -> None:
    """The award's objection window passes with no objection: the award is final."""
    advance_time(cw.w3, Timeouts().objection + 60)
    cw.advance(days=10, seconds=1)
    cw.world.tick()


def _to_litigation(cw: ChainWorld) -> None:
    """The respondent stays silent and nobody agreed to arbitrate: the courts are open."""
    w = cw.world
    for _ in range(2):
        cw.advance(days=10, seconds=1)
        w.tick()
    assert w.buyer.case()["stage"] == "closed_for_litigation"


# The stages a court may not read yet, in the order one case passes them: how the case
# starts, the stage it is then in, and each later move with the stage it leads to (a case
# each: filed then negotiation, awarded then final).
NOT_YET: dict[str, tuple[Callable[[ChainWorld], str], str,
                         list[tuple[Callable[[ChainWorld, str], None], str]]]] = {
    "filed_then_negotiation": (_file, "filed", [(_agreed, "negotiation")]),
    "awarded_then_final": (run_to_award, "awarded", [(_window_passes, "final")]),
}


def _no_package_yet(cw: ChainWorld, case_id: str, stage: str) -> None:
    assert cw.world.court.case()["stage"] == stage
    cw.anchor_all()
    r = cw.world.court.get(f"/cases/{case_id}/judicial-package")
    assert r.status_code == 409, (stage, r.text)
    assert r.json()["code"] == "wrong_stage"
    assert stage in r.json()["detail"]


@pytest.mark.parametrize("name", sorted(NOT_YET))
def test_no_package_before_a_result_to_confirm(name: str, chain_world: ChainWorld) -> None:
    start, first, moves = NOT_YET[name]
    cw = chain_world
    case_id = start(cw)
    _grant_court(cw)
    _no_package_yet(cw, case_id, first)
    for move, stage in moves:
        move(cw, case_id)
        _no_package_yet(cw, case_id, stage)


def test_litigation_package_waits_for_the_escrow_refund(chain_world: ChainWorld,
                                                        tmp_path: Path) -> None:
    """Closed for litigation before the escrow's own deadline: the refund by timeout is not
    on the chain yet, so there is no package (409 escrow_not_resolved), until there is."""
    cw = chain_world
    w = cw.world
    case_id = _file(cw)
    _to_litigation(cw)  # resolveByTimeout is tried and refused: the escrow's window is open
    _grant_court(cw)
    cw.anchor_all()
    r = w.court.get(f"/cases/{case_id}/judicial-package")
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "escrow_not_resolved"
    assert r.json()["detail"].startswith(f"case {case_id} is closed for litigation")
    # the escrow's deadline passes and the buyer refunds itself (anyone may): the chain,
    # not the service's action log, is what the package reads
    advance_time(cw.w3, Timeouts().appointment + 60)
    cw.escrow.resolve_by_timeout(w.buyer.key, cw.order_id)
    path, _ = _download(cw, tmp_path, "litigation")
    report = verify_package(path, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes())
    assert {c.name: c.status for c in report.checks} == {
        n: Status.PASSED for n, _, _ in CHECKS if n not in OPTIONAL_CHECKS}
    assert "TimeoutNoArbitrator" in report.check("award_payout").reason


def test_the_service_waits_out_the_escrow_window_then_refunds(chain_world: ChainWorld,
                                                              tmp_path: Path) -> None:
    """The procedure closes for litigation before the escrow's deadline: the service's
    resolveByTimeout waits (TooEarly spends no attempt, however many ticks pass) and is sent
    once the window has closed, so the buyer is refunded without acting."""
    cw = chain_world
    w = cw.world
    case_id = _file(cw)
    _to_litigation(cw)

    def refund_action() -> dict[str, object]:
        actions = w.admin.case()["chainActions"]
        return next(a for a in actions if a["kind"] == "resolve_by_timeout")

    for _ in range(8):  # more ticks than the executor's attempts
        w.tick()
    waiting = refund_action()
    assert (waiting["status"], waiting["attempts"]) == ("pending", 0), waiting
    assert "window is open until" in str(waiting["error"])
    advance_time(cw.w3, Timeouts().appointment + 60)
    w.tick()
    done = refund_action()
    assert done["status"] == "done" and done["txHash"], done
    _grant_court(cw)
    path, _ = _download(cw, tmp_path, "litigation-by-service")
    report = verify_package(path, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes())
    assert report.check("award_payout").status is Status.PASSED
    assert case_id
