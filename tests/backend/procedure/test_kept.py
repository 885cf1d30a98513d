"""``KeptByIdentity``: values found again by their object's identity, in a bounded table
that keeps what is in use when new entries flow through (issue 10, sixteenth round)."""

from __future__ import annotations

import gc
import json
import weakref

import pytest

from backend import procedure as p
from backend.procedure import _serialize
from tests.backend.procedure.procedure_helpers import (
    BUYER,
    STAGE_BUILDERS,
    T0,
    alloc,
    h,
    step,
    to_negotiation,
)


class Thing:
    """An object with identity only (equal to nothing else), which a weakref can watch."""


def test_a_value_is_found_by_its_object_and_part_not_by_an_equal_one() -> None:
    kept: p.KeptByIdentity[object, str] = p.KeptByIdentity(4)
    a, b = (1, 2), tuple([1, 2])  # equal, two objects
    assert a == b and a is not b
    assert kept.put(a, "a") == "a"
    assert kept.get(a) == "a"
    assert kept.get(b) is None
    kept.put(a, "a for x", "x")
    assert (kept.get(a, "x"), kept.get(a, "y"), kept.get(a)) == ("a for x", None, "a")


def test_what_is_used_stays_while_new_entries_flow_through() -> None:
    """A working set smaller than a generation is never dropped, however many other
    entries pass (emptying the table when full dropped it every ``size`` entries)."""
    kept: p.KeptByIdentity[Thing, int] = p.KeptByIdentity(100)
    working = [Thing() for _ in range(40)]
    for i, t in enumerate(working):
        kept.put(t, i)
    passing = []
    for round_ in range(20):
        for _ in range(50):  # 1,000 new entries in all, ten generations' worth
            passing.append(Thing())
            kept.put(passing[-1], -1)
        assert [kept.get(t) for t in working] == list(range(40)), round_
    assert len(kept) <= 2 * kept.size


def test_an_entry_unused_for_two_generations_is_dropped_and_its_object_freed() -> None:
    kept: p.KeptByIdentity[Thing, str] = p.KeptByIdentity(3)
    gone = Thing()
    watch = weakref.ref(gone)
    kept.put(gone, "x")
    del gone
    for _ in range(6):
        kept.put(Thing(), "other")
    gc.collect()
    assert watch() is None  # no longer held by the table
    kept.clear()
    assert len(kept) == 0


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        p.KeptByIdentity(0)


@pytest.mark.parametrize("stage", list(STAGE_BUILDERS))
def test_the_stored_text_is_the_plain_one_while_the_kept_texts_turn_over(
        stage: p.Stage, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a table of three entries a generation every encoding of a case mixes kept,
    moved and fresh texts: the text must still be the plain encoding."""
    monkeypatch.setattr(_serialize, "_TEXTS", p.KeptByIdentity(3))
    case = STAGE_BUILDERS[stage]()
    plain = json.dumps(p.case_to_dict(case), separators=(",", ":"))
    for _ in range(3):
        assert p.case_to_json(case) == plain


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


@pytest.mark.parametrize("stage", list(STAGE_BUILDERS))
def test_a_stored_text_decodes_with_its_parts_texts_kept(
        stage: p.Stage, monkeypatch: pytest.MonkeyPatch) -> None:
    """``case_from_json``: the state of ``case_from_dict``, and each part's kept text is
    its text in the stored one, so the first save of a state decoded cold does not
    encode it whole: no part is encoded, only the case around them."""
    case = STAGE_BUILDERS[stage]()
    text = p.case_to_json(case)
    _serialize._TEXTS.clear()
    encoded: list[type] = []
    encode = _serialize._object_json

    def counted(value: object, fields: tuple[tuple[str, str], ...]) -> str:
        encoded.append(type(value))
        return encode(value, fields)

    monkeypatch.setattr(_serialize, "_object_json", counted)
    back = p.case_from_json(text)
    assert back == case
    assert encoded == []  # decoded and its parts' texts cut out: nothing encoded
    stored = json.loads(text)["case"]
    for name in ("order", "rules"):
        assert _serialize._TEXTS.get(getattr(back, name)) == _compact(stored[name])
    for offer, raw in zip(back.offers, stored["offers"], strict=True):
        assert _serialize._TEXTS.get(offer) == _compact(raw)
    assert p.case_to_json(back) == text
    assert encoded == [p.CaseState]


def test_a_part_stored_in_another_form_is_encoded_afresh() -> None:
    """An offer whose members are in another order (another encoder's text) decodes to
    the same state, and the next save writes this encoder's text, not the stored one."""
    case = step(to_negotiation(), p.MakeOffer, BUYER, T0, offer_id=h(7), allocation=alloc(1000))
    plain = p.case_to_json(case)
    document = json.loads(plain)
    document["case"]["offers"] = [dict(sorted(o.items())) for o in document["case"]["offers"]]
    other = _compact(document)
    assert other != plain and document["case"]["offers"]
    _serialize._TEXTS.clear()
    back = p.case_from_json(other)
    assert back == case
    assert p.case_to_json(back) == plain


def test_a_state_stored_before_a_field_was_added_decodes_to_its_default() -> None:
    """A text without a field that has a default (stored before the field was added) is
    the state ``case_from_dict`` makes of it, and the next save writes the field."""
    case = to_negotiation()
    document = json.loads(p.case_to_json(case))
    del document["case"]["fast_track"]
    older = _compact(document)
    _serialize._TEXTS.clear()
    back = p.case_from_json(older)
    assert back == p.case_from_dict(json.loads(older)) == case
    assert p.case_to_json(back) == p.case_to_json(case)
