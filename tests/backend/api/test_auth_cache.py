"""The session cache in front of token lookups: expiry is checked on every request,
sign-out through the process is immediate, a revocation made elsewhere is seen within
the cache's TTL, and unknown or revoked tokens are never remembered."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col

from backend.db import AuthSession
from backend.services.auth import SessionCache, token_digest
from tests.support.world import World


class Ticker:
    """The cache's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _me(w: World, token: str) -> tuple[int, str]:
    r = w.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    return r.status_code, r.json().get("code", r.json().get("address"))


def ticker_secret(w: World) -> bytes:
    return bytes(w.app.state.ctx.auth_cache.secret)


def _use_ticker(w: World, ttl: float = 5.0) -> Ticker:
    ticker = Ticker()
    w.app.state.ctx.auth_cache = SessionCache(ttl, secret=w.app.state.ctx.auth_cache.secret,
                                              monotonic=ticker)
    return ticker


def test_revocation_elsewhere_is_seen_within_the_ttl(world: World) -> None:
    w = world
    ticker = _use_ticker(w)
    token = w.buyer.sign_in()
    assert _me(w, token) == (200, w.buyer.address)  # now cached
    # revoked behind the process's back (another worker process, an operator)
    with w.app.state.ctx.sessions() as s:
        s.execute(sa.update(AuthSession).where(
            col(AuthSession.token_sha256) == token_digest(token, ticker_secret(w))).values(
            revoked_at=w.clock.now))
        s.commit()
    ticker.t += 4.9
    assert _me(w, token) == (200, w.buyer.address)  # within the TTL: still the cached answer
    ticker.t += 0.2
    assert _me(w, token) == (401, "auth_required")  # after it: the database's answer
    ticker.t += 100
    assert _me(w, token) == (401, "auth_required")  # refusals are never cached as live


def test_sign_out_here_is_immediate_and_expiry_is_checked_on_every_hit(world: World) -> None:
    w = world
    _use_ticker(w, ttl=3600)
    token = w.buyer.sign_in()
    assert _me(w, token) == (200, w.buyer.address)
    # the session expires by the service's clock while the entry is fresh
    w.clock.advance(seconds=w.app.state.ctx.settings.session_lifetime_seconds + 1)
    status, code = _me(w, token)
    assert (status, code) == (401, "auth_required")
    w.clock.advance(seconds=-(w.app.state.ctx.settings.session_lifetime_seconds + 1))
    assert _me(w, token) == (200, w.buyer.address)
    r = w.client.post("/auth/sign-out", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 204
    assert _me(w, token) == (401, "auth_required")  # no TTL wait after a local sign-out


def test_unknown_and_malformed_tokens_are_refused_and_not_remembered(world: World) -> None:
    w = world
    cache = w.app.state.ctx.auth_cache
    for bad in ("nope", "x" * 43, ""):
        r = w.client.get("/auth/me", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401
        assert cache.cached(bad, w.clock.now) is None
    r = w.client.get("/auth/me")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert not any(len(k) < 60 for k in cache._entries)  # digests only, never tokens


def test_forget_drops_only_its_own_entry() -> None:
    from datetime import UTC, datetime

    cache = SessionCache(10, secret=b"k" * 32, max_entries=2)
    later = datetime(2030, 1, 1, tzinfo=UTC)
    cache._entries = {token_digest(t, b"k" * 32): ("0xA", later + timedelta(days=1), 1e18)
                      for t in ("a", "b")}
    assert cache.cached("a", later) == "0xA"
    cache.forget("a")
    assert cache.cached("a", later) is None and cache.cached("b", later) == "0xA"
