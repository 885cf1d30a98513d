"""JSON forms: every case round-trips exactly; malformed documents and commands are refused."""

from __future__ import annotations

import copy
import json

import pytest

from backend import procedure as p
from tests.backend.procedure.procedure_helpers import (
    AMOUNT,
    BUYER,
    PANEL,
    STAGE_BUILDERS,
    T0,
    alloc,
    h,
)


@pytest.mark.parametrize("stage", list(STAGE_BUILDERS))
def test_every_stage_round_trips_through_json(stage) -> None:
    case = STAGE_BUILDERS[stage]()
    text = json.dumps(p.case_to_dict(case), sort_keys=True)
    back = p.case_from_dict(json.loads(text))
    assert back == case
    assert json.dumps(p.case_to_dict(back), sort_keys=True) == text  # canonical


def test_document_starts_with_version() -> None:
    doc = p.case_to_dict(STAGE_BUILDERS[p.Stage.FILED]())
    assert next(iter(doc)) == "version" and doc["version"] == p.CASE_FORMAT_VERSION
    assert doc["case"]["filed_at"] == "2026-01-05T09:00:00Z"
    assert doc["case"]["order"]["amount"] == AMOUNT


def _doc():
    return p.case_to_dict(STAGE_BUILDERS[p.Stage.PANEL]())


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(version=2),
        lambda d: d.update(extra=1),
        lambda d: d["case"].update(surprise=True),
        lambda d: d["case"].pop("order"),
        lambda d: d["case"]["order"].update(amount=1.5),
        lambda d: d["case"]["order"].update(amount="1000"),
        lambda d: d["case"].update(stage="limbo"),
        lambda d: d["case"].update(filed_at="2026-01-05T09:00:00"),  # naive
        lambda d: d["case"].update(filed_at="yesterday"),
        lambda d: d["case"].update(panel="0xabc"),
        lambda d: d["case"]["order"].update(buyer=BUYER.lower()),
        lambda d: d["case"].update(pre_evaluation=["partial_refund"]),
        lambda d: d["case"].update(next_sequence=True),
    ],
)
def test_malformed_case_documents_are_refused(mutate) -> None:
    doc = copy.deepcopy(_doc())
    mutate(doc)
    with pytest.raises(p.InvalidCommand):
        p.case_from_dict(doc)


def test_commands_round_trip() -> None:
    cmds = [
        p.MakeOffer(actor=BUYER, sequence=3, offer_id="o", allocation=alloc(5, 2)),
        p.AppointPanel(actor=BUYER, sequence=0, panel=PANEL),
        p.SubmitEvidence(actor=BUYER, sequence=9, evidence_id="e", kind="video",  # type: ignore[arg-type]
                         commitment=h(3)),
        p.RefuseConfirmation(actor=BUYER, sequence=1, package_hash=h(1), court_reference="R",
                             reasons_hash=h(2), reasons="因为\n理由"),
        p.MakeOffer(actor=BUYER, sequence=3, offer_id="o", allocation=alloc(5),
                    expires_at=T0),
        p.SubmitEvidence(actor=BUYER, sequence=9, evidence_id="e", kind="video",  # type: ignore[arg-type]
                         commitment=h(3), content_cid="bafybeigdyrzt5sfp7udm7hu76uh7y26nf3"),
    ]
    for cmd in cmds:
        data = json.loads(json.dumps(p.command_to_dict(cmd)))
        assert data["type"] == type(cmd).__name__
        assert p.command_from_dict(data) == cmd


@pytest.mark.parametrize(
    "data",
    [
        {"type": "Launch", "actor": BUYER, "sequence": 0},
        {"actor": BUYER, "sequence": 0},
        {"type": "CloseRecord", "actor": BUYER},
        {"type": "CloseRecord", "actor": BUYER, "sequence": 0, "extra": 1},
        {"type": "CloseRecord", "actor": BUYER.lower(), "sequence": 0},
        {"type": "MakeOffer", "actor": BUYER, "sequence": 0, "offer_id": "o",
         "allocation": {"to_buyer": 1.0, "to_seller": 0, "compensation": 0}},
        {"type": "AppointPanel", "actor": BUYER, "sequence": 0, "panel": list(PANEL[:2])},
        {"type": "SubmitEvidence", "actor": BUYER, "sequence": 0, "evidence_id": "e",
         "kind": "hearsay", "commitment": h(1)},
        ["CloseRecord"],
    ],
)
def test_malformed_commands_are_refused(data) -> None:
    with pytest.raises(p.InvalidCommand):
        p.command_from_dict(data)


def test_effects_are_jsonable() -> None:
    case = STAGE_BUILDERS[p.Stage.NOT_FILED]()
    _, effects = p.apply(case, p.FileClaim(actor=BUYER, sequence=0,
                                           dispute_type="goods_not_received",  # type: ignore[arg-type]
                                           remedy="full_refund", claimed_amount=AMOUNT,  # type: ignore[arg-type]
                                           statement_hash=h(1)), T0)
    encoded = json.loads(json.dumps([p.to_jsonable(e) for e in effects]))
    assert encoded[0] == {"order_id": 7, "case_id": case.case_id}


@pytest.mark.parametrize("stage", list(STAGE_BUILDERS))
def test_stored_text_is_the_plain_encoding_also_when_parts_are_cached(stage) -> None:
    case = STAGE_BUILDERS[stage]()
    plain = json.dumps(p.case_to_dict(case), separators=(",", ":"))
    assert p.case_to_json(case) == plain
    assert p.case_to_json(case) == plain  # second time from the cached parts
    back = p.case_from_dict(json.loads(plain))  # equal parts, other objects
    assert p.case_to_json(back) == plain
