"""EIP-712 payloads of the escrow's Settlement and Award, for wallets (docs/eip712.md).

The types and the domain are declared once, in `evidence.records`, the allocation in
`evidence.orders` (a court's verifier reads the same declarations); this module only
builds the JSON a wallet signs with `eth_signTypedData_v4` from them, so eth-account and MetaMask's
`@metamask/eth-sig-util` sign the same bytes. The domain is read from the escrow
(`eip712Domain()`, ERC-5267) by `EscrowContract.domain()`, never hard-coded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from evidence.jury import DECISION_TYPE, JURY_VOTE_TYPE
from evidence.orders import Allocation
from evidence.records import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    ONCHAIN_TYPE_STRINGS,
    Award,
    Domain,
    Eip712Field,
    Eip712Value,
    ReturnAward,
    ReturnSettlement,
    Settlement,
    TypedData,
)

__all__ = [
    "AWARD_TYPE",
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "RETURN_AWARD_TYPE",
    "RETURN_SETTLEMENT_TYPE",
    "SETTLEMENT_TYPE",
    "Allocation",
    "Domain",
    "award_typed_data",
    "decision_typed_data",
    "jury_vote_typed_data",
    "return_award_typed_data",
    "return_settlement_typed_data",
    "settlement_typed_data",
    "sign_typed_data",
    "typed_data_digest",
    "typed_data_json",
]

SETTLEMENT_TYPE = ONCHAIN_TYPE_STRINGS["Settlement"]
AWARD_TYPE = ONCHAIN_TYPE_STRINGS["Award"]
RETURN_AWARD_TYPE = ONCHAIN_TYPE_STRINGS["ReturnAward"]
RETURN_SETTLEMENT_TYPE = ONCHAIN_TYPE_STRINGS["ReturnSettlement"]


def settlement_typed_data(
    domain: Domain, order_id: int, case_id: bytes, allocation: Allocation
) -> TypedData:
    """`eth_signTypedData_v4` payload of a Settlement (signed by buyer and seller)."""
    record = Settlement(order_id=order_id, case_id=case_id, **allocation.fields())
    return record.typed_data(domain)


def award_typed_data(
    domain: Domain,
    order_id: int,
    case_id: bytes,
    allocation: Allocation,
    award_hash: bytes,
    round_: int,
) -> TypedData:
    """`eth_signTypedData_v4` payload of an Award (round 0: sole arbitrator; 1: panel)."""
    record = Award(order_id=order_id, case_id=case_id, award_hash=award_hash, round=round_,
                   **allocation.fields())
    return record.typed_data(domain)


def _typed(domain: Domain, primary: str, type_string: str,
           message: dict[str, Eip712Value]) -> TypedData:
    """A payload from a type string `Name(type name,...)` (one struct, no nested types)."""
    inner = type_string[type_string.index("(") + 1:-1]
    fields: list[Eip712Field] = [{"name": f.split(" ")[1], "type": f.split(" ")[0]}
                                 for f in inner.split(",")]
    return {"types": {"EIP712Domain": list(Domain.TYPE), primary: fields},
            "primaryType": primary, "domain": domain.as_dict(), "message": message}


def decision_typed_data(domain: Domain, order_id: int, case_id: bytes, kind: int,
                        allocation: Allocation, decision_hash: bytes) -> TypedData:
    """`eth_signTypedData_v4` payload of a Decision (signed by the order's institution):
    a jury's verdict (kind 0) or a fast-track proposal (kind 1)."""
    return _typed(domain, "Decision", DECISION_TYPE, {
        "orderId": order_id, "caseId": bytes(case_id), "kind": kind,
        "toBuyer": allocation.to_buyer, "toSeller": allocation.to_seller,
        "compensation": allocation.compensation, "decisionHash": bytes(decision_hash)})


def jury_vote_typed_data(domain: Domain, case_id: bytes, juror: str, choice: int,
                         reason_code: int, salt: bytes) -> TypedData:
    """`eth_signTypedData_v4` payload of a juror's JuryVote: its struct hash is the vote's
    commitment (evidence.jury.vote_commitment), its signature what the escrow counts."""
    return _typed(domain, "JuryVote", JURY_VOTE_TYPE, {
        "caseId": bytes(case_id), "juror": juror, "choice": choice,
        "reasonCode": reason_code, "salt": bytes(salt)})


def return_award_typed_data(
    domain: Domain,
    order_id: int,
    case_id: bytes,
    refund: Allocation,
    no_return: Allocation,
    award_hash: bytes,
) -> TypedData:
    """`eth_signTypedData_v4` payload of a ReturnAward (round 0, the sole arbitrator): `refund`
    once the goods are back, `no_return` (the award's fallback) if the buyer misses the window."""
    record = ReturnAward(order_id=order_id, case_id=case_id, award_hash=award_hash, round=0,
                         no_return_to_buyer=no_return.to_buyer,
                         no_return_to_seller=no_return.to_seller,
                         no_return_compensation=no_return.compensation,
                         **refund.fields())
    return record.typed_data(domain)


def return_settlement_typed_data(
    domain: Domain, order_id: int, case_id: bytes, refund: Allocation, no_return: Allocation
) -> TypedData:
    """`eth_signTypedData_v4` payload of a ReturnSettlement (signed by buyer and seller):
    `refund` once the goods are back, `no_return` if the buyer does not ship them back."""
    record = ReturnSettlement(order_id=order_id, case_id=case_id,
                              no_return_to_buyer=no_return.to_buyer,
                              no_return_to_seller=no_return.to_seller,
                              no_return_compensation=no_return.compensation,
                              **refund.fields())
    return record.typed_data(domain)


def typed_data_json(typed: TypedData) -> str:
    """JSON text of a payload for a wallet or a JS library (`eth_signTypedData_v4`).

    Integers become decimal strings: JavaScript numbers lose precision above 2**53 (one ETH is
    10**18 wei), and wallets and `@metamask/eth-sig-util` accept decimal strings for uints.
    """

    def strings(section: Mapping[str, object]) -> dict[str, object]:
        return {
            k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in section.items()
        }

    wallet = {**typed, "domain": strings(typed["domain"]), "message": strings(typed["message"])}
    return json.dumps(wallet, separators=(",", ":"), sort_keys=True)


def typed_data_digest(typed: TypedData) -> bytes:
    """The 32-byte digest a wallet signs: keccak256(0x1901 || domainSeparator || structHash)."""
    signable = encode_typed_data(full_message=dict(typed))
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_typed_data(account: LocalAccount, typed: TypedData) -> bytes:
    """65-byte r||s||v signature, as `eth_signTypedData_v4` returns it."""
    return bytes(account.sign_typed_data(full_message=dict(typed)).signature)
