// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IArbitrationEscrow} from "./interfaces/IArbitrationEscrow.sol";

/// @title ArbitrationEscrow
/// @notice Holds a buyer's payment for an order and pays it out on confirmation, after the
/// delivery deadline, or as a settlement or arbitral award decides. Sellers may deposit a
/// guarantee per token from which awards pay extra compensation to buyers.
/// @dev Rules of this file:
///  1. Every order or funds function is `nonReentrant` (roles: AccessControl's own), checks in order
///     (status, caller, time, arguments, signatures), writes all state, emits, and only then
///     transfers.
///  2. Outgoing payouts never revert the resolution: a receiver or token that refuses a payout
///     gets the amount credited to a withdrawable balance instead ({PayoutDeferred}).
///  3. Incoming transfers must arrive in full: fee-on-transfer tokens are refused at pay/deposit.
///  4. Every waiting status has a stored deadline; once it passes anyone can move the order on.
///  5. A signature is bound to (chain, this contract, orderId, caseId, allocation, round) and the
///     status change it causes makes it unusable again.
/// Theory: see docs/contracts.md for the state table, timeouts and token policy.
contract ArbitrationEscrow is IArbitrationEscrow, AccessControl, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Holders may be named as an order's institution, which appoints its neutrals.
    bytes32 public constant INSTITUTION_ROLE = keccak256("INSTITUTION_ROLE");

    /// @notice EIP-712 type of an allocation agreed by buyer and seller (docs/eip712.md).
    bytes32 public constant SETTLEMENT_TYPEHASH = keccak256(
        "Settlement(uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,uint256 compensation)"
    );

    /// @notice EIP-712 type of an award: round 0 by the sole arbitrator, round 1 by the panel.
    bytes32 public constant AWARD_TYPEHASH = keccak256(
        "Award(uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,uint256 compensation,bytes32 awardHash,uint8 round)"
    );

    /// @notice EIP-712 type of a decision the order's institution signs: a jury's verdict or a
    /// fast-track proposal (`kind`), executed after the objection window (docs/eip712.md).
    bytes32 public constant DECISION_TYPEHASH = keccak256(
        "Decision(uint256 orderId,bytes32 caseId,uint8 kind,uint256 toBuyer,uint256 toSeller,uint256 compensation,bytes32 decisionHash)"
    );

    /// @notice EIP-712 type of a juror's hidden vote; its struct hash is the vote's commitment
    /// (evidence/jury.py `vote_commitment`), the juror's signature of it the vote.
    bytes32 public constant JURY_VOTE_TYPEHASH =
        keccak256("JuryVote(bytes32 caseId,address juror,uint8 choice,uint16 reasonCode,bytes32 salt)");

    /// @notice EIP-712 type of a return-and-refund award: `refund` (toBuyer, toSeller,
    /// compensation) is paid once the goods are back, the `noReturn*` allocation if the buyer does
    /// not ship them back within the return window. Round 0 only (sole arbitrator).
    bytes32 public constant RETURN_AWARD_TYPEHASH = keccak256(
        "ReturnAward(uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,uint256 compensation,uint256 noReturnToBuyer,uint256 noReturnToSeller,uint256 noReturnCompensation,bytes32 awardHash,uint8 round)"
    );

    /// @notice Gas forwarded with an ETH payout. Enough for a smart wallet's receive hook; a
    /// receiver that needs more (or reverts) is credited and withdraws with {withdraw}.
    uint256 public constant ETH_PAYOUT_GAS = 60_000;

    uint32 private immutable _maxDeliveryPeriod;
    uint32 private immutable _releaseGrace;
    uint32 private immutable _appointmentTimeout;
    uint32 private immutable _awardTimeout;
    uint32 private immutable _objectionWindow;
    uint32 private immutable _panelAppointmentTimeout;
    uint32 private immutable _panelAwardTimeout;
    uint32 private immutable _returnShipmentTimeout;
    uint32 private immutable _returnReceiptTimeout;

    uint256 private _orderCount;
    mapping(uint256 orderId => Order) private _orders;
    mapping(uint256 orderId => PendingAward) private _awards;
    mapping(uint256 orderId => address[3]) private _panels;
    mapping(address seller => mapping(address token => Guarantee)) private _guarantees;
    mapping(address account => mapping(address token => uint256)) private _owed;
    mapping(address institution => address successor) private _successors;
    mapping(bytes32 contractHash => uint256 orderId) private _contractOrders;
    mapping(uint256 orderId => bytes32 juryHash) private _juries;
    mapping(uint256 orderId => DecisionKind) private _decisionKinds;
    mapping(uint256 orderId => bool) private _objectionSpent;
    mapping(uint256 orderId => Allocation noReturn) private _returns;
    mapping(uint256 orderId => uint256 amount) private _advanced;

    /// @param admin receives DEFAULT_ADMIN_ROLE (grants and revokes INSTITUTION_ROLE)
    /// @param timeouts_ durations of every waiting state, fixed for the life of this deployment so
    /// that no open order's deadlines can change under it
    constructor(address admin, Timeouts memory timeouts_) EIP712("chainarb", "1") {
        if (
            timeouts_.maxDeliveryPeriod == 0 || timeouts_.releaseGrace == 0 || timeouts_.appointment == 0
                || timeouts_.award == 0 || timeouts_.objection == 0 || timeouts_.panelAppointment == 0
                || timeouts_.panelAward == 0 || timeouts_.returnShipment == 0 || timeouts_.returnReceipt == 0
        ) revert ArbitrationEscrowInvalidTimeouts();
        _maxDeliveryPeriod = timeouts_.maxDeliveryPeriod;
        _releaseGrace = timeouts_.releaseGrace;
        _appointmentTimeout = timeouts_.appointment;
        _awardTimeout = timeouts_.award;
        _objectionWindow = timeouts_.objection;
        _panelAppointmentTimeout = timeouts_.panelAppointment;
        _panelAwardTimeout = timeouts_.panelAward;
        _returnShipmentTimeout = timeouts_.returnShipment;
        _returnReceiptTimeout = timeouts_.returnReceipt;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        emit TimeoutsConfigured(timeouts_);
    }

    // ------------------------------------------------------------------------------------------
    // Orders
    // ------------------------------------------------------------------------------------------

    /// @notice Opens an order and escrows its amount (ETH with msg.value, or a token that the
    /// caller approved). The caller is the buyer.
    /// @param seller who is paid on release
    /// @param token ERC-20 address, or address(0) for ETH
    /// @param amount escrowed amount in the token's smallest unit
    /// @param deliveryDeadline unix time by which the seller should deliver; a dispute can be
    /// raised until `deliveryDeadline + releaseGrace`, then anyone may release to the seller
    /// @param institution holder of INSTITUTION_ROLE that appoints the neutrals of a dispute
    /// @param rulesHash hash of the arbitration rules the parties agree to (informational)
    /// @return orderId the new order's id (sequential from 1)
    function openOrder(
        address seller,
        address token,
        uint256 amount,
        uint48 deliveryDeadline,
        address institution,
        bytes32 rulesHash
    ) external payable nonReentrant returns (uint256 orderId) {
        orderId = _open(seller, token, amount, deliveryDeadline, institution, rulesHash);
        _pullExact(token, amount, msg.value);
    }

    /// @notice Opens an order like {openOrder} under a contract of sale both parties signed
    /// off-chain (EIP-712 `ContractOfSale` under this contract's domain, docs/contract-of-sale.md)
    /// and binds its digest to the order: `getOrder(id).contractHash`, {orderOfContract} and
    /// {ContractOfSaleBound}. The escrow does not read the contract's terms: the service checks
    /// that the order's seller, token, amount, deadline and institution are the contract's and
    /// that buyer and seller signed it, before it lets the order's case rely on the contract.
    /// What the escrow guarantees is that one signed contract escrows one order only.
    /// @param contractHash the signed contract's EIP-712 digest (its record hash); not zero
    /// @return orderId the new order's id
    function openOrderWithContract(
        address seller,
        address token,
        uint256 amount,
        uint48 deliveryDeadline,
        address institution,
        bytes32 rulesHash,
        bytes32 contractHash
    ) external payable nonReentrant returns (uint256 orderId) {
        if (contractHash == bytes32(0)) revert ArbitrationEscrowInvalidContractHash();
        uint256 bound = _contractOrders[contractHash];
        if (bound != 0) revert ArbitrationEscrowContractAlreadyBound(contractHash, bound);
        orderId = _open(seller, token, amount, deliveryDeadline, institution, rulesHash);
        _orders[orderId].contractHash = contractHash;
        _contractOrders[contractHash] = orderId;
        emit ContractOfSaleBound(orderId, contractHash);
        _pullExact(token, amount, msg.value);
    }

    /// @notice The buyer releases the escrowed amount to the seller.
    function confirmDelivery(uint256 orderId) external nonReentrant {
        Order storage order = _requireStatus(orderId, Status.Paid);
        if (msg.sender != order.buyer) revert ArbitrationEscrowUnauthorizedCaller(orderId, msg.sender);
        _resolve(orderId, order, Resolution.DeliveryConfirmed, Allocation(0, order.amount, 0));
    }

    /// @notice Anyone releases the escrowed amount to the seller once the delivery deadline plus
    /// the grace period has passed without a dispute.
    function releaseAfterDeadline(uint256 orderId) external nonReentrant {
        Order storage order = _requireStatus(orderId, Status.Paid);
        uint256 releasableAt = uint256(order.deliveryDeadline) + _releaseGrace;
        if (block.timestamp < releasableAt) revert ArbitrationEscrowTooEarly(orderId, releasableAt);
        _resolve(orderId, order, Resolution.ReleasedAfterDeadline, Allocation(0, order.amount, 0));
    }

    /// @notice The seller gives the full amount back to the buyer, before or during a dispute.
    function refundBySeller(uint256 orderId) external nonReentrant {
        Order storage order = _orders[orderId];
        if (order.status == Status.None || order.status == Status.Resolved) {
            revert ArbitrationEscrowInvalidStatus(orderId, order.status);
        }
        if (msg.sender != order.seller) revert ArbitrationEscrowUnauthorizedCaller(orderId, msg.sender);
        _resolve(orderId, order, Resolution.RefundedBySeller, Allocation(order.amount, 0, 0));
    }

    // ------------------------------------------------------------------------------------------
    // Dispute, appointment, award, objection
    // ------------------------------------------------------------------------------------------

    /// @notice Buyer or seller freezes the order under `caseId` before it can be released. Locks
    /// `amount` of the seller's guarantee in the order's token against withdrawal.
    function raiseDispute(uint256 orderId, bytes32 caseId) external nonReentrant {
        Order storage order = _requireStatus(orderId, Status.Paid);
        if (msg.sender != order.buyer && msg.sender != order.seller) {
            revert ArbitrationEscrowUnauthorizedCaller(orderId, msg.sender);
        }
        uint256 closesAt = uint256(order.deliveryDeadline) + _releaseGrace;
        if (block.timestamp >= closesAt) revert ArbitrationEscrowTooLate(orderId, closesAt);
        if (caseId == bytes32(0)) revert ArbitrationEscrowInvalidCaseId();

        uint48 deadline = _deadlineFromNow(_appointmentTimeout);
        order.status = Status.Disputed;
        order.caseId = caseId;
        order.deadline = deadline;
        _guarantees[order.seller][order.token].locked += order.amount;
        emit DisputeRaised(orderId, caseId, msg.sender, deadline);
    }

    /// @notice The order's institution appoints the sole arbitrator before the appointment
    /// deadline; also while a jury sits (its draw failed, or it reached no majority: the sole
    /// arbitrator is the jury track's fallback).
    function appointArbitrator(uint256 orderId, address arbitrator) external nonReentrant {
        Status from = _orders[orderId].status == Status.JuryAppointed ? Status.JuryAppointed : Status.Disputed;
        Order storage order = _requireStatus(orderId, from);
        _requireInstitution(orderId, order);
        _requireBefore(orderId, order.deadline);
        _requireNeutral(orderId, order, arbitrator);

        uint48 deadline = _deadlineFromNow(_awardTimeout);
        order.status = Status.ArbitratorAppointed;
        order.arbitrator = arbitrator;
        order.deadline = deadline;
        emit ArbitratorAppointed(orderId, order.caseId, arbitrator, deadline);
    }

    /// @notice Anyone submits the sole arbitrator's signed round-0 award before the award
    /// deadline; it opens the objection window and executes with {executeAward} after it.
    /// @param signature the arbitrator's EIP-712 `Award` signature (ECDSA or EIP-1271)
    function submitAward(uint256 orderId, Allocation calldata allocation, bytes32 awardHash, bytes calldata signature)
        external
        nonReentrant
    {
        Order storage order = _requireStatus(orderId, Status.ArbitratorAppointed);
        _requireBefore(orderId, order.deadline);
        _requireAwardAllocation(orderId, order, allocation);
        bytes32 digest = hashAward(orderId, order.caseId, allocation, awardHash, 0);
        if (!SignatureChecker.isValidSignatureNow(order.arbitrator, digest, signature)) {
            revert ArbitrationEscrowInvalidSignature(orderId, order.arbitrator);
        }

        uint48 deadline = _objectionDeadline(orderId);
        order.status = Status.AwardSubmitted;
        order.deadline = deadline;
        _awards[orderId] = PendingAward(allocation, awardHash);
        emit AwardSubmitted(
            orderId,
            order.caseId,
            0,
            allocation.toBuyer,
            allocation.toSeller,
            allocation.compensation,
            awardHash,
            deadline
        );
    }

    /// @notice Buyer or seller objects, within the objection window, to the round-0 award (the
    /// order waits for the panel: the panel's award that follows is final) or to a pending
    /// decision (the order is Disputed again and waits for the sole arbitrator, whose award is
    /// then final). A party objects once per order.
    function objectToAward(uint256 orderId) external nonReentrant {
        Order storage order = _orders[orderId];
        bool decision = order.status == Status.DecisionPending;
        if (!decision) _requireStatus(orderId, Status.AwardSubmitted);
        if (msg.sender != order.buyer && msg.sender != order.seller) {
            revert ArbitrationEscrowUnauthorizedCaller(orderId, msg.sender);
        }
        _requireBefore(orderId, order.deadline);

        if (decision) {
            uint48 reopened = _deadlineFromNow(_appointmentTimeout);
            order.status = Status.Disputed;
            order.deadline = reopened;
            _objectionSpent[orderId] = true;
            delete _awards[orderId];
            emit DecisionObjected(orderId, order.caseId, msg.sender, reopened);
            return;
        }
        uint48 deadline = _deadlineFromNow(_panelAppointmentTimeout);
        order.status = Status.Objected;
        order.deadline = deadline;
        delete _awards[orderId];
        // A return award's fallback stays behind unread: an objected order never reaches
        // executeAward again (the panel's award is final), and deleting it costs every
        // objection ~6,700 gas.
        emit AwardObjected(orderId, order.caseId, msg.sender, deadline);
    }

    /// @notice Anyone executes the round-0 award, or the pending decision, once its objection
    /// window has passed. Pays the awarded compensation from the seller's guarantee up to its
    /// balance; the rest is reported as `compensationShortfall` in {OrderResolved}.
    function executeAward(uint256 orderId) external nonReentrant {
        Order storage order = _orders[orderId];
        Resolution resolution = Resolution.AwardExecuted;
        if (order.status == Status.DecisionPending) {
            resolution = _decisionKinds[orderId] == DecisionKind.JuryVerdict
                ? Resolution.JuryVerdictExecuted
                : Resolution.FastTrackExecuted;
        } else {
            _requireStatus(orderId, Status.AwardSubmitted);
        }
        if (block.timestamp < order.deadline) revert ArbitrationEscrowTooEarly(orderId, order.deadline);
        if (_hasReturn(orderId)) return _requestReturn(orderId, order);
        _resolveCapped(orderId, order, resolution, _awards[orderId].allocation);
    }

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
    // Settlement and timeouts
    // ------------------------------------------------------------------------------------------

    /// @notice Anyone submits an allocation signed by both buyer and seller for the order's case;
    /// it executes at once, in any dispute status. Its compensation must be covered by the
    /// seller's guarantee balance (a settlement is never paid short).
    function executeSettlement(
        uint256 orderId,
        Allocation calldata allocation,
        bytes calldata buyerSignature,
        bytes calldata sellerSignature
    ) external nonReentrant {
        Order storage order = _orders[orderId];
        if (!_isFrozen(order.status)) revert ArbitrationEscrowInvalidStatus(orderId, order.status);
        _requireSum(orderId, order, allocation);
        uint256 available = _available(orderId, order);
        if (allocation.compensation > available) {
            revert ArbitrationEscrowInsufficientGuarantee(order.seller, order.token, available, allocation.compensation);
        }
        bytes32 digest = hashSettlement(orderId, order.caseId, allocation);
        if (!SignatureChecker.isValidSignatureNow(order.buyer, digest, buyerSignature)) {
            revert ArbitrationEscrowInvalidSignature(orderId, order.buyer);
        }
        if (!SignatureChecker.isValidSignatureNow(order.seller, digest, sellerSignature)) {
            revert ArbitrationEscrowInvalidSignature(orderId, order.seller);
        }
        _resolve(orderId, order, Resolution.Settled, allocation);
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

    /// @notice Anyone refunds the buyer in full when a neutral's appointment or award is overdue:
    /// the institution or tribunal failed to act, so the funds go back to where they came from and
    /// the dispute continues outside the escrow (e.g. in court).
    function resolveByTimeout(uint256 orderId) external nonReentrant {
        Order storage order = _orders[orderId];
        Status status = order.status;
        Resolution resolution = Resolution.None;
        Allocation memory allocation = Allocation(order.amount, 0, 0);
        if (status == Status.Disputed) resolution = Resolution.TimeoutNoArbitrator;
        else if (status == Status.ArbitratorAppointed) resolution = Resolution.TimeoutNoAward;
        else if (status == Status.Objected) resolution = Resolution.TimeoutNoPanel;
        else if (status == Status.PanelAppointed) resolution = Resolution.TimeoutNoPanelAward;
        else if (status == Status.JuryAppointed) resolution = Resolution.TimeoutNoJuryVerdict;
        // The return stage ends as its decision said: the refund once the goods are deemed back,
        // the no-return allocation when the buyer never shipped them.
        else if (status == Status.ReturnShipped) (resolution, allocation) = (Resolution.ReturnDeemedReceived, _awards[orderId].allocation);
        else if (status == Status.ReturnPending) (resolution, allocation) = (Resolution.ReturnNotShipped, _returns[orderId]);
        else revert ArbitrationEscrowInvalidStatus(orderId, status);
        if (block.timestamp < order.deadline) revert ArbitrationEscrowTooEarly(orderId, order.deadline);
        _resolveCapped(orderId, order, resolution, allocation);
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
    // Guarantees and withdrawals
    // ------------------------------------------------------------------------------------------

    /// @notice The caller (a seller) adds `amount` of `token` (address(0): ETH via msg.value) to
    /// their guarantee deposit.
    function depositGuarantee(address token, uint256 amount) external payable nonReentrant {
        if (token != address(0) && token.code.length == 0) revert ArbitrationEscrowInvalidToken(token);
        if (amount == 0) revert ArbitrationEscrowZeroAmount();
        _guarantees[msg.sender][token].balance += amount;
        emit GuaranteeDeposited(msg.sender, token, amount);
        _pullExact(token, amount, msg.value);
    }

    /// @notice The caller takes back guarantee that no open dispute locks: at most
    /// `balance - locked` (zero when the locks exceed the balance).
    function withdrawGuarantee(address token, uint256 amount) external nonReentrant {
        if (amount == 0) revert ArbitrationEscrowZeroAmount();
        Guarantee storage guarantee = _guarantees[msg.sender][token];
        uint256 free = _withdrawable(guarantee);
        if (amount > free) revert ArbitrationEscrowGuaranteeLocked(msg.sender, token, free, amount);
        guarantee.balance -= amount;
        emit GuaranteeWithdrawn(msg.sender, token, amount);
        _sendOrRevert(token, msg.sender, amount);
    }

    /// @notice The caller withdraws everything credited to it in `token` by deferred payouts.
    function withdraw(address token) external nonReentrant {
        uint256 amount = _owed[msg.sender][token];
        if (amount == 0) revert ArbitrationEscrowNothingToWithdraw(msg.sender, token);
        _owed[msg.sender][token] = 0;
        emit Withdrawn(msg.sender, token, amount);
        _sendOrRevert(token, msg.sender, amount);
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /// @notice The order `orderId` (all zero with status None when it does not exist).
    function getOrder(uint256 orderId) external view returns (Order memory) {
        return _orders[orderId];
    }

    /// @notice The order that the contract of sale `contractHash` binds (0 when none).
    function orderOfContract(bytes32 contractHash) external view returns (uint256) {
        return _contractOrders[contractHash];
    }

    /// @notice What advance refunds paid the buyer of `orderId` from the seller's guarantee.
    function advancedOf(uint256 orderId) external view returns (uint256) {
        return _advanced[orderId];
    }

    /// @notice Number of orders opened so far (ids are 1..orderCount).
    function orderCount() external view returns (uint256) {
        return _orderCount;
    }

    /// @notice The round-0 award waiting for its objection window; for a return-and-refund award,
    /// also through the return stage (its allocation is the refund). Zero when none.
    function pendingAward(uint256 orderId) external view returns (PendingAward memory) {
        return _awards[orderId];
    }

    /// @notice The panel appointed after an objection (zero addresses when none).
    function panelOf(uint256 orderId) external view returns (address[3] memory) {
        return _panels[orderId];
    }

    /// @notice A seller's guarantee in `token`: balance and the part open disputes lock.
    function guaranteeOf(address seller, address token) external view returns (Guarantee memory) {
        return _guarantees[seller][token];
    }

    /// @notice How much of a seller's guarantee in `token` can be withdrawn now.
    function withdrawableGuarantee(address seller, address token) external view returns (uint256) {
        return _withdrawable(_guarantees[seller][token]);
    }

    /// @notice What deferred payouts credited to `account` in `token`.
    function owedTo(address account, address token) external view returns (uint256) {
        return _owed[account][token];
    }

    /// @notice The key that acts today for orders naming `institution`: `institution` itself, or
    /// the last key of the rotations that started from it.
    function institutionOf(address institution) public view returns (address current) {
        current = institution;
        // Ends: a successor never had a successor when it was named, and a key gets one once.
        for (address next = _successors[current]; next != address(0); next = _successors[current]) {
            current = next;
        }
    }

    /// @notice The key `institution` rotated to (zero when it did not rotate).
    function successorOf(address institution) external view returns (address) {
        return _successors[institution];
    }

    /// @notice The durations fixed at deployment.
    function timeouts() external view returns (Timeouts memory) {
        return Timeouts(
            _maxDeliveryPeriod,
            _releaseGrace,
            _appointmentTimeout,
            _awardTimeout,
            _objectionWindow,
            _panelAppointmentTimeout,
            _panelAwardTimeout,
            _returnShipmentTimeout,
            _returnReceiptTimeout
        );
    }

    /// @notice EIP-712 digest of a `Settlement` under this contract's domain.
    function hashSettlement(uint256 orderId, bytes32 caseId, Allocation calldata allocation)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    SETTLEMENT_TYPEHASH,
                    orderId,
                    caseId,
                    allocation.toBuyer,
                    allocation.toSeller,
                    allocation.compensation
                )
            )
        );
    }

    /// @notice EIP-712 digest of an `Award` under this contract's domain.
    function hashAward(uint256 orderId, bytes32 caseId, Allocation calldata allocation, bytes32 awardHash, uint8 round)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    AWARD_TYPEHASH,
                    orderId,
                    caseId,
                    allocation.toBuyer,
                    allocation.toSeller,
                    allocation.compensation,
                    awardHash,
                    round
                )
            )
        );
    }

    /// @dev EIP-712 digest of a `Decision` under this contract's domain (docs/eip712.md; not
    /// public: bytecode is scarce, and any EIP-712 library computes it).
    function hashDecision(
        uint256 orderId,
        bytes32 caseId,
        DecisionKind kind,
        Allocation calldata allocation,
        bytes32 decisionHash
    ) internal view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    DECISION_TYPEHASH,
                    orderId,
                    caseId,
                    kind,
                    allocation.toBuyer,
                    allocation.toSeller,
                    allocation.compensation,
                    decisionHash
                )
            )
        );
    }

    /// @dev EIP-712 digest of a `ReturnAward` (round 0) under this contract's domain.
    function hashReturnAward(
        uint256 orderId,
        bytes32 caseId,
        Allocation calldata refund,
        Allocation calldata noReturn,
        bytes32 awardHash
    ) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(RETURN_AWARD_TYPEHASH, orderId, caseId, refund, noReturn, awardHash, uint8(0)))
        );
    }

    // ------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------

    /// @dev The checks and effects of opening an order (status Paid, {OrderOpened}); the caller
    /// pulls the funds last.
    function _open(
        address seller,
        address token,
        uint256 amount,
        uint48 deliveryDeadline,
        address institution,
        bytes32 rulesHash
    ) private returns (uint256 orderId) {
        if (seller == address(0) || seller == msg.sender) revert ArbitrationEscrowInvalidSeller(seller);
        if (token != address(0) && token.code.length == 0) revert ArbitrationEscrowInvalidToken(token);
        if (amount == 0) revert ArbitrationEscrowZeroAmount();
        uint256 latest = block.timestamp + _maxDeliveryPeriod;
        if (deliveryDeadline <= block.timestamp || deliveryDeadline > latest) {
            revert ArbitrationEscrowInvalidDeliveryDeadline(deliveryDeadline, latest);
        }
        if (!hasRole(INSTITUTION_ROLE, institution) || _successors[institution] != address(0)) {
            revert ArbitrationEscrowUnknownInstitution(institution);
        }

        orderId = ++_orderCount;
        // Written field by field through the mapping: a struct literal would also store the zero
        // fields (arbitrator, caseId, contractHash) and cost more cold slots (~5,000 gas each).
        _orders[orderId].buyer = msg.sender;
        _orders[orderId].deliveryDeadline = deliveryDeadline;
        _orders[orderId].status = Status.Paid;
        _orders[orderId].seller = seller;
        _orders[orderId].token = token;
        _orders[orderId].institution = institution;
        _orders[orderId].amount = amount;
        _orders[orderId].rulesHash = rulesHash;
        emit OrderOpened(orderId, msg.sender, seller, token, amount, deliveryDeadline, institution, rulesHash);
    }

    function _requireStatus(uint256 orderId, Status expected) private view returns (Order storage order) {
        order = _orders[orderId];
        if (order.status != expected) revert ArbitrationEscrowInvalidStatus(orderId, order.status);
    }

    function _requireInstitution(uint256 orderId, Order storage order) private view {
        // The role is checked again so that revoking a rogue institution stops its appointments.
        // A rotated institution acts through its current key (the old one holds no role).
        if (msg.sender != institutionOf(order.institution) || !hasRole(INSTITUTION_ROLE, msg.sender)) {
            revert ArbitrationEscrowUnauthorizedCaller(orderId, msg.sender);
        }
    }

    function _requireBefore(uint256 orderId, uint48 deadline) private view {
        if (block.timestamp >= deadline) revert ArbitrationEscrowTooLate(orderId, deadline);
    }

    function _requireNeutral(uint256 orderId, Order storage order, address neutral) private view {
        if (neutral == address(0) || neutral == order.buyer || neutral == order.seller) {
            revert ArbitrationEscrowInvalidNeutral(orderId, neutral);
        }
    }

    function _requireSum(uint256 orderId, Order storage order, Allocation calldata allocation) private view {
        // Checked addition: an overflowing allocation reverts with a panic rather than wrapping.
        uint256 allocated = allocation.toBuyer + allocation.toSeller;
        if (allocated != order.amount) revert ArbitrationEscrowAllocationMismatch(orderId, order.amount, allocated);
    }

    function _requireAwardAllocation(uint256 orderId, Order storage order, Allocation calldata allocation)
        private
        view
    {
        _requireSum(orderId, order, allocation);
        // An award's compensation is capped by the order's amount: the lock a dispute places on the
        // seller's guarantee. A seller can agree to more in a settlement.
        if (allocation.compensation > order.amount) {
            revert ArbitrationEscrowCompensationAboveCap(orderId, order.amount, allocation.compensation);
        }
    }

    /// @dev Every status between a dispute and its resolution (the guarantee is locked).
    function _isFrozen(Status status) private pure returns (bool) {
        return status != Status.None && status != Status.Paid && status != Status.Resolved;
    }

    /// @dev End of the objection window a decision or round-0 award opens now: none (now) once a
    /// party objected to a decision of the order, whose next decision is final.
    function _objectionDeadline(uint256 orderId) private view returns (uint48) {
        return _objectionSpent[orderId] ? uint48(block.timestamp) : _deadlineFromNow(_objectionWindow);
    }

    /// @dev The shared decision path (jury verdict, fast track): the order's institution (its
    /// current key, still holding the role) signed it; the objection window starts.
    function _submitDecision(
        uint256 orderId,
        Order storage order,
        DecisionKind kind,
        Allocation calldata allocation,
        bytes32 decisionHash,
        bytes calldata signature
    ) private {
        address institution = institutionOf(order.institution);
        bytes32 digest = hashDecision(orderId, order.caseId, kind, allocation, decisionHash);
        if (
            !hasRole(INSTITUTION_ROLE, institution)
                || !SignatureChecker.isValidSignatureNow(institution, digest, signature)
        ) revert ArbitrationEscrowInvalidSignature(orderId, institution);

        uint48 deadline = _objectionDeadline(orderId);
        order.status = Status.DecisionPending;
        order.deadline = deadline;
        _awards[orderId] = PendingAward(allocation, decisionHash);
        _decisionKinds[orderId] = kind;
        emit DecisionSubmitted(
            orderId,
            order.caseId,
            kind,
            allocation.toBuyer,
            allocation.toSeller,
            allocation.compensation,
            decisionHash,
            deadline
        );
    }

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

    function _isReturn(Status status) private pure returns (bool) {
        return status == Status.ReturnPending || status == Status.ReturnShipped;
    }

    /// @dev Stores a return award's fallback (its refund is the pending award).
    function _recordReturn(uint256 orderId, Order storage order, Allocation calldata noReturn) private {
        _returns[orderId] = noReturn;
        emit ReturnTermsRecorded(orderId, order.caseId, noReturn);
    }

    /// @dev Starts the return stage: the buyer's return window opens now.
    function _requestReturn(uint256 orderId, Order storage order) private {
        uint48 deadline = _deadlineFromNow(_returnShipmentTimeout);
        order.status = Status.ReturnPending;
        order.deadline = deadline;
        emit ReturnRequested(orderId, order.caseId, deadline);
    }

    /// @dev Whether the pending round-0 award is a return-and-refund award (its no-return
    /// allocation sums to the order's amount, which is never zero).
    function _hasReturn(uint256 orderId) private view returns (bool) {
        Allocation storage noReturn = _returns[orderId];
        return noReturn.toBuyer != 0 || noReturn.toSeller != 0;
    }

    function _deadlineFromNow(uint32 duration) private view returns (uint48) {
        return uint48(block.timestamp + duration);
    }

    function _withdrawable(Guarantee storage guarantee) private view returns (uint256) {
        uint256 balance = guarantee.balance;
        uint256 locked = guarantee.locked;
        return balance > locked ? balance - locked : 0;
    }

    /// @dev What the seller's guarantee can pay as this order's compensation: its balance plus
    /// the order's advances, which the resolution repays to it first.
    function _available(uint256 orderId, Order storage order) private view returns (uint256) {
        return _guarantees[order.seller][order.token].balance + _advanced[orderId];
    }

    /// @dev Awards pay what the guarantee holds, up to the awarded compensation.
    function _resolveCapped(uint256 orderId, Order storage order, Resolution resolution, Allocation memory allocation)
        private
    {
        uint256 available = _available(orderId, order);
        uint256 awarded = allocation.compensation;
        uint256 paid = awarded < available ? awarded : available;
        allocation.compensation = paid;
        _finish(orderId, order, resolution, allocation, awarded - paid);
    }

    /// @dev Settlements and refunds: compensation (if any) was checked against the balance.
    function _resolve(uint256 orderId, Order storage order, Resolution resolution, Allocation memory allocation)
        private
    {
        _finish(orderId, order, resolution, allocation, 0);
    }

    function _finish(
        uint256 orderId,
        Order storage order,
        Resolution resolution,
        Allocation memory allocation,
        uint256 shortfall
    ) private {
        address token = order.token;
        address seller = order.seller;
        uint256 fromBuyer = 0; // what the advances take back from each share (none outside
        uint256 fromSeller = 0; // a dispute: only a disputed order can have advances)
        if (_isFrozen(order.status)) {
            // Advances are paid in dispute only, and an order leaves dispute only here: orders
            // released from Paid skip the lookup (a cold slot, 2,100 gas).
            (fromBuyer, fromSeller) = _repayAdvance(orderId, seller, token, allocation.toBuyer);
            Guarantee storage guarantee = _guarantees[seller][token];
            guarantee.locked -= order.amount;
            guarantee.balance -= allocation.compensation;
        }
        Status status = order.status;
        // The refund of a return decision waits in _awards through the return stage.
        if (status == Status.AwardSubmitted || status == Status.DecisionPending || _isReturn(status)) {
            delete _awards[orderId];
        }
        order.status = Status.Resolved;
        order.resolution = resolution;
        order.deadline = 0;
        emit OrderResolved(
            orderId, resolution, allocation.toBuyer, allocation.toSeller, allocation.compensation, shortfall
        );
        _payOrCredit(token, order.buyer, allocation.toBuyer - fromBuyer + allocation.compensation);
        _payOrCredit(token, seller, allocation.toSeller - fromSeller);
    }

    /// @dev The escrowed amount repays the order's advances to the guarantee they came from:
    /// the buyer's share first (the advance was paid on account of it), the seller's for the
    /// rest. Advances total at most the amount, so the two shares always cover them.
    function _repayAdvance(uint256 orderId, address seller, address token, uint256 toBuyer)
        private
        returns (uint256 fromBuyer, uint256 fromSeller)
    {
        uint256 advanced = _advanced[orderId];
        if (advanced == 0) return (0, 0);
        fromBuyer = advanced < toBuyer ? advanced : toBuyer;
        fromSeller = advanced - fromBuyer;
        _guarantees[seller][token].balance += advanced;
        emit AdvanceRepaid(orderId, fromBuyer, fromSeller);
    }

    /// @dev Escrows exactly `amount`: `value` (the payable caller's msg.value) for ETH, or a
    /// transferFrom whose effect on this contract's balance is checked, which refuses
    /// fee-on-transfer and similar tokens. `value` is passed in so that only the payable entry
    /// points read msg.value.
    function _pullExact(address token, uint256 amount, uint256 value) private {
        if (token == address(0)) {
            if (value != amount) revert ArbitrationEscrowWrongValue(amount, value);
            return;
        }
        if (value != 0) revert ArbitrationEscrowWrongValue(0, value);
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert ArbitrationEscrowTransferAmountMismatch(token, amount, received);
    }

    /// @dev Pushes a payout; a refusal credits the receiver instead of blocking the resolution.
    function _payOrCredit(address token, address to, uint256 amount) private {
        if (amount == 0) return;
        bool ok;
        if (token == address(0)) {
            // Bounded gas, no return data copied: a hostile receiver can neither grief the caller's
            // gas nor bomb memory. It only delays its own payout.
            assembly ("memory-safe") {
                ok := call(ETH_PAYOUT_GAS, to, amount, 0, 0, 0, 0)
            }
        } else {
            ok = IERC20(token).trySafeTransfer(to, amount);
        }
        if (!ok) {
            _owed[to][token] += amount;
            emit PayoutDeferred(to, token, amount);
        }
    }

    /// @dev Sends to the caller of a withdrawal, who asked for it: failure reverts.
    function _sendOrRevert(address token, address to, uint256 amount) private {
        bool ok;
        if (token == address(0)) {
            (ok,) = to.call{value: amount}("");
        } else {
            ok = IERC20(token).trySafeTransfer(to, amount);
        }
        if (!ok) revert ArbitrationEscrowTransferFailed(to, token, amount);
    }
}
