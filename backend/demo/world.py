"""What the acts of the story share: the composed service (``World``), the people
(``Cast``) and what one act hands to the next (``Story``).

``World`` is the operator's side: it runs the background work at once after a step
(``POST /admin/tick``) and reads the confirmed anchor batches from the database to print
them. ``Story`` is the case's side: the order, the case, and the figures read back from the
chain that the result line reports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias, TypedDict

from backend.demo.clients import Client
from backend.demo.printing import Printer
from backend.settings import Settings

if TYPE_CHECKING:  # the demo imports the service's parts when it composes them
    import httpx
    from eth_account.signers.local import LocalAccount
    from fastapi import FastAPI

    from backend.api.context import AppContext
    from backend.chain import EscrowContract, TokenContract
    from backend.gateway import ChainHandle, Deployment
    from backend.performance.simulator import CarrierSimulator
    from evidence.judicial import Report

__all__ = ["CHAIN_KIND", "Act", "BatchShown", "Cast", "ResultLine", "Scenario", "Story", "World"]

# The chain action a step's response lists, shown as that step's tx.
CHAIN_KIND = {"appoint.arbitrator": "appoint_arbitrator", "award.issued": "submit_award"}


def _str(value: object) -> str | None:
    """A member of an answer that is text (None when absent or not text)."""
    return value if isinstance(value, str) else None




#: The JSON object of a scenario's last stdout line (its members are whatever ``json.dumps``
#: writes: numbers, text, lists and objects of them).
ResultLine: TypeAlias = "dict[str, object]"

class BatchShown(TypedDict):
    """An anchor batch the demo prints: its root, its first inclusion's transaction and
    block, its leaf count, and whether a TSA token stamps it."""

    id: int | None
    root: str
    tx: str | None
    leaves: int
    block: int | None
    stamped: bool
@dataclass
class World:
    """The service the demo composed, the chain it runs on, and the printer."""

    settings: Settings
    handle: ChainHandle
    deployment: Deployment
    clock: Callable[[], datetime]
    printer: Printer
    tsa_root: Path | None = None  # the local TSA's root certificate, which the court pins
    app: FastAPI | None = None
    carrier: CarrierSimulator | None = None  # a configured webhook sender (run.compose_service)
    admin: Client | None = None
    seen_batches: set[int] = field(default_factory=set)
    stages: list[str] = field(default_factory=list)

    @property
    def ctx(self) -> AppContext:
        """The composed service's context (``run.compose_service`` sets ``app``)."""
        assert self.app is not None, "the service is composed first"
        ctx: AppContext = self.app.state.ctx
        return ctx

    def note_stage(self, stage: str) -> None:
        if not self.stages or self.stages[-1] != stage:
            self.stages.append(stage)

    def tick(self) -> list[BatchShown]:
        """Run the background work now (admin): deadlines, chain actions, anchoring, TSA."""
        assert self.admin is not None
        self.admin.post("/admin/tick")
        return self.new_batches()

    def new_batches(self) -> list[BatchShown]:
        """Anchor batches confirmed since the last look (the operator's view, from the DB)."""
        from sqlmodel import col, select

        from backend.db.models import AnchorBatch, AnchorInclusion, AnchorStatus

        with self.ctx.sessions() as session:
            rows = session.exec(select(AnchorBatch).where(
                col(AnchorBatch.status) == AnchorStatus.CONFIRMED)).all()
            first: dict[int, AnchorInclusion] = {}
            for inc in session.exec(select(AnchorInclusion).where(col(
                    AnchorInclusion.batch_id).in_([b.id for b in rows])).order_by(
                    col(AnchorInclusion.id))).all():
                first.setdefault(inc.batch_id, inc)
            fresh: list[BatchShown] = [{"id": b.id, "root": b.root, "tx": first[b.id].tx_hash,
                      "leaves": b.leaf_count, "block": first[b.id].block_number,
                      "stamped": b.timestamp_token is not None}
                     for b in rows if b.id not in self.seen_batches and b.id in first]
            self.seen_batches.update(b.id for b in rows if b.id is not None)
        return fresh

    def anchored_items(self, case_id: str) -> tuple[int, int]:
        """(leaves of the case in a confirmed batch, all leaves of the case)."""
        from sqlmodel import col, select

        from backend.db.models import AnchorBatch, AnchorStatus, Leaf

        with self.ctx.sessions() as session:
            leaves = session.exec(select(Leaf).where(col(Leaf.case_id) == case_id)).all()
            confirmed = {b.id for b in session.exec(select(AnchorBatch).where(
                col(AnchorBatch.status) == AnchorStatus.CONFIRMED)).all()}
        return sum(1 for leaf in leaves if leaf.batch_id in confirmed), len(leaves)

    def anchor(self) -> None:
        """Tick, and print every batch it confirmed."""
        for b in self.tick():
            self.show_batch(b)

    def show_batch(self, b: BatchShown) -> None:
        stamp = "RFC 3161 token 可信时间戳" if b["stamped"] else "no timestamp token"
        self.printer.console.print(
            f"      [green]⚓ anchored root 锚定根 {b['root']}[/] [dim]({b['leaves']} item(s), "
            f"block {b['block']}, tx {b['tx']}, {stamp})[/]")

    def shown(self, stage: str, who: Client, text: str, res: Mapping[str, object], *,
              tx: str | None = None, cid: str | None = None) -> None:
        """Print a signed step the service accepted (the answer of its endpoint, or the
        case view), then anchor it at once."""
        said = _str(res.get("stage"))
        stage = said if said is not None else stage
        self.note_stage(stage)
        kind = CHAIN_KIND.get(_str(res.get("action")) or "")
        actions = res.get("chainActions")
        txs = [str(a["txHash"]) for a in (actions if isinstance(actions, list) else [])
               if isinstance(a, dict) and a.get("txHash") and a["kind"] == kind]
        sequence = res.get("sequence")
        self.printer.step(stage, f"{who.label} {who.label_zh}", text,
                          tx=tx or (txs[-1] if txs else None), cid=cid or _str(res.get("cid")),
                          seq=sequence if isinstance(sequence, int) else None)
        self.anchor()


@dataclass(frozen=True)
class Cast:
    """The six people of the story, each at their own wallet."""

    buyer: Client
    seller: Client
    admin: Client
    mediator: Client
    arbitrator: Client
    court: Client

    def everyone(self) -> tuple[Client, ...]:
        return (self.buyer, self.seller, self.admin, self.mediator, self.arbitrator,
                self.court)


@dataclass
class Story:
    """What one act hands to the next: contracts, order, case, and figures read back."""

    cast: Cast
    http: httpx.Client  # on the served app
    escrow: EscrowContract
    token: TokenContract
    symbol: str
    institution: LocalAccount  # funds the parties' gas
    order_id: int = 0
    case_id: str = ""
    open_tx: str = ""
    contract_hash: str = ""  # the contract of sale signed at checkout (its EIP-712 digest)
    shipment_items: list[int] = field(default_factory=list)  # the carrier's recorded events
    price: int = 0
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    evidence_cids: list[str] = field(default_factory=list)
    award: tuple[int, int, int] = (0, 0, 0)  # to buyer, to seller, compensation
    award_record_hash: str = ""
    enforcement_tx: str = ""
    compensation_paid: int = -1
    package_path: Path | None = None
    package_bytes: bytes = b""
    manifest_sha: str | None = None
    report: Report | None = None  # the court's verification report


Act = Callable[[World, Story], None]


@dataclass(frozen=True)
class Scenario:
    """One story the demo tells (``scenarios.SCENARIOS``): the title it prints first (English,
    Simplified Chinese), its acts in order once everyone has signed in, and the function that
    reads the finished story into the JSON object of the last stdout line."""

    name: str
    title: tuple[str, str]
    acts: tuple[Act, ...]
    result: Callable[[World, Story], ResultLine]
