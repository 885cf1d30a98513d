// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;


interface IEscrowCalls {
    function openOrder(address, address, uint256, uint48, address, bytes32) external payable returns (uint256);
    function confirmDelivery(uint256) external;
    function raiseDispute(uint256, bytes32) external;
    function objectToAward(uint256) external;
    function withdraw(address) external;
}

/// @title ReentrancyAttacker
/// @notice Test only: a buyer or seller contract that, when it receives ETH from the escrow, calls
/// back into the escrow with `reentryCall` and records what happened. With `rejectPayments` it
/// reverts instead, to exercise the escrow's deferred-payout path.
contract ReentrancyAttacker {
    address public immutable escrow;
    bytes public reentryCall;
    bool public rejectPayments;

    /// @notice Packed in one slot so that recording fits the escrow's ETH payout gas.
    uint64 public attempts;
    bool public reentrySucceeded;
    bytes4 public lastError;

    constructor(address escrow_) {
        escrow = escrow_;
    }

    function setReentryCall(bytes calldata data) external {
        reentryCall = data;
    }

    /// @notice EIP-1271: accepts every signature, so that the attacker (a buyer) can be a party
    /// to a settlement in a test.
    function isValidSignature(bytes32, bytes calldata) external pure returns (bytes4) {
        return this.isValidSignature.selector;
    }

    function setRejectPayments(bool value) external {
        rejectPayments = value;
    }

    function openOrder(address seller, address token, uint256 amount, uint48 deadline, address institution)
        external
        payable
        returns (uint256)
    {
        return IEscrowCalls(escrow).openOrder{value: msg.value}(seller, token, amount, deadline, institution, bytes32(0));
    }

    function confirmDelivery(uint256 orderId) external {
        IEscrowCalls(escrow).confirmDelivery(orderId);
    }

    function raiseDispute(uint256 orderId, bytes32 caseId) external {
        IEscrowCalls(escrow).raiseDispute(orderId, caseId);
    }

    function withdrawFromEscrow(address token) external {
        IEscrowCalls(escrow).withdraw(token);
    }

    receive() external payable {
        if (rejectPayments) revert("no payments");
        if (msg.sender != escrow || reentryCall.length == 0) return;
        attempts += 1;
        (bool ok, bytes memory ret) = escrow.call(reentryCall);
        if (ok) {
            reentrySucceeded = true;
        } else if (ret.length >= 4) {
            lastError = bytes4(ret);
        }
    }
}
