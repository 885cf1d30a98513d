// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
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

    uint256 private _orderCount;
    mapping(uint256 orderId => Order) private _orders;
    mapping(uint256 orderId => PendingAward) private _awards;
    mapping(uint256 orderId => address[3]) private _panels;
    mapping(address seller => mapping(address token => Guarantee)) private _guarantees;
    mapping(address account => mapping(address token => uint256)) private _owed;
    mapping(address institution => address successor) private _successors;
    mapping(bytes32 contractHash => uint256 orderId) private _contractOrders;
    mapping(uint256 orderId => uint256 amount) private _advanced;

    /// @param admin receives DEFAULT_ADMIN_ROLE (grants and revokes INSTITUTION_ROLE)
    /// @param timeouts_ durations of every waiting state, fixed for the life of this deployment so
    /// that no open order's deadlines can change under it
    constructor(address admin, Timeouts memory timeouts_) EIP712("chainarb", "1") {
        if (
            timeouts_.maxDeliveryPeriod == 0 || timeouts_.releaseGrace == 0 || timeouts_.appointment == 0
                || timeouts_.award == 0 || timeouts_.objection == 0 || timeouts_.panelAppointment == 0
                || timeouts_.panelAward == 0
        ) revert ArbitrationEscrowInvalidTimeouts();
        _maxDeliveryPeriod = timeouts_.maxDeliveryPeriod;
        _releaseGrace = timeouts_.releaseGrace;
        _appointmentTimeout = timeouts_.appointment;
        _awardTimeout = timeouts_.award;
        _objectionWindow = timeouts_.objection;
        _panelAppointmentTimeout = timeouts_.panelAppointment;
        _panelAwardTimeout = timeouts_.panelAward;
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
    /// deadline.
    function appointArbitrator(uint256 orderId, address arbitrator) external nonReentrant {
        Order storage order = _requireStatus(orderId, Status.Disputed);
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

        uint48 deadline = _deadlineFromNow(_objectionWindow);
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

    /// @notice Buyer or seller objects to the round-0 award within the objection window. This
    /// can happen once per order: the panel's award that follows is final.
    function objectToAward(uint256 orderId) external nonReentrant {
        Order storage order = _requireStatus(orderId, Status.AwardSubmitted);
        if (msg.sender != order.buyer && msg.sender != order.seller) {
            revert ArbitrationEscrowUnauthorizedCaller(orderId, msg.sender);
        }
        _requireBefore(orderId, order.deadline);

        uint48 deadline = _deadlineFromNow(_panelAppointmentTimeout);
        order.status = Status.Objected;
        order.deadline = deadline;
        delete _awards[orderId];
        emit AwardObjected(orderId, order.caseId, msg.sender, deadline);
    }

    /// @notice Anyone executes the round-0 award once its objection window has passed. Pays the
    /// awarded compensation from the seller's guarantee up to its balance; the rest is reported as
    /// `compensationShortfall` in {OrderResolved}.
    function executeAward(uint256 orderId) external nonReentrant {
        Order storage order = _requireStatus(orderId, Status.AwardSubmitted);
        if (block.timestamp < order.deadline) revert ArbitrationEscrowTooEarly(orderId, order.deadline);
        Allocation memory allocation = _awards[orderId].allocation;
        _resolveCapped(orderId, order, Resolution.AwardExecuted, allocation);
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

    /// @notice Anyone refunds the buyer in full when a neutral's appointment or award is overdue:
    /// the institution or tribunal failed to act, so the funds go back to where they came from and
    /// the dispute continues outside the escrow (e.g. in court).
    function resolveByTimeout(uint256 orderId) external nonReentrant {
        Order storage order = _orders[orderId];
        Status status = order.status;
        Resolution resolution = Resolution.None;
        if (status == Status.Disputed) resolution = Resolution.TimeoutNoArbitrator;
        else if (status == Status.ArbitratorAppointed) resolution = Resolution.TimeoutNoAward;
        else if (status == Status.Objected) resolution = Resolution.TimeoutNoPanel;
        else if (status == Status.PanelAppointed) resolution = Resolution.TimeoutNoPanelAward;
        else revert ArbitrationEscrowInvalidStatus(orderId, status);
        if (block.timestamp < order.deadline) revert ArbitrationEscrowTooEarly(orderId, order.deadline);
        _resolve(orderId, order, resolution, Allocation(order.amount, 0, 0));
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

    /// @notice The round-0 award waiting for its objection window (zero when none).
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
            _panelAwardTimeout
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

    function _isFrozen(Status status) private pure returns (bool) {
        return status >= Status.Disputed && status <= Status.PanelAppointed;
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
        if (order.status == Status.AwardSubmitted) delete _awards[orderId];
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
