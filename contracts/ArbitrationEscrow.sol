// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {ArbitrationEscrowExtension} from "./ArbitrationEscrowExtension.sol";
import {EscrowCore} from "./EscrowCore.sol";

/// @title ArbitrationEscrow
/// @notice Holds a buyer's payment for an order and pays it out on confirmation, after the
/// delivery deadline, or as a settlement or arbitral award decides. Sellers may deposit a
/// guarantee per token from which awards pay extra compensation to buyers.
/// @dev The one address users and the service call; its ABI is the whole escrow's. The common
/// paths (orders, disputes, the sole arbitrator's award, settlements, timeouts, funds, views)
/// run here; the later stages run in {ArbitrationEscrowExtension}'s code, which this contract
/// deployed in its constructor and DELEGATECALLs (see {_delegate}). State, constants and the
/// rules of the code: {EscrowCore}. Theory: docs/contracts.md.
contract ArbitrationEscrow is EscrowCore {
    /// @dev The extension this escrow deployed: fixed at construction, never replaced.
    address private immutable _extension;

    /// @param admin receives DEFAULT_ADMIN_ROLE (grants and revokes INSTITUTION_ROLE)
    /// @param timeouts_ durations of every waiting state, fixed for the life of this deployment so
    /// that no open order's deadlines can change under it
    constructor(address admin, Timeouts memory timeouts_) EscrowCore(timeouts_) {
        _extension = address(new ArbitrationEscrowExtension(timeouts_));
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

    /// @notice The institution appoints the panel after an objection. See {ArbitrationEscrowExtension-appointPanel}.
    function appointPanel(uint256, address[3] calldata) external {
        _delegate();
    }

    /// @notice Anyone submits the panel's round-1 award; it executes at once. See {ArbitrationEscrowExtension-submitPanelAward}.
    function submitPanelAward(uint256, Allocation calldata, bytes32, bytes[3] calldata) external {
        _delegate();
    }

    /// @notice The institution fixes the jury it drew. See {ArbitrationEscrowExtension-appointJury}.
    function appointJury(uint256, bytes32) external {
        _delegate();
    }

    /// @notice Anyone submits the jury's verdict; the votes are counted on chain. See {ArbitrationEscrowExtension-submitJuryVerdict}.
    function submitJuryVerdict(
        uint256,
        address[] calldata,
        uint256[] calldata,
        uint256,
        bytes32[] calldata,
        bytes calldata
    ) external {
        _delegate();
    }

    /// @notice Anyone submits the fast track's proposal of a disputed order. See {ArbitrationEscrowExtension-submitFastTrack}.
    function submitFastTrack(uint256, Allocation calldata, bytes32, uint32, bytes calldata) external {
        _delegate();
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
        _requirePartiesSigned(orderId, order, digest, buyerSignature, sellerSignature);
        _resolve(orderId, order, Resolution.Settled, allocation);
    }

    /// @notice Anyone submits the sole arbitrator's return-and-refund award. See {ArbitrationEscrowExtension-submitReturnAward}.
    function submitReturnAward(uint256, Allocation calldata, Allocation calldata, bytes32, bytes calldata)
        external {
        _delegate();
    }

    /// @notice Anyone submits a return-and-refund settlement both parties signed: the return stage starts. See {ArbitrationEscrowExtension-submitReturnSettlement}.
    function submitReturnSettlement(
        uint256,
        Allocation calldata,
        Allocation calldata,
        bytes calldata,
        bytes calldata
    ) external {
        _delegate();
    }

    /// @notice The buyer records the return shipment. See {ArbitrationEscrowExtension-recordReturnShipment}.
    function recordReturnShipment(uint256, bytes32) external {
        _delegate();
    }

    /// @notice The seller (or the institution) confirms the return arrived: the refund is paid. See {ArbitrationEscrowExtension-confirmReturnReceived}.
    function confirmReturnReceived(uint256) external {
        _delegate();
    }

    /// @notice The seller disputes the return's receipt. See {ArbitrationEscrowExtension-disputeReturnReceipt}.
    function disputeReturnReceipt(uint256) external {
        _delegate();
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

    /// @notice The institution pays an advance refund from the seller's guarantee. See {ArbitrationEscrowExtension-advanceRefund}.
    function advanceRefund(uint256, address, uint256) external {
        _delegate();
    }

    /// @notice The calling institution hands its role and orders over to a fresh key. See {ArbitrationEscrowExtension-rotateInstitutionKey}.
    function rotateInstitutionKey(address) external {
        _delegate();
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

    /// @dev Runs this call's calldata in the extension's code on this contract's storage,
    /// balance and address (DELEGATECALL) and returns, or reverts, with what it returned. The
    /// target is the immutable {ArbitrationEscrowExtension} the constructor deployed; the
    /// forwarded functions are non-payable and the extension's are `nonReentrant` (the guard's
    /// transient slot is this contract's).
    function _delegate() private {
        address extension = _extension;
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), extension, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }
}
