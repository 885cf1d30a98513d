"""Checkpoints at each anchoring round: signed, checked against the last anchored one,
carried by the round's batch as one extra leaf.

Rules of this module (docs/log.md, "Service"):

1. **Sign what the database holds, after checking it.** ``Checkpointer.prepare`` reads the
   log's size and its root from the stored nodes, in the claim's transaction, *after* the
   claimed leaves: every claimed leaf was committed with its entry, so the checkpoint
   covers every record of the batch that carries it.
2. **Never anchor a fork.** Before signing, the new tree must be consistent with the last
   checkpoint put in a batch (the largest such size): a consistency proof is computed from
   the stored nodes and verified against the *signed* root of that checkpoint (its note,
   not a column an operator can edit). A failure raises ``CheckpointRefused``; the worker
   then claims nothing, records the refusal (a ``log_checkpoint`` row with ``refused``)
   and logs it at CRITICAL. Nothing is anchored until someone repairs the log
   (``backend.log.store.rebuild``) and the check passes.
3. **The per-case index rides in the note.** The checkpoint's one extension line names
   the index tree of every case's head in the log of that size (``chainarb-case-index
   <count> <base64 root>``, evidence.log.caseindex), signed with the rest.
4. **One leaf, same encoding.** The checkpoint rides as ``evidence.log_leaf.checkpoint_leaf``
   (bytes32 x 3, like every record's leaf), so the anchored root still follows
   OpenZeppelin's StandardMerkleTree and the contract is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from backend.db.log_models import LogCheckpoint
from evidence.log.caseindex import index_extension, index_tree
from evidence.log.checkpoint import Checkpoint, sign_checkpoint
from evidence.log.note import Note, NoteSigner
from evidence.log.proofs import verify_consistency
from evidence.log_leaf import checkpoint_leaf

from .caseindex import extend_index, heads_at
from .store import log_size, open_log

__all__ = ["CheckpointRefused", "Checkpointer", "PreparedCheckpoint", "last_carried"]


class CheckpointRefused(Exception):  # noqa: N818  (a refusal, as services.errors names them)
    """The log is not consistent with the last anchored checkpoint: nothing is anchored.
    Carries the size and (when computable) root of the tree that was refused."""

    def __init__(self, message: str, size: int = 0, root: bytes | None = None) -> None:
        super().__init__(message)
        self.size = size
        self.root = root


@dataclass(frozen=True)
class PreparedCheckpoint:
    """A signed checkpoint ready to ride in a batch."""

    size: int
    root: bytes
    note: str

    @property
    def leaf(self) -> tuple[str, str, str]:
        return checkpoint_leaf(self.note, self.root)


def last_carried(session: Session) -> LogCheckpoint | None:
    """The checkpoint of the largest size that a batch carries (None before the first)."""
    return session.exec(select(LogCheckpoint).where(col(LogCheckpoint.batch_id).is_not(None))
                        .order_by(col(LogCheckpoint.size).desc(), col(LogCheckpoint.id).desc())
                        .limit(1)).first()


def signed_tree(note: str) -> Checkpoint:
    """The checkpoint a stored note states (its text, as signed)."""
    return Checkpoint.parse_body(Note.parse(note).text)


class Checkpointer:
    """Signs the log's checkpoints with the institution key under one origin."""

    def __init__(self, origin: str, signer: NoteSigner) -> None:
        self.origin = origin
        self.signer = signer

    def __repr__(self) -> str:
        return f"Checkpointer({self.origin!r}, {self.signer.address})"

    def prepare(self, session: Session) -> PreparedCheckpoint:
        """Check and sign the log as `session` sees it (rules 1-3), in a write unit (the
        claim's): it extends the per-case index to the size it signs.

        Raises:
            CheckpointRefused: the stored tree does not extend the last anchored checkpoint.
        """
        size = log_size(session)
        root: bytes | None = None
        try:
            tree = open_log(session, size)
            root = tree.root()
            last = last_carried(session)
            if last is not None:
                anchored = signed_tree(last.note)
                if anchored.origin != self.origin:
                    raise CheckpointRefused(
                        f"the last anchored checkpoint is of log {anchored.origin!r}, this "
                        f"worker signs {self.origin!r}: an origin never changes", size, root)
                if anchored.size > size:
                    raise CheckpointRefused(
                        f"the log holds {size} entries, fewer than the {anchored.size} of the "
                        f"last anchored checkpoint (id {last.id}): entries were removed",
                        size, root)
                proof = tree.consistency_proof(anchored.size, size)
                verify_consistency(anchored.size, size, anchored.root, root, proof)
        except CheckpointRefused:
            raise
        except Exception as exc:  # a proof that fails, a node missing: the same refusal
            raise CheckpointRefused(
                f"the log of {size} entries is not consistent with the last anchored "
                f"checkpoint: {type(exc).__name__}: {exc}", size, root) from exc
        extend_index(session, size)  # the per-case index (docs/log.md §14)
        heads = heads_at(session, size)
        line = index_extension(len(heads), index_tree(heads).root())
        note = sign_checkpoint(Checkpoint(self.origin, size, root, (line,)), self.signer)
        return PreparedCheckpoint(size, root, note)
