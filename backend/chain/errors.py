"""Errors of the chain gateway: one abstract base, specific subclasses.

Reverts are decoded once, here at the edge: the revert data's 4-byte selector is looked up
in every committed ABI and raised as the Python class of the same name as the Solidity
custom error (`ArbitrationEscrowInvalidStatus` ...), with the error's arguments by name in
`.values`. Callers catch the precise class or `RevertError` for any revert.
"""

# The Solidity-named classes keep the Solidity names exactly (no "Error" suffix), so one
# grep finds an error in the contract, its docs and the Python that handles it.
# ruff: noqa: N818

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

__all__ = [
    "AccessControlBadConfirmation",
    "AccessControlUnauthorizedAccount",
    "ArbitrationEscrowAdvanceAboveCap",
    "ArbitrationEscrowAllocationMismatch",
    "ArbitrationEscrowCompensationAboveCap",
    "ArbitrationEscrowContractAlreadyBound",
    "ArbitrationEscrowGuaranteeLocked",
    "ArbitrationEscrowInsufficientGuarantee",
    "ArbitrationEscrowInvalidCaseId",
    "ArbitrationEscrowInvalidContractHash",
    "ArbitrationEscrowInvalidDeliveryDeadline",
    "ArbitrationEscrowInvalidJury",
    "ArbitrationEscrowInvalidNeutral",
    "ArbitrationEscrowInvalidReturn",
    "ArbitrationEscrowInvalidSeller",
    "ArbitrationEscrowInvalidSignature",
    "ArbitrationEscrowInvalidStatus",
    "ArbitrationEscrowInvalidSuccessor",
    "ArbitrationEscrowInvalidTimeouts",
    "ArbitrationEscrowInvalidToken",
    "ArbitrationEscrowJuryMismatch",
    "ArbitrationEscrowNoJuryMajority",
    "ArbitrationEscrowNothingToWithdraw",
    "ArbitrationEscrowPanelQuorumNotReached",
    "ArbitrationEscrowReturnSettlementUsed",
    "ArbitrationEscrowTooEarly",
    "ArbitrationEscrowTooLate",
    "ArbitrationEscrowTransferAmountMismatch",
    "ArbitrationEscrowTransferFailed",
    "ArbitrationEscrowUnauthorizedCaller",
    "ArbitrationEscrowUnknownInstitution",
    "ArbitrationEscrowWrongValue",
    "ArbitrationEscrowZeroAmount",
    "ArtifactMissingError",
    "ChainError",
    "EvidenceAnchorZeroRoot",
    "PanicError",
    "ReasonRevertError",
    "ReentrancyGuardReentrantCall",
    "RevertError",
    "SafeERC20FailedOperation",
    "TransactionError",
    "UnknownRevertError",
    "revert_class",
]


class ChainError(Exception):
    """Base of every error raised by `backend.chain`. Abstract: raise a subclass."""

    def __new__(cls, *args: object, **kwargs: object) -> ChainError:
        if cls in (ChainError, RevertError):
            raise TypeError(f"{cls.__name__} is abstract; raise one of its subclasses")
        return super().__new__(cls, *args, **kwargs)


class ArtifactMissingError(ChainError, FileNotFoundError):
    """A compiled artifact is not in backend/chain/compiled/."""


class TransactionError(ChainError):
    """A transaction was rejected by the node or mined with status 0 and no revert data."""


class RevertError(ChainError):
    """A call or transaction reverted with data that names an error.

    Attributes:
        error_name: the Solidity error's name (class name for known errors).
        values: the error's arguments by their Solidity names, decoded.
        data: the raw revert data (selector + ABI-encoded arguments).
    """

    hint: ClassVar[str] = ""

    def __init__(self, error_name: str, values: Mapping[str, object], data: bytes) -> None:
        self.error_name = error_name
        self.values = values
        self.data = data
        shown = ", ".join(f"{k}={_show(v)}" for k, v in values.items())
        message = f"contract reverted with {error_name}({shown})"
        if self.hint:
            message += f": {self.hint}"
        super().__init__(message)


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


class UnknownRevertError(RevertError):
    """Revert data whose selector is in none of the committed ABIs (or no data at all)."""


class ReasonRevertError(RevertError):
    """`revert("...")` / `require(cond, "...")`: Error(string)."""


class PanicError(RevertError):
    """A Solidity panic: Panic(uint256) (overflow = 0x11, division by zero = 0x12, ...)."""


# --- EvidenceAnchor ---------------------------------------------------------------------


class EvidenceAnchorZeroRoot(RevertError):
    hint = "the zero root means 'no record' and cannot be anchored; anchor the batch's real root"


# --- ArbitrationEscrow ------------------------------------------------------------------


class ArbitrationEscrowInvalidTimeouts(RevertError):
    hint = "every timeout must be a positive number of seconds"


class ArbitrationEscrowInvalidStatus(RevertError):
    hint = "the order's status does not allow this call; read getOrder(orderId).status"


class ArbitrationEscrowUnauthorizedCaller(RevertError):
    hint = "only the party, institution or neutral named on the order may make this call"


class ArbitrationEscrowTooEarly(RevertError):
    hint = "a window is still open; retry at or after notBefore (unix time)"


class ArbitrationEscrowTooLate(RevertError):
    hint = "the window closed at deadline (unix time); take the timeout path instead"


class ArbitrationEscrowInvalidSeller(RevertError):
    hint = "the seller must be a non-zero address other than the buyer"


class ArbitrationEscrowInvalidToken(RevertError):
    hint = "use address(0) for ETH or the address of an ERC-20 contract"


class ArbitrationEscrowZeroAmount(RevertError):
    hint = "the amount must be positive"


class ArbitrationEscrowInvalidDeliveryDeadline(RevertError):
    hint = "the delivery deadline must be in the future and not after latest"


class ArbitrationEscrowUnknownInstitution(RevertError):
    hint = "name an institution that holds INSTITUTION_ROLE on this escrow"


class ArbitrationEscrowWrongValue(RevertError):
    hint = "send exactly the amount as value for ETH, and no value for a token"


class ArbitrationEscrowTransferAmountMismatch(RevertError):
    hint = "the token delivered less than transferred (fee on transfer); such tokens are refused"


class ArbitrationEscrowInvalidCaseId(RevertError):
    hint = "the case id must be non-zero"


class ArbitrationEscrowInvalidNeutral(RevertError):
    hint = "neutrals must be non-zero, not a party, distinct, and not the sole arbitrator"


class ArbitrationEscrowInvalidSignature(RevertError):
    hint = "the signature is not signer's over this order, case, allocation and round"


class ArbitrationEscrowPanelQuorumNotReached(RevertError):
    hint = "a panel award needs valid signatures from at least two of the three panelists"


class ArbitrationEscrowAllocationMismatch(RevertError):
    hint = "toBuyer + toSeller must equal the escrowed amount exactly"


class ArbitrationEscrowCompensationAboveCap(RevertError):
    hint = "an award's compensation may not exceed the order's amount"


class ArbitrationEscrowInsufficientGuarantee(RevertError):
    hint = "a settlement's compensation must be covered by the seller's guarantee balance"


class ArbitrationEscrowGuaranteeLocked(RevertError):
    hint = "open disputes lock this guarantee; withdraw at most withdrawable"


class ArbitrationEscrowNothingToWithdraw(RevertError):
    hint = "no deferred payout is credited to this account in this token"


class ArbitrationEscrowTransferFailed(RevertError):
    hint = "the receiver or token refused the transfer; fix the receiver and retry"


class ArbitrationEscrowInvalidReturn(RevertError):
    hint = "the return shipment's tracking commitment must not be zero"


class ArbitrationEscrowInvalidSuccessor(RevertError):
    hint = "rotate to a fresh key: not zero, not an institution, never rotated away from"


class ArbitrationEscrowInvalidContractHash(RevertError):
    hint = "give the signed contract of sale's EIP-712 digest (docs/contract-of-sale.md), not zero"


class ArbitrationEscrowContractAlreadyBound(RevertError):
    hint = "this contract of sale already escrows an order (orderOfContract); sign a new one"


class ArbitrationEscrowInvalidJury(RevertError):
    hint = "a jury hash must be non-zero, and an order has one jury"


class ArbitrationEscrowJuryMismatch(RevertError):
    hint = ("give the appointed jury's jurors (ascending) and options, four vote words per "
            "juror, each revealed choice one of the options")


class ArbitrationEscrowNoJuryMajority(RevertError):
    hint = ("a verdict needs more than half the jury revealed and more than half of the "
            "revealed votes for the winning option")

class ArbitrationEscrowReturnSettlementUsed(RevertError):
    hint = ("this return settlement already started the order's return stage once; sign "
            "another one, or settle")


class ArbitrationEscrowAdvanceAboveCap(RevertError):
    hint = ("an order's advance refunds total at most its amount, each at most the seller's "
            "guarantee balance; advance at most cap")


# --- OpenZeppelin errors the escrow can raise -------------------------------------------


class ReentrancyGuardReentrantCall(RevertError):
    hint = "the escrow was re-entered during a call; re-entry is refused"


class SafeERC20FailedOperation(RevertError):
    hint = "the token's transfer failed or returned false"


class AccessControlUnauthorizedAccount(RevertError):
    hint = "the account lacks the role needed for this call"


class AccessControlBadConfirmation(RevertError):
    hint = "renounceRole must be called by the account itself"


_KNOWN: dict[str, type[RevertError]] = {
    cls.__name__: cls
    for cls in list(globals().values())
    if isinstance(cls, type)
    and issubclass(cls, RevertError)
    and cls not in (RevertError, UnknownRevertError)
}
_KNOWN["Error"] = ReasonRevertError
_KNOWN["Panic"] = PanicError


def revert_class(error_name: str) -> type[RevertError]:
    """The Python class for a Solidity error name (UnknownRevertError when none is declared)."""
    return _KNOWN.get(error_name, UnknownRevertError)
