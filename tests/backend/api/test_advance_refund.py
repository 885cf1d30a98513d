"""Advance refund (Trade Assurance) through the API: an institution admin releases it once
the seller has missed the delivery deadline of an order in dispute whose contract of sale's
rules provide for it; an institution-signed ``advance.refunded`` step records it and the
escrow pays it from the seller's guarantee (in-memory escrow; SQLite and PostgreSQL).

Every refusal by name: not in the terms, not in dispute, deadline not missed, the wrong
token, over the cap, twice beyond the cap, not an admin.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from evidence.marketplace import MarketplaceClient
from evidence.steps import step_of_record
from tests.backend.api.test_checkout import PRICE, TOKEN, _contract, _open_escrow, _sig
from tests.support.world import GUARANTEE, World, ok

ORDER = 8
RULES = "chainarb-rules-1-advance-refund-1"


def _bound_case(w: World, rules: str = RULES) -> str:
    market = MarketplaceClient(client=w.client)
    contract = _contract(w, rules_version=rules)
    key = "0x" + contract.digest(w.domain).hex()
    market.propose(contract, [_sig(w, "buyer", contract), _sig(w, "seller", contract)])
    _open_escrow(w, contract, ORDER)
    return str(market.bind(key)["caseId"])


def _advance(w: World, case_id: str, amount: int, token: str = TOKEN,
             who: str = "admin") -> Any:
    client = getattr(w, who)
    return client.post(f"/cases/{case_id}/advance-refund",
                       json={"amount": str(amount), "token": token})


def _refused(r: Any, status: int, code: str) -> None:
    assert (r.status_code, r.json()["code"]) == (status, code), r.text


def test_advance_refund_after_the_missed_deadline(world: World) -> None:
    w = world
    case_id = _bound_case(w)
    part = GUARANTEE // 3
    _refused(_advance(w, case_id, part), 409, "advance_not_in_dispute")
    w.port.party_raises_dispute(ORDER, case_id)
    _refused(_advance(w, case_id, part), 409, "advance_deadline_not_missed")
    w.clock.now += timedelta(days=20, seconds=1)  # the contract's delivery deadline passed
    _refused(_advance(w, case_id, part, who="buyer"), 403, "access_denied")
    _refused(_advance(w, case_id, part, token="0x" + "22" * 20), 422, "advance_wrong_token")
    _refused(_advance(w, case_id, GUARANTEE + 1), 409, "advance_above_cap")
    _refused(_advance(w, case_id, 0), 422, "invalid_field")
    assert w.port.read_order(ORDER).advanced == 0 and not w.port.calls[1:]

    done = ok(_advance(w, case_id, part))
    assert (done["orderId"], done["amount"], done["totalAdvanced"]) == (ORDER, str(part),
                                                                       str(part))
    order = w.port.read_order(ORDER)
    assert (order.advanced, order.guarantee) == (part, GUARANTEE - part)
    assert w.port.calls[-1] == ("advance_refund", {
        "orderId": str(ORDER), "caseId": case_id, "token": TOKEN, "amount": str(part)})
    # the step is on the case's hash chain, signed by the institution, in both languages
    steps = [i for i in ok(w.admin.get(f"/cases/{case_id}/timeline"))
             if i["type"] == "step" and i.get("action") == "advance.refunded"]
    assert len(steps) == 1 and steps[0]["recordHash"] == done["recordHash"]
    spec = step_of_record("ProceduralStep", "advance.refunded")
    assert spec is not None and spec.institution and "先行退款" in spec.done_zh

    # a second advance stops at what the guarantee still holds; then it is spent
    _refused(_advance(w, case_id, GUARANTEE - part + 1), 409, "advance_above_cap")
    ok(_advance(w, case_id, GUARANTEE - part))
    assert w.port.read_order(ORDER).guarantee == 0
    _refused(_advance(w, case_id, 1), 409, "advance_above_cap")
    assert w.port.read_order(ORDER).advanced == GUARANTEE <= PRICE


def test_no_advance_refund_outside_the_contracts_terms(world: World) -> None:
    w = world
    # a contract of sale whose rules provide for no advance refund
    case_id = _bound_case(w, rules="chainarb-rules-1")
    w.port.party_raises_dispute(ORDER, case_id)
    w.clock.now += timedelta(days=21)
    _refused(_advance(w, case_id, 1), 409, "advance_not_in_terms")
    # the world's plain order, opened without a contract of sale
    _refused(_advance(w, w.open_case(), 1), 409, "advance_not_in_terms")


def test_the_standard_terms_say_which_rules_provide_for_an_advance(world: World) -> None:
    rules = {r["id"]: r for r in MarketplaceClient(client=world.client).terms()["rulesVersions"]}
    assert rules[RULES]["advanceRefund"] is True and "先行退款" in str(rules[RULES]["zh"])
    assert rules["chainarb-rules-1"]["advanceRefund"] is False
