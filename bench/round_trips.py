"""PostgreSQL round trips per signed offer and per case view, counted on the wire.

Why: on PostgreSQL a request's statements each wait for the server (a round trip: the
client's and the server's CPU for a message each way, and the latency), and some of them
are not the request's own queries (the pool's ping, psycopg's ``BEGIN``, the pool's
``ROLLBACK`` on return) so a statement counter on the engine does not see them. Here every
connection of the app's pools is traced by libpq itself (``PQtrace``), and each phase of
``bench/inprocess.py`` (the offers one at a time, then the case views) is counted: the
client's simple-protocol ``Query`` messages and extended-protocol ``Sync`` messages (each
one answer waited for: a round trip, pipeline mode aside) and the ``Execute``/``Query``
statements, with the statements' texts most often sent.

``python bench/round_trips.py [--cases 3] [--offers 5] [--reads 30]``: a fresh database
on ``--postgres-url``'s server, dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import IO, Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api
import inprocess
from stages import StageClock


class Wire:
    """Traces every new pooled PostgreSQL connection into one file; ``reset``/``report``
    are the phase marks ``inprocess.run`` gives its clock."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.mark = 0
        self.trips: dict[str, float] = {}  # phase -> round trips per request, as reported

    def install(self) -> None:
        from psycopg import pq
        from sqlalchemy import event
        from sqlalchemy.pool import Pool

        def connect(dbapi_connection: Any, _record: Any) -> None:
            pgconn = getattr(dbapi_connection, "pgconn", None)
            if pgconn is not None:
                pgconn.trace(self.file.fileno())
                pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

        event.listen(Pool, "connect", connect)

    def _since_mark(self) -> list[str]:
        end = self.file.seek(0, os.SEEK_END)
        self.file.seek(self.mark)
        text = self.file.read(end - self.mark).decode(errors="replace")
        self.mark = end
        return [line for line in text.splitlines() if line.startswith("F\t")]

    def reset(self) -> None:
        self._since_mark()

    def report(self, n: int, what: str) -> list[str]:
        sent = [line.split("\t", 3) for line in self._since_mark()]
        kinds = Counter(parts[2].strip() for parts in sent if len(parts) > 2)
        texts: Counter[str] = Counter()
        for parts in sent:
            kind = parts[2].strip() if len(parts) > 3 else ""
            if kind in ("Query", "Parse"):  # Query "text"; Parse "name" "text" n types
                body = parts[3].strip()
                body = body.split('" "', 1)[-1] if kind == "Parse" else body[1:]
                texts[body.rsplit('"', 1)[0][:90]] += 1
        trips = kinds["Query"] + kinds["Sync"]
        self.trips[what] = trips / n
        lines = [f"{what}: {n}; per {what}: round trips (Query + Sync) {trips / n:.2f}, "
                 f"statements (Query + Execute) {(kinds['Query'] + kinds['Execute']) / n:.2f}"]
        lines += [f"  {count / n:6.2f}  {text}" for text, count in texts.most_common(14)]
        return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=3)
    ap.add_argument("--offers", type=int, default=5, help="offers per case")
    ap.add_argument("--reads", type=int, default=30)
    ap.add_argument("--postgres-url", default=os.environ.get(
        "CHAINARB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    args.concurrency, args.profile = 1, ""
    with tempfile.TemporaryFile() as trace:
        wire = Wire(trace)
        wire.install()
        _run(args, wire)
    if "read" in wire.trips:
        print(f"round_trips_per_read={wire.trips['read']:.2f}")
    print(f"round_trips_per_offer={wire.trips['offer']:.2f}")


def _run(args: argparse.Namespace, wire: Wire) -> None:
    work = Path(tempfile.mkdtemp(prefix="chainarb-bench-trips-"))
    pg_db = f"chainarb_bench_{os.urandom(4).hex()}"
    os.environ["BENCH_API_DB"] = api._pg_create(args.postgres_url, pg_db)
    try:
        asyncio.run(inprocess.run(args, work, cast(StageClock, wire)))  # reset, report
    finally:
        shutil.rmtree(work, ignore_errors=True)
        api._pg_drop(args.postgres_url, pg_db)


if __name__ == "__main__":
    main()
