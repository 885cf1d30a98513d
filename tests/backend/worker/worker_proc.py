"""A worker process for the multi-process tests (not a test module).

usage: worker_proc.py DB_URL DATA_DIR ANCHOR_ADDRESS BATCH_LIMIT [--die-at POINT]
       [--barrier DIR NAME COUNT]

Attaches to the embedded chain of DATA_DIR, runs the anchoring worker until nothing is
left, and prints one JSON line per claimed batch: {"batch": id, "leaves": [ids]}.
With --die-at, SIGKILLs itself the first time the worker reaches POINT.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from pathlib import Path

from sqlmodel import col, select

from backend.db import AnchorBatch, AnchorStatus, Leaf, make_engine, make_session_factory
from backend.gateway import open_chain
from backend.log import checkpointer_from_settings
from backend.settings import Settings
from backend.worker import AnchoringWorker, Web3AnchorSender


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db_url")
    ap.add_argument("data_dir")
    ap.add_argument("anchor")
    ap.add_argument("limit", type=int)
    ap.add_argument("--die-at")
    ap.add_argument("--barrier", nargs=3)
    args = ap.parse_args()

    settings = Settings(data_dir=args.data_dir)
    sessions = make_session_factory(make_engine(args.db_url))
    chain = open_chain(settings)
    sender = Web3AnchorSender(chain.w3, args.anchor, settings.institution_private_key(),
                              durable=chain.flush)

    def hook(point: str) -> None:
        if point == args.die_at:
            os.kill(os.getpid(), signal.SIGKILL)

    worker = AnchoringWorker(sessions, sender, batch_limit=args.limit, hook=hook,
                             checkpointer=checkpointer_from_settings(settings))
    if args.barrier:
        folder, name, count = Path(args.barrier[0]), args.barrier[1], int(args.barrier[2])
        (folder / f"ready-{name}").touch()
        while len(list(folder.glob("ready-*"))) < count:
            time.sleep(0.01)
    seen: set[int] = set()
    while True:
        report = worker.run_once()
        with sessions() as s:
            for bid in report.claimed:
                ids = s.exec(select(Leaf.id).where(col(Leaf.batch_id) == bid)).all()
                print(json.dumps({"batch": bid, "leaves": sorted(ids)}), flush=True)
                seen.add(bid)
            open_batches = s.exec(select(AnchorBatch.id).where(
                col(AnchorBatch.status).in_([AnchorStatus.PENDING, AnchorStatus.SENT]))).all()
            pending = s.exec(select(Leaf.id).where(col(Leaf.batch_id).is_(None))).first()
        if not open_batches and pending is None:
            break
        if report.idle:
            time.sleep(0.05)


if __name__ == "__main__":
    main()
