// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IArbitrationEscrow
/// @notice Escrow for cross-border orders that executes settlements and arbitral awards.
/// @dev Types, events and errors of {ArbitrationEscrow}. The state machine, who may call what and
/// every timeout are described in docs/contracts.md; the EIP-712 types in docs/eip712.md.
interface IArbitrationEscrow {
    /// @notice Where an order stands. Every status but `None` and `Resolved` has a way forward
    /// that anyone can take once its deadline passes, so no funds wait forever.
    enum Status {
        None, // no such order
        Paid, // escrowed; waiting for confirmation, the release deadline or a dispute
        Disputed, // frozen under a case id; waiting for a settlement or the arbitrator's appointment
        ArbitratorAppointed, // waiting for the sole arbitrator's award (or a settlement)
        AwardSubmitted, // round-0 award on record; objection window open until `deadline`
        Objected, // a party objected; waiting for the panel's appointment (or a settlement)
        PanelAppointed, // waiting for a round-1 award signed by two of three panelists
        Resolved, // paid out; terminal
        JuryAppointed, // the drawn jury is fixed (its hash); waiting for its verdict (or a settlement)
        DecisionPending, // an institution-signed decision (a jury's verdict, a fast-track proposal)
        // is on record; objection window open until `deadline`
        ReturnPending, // a return-and-refund decision: the buyer ships the goods back by `deadline`
        ReturnShipped // the buyer recorded the return shipment; receipt is confirmed or deemed by `deadline`
    }

    /// @notice How an order ended (set together with `Status.Resolved`).
    enum Resolution {
        None,
        DeliveryConfirmed, // buyer released the funds to the seller
        ReleasedAfterDeadline, // delivery deadline plus grace passed without a dispute
        RefundedBySeller, // seller gave the full amount back
        Settled, // allocation signed by buyer and seller
        AwardExecuted, // sole arbitrator's award, after the objection window
        PanelAwardExecuted, // panel award after an objection (final)
        TimeoutNoArbitrator, // institution did not appoint an arbitrator in time: refund
        TimeoutNoAward, // arbitrator did not submit an award in time: refund
        TimeoutNoPanel, // institution did not appoint a panel in time: refund
        TimeoutNoPanelAward, // panel did not submit an award in time: refund
        JuryVerdictExecuted, // a jury's verdict, after the objection window
        FastTrackExecuted, // a fast-track proposal, after the objection window
        TimeoutNoJuryVerdict, // the jury's verdict was not submitted in time: refund
        ReturnReceived, // seller (or the institution on the carrier's delivered event) confirmed the return
        ReturnDeemedReceived, // nobody confirmed or disputed the return's receipt in time: refund
        ReturnNotShipped // buyer missed the return window: the decision's no-return allocation
    }

    /// @notice What kind of institution-signed decision waits for its objection window.
    enum DecisionKind {
        JuryVerdict, // the majority of a drawn jury, counted by the contract (submitJuryVerdict)
        FastTrack // the mediator's pre-evaluation proposed as binding unless a party objects
    }

    /// @notice Durations in seconds, fixed at deployment, that bound every waiting state.
    struct Timeouts {
        uint32 maxDeliveryPeriod; // latest delivery deadline an order may name, from opening
        uint32 releaseGrace; // after the delivery deadline: time left to dispute before release
        uint32 appointment; // from the dispute: institution appoints the arbitrator
        uint32 award; // from the appointment: arbitrator's award is submitted
        uint32 objection; // from the award's submission: a party may object
        uint32 panelAppointment; // from the objection: institution appoints the panel
        uint32 panelAward; // from the panel's appointment: panel award is submitted
        uint32 returnShipment; // from a return-and-refund decision: buyer ships back, records tracking
        uint32 returnReceipt; // from the return shipment: seller confirms or disputes receipt
    }

    /// @notice One order. `deadline` is the end of the current waiting state (0 when none).
    struct Order {
        address buyer;
        uint48 deliveryDeadline;
        Status status;
        Resolution resolution;
        address seller;
        uint48 deadline;
        address token; // address(0) for ETH
        address institution;
        address arbitrator;
        uint256 amount;
        bytes32 rulesHash;
        bytes32 caseId;
        bytes32 contractHash; // EIP-712 digest of the signed contract of sale (zero: none bound)
    }

    /// @notice How the escrowed amount is split, plus extra paid to the buyer from the seller's
    /// guarantee in the order's token. `toBuyer + toSeller` must equal the escrowed amount.
    struct Allocation {
        uint256 toBuyer;
        uint256 toSeller;
        uint256 compensation;
    }

    /// @notice The round-0 award, or the institution-signed decision (`awardHash`: its decision
    /// hash), waiting for its objection window to close.
    struct PendingAward {
        Allocation allocation;
        bytes32 awardHash;
    }

    /// @notice A seller's guarantee deposit in one token, and how much of it open disputes lock.
    struct Guarantee {
        uint256 balance;
        uint256 locked;
    }

    // ------------------------------------------------------------------------------------------
    // Events: one for every state change; together they rebuild all state off-chain.
    // ------------------------------------------------------------------------------------------

    /// @notice Emitted once, by the constructor.
    event TimeoutsConfigured(Timeouts timeouts);

    /// @notice The buyer opened an order and its amount is now escrowed (status Paid).
    event OrderOpened(
        uint256 indexed orderId,
        address indexed buyer,
        address indexed seller,
        address token,
        uint256 amount,
        uint48 deliveryDeadline,
        address institution,
        bytes32 rulesHash
    );

    /// @notice The order opened just before (same transaction) binds the contract of sale whose
    /// EIP-712 digest is `contractHash` (docs/contract-of-sale.md). Emitted right after
    /// {OrderOpened}; a contract binds at most one order.
    event ContractOfSaleBound(uint256 indexed orderId, bytes32 indexed contractHash);

    /// @notice A party froze the order under `caseId` (status Disputed). The seller's guarantee in
    /// the order's token is locked by `amount` until the order is resolved.
    event DisputeRaised(uint256 indexed orderId, bytes32 indexed caseId, address indexed by, uint48 deadline);

    /// @notice The institution appointed the sole arbitrator (status ArbitratorAppointed).
    event ArbitratorAppointed(uint256 indexed orderId, bytes32 indexed caseId, address indexed arbitrator, uint48 deadline);

    /// @notice An award signed for `round` was accepted. Round 0: objection window until
    /// `deadline` (status AwardSubmitted). Round 1: executes at once (`deadline` is 0).
    event AwardSubmitted(
        uint256 indexed orderId,
        bytes32 indexed caseId,
        uint8 indexed round,
        uint256 toBuyer,
        uint256 toSeller,
        uint256 compensation,
        bytes32 awardHash,
        uint48 deadline
    );

    /// @notice A party objected to the round-0 award (status Objected).
    event AwardObjected(uint256 indexed orderId, bytes32 indexed caseId, address indexed by, uint48 deadline);

    /// @notice The institution fixed the drawn jury: `juryHash` is
    /// `keccak256(abi.encodePacked(jurors.length, jurors, options))` (jurors in ascending
    /// address order, the allocation options the jury votes on, three words each). Status
    /// JuryAppointed until `deadline`.
    event JuryAppointed(uint256 indexed orderId, bytes32 indexed caseId, bytes32 juryHash, uint48 deadline);

    /// @notice An institution-signed decision of `kind` was accepted (status DecisionPending);
    /// the parties may object until `deadline` (equal to the block time when the order's one
    /// objection is spent: the decision is final).
    event DecisionSubmitted(
        uint256 indexed orderId,
        bytes32 indexed caseId,
        DecisionKind indexed kind,
        uint256 toBuyer,
        uint256 toSeller,
        uint256 compensation,
        bytes32 decisionHash,
        uint48 deadline
    );

    /// @notice The pending decision is the fast track's proposal (after its DecisionSubmitted):
    /// `reportHash` names the pre-evaluation report with its reasons, and the parties may object
    /// until `deadline`, the fast track's own window (shorter than the one DecisionSubmitted states).
    event FastTrackSubmitted(uint256 indexed orderId, bytes32 reportHash, uint48 deadline);

    /// @notice A party objected to the pending decision: the order is Disputed again, waiting for
    /// the sole arbitrator's appointment until `deadline`.
    event DecisionObjected(uint256 indexed orderId, bytes32 indexed caseId, address indexed by, uint48 deadline);

    /// @notice The institution appointed the panel of three (status PanelAppointed).
    event PanelAppointed(uint256 indexed orderId, bytes32 indexed caseId, address[3] panel, uint48 deadline);

    /// @notice Buyer and seller settled on a return and refund (`settlementHash`: the digest they
    /// signed): `refund` is paid once the goods are back; {ReturnTermsRecorded} (the fallback)
    /// and {ReturnRequested} follow in the same transaction.
    event ReturnSettlementAgreed(
        uint256 indexed orderId, bytes32 indexed caseId, Allocation refund, bytes32 settlementHash
    );

    /// @notice The round-0 award submitted with it ({AwardSubmitted}, same transaction) is a
    /// return-and-refund award (or the return settlement, {ReturnSettlementAgreed}): its allocation is paid once the goods are back, `noReturn` if the
    /// buyer does not ship them back in time.
    event ReturnTermsRecorded(uint256 indexed orderId, bytes32 indexed caseId, Allocation noReturn);

    /// @notice The return stage began (status ReturnPending): the buyer ships back by `deadline`.
    event ReturnRequested(uint256 indexed orderId, bytes32 indexed caseId, uint48 deadline);

    /// @notice The buyer recorded the return shipment (status ReturnShipped); receipt is confirmed,
    /// disputed or deemed by `deadline`.
    event ReturnShipped(uint256 indexed orderId, bytes32 indexed caseId, bytes32 tracking, uint48 deadline);

    /// @notice The seller disputed the return's receipt (status Disputed): the institution appoints
    /// an arbitrator by `deadline` to decide the return.
    event ReturnReceiptDisputed(uint256 indexed orderId, bytes32 indexed caseId, uint48 deadline);

    /// @notice The order was paid out (status Resolved). `compensationShortfall` is the part of an
    /// awarded compensation that the seller's guarantee could not cover.
    event OrderResolved(
        uint256 indexed orderId,
        Resolution indexed resolution,
        uint256 toBuyer,
        uint256 toSeller,
        uint256 compensationPaid,
        uint256 compensationShortfall
    );

    /// @notice The institution paid the buyer an advance refund of `amount` from the seller's
    /// guarantee in the order's token (the seller missed the delivery deadline);
    /// `totalAdvanced` is what the order's advances now total.
    event AdvanceRefunded(uint256 indexed orderId, bytes32 indexed caseId, uint256 amount, uint256 totalAdvanced);

    /// @notice On resolution, the escrowed amount gave the order's advances back to the seller's
    /// guarantee: `fromBuyerShare` from the buyer's allocated share, `fromSellerShare` from the
    /// seller's. Emitted just before {OrderResolved}, whose shares are the decided ones: the
    /// parties receive them less these.
    event AdvanceRepaid(uint256 indexed orderId, uint256 fromBuyerShare, uint256 fromSellerShare);

    /// @notice A seller added to their guarantee deposit in `token`.
    event GuaranteeDeposited(address indexed seller, address indexed token, uint256 amount);

    /// @notice A seller took back unlocked guarantee in `token`.
    event GuaranteeWithdrawn(address indexed seller, address indexed token, uint256 amount);

    /// @notice A payout to `account` failed (a reverting receiver or token) and was credited to
    /// its withdrawable balance instead, so it does not block the other payouts.
    event PayoutDeferred(address indexed account, address indexed token, uint256 amount);

    /// @notice `account` withdrew its credited balance in `token`.
    event Withdrawn(address indexed account, address indexed token, uint256 amount);

    /// @notice The institution key `previous` handed INSTITUTION_ROLE and every order naming it
    /// (or a key before it) over to `successor`; `previous` can act for no order any more.
    event InstitutionKeyRotated(address indexed previous, address indexed successor);

    // ------------------------------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------------------------------

    /// @notice A timeout is zero.
    error ArbitrationEscrowInvalidTimeouts();
    /// @notice The order is not in a status that allows this call.
    error ArbitrationEscrowInvalidStatus(uint256 orderId, Status current);
    /// @notice The caller has no right to make this call on this order.
    error ArbitrationEscrowUnauthorizedCaller(uint256 orderId, address caller);
    /// @notice Called before `notBefore` (a window is still open).
    error ArbitrationEscrowTooEarly(uint256 orderId, uint256 notBefore);
    /// @notice Called at or after `deadline` (a window has closed).
    error ArbitrationEscrowTooLate(uint256 orderId, uint256 deadline);
    /// @notice Seller is zero or the buyer.
    error ArbitrationEscrowInvalidSeller(address seller);
    /// @notice Token is neither address(0) (ETH) nor a contract.
    error ArbitrationEscrowInvalidToken(address token);
    /// @notice Amount is zero.
    error ArbitrationEscrowZeroAmount();
    /// @notice Delivery deadline is not in (now, now + maxDeliveryPeriod].
    error ArbitrationEscrowInvalidDeliveryDeadline(uint256 deliveryDeadline, uint256 latest);
    /// @notice The named institution does not hold INSTITUTION_ROLE.
    error ArbitrationEscrowUnknownInstitution(address institution);
    /// @notice msg.value differs from what the call needs (the amount for ETH, zero for tokens).
    error ArbitrationEscrowWrongValue(uint256 expected, uint256 received);
    /// @notice The escrow received a different amount than transferred (fee-on-transfer token).
    error ArbitrationEscrowTransferAmountMismatch(address token, uint256 expected, uint256 received);
    /// @notice The case id is zero.
    error ArbitrationEscrowInvalidCaseId();
    /// @notice An arbitrator or panelist is zero, a party, or appears twice.
    error ArbitrationEscrowInvalidNeutral(uint256 orderId, address neutral);
    /// @notice A signature is not valid for `signer` over this order, case and allocation.
    error ArbitrationEscrowInvalidSignature(uint256 orderId, address signer);
    /// @notice Fewer than two panelists signed the panel award.
    error ArbitrationEscrowPanelQuorumNotReached(uint256 orderId, uint256 validSignatures);
    /// @notice `toBuyer + toSeller` differs from the escrowed amount.
    error ArbitrationEscrowAllocationMismatch(uint256 orderId, uint256 escrowed, uint256 allocated);
    /// @notice An award's compensation exceeds the order's cap (its amount).
    error ArbitrationEscrowCompensationAboveCap(uint256 orderId, uint256 cap, uint256 compensation);
    /// @notice A settlement's compensation exceeds the seller's guarantee balance.
    error ArbitrationEscrowInsufficientGuarantee(address seller, address token, uint256 available, uint256 needed);
    /// @notice A guarantee withdrawal exceeds what open disputes leave free.
    error ArbitrationEscrowGuaranteeLocked(address seller, address token, uint256 withdrawable, uint256 requested);
    /// @notice Nothing is credited to the caller in `token`.
    error ArbitrationEscrowNothingToWithdraw(address account, address token);
    /// @notice A withdrawal the caller asked for could not be sent.
    error ArbitrationEscrowTransferFailed(address account, address token, uint256 amount);
    /// @notice The contract-of-sale hash given to {openOrderWithContract} is zero.
    error ArbitrationEscrowInvalidContractHash();
    /// @notice The contract of sale `contractHash` already binds order `orderId`: a signed
    /// contract escrows its price once.
    error ArbitrationEscrowContractAlreadyBound(bytes32 contractHash, uint256 orderId);
    /// @notice A jury hash is zero, or the order already had a jury.
    error ArbitrationEscrowInvalidJury(uint256 orderId);
    /// @notice The jurors and options given are not the ones the appointed jury hash names, the
    /// votes are not one per juror, or a revealed choice is not one of the options.
    error ArbitrationEscrowJuryMismatch(uint256 orderId);
    /// @notice No verdict: fewer than half the jury revealed, or no option holds more than half
    /// of the revealed votes (`topVotes`).
    error ArbitrationEscrowNoJuryMajority(uint256 orderId, uint256 revealed, uint256 topVotes);
    /// @notice The return shipment's tracking commitment is zero.
    error ArbitrationEscrowInvalidReturn(uint256 orderId);
    /// @notice The return settlement `settlementHash` already started the order's return stage
    /// once (its receipt was then disputed): a settlement starts a return once.
    error ArbitrationEscrowReturnSettlementUsed(uint256 orderId, bytes32 settlementHash);
    /// @notice An advance refund above `cap`: what the order's amount leaves after its earlier
    /// advances, or what the seller's guarantee holds, whichever is less.
    error ArbitrationEscrowAdvanceAboveCap(uint256 orderId, uint256 cap, uint256 requested);
    /// @notice A rotation's successor is zero, the caller, already an institution, or a key that
    /// was rotated away from (a key holds the role once: no cycles, no merging of two chains).
    error ArbitrationEscrowInvalidSuccessor(address successor);
}
