"""A second process writing to the same database: an anchoring worker (not a test module).

usage: anchoring_proc.py DB_URL STOP_FILE

Runs ``AnchoringWorker.run_once`` on an automining in-memory chain until STOP_FILE exists,
then once more, and prints one JSON line: {"rounds": n, "claimed": n, "errors": [...]}.
It inherits ``CHAINARB_WRITE_GUARD=raise`` from the test, so a write of the worker outside
a write unit fails this process too.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from backend.db import make_engine, make_session_factory
from backend.worker.anchoring import AnchoringWorker, Inclusion, SignedTx


class AutoMiner:
    """An automining chain with one EvidenceAnchor: every broadcast is mined at once."""

    chain_id = 4242
    contract = "0x" + "a0" * 20

    def __init__(self) -> None:
        self.nonce = 0
        self.mined: dict[str, Inclusion] = {}
        self.roots: dict[str, str] = {}

    def next_nonce(self) -> int:
        return self.nonce

    def sign_anchor(self, root: bytes, count: int, nonce: int) -> SignedTx:
        raw = json.dumps({"root": "0x" + root.hex(), "count": count, "nonce": nonce}).encode()
        return SignedTx(raw=raw, tx_hash="0x" + hashlib.sha256(raw).hexdigest(), nonce=nonce)

    def broadcast(self, raw: bytes) -> None:
        h = "0x" + hashlib.sha256(raw).hexdigest()
        if h in self.mined:
            return
        self.nonce += 1
        block = "0x" + hashlib.sha256(f"block{self.nonce}".encode()).hexdigest()
        self.mined[h] = Inclusion(h, self.nonce, block, datetime(2030, 1, 1, tzinfo=UTC))
        self.roots.setdefault(json.loads(raw)["root"], h)

    def receipt(self, tx_hash: str) -> Inclusion | None:
        return self.mined.get(tx_hash)

    def find_anchor(self, root: bytes) -> Inclusion | None:
        h = self.roots.get("0x" + root.hex())
        return self.mined[h] if h else None

    def head(self) -> int:
        return self.nonce

    def block_hash(self, number: int) -> str | None:
        for inc in self.mined.values():
            if inc.block_number == number:
                return inc.block_hash
        return None

    def make_durable(self) -> None:
        pass


def main() -> None:
    db_url, stop = sys.argv[1], Path(sys.argv[2])
    worker = AnchoringWorker(make_session_factory(make_engine(db_url)), AutoMiner(),
                             batch_limit=7)
    rounds = claimed = 0
    errors: list[str] = []
    while True:
        last = stop.exists()
        report = worker.run_once()
        rounds += 1
        claimed += len(report.claimed)
        errors += report.errors
        if last:
            break
        time.sleep(0.02)
    print(json.dumps({"rounds": rounds, "claimed": claimed, "errors": errors}), flush=True)


if __name__ == "__main__":
    main()
