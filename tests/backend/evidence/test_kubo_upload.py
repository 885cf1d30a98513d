"""The same upload on an IPFS node over the kubo RPC API (Helia, scripts/ipfs-node.mjs).

The app is built with ``CHAINARB_IPFS_API_URL`` set and no injected blockstore, so it
chooses the kubo backend itself; the container lands in the node, pinned, and is read
back through the node when a party downloads it.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from backend.api.app import create_app
from backend.services.chain import FakeEscrowPort, OrderInfo
from backend.settings import Settings
from evidence.ipfs import KuboBlockstore
from tests.keys import INSTITUTION_KEY
from tests.support.asgi_client import OneTripClient
from tests.support.clock import Clock
from tests.support.evidence import PDF, sha256, upload, upload_and_submit
from tests.support.migrated import migrated
from tests.support.world import (
    CHAIN_ID,
    ESCROW,
    GUARANTEE,
    NAMES,
    ORDER_ID,
    Actor,
    World,
    _key,
    file_claim,
)

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def kubo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("ipfs")
    with open(base / "node.log", "w") as stderr:
        proc = subprocess.Popen(["node", str(ROOT / "scripts/ipfs-node.mjs"), "--repo",
                                 str(base / "repo"), "--port", "0"], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=stderr, text=True)
    assert proc.stdout is not None
    line: list[str] = []
    out = proc.stdout
    t = threading.Thread(target=lambda: line.append(out.readline()),
                         daemon=True)
    t.start()
    t.join(timeout=30)
    try:
        if not line or not line[0].startswith("listening on http://127.0.0.1:"):
            raise RuntimeError(f"IPFS node did not start: {(base / 'node.log').read_text()}")
        yield line[0].split()[-1]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


@pytest.fixture
def kubo_world(tmp_path: Path, kubo_url: str) -> Iterator[World]:

    url = f"sqlite:///{tmp_path / 'kubo.sqlite3'}"
    migrated(url)
    institution = Account.from_key(INSTITUTION_KEY).address
    port = FakeEscrowPort(chain_id=CHAIN_ID, escrow=ESCROW, institution=institution)
    keys = {n: _key(n) for n in NAMES}
    port.add_order(OrderInfo(order_id=ORDER_ID, buyer=keys["buyer"].address,
                             seller=keys["seller"].address, amount=10**9,
                             token="0x" + "11" * 20, institution=institution, status="Paid",
                             case_id="0x" + "00" * 32, guarantee=GUARANTEE))
    settings = Settings(data_dir=tmp_path / "data", database_url=url, ipfs_api_url=kubo_url,
                        institution_admins=keys["admin"].address,
                        institution_key=INSTITUTION_KEY)
    clock = Clock()
    app = create_app(settings, clock=clock, port=port,
                     background=False)
    store = app.state.ctx.service.blockstore
    assert isinstance(store, KuboBlockstore)
    w = World(client=OneTripClient(app), clock=clock, port=port, blockstore=store)
    w.actors = {n: Actor(n, k, w) for n, k in keys.items()}
    with w.client:
        yield w


def test_upload_through_kubo(kubo_world: World, kubo_url: str) -> None:
    w = kubo_world
    case_id = w.open_case("buyer")
    file_claim(w)
    big = PDF + bytes(range(256)) * 5000  # > 1 MiB: several encryption chunks, IPFS blocks
    done = upload_and_submit(w.buyer, big)
    with KuboBlockstore(kubo_url) as node:
        assert node.is_pinned(done["contentCid"])
    log = w.buyer.get(f"/cases/{case_id}/evidence/{done['id']}/provenance").json()
    stored = [e["entry"]["details"] for e in log["entries"]
              if e["entry"]["action"] == "ipfs.stored"]
    assert [(d["store"], d["pinned"]) for d in stored] == [("KuboBlockstore", True)]
    got = w.seller.get(f"/cases/{case_id}/evidence/{done['id']}/content")
    assert got.status_code == 200 and got.content == big
    assert got.headers["x-evidence-sha256"] == sha256(big)
    # a refused upload pins nothing new
    with KuboBlockstore(kubo_url) as node:
        before = {str(c) for c in node.pins()}
    assert upload(w.buyer, b"").status_code == 422
    with KuboBlockstore(kubo_url) as node:
        assert {str(c) for c in node.pins()} == before
