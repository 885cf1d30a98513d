"""Chain-world snapshots: a case of the package tests run once per process, restored after.

The package tests (tests/backend/package) each replay a whole case on a real EVM: dozens of
signed steps, anchoring transactions and a time-stamp per anchored root, about 2-5 s of CPU
a case. A driver of ``package_world`` (``run_to_award`` ...) called on a fresh ``chain_world``
restores the case another test of this process already ran instead: the SQLite database
(SQLite's backup API), the data directory (uploads, the package cache), the EVM at the block
the case ended on, the clock and the case id. The time-stamps in the restored database were
signed by the same authority (the package tests' ``local_tsa`` is one per process), so the
package verifies against it as if the test had run the steps.

The EVM: every chain world deploys the same contracts from the same keys, so the addresses
and the order id are the same on every chain; a restore points the test's Web3 at the
builder's in-process chain (the ``chain_world``s of a process share one:
``package_world.SharedChain``), reverted to the block the case ended on (eth-tester keeps
every block, so a snapshot can be restored any number of times; ``recanonicalise`` below).
A later test's transactions on it are undone by the next restore.

Only a world nothing has happened to restores: no case, nothing written through the API,
the chain and the clock where ``make_chain_world`` left them, the client's requests not
wrapped by the test (which would then miss the driver's answers). Anything else replays.
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from web3 import Web3

from tests.support.snapshots import Stages, copy_database, sqlite_path

if TYPE_CHECKING:
    from tests.backend.package.package_world import ChainWorld

# written by the app when it starts, read into memory then: never carried over
_APP_OWN = ("session.secret",)


@dataclass(frozen=True)
class ChainSnapshot:
    database: Path
    data: Path
    tester: Any  # the builder's EthereumTester, kept for this snapshot alone
    block: int  # its snapshot of the block the case ended on
    now: datetime
    case_id: str
    result: Any


def _tester(w3: Web3) -> Any:
    return w3.provider.ethereum_tester  # type: ignore[attr-defined]  # web3 declares None


def recanonicalise(w3: Web3) -> None:
    """Make the head's ancestors the chain's blocks by number again, and their
    transactions found by hash.

    py-evm reverts to a block by making it the head; it re-maps block numbers only back to
    the first number already mapped to a block of the new head's line. A snapshot on one
    line, restored after a revert to an older block grew another line, leaves the numbers
    between mapped to the other line's blocks (a block's hash read by number, which the
    service checks for reorganisations, would differ). Walking the whole line back to
    genesis (a few dozen blocks) mends that. Numbers past the head keep the other line's
    blocks (py-evm's record of gaps expects them) until the chain grows over them.
    """
    chaindb = _tester(w3).backend.chain.chaindb
    db = chaindb.db
    header = chaindb.get_canonical_head()
    while True:
        chaindb._add_block_number_to_hash_lookup(db, header)
        for index, tx in enumerate(chaindb.get_block_transaction_hashes(header)):
            chaindb._add_transaction_to_canonical_chain(db, tx, header, index)
        if header.block_number == 0:
            return
        header = chaindb.get_block_header_by_hash(header.parent_hash)


class ChainSnapshots(Stages["ChainWorld", ChainSnapshot]):
    """The process's chain-world snapshots, keyed by stage and by how the world was made."""

    @staticmethod
    def fresh(cw: ChainWorld) -> bool:
        w = cw.world
        return (bool(cw.recipe) and not w.case_id and not w.touched
                and "request" not in vars(w.client) and sqlite_path(w.db_url) is not None
                and cw.w3.eth.block_number == cw.fresh_block
                and w.clock.now == cw.fresh_now)

    def key(self, stage: str, cw: ChainWorld) -> tuple[Any, ...] | None:
        return (stage, cw.recipe, id(cw.tsa)) if self.fresh(cw) else None

    def take(self, where: Path, cw: ChainWorld, result: Any) -> ChainSnapshot:
        database = where / "db.sqlite3"
        src = sqlite_path(cw.world.db_url)
        assert src is not None  # fresh() checked
        copy_database(src, database)
        data = where / "data"
        shutil.copytree(cw.data_dir, data, ignore=shutil.ignore_patterns(*_APP_OWN))
        tester = _tester(cw.w3)
        # the next test's world is a new chain: this one is the snapshot's from now on
        return ChainSnapshot(database=database, data=data, tester=tester,
                             block=tester.take_snapshot(), now=cw.world.clock.now,
                             case_id=cw.case_id, result=copy.deepcopy(result))

    def restore(self, s: ChainSnapshot, cw: ChainWorld) -> Any:
        w = cw.world
        dst = sqlite_path(w.db_url)
        assert dst is not None
        copy_database(s.database, dst)
        shutil.copytree(s.data, cw.data_dir, dirs_exist_ok=True)
        cw.w3.provider.ethereum_tester = s.tester  # type: ignore[attr-defined]  # web3 declares None
        s.tester.revert_to_snapshot(s.block)
        recanonicalise(cw.w3)
        w.clock.now = s.now
        w.case_id = s.case_id
        for actor in w.actors.values():  # sessions are signed with this app's own secret
            actor.token = None
        return copy.deepcopy(s.result)
