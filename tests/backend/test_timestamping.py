"""backend.timestamping.TsaPool against real `openssl ts` authorities on loopback: the first
that answers stamps, one that is down rests and is asked again later, a rejection or a token
from an authority outside the configured certificates counts as a failure, and the anchoring
worker's rounds are never held up by an authority that is down.

Only the pool's clock is the tests' clock (tests/support/clock.py, to end a rest without
sleeping); the authorities, the HTTP and the tokens are real.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlmodel import col, select

from backend.db import AnchorBatch, Case, make_engine, make_session_factory, session_scope
from backend.timestamping import TsaPool
from backend.worker import AnchoringWorker
from evidence.timestamp import (
    TimestampRequestError,
    load_certificates,
    parse_response,
    request_timestamp,
)
from tests.support.anchor_chain import FakeChain
from tests.support.clock import Clock
from tests.support.tsa import LocalTSA, start_tsa

DIGEST = hashlib.sha256(b"an anchored root").digest()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalTSA, LocalTSA]]:
    with start_tsa(tmp_path_factory.mktemp("tsa-a")) as a, \
            start_tsa(tmp_path_factory.mktemp("tsa-b"), key="rsa") as b:
        yield a, b


def signer(token: bytes) -> str | None:
    return parse_response(token).signer_sha256


def fingerprint(tsa: LocalTSA) -> str:
    cert = x509.load_pem_x509_certificate(tsa.tsa_pem.read_bytes())
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def make_pool(urls: list[str], *tsas: LocalTSA, clock: Clock) -> tuple[TsaPool, list[str]]:
    """A pool trusting `tsas`' roots; the list records every URL it asked, in order."""
    asked: list[str] = []

    def request(url: str, digest: bytes) -> bytes:
        asked.append(url)
        return request_timestamp(url, digest, timeout=5)

    trusted = [c for t in tsas for c in load_certificates(t.ca_pem.read_bytes())]
    return TsaPool(urls, trusted, request=request, clock=clock.seconds), asked


def restart(tsa: LocalTSA) -> None:
    port = int(tsa.url.rsplit(":", 1)[1].strip("/"))
    tsa.stop()
    tsa.start(port)


def test_one_authority_down_for_a_while(pair: tuple[LocalTSA, LocalTSA]) -> None:
    a, b = pair
    clock = Clock()
    pool, asked = make_pool([a.url, b.url], a, b, clock=clock)
    assert signer(pool(DIGEST)) == fingerprint(a) and asked == [a.url]

    port = int(a.url.rsplit(":", 1)[1].strip("/"))
    a.stop()
    try:
        asked.clear()
        assert signer(pool(DIGEST)) == fingerprint(b)  # at once, from the other
        assert asked == [a.url, b.url]
        first = pool.authorities[0]
        assert first.failures == 1 and first.rest_until == clock.seconds() + 30
        asked.clear()
        clock.advance(29)  # resting: not asked, nothing waits for it
        assert signer(pool(DIGEST)) == fingerprint(b) and asked == [b.url]
        clock.advance(2)  # the rest is over, it is still down: asked, rests twice as long
        asked.clear()
        assert signer(pool(DIGEST)) == fingerprint(b) and asked == [a.url, b.url]
        assert first.failures == 2 and first.rest_until == clock.seconds() + 60
    finally:
        a.start(port)
    asked.clear()
    assert signer(pool(DIGEST)) == fingerprint(b) and asked == [b.url]  # still resting
    clock.advance(61)  # back, and its rest is over: asked first again, and it stamps
    asked.clear()
    assert signer(pool(DIGEST)) == fingerprint(a) and asked == [a.url]
    assert pool.authorities[0].failures == 0 and pool.authorities[0].last_error == ""


def test_rests_double_up_to_the_cap(pair: tuple[LocalTSA, LocalTSA]) -> None:
    _a, b = pair
    clock = Clock()
    down = "http://127.0.0.1:9/"  # the discard port: nothing answers
    pool, _ = make_pool([down], b, clock=clock)
    rests = []
    for _ in range(7):
        with pytest.raises(TimestampRequestError, match="could not be reached"):
            pool(DIGEST)
        rests.append(pool.authorities[0].rest_until - clock.seconds())
        clock.advance(pool.authorities[0].rest_until - clock.seconds())
    assert rests == [30, 60, 120, 240, 480, 600, 600]


def test_a_rejection_rests_the_authority(pair: tuple[LocalTSA, LocalTSA]) -> None:
    a, b = pair
    pool, asked = make_pool([a.reject_url, b.url], a, b, clock=Clock())
    assert signer(pool(DIGEST)) == fingerprint(b)
    assert "refused" in pool.authorities[0].last_error
    assert asked == [a.reject_url, b.url]


def test_a_swapped_authority_is_refused(pair: tuple[LocalTSA, LocalTSA], tmp_path: Path
                                        ) -> None:
    """The first URL now answers with tokens of an authority whose certificate is not among
    the configured ones: valid tokens, but not from whom the configuration names."""
    a, b = pair
    with start_tsa(tmp_path / "stranger") as stranger:
        pool, asked = make_pool([stranger.url, b.url], a, b, clock=Clock())
        token = pool(DIGEST)
    assert signer(token) == fingerprint(b) and asked == [stranger.url, b.url]
    assert "trust" in pool.authorities[0].last_error


def test_all_down_fails_naming_each_then_the_first_to_wake_is_asked(
        pair: tuple[LocalTSA, LocalTSA]) -> None:
    a, b = pair
    clock = Clock()
    pool, asked = make_pool([a.url, b.url], a, b, clock=clock)
    port_a = int(a.url.rsplit(":", 1)[1].strip("/"))
    port_b = int(b.url.rsplit(":", 1)[1].strip("/"))
    a.stop()
    b.stop()
    try:
        with pytest.raises(TimestampRequestError) as err:
            pool(DIGEST)
        assert a.url in str(err.value) and b.url in str(err.value)
        assert "stamped on a later round" in str(err.value)
        b.start(port_b)
        clock.advance(1)  # both rest; b's rest ends a moment after a's: a is asked, alone
        asked.clear()
        with pytest.raises(TimestampRequestError):
            pool(DIGEST)
        assert asked == [a.url]
        asked.clear()  # now a rests 60 s, b 30 s: b wakes first and stamps
        assert signer(pool(DIGEST)) == fingerprint(b) and asked == [b.url]
    finally:
        a.start(port_a)
        if b._server is None:
            b.start(port_b)


def test_the_worker_is_not_held_up(pair: tuple[LocalTSA, LocalTSA], clean_db_url: str) -> None:
    """The anchoring worker with A down: every batch of the round is confirmed and stamped by
    B in that round; A back and rested: the next batch is stamped by A."""
    from backend.db import LeafKind, write_scope
    from backend.worker import enqueue_leaf

    a, b = pair
    case = "0x" + "c7" * 32
    engine = make_engine(clean_db_url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as s:
        s.add(Case(id=case, order_id="7", claimant="0x" + "aa" * 20,
                   respondent="0x" + "bb" * 20, stage="FILED"))

    def add(start: int, n: int) -> None:
        with write_scope(sessions) as s:
            for i in range(start, start + n):
                enqueue_leaf(s, kind=LeafKind.STEP, ref_id=i, case_id=case,
                             value=[case, "0x" + hashlib.sha256(b"r%d" % i).hexdigest(),
                                    "0x" + "00" * 32])

    clock = Clock()
    pool, _ = make_pool([a.url, b.url], a, b, clock=clock)
    worker = AnchoringWorker(sessions, FakeChain(), batch_limit=2, timestamper=pool)
    port = int(a.url.rsplit(":", 1)[1].strip("/"))
    a.stop()
    try:
        add(0, 6)
        report = worker.run_once()
        assert len(report.confirmed) == 3 and len(report.stamped) == 3, report
        assert not report.errors
    finally:
        a.start(port)
    clock.advance(31)
    add(6, 1)
    report = worker.run_once()
    assert len(report.stamped) == 1
    with sessions() as s:
        batches = s.exec(select(AnchorBatch).order_by(col(AnchorBatch.id))).all()
    assert [signer(bt.timestamp_token or b"") for bt in batches] == \
        [fingerprint(b)] * 3 + [fingerprint(a)]
    engine.dispose()
