"""Checkout with a signed contract of sale, through the marketplace client and the API
(in-memory escrow; SQLite and PostgreSQL).

A marketplace proposes the contract, the buyer and the seller sign its typed data, the buyer
opens the escrow under its hash, and binding opens the order's case with the clause's
agreement to arbitrate in place. Every refusal is produced by name: one-sided, unsigned,
expired offer, wrong domain, a stranger's signature, price and terms that differ from the
escrowed order, no order yet, a tampered clause.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from eth_account import Account
from sqlmodel import col, select

from backend.db import Leaf, LeafKind
from backend.services.chain import OrderInfo
from evidence.ipfs import cat
from evidence.marketplace import CheckoutRefusedError, MarketplaceClient, contract_of_sale
from evidence.records import ContractOfSale, Domain, SignedRecord
from evidence.sale_terms import DISPUTE_CLAUSES
from tests.support.world import GUARANTEE, World, filing_payload, ok

PRICE = 480_000_000  # 480 USDC (6 decimals): an exact integer, never a float
TOKEN = "0x" + "11" * 20  # the world's order token
DAY = 86_400


def _contract(w: World, **kw: Any) -> ContractOfSale:
    now = int(w.clock.now.timestamp())
    values: dict[str, Any] = dict(
        buyer=w.buyer.address, seller=w.seller.address,
        institution=w.port.institution_address, token=TOKEN, amount=PRICE,
        goods="LED panel 60x60 cm, 4000 K / LED 面板 60x60 厘米", quantity=24,
        delivery_terms="DAP Hamburg (Incoterms 2020)", delivery_deadline=now + 20 * DAY,
        offer_expires_at=now + DAY, offer_id=b"\x42" * 32)
    values.update(kw)
    return contract_of_sale(**values)


def _sig(w: World, who: str, contract: ContractOfSale, domain: Domain | None = None) -> bytes:
    signed = contract.sign(w.actors[who].key.key, domain or w.domain)
    return signed.signatures[0]


def _open_escrow(w: World, contract: ContractOfSale, order_id: int = 8,
                 **changes: Any) -> int:
    """What the buyer's wallet does: openOrderWithContract(…, contractHash)."""
    digest = "0x" + contract.digest(w.domain).hex()
    info = OrderInfo(order_id=order_id, buyer=contract.buyer, seller=contract.seller,
                     amount=contract.amount, token=contract.token,
                     institution=contract.institution, status="Paid",
                     case_id="0x" + "00" * 32, guarantee=GUARANTEE,
                     delivery_deadline=contract.delivery_deadline,
                     rules_hash="0x" + contract.rules_hash.hex(), contract_hash=digest)
    w.port.add_order(dataclasses.replace(info, **changes))
    return order_id


def _to_impasse(w: World) -> str:
    """Facilitation asked for, a mediator appointed, an impasse declared: the next stage."""
    ok(w.buyer.post(f"/cases/{w.case_id}/steps", json=w.buyer.plain("facilitation.requested")))
    ok(w.admin.post(f"/cases/{w.case_id}/mediator", json=w.admin.appoint("mediator", w.mediator)))
    ok(w.mediator.post(f"/cases/{w.case_id}/impasse", json=w.mediator.plain("impasse.declared")))
    return str(w.admin.case()["stage"])


def _refused(code: str, call: Any, *args: Any) -> CheckoutRefusedError:
    with pytest.raises(CheckoutRefusedError) as caught:
        call(*args)
    assert caught.value.code == code, caught.value
    return caught.value


def test_checkout_signs_binds_and_opens_the_case_with_arbitration_agreed(world: World) -> None:
    w = world
    market = MarketplaceClient(client=w.client)
    assert market.domain() == w.domain
    terms = market.terms()
    clause = next(c for c in terms["disputeClauses"] if c["id"] == "chainarb-arbitration-1")
    assert clause["arbitrationAgreed"] is True and "仲裁" in str(clause["zh"])
    contract = _contract(w)
    key = "0x" + contract.digest(w.domain).hex()

    shown = market.propose(contract, [_sig(w, "buyer", contract)])
    assert (shown["contractHash"], shown["status"]) == (key, "proposed")
    assert shown["signedBy"] == {"buyer": True, "seller": False}
    assert shown["typedData"]["primaryType"] == "ContractOfSale"
    assert shown["typedData"]["message"]["amount"] == str(PRICE)  # a decimal string
    assert shown["cid"] is None
    _refused("contract_one_sided", market.bind, key)

    shown = market.add_signature(key, _sig(w, "seller", contract))
    assert shown["status"] == "signed" and shown["signedBy"] == {"buyer": True, "seller": True}
    # stored in IPFS, encrypted (the bundle's plain words are not in the blocks)
    assert shown["cid"] is not None
    stored = b"".join(cat(shown["cid"], w.blockstore))
    assert b"LED panel" not in stored and len(stored) > 200
    _refused("contract_no_order", market.bind, key)

    order_id = _open_escrow(w, contract)
    bound = market.bind(key)
    assert (bound["status"], bound["orderId"], bound["arbitrationAgreed"]) == (
        "bound", str(order_id), True)
    assert "record" not in bound and "typedData" not in bound  # the goods stay private
    assert market.bind(key) == bound  # idempotent
    assert bound["caseId"] is not None
    case_id = w.case_id = bound["caseId"]
    listed = {o["orderId"]: o for o in ok(w.buyer.get("/orders"))}
    assert listed[str(order_id)]["contractHash"] == key  # the party's order list shows it
    assert listed["7"]["contractHash"] is None  # the world's plain order binds none
    view = w.buyer.case(case_id)
    assert view["arbitrationAgreed"] is True and view["orderId"] == str(order_id)
    # the contract's leaf waits for the next anchoring round, in its case
    with w.app.state.ctx.sessions() as s:
        leaf = s.exec(select(Leaf).where(col(Leaf.kind) == LeafKind.CONTRACT)).one()
    assert leaf.case_id == case_id and leaf.value[1] == key

    # the case starts with the agreement: agreeing again is refused as a duplicate
    payload = {**filing_payload(w), "orderId": str(order_id)}
    ok(w.buyer.post(f"/cases/{case_id}/filing", json=w.buyer.plain("case.filed", payload)))
    r = w.seller.post(f"/cases/{case_id}/steps", json=w.seller.plain("arbitration.agreed"))
    assert r.status_code == 409 and r.json()["code"] == "duplicate_action", r.text
    # and when mediation fails the case goes to arbitration, though the seller never agreed
    assert _to_impasse(w) == "arbitrator_appointment"

    # reading the terms: the parties, not a stranger
    assert ok(w.seller.get(f"/contracts/{key}"))["record"]["message"]["goods"].startswith("LED")
    r = w.stranger.get(f"/contracts/{key}")
    assert r.status_code == 403 and r.json()["code"] == "access_denied"
    r = w.buyer.get("/contracts/0x" + "00" * 32)
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_a_mediation_only_clause_opens_the_case_without_the_agreement(world: World) -> None:
    w = world
    market = MarketplaceClient(client=w.client)
    contract = _contract(w, dispute_clause="chainarb-mediation-only-1",
                         return_policy="return-none-1")
    assert not DISPUTE_CLAUSES[contract.dispute_clause].arbitration_agreed
    market.propose(contract, [_sig(w, "buyer", contract), _sig(w, "seller", contract)])
    order_id = _open_escrow(w, contract)
    # the party opens the case itself: the contract is bound on the way
    case_id = w.open_case("seller", order_id)
    assert w.seller.case(case_id)["arbitrationAgreed"] is False
    payload = {**filing_payload(w), "orderId": str(order_id)}
    ok(w.buyer.post(f"/cases/{case_id}/filing", json=w.buyer.plain("case.filed", payload)))
    assert _to_impasse(w) == "closed_for_litigation"  # no agreement: the courts are open
    shown = ok(w.buyer.get("/contracts/0x" + contract.digest(w.domain).hex()))
    assert (shown["status"], shown["caseId"]) == ("bound", case_id)


def test_opening_the_case_binds_the_arbitration_clause(world: World) -> None:
    w = world
    contract = _contract(w, dispute_clause="chainarb-jury-small-claims-1")
    MarketplaceClient(client=w.client).propose(
        contract, [_sig(w, "seller", contract), _sig(w, "buyer", contract)])
    case_id = w.open_case("buyer", _open_escrow(w, contract))
    assert w.buyer.case(case_id)["arbitrationAgreed"] is True


def test_an_order_whose_price_or_terms_differ_is_not_bound(world: World) -> None:
    w = world
    market = MarketplaceClient(client=w.client)
    cheaper = _contract(w)
    key = market.propose(cheaper, [_sig(w, "buyer", cheaper),
                                   _sig(w, "seller", cheaper)])["contractHash"]
    _open_escrow(w, cheaper, amount=PRICE - 1)
    err = _refused("contract_price_mismatch", market.bind, key)
    assert str(PRICE - 1) in err.detail and str(PRICE) in err.detail and err.status == 409
    # the party may still open the case: a plain order, no agreement to arbitrate
    case_id = w.open_case("buyer", 8)
    assert w.buyer.case(case_id)["arbitrationAgreed"] is False

    later = _contract(w, offer_id=b"\x43" * 32)
    key = market.propose(later, [_sig(w, "buyer", later),
                                 _sig(w, "seller", later)])["contractHash"]
    _open_escrow(w, later, order_id=9, delivery_deadline=later.delivery_deadline + DAY)
    err = _refused("contract_terms_mismatch", market.bind, key)
    assert "delivery deadline" in err.detail

    other_token = _contract(w, offer_id=b"\x44" * 32)
    key = market.propose(other_token, [_sig(w, "buyer", other_token),
                                       _sig(w, "seller", other_token)])["contractHash"]
    _open_escrow(w, other_token, order_id=10, token="0x" + "22" * 20)
    _refused("contract_price_mismatch", market.bind, key)


def test_signature_refusals(world: World) -> None:
    w = world
    market = MarketplaceClient(client=w.client)
    contract = _contract(w)
    key = market.propose(contract)["contractHash"]
    _refused("contract_unsigned", market.bind, key)

    stranger = Account.create()
    forged = contract.sign(stranger.key, w.domain).signatures[0]
    err = _refused("contract_wrong_signer", market.add_signature, key, forged)
    assert stranger.address in err.detail and err.status == 403
    # the mediator is a known person, but not a party to this sale
    _refused("contract_wrong_signer", market.propose, contract, [_sig(w, "mediator", contract)])
    # the buyer's signature over another contract does not sign this one
    other = _contract(w, quantity=25)
    _refused("contract_wrong_signer", market.add_signature, key, _sig(w, "buyer", other))

    wrong_chain = Domain(chain_id=1, verifying_contract=w.domain.verifying_contract)
    err = _refused("contract_wrong_domain", market.propose, contract,
                   [_sig(w, "buyer", contract, wrong_chain)], wrong_chain)
    assert err.status == 422 and "chain 1" in err.detail
    wrong_escrow = Domain(chain_id=w.domain.chain_id, verifying_contract="0x" + "ab" * 20)
    _refused("contract_wrong_domain", market.propose, contract, [], wrong_escrow)

    elsewhere = _contract(w, institution=w.mediator.address)
    _refused("wrong_institution", market.propose, elsewhere)

    w.clock.advance(seconds=DAY)  # the offer expires
    err = _refused("contract_offer_expired", market.add_signature, key,
                   _sig(w, "seller", contract))
    assert err.status == 409
    _refused("contract_offer_expired", market.propose, contract)
    shown = ok(w.buyer.get(f"/contracts/{key}"))
    assert shown["signedBy"] == {"buyer": False, "seller": False}


def test_a_contract_with_a_tampered_clause_is_refused(world: World) -> None:
    w = world
    contract = _contract(w)
    body = SignedRecord(w.domain, contract).to_json_obj()
    body["message"]["clauseHash"] = "0x" + "00" * 32  # another wording than the declared one
    r = w.client.post("/contracts", json={"record": body})
    assert r.status_code == 422 and r.json()["code"] == "invalid_record", r.text
    assert "chainarb-arbitration-1" in r.json()["detail"]
    body["message"]["clauseHash"] = "0x" + contract.clause_hash.hex()
    body["message"]["amount"] = 480.0  # a float price is refused
    r = w.client.post("/contracts", json={"record": body})
    assert r.status_code == 422, r.text
    r = w.client.post("/contracts", json={"record": {"type": "Profile"}})
    assert r.status_code == 422 and r.json()["code"] == "invalid_record", r.text


def test_concurrent_first_proposals_of_one_contract_merge(world: World) -> None:
    """The buyer's and the seller's signed copies arrive at once: one row, both signatures
    (on PostgreSQL the second insert loses the unique race and merges)."""
    from concurrent.futures import ThreadPoolExecutor

    from backend.services.checkout import Checkout

    w = world
    contract = _contract(w)
    checkout = Checkout(w.app.state.ctx.service)
    bodies = [SignedRecord(w.domain, contract).with_signature(_sig(w, who, contract))
              .to_json_obj() for who in ("buyer", "seller")]
    for _ in range(3):
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(checkout.propose, bodies))
    shown = checkout.read("0x" + contract.digest(w.domain).hex())
    assert shown["status"] == "signed", shown["signedBy"]
    assert shown["signedBy"] == {"buyer": True, "seller": True}
    assert len(shown["record"]["signatures"]) == 2


def test_malformed_hashes_and_signatures_are_refused_not_crashed(world: World) -> None:
    w = world
    contract = _contract(w)
    key = MarketplaceClient(client=w.client).propose(contract)["contractHash"]
    for bad in ("0x1234", "zz" * 65, "0x" + "00" * 65, "0x" + "ff" * 65):
        r = w.client.post(f"/contracts/{key}/signatures", json={"signature": bad})
        assert 400 <= r.status_code < 500, (bad, r.text)
        assert r.json()["code"] in ("invalid_signature", "malleable_signature"), r.text
    for path in ("abc", "0x" + "g" * 64, "0x" + "00" * 31):
        r = w.client.post(f"/contracts/{path}/order")
        assert r.status_code == 404 and r.json()["code"] == "not_found", r.text
    r = w.client.post("/contracts", json={"record": []})
    assert r.status_code == 422, r.text
    r = w.client.post("/contracts", json={})
    assert r.status_code == 422, r.text
