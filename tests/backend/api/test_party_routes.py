"""A party's own reads: ``GET /orders`` (from the escrow), ``GET /cases/{id}/wallet-
transactions`` (what their wallet must send) and ``GET /notices``."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from backend.chain.artifacts import load_artifact
from backend.services.cases import case_id_for_order
from backend.services.escrow import TokenMeta
from backend.services.party import calldata
from tests.support.world import (
    AMOUNT,
    GUARANTEE,
    ORDER_ID,
    World,
    award_record_hash,
    file_claim,
    ok,
    to_awarded,
)


def _orders(world: World, who: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = ok(world.actors[who].get("/orders"))
    return out


def test_orders_lists_the_order_to_both_parties_and_nobody_else(sqlite_world: World) -> None:
    w = sqlite_world
    w.port.tokens["0x" + "11" * 20] = TokenMeta("tUSD", 6)
    case_id = case_id_for_order(w.domain, ORDER_ID)
    buyer = _orders(w, "buyer")
    assert [(o["orderId"], o["side"], o["status"], o["amount"], o["currency"], o["decimals"],
             o["guarantee"], o["caseId"], o["case"], o["ours"]) for o in buyer] == [
        (str(ORDER_ID), "buyer", "Paid", str(AMOUNT), "tUSD", 6, str(GUARANTEE), case_id,
         None, True)]
    assert buyer[0]["counterparty"] == w.seller.address
    seller = _orders(w, "seller")
    assert [(o["side"], o["counterparty"]) for o in seller] == [("seller", w.buyer.address)]
    assert _orders(w, "stranger") == []


def test_an_opened_case_shows_on_its_order_with_stage(sqlite_world: World) -> None:
    w = sqlite_world
    w.open_case("buyer")
    file_claim(w)
    (order,) = _orders(w, "seller")
    assert order["caseId"] == w.case_id
    assert order["case"]["stage"] == "filed" and order["case"]["nextDeadline"]
    assert order["currency"] == "0x" + "11" * 20  # a token the escrow cannot name: its address


def test_orders_when_the_chain_does_not_answer_is_503(sqlite_world: World) -> None:
    w = sqlite_world
    w.port.fail_next.append("orders_of")
    r = w.buyer.get("/orders")
    assert r.status_code == 503 and r.json()["code"] == "chain_unavailable", r.text
    assert _orders(w, "buyer")  # the next read answers


def test_orders_needs_a_session(sqlite_world: World) -> None:
    r = sqlite_world.client.get("/orders")
    assert r.status_code == 401 and r.json()["code"] == "auth_required"


def test_after_filing_the_claimants_wallet_is_asked_to_freeze_the_escrow(
        sqlite_world: World) -> None:
    w = sqlite_world
    w.open_case("buyer")
    file_claim(w)
    path = f"/cases/{w.case_id}/wallet-transactions"
    (tx,) = ok(w.buyer.get(path))
    escrow = w3_escrow(w.domain.verifying_contract)
    expected = escrow.encode_abi("raiseDispute", args=[ORDER_ID, bytes.fromhex(w.case_id[2:])])
    assert (tx["kind"], tx["function"], tx["to"], tx["value"], tx["data"], tx["orderId"],
            tx["chainId"]) == ("freeze", "raiseDispute", w.domain.verifying_contract, "0",
                               expected, str(ORDER_ID), w.domain.chain_id)
    assert ok(w.seller.get(path)) == []  # the respondent has nothing to send
    r = w.stranger.get(path)
    assert r.status_code == 403 and r.json()["code"] == "access_denied"
    # Once the chain shows the freeze, the executor marks it done: nothing left to send.
    w.port.party_raises_dispute(ORDER_ID, w.case_id)
    w.tick()
    assert ok(w.buyer.get(path)) == []


def test_an_objection_asks_the_objecting_partys_wallet_for_object_to_award(
        sqlite_world: World) -> None:
    w = sqlite_world
    to_awarded(w)
    ok(w.seller.post(f"/cases/{w.case_id}/objection",
                     json=w.seller.objection(award_record_hash(w), b"The award ignores the "
                                                                      b"invoice.")))
    path = f"/cases/{w.case_id}/wallet-transactions"
    (tx,) = ok(w.seller.get(path))
    expected = w3_escrow(w.domain.verifying_contract).encode_abi("objectToAward",
                                                                 args=[ORDER_ID])
    assert (tx["kind"], tx["function"], tx["data"]) == ("object", "objectToAward", expected)
    assert ok(w.buyer.get(path)) == []


def test_wallet_transactions_of_an_unknown_case_is_404(sqlite_world: World) -> None:
    r = sqlite_world.buyer.get("/cases/0x" + "ab" * 32 + "/wallet-transactions")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_notices_lists_what_each_party_received_newest_first(sqlite_world: World) -> None:
    w = sqlite_world
    assert ok(w.seller.get("/notices")) == []
    w.open_case("buyer")
    file_claim(w)
    notices = ok(w.seller.get("/notices"))
    assert notices and all(n["caseId"] == w.case_id for n in notices)
    assert [n["id"] for n in notices] == sorted((n["id"] for n in notices), reverse=True)
    per_case = ok(w.seller.get(f"/cases/{w.case_id}/notices"))
    assert {n["id"] for n in per_case} == {n["id"] for n in notices}
    assert ok(w.stranger.get("/notices")) == []


def test_calldata_matches_the_contract_abi() -> None:
    escrow = w3_escrow("0x5FbDB2315678afecb367f032d93F642f64180aa3")
    case = "0x" + "c4" * 32
    assert calldata("freeze", {"orderId": "12", "caseId": case}) == escrow.encode_abi(
        "raiseDispute", args=[12, bytes.fromhex(case[2:])])
    assert calldata("object", {"orderId": "2", "caseId": case}) == escrow.encode_abi(
        "objectToAward", args=[2])


def w3_escrow(address: str) -> Any:
    """The compiled escrow's ABI, to encode calls independently of ``calldata``."""
    return Web3().eth.contract(address=Web3.to_checksum_address(address),
                               abi=list(load_artifact("ArbitrationEscrow").abi))


def test_the_reasoned_award_is_read_by_whoever_may_read_its_step(sqlite_world: World) -> None:
    from tests.support.world import AWARD_DOC

    w = sqlite_world
    to_awarded(w)
    docs = ok(w.buyer.get(f"/cases/{w.case_id}/documents"))
    (award,) = [d for d in docs if d["action"] == "award.issued"]
    assert award["signer"] == w.arbitrator.address and award["sha256"].startswith("0x")
    path = f"/cases/{w.case_id}/steps/{award['sequence']}/document"
    for who in ("buyer", "seller", "arbitrator"):
        r = w.actors[who].get(path)
        assert r.status_code == 200 and r.content == AWARD_DOC, (who, r.text)
        assert r.headers["x-document-sha256"] == award["sha256"]
        assert r.headers["content-disposition"].startswith("attachment")
    for who, status, code in (("stranger", 403, "access_denied"),):
        r = w.actors[who].get(path)
        assert (r.status_code, r.json()["code"]) == (status, code)
        r = w.actors[who].get(f"/cases/{w.case_id}/documents")
        assert (r.status_code, r.json()["code"]) == (status, code)
    r = w.buyer.get(f"/cases/{w.case_id}/steps/0/document")  # the filing carried none here
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = w.buyer.get(f"/cases/{w.case_id}/steps/999/document")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
