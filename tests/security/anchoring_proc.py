"""A second process writing to the same database: an anchoring worker (not a test module).

usage: python -m tests.security.anchoring_proc DB_URL STOP_FILE   (from the repo root)

Runs ``AnchoringWorker.run_once`` on an automining in-memory chain (``FakeChain``) until
STOP_FILE exists, then once more, and prints one JSON line:
{"rounds": n, "claimed": n, "errors": [...]}.
It inherits ``CHAINARB_WRITE_GUARD=raise`` from the test, so a write of the worker outside
a write unit fails this process too.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from backend.db import make_engine, make_session_factory
from backend.worker.anchoring import AnchoringWorker
from tests.support.anchor_chain import FakeChain


def main() -> None:
    db_url, stop = sys.argv[1], Path(sys.argv[2])
    chain = FakeChain()
    chain.refuse_future_nonces = True  # the test's worker holds the other half of the chain
    worker = AnchoringWorker(make_session_factory(make_engine(db_url)), chain, batch_limit=7)
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
