// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IEvidenceAnchor
/// @notice Records Merkle roots of evidence batches with the time they were first seen on-chain.
/// @dev One record per root, ever. Anchoring is open: the record proves that the root existed at
/// that block, whoever sent it (see docs/contracts.md, "Anchoring is open").
interface IEvidenceAnchor {
    /// @notice What the chain knows about a root: when it was first anchored and by whom.
    /// @dev Packed into one storage slot (48 + 48 + 160 bits). `timestamp == 0` means "never anchored".
    struct Record {
        uint48 timestamp;
        uint48 blockNumber;
        address anchorer;
    }

    /// @notice A root was anchored for the first time.
    /// @param root the Merkle root of the batch
    /// @param anchorer the account that sent the first anchoring transaction
    /// @param count the number of leaves in the batch, as claimed by the anchorer (not checked)
    event RootAnchored(bytes32 indexed root, address indexed anchorer, uint32 count);

    /// @notice The zero root is reserved for "no record" and cannot be anchored.
    error EvidenceAnchorZeroRoot();

    /// @notice Records `root` with the current block's timestamp and number and the caller.
    /// @dev Anchoring a root that already has a record changes nothing and emits nothing, so two
    /// workers racing on the same batch both succeed and the first record stands.
    /// @param root the Merkle root (OpenZeppelin StandardMerkleTree conventions)
    /// @param count the number of leaves in the batch (informational, carried in the event)
    /// @return created true when this call made the record, false when it already existed
    function anchor(bytes32 root, uint32 count) external returns (bool created);

    /// @notice The record of `root`, all zero when it was never anchored.
    function recordOf(bytes32 root) external view returns (Record memory);
}
