"""One whole case through the portal, on the real composition (embedded chain, contracts,
escrow port, anchoring, background ticks): each person in their own chromium context with
their own wallet, from the claim to the court's confirmation, every page held to the
harness's checks (loopback only, axe-core, no script error) and screenshotted.

The parts whose pages have not landed are done here through the API with the person's own
key, between the browser runs, and listed in ``NOT_IN_PAGES_YET``: the test fails when the
list changes without the test changing with it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from backend.demo.clients import Client, upload_evidence
from backend.demo.files import (
    ANSWER,
    award_document,
    make_invoice_pdf,
    make_photo_jpeg,
    statement_of_claim,
)
from tests.portal.chain_world import PRICE, UNIT, ChainWorld, chain_world
from tests.portal.portal import assert_clean, assert_screenshots, run_scenario, shots_dir

pytestmark = pytest.mark.node

NAMES = ("buyer", "seller", "admin", "mediator", "arbitrator", "court")
# The steps of this case done through the API because no page offers them yet.
NOT_IN_PAGES_YET = ("file the claim (case, filing, first evidence)",
                    "pay the escrow freeze (raiseDispute)",
                    "register the court and give it the case",
                    "download the judicial package")
PROFILES = {
    "buyer": {"name": "Lena Fischer", "nameZh": "莱娜·菲舍尔", "country": "DE"},
    "seller": {"name": "Shenzhen Brightway Lighting", "nameZh": "深圳明路照明",
               "country": "CN"},
    "mediator": {"name": "Maria Rossi", "nameZh": "玛丽亚·罗西", "country": "IT"},
    "arbitrator": {"name": "Dr. Chen Wei", "nameZh": "陈伟博士", "country": "SG"},
}


def person_key(name: str) -> LocalAccount:
    return Account.from_key(hashlib.sha256(f"chainarb-portal-e2e:{name}".encode()).digest())


@pytest.fixture(scope="module")
def keys() -> dict[str, LocalAccount]:
    return {n: person_key(n) for n in NAMES}


@pytest.fixture(scope="module")
def cw(tmp_path_factory: pytest.TempPathFactory,
       keys: dict[str, LocalAccount]) -> Iterator[ChainWorld]:
    with chain_world(tmp_path_factory.mktemp("portal-chain"),
                     admins=[keys["admin"].address]) as w:
        yield w


def api_client(cw: ChainWorld, http: httpx.Client, name: str, key: LocalAccount) -> Client:
    c = Client(name, name, key, http, lambda: datetime.now(UTC))
    c.sign_in()
    return c


def file_claim_through_api(cw: ChainWorld, http: httpx.Client, buyer: Client, seller: str,
                           order_id: int) -> str:
    """What the party's page will do: open the case, file, first evidence; the buyer's
    wallet then freezes the escrow."""
    case_id: str = buyer.post("/cases", {"orderId": str(order_id)})["caseId"]
    filing = {"claimant": buyer.address, "respondent": seller, "orderId": str(order_id),
              "disputeType": "not_as_described", "remedy": "partial_refund",
              "claimedAmount": str(240 * UNIT),
              "statementHash": "0x" + hashlib.sha256(statement_of_claim(order_id)).hexdigest()}
    buyer.post(f"/cases/{case_id}/filing", buyer.plain(case_id, "case.filed", filing))
    upload_evidence(buyer, case_id, "photo", "first-photo.jpg", "image/jpeg",
                    make_photo_jpeg())
    cw.escrow.raise_dispute(buyer.key, order_id, bytes.fromhex(case_id[2:]))
    return case_id


def court_package_through_api(cw: ChainWorld, admin: Client, court: Client,
                              case_id: str) -> str:
    """What the institution's and the court's pages will do: register the court, give it
    the case, download the package; the manifest digest the court's decision names."""
    admin.post("/admin/courts", {"address": court.address, "name": "Hangzhou Internet Court",
                                 "nameZh": "杭州互联网法院", "country": "CN"})
    admin.post(f"/cases/{case_id}/courts", {"court": court.address})

    last: list[str] = []

    def package() -> str | None:
        r = court.send("GET", f"/cases/{case_id}/judicial-package")
        last[:] = [f"{r.status_code} {r.text[:300] if r.status_code != 200 else ''}"]
        return r.headers.get("X-Package-Manifest-Sha256") if r.status_code == 200 else None

    try:
        digest: str = cw.wait_for("the judicial package", package, timeout=90)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: last answer {last}") from None
    return digest


def files(order_id: int, case_id: str) -> dict[str, Any]:
    def f(name: str, mime: str, content: bytes) -> dict[str, Any]:
        return {"name": name, "mime": mime, "base64": True,
                "content": base64.b64encode(content).decode()}

    return {"photo": f("cracked-panel.jpg", "image/jpeg", make_photo_jpeg()),
            "invoice": f("invoice.pdf", "application/pdf", make_invoice_pdf(order_id, PRICE)),
            "answer": f("answer.txt", "text/plain", ANSWER),
            "award": f("award.md", "text/markdown", award_document(
                order_id, case_id, 180 * UNIT, 300 * UNIT, 42_500_000))}


LANGS = {"en-first": {"buyer": "en", "seller": "zh-Hans", "admin": "zh-Hans",
                      "mediator": "en", "arbitrator": "en", "court": "zh-Hans"}}


@pytest.mark.parametrize("langs", ["en-first"])
def test_whole_case_through_the_pages(cw: ChainWorld, keys: dict[str, LocalAccount],
                                      tmp_path: Path, langs: str) -> None:
    lang = LANGS[langs]
    order_id = cw.open_order(keys["buyer"], keys["seller"])
    for name in ("mediator", "arbitrator", "court", "admin"):
        cw.fund(name and keys[name].address)
    people = {n: {"key": "0x" + bytes(keys[n].key).hex(), "lang": lang[n],
                  **({"profile": PROFILES[n]} if n in PROFILES else {})} for n in NAMES}
    shots = shots_dir(tmp_path)
    with httpx.Client(base_url=cw.base, timeout=60) as http:
        api = {n: api_client(cw, http, n, keys[n]) for n in ("buyer", "admin", "court")}
        case_id = file_claim_through_api(cw, http, api["buyer"], keys["seller"].address,
                                         order_id)
        out = run_scenario("case", cw.base, {
            "phase": "parties", "caseId": case_id, "rpcUrl": cw.rpc_url, "people": people,
            "addresses": {n: keys[n].address for n in ("mediator", "arbitrator")},
            "files": files(order_id, case_id)}, shots, timeout=900)
        assert_clean(out)
        res = out["result"]
        assert res["finalStage"] == "enforced", res["steps"]
        assert [s["step"] for s in res["steps"]] == [
            "offer", "facilitation", "appoint_mediator", "preeval", "propose", "agree",
            "agree", "impasse", "appoint_arbitrator", "evidence", "evidence", "answer",
            "close", "award", "enforce"]
        # The award executed on the chain: the buyer's refund and compensation paid.
        order = cw.escrow.order(order_id)
        assert order.status != 1, order
        digest = court_package_through_api(cw, api["admin"], api["court"], case_id)
        court_out = run_scenario("case", cw.base, {
            "phase": "court", "caseId": case_id, "rpcUrl": cw.rpc_url, "people": people,
            "packageHash": digest, "courtReference": "(2026) 浙0192民特1号"}, shots)
        assert_clean(court_out)
        assert court_out["result"]["finalStage"] == "judicially_confirmed"
    assert NOT_IN_PAGES_YET  # shrinks as the pages land
    assert_screenshots(out, f"case-offer-seller-{lang['seller']}",
                       f"case-award-editor-arbitrator-{lang['arbitrator']}")
    assert_screenshots(court_out, f"case-confirmed-court-{lang['court']}")
