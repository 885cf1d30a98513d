"""The page's record builder (backend/web/actions.js) against evidence.records.

The page builds the EIP-712 typed data of every record it signs from the type strings of
docs/evidence.md; here its digest (computed by @metamask/eth-sig-util, what a wallet signs)
must equal ``evidence.records``' record hash for the same fields, so a record signed in the
browser is the record the service checks. Also: amounts parsed into base units exactly (no
float), bad amounts refused with a code, and the canonical JSON of payloads.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from evidence.records import (
    Domain,
    Objection,
    ProceduralStep,
    Record,
    Settlement,
    SettlementOffer,
    canonical_json,
)

pytestmark = pytest.mark.node

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
DOMAIN = Domain(chain_id=31_415_926,
                verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
CASE = "0x" + "c0ffee".ljust(64, "0")
PREV = "0x" + "ab" * 32
ADDR = "0xFf1846a08877a70E07Fe32e06f57E7c0DE942405"
BIG = 2**256 - 1


def _run(req: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(["node", str(HERE / "digests.cjs")], input=json.dumps(req), cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _records() -> list[Record]:
    return [
        ProceduralStep(case_id=CASE, sequence=7, prev_hash=PREV, actor=ADDR,
                       action="offer.accepted", payload_hash="0x" + "12" * 32,
                       signed_at=1_795_000_000),
        ProceduralStep(case_id=CASE, sequence=0, prev_hash="0x" + "00" * 32, actor=ADDR,
                       action="record.closed", payload_hash="0x" + "00" * 32, signed_at=0),
        SettlementOffer(case_id=CASE, sequence=3, prev_hash=PREV, offeror=ADDR, order_id=43,
                        to_buyer=48_500_000, to_seller=431_500_000, compensation=10_000_000,
                        expires_at=1_795_172_800, signed_at=1_795_000_000),
        SettlementOffer(case_id=CASE, sequence=2**64 - 1, prev_hash=PREV, offeror=ADDR,
                        order_id=BIG, to_buyer=BIG, to_seller=0, compensation=BIG,
                        expires_at=2**64 - 1, signed_at=2**64 - 2),
        Settlement(order_id=43, case_id=CASE, to_buyer=48_500_000, to_seller=431_500_000,
                   compensation=10_000_000),
        Objection(case_id=CASE, sequence=9, prev_hash=PREV, objector=ADDR,
                  award_record_hash="0x" + "34" * 32, reasons_hash="0x" + "56" * 32,
                  signed_at=1_795_000_000),
    ]


def test_page_typed_data_digest_equals_the_record_hash() -> None:
    records = _records()
    cases = [{"type": r.TYPE_NAME, "domain": DOMAIN.to_json_obj(), "message": r.to_json_obj()}
             for r in records]
    out = _run({"cases": cases, "amounts": [], "format": [], "canonical": []})
    assert out["digests"] == ["0x" + r.digest(DOMAIN).hex() for r in records]
    # One changed field (or another domain) changes the digest: the builder binds them all.
    moved = {**cases[2], "message": {**cases[2]["message"], "toBuyer": "48500001"}}
    other = {**cases[2], "domain": {**cases[2]["domain"], "chainId": "1"}}
    out2 = _run({"cases": [moved, other], "amounts": [], "format": [], "canonical": []})
    assert len({*out2["digests"], out["digests"][2]}) == 3


AMOUNTS = [("48.5", "48500000"), ("0", "0"), ("0.000001", "1"), ("480", "480000000"),
           (" 12.340000 ", "12340000"), ("007.1", "7100000"),
           (f"{BIG // 10**6}.{BIG % 10**6:06d}", str(BIG)),
           ("", "error:amount_required"), ("   ", "error:amount_required"),
           ("12,5", "error:amount_format"), ("1e6", "error:amount_format"),
           ("-1", "error:amount_format"), ("+1", "error:amount_format"),
           (".5", "error:amount_format"), ("5.", "error:amount_format"),
           ("0x10", "error:amount_format"), ("1 000", "error:amount_format"),
           ("NaN", "error:amount_format"), ("١٢", "error:amount_format"),
           ("1.1234567", "error:amount_decimals")]


def test_amounts_parse_exactly_into_base_units() -> None:
    out = _run({"cases": [], "amounts": [[t, 6] for t, _ in AMOUNTS],
                "format": [["48500000", 6], ["1", 6], ["0", 6], [str(BIG), 6]],
                "canonical": []})
    assert out["amounts"] == [want for _, want in AMOUNTS]
    assert out["formatted"] == ["48.500000", "0.000001", "0.000000",
                                _dec(BIG)]


def _dec(v: int) -> str:
    return f"{v // 10**6}.{v % 10**6:06d}"


def test_amount_round_trip() -> None:
    """Many values of every magnitude in one run (exact where a float would round)."""
    rng = random.Random(4)
    values = [rng.randrange(0, 2 ** rng.randrange(1, 257)) for _ in range(400)]
    values += [2**53 + 1, 10**28 + 1, 9_007_199_254_740_993]
    texts = [_dec(v) for v in values]
    out = _run({"cases": [], "amounts": [[t, 6] for t in texts],
                "format": [[str(v), 6] for v in values], "canonical": []})
    assert out["amounts"] == [str(v) for v in values]
    assert out["formatted"] == texts


def test_payload_canonical_json_matches() -> None:
    payloads = [{}, {"offerId": "0x" + "ab" * 32, "settlementHash": "0x" + "cd" * 32},
                {"b": "2", "a": ["x", {"z": 1, "y": "é"}]}]
    out = _run({"cases": [], "amounts": [], "format": [], "canonical": payloads})
    assert [c.encode() for c in out["canonical"]] == [canonical_json(p) for p in payloads]
