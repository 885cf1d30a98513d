"""A fake of the anchoring worker's chain side (``AnchorSender``): an automining node with one
EvidenceAnchor and one sending account, shared by the worker's tests and the settings' ones.

It keeps the two properties of EvidenceAnchor and a node that matter to the worker: a
root's first record is final (later anchors are no-ops), and a nonce is used once.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from backend.worker import BroadcastError, Inclusion, NonceConflictError, SignedTx

__all__ = ["FakeChain"]


class FakeChain:
    """An automining node with one EvidenceAnchor and one sending account."""

    chain_id = 4242
    contract = "0x" + "a0" * 20

    def __init__(self) -> None:
        self.nonce = 0  # next nonce of the account
        self.pool: dict[str, dict[str, Any]] = {}  # tx_hash -> tx (not mined, nonce gap)
        self.mined: dict[str, Inclusion] = {}
        self.mined_tx: dict[str, dict[str, Any]] = {}
        self.anchors: dict[str, str] = {}  # root hex -> tx hash of the first anchoring
        self.blocks: list[str] = ["0x" + "00" * 32]
        self.fail_broadcasts = 0
        self.automine = True
        # Two workers in two processes each hold a FakeChain of their own, standing for one
        # chain: a nonce ahead of this fake's was taken on the other fake, so it is refused
        # as a real node refuses a used one (the worker re-signs) instead of waiting in the
        # pool for a gap nothing here fills (tests/security/test_write_discipline.py).
        self.refuse_future_nonces = False
        self.durable_calls = 0

    # AnchorSender -----------------------------------------------------------------------
    def next_nonce(self) -> int:
        return self.nonce + len(self.pool)

    def sign_anchor(self, root: bytes, count: int, nonce: int) -> SignedTx:
        raw = json.dumps({"root": "0x" + root.hex(), "count": count, "nonce": nonce}).encode()
        return SignedTx(raw=raw, tx_hash="0x" + hashlib.sha256(raw).hexdigest(), nonce=nonce)

    def broadcast(self, raw: bytes) -> None:
        if self.fail_broadcasts:
            self.fail_broadcasts -= 1
            raise BroadcastError("node unavailable (injected)")
        tx = json.loads(raw)
        h = "0x" + hashlib.sha256(raw).hexdigest()
        if h in self.mined or h in self.pool:
            return  # already known
        if tx["nonce"] < self.nonce:
            raise NonceConflictError(f"nonce too low: {tx['nonce']} < {self.nonce}")
        if self.refuse_future_nonces and tx["nonce"] > self.nonce:
            raise NonceConflictError(f"nonce {tx['nonce']} used on the other worker's chain "
                                     f"(this one is at {self.nonce})")
        self.pool[h] = tx
        if self.automine:
            self.mine_pool()

    def receipt(self, tx_hash: str) -> Inclusion | None:
        return self.mined.get(tx_hash)

    def find_anchor(self, root: bytes) -> Inclusion | None:
        h = self.anchors.get("0x" + root.hex())
        return self.mined[h] if h else None

    def head(self) -> int:
        return len(self.blocks) - 1

    def block_hash(self, number: int) -> str | None:
        return self.blocks[number] if number < len(self.blocks) else None

    def make_durable(self) -> None:
        self.durable_calls += 1

    # test controls ----------------------------------------------------------------------
    def mine_pool(self) -> None:
        progressed = True
        while progressed:
            progressed = False
            for h, tx in list(self.pool.items()):
                if tx["nonce"] == self.nonce:
                    del self.pool[h]
                    self._mine(h, tx)
                    progressed = True

    def _mine(self, h: str, tx: dict[str, Any]) -> None:
        self.nonce += 1
        number = len(self.blocks)
        self.blocks.append("0x" + hashlib.sha256(f"block{number}".encode()).hexdigest())
        self.mined[h] = Inclusion(h, number, self.blocks[number],
                                  datetime(2030, 1, 1, tzinfo=UTC), True)
        self.mined_tx[h] = tx
        self.anchors.setdefault(tx["root"], h)

    def empty_block(self) -> None:
        self.blocks.append("0x" + hashlib.sha256(f"block{len(self.blocks)}".encode()).hexdigest())

    def other_tx_takes_nonce(self) -> None:
        """The service's own transaction (same account) uses the next nonce."""
        self._mine("0x" + hashlib.sha256(f"other{self.nonce}".encode()).hexdigest(),
                   {"nonce": self.nonce, "root": "other", "count": 0})

    def anchor_txs_per_root(self) -> Counter[str]:
        return Counter(tx["root"] for tx in self.mined_tx.values() if tx["root"] != "other")
