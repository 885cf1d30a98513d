"""The service's chain checks of a jury draw (docs/jury.md §2; issue 14 item 2).

What the procedure core cannot know, the service checks before a draw step is stored:

* ``jury.seed_committed``: the snapshot it fixes is the one the service computes
  (``PoolService.snapshot_of``: ``pool_snapshot_mismatch``), and ``drawBlock`` lies in
  the future of the anchoring chain (``draw_block_not_future``).
* ``jury.drawn``: block ``drawBlock`` exists on the anchoring chain
  (``draw_block_pending`` until then), the step's ``blockHash`` and ``prevrandao`` are
  that block's (``draw_block_mismatch``: the service reads them itself), and the seed's
  commitment step is anchored on that chain in a block before ``drawBlock``
  (``seed_not_anchored``): the institution fixed the seed before the block existed, and
  anyone can see it did.

Both run after the core accepted the step (its own checks first, in their order) and
inside the step's transaction, so a refusal stores nothing. Without a chain to read
(``BlockSource`` absent or unreachable) a draw is refused as ``chain_unavailable``: the
jury is never drawn from randomness the service could not check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlmodel import Session, col, select

from backend import procedure as p
from backend.db import AnchorInclusion, AnchorStatus, Leaf, LeafKind, Step

from .errors import BadSubmission, ChainUnavailable, Conflict
from .pool import PoolService

if TYPE_CHECKING:
    from web3 import Web3

    from backend.worker.anchoring import AnchoringWorker

__all__ = ["BlockSource", "DrawHeader", "JuryDrawGate", "Web3Blocks", "draw_blocks",
           "seed_anchor"]


@dataclass(frozen=True)
class DrawHeader:
    block_hash: str
    prevrandao: str  # the header's mixHash since the merge


class BlockSource(Protocol):
    """The anchoring chain's headers, as the draw needs them."""

    @property
    def chain_id(self) -> int: ...

    def head(self) -> int: ...

    def draw_header(self, number: int) -> DrawHeader | None:
        """Block ``number``'s hash and prevrandao; None while it does not exist."""


def _hex32(value: Any) -> str:
    raw = bytes(value) if not isinstance(value, str) else bytes.fromhex(value.removeprefix("0x"))
    return "0x" + raw.rjust(32, b"\x00").hex()


class Web3Blocks:
    """``BlockSource`` over a web3 connection (the anchoring chain's node)."""

    def __init__(self, w3: Web3, chain_id: int) -> None:
        self.w3 = w3
        self.chain_id = chain_id

    def __repr__(self) -> str:
        return f"Web3Blocks(chain={self.chain_id})"

    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def draw_header(self, number: int) -> DrawHeader | None:
        if number > self.head():
            return None
        block = self.w3.eth.get_block(number)
        mix = block.get("mixHash", block.get("prevRandao"))
        return DrawHeader(block_hash=_hex32(block["hash"]), prevrandao=_hex32(mix))


def draw_blocks(anchoring: AnchoringWorker | None) -> BlockSource | None:
    """The draw's block source: the anchoring worker's first (the service's own) chain —
    its sender itself when it reads headers (a test chain), else its web3 node."""
    if anchoring is None:
        return None
    sender = anchoring.sender
    if hasattr(sender, "draw_header"):
        return cast(BlockSource, sender)  # a test chain's sender: it reads headers too
    w3 = getattr(sender, "w3", None)
    return Web3Blocks(w3, int(sender.chain_id)) if w3 is not None else None


def seed_anchor(session: Session, case_id: str, chain_id: int) -> int | None:
    """The block number, on ``chain_id``, of the confirmed anchor of the case's latest
    ``jury.seed_committed`` step (None: not anchored there yet)."""
    step_id = session.exec(select(Step.id).where(
        col(Step.case_id) == case_id, col(Step.kind) == "jury.seed_committed").order_by(
        col(Step.sequence).desc()).limit(1)).first()
    if step_id is None:
        return None
    found = session.exec(select(AnchorInclusion.block_number).join(
        Leaf, col(Leaf.batch_id) == col(AnchorInclusion.batch_id)).where(
        col(Leaf.kind) == LeafKind.STEP, col(Leaf.ref_id) == step_id,
        col(AnchorInclusion.chain_id) == chain_id,
        col(AnchorInclusion.status) == AnchorStatus.CONFIRMED)).first()
    return int(found) if found is not None else None


class JuryDrawGate:
    """The checks above, called by the step pipeline for the two draw steps."""

    def __init__(self, pool: PoolService, blocks: BlockSource | None) -> None:
        self.pool = pool
        self.blocks = blocks

    def _source(self) -> BlockSource:
        if self.blocks is None:
            raise ChainUnavailable("no anchoring chain is configured: the service cannot read "
                                   "the draw block, so it draws no jury")
        return self.blocks

    def _head(self) -> int:
        try:
            return self._source().head()
        except ChainUnavailable:
            raise
        except Exception as exc:
            raise ChainUnavailable(f"the anchoring chain's node did not answer: {exc}") \
                from None

    def check(self, session: Session, case: p.CaseState, command: p.Command) -> None:
        if isinstance(command, p.CommitJurySeed):
            self._check_commit(session, case, command)
        elif isinstance(command, p.DrawJury):
            self._check_draw(session, case, command)

    def _check_commit(self, session: Session, case: p.CaseState,
                      cmd: p.CommitJurySeed) -> None:
        snap = self.pool.snapshot_of(session, case)
        if cmd.pool != snap.pool or cmd.pool_hash != snap.pool_hash:
            raise BadSubmission(
                f"pool: the service's snapshot of round {snap.round} holds {len(snap.pool)} "
                f"assessor(s) hashing to {snap.pool_hash}; the step names {len(cmd.pool)} "
                f"hashing to {cmd.pool_hash} (GET /cases/{{id}}/jury/snapshot)",
                code="pool_snapshot_mismatch")
        head = self._head()
        if cmd.draw_block <= head:
            raise BadSubmission(f"drawBlock {cmd.draw_block}: the anchoring chain is at block "
                                f"{head}; the draw block must be in its future",
                                code="draw_block_not_future")

    def _check_draw(self, session: Session, case: p.CaseState, cmd: p.DrawJury) -> None:
        blocks = self._source()
        number = case.jury.draw_block
        assert number is not None  # the core refused a draw without a commitment
        try:
            header = blocks.draw_header(number)
        except Exception as exc:
            raise ChainUnavailable(f"the anchoring chain's node did not answer: {exc}") \
                from None
        if header is None:
            raise Conflict(f"block {number} of chain {blocks.chain_id} does not exist yet: "
                           "draw after it", code="draw_block_pending")
        if (cmd.block_hash, cmd.prevrandao) != (header.block_hash, header.prevrandao):
            raise BadSubmission(
                f"block {number} of chain {blocks.chain_id} has hash {header.block_hash} and "
                f"prevrandao {header.prevrandao}; the step names {cmd.block_hash} and "
                f"{cmd.prevrandao}", code="draw_block_mismatch")
        anchored = seed_anchor(session, case.case_id, blocks.chain_id)
        if anchored is None or anchored >= number:
            where = "not anchored yet" if anchored is None else f"anchored in block {anchored}"
            raise Conflict(f"the seed commitment of round {case.jury.round} is {where} on chain "
                           f"{blocks.chain_id}; it must be anchored before the draw block "
                           f"{number}", code="seed_not_anchored")
