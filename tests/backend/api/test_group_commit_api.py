"""Concurrent step submissions through HTTP: group commit on SQLite, row locks on
PostgreSQL. Exactly one request wins each position of a case's step chain, the others
are refused as stale (409) with nothing of them stored; a refusal inside a group does
not touch the other steps of the group; a failed group commit fails its requests (503,
nothing stored) and the next group works."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func
from sqlmodel import Session, col, select

from backend.db import Leaf, Notice, Step
from backend.db.service_models import OfferSignature, StepDetail
from backend.services.chain import OrderInfo
from backend.services.steps import payload_hash
from evidence.records import ProceduralStep
from tests.support.world import AMOUNT, GUARANTEE, Actor, World, ok, sha, to_filed

TABLES = (Step, StepDetail, Leaf, OfferSignature, Notice)


def _counts(w: World) -> dict[str, int]:
    with w.app.state.ctx.sessions() as s:
        return {t.__tablename__: s.exec(select(func.count()).select_from(t)).one()
                for t in TABLES}


def _post_all(w: World, calls: list[tuple[Actor, str, dict[str, Any]]]) -> list[Any]:
    for who, _path, _body in calls:
        _ = who.headers  # sign in first, one at a time
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda c: c[0].post(c[1], json=c[2]), calls))


def _open_more_cases(w: World, n: int) -> list[tuple[int, str, str]]:
    """n more orders between the same buyer and seller, each with an opened and filed
    case; returns (order id, case id, last record hash)."""
    institution = w.port.institution_address
    out, main_case = [], w.case_id
    for order_id in range(100, 100 + n):
        w.port.add_order(OrderInfo(order_id=order_id, buyer=w.buyer.address,
                                   seller=w.seller.address, amount=AMOUNT,
                                   token="0x" + "11" * 20, institution=institution,
                                   status="Paid", case_id="0x" + "00" * 32,
                                   guarantee=GUARANTEE))
        case_id = w.open_case(order_id=order_id)
        payload = {"claimant": w.buyer.address, "respondent": w.seller.address,
                   "orderId": str(order_id), "disputeType": "not_as_described",
                   "remedy": "partial_refund", "claimedAmount": "400000000",
                   "statementHash": sha(b"cracked")}
        r = ok(w.buyer.post(f"/cases/{case_id}/filing", json={
            "record": w.buyer.step("case.filed", payload, case_id=case_id),
            "payload": payload}))
        out.append((order_id, case_id, r["recordHash"]))
    w.case_id = main_case  # open_case moved it
    return out


def test_one_position_many_claims_exactly_one_wins(world: World) -> None:
    w = world
    to_filed(w)
    seq, prev = w.buyer.head()
    before = _counts(w)
    calls = []
    for i in range(8):
        who = w.buyer if i % 2 == 0 else w.seller
        body, _ = who.offer_at(w.case_id, 7, seq, prev, 1_000 * (i + 1))
        calls.append((who, f"/cases/{w.case_id}/offers", body))
    results = _post_all(w, calls)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [409] * 7, [r.text for r in results]
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"stale_sequence"}
    after = _counts(w)
    # the winner's rows and nothing of the losers (notices depend on who won)
    assert {k: after[k] - before[k] for k in after if k != "notice"} == {
        "step": 1, "step_detail": 1, "leaf": 1, "offer_signature": 1}
    assert w.buyer.head() == (seq + 1, next(r.json()["recordHash"] for r in results
                                            if r.status_code == 201))


def test_chains_in_many_cases_at_once(world: World) -> None:
    w = world
    cases = _open_more_cases(w, 4)
    steps_per_case = 6
    before = _counts(w)
    failures: list[str] = []

    def chain(order_id: int, case_id: str, prev: str) -> list[int]:
        seqs: list[int] = []
        for j in range(steps_per_case):
            who = w.buyer if j % 2 == 0 else w.seller
            body, prev = who.offer_at(case_id, order_id, 1 + j, prev, 1_000 * (j + 1))
            r = who.post(f"/cases/{case_id}/offers", json=body)
            if r.status_code != 201:
                failures.append(r.text)
                return seqs
            seqs.append(r.json()["sequence"])
        return seqs

    _ = w.buyer.headers, w.seller.headers
    with ThreadPoolExecutor(len(cases)) as pool:
        results = list(pool.map(lambda c: chain(*c), cases))
    assert not failures
    assert results == [list(range(1, 1 + steps_per_case))] * len(cases)
    after = _counts(w)
    n = len(cases) * steps_per_case
    assert {k: after[k] - before[k] for k in after if k != "notice"} == {
        "step": n, "step_detail": n, "leaf": n, "offer_signature": n}
    with w.app.state.ctx.sessions() as s:  # every chain links record to record
        notices = {case_id: s.exec(select(func.count()).select_from(Notice).where(
            col(Notice.case_id) == case_id)).one() for _o, case_id, _h in cases}
        assert len(set(notices.values())) == 1, notices  # the same steps, the same notices
        for _order, case_id, _ in cases:
            steps = s.exec(select(Step).where(col(Step.case_id) == case_id)
                           .order_by(col(Step.sequence))).all()
            assert [x.sequence for x in steps] == list(range(1 + steps_per_case))
            for a, b in itertools.pairwise(steps):
                assert b.prev_hash == a.record_hash


@contextmanager
def _held_group(w: World) -> Iterator[Callable[[int], None]]:
    """Hold the SQLite group's write lock: the next submission becomes a leader blocked
    on it, its unit still queued; everything submitted meanwhile queues behind it and
    joins its group (the writers' lock is the committer's gate). Yields
    ``wait_queued(n)``."""
    service = w.app.state.ctx.service
    committer = service.transactions.committer

    def wait_queued(n: int) -> None:
        deadline = time.monotonic() + 20
        while committer.pending < n:
            assert time.monotonic() < deadline, f"{committer.pending} of {n} queued"
            time.sleep(0.005)

    service.repository.write_lock.acquire()
    try:
        yield wait_queued
    finally:
        if service.repository.write_lock.locked():
            service.repository.write_lock.release()


def _grouped(w: World, blocker: tuple[Actor, str, dict[str, Any]],
             calls: list[tuple[Actor, str, dict[str, Any]]],
             before_release: Callable[[], None] | None = None) -> tuple[Any, list[Any]]:
    """Post ``blocker`` (its leader waits at the held write lock), then ``calls`` in
    this order: one group, the blocker first; returns both responses once everything is
    answered."""
    for who, _p, _b in [blocker, *calls]:
        _ = who.headers
    committer = w.app.state.ctx.service.transactions.committer
    groups = committer.groups
    with ThreadPoolExecutor(len(calls) + 1) as pool, _held_group(w) as wait_queued:
        first = pool.submit(blocker[0].post, blocker[1], json=blocker[2])
        wait_queued(1)  # the blocker's leader waits for the write lock, its unit queued
        futures = []
        for i, (who, path, body) in enumerate(calls):
            futures.append(pool.submit(who.post, path, json=body))
            wait_queued(i + 2)  # a known order inside the group
        if before_release is not None:
            before_release()
        w.app.state.ctx.service.repository.write_lock.release()
        answers = first.result(30), [f.result(30) for f in futures]
    assert committer.groups == groups + 1  # the blocker's group, with the calls in it
    return answers


def test_a_refusal_inside_a_group_touches_only_its_own_request(sqlite_world: World) -> None:
    w = sqlite_world
    to_filed(w)
    (order_b, case_b, prev_b), = _open_more_cases(w, 1)
    seq, prev = w.buyer.head()
    blocker, prev_b1 = w.seller.offer_at(case_b, order_b, 1, prev_b, 5_000)
    won, won_hash = w.buyer.offer_at(w.case_id, 7, seq, prev, 1_000)
    # the claimant never answers: refused by the procedure after its savepoint began
    answer_payload = {"answerHash": sha(b"a")}
    refused = {"record": ProceduralStep(
        case_id=w.case_id, sequence=seq + 1, prev_hash=won_hash, actor=w.buyer.address,
        action="answer.submitted", payload_hash=payload_hash(answer_payload),
        signed_at=w.buyer.at()).sign(w.buyer.key.key, w.domain).to_json_obj(),
        "payload": answer_payload}
    after_refusal, _ = w.seller.offer_at(w.case_id, 7, seq + 1, won_hash, 2_000)
    stale, _ = w.seller.offer_at(w.case_id, 7, seq, prev, 3_000)
    other_case, _ = w.buyer.offer_at(case_b, order_b, 2, prev_b1, 6_000)
    before = _counts(w)
    first, answers = _grouped(w, (w.seller, f"/cases/{case_b}/offers", blocker), [
        (w.buyer, f"/cases/{w.case_id}/offers", won),
        (w.buyer, f"/cases/{w.case_id}/answer", refused),
        (w.seller, f"/cases/{w.case_id}/offers", after_refusal),
        (w.seller, f"/cases/{w.case_id}/offers", stale),
        (w.buyer, f"/cases/{case_b}/offers", other_case),
    ])
    assert first.status_code == 201, first.text
    got = [(r.status_code, r.json().get("code"), r.json().get("sequence")) for r in answers]
    assert got == [(201, None, seq), (403, "wrong_actor", None), (201, None, seq + 1),
                   (409, "stale_sequence", None), (201, None, 2)], [r.text for r in answers]
    after = _counts(w)
    assert {k: after[k] - before[k] for k in after if k != "notice"} == {
        "step": 4, "step_detail": 4, "leaf": 4, "offer_signature": 4}
    assert w.buyer.head() == (seq + 2, answers[2].json()["recordHash"])


def test_a_failed_group_commit_fails_its_requests_and_the_next_group_works(
        sqlite_world: World) -> None:
    w = sqlite_world
    to_filed(w)
    (order_b, case_b, prev_b), = _open_more_cases(w, 1)
    seq, prev = w.buyer.head()
    blocker, _ = w.seller.offer_at(case_b, order_b, 1, prev_b, 5_000)
    first_a, hash_a = w.buyer.offer_at(w.case_id, 7, seq, prev, 1_000)
    second_a, _ = w.seller.offer_at(w.case_id, 7, seq + 1, hash_a, 2_000)
    sessions = w.app.state.ctx.sessions
    failed: list[int] = []

    def crash(session: Session) -> None:
        """The group of three fails at its commit (a disk error, say)."""
        if not session.in_nested_transaction() and not failed \
                and len(session.info.get("after_commit", [])) == 3:
            failed.append(1)
            raise OSError("simulated I/O error at commit")

    before = _counts(w)
    event.listen(sessions, "before_commit", crash)
    try:
        first, answers = _grouped(w, (w.seller, f"/cases/{case_b}/offers", blocker), [
            (w.buyer, f"/cases/{w.case_id}/offers", first_a),
            (w.seller, f"/cases/{w.case_id}/offers", second_a)])
    finally:
        event.remove(sessions, "before_commit", crash)
    assert failed
    assert [(r.status_code, r.json()["code"]) for r in [first, *answers]] == \
        [(503, "commit_failed")] * 3
    assert "nothing of it was stored" in answers[0].json()["detail"]
    after = _counts(w)
    assert {k: after[k] - before[k] for k in after if k != "notice"} == {
        "step": 0, "step_detail": 0, "leaf": 0, "offer_signature": 0}
    assert w.buyer.head() == (seq, prev)
    # the same signed records again: accepted, in order
    assert ok(w.seller.post(f"/cases/{case_b}/offers", json=blocker))["sequence"] == 1
    assert ok(w.buyer.post(f"/cases/{w.case_id}/offers", json=first_a))["sequence"] == seq
    assert ok(w.seller.post(f"/cases/{w.case_id}/offers", json=second_a))["sequence"] == seq + 1


def test_concurrent_steps_share_groups_on_both_databases(world: World) -> None:
    """SQLite and PostgreSQL: steps of different cases sent at once are committed in
    shared groups (PostgreSQL under each case's row lock, issue 10), every one stored."""
    w = world
    to_filed(w)
    cases = _open_more_cases(w, 6)
    committer = w.app.state.ctx.service.transactions.committer
    _ = w.seller.headers
    hold, running = threading.Event(), threading.Event()

    def gate(_session: Session) -> None:  # keeps the committer busy while the steps queue
        running.set()
        hold.wait(20)

    with ThreadPoolExecutor(len(cases) + 1) as pool:
        gated = pool.submit(committer.submit, gate)
        assert running.wait(20)
        groups = committer.groups
        futures = []
        for i, (order, case_id, prev) in enumerate(cases):
            body, _ = w.seller.offer_at(case_id, order, 1, prev, 2_000)
            futures.append(pool.submit(w.seller.post, f"/cases/{case_id}/offers", json=body))
            deadline = time.monotonic() + 20
            while committer.pending < i + 1:
                assert time.monotonic() < deadline, f"{committer.pending} of {i + 1} queued"
                time.sleep(0.005)
        hold.set()
        gated.result(20)
        answers = [f.result(30) for f in futures]
    assert [r.status_code for r in answers] == [201] * len(cases), [r.text for r in answers]
    assert committer.groups == groups + 2  # the gate's, then one group of all six steps
    with w.app.state.ctx.sessions() as s:
        for _order, case_id, _prev in cases:
            assert s.exec(select(func.count()).select_from(Step).where(
                col(Step.case_id) == case_id)).one() == 2  # filed, then the offer


def test_same_case_racing_chains_stay_linked(world: World) -> None:
    """Two parties race down one case, each re-signing on the head they see after every
    stale refusal: positions are never lost or doubled, and the chain links."""
    w, n = world, 24
    to_filed(w)
    _ = w.buyer.headers, w.seller.headers
    accepted: list[int] = []
    lock = threading.Lock()

    def race(who: Actor) -> None:
        while True:
            with lock:
                if len(accepted) >= n:
                    return
            seq, prev = who.head()
            body, _ = who.offer_at(w.case_id, 7, seq, prev, 1_000 + seq)
            r = who.post(f"/cases/{w.case_id}/offers", json=body)
            if r.status_code == 201:
                with lock:
                    accepted.append(r.json()["sequence"])
            else:
                assert (r.status_code, r.json()["code"]) == (409, "stale_sequence"), r.text

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(race, [w.buyer, w.seller]))
    assert sorted(accepted) == sorted(set(accepted))
    with w.app.state.ctx.sessions() as s:
        steps = s.exec(select(Step).where(col(Step.case_id) == w.case_id)
                       .order_by(col(Step.sequence))).all()
        assert [x.sequence for x in steps] == list(range(len(steps)))
        for a, b in itertools.pairwise(steps):
            assert b.prev_hash == a.record_hash
        details = s.exec(select(func.count()).select_from(StepDetail).where(
            col(StepDetail.case_id) == w.case_id)).one()
        assert details == len(steps)
