// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IArbitrationEscrow} from "./interfaces/IArbitrationEscrow.sol";

/// @title EscrowCore
/// @notice The escrow's state, constants and shared rules: what {ArbitrationEscrow} and
/// {ArbitrationEscrowExtension} both run on.
/// @dev The two contracts inherit this one and declare no state of their own (immutables aside,
/// which live in code), so their storage layouts are this contract's, slot for slot: the
/// extension's code runs on the escrow's storage (DELEGATECALL) and reads the orders where the
/// escrow wrote them. Rules of the escrow's code (both contracts):
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
abstract contract EscrowCore is IArbitrationEscrow, AccessControl, EIP712, ReentrancyGuardTransient {
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

    /// @notice EIP-712 type of a return-and-refund settlement buyer and seller both sign: the
    /// refund (toBuyer, toSeller, compensation) once the goods are back, the `noReturn*`
    /// allocation if the buyer does not ship them back within the return window.
    bytes32 public constant RETURN_SETTLEMENT_TYPEHASH = keccak256(
        "ReturnSettlement(uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,uint256 compensation,uint256 noReturnToBuyer,uint256 noReturnToSeller,uint256 noReturnCompensation)"
    );

    /// @notice Gas forwarded with an ETH payout. Enough for a smart wallet's receive hook; a
    /// receiver that needs more (or reverts) is credited and withdraws with {withdraw}.
    uint256 public constant ETH_PAYOUT_GAS = 60_000;

    uint32 internal immutable _maxDeliveryPeriod;
    uint32 internal immutable _releaseGrace;
    uint32 internal immutable _appointmentTimeout;
    uint32 internal immutable _awardTimeout;
    uint32 internal immutable _objectionWindow;
    uint32 internal immutable _panelAppointmentTimeout;
    uint32 internal immutable _panelAwardTimeout;
    uint32 internal immutable _returnShipmentTimeout;
    uint32 internal immutable _returnReceiptTimeout;

    uint256 internal _orderCount;
    mapping(uint256 orderId => Order) internal _orders;
    mapping(uint256 orderId => PendingAward) internal _awards;
    mapping(uint256 orderId => address[3]) internal _panels;
    mapping(address seller => mapping(address token => Guarantee)) internal _guarantees;
    mapping(address account => mapping(address token => uint256)) internal _owed;
    mapping(address institution => address successor) internal _successors;
    mapping(bytes32 contractHash => uint256 orderId) internal _contractOrders;
    mapping(uint256 orderId => bytes32 juryHash) internal _juries;
    mapping(uint256 orderId => DecisionKind) internal _decisionKinds;
    mapping(uint256 orderId => bool) internal _objectionSpent;
    mapping(uint256 orderId => Allocation noReturn) internal _returns;
    mapping(uint256 orderId => uint256 amount) internal _advanced;
    mapping(bytes32 digest => bool) internal _returnSettlementsUsed;

    /// @param timeouts_ durations of every waiting state, fixed for the life of this deployment so
    /// that no open order's deadlines can change under it
    constructor(Timeouts memory timeouts_) EIP712("chainarb", "1") {
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
    }

    // ------------------------------------------------------------------------------------------
    // Views and digests both contracts use
    // ------------------------------------------------------------------------------------------

    /// @notice The key that acts today for orders naming `institution`: `institution` itself, or
    /// the last key of the rotations that started from it.
    function institutionOf(address institution) public view returns (address current) {
        current = institution;
        // Ends: a successor never had a successor when it was named, and a key gets one once.
        for (address next = _successors[current]; next != address(0); next = _successors[current]) {
            current = next;
        }
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
    ) internal view returns (bytes32) {
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
    ) internal returns (uint256 orderId) {
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

    function _requireStatus(uint256 orderId, Status expected) internal view returns (Order storage order) {
        order = _orders[orderId];
        if (order.status != expected) revert ArbitrationEscrowInvalidStatus(orderId, order.status);
    }

    function _requireInstitution(uint256 orderId, Order storage order) internal view {
        // The role is checked again so that revoking a rogue institution stops its appointments.
        // A rotated institution acts through its current key (the old one holds no role).
        if (msg.sender != institutionOf(order.institution) || !hasRole(INSTITUTION_ROLE, msg.sender)) {
            revert ArbitrationEscrowUnauthorizedCaller(orderId, msg.sender);
        }
    }

    function _requireBefore(uint256 orderId, uint48 deadline) internal view {
        if (block.timestamp >= deadline) revert ArbitrationEscrowTooLate(orderId, deadline);
    }

    function _requireNeutral(uint256 orderId, Order storage order, address neutral) internal view {
        if (neutral == address(0) || neutral == order.buyer || neutral == order.seller) {
            revert ArbitrationEscrowInvalidNeutral(orderId, neutral);
        }
    }

    /// @dev Buyer and seller both signed `digest` (ECDSA or EIP-1271): a settlement of either kind.
    function _requirePartiesSigned(
        uint256 orderId,
        Order storage order,
        bytes32 digest,
        bytes calldata buyerSignature,
        bytes calldata sellerSignature
    ) internal view {
        if (!SignatureChecker.isValidSignatureNow(order.buyer, digest, buyerSignature)) {
            revert ArbitrationEscrowInvalidSignature(orderId, order.buyer);
        }
        if (!SignatureChecker.isValidSignatureNow(order.seller, digest, sellerSignature)) {
            revert ArbitrationEscrowInvalidSignature(orderId, order.seller);
        }
    }

    function _requireSum(uint256 orderId, Order storage order, Allocation calldata allocation) internal view {
        // Checked addition: an overflowing allocation reverts with a panic rather than wrapping.
        uint256 allocated = allocation.toBuyer + allocation.toSeller;
        if (allocated != order.amount) revert ArbitrationEscrowAllocationMismatch(orderId, order.amount, allocated);
    }

    function _requireAwardAllocation(uint256 orderId, Order storage order, Allocation calldata allocation)
        internal
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
    function _isFrozen(Status status) internal pure returns (bool) {
        return status != Status.None && status != Status.Paid && status != Status.Resolved;
    }

    /// @dev End of the objection window a decision or round-0 award opens now: none (now) once a
    /// party objected to a decision of the order, whose next decision is final.
    function _objectionDeadline(uint256 orderId) internal view returns (uint48) {
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
    ) internal {
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

    function _isReturn(Status status) internal pure returns (bool) {
        return status == Status.ReturnPending || status == Status.ReturnShipped;
    }

    /// @dev Stores a return award's fallback (its refund is the pending award).
    function _recordReturn(uint256 orderId, Order storage order, Allocation calldata noReturn) internal {
        _returns[orderId] = noReturn;
        emit ReturnTermsRecorded(orderId, order.caseId, noReturn);
    }

    /// @dev Starts the return stage: the buyer's return window opens now.
    function _requestReturn(uint256 orderId, Order storage order) internal {
        uint48 deadline = _deadlineFromNow(_returnShipmentTimeout);
        order.status = Status.ReturnPending;
        order.deadline = deadline;
        emit ReturnRequested(orderId, order.caseId, deadline);
    }

    /// @dev Whether the pending round-0 award is a return-and-refund award (its no-return
    /// allocation sums to the order's amount, which is never zero).
    function _hasReturn(uint256 orderId) internal view returns (bool) {
        Allocation storage noReturn = _returns[orderId];
        return noReturn.toBuyer != 0 || noReturn.toSeller != 0;
    }

    function _deadlineFromNow(uint32 duration) internal view returns (uint48) {
        return uint48(block.timestamp + duration);
    }

    function _withdrawable(Guarantee storage guarantee) internal view returns (uint256) {
        uint256 balance = guarantee.balance;
        uint256 locked = guarantee.locked;
        return balance > locked ? balance - locked : 0;
    }

    /// @dev What the seller's guarantee can pay as this order's compensation: its balance plus
    /// the order's advances, which the resolution repays to it first.
    function _available(uint256 orderId, Order storage order) internal view returns (uint256) {
        return _guarantees[order.seller][order.token].balance + _advanced[orderId];
    }

    /// @dev Awards pay what the guarantee holds, up to the awarded compensation.
    function _resolveCapped(uint256 orderId, Order storage order, Resolution resolution, Allocation memory allocation)
        internal
    {
        uint256 available = _available(orderId, order);
        uint256 awarded = allocation.compensation;
        uint256 paid = awarded < available ? awarded : available;
        allocation.compensation = paid;
        _finish(orderId, order, resolution, allocation, awarded - paid);
    }

    /// @dev Settlements and refunds: compensation (if any) was checked against the balance.
    function _resolve(uint256 orderId, Order storage order, Resolution resolution, Allocation memory allocation)
        internal
    {
        _finish(orderId, order, resolution, allocation, 0);
    }

    function _finish(
        uint256 orderId,
        Order storage order,
        Resolution resolution,
        Allocation memory allocation,
        uint256 shortfall
    ) internal {
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
        internal
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
    function _pullExact(address token, uint256 amount, uint256 value) internal {
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
    function _payOrCredit(address token, address to, uint256 amount) internal {
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
    function _sendOrRevert(address token, address to, uint256 amount) internal {
        bool ok;
        if (token == address(0)) {
            (ok,) = to.call{value: amount}("");
        } else {
            ok = IERC20(token).trySafeTransfer(to, amount);
        }
        if (!ok) revert ArbitrationEscrowTransferFailed(to, token, amount);
    }
}
