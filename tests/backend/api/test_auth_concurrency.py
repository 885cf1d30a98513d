"""Sign-in under concurrency, on SQLite and PostgreSQL: many wallets (and one wallet many
times) signing in at once all succeed — no "database is locked" on SQLite, no duplicate
account on PostgreSQL — and a signed message raced by several threads wins exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from sqlmodel import col, func, select

from backend.db import Account as AccountRow
from backend.db import AuthSession, make_engine, make_session_factory
from backend.services import auth as svc
from backend.services.errors import SignInRefused

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
LIFETIME = timedelta(minutes=5)
SECRET = b"concurrency-test-session-secret-32b"


def _race(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``n`` threads released together; results or exceptions."""
    out: list[Any] = [None] * n
    gate = threading.Barrier(n)

    def run(i: int) -> None:
        gate.wait()
        try:
            out[i] = work(i)
        except Exception as exc:  # collected and asserted by the test
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def _signed(sessions: Any, wallet: Any) -> tuple[str, str]:
    ch = svc.request_challenge(sessions, address=wallet.address, now=NOW,
                               domain="127.0.0.1:8000", uri="http://127.0.0.1:8000",
                               chain_id=31337, lifetime=LIFETIME)
    sig = wallet.sign_message(encode_defunct(text=ch.message)).signature
    return ch.message, "0x" + bytes(sig).hex()


def test_concurrent_sign_ins(clean_db_url: str) -> None:
    engine = make_engine(clean_db_url)
    sessions = make_session_factory(engine)
    try:
        wallets = [Account.create() for _ in range(6)]
        same = Account.create()  # one wallet's first sign-in from several tabs at once

        def one(i: int) -> svc.SignedIn:
            wallet = wallets[i] if i < len(wallets) else same
            message, sig = _signed(sessions, wallet)
            return svc.sign_in_unit(sessions, message=message, signature=sig, now=NOW,
                                    lifetime=LIFETIME, secret=SECRET)

        results = _race(12, one)
        errors = [r for r in results if isinstance(r, BaseException)]
        assert errors == []
        assert {r.address for r in results} == {w.address for w in wallets} | {same.address}
        with sessions() as s:
            assert s.exec(select(func.count()).select_from(AuthSession)).one() == 12
            assert s.exec(select(func.count()).select_from(AccountRow)
                          .where(col(AccountRow.address) == same.address)).one() == 1

        # one signed message raced by six threads: exactly one session, five replays
        wallet = Account.create()
        message, sig = _signed(sessions, wallet)
        raced = _race(6, lambda _i: svc.sign_in_unit(sessions, message=message, signature=sig,
                                                       now=NOW, lifetime=LIFETIME,
                                                       secret=SECRET))
        wins = [r for r in raced if isinstance(r, svc.SignedIn)]
        refused = [r for r in raced if isinstance(r, SignInRefused)]
        assert len(wins) == 1 and len(refused) == 5, raced
        assert all("already used" in str(r) for r in refused)

        # signing out races with authenticating: the token ends revoked
        svc.sign_out_unit(sessions, wins[0].token, NOW, SECRET)
        with sessions() as s:
            try:
                svc.authenticate(s, wins[0].token, NOW, SECRET)
            except Exception as exc:
                assert "signed out" in str(exc)
            else:
                raise AssertionError("a signed-out token still authenticates")
    finally:
        engine.dispose()
