"""The HTTP share of a signed step, in process: everything but the service's work.

Why: a step's HTTP share (the edge, routing, authentication, the body, the receipt, the
answer, the thread-pool trip) is a few tenths of a millisecond in 3–5 ms of an offer, less
than ``bench/inprocess.py``'s run-to-run noise on a shared machine. Here one real offer is
stored, then ``CaseService.submit_step`` gives that offer's result again without storing
anything, and the same request (``bench/inprocess.py``'s hand-made ASGI call) is sent
``--requests`` times: the process CPU per request is the HTTP share with the receipt
(signed anew each time), and no database, disk or crypto of the step itself.
Last line: ``http_share_cpu_ms_per_step=<ms>``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api
from inprocess import call


async def run(work: Path, requests: int, endpoint: str) -> float:
    import httpx

    seed = os.urandom(4).hex()
    app = api._app(work / "data", 8000, 1, seed)
    party = api.Party(key=api._key(seed, 0, "buyer"), order_id=1)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            await api.setup_party(http, party, asyncio.Semaphore(1), asyncio.Lock())
        seq, prev = party._next
        api.presign(party, party._domain, seq, prev, 1, int(time.time()))
        body = (party.offers or [])[0]
        service = app.state.ctx.service
        real = service.submit_step
        results: list[Any] = []

        def once(*args: Any) -> Any:
            results.append(real(*args))
            return results[-1]

        path = f"/cases/{party.case_id}/{endpoint}"
        service.submit_step = once
        status, answer = await call(app, "POST", path, party.token, body)
        if status != 201:
            raise SystemExit(f"the offer was refused: {status} {answer[:200]!r}")
        service.submit_step = lambda *_args: results[0]
        for _ in range(min(200, requests)):  # warm
            await call(app, "POST", path, party.token, body)
        cpu = time.process_time()
        for _ in range(requests):
            status, _answer = await call(app, "POST", path, party.token, body)
            if status != 201:
                raise SystemExit(f"answered {status}")
        return 1000 * (time.process_time() - cpu) / requests


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--endpoint", default="offers", help="offers (typed) or steps (generic)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="chainarb-bench-http-share-"))
    os.environ.pop("BENCH_API_DB", None)
    try:
        per_step = asyncio.run(run(work, args.requests, args.endpoint))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"POST /cases/{{id}}/{args.endpoint}: {per_step:.3f} ms of process CPU per step "
          f"(the HTTP share and the receipt; {args.requests} requests)")
    print(f"http_share_cpu_ms_per_step={per_step:.3f}")


if __name__ == "__main__":
    main()
