"""The standard texts of a contract of sale: declared once (evidence/sale_terms.py), printed
verbatim with their hashes in docs/contract-of-sale.md, hashed as documented; and the
marketplace helper builds only contracts that name them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from evidence.errors import InvalidRecord
from evidence.marketplace import contract_of_sale
from evidence.sale_terms import DISPUTE_CLAUSES, RETURN_POLICIES, RULES_VERSIONS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "contract-of-sale.md").read_text()
TEXTS = [*DISPUTE_CLAUSES.values(), *RETURN_POLICIES.values(), *RULES_VERSIONS.values()]
ADDR = ["0x" + f"{i:02x}" * 20 for i in (1, 2, 3, 4)]


@pytest.mark.parametrize("text", TEXTS, ids=lambda t: t.id)
def test_the_doc_prints_every_text_and_its_hash(text: Any) -> None:
    assert f"#### `{text.id}`" in DOC
    assert f"> EN: {text.en}\n" in DOC and f"> 中文：{text.zh}\n" in DOC
    assert f"`0x{text.hash.hex()}`" in DOC


@pytest.mark.parametrize("text", TEXTS, ids=lambda t: t.id)
def test_text_hash_is_keccak_of_the_canonical_json(text: Any) -> None:
    body = json.dumps({"zh": text.zh, "id": text.id, "en": text.en}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode()
    assert text.hash == keccak(body)
    assert text.en.isascii() and not text.zh.isascii()  # both languages are there


def test_clauses_say_whether_they_agree_to_arbitrate() -> None:
    agreed = {c.id for c in DISPUTE_CLAUSES.values() if c.arbitration_agreed}
    assert agreed == {"chainarb-arbitration-1", "chainarb-jury-small-claims-1"}
    for clause in DISPUTE_CLAUSES.values():  # negotiation, then mediation, in every clause
        assert "negotiate" in clause.en and "mediator" in clause.en
        assert ("object once" in clause.en) == clause.arbitration_agreed


def _build(**kw: Any) -> Any:
    values: dict[str, Any] = dict(
        buyer=ADDR[0], seller=ADDR[1], institution=ADDR[2], token=ADDR[3], amount=12_500_000,
        goods="Tea", quantity=1, delivery_terms="FCA Xiamen",
        delivery_deadline=datetime(2027, 1, 10, tzinfo=UTC),
        offer_expires_at=datetime(2027, 1, 1, tzinfo=UTC))
    values.update(kw)
    return contract_of_sale(**values)


def test_the_helper_fills_the_hashes_and_a_fresh_offer_id() -> None:
    a, b = _build(), _build()
    assert a.clause_hash == DISPUTE_CLAUSES["chainarb-arbitration-1"].hash
    assert a.rules_hash == RULES_VERSIONS["chainarb-rules-1"].hash
    assert a.offer_id != b.offer_id and a.delivery_deadline == 1_799_539_200


@pytest.mark.parametrize(("change", "why"), [
    ({"amount": 12.5}, "uint256"),
    ({"amount": Decimal("12.5")}, "uint256"),
    ({"amount": 0}, "positive"),
    ({"dispute_clause": "arbitration-by-anyone"}, "unknown"),
    ({"return_policy": "return-90-days-1"}, "unknown"),
    ({"seller": ADDR[0]}, "differ"),
    ({"offer_expires_at": datetime(2027, 2, 1, tzinfo=UTC)}, "before the delivery"),
])
def test_the_helper_refuses_what_cannot_be_signed(change: dict[str, Any], why: str) -> None:
    with pytest.raises(InvalidRecord, match=why):
        _build(**change)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        _build(delivery_deadline=datetime(2027, 1, 10))
