"""What a party reads that is not one case's record: their escrowed orders (from the chain),
the transactions their own wallet must send, and the notices they received.

Why here and not in views.py: these reads join the chain (the escrow port) with the
service's tables, and only parties use them. The server never signs for a party: for the
acts the escrow takes only from a party's wallet (``raiseDispute``, ``objectToAward``) it
answers the transaction to send (``to``, ``data``) and the party's wallet signs and sends it;
the executor then observes it on-chain (``ChainAction`` rows ``awaiting_party``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector
from sqlmodel import Session, col, select
from typing_extensions import TypedDict

from backend import procedure as p
from backend.db import Notice
from backend.db.models import Case
from backend.db.service_models import ChainAction, ChainActionStatus

from .cases import CaseService, case_id_for_order
from .views import check_reader

__all__ = [
    "WALLET_ACTS",
    "MyNoticeJson",
    "OrderJson",
    "WalletTxJson",
    "calldata",
    "my_notices",
    "my_orders",
    "wallet_transactions",
]


class OrderCaseJson(TypedDict):
    """The case the service holds for an order: its stage and next deadline."""

    stage: str
    nextDeadline: str | None


class OrderJson(TypedDict):
    """An escrowed order of the signed-in address, read from the chain."""

    orderId: str
    side: str  # buyer | seller: the signed-in address's side
    buyer: str
    seller: str
    counterparty: str
    amount: str  # base units, decimal string
    token: str
    currency: str
    decimals: int
    guarantee: str
    status: str  # the escrow's Status name
    institution: str
    ours: bool  # the order names this service's institution (its case can be opened here)
    caseId: str
    case: OrderCaseJson | None
    # the signed contract of sale the order binds (openOrderWithContract), None without one
    contractHash: str | None


class WalletTxJson(TypedDict):
    """An escrow transaction the case waits for from the party's own wallet."""

    id: int | None
    kind: str
    function: str
    orderId: str
    to: str
    value: str
    data: str
    chainId: int
    since: str | None


class MyNoticeJson(TypedDict):
    """A notice sent to the signed-in address."""

    id: int | None
    caseId: str | None
    kind: str
    language: str
    subject: str
    body: str
    status: str
    createdAt: str | None

# The escrow's functions only a party's wallet may call, by the ChainAction kind that waits
# for them: (Solidity signature, the argument names in order).
WALLET_ACTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "freeze": ("raiseDispute(uint256,bytes32)", ("orderId", "caseId")),
    "object": ("objectToAward(uint256)", ("orderId",)),
    # the return stage: the buyer's shipment record, the seller's dispute of the receipt
    "return_shipped": ("recordReturnShipment(uint256,bytes32)", ("orderId", "tracking")),
    "return_disputed": ("disputeReturnReceipt(uint256)", ("orderId",)),
}
NOTICE_LIMIT = 200


def calldata(kind: str, payload: Mapping[str, object]) -> str:
    """The ABI call data of the party act ``kind`` for a ChainAction ``payload``."""
    signature, names = WALLET_ACTS[kind]
    types = signature[signature.index("(") + 1:-1].split(",")
    values: list[Any] = []
    for name, kind_ in zip(names, types, strict=True):
        raw = payload[name]
        if kind_ == "uint256" and isinstance(raw, int | str):
            values.append(int(raw))
        elif isinstance(raw, str):
            values.append(bytes.fromhex(raw.removeprefix("0x")))
        else:
            raise TypeError(f"{kind} payload {name}: expected a string, found {raw!r}")
    return "0x" + (function_signature_to_4byte_selector(signature)
                   + abi_encode(types, values)).hex()


def my_orders(service: CaseService, viewer: str) -> list[OrderJson]:
    """The escrow's orders of ``viewer`` (buyer or seller), newest first, each with its
    token's symbol and decimals and the case the service holds for it, if any."""
    orders = service.port.orders_of(viewer)
    ids = {o.order_id: case_id_for_order(service.domain, o.order_id) for o in orders}
    with service.sessions() as session:
        cases = {c.id: c for c in session.exec(select(Case).where(
            col(Case.id).in_(set(ids.values())))).all()} if ids else {}
    out: list[OrderJson] = []
    for o in orders:
        meta = service.port.token_meta(o.token)
        row = cases.get(ids[o.order_id])
        mine = "buyer" if o.buyer.lower() == viewer.lower() else "seller"
        out.append({
            "orderId": str(o.order_id), "side": mine, "buyer": o.buyer, "seller": o.seller,
            "counterparty": o.seller if mine == "buyer" else o.buyer,
            "amount": str(o.amount), "token": o.token, "currency": meta.symbol,
            "decimals": meta.decimals, "guarantee": str(o.guarantee), "status": o.status,
            "institution": o.institution,
            "ours": o.institution.lower() == service.institution_address.lower(),
            "caseId": ids[o.order_id],
            "case": None if row is None else {
                "stage": row.stage, "nextDeadline": p.to_jsonable(row.next_deadline)},
            "contractHash": o.contract_hash.lower() if int(o.contract_hash, 16) else None,
        })
    return out


def wallet_transactions(service: CaseService, case_id: str, viewer: str
                        ) -> list[WalletTxJson]:
    """The escrow transactions this case waits for from ``viewer``'s own wallet."""
    case_id = case_id.lower()
    escrow = service.domain.verifying_contract
    with service.sessions() as session:
        _row, case = service.load_in(session, case_id)
        check_reader(service, session, case, viewer)
        rows = session.exec(select(ChainAction).where(
            col(ChainAction.case_id) == case_id,
            col(ChainAction.status) == ChainActionStatus.AWAITING_PARTY,
            col(ChainAction.kind).in_(list(WALLET_ACTS))).order_by(col(ChainAction.id))).all()
    out: list[WalletTxJson] = []
    for row in rows:
        sender = _sender(case, row)
        if sender is None or sender.lower() != viewer.lower():
            continue
        out.append({"id": row.id, "kind": row.kind,
                    "function": WALLET_ACTS[row.kind][0].split("(")[0],
                    "orderId": str(row.payload["orderId"]), "to": escrow, "value": "0",
                    "data": calldata(row.kind, row.payload), "chainId": service.domain.chain_id,
                    "since": p.to_jsonable(row.created_at)})
    return out


def _sender(case: p.CaseState, row: ChainAction) -> str | None:
    """Whose wallet the row waits for: the claimant's freeze, the objecting party's
    objection (an older row without the party: either party), the buyer's return shipment,
    the seller's dispute of the return's receipt."""
    if row.kind == "freeze":
        return case.claimant
    if row.kind in ("return_shipped", "return_disputed"):  # the escrow's own rule
        return case.order.buyer if row.kind == "return_shipped" else case.order.seller
    party = row.payload.get("party")
    return str(party) if party else None


def my_notices(session: Session, viewer: str) -> list[MyNoticeJson]:
    """The notices sent to ``viewer`` in every case, newest first (at most NOTICE_LIMIT)."""
    rows = session.exec(select(Notice).where(col(Notice.recipient) == viewer)
                        .order_by(col(Notice.id).desc()).limit(NOTICE_LIMIT)).all()
    return [{"id": n.id, "caseId": n.case_id, "kind": n.kind, "language": n.language,
             "subject": n.subject, "body": n.body, "status": n.status,
             "createdAt": p.to_jsonable(n.created_at)} for n in rows]
