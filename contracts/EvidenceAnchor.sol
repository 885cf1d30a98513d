// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IEvidenceAnchor} from "./interfaces/IEvidenceAnchor.sol";

/// @title EvidenceAnchor
/// @notice Timestamps Merkle roots of evidence batches: root => (block time, block number, sender).
/// @dev Rules of this file:
///  1. One storage slot per root and nothing else: a batch of N items costs the same as one item.
///  2. The first record of a root is final. A repeat is a cheap no-op, not a revert, because
///     anchoring workers may race on the same batch and both must see success.
///  3. Open to everyone. A record proves only that the root existed at that block; who sent it
///     is recorded for information and does not make the root more or less true.
contract EvidenceAnchor is IEvidenceAnchor {
    mapping(bytes32 root => Record) private _records;

    /// @inheritdoc IEvidenceAnchor
    function anchor(bytes32 root, uint32 count) external returns (bool created) {
        if (root == bytes32(0)) revert EvidenceAnchorZeroRoot();
        Record storage record = _records[root];
        if (record.timestamp != 0) return false;
        // Block time and number fit in 48 bits for the next ~8.9 million years.
        _records[root] = Record(uint48(block.timestamp), uint48(block.number), msg.sender);
        emit RootAnchored(root, msg.sender, count);
        return true;
    }

    /// @inheritdoc IEvidenceAnchor
    function recordOf(bytes32 root) external view returns (Record memory) {
        return _records[root];
    }
}
