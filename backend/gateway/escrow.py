"""The escrow port over web3: the deployed ArbitrationEscrow, signing as the institution.

One class for every EVM backend: the in-process EVM (eth-tester/py-evm), anvil, or any
JSON-RPC node; what differs is the ``Transactor``'s web3 under the ``EscrowContract``.
Reverts arrive decoded by ``backend.chain`` as the Solidity-named errors; ``_refusal`` maps
each rule's error to the port's ``EscrowRefusal`` type once, here, and each method returns
the escrow event read back from the receipt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from backend.chain import DecisionKind, EscrowContract, Event, JurorBallot, Status, TxResult
from backend.chain import errors as chain_errors
from backend.services.escrow import (
    DISPUTED_OR_LATER,
    ETH_META,
    OBJECTED_OR_LATER,
    STATUSES,
    AdvanceAboveCap,
    AdvanceRefund,
    AdvanceRefunded,
    AllocationMismatch,
    AppointArbitrator,
    AppointJury,
    AppointPanel,
    ArbitratorAppointed,
    AwaitingParty,
    AwardSubmitted,
    Ballot,
    CompensationAboveCap,
    ConfirmDispute,
    ConfirmObjection,
    ConfirmReturnDispute,
    ConfirmReturnReceived,
    ConfirmReturnShipment,
    DecisionSubmitted,
    EscrowRefusal,
    ExecuteAward,
    ExecuteSettlement,
    InsufficientGuarantee,
    InvalidJury,
    InvalidNeutral,
    InvalidTimeouts,
    JuryAppointed,
    JuryMismatch,
    NoJuryMajority,
    NotAuthorized,
    NotYet,
    Observed,
    OrderInfo,
    OrderResolved,
    PanelAppointed,
    QuorumNotReached,
    RefundOnTimeout,
    ReturnRequested,
    Sent,
    SettlementUsed,
    SubmitAward,
    SubmitFastTrack,
    SubmitJuryVerdict,
    SubmitPanelAward,
    SubmitReturnAward,
    SubmitReturnSettlement,
    TokenMeta,
    TooLate,
    UnknownOrder,
    WrongSigner,
    WrongStatus,
    WrongToken,
    ZeroAmount,
)
from evidence.events import ORDER_OPENED, bytes_of, find_events, tuple_of, uint_of
from evidence.jury import jury_order, vote_commitment, votes_hash
from evidence.records import Domain

__all__ = ["Web3EscrowPort"]

_RESOLUTIONS = ("None", "DeliveryConfirmed", "ReleasedAfterDeadline", "RefundedBySeller",
                "Settled", "AwardExecuted", "PanelAwardExecuted", "TimeoutNoArbitrator",
                "TimeoutNoAward", "TimeoutNoPanel", "TimeoutNoPanelAward",
                "JuryVerdictExecuted", "FastTrackExecuted", "TimeoutNoJuryVerdict",
                "ReturnReceived", "ReturnDeemedReceived", "ReturnNotShipped")
_DECISION_KINDS = ("JuryVerdict", "FastTrack")


def _status_name(status: Status) -> str:
    return STATUSES[int(status)]


def _refusal(order_id: int, exc: chain_errors.RevertError) -> EscrowRefusal | None:
    """The port's refusal for one of the escrow's custom errors (None: not a rule of an act)."""
    v = exc.values
    match exc:
        case chain_errors.ArbitrationEscrowTooEarly():
            return NotYet(order_id, uint_of(v, "notBefore"))
        case chain_errors.ArbitrationEscrowTooLate():
            return TooLate(order_id, uint_of(v, "deadline"))
        case chain_errors.ArbitrationEscrowInvalidStatus():
            return WrongStatus(order_id, STATUSES[uint_of(v, "current")])
        case chain_errors.ArbitrationEscrowInvalidSignature():
            return WrongSigner(order_id, str(v["signer"]))
        case chain_errors.ArbitrationEscrowAllocationMismatch():
            return AllocationMismatch(order_id, uint_of(v, "escrowed"), uint_of(v, "allocated"))
        case chain_errors.ArbitrationEscrowCompensationAboveCap():
            return CompensationAboveCap(order_id, uint_of(v, "cap"), uint_of(v, "compensation"))
        case chain_errors.ArbitrationEscrowInsufficientGuarantee():
            return InsufficientGuarantee(order_id, uint_of(v, "available"), uint_of(v, "needed"))
        case chain_errors.ArbitrationEscrowUnauthorizedCaller():
            return NotAuthorized(order_id, str(v["caller"]))
        case chain_errors.ArbitrationEscrowInvalidNeutral():
            return InvalidNeutral(order_id, str(v["neutral"]))
        case chain_errors.ArbitrationEscrowPanelQuorumNotReached():
            return QuorumNotReached(order_id, uint_of(v, "validSignatures"))
        case chain_errors.ArbitrationEscrowInvalidJury():
            return InvalidJury(order_id)
        case chain_errors.ArbitrationEscrowJuryMismatch():
            return JuryMismatch(order_id)
        case chain_errors.ArbitrationEscrowNoJuryMajority():
            return NoJuryMajority(order_id, uint_of(v, "revealed"), uint_of(v, "topVotes"))
        case chain_errors.ArbitrationEscrowInvalidTimeouts():
            return InvalidTimeouts(order_id)
        case chain_errors.ArbitrationEscrowAdvanceAboveCap():
            return AdvanceAboveCap(order_id, uint_of(v, "cap"), uint_of(v, "requested"))
        case chain_errors.ArbitrationEscrowInvalidToken():
            return WrongToken(order_id, str(v["token"]))
        case chain_errors.ArbitrationEscrowZeroAmount():
            return ZeroAmount(order_id)
        case chain_errors.ArbitrationEscrowReturnSettlementUsed():
            return SettlementUsed(order_id, "0x" + bytes_of(v, "settlementHash").hex())
    return None


@contextmanager
def _refusals(order_id: int) -> Iterator[None]:
    try:
        yield
    except chain_errors.RevertError as exc:
        refusal = _refusal(order_id, exc)
        if refusal is None:
            raise
        raise refusal from exc


def _one(result: TxResult, name: str) -> Event:
    found = result.named(name)
    if len(found) != 1:
        raise AssertionError(f"expected one {name} event in 0x{result.tx_hash.hex()}, "
                             f"found {len(found)}")
    return found[0]


def _resolved(result: TxResult) -> OrderResolved:
    from backend.chain import Allocation

    a = _one(result, "OrderResolved").args
    return OrderResolved(uint_of(a, "orderId"), _RESOLUTIONS[uint_of(a, "resolution")],
                         Allocation(uint_of(a, "toBuyer"), uint_of(a, "toSeller"),
                                    uint_of(a, "compensationPaid")),
                         uint_of(a, "compensationShortfall"))


class Web3EscrowPort:
    """ArbitrationEscrow through ``backend.chain``, signing with the institution key.

    ``flush`` runs after every transaction (the embedded chain's state is on disk before the
    database says it happened).
    """

    def __init__(self, escrow: EscrowContract, institution: LocalAccount, *,
                 flush: Callable[[], None] | None = None) -> None:
        self.escrow = escrow
        self.account = institution  # never logged
        self.institution_address = institution.address
        self._flush = flush or (lambda: None)
        self._domain: Domain | None = None
        self._tokens: dict[str, TokenMeta] = {}  # a token's symbol never changes

    def __repr__(self) -> str:
        return f"Web3EscrowPort({self.escrow.address}, institution={self.institution_address})"

    def domain(self) -> Domain:
        if self._domain is None:
            d = self.escrow.domain()
            self._domain = Domain(chain_id=d.chain_id, verifying_contract=d.verifying_contract)
        return self._domain

    def institution_of(self, institution: str) -> str:
        return self.escrow.institution_of(institution)

    def rotate_institution_key(self, successor: str) -> str:
        """``rotateInstitutionKey``; then, when this key is also the escrow's admin (the
        embedded deployment), the admin role moves too (granted, then renounced), so the
        retired key cannot revoke its successor."""
        result = self._send(0, lambda: self.escrow.rotate_institution_key(self.account,
                                                                           successor))
        _one(result, "InstitutionKeyRotated")
        if self.escrow.is_admin(self.account.address):
            with _refusals(0):
                self.escrow.hand_over_admin(self.account, successor)
            self._flush()
        return "0x" + bytes(result.tx_hash).hex()

    def read_order(self, order_id: int) -> OrderInfo:
        o = self.escrow.order(order_id)
        if o.status == Status.NONE:
            raise UnknownOrder(order_id)
        g = self.escrow.guarantee(o.seller, o.token)
        # only an order in dispute can have advances (and a resolved one that had them)
        advanced = self.escrow.advanced(order_id) if o.status >= Status.DISPUTED else 0
        return OrderInfo(order_id=order_id, buyer=o.buyer, seller=o.seller, amount=o.amount,
                         token=o.token, institution=o.institution,
                         status=_status_name(o.status), case_id="0x" + o.case_id.hex(),
                         guarantee=g.balance, delivery_deadline=o.delivery_deadline,
                         rules_hash="0x" + o.rules_hash.hex(),
                         contract_hash="0x" + o.contract_hash.hex(), advanced=advanced)

    def order_of_contract(self, contract_hash: str) -> int:
        return self.escrow.order_of_contract(bytes.fromhex(contract_hash.removeprefix("0x")))

    def orders_of(self, account: str) -> list[OrderInfo]:
        w3, escrow = self.escrow.tx.w3, self.escrow.address
        ids = {uint_of(e.args, "orderId")
               for e in (*find_events(w3, ORDER_OPENED, escrow, buyer=account),
                         *find_events(w3, ORDER_OPENED, escrow, seller=account))}
        return [self.read_order(i) for i in sorted(ids, reverse=True)]

    def token_meta(self, token: str) -> TokenMeta:
        if int(token, 16) == 0:
            return ETH_META
        if token.lower() not in self._tokens:
            abi = [{"name": n, "type": "function", "inputs": [], "stateMutability": "view",
                    "outputs": [{"type": t}]} for n, t in (("symbol", "string"),
                                                           ("decimals", "uint8"))]
            c = self.escrow.tx.w3.eth.contract(address=to_checksum_address(token), abi=abi)
            try:
                meta = TokenMeta(str(c.functions.symbol().call()),
                                 int(c.functions.decimals().call()))
            except Exception:  # a token without metadata: its address, 18 decimals
                meta = TokenMeta(to_checksum_address(token), 18)
            self._tokens[token.lower()] = meta
        return self._tokens[token.lower()]

    # -- party acts, observed ----------------------------------------------------------

    def confirm_dispute(self, act: ConfirmDispute) -> Observed:
        order = self.read_order(act.order_id)
        if order.status not in DISPUTED_OR_LATER or order.case_id.lower() != act.case_id.lower():
            raise AwaitingParty(f"order {act.order_id} is {order.status}; the party's wallet "
                                f"must call raiseDispute(orderId, caseId)")
        return Observed(order)

    def confirm_objection(self, act: ConfirmObjection) -> Observed:
        order = self.read_order(act.order_id)
        if act.decision and order.status not in ("JuryAppointed", "DecisionPending"):
            return Observed(order)  # an objection to a decision: the order left it
        if act.decision or order.status not in OBJECTED_OR_LATER:
            raise AwaitingParty(f"order {act.order_id} is {order.status}; the party's wallet "
                                f"must call objectToAward(orderId)")
        return Observed(order)

    # -- the institution's acts --------------------------------------------------------

    def appoint_arbitrator(self, act: AppointArbitrator) -> Sent[ArbitratorAppointed]:
        result = self._send(act.order_id, lambda: self.escrow.appoint_arbitrator(
            self.account, act.order_id, act.arbitrator))
        a = _one(result, "ArbitratorAppointed").args
        return self._sent(result, ArbitratorAppointed(
            act.order_id, "0x" + bytes_of(a, "caseId").hex(), str(a["arbitrator"]),
            uint_of(a, "deadline")))

    def appoint_panel(self, act: AppointPanel) -> Sent[PanelAppointed]:
        result = self._send(act.order_id, lambda: self.escrow.appoint_panel(
            self.account, act.order_id, act.panel))
        a = _one(result, "PanelAppointed").args
        x, y, z = (str(m) for m in tuple_of(a, "panel"))
        return self._sent(result, PanelAppointed(
            act.order_id, "0x" + bytes_of(a, "caseId").hex(), (x, y, z), uint_of(a, "deadline")))

    def submit_award(self, act: SubmitAward) -> Sent[AwardSubmitted]:
        award_hash = bytes.fromhex(act.award_hash.removeprefix("0x"))
        result = self._send(act.order_id, lambda: self.escrow.submit_award(
            self.account, act.order_id, act.allocation, award_hash, act.signature))
        a = _one(result, "AwardSubmitted").args
        return self._sent(result, AwardSubmitted(
            act.order_id, "0x" + bytes_of(a, "caseId").hex(), uint_of(a, "round"), act.allocation,
            "0x" + bytes_of(a, "awardHash").hex(), uint_of(a, "deadline")))

    def execute_award(self, act: ExecuteAward) -> Sent[OrderResolved] | Sent[ReturnRequested]:
        """``executeAward``; a decision's is refused unless the order holds one."""
        if act.decision:
            status = self.read_order(act.order_id).status
            if status != "DecisionPending":
                raise WrongStatus(act.order_id, status)
        result = self._send(act.order_id, lambda: self.escrow.execute_award(
            self.account, act.order_id))
        if result.named("ReturnRequested"):  # a return award: the return stage began
            a = _one(result, "ReturnRequested").args
            return self._sent(result, ReturnRequested(
                act.order_id, "0x" + bytes_of(a, "caseId").hex(), uint_of(a, "deadline")))
        return self._sent(result, _resolved(result))

    def submit_panel_award(self, act: SubmitPanelAward) -> Sent[OrderResolved]:
        award_hash = bytes.fromhex(act.award_hash.removeprefix("0x"))
        result = self._send(act.order_id, lambda: self.escrow.submit_panel_award(
            self.account, act.order_id, act.allocation, award_hash, act.signatures))
        return self._sent(result, _resolved(result))

    def execute_settlement(self, act: ExecuteSettlement) -> Sent[OrderResolved]:
        result = self._send(act.order_id, lambda: self.escrow.execute_settlement(
            self.account, act.order_id, act.allocation, act.buyer_signature,
            act.seller_signature))
        return self._sent(result, _resolved(result))

    def refund_on_timeout(self, act: RefundOnTimeout) -> Sent[OrderResolved]:
        result = self._send(act.order_id, lambda: self.escrow.resolve_by_timeout(
            self.account, act.order_id))
        return self._sent(result, _resolved(result))

    def appoint_jury(self, act: AppointJury) -> Sent[JuryAppointed]:
        result = self._send(act.order_id, lambda: self.escrow.appoint_jury(
            self.account, act.order_id, act.jurors, act.options))
        a = _one(result, "JuryAppointed").args
        return self._sent(result, JuryAppointed(
            act.order_id, "0x" + bytes_of(a, "caseId").hex(), "0x" + bytes_of(a, "juryHash").hex(),
            uint_of(a, "deadline")))

    def submit_jury_verdict(self, act: SubmitJuryVerdict) -> Sent[DecisionSubmitted]:
        """The institution signs the ``Decision`` over the votes' hash (the ballots'
        commitments in the escrow's juror order) and the winning option, then submits."""
        case = bytes.fromhex(act.case_id.removeprefix("0x"))
        by_juror: dict[str, Ballot] = {str(to_checksum_address(b.juror)): b for b in act.ballots}
        commitments: list[bytes | None] = []
        for juror in jury_order([str(to_checksum_address(j)) for j in act.jurors]):
            b = by_juror.get(juror)
            commitments.append(None if b is None or b.signature is None else vote_commitment(
                case, juror, b.choice, b.reason_code, b.salt))
        allocation = act.options[act.winner] if act.winner < len(act.options) \
            else act.options[0]
        decision_hash = votes_hash(commitments)
        signature = self.escrow.sign_decision(self.account, act.order_id,
                                              DecisionKind.JURY_VERDICT, allocation,
                                              decision_hash, case_id=case)
        ballots = [JurorBallot(b.juror, b.choice, b.reason_code,
                               bytes.fromhex(b.salt.removeprefix("0x")), b.signature)
                   for b in act.ballots]
        result = self._send(act.order_id, lambda: self.escrow.submit_jury_verdict(
            self.account, act.order_id, jurors=act.jurors, options=act.options,
            winner=act.winner, ballots=ballots, signature=signature))
        a = _one(result, "DecisionSubmitted").args
        from backend.chain import Allocation

        return self._sent(result, DecisionSubmitted(
            act.order_id, "0x" + bytes_of(a, "caseId").hex(), _DECISION_KINDS[uint_of(a, "kind")],
            Allocation(uint_of(a, "toBuyer"), uint_of(a, "toSeller"), uint_of(a, "compensation")),
            "0x" + bytes_of(a, "decisionHash").hex(), uint_of(a, "deadline")))
    # -- the fast track (docs/jury.md "Fast track") ---------------------------------------

    def submit_fast_track(self, act: SubmitFastTrack) -> Sent[DecisionSubmitted]:
        """Sign the institution's ``Decision`` (kind FastTrack, over the report and the
        window) with the port's key and submit it; the deadline is the fast track's own
        (``FastTrackSubmitted``)."""
        report = bytes.fromhex(act.report_hash.removeprefix("0x"))
        signature = self.escrow.sign_fast_track(self.account, act.order_id, act.allocation,
                                                report, act.window_seconds)
        result = self._send(act.order_id, lambda: self.escrow.submit_fast_track(
            self.account, act.order_id, act.allocation, report, act.window_seconds,
            signature))
        a = _one(result, "DecisionSubmitted").args
        deadline = uint_of(_one(result, "FastTrackSubmitted").args, "deadline")
        return self._sent(result, DecisionSubmitted(
            act.order_id, "0x" + bytes_of(a, "caseId").hex(), _DECISION_KINDS[uint_of(a, "kind")],
            act.allocation, "0x" + bytes_of(a, "decisionHash").hex(), deadline))

    def advance_refund(self, act: AdvanceRefund) -> Sent[AdvanceRefunded]:
        result = self._send(act.order_id, lambda: self.escrow.advance_refund(
            self.account, act.order_id, act.token, act.amount))
        a = _one(result, "AdvanceRefunded").args
        return self._sent(result, AdvanceRefunded(
            act.order_id, "0x" + bytes_of(a, "caseId").hex(), uint_of(a, "amount"),
            uint_of(a, "totalAdvanced")))

    # -- the return stage (docs/contracts.md "Return and refund") -------------------------

    def submit_return_award(self, act: SubmitReturnAward) -> Sent[AwardSubmitted]:
        award_hash = bytes.fromhex(act.award_hash.removeprefix("0x"))
        result = self._send(act.order_id, lambda: self.escrow.submit_return_award(
            self.account, act.order_id, act.allocation, act.no_return, award_hash,
            act.signature))
        a = _one(result, "AwardSubmitted").args
        return self._sent(result, AwardSubmitted(
            act.order_id, "0x" + bytes_of(a, "caseId").hex(), uint_of(a, "round"), act.allocation,
            "0x" + bytes_of(a, "awardHash").hex(), uint_of(a, "deadline")))

    def submit_return_settlement(self, act: SubmitReturnSettlement) -> Sent[ReturnRequested]:
        result = self._send(act.order_id, lambda: self.escrow.submit_return_settlement(
            self.account, act.order_id, act.allocation, act.no_return, act.buyer_signature,
            act.seller_signature))
        a = _one(result, "ReturnRequested").args
        return self._sent(result, ReturnRequested(
            act.order_id, "0x" + bytes_of(a, "caseId").hex(), uint_of(a, "deadline")))

    def confirm_return_shipment(self, act: ConfirmReturnShipment) -> Observed:
        order = self.read_order(act.order_id)
        if order.status == "ReturnPending":
            raise AwaitingParty(f"order {act.order_id} is {order.status}; the buyer's wallet "
                                "must call recordReturnShipment(orderId, tracking)")
        return Observed(order)

    def confirm_return_received(self, act: ConfirmReturnReceived) -> Sent[OrderResolved]:
        result = self._send(act.order_id, lambda: self.escrow.confirm_return_received(
            self.account, act.order_id))
        return self._sent(result, _resolved(result))

    def confirm_return_dispute(self, act: ConfirmReturnDispute) -> Observed:
        order = self.read_order(act.order_id)
        if order.status == "ReturnShipped":
            raise AwaitingParty(f"order {act.order_id} is {order.status}; the seller's "
                                "wallet must call disputeReturnReceipt(orderId)")
        return Observed(order)

    def _send(self, order_id: int, send: Callable[[], TxResult]) -> TxResult:
        with _refusals(order_id):
            result = send()
        self._flush()  # the chain is on disk before the database says it happened
        return result

    @staticmethod
    def _sent(result: TxResult, event: Any) -> Sent[Any]:
        return Sent(tx_hash="0x" + bytes(result.tx_hash).hex(),
                    block_number=result.block_number, event=event)
