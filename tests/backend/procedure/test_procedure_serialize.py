"""JSON forms: every case round-trips exactly; malformed documents and commands are refused."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import timedelta

import pytest

from backend import procedure as p
from backend.procedure import _serialize
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
    case = doc["case"]
    assert isinstance(case, dict) and isinstance(case["order"], dict)
    assert case["filed_at"] == "2026-01-05T09:00:00Z"
    assert case["order"]["amount"] == AMOUNT


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
    with pytest.raises(p.InvalidCommand):  # the stored text's decoder too
        p.case_from_json(json.dumps(doc, separators=(",", ":")))


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"))


@pytest.mark.parametrize("stage", list(STAGE_BUILDERS))
def test_a_stored_text_takes_the_c_decoder(stage, monkeypatch) -> None:
    """Every stage's stored text is exactly msgspec's encoding of its case, so it is
    decoded in C (the checked path is never asked), to the same state."""
    case = STAGE_BUILDERS[stage]()
    text = p.case_to_json(case)

    def unexpected(text: str) -> p.CaseState:
        raise AssertionError("the checked path decoded a stored text")

    monkeypatch.setattr(_serialize, "_case_from_checked_json", unexpected)
    back = p.case_from_json(text)
    assert back == case and p.case_to_json(back) == text


def test_an_unknown_member_of_a_part_is_refused() -> None:
    """msgspec ignores a dataclass's unknown members; the stored text's decoder does not:
    re-encoding the case misses the member, so the checked path refuses the text."""
    doc = copy.deepcopy(_doc())
    doc["case"]["order"]["surprise"] = 1
    with pytest.raises(p.InvalidCommand, match="surprise"):
        p.case_from_json(_compact(doc))


def test_texts_the_c_decoder_cannot_reproduce_take_the_checked_path() -> None:
    """A set of relationships (dataclasses msgspec cannot order), a name in Chinese
    (msgspec writes UTF-8 where the stored text escapes it) and a field missing from an
    older text (its default): each decodes to the state ``case_from_dict`` gives."""
    case = STAGE_BUILDERS[p.Stage.PANEL]()
    case = replace(case, relationships=frozenset({
        *case.relationships, p.Relationship(neutral=PANEL[0], party=BUYER, nature="雇员")}))
    text = p.case_to_json(case)
    assert _serialize._case_of_exact_text(text) is None
    assert p.case_from_json(text) == case
    doc = json.loads(text)
    del doc["case"]["reappointments"]  # a field with a default, as a text from before it
    older = _compact(doc)
    assert _serialize._case_of_exact_text(older) is None
    assert p.case_from_json(older) == p.case_from_dict(doc) == case


def test_a_part_stored_without_a_member_takes_the_checked_path() -> None:
    """msgspec leaves a member missing from a part to its class's default and writes
    back only what it set: such a text is not taken as exact, and the next save writes
    the member."""
    case = STAGE_BUILDERS[p.Stage.NEGOTIATION]()
    doc = json.loads(p.case_to_json(case))
    offer = doc["case"]["offers"][0]
    assert offer.pop("withdrawn") is False  # a member with a default, as before it existed
    older = _compact(doc)
    assert _serialize._case_of_exact_text(older) is None
    back = p.case_from_json(older)
    assert back == case and p.case_to_json(back) == p.case_to_json(case)


def test_a_time_in_another_zone_is_read_in_utc() -> None:
    """msgspec reads ``+08:00`` and writes it back as it was; the stored text's decoder
    gives the time in UTC, as ``case_from_dict`` does (and refuses one without a zone,
    ``test_malformed_case_documents_are_refused``)."""
    case = STAGE_BUILDERS[p.Stage.FILED]()
    doc = json.loads(p.case_to_json(case))
    doc["case"]["filed_at"] = "2026-01-05T17:00:00+08:00"
    back = p.case_from_json(_compact(doc))
    assert back.filed_at is not None and back.filed_at == case.filed_at
    assert back.filed_at.utcoffset() == timedelta(0)
    assert p.case_to_json(back) == p.case_to_json(case)


@pytest.mark.parametrize("stage", [p.Stage.PANEL, p.Stage.JURY_REVEAL])
def test_the_stored_texts_decoder_accepts_and_refuses_what_case_from_dict_does(stage) -> None:
    """Every place of a stored text put to another value: ``case_from_json`` (msgspec
    when the text is exact) refuses what ``case_from_dict`` refuses and gives the same
    state otherwise."""
    doc = p.case_to_dict(STAGE_BUILDERS[stage]())
    wrong = [None, 1.5, -1, "x", "2026-01-05T09:00:00", True, [], {}, ["x"], {"x": 1}]
    tried = refused = 0
    for path, _ in list(_paths(doc)):
        for value in wrong:
            changed = _replaced(doc, path, value)
            text = _compact(changed)
            stored = _outcome(p.case_from_json, text)
            plain = _outcome(p.case_from_dict, changed)
            assert stored[0] == plain[0], (path, value)
            if stored[0] == "value":
                assert stored[1] == plain[1], (path, value)
            tried += 1
            refused += stored[0] == "refused"
    assert tried > 500 and 0 < refused < tried


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


def _paths(node, path=()):
    """Every place in a JSON document: (path, value)."""
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*path, i))


def _replaced(doc, path, value):
    doc = copy.deepcopy(doc)
    if not path:
        return value
    *head, last = path
    node = doc
    for k in head:
        node = node[k]
    node[last] = value
    return doc


def _outcome(decode, data):
    try:
        return "value", decode(data)
    except Exception as exc:  # the kind of refusal is compared
        return "refused", type(exc).__name__


@pytest.mark.parametrize("stage", [p.Stage.PANEL, p.Stage.AWARDED_BY_PANEL, p.Stage.JURY_REVEAL])
def test_the_compiled_decoder_accepts_and_refuses_what_the_explaining_one_does(stage) -> None:
    """The fast decoder (built once per type) and the one that says where a document is
    wrong agree on every place of a case put to another value: each refuses what the
    other refuses, and both give equal states otherwise."""
    from backend.procedure._serialize import _compiled, _explained

    case = p.case_to_dict(STAGE_BUILDERS[stage]())["case"]
    wrong = [None, 1.5, -1, "x", "2026-01-05T09:00:00", True, [], {}, ["x"], {"x": 1}]
    tried = refused = 0
    for path, _ in list(_paths(case)):
        for value in wrong:
            doc = _replaced(case, path, value)
            fast = _outcome(_compiled(p.CaseState), doc)
            explained = _outcome(lambda d: _explained(p.CaseState, d, "case"), doc)
            assert (fast[0], fast[1] if fast[0] == "value" else None) == \
                (explained[0], explained[1] if explained[0] == "value" else None), path
            tried += 1
            refused += fast[0] == "refused"
    assert tried > 500 and 0 < refused < tried  # both kinds of outcome were exercised


def test_the_cores_json_alias_is_evidence_safejsons_member_for_member() -> None:
    """mypy takes a ``dict[str, p.Jsonable]`` for a ``JsonObject`` only while the two
    aliases match (backend/procedure/_serialize.py ``Jsonable``: the core does not import
    evidence.safejson)."""
    from evidence import safejson

    ours: object = p.Jsonable  # the alias's text at run time
    assert isinstance(ours, str) and ours.replace("Jsonable", "JSON") == safejson.JSON
