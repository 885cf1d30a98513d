"""The page's actions (backend/web/static/actions.js) against the service's prepared records.

The page no longer builds records: it signs the typed data ``POST /cases/{id}/steps/prepare``
returns. Here the digest a wallet computes of that typed data (@metamask/eth-sig-util)
equals the record hash the service announces (and checks), for every record type the pages
sign, including extreme values; the page's own check (``mismatch``) refuses prepared steps
that differ from what the user entered. Also: amounts parsed into base units exactly (no
float), bad amounts refused with a code, and the canonical JSON of payloads.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from evidence.records import (
    Award,
    CourtConfirmation,
    Domain,
    Objection,
    ProceduralStep,
    Record,
    Settlement,
    SettlementOffer,
    canonical_json,
)
from tests.backend.web.web_world import WebWorld

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
    return json.loads(done.stdout)


def _records() -> list[Record]:
    return [
        ProceduralStep(case_id=CASE, sequence=7, prev_hash=PREV, actor=ADDR,
                       action="offer.accepted", payload_hash="0x" + "12" * 32,
                       signed_at=1_795_000_000),
        ProceduralStep(case_id=CASE, sequence=0, prev_hash="0x" + "00" * 32, actor=ADDR,
                       action="record.closed", payload_hash="0x" + "00" * 32, signed_at=0),
        SettlementOffer(case_id=CASE, sequence=2**64 - 1, prev_hash=PREV, offeror=ADDR,
                        order_id=BIG, to_buyer=BIG, to_seller=0, compensation=BIG,
                        expires_at=2**64 - 1, signed_at=2**64 - 2),
        Settlement(order_id=BIG, case_id=CASE, to_buyer=BIG, to_seller=1, compensation=0),
        Award(order_id=43, case_id=CASE, to_buyer=BIG, to_seller=0, compensation=7,
              award_hash="0x" + "34" * 32, round=1),
        Objection(case_id=CASE, sequence=9, prev_hash=PREV, objector=ADDR,
                  award_record_hash="0x" + "34" * 32, reasons_hash="0x" + "56" * 32,
                  signed_at=1_795_000_000),
        CourtConfirmation(case_id=CASE, sequence=12, prev_hash=PREV, court=ADDR,
                          package_hash="0x" + "78" * 32, award_record_hash="0x" + "00" * 32,
                          confirmed=False, reasons_hash="0x" + "9a" * 32,
                          court_reference="（2026）浙01民特17号", signed_at=1_795_000_000),
    ]


def test_service_typed_data_digest_equals_the_record_hash_at_the_limits() -> None:
    """The typed data the service hands out (``typed_data_json``) hashes in a wallet to the
    record hash, even for uint256/uint64 maxima (decimal strings) and non-ASCII text."""
    records = _records()
    out = _run({"typed": [r.typed_data_json(DOMAIN) for r in records]})
    assert out["digests"] == ["0x" + r.digest(DOMAIN).hex() for r in records]


def _prepare(world: WebWorld, who: str, case_id: str, action: str,
             payload: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{world.base}/cases/{case_id}/steps/prepare",
                   headers={"Authorization": f"Bearer {world.token(who)}"},
                   json={"action": action, "payload": payload}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def test_prepared_steps_hash_in_the_wallet_as_the_service_says(world: WebWorld) -> None:
    """page == server: what the page hands the wallet is the service's prepared typed data,
    and a wallet's digest of it is the record hash the service will check."""
    buyer = world.clients["buyer"].address
    prepared = [
        _prepare(world, "buyer", world.case2, "offer.made", {
            "toBuyer": "48500000", "toSeller": "431500000", "compensation": "10000000",
            "expiresAt": "1900000000"}),
        _prepare(world, "seller", world.case2, "arbitration.agreed", {}),
        _prepare(world, "mediator", world.case_id, "impasse.declared", {}),
        _prepare(world, "buyer", world.case2, "facilitation.requested", {}),
    ]
    typed = [p["typedData"] for p in prepared] + [
        a["typedData"] for p in prepared for a in p["attachments"]]
    hashes = [p["recordHash"] for p in prepared] + [
        a["recordHash"] for p in prepared for a in p["attachments"]]
    domain = prepared[0]["typedData"]["domain"]
    fields = {"toBuyer": "48500000", "toSeller": "431500000", "compensation": "10000000",
              "expiresAt": "1900000000"}
    checks = [
        {"prepared": prepared[0], "action": "offer.made", "fields": fields, "viewer": buyer,
         "domain": domain},
        # the service (or anyone between) changed the refund: the page refuses to sign
        {"prepared": {**prepared[0], "typedData": {**prepared[0]["typedData"], "message": {
            **prepared[0]["typedData"]["message"], "toBuyer": "480000000"}}},
         "action": "offer.made", "fields": fields, "viewer": buyer, "domain": domain},
        {"prepared": prepared[0], "action": "offer.made", "fields": fields, "viewer": buyer,
         "domain": {**domain, "chainId": "1"}},
        {"prepared": prepared[0], "action": "offer.made", "fields": fields,
         "viewer": world.clients["seller"].address, "domain": domain},
        {"prepared": prepared[0], "action": "offer.accepted", "fields": {}, "viewer": buyer,
         "domain": domain},
        {"prepared": {**prepared[0], "attachments": [{**prepared[0]["attachments"][0],
                                                      "typedData": {"message": {
                                                          "compensation": "0"}}}]},
         "action": "offer.made", "fields": fields, "viewer": buyer, "domain": domain},
    ]
    arb = world.clients["arbitrator"].address
    appoint = {"action": "appoint.arbitrator", "typedData": {"domain": domain, "message": {
        "actor": buyer}}, "payload": {"role": "arbitrator", "appointees": [arb]},
        "attachments": []}
    checks += [  # addresses compare in any case; another address does not
        {"prepared": appoint, "action": "appoint.arbitrator", "viewer": buyer.lower(),
         "fields": {"role": "arbitrator", "appointees": [arb.lower()]}, "domain": domain},
        {"prepared": appoint, "action": "appoint.arbitrator", "viewer": buyer,
         "fields": {"role": "arbitrator", "appointees": [buyer]}, "domain": domain}]
    out = _run({"typed": typed, "mismatch": checks})
    assert out["digests"] == hashes
    assert out["mismatch"] == ["", "toBuyer", "domain", "signer", "action", "compensation",
                               "", "appointees"]
    assert prepared[0]["attachments"][0]["recordType"] == "Settlement"


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
