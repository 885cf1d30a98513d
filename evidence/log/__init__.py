"""The institution's append-only log (issue 15): RFC 6962 hashing, entries, the tree over a
node store, proofs and their verifiers, signed checkpoints, receipts and proofs of absence.

Pure: no clock, no database, no network (times and stores are arguments). A court's or a
monitor's verifier needs nothing else. docs/log.md is the normative text of the formats.
"""

from evidence.log.absence import (
    ABSENCE_FORMAT,
    AbsenceProof,
    VerifiedAbsence,
    check_absence,
    issue_absence,
    verify_absence,
)
from evidence.log.checkpoint import (
    Checkpoint,
    SignedCheckpoint,
    check_origin,
    sign_checkpoint,
    verify_checkpoint,
    verify_checkpoints_consistent,
)
from evidence.log.entry import ENTRY_SIZE, ENTRY_VERSION, EntryKind, LogEntry
from evidence.log.errors import (
    AbsenceDisproved,
    CheckpointMismatch,
    ConsistencyProofError,
    InclusionProofError,
    LogEntryError,
    LogRangeError,
    MissingNode,
    NoteForged,
    NoteFormatError,
    NoteUnsigned,
    OriginMismatch,
    StatementForged,
    StatementFormatError,
    WrongCase,
)
from evidence.log.hashing import EMPTY_ROOT, leaf_hash, node_hash
from evidence.log.note import (
    SIGNATURE_TYPE,
    Note,
    NoteSigner,
    VerifiedNote,
    key_id,
    sign_note,
    verify_note,
)
from evidence.log.proofs import (
    extend_frontier,
    frontier_sizes,
    root_after,
    root_from_frontier,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)
from evidence.log.receipt import (
    RECEIPT_FORMAT,
    Receipt,
    ReceiptInclusion,
    VerifiedReceipt,
    issue_receipt,
    verify_receipt,
)
from evidence.log.tree import MemoryNodeStore, MerkleLog, NodeKey, NodeStore

__all__ = [
    "ABSENCE_FORMAT",
    "EMPTY_ROOT",
    "ENTRY_SIZE",
    "ENTRY_VERSION",
    "RECEIPT_FORMAT",
    "SIGNATURE_TYPE",
    "AbsenceDisproved",
    "AbsenceProof",
    "Checkpoint",
    "CheckpointMismatch",
    "ConsistencyProofError",
    "EntryKind",
    "InclusionProofError",
    "LogEntry",
    "LogEntryError",
    "LogRangeError",
    "MemoryNodeStore",
    "MerkleLog",
    "MissingNode",
    "NodeKey",
    "NodeStore",
    "Note",
    "NoteForged",
    "NoteFormatError",
    "NoteSigner",
    "NoteUnsigned",
    "OriginMismatch",
    "Receipt",
    "ReceiptInclusion",
    "SignedCheckpoint",
    "StatementForged",
    "StatementFormatError",
    "VerifiedAbsence",
    "VerifiedNote",
    "VerifiedReceipt",
    "WrongCase",
    "check_absence",
    "check_origin",
    "extend_frontier",
    "frontier_sizes",
    "issue_absence",
    "issue_receipt",
    "key_id",
    "leaf_hash",
    "node_hash",
    "root_after",
    "root_from_frontier",
    "root_from_inclusion",
    "sign_checkpoint",
    "sign_note",
    "verify_absence",
    "verify_checkpoint",
    "verify_checkpoints_consistent",
    "verify_consistency",
    "verify_inclusion",
    "verify_note",
    "verify_receipt",
]
