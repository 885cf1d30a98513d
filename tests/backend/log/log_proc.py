"""An appending process for the crash tests (not a test module).

usage: log_proc.py DB_URL CASE_ID START COUNT [--die-at POINT --die-on N] [--deferred]

Stores COUNT leaves (ref ids START..), one write unit each, through ``enqueue_leaf``: the
anchoring queue's row and the log entry in one transaction, as a step does. With
--deferred, two leaves per write unit whose appends wait for its commit (log rule 8, as
the steps' group transactions do): COUNT is then the number of units. With
--die-at, SIGKILLs itself the N-th time an append reaches POINT: "counted" (log_head
updated), "entry" (log_entry written), "nodes" (nodes written, before commit) or
"committed" (just after the commit).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal

from backend.db import LeafKind, make_engine, make_session_factory, write_scope
from backend.log import store
from backend.log.store import defer_appends
from backend.worker import enqueue_leaf


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db_url")
    ap.add_argument("case_id")
    ap.add_argument("start", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--die-at")
    ap.add_argument("--die-on", type=int, default=1)
    ap.add_argument("--deferred", action="store_true")
    args = ap.parse_args()
    seen = 0

    def hook(point: str) -> None:
        nonlocal seen
        if point == args.die_at:
            seen += 1
            if seen == args.die_on:
                os.kill(os.getpid(), signal.SIGKILL)

    store.set_hook(hook)
    sessions = make_session_factory(make_engine(args.db_url))
    per = 2 if args.deferred else 1
    for u in range(args.count):
        ids = [args.start + per * u + j for j in range(per)]
        with write_scope(sessions) as s:
            if args.deferred:
                defer_appends(s)
            for i in ids:
                value = [args.case_id, "0x" + hashlib.sha256(f"record{i}".encode()).hexdigest(),
                         "0x" + hashlib.sha256(f"sigs{i}".encode()).hexdigest()]
                enqueue_leaf(s, kind=LeafKind.STEP, ref_id=i, case_id=args.case_id,
                             value=value)
        hook("committed")
        print(*ids, flush=True)


if __name__ == "__main__":
    main()
