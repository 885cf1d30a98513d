"""The parties' pages in chromium (party.cjs): the orders read from the escrow, filing a
claim from an order with a first photo (upload progress, the commitment shown and checked
before the wallet signs it), the freeze sent from the person's own wallet, reading evidence
in the page (checked against its commitment) with download, the notices; in English and in
Chinese, with every request not to loopback blocked and counted."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from backend.demo import make_photo_jpeg, upload_evidence
from backend.services.cases import case_id_for_order
from backend.services.chain import OrderInfo
from evidence.records import Domain
from tests.backend.web.web_world import (
    AMOUNT,
    GUARANTEE,
    REPO,
    WEB_TESTS,
    WebWorld,
    find_chromium,
    key,
)

TOKEN = "0x" + "11" * 20
CHAT = "Seller: the panels were fine when shipped.\n买方：到货时已破裂。\n"


def _drive(world: WebWorld, lang: str, order_id: int, text_ref: str, out: Path,
           eip6963: bool = False) -> dict[str, Any]:
    photo = out / "crack.jpg"
    photo.write_bytes(make_photo_jpeg())
    done = subprocess.run(
        ["node", str(WEB_TESTS / "party.cjs"), world.base, "0x" + bytes(key("buyer").key).hex(),
         lang, str(out), str(order_id), str(photo), text_ref],
        cwd=REPO, env={**os.environ, "CHROMIUM": find_chromium(),
                       "WALLET_CHAIN": str(world.port.domain().chain_id), "OTHER_CHAIN": "1",
                       "EIP6963": "1" if eip6963 else "0"},
        capture_output=True,
        text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert not [m for m in result["console"] if "pageerror" in m], result["console"]
    assert result["external"] == []
    return result


def _no_serious_axe(result: dict[str, Any]) -> None:
    """axe-core found no serious or critical violation on any page the party visited."""
    assert result["axe"] == [], result["axe"]


def _new_order(world: WebWorld, order_id: int) -> str:
    buyer, seller = world.clients["buyer"], world.clients["seller"]
    world.port.add_order(OrderInfo(order_id=order_id, buyer=buyer.address, seller=seller.address,
                                   amount=AMOUNT, token=TOKEN,
                                   institution=world.port.institution_address, status="Paid",
                                   case_id="0x" + "00" * 32, guarantee=GUARANTEE))
    d = world.port.domain()
    return case_id_for_order(Domain(chain_id=d.chain_id, verifying_contract=d.verifying_contract),
                             order_id)


@pytest.mark.parametrize(("lang", "order_id", "eip6963"),
                         [("en", 61, False), ("zh-Hans", 62, True)])
def test_a_buyer_files_a_claim_from_an_order_and_freezes_the_escrow(
        world: WebWorld, tmp_path: Path, lang: str, order_id: int, eip6963: bool) -> None:
    """In English with a plain window.ethereum; in Chinese with a wallet announced only by
    EIP-6963. Either is on the wrong chain when asked to send the freeze."""
    case_id = _new_order(world, order_id)
    chat = upload_evidence(world.clients["buyer"], world.case_id, "communication", "chat.txt",
                           "text/plain", CHAT.encode())
    keep = os.environ.get("CHAINARB_KEEP_SCREENSHOTS") == "1"
    out = REPO / "docs/portal/screenshots" if keep else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    r = _drive(world, lang, order_id, f"{world.case_id}/evidence/{chat['commitment']}", out,
               eip6963)
    assert r["eip6963"] is eip6963

    _no_serious_axe(r)
    # The orders page: the new order in words (side, amount with currency, escrow status).
    rows = {row["order"]: row["cells"] for row in r["orders"]}
    zh = lang == "zh-Hans"
    assert rows[str(order_id)][:5] == [f"订单 {order_id}" if zh else f"Order {order_id}",
                                       "买方" if zh else "buyer", rows[str(order_id)][2],
                                       "480.000000 tUSD",
                                       "货款已托管" if zh else "paid into escrow"]
    assert str(42) in rows  # the orders with cases are listed too
    # Each open case's deadline counts down (layout.js, from the service's time).
    assert r["countdowns"] and all(("剩余" if zh else "left") in c for c in r["countdowns"])
    # The form offers dispute types and remedies in words, never their internal values.
    assert ("货物与描述不符" if zh else "goods not as described") in r["disputeOptions"]
    assert ("部分退款" if zh else "partial refund") in r["remedyOptions"]
    assert not [o for o in r["disputeOptions"] + r["remedyOptions"] if "_" in o]
    # The upload ran to 100 % and its commitment was shown before the wallet signed it.
    assert r["progress"] == 100
    assert r["signedBeforeConfirm"] == ["case.filed"]
    assert r["signed"] == ["case.filed", "EvidenceSubmission"]
    view = world.clients["buyer"].get(f"/cases/{case_id}")
    assert view["stage"] == "filed" and view["disputeType"] == "not_as_described"
    assert view["claimedAmount"] == "120500000"
    (photo,) = view["evidence"]
    assert r["commitmentShown"] == photo["commitment"] and photo["kind"] == "photo"
    # The freeze: the wallet sent exactly raiseDispute(orderId, caseId) to the escrow.
    (tx,) = r["sent"]
    expected = "0x" + keccak(text="raiseDispute(uint256,bytes32)")[:4].hex() + \
        f"{order_id:064x}" + case_id[2:]
    assert (tx["to"].lower(), tx["data"], int(tx["value"], 16)) == (
        world.port.domain().verifying_contract.lower(), expected, 0)
    assert tx["from"].lower() == world.clients["buyer"].address.lower()
    assert ("0xabab" in r["walletResult"]) and r["openLinks"] == 1
    # A wallet on another network is asked to switch to the escrow's chain before anything is
    # sent: refused, the page says so in words and sends nothing; accepted, the call goes out.
    want = hex(world.port.domain().chain_id)
    assert r["switches"] == [want, want]
    assert r["sentOnWrongChain"] == 0 and str(world.port.domain().chain_id) in r["wrongChain"]
    assert r["wrongChain"].startswith(
        "您的钱包连接的是其他网络" if zh else "Your wallet is on another")
    # Evidence read in the page, checked against its commitment, downloadable.
    assert r["photo"] == {"check": "yes", "shown": 1, "width": r["photo"]["width"],
                          "download": "crack.jpg"} and r["photo"]["width"] > 0
    assert r["text"]["check"] == "yes" and r["text"]["body"].strip() == CHAT.strip()
    assert r["text"]["downloaded"] == CHAT
    # The statement of claim is a document of the filing step, read and checked in the page.
    assert r["documents"] == ["提起申请（载明争议类型与请求事项）" if zh
                              else "Claim filed (dispute type and remedy stated)"]
    assert r["statement"]["check"] == "yes"
    assert r["statement"]["body"].strip() == "The LED panels arrived cracked; 12 of 40 unusable."
    assert r["notices"], "the buyer received notices"
    # Once the chain shows the freeze, the case stops asking the wallet for it.
    world.port.party_raises_dispute(order_id, case_id)
    world.app.state.ctx.service.executor.run(case_id)
    assert world.clients["buyer"].get(f"/cases/{case_id}/wallet-transactions") == []
