"""The anchored batch's checkpoint leaf: how a signed log checkpoint rides in a round's
StandardMerkleTree (docs/log.md, "Service").

Each anchoring round's batch holds the records' leaves (caseId, recordHash,
signaturesHash: ``evidence.merkle.record_leaf``) and one more leaf of the same encoding
for the checkpoint the institution signed at that round:

    (CHECKPOINT_LEAF_TAG, SHA-256(signed note, UTF-8), root of the log)

``CHECKPOINT_LEAF_TAG`` sits where a record's caseId would be: keccak256 of a fixed
text, which no case id (keccak256 of a deployment and an order id) can equal. The second
value binds the note as signed (its size, root and signature lines); the third repeats
the root so that a reader of the batch sees which tree it anchors without parsing the
note. A verifier recomputes this leaf from the note it holds and checks the batch's
proof to the anchored root: the checkpoint then existed by the anchor's block time.
"""

from __future__ import annotations

from hashlib import sha256

from evidence._keccak import keccak256

__all__ = ["CHECKPOINT_LEAF_TAG", "checkpoint_leaf"]

CHECKPOINT_LEAF_TAG = keccak256(b"chainarb.log.checkpoint.v1")


def checkpoint_leaf(note: str, root: bytes) -> tuple[str, str, str]:
    """The StandardMerkleTree leaf values (0x-hex) of a signed checkpoint note whose tree
    root is `root` (32 bytes)."""
    if len(root) != 32:
        raise ValueError(f"log root: expected 32 bytes, found {len(root)}")
    return ("0x" + CHECKPOINT_LEAF_TAG.hex(),
            "0x" + sha256(note.encode()).hexdigest(),
            "0x" + root.hex())
