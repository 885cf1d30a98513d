// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {EscrowCore} from "./EscrowCore.sol";

/// @title ArbitrationEscrowExtension
/// @notice The escrow's later stages: the panel after an objection, the jury and the fast track,
/// the return and refund, advance refunds and the institution's key rotation.
/// @dev Code only: {ArbitrationEscrow} deploys it in its own constructor and DELEGATECALLs it
/// for these functions, so they run on the escrow's storage, balance and address, with the
/// escrow's caller. Why a second contract: the escrow's runtime code is bounded by EIP-170
/// (24,576 bytes). Called directly, it runs on its own storage, which holds no order, no role
/// and no funds: every function refuses (no such order, not an institution).
contract ArbitrationEscrowExtension is EscrowCore {
    /// @param timeouts_ the escrow's (its immutables are code, and this code needs them too)
    constructor(Timeouts memory timeouts_) EscrowCore(timeouts_) {}

    // ------------------------------------------------------------------------------------------
    // The panel after an objection
    // ------------------------------------------------------------------------------------------

    /// @notice The order's institution appoints a panel of three distinct neutrals, other than the
    /// sole arbitrator and the parties, before the panel appointment deadline.
    function appointPanel(uint256 orderId, address[3] calldata panel) external nonReentrant {
        Order storage order = _requireStatus(orderId, Status.Objected);
        _requireInstitution(orderId, order);
        _requireBefore(orderId, order.deadline);
        for (uint256 i = 0; i < 3; ++i) {
            _requireNeutral(orderId, order, panel[i]);
            if (panel[i] == order.arbitrator) revert ArbitrationEscrowInvalidNeutral(orderId, panel[i]);
        }
        if (panel[0] == panel[1]) revert ArbitrationEscrowInvalidNeutral(orderId, panel[1]);
        if (panel[0] == panel[2] || panel[1] == panel[2]) revert ArbitrationEscrowInvalidNeutral(orderId, panel[2]);

        uint48 deadline = _deadlineFromNow(_panelAwardTimeout);
        order.status = Status.PanelAppointed;
        order.deadline = deadline;
        _panels[orderId] = panel;
        emit PanelAppointed(orderId, order.caseId, panel, deadline);
    }

    /// @notice Anyone submits the panel's round-1 award before the panel award deadline; it
    /// executes at once and is final.
    /// @param signatures one entry per panelist in appointment order; empty for a panelist who did
    /// not sign. At least two must be present, and every present one must be valid.
    function submitPanelAward(
        uint256 orderId,
        Allocation calldata allocation,
        bytes32 awardHash,
        bytes[3] calldata signatures
    ) external nonReentrant {
        Order storage order = _requireStatus(orderId, Status.PanelAppointed);
        _requireBefore(orderId, order.deadline);
        _requireAwardAllocation(orderId, order, allocation);
        bytes32 digest = hashAward(orderId, order.caseId, allocation, awardHash, 1);
        address[3] storage panel = _panels[orderId];
        uint256 valid = 0;
        for (uint256 i = 0; i < 3; ++i) {
            if (signatures[i].length == 0) continue;
            address member = panel[i];
            if (!SignatureChecker.isValidSignatureNow(member, digest, signatures[i])) {
                revert ArbitrationEscrowInvalidSignature(orderId, member);
            }
            ++valid;
        }
        if (valid < 2) revert ArbitrationEscrowPanelQuorumNotReached(orderId, valid);

        emit AwardSubmitted(
            orderId, order.caseId, 1, allocation.toBuyer, allocation.toSeller, allocation.compensation, awardHash, 0
        );
        _resolveCapped(orderId, order, Resolution.PanelAwardExecuted, allocation);
    }

    // ------------------------------------------------------------------------------------------
    // Institution-signed decisions: the jury's verdict (and the fast track's proposal)
    // ------------------------------------------------------------------------------------------
    /// @notice The order's institution fixes the jury it drew (docs/jury.md) before the
    /// deadline: `juryHash = keccak256(abi.encodePacked(jurors.length, jurors, options))`
    /// (32-byte words), the jurors in ascending address order and the allocation options they
    /// vote on, three words each (evidence/jury.py `jury_hash`). The first appointment (from
    /// Disputed, once per order) starts the verdict's deadline (the award timeout); while the
    /// jury sits, the institution may name it again (jurors who did not accept replaced by a
    /// new draw) under the same deadline.
    function appointJury(uint256 orderId, bytes32 juryHash) external nonReentrant {
        Order storage order = _orders[orderId];
        bool again = order.status == Status.JuryAppointed;
        if (!again) _requireStatus(orderId, Status.Disputed);
        _requireInstitution(orderId, order);
        _requireBefore(orderId, order.deadline);
        if (juryHash == bytes32(0) || (!again && _juries[orderId] != bytes32(0))) {
            revert ArbitrationEscrowInvalidJury(orderId);
        }

        uint48 deadline = again ? order.deadline : _deadlineFromNow(_awardTimeout);
        order.status = Status.JuryAppointed;
        order.deadline = deadline;
        _juries[orderId] = juryHash;
        emit JuryAppointed(orderId, order.caseId, juryHash, deadline);
    }

    /// @notice Anyone submits the jury's verdict before the deadline: the appointed jurors and
    /// options, each juror's signed and revealed vote, and the institution's `Decision` signature
    /// over the tally. The contract counts the votes itself: a verdict needs more than half the
    /// jury to have revealed and more than half of the revealed votes on the winning option,
    /// whose allocation then waits for the objection window like an award (docs/jury.md).
    /// @param jurors the appointed jury, in ascending address order; none a party
    /// @param options the allocation options fixed at the draw, three words each
    /// (toBuyer, toSeller, compensation)
    /// @param winner the option the majority chose (an index into `options`)
    /// @param votes four words per juror in the jurors' order: `salt`, the juror's ECDSA `r`, `s`
    /// and `v << 24 | choice << 16 | reasonCode` over `JuryVote` (v zero: absent)
    /// @param signature the institution's EIP-712 `Decision` (kind JuryVerdict) over the winning
    /// option with `decisionHash` the votes hash ({_countJury}; docs/eip712.md)
    function submitJuryVerdict(
        uint256 orderId,
        address[] calldata jurors,
        uint256[] calldata options,
        uint256 winner,
        bytes32[] calldata votes,
        bytes calldata signature
    ) external nonReentrant {
        Order storage order = _requireStatus(orderId, Status.JuryAppointed);
        _requireBefore(orderId, order.deadline);
        if (
            options.length == 0 || options.length % 3 != 0 || votes.length != 4 * jurors.length
                || keccak256(abi.encodePacked(jurors.length, jurors, options)) != _juries[orderId]
        ) revert ArbitrationEscrowJuryMismatch(orderId);
        bytes32 decisionHash = _countJury(orderId, order, jurors, options.length / 3, winner, votes);
        Allocation calldata allocation;
        assembly ("memory-safe") {
            // options[3w : 3w + 3] read as an Allocation (three static words in calldata)
            allocation := add(options.offset, mul(winner, 96))
        }
        _requireAwardAllocation(orderId, order, allocation);
        _submitDecision(orderId, order, DecisionKind.JuryVerdict, allocation, decisionHash, signature);
    }

    /// @notice Anyone submits the fast track's proposal of a disputed order (docs/jury.md "Fast
    /// track"): the mediator's rule-based pre-evaluation of a small claim, which binds unless a party
    /// objects (objectToAward) within `window` seconds, then executes with {executeAward}. The
    /// institution signs a `Decision` of kind FastTrack with
    /// `decisionHash = keccak256(abi.encode(reportHash, window))`, so the window is its own; it is
    /// never longer than the objection window (0 < window <= objection, else InvalidTimeouts).
    function submitFastTrack(
        uint256 orderId,
        Allocation calldata allocation,
        bytes32 reportHash,
        uint32 window,
        bytes calldata signature
    ) external nonReentrant {
        Order storage order = _requireStatus(orderId, Status.Disputed);
        _requireBefore(orderId, order.deadline);
        if (window == 0 || window > _objectionWindow) revert ArbitrationEscrowInvalidTimeouts();
        _requireAwardAllocation(orderId, order, allocation);
        _submitDecision(
            orderId, order, DecisionKind.FastTrack, allocation, keccak256(abi.encode(reportHash, window)), signature
        );
        uint48 deadline = _deadlineFromNow(window);
        if (deadline < order.deadline) order.deadline = deadline;
        emit FastTrackSubmitted(orderId, reportHash, order.deadline);
    }

    // ------------------------------------------------------------------------------------------
    // Return and refund
    // ------------------------------------------------------------------------------------------
    /// @notice Anyone submits the sole arbitrator's signed round-0 return-and-refund award before
    /// the award deadline. Like {submitAward} it opens the objection window; {executeAward} after
    /// it starts the return stage instead of paying out.
    /// @param refund paid once the goods are back (or deemed back)
    /// @param noReturn paid if the buyer misses the return window (the award's fallback)
    function submitReturnAward(
        uint256 orderId,
        Allocation calldata refund,
        Allocation calldata noReturn,
        bytes32 awardHash,
        bytes calldata signature
    ) external nonReentrant {
        Order storage order = _requireStatus(orderId, Status.ArbitratorAppointed);
        _requireBefore(orderId, order.deadline);
        _requireAwardAllocation(orderId, order, refund);
        _requireAwardAllocation(orderId, order, noReturn);
        bytes32 digest = hashReturnAward(orderId, order.caseId, refund, noReturn, awardHash);
        if (!SignatureChecker.isValidSignatureNow(order.arbitrator, digest, signature)) {
            revert ArbitrationEscrowInvalidSignature(orderId, order.arbitrator);
        }

        uint48 deadline = _deadlineFromNow(_objectionWindow);
        order.status = Status.AwardSubmitted;
        order.deadline = deadline;
        _awards[orderId] = PendingAward(refund, awardHash);
        emit AwardSubmitted(
            orderId, order.caseId, 0, refund.toBuyer, refund.toSeller, refund.compensation, awardHash, deadline
        );
        _recordReturn(orderId, order, noReturn);
    }

    /// @notice Anyone submits a return-and-refund settlement signed by both buyer and seller, in
    /// any dispute status before the return stage: the return stage starts at once (the buyer's
    /// return window opens), and ends as {submitReturnAward}'s does. Unlike {executeSettlement}
    /// it is paid when the stage ends, from a guarantee the seller may have drawn on meanwhile, so
    /// its compensations are capped like an award's (by the order's amount, the dispute's lock)
    /// and paid like an award's (up to the guarantee's balance then, the rest reported).
    /// @param refund paid once the goods are back (or deemed back)
    /// @param noReturn paid if the buyer misses the return window (the settlement's fallback)
    function submitReturnSettlement(
        uint256 orderId,
        Allocation calldata refund,
        Allocation calldata noReturn,
        bytes calldata buyerSignature,
        bytes calldata sellerSignature
    ) external nonReentrant {
        Order storage order = _orders[orderId];
        if (!_isFrozen(order.status) || _isReturn(order.status)) {
            revert ArbitrationEscrowInvalidStatus(orderId, order.status);
        }
        _requireAwardAllocation(orderId, order, refund);
        _requireAwardAllocation(orderId, order, noReturn);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(RETURN_SETTLEMENT_TYPEHASH, orderId, order.caseId, refund, noReturn))
        );
        _requirePartiesSigned(orderId, order, digest, buyerSignature, sellerSignature);

        // A disputed receipt puts the order back in dispute: the same signatures must not start
        // the return again (the parties may sign another return settlement).
        if (_returnSettlementsUsed[digest]) revert ArbitrationEscrowReturnSettlementUsed(orderId, digest);
        _returnSettlementsUsed[digest] = true;
        // The refund waits where a return award's does; the digest names the settlement.
        _awards[orderId] = PendingAward(refund, digest);
        emit ReturnSettlementAgreed(orderId, order.caseId, refund, digest);
        _recordReturn(orderId, order, noReturn);
        _requestReturn(orderId, order);
    }

    /// @notice The buyer records the return shipment (a salted commitment to its tracking record)
    /// before the return window closes; the receipt window opens.
    function recordReturnShipment(uint256 orderId, bytes32 tracking) external nonReentrant {
        Order storage order = _requireStatus(orderId, Status.ReturnPending);
        if (msg.sender != order.buyer) revert ArbitrationEscrowUnauthorizedCaller(orderId, msg.sender);
        _requireBefore(orderId, order.deadline);
        if (tracking == bytes32(0)) revert ArbitrationEscrowInvalidReturn(orderId);

        uint48 deadline = _deadlineFromNow(_returnReceiptTimeout);
        order.status = Status.ReturnShipped;
        order.deadline = deadline;
        emit ReturnShipped(orderId, order.caseId, tracking, deadline);
    }

    /// @notice The seller confirms the returned goods arrived, or the order's institution does on
    /// the carrier's origin-verified delivered event for the return shipment; the refund is paid.
    function confirmReturnReceived(uint256 orderId) external nonReentrant {
        Order storage order = _requireStatus(orderId, Status.ReturnShipped);
        if (msg.sender != order.seller) _requireInstitution(orderId, order);
        _resolveCapped(orderId, order, Resolution.ReturnReceived, _awards[orderId].allocation);
    }

    /// @notice The seller disputes the return's receipt before the receipt window closes (nothing
    /// arrived, or not the goods): the order is Disputed again and the institution appoints an
    /// arbitrator (the same or another) to decide the return; the return terms are dropped.
    function disputeReturnReceipt(uint256 orderId) external nonReentrant {
        Order storage order = _requireStatus(orderId, Status.ReturnShipped);
        if (msg.sender != order.seller) revert ArbitrationEscrowUnauthorizedCaller(orderId, msg.sender);
        _requireBefore(orderId, order.deadline);

        uint48 deadline = _deadlineFromNow(_appointmentTimeout);
        order.status = Status.Disputed;
        order.deadline = deadline;
        delete _awards[orderId];
        delete _returns[orderId];
        emit ReturnReceiptDisputed(orderId, order.caseId, deadline);
    }

    // ------------------------------------------------------------------------------------------
    // Advance refund (Trade Assurance)
    // ------------------------------------------------------------------------------------------
    /// @notice The order's institution pays the buyer an advance refund of `amount` from the
    /// seller's guarantee once the seller has missed the delivery deadline, while the order is
    /// in dispute. The advances of an order total at most its amount, and each at most what the
    /// guarantee holds. The escrowed amount repays them to the guarantee when the order is
    /// resolved: from the buyer's share first, then from the seller's ({AdvanceRepaid}), so an
    /// award in the seller's favour recovers the advance. Whether the order's terms allow an
    /// advance is the institution's to check (docs/contracts.md): the escrow does not read them.
    /// @param token the order's token, named again so that an amount meant in another unit is
    /// refused rather than paid
    function advanceRefund(uint256 orderId, address token, uint256 amount) external nonReentrant {
        Order storage order = _orders[orderId];
        if (!_isFrozen(order.status)) revert ArbitrationEscrowInvalidStatus(orderId, order.status);
        _requireInstitution(orderId, order);
        if (block.timestamp < order.deliveryDeadline) {
            revert ArbitrationEscrowTooEarly(orderId, order.deliveryDeadline);
        }
        if (token != order.token) revert ArbitrationEscrowInvalidToken(token);
        if (amount == 0) revert ArbitrationEscrowZeroAmount();
        Guarantee storage guarantee = _guarantees[order.seller][token];
        uint256 advanced = _advanced[orderId];
        uint256 cap = order.amount - advanced;
        if (guarantee.balance < cap) cap = guarantee.balance;
        if (amount > cap) revert ArbitrationEscrowAdvanceAboveCap(orderId, cap, amount);

        guarantee.balance -= amount;
        _advanced[orderId] = advanced + amount;
        emit AdvanceRefunded(orderId, order.caseId, amount, advanced + amount);
        _payOrCredit(token, order.buyer, amount);
    }

    // ------------------------------------------------------------------------------------------
    // Institution key rotation
    // ------------------------------------------------------------------------------------------
    /// @notice The calling institution hands its role, and every open order that names it or a
    /// key it succeeded, over to `successor` (a fresh key). Signed by the old key itself (it is
    /// the sender), so no one else can redirect an institution's orders; the admin can still
    /// revoke the successor's role like any institution's.
    function rotateInstitutionKey(address successor) external nonReentrant {
        if (!hasRole(INSTITUTION_ROLE, msg.sender) || _successors[msg.sender] != address(0)) {
            revert ArbitrationEscrowUnauthorizedCaller(0, msg.sender);
        }
        if (
            successor == address(0) || successor == msg.sender || hasRole(INSTITUTION_ROLE, successor)
                || _successors[successor] != address(0)
        ) revert ArbitrationEscrowInvalidSuccessor(successor);
        _successors[msg.sender] = successor;
        _revokeRole(INSTITUTION_ROLE, msg.sender);
        _grantRole(INSTITUTION_ROLE, successor);
        emit InstitutionKeyRotated(msg.sender, successor);
    }

    // ------------------------------------------------------------------------------------------
    // The jury's count
    // ------------------------------------------------------------------------------------------

    /// @dev Checks every juror and vote and counts the votes for `winner`: jurors strictly
    /// ascending (distinct) and not parties; each present vote a valid option signed by its
    /// juror. A verdict needs more than half the jury revealed and more than half of the revealed
    /// votes for `winner`. Returns the votes hash the institution signs as the decision hash:
    /// `h = 0; h = keccak256(abi.encode(h, commitment_i))` over the jury in order, a zero
    /// commitment for an absent juror (evidence/jury.py `votes_hash`).
    function _countJury(
        uint256 orderId,
        Order storage order,
        address[] calldata jurors,
        uint256 optionCount,
        uint256 winner,
        bytes32[] calldata votes
    ) private view returns (bytes32 votesHash) {
        uint256 revealed = 0;
        uint256 majority = 0;
        for (uint256 i = 0; i < jurors.length; ++i) {
            (bytes32 commitment, uint256 choice) = _jurorVote(orderId, order, jurors, i, votes[4 * i:4 * i + 4]);
            votesHash = keccak256(abi.encode(votesHash, commitment));
            if (commitment == bytes32(0)) continue; // absent
            if (choice >= optionCount) revert ArbitrationEscrowJuryMismatch(orderId);
            ++revealed;
            if (choice == winner) ++majority;
        }
        if (2 * revealed <= jurors.length || 2 * majority <= revealed) {
            revert ArbitrationEscrowNoJuryMajority(orderId, revealed, majority);
        }
    }

    /// @dev Juror `i` (ascending after the one before, not a party) and its vote (four words, see
    /// {submitJuryVerdict}): the commitment, i.e. the `JuryVote` struct hash the juror signed,
    /// and the choice; a zero commitment when absent.
    function _jurorVote(
        uint256 orderId,
        Order storage order,
        address[] calldata jurors,
        uint256 i,
        bytes32[] calldata vote
    ) private view returns (bytes32 commitment, uint256 choice) {
        address juror = jurors[i];
        if (i > 0 && juror <= jurors[i - 1]) revert ArbitrationEscrowInvalidNeutral(orderId, juror);
        _requireNeutral(orderId, order, juror);
        uint256 packed = uint256(vote[3]);
        if (packed >> 24 == 0) return (bytes32(0), 0);
        choice = uint8(packed >> 16);
        commitment = keccak256(abi.encode(JURY_VOTE_TYPEHASH, order.caseId, juror, choice, uint16(packed), vote[0]));
        (address signer, ECDSA.RecoverError error,) =
            ECDSA.tryRecover(_hashTypedDataV4(commitment), uint8(packed >> 24), vote[1], vote[2]);
        if (error != ECDSA.RecoverError.NoError || signer != juror) {
            revert ArbitrationEscrowInvalidSignature(orderId, juror);
        }
    }
}
