"""The service process the fault tests start, kill and restart (not a test module).

usage: fault_server.py WORK PORT ANVIL_URL ANCHOR KEY SEED CLIENTS [DB_URL]

uvicorn serving `create_app` on WORK/data (SQLite there, or DB_URL), the local blockstore in
WORK/data/ipfs, the background tick every 0.2 s with anchoring at once on the anvil at
ANVIL_URL (EvidenceAnchor at ANCHOR, institution key KEY). The escrow is the in-memory port
holding one paid order per client (keys derived from SEED), rebuilt identically at every
start: the escrow is not what these tests break.

Kill points, so a test kills the process at the worst moment rather than at a random one:
when the file WORK/die-at exists, its content names where this process SIGKILLs itself:
- ``before-commit:<table>``: in the transaction that inserted into <table>, just before the
  database commit (the commit never happens);
- ``after-commit:<table>``: right after that commit reached the database, before any answer;
- ``anchor:<point>``: at the anchoring worker's hook point (claimed, signed, broadcast,
  confirmed).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

WORK = Path(sys.argv[1])
DIE_AT = WORK / "die-at"
CHAIN_ID = 31_337
ESCROW = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
AMOUNT = 1_000_000_000
GUARANTEE = 100_000_000


def party_key(seed: str, i: int, who: str) -> Any:
    from eth_account import Account

    return Account.from_key(hashlib.sha256(f"faults:{seed}:{who}:{i}".encode()).digest())


def _die_at() -> str:
    try:
        return DIE_AT.read_text().strip()
    except FileNotFoundError:
        return ""


def _die() -> None:
    sys.stderr.write(f"fault_server: SIGKILL at {_die_at()}\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install_kill_points(app: Any) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "before_cursor_execute")
    def _seen(conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        point = _die_at()
        if ":" in point and not point.startswith("anchor:"):
            table = point.split(":", 1)[1]
            if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()} "):
                conn.info["fault_insert"] = True

    @event.listens_for(Engine, "commit")
    def _commit(conn: Any) -> None:
        if not conn.info.pop("fault_insert", False):
            return
        point = _die_at()
        if point.startswith("before-commit:"):
            _die()
        if point.startswith("after-commit:"):
            conn.connection.dbapi_connection.commit()  # the commit reaches the database
            _die()

    def hook(point: str) -> None:
        if _die_at() == f"anchor:{point}":
            _die()

    anchoring = app.state.ctx.anchoring
    anchoring._hook = hook


def main() -> None:
    import uvicorn
    from eth_account import Account
    from web3 import HTTPProvider, Web3

    from backend.api.app import create_app
    from backend.services.chain import FakeEscrowPort, OrderInfo
    from backend.settings import Settings
    from backend.worker import Web3AnchorSender

    _work, port, anvil_url, anchor, key, seed, clients = sys.argv[1:8]
    db = sys.argv[8] if len(sys.argv) > 8 else ""
    institution = Account.from_key(key).address
    fake = FakeEscrowPort(chain_id=CHAIN_ID, escrow=ESCROW, institution=institution)
    for i in range(int(clients)):
        fake.add_order(OrderInfo(order_id=i + 1, buyer=party_key(seed, i, "buyer").address,
                                 seller=party_key(seed, i, "seller").address, amount=AMOUNT,
                                 token="0x" + "11" * 20, institution=institution,
                                 status="Paid", case_id="0x" + "00" * 32,
                                 guarantee=GUARANTEE))
    settings = Settings(data_dir=WORK / "data", database_url=db, port=int(port),
                        institution_key=key, tick_seconds=0.2, anchor_interval_seconds=0)
    w3 = Web3(HTTPProvider(anvil_url, request_kwargs={"timeout": 5}))
    sender = Web3AnchorSender(w3, anchor, key)
    app = create_app(settings, port=fake, anchor_sender=sender)
    install_kill_points(app)
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
