"""The case view's TypedDicts for the procedure's values (backend/services/views.py) list
the members ``p.to_jsonable`` writes for each dataclass, in its order."""

from __future__ import annotations

import dataclasses

import pytest

from backend import procedure as p
from backend.services import views


@pytest.mark.parametrize(("declared", "dataclass"), [
    (views.AllocationJson, p.Allocation),
    (views.AwardJson, p.AwardTerms),
    (views.CourtDecisionJson, p.CourtDecision),
    (views.FastTrackProposalJson, p.FastTrack),
    (views.OfferJson, p.Offer),
])
def test_each_typeddict_lists_its_dataclass_fields(declared: type, dataclass: type) -> None:
    assert list(declared.__annotations__) == [f.name for f in dataclasses.fields(dataclass)]


def test_an_offer_view_is_the_offer_and_its_settlement_hash() -> None:
    assert list(views.OfferViewJson.__annotations__) == [
        *views.OfferJson.__annotations__, "settlementHash"]
