"""evidence.orders: the order terms are the OrderOpened event's fields, the allocation the
signed records' amounts (one declaration each)."""

from __future__ import annotations

import re
from dataclasses import fields

from evidence import records
from evidence.events import ORDER_OPENED
from evidence.orders import Allocation, OrderTerms


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def test_order_terms_are_the_order_opened_event_fields() -> None:
    assert [f.name for f in fields(OrderTerms)] == [_snake(n) for n, _, _ in ORDER_OPENED.params]


def test_order_terms_read_a_decoded_event() -> None:
    args = {"orderId": 7, "buyer": "0x" + "11" * 20, "seller": "0x" + "22" * 20,
            "token": "0x" + "00" * 20, "amount": 10**30 + 1, "deliveryDeadline": 1_700_000_000,
            "institution": "0x" + "33" * 20, "rulesHash": bytes(range(32))}
    terms = OrderTerms.from_event(args)
    assert (terms.order_id, terms.amount, terms.rules_hash) == (7, 10**30 + 1, bytes(range(32)))
    assert terms.delivery_deadline == 1_700_000_000


def test_the_records_sign_this_allocation() -> None:
    assert records.Allocation is Allocation
    split = Allocation(to_buyer=7, to_seller=3, compensation=1)
    offer_fields = {n for n, _ in records.Settlement.FIELDS}
    assert {"toBuyer", "toSeller", "compensation"} <= offer_fields
    assert records.Settlement(order_id=1, case_id=bytes(32), **split.fields()).to_buyer == 7
