"""The contract of sale a package carries (`records/contract-of-sale.jsonl`), checked.

Rules (docs/judicial-package.md §2, check `roles`):

* At most one record, a `ContractOfSale` signed under the package's domain by exactly the
  escrow order's buyer and seller (the order as the verifier read it from its opening
  transaction), for the order's price (token and amount), institution and rules hash.
* The escrow bound it: the order's opening transaction holds `ContractOfSaleBound(orderId,
  contractHash)` with the contract's EIP-712 digest. A contract the escrow did not bind is
  a contract of some other sale.
* Its log entry (kind `contract`, under the order's case) is judged by the `log_*` checks
  like any record's: the package must carry every logged record of the case, the
  contract included.

Pure: records and the order in, problems and detail lines out.
"""

from __future__ import annotations

from collections.abc import Sequence

from evidence.orders import OrderTerms
from evidence.records import ContractOfSale, Domain, SignedRecord

__all__ = ["check_contract"]


def check_contract(records: Sequence[SignedRecord], order: OrderTerms, domain: Domain,
                   bound: Sequence[bytes]) -> tuple[list[str], list[str]]:
    """Problems and details of the package's contract of sale; `bound` holds the
    contract hashes of the ``ContractOfSaleBound`` events of the order's opening."""
    problems: list[str] = []
    details: list[str] = []
    if len(records) > 1:
        problems.append(f"{len(records)} contracts of sale; an order binds one")
    for signed in records:
        rec = signed.record
        name = f"contract of sale 0x{signed.record_hash.hex()[:16]}…"
        if not isinstance(rec, ContractOfSale):
            problems.append(f"{name}: a {rec.TYPE_NAME}, not a ContractOfSale")
            continue
        if signed.domain != domain:
            problems.append(f"{name}: signed under another domain (chain or escrow)")
        signers = set(signed.signers())
        if signers != {order.buyer, order.seller} or len(signed.signatures) != 2:
            problems.append(f"{name}: signed by {sorted(signers)}, expected exactly the order's "
                            f"buyer {order.buyer} and seller {order.seller}")
        terms = {"buyer": (rec.buyer, order.buyer), "seller": (rec.seller, order.seller),
                 "token": (rec.token, order.token), "amount": (rec.amount, order.amount),
                 "institution": (rec.institution, order.institution),
                 "rulesHash": (rec.rules_hash, order.rules_hash)}
        for field, (ours, theirs) in terms.items():
            if ours != theirs:
                problems.append(f"{name}: its {field} differs from the escrow order's")
        if signed.record_hash not in bound:
            problems.append(f"{name}: the escrow order {order.order_id} does not bind it (no "
                            "ContractOfSaleBound with its hash in the order's opening)")
            continue
        details.append(f"{name}: signed by buyer and seller, bound by order {order.order_id}")
    return problems, details
