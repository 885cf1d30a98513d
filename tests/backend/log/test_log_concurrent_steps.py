"""Steps submitted at once through HTTP (group commit on SQLite, row locks on
PostgreSQL): every accepted step's receipt names its own index, the indices are those of
the log with no gap, the refused ones (stale positions) took none, and the stored tree is
the tree of the entries."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from eth_account import Account
from sqlmodel import col, select

from backend.db.log_models import LogEntry
from backend.log import rebuild
from backend.services.chain import OrderInfo
from evidence.log import verify_receipt
from tests.support.world import (
    AMOUNT,
    GUARANTEE,
    INSTITUTION_KEY,
    World,
    make_world,
    ok,
    sha,
)

INSTITUTION = Account.from_key(INSTITUTION_KEY).address


def test_concurrent_steps_in_several_cases(clean_db_url: str, tmp_path: Path) -> None:
    w: World = make_world(clean_db_url, tmp_path, orders=())
    with w.client:
        cases = []
        for order_id in range(100, 104):
            w.port.add_order(OrderInfo(order_id=order_id, buyer=w.buyer.address,
                                       seller=w.seller.address, amount=AMOUNT,
                                       token="0x" + "11" * 20,
                                       institution=w.port.institution_address, status="Paid",
                                       case_id="0x" + "00" * 32, guarantee=GUARANTEE))
            case_id = w.open_case(order_id=order_id)
            payload = {"claimant": w.buyer.address, "respondent": w.seller.address,
                       "orderId": str(order_id), "disputeType": "not_as_described",
                       "remedy": "partial_refund", "claimedAmount": "400000000",
                       "statementHash": sha(b"cracked")}
            r = ok(w.buyer.post(f"/cases/{case_id}/filing", json={
                "record": w.buyer.step("case.filed", payload, case_id=case_id),
                "payload": payload}))
            cases.append((order_id, case_id, r["recordHash"]))
        receipts: list[dict[str, Any]] = []
        refused = 0

        def chain(order_id: int, case_id: str, prev: str) -> tuple[list[dict[str, Any]], int]:
            got, stale = [], 0
            for j in range(5):
                who = w.buyer if j % 2 == 0 else w.seller
                body, _ = who.offer_at(case_id, order_id, 1 + j, prev, 1_000 * (j + 1))
                # the same position twice at once: one wins, the other is refused
                twin, _ = who.offer_at(case_id, order_id, 1 + j, prev, 2_000 * (j + 1))
                path = f"/cases/{case_id}/offers"
                with ThreadPoolExecutor(2) as pool:
                    answers = list(pool.map(who.post, [path, path], [body, twin]))
                won = [a for a in answers if a.status_code == 201]
                assert len(won) == 1, [a.text for a in answers]
                stale += sum(a.status_code == 409 for a in answers)
                got.append(won[0].json())
                prev = won[0].json()["recordHash"]
            return got, stale

        _ = w.buyer.headers, w.seller.headers
        with ThreadPoolExecutor(len(cases)) as pool:
            for got, stale in pool.map(lambda c: chain(*c), cases):
                receipts += [g["receipt"] for g in got]
                refused += stale
        assert refused == 4 * 5
        indices = []
        for answer_receipt in receipts:
            r = verify_receipt(answer_receipt, [INSTITUTION]).receipt
            indices.append(r.index)
        assert len(set(indices)) == len(indices) == 20
        with w.app.state.ctx.sessions() as s:
            rows = s.exec(select(LogEntry).order_by(col(LogEntry.idx))).all()
            # 4 filings and 20 offers, no index lost to the refused twins
            assert [e.idx for e in rows] == list(range(24))
            by_index = {e.idx: e for e in rows}
            for answer_receipt in receipts:
                r = verify_receipt(answer_receipt, [INSTITUTION]).receipt
                assert by_index[r.index].entry == "0x" + r.entry.encode().hex()
            assert rebuild(s).consistent
