"""The closed loop through HTTP on external parts: PostgreSQL + anvil + an IPFS node (kubo RPC).

The same `chainarb demo` as tests/backend/demo/test_demo.py, in a fresh process configured
only by environment variables: ``DATABASE_URL`` = a fresh PostgreSQL database (schema),
``CHAINARB_CHAIN_RPC_URL`` = an anvil node of this module (its own: the demo moves block
time by the objection window, which the session node's snapshot isolation does not undo),
``CHAINARB_IPFS_API_URL`` = the Helia node serving the kubo RPC API. The outcome must be the
embedded run's, read back from where it really lives: amounts from the chain, rows from
PostgreSQL, evidence blocks from the IPFS node, and the package verified against anvil.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from sqlalchemy import create_engine, text
from web3 import HTTPProvider, Web3

from backend.chain import TokenContract, Transactor, decode_logs
from backend.chain.contracts import EscrowContract
from backend.chain.devchain import AnvilNode
from backend.gateway import DEV_OBJECTION_SECONDS
from evidence.events import uint_of
from evidence.ipfs import KuboBlockstore, add_bytes
from evidence.judicial import verify_package
from tests.ipfs_node import IpfsNode, running_ipfs_node

pytestmark = [pytest.mark.anvil, pytest.mark.node, pytest.mark.postgres, pytest.mark.slow]

CHAINARB = str(Path(sys.executable).with_name("chainarb"))
UNIT = 10**6


@dataclass
class Loop:
    result: dict[str, Any]
    stdout: str
    data_dir: Path
    db_url: str
    anvil: AnvilNode
    ipfs: IpfsNode


@pytest.fixture(scope="module")
def anvil() -> Iterator[AnvilNode]:
    node = AnvilNode().start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def ipfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsNode]:
    with running_ipfs_node(tmp_path_factory.mktemp("ipfs")) as node:
        yield node


@pytest.fixture(scope="module")
def loop(anvil: AnvilNode, ipfs: IpfsNode, make_pg_database: Callable[[], str],
         tmp_path_factory: pytest.TempPathFactory) -> Loop:
    """One `chainarb demo` run on the external parts, set up as an operator would."""
    db_url = make_pg_database()
    data_dir = tmp_path_factory.mktemp("external") / "data"
    # The institution's own key (required off the embedded chain; published keys refused),
    # funded on the dev node as an operator funds a fresh account.
    institution = Account.create()
    w3 = anvil.web3()
    w3.provider.make_request("anvil_setBalance",  # type: ignore[arg-type]
                             [institution.address, hex(100 * 10**18)])
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CHAINARB_") and k != "DATABASE_URL"}
    env |= {"CHAINARB_DATA_DIR": str(data_dir), "COLUMNS": "160",
            "DATABASE_URL": db_url,
            "CHAINARB_CHAIN_RPC_URL": anvil.url,
            "CHAINARB_CHAIN_ID": str(w3.eth.chain_id),
            "CHAINARB_INSTITUTION_KEY": "0x" + bytes(institution.key).hex(),
            "CHAINARB_IPFS_API_URL": ipfs.url}
    done = subprocess.run([CHAINARB, "demo"], env=env, capture_output=True, text=True,
                          timeout=400, check=False)
    assert done.returncode == 0, f"demo failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    result = json.loads(done.stdout.rstrip("\n").splitlines()[-1])
    return Loop(result, done.stdout, data_dir, db_url, anvil, ipfs)


def _units(amount: str) -> int:
    return int(Decimal(amount) * UNIT)


def test_same_outcome_as_the_embedded_run(loop: Loop) -> None:
    result = loop.result
    assert result["package_verified"] is True and Path(result["package"]).is_file()
    assert result["stages"][:2] == ["not_filed", "filed"]
    for stage in ("negotiation", "facilitation", "arbitrator_appointment", "evidence",
                  "record_closed", "awarded", "final", "enforced"):
        assert stage in result["stages"], stage
    assert result["stages"][-1] == "judicially_confirmed"
    assert (result["buyer_refund"], result["seller_payout"], result["compensation"]) == (
        "180.000000", "300.000000", "42.500000")
    assert result["anchored_items"] == result["leaves"] >= result["steps"] >= 19
    # It ran on anvil, not on an embedded chain: the chain it names is the node's.
    assert result["chain_id"] == loop.anvil.web3().eth.chain_id
    assert f"at {loop.anvil.url}" in loop.stdout and "embedded chain" not in loop.stdout
    assert not (loop.data_dir / "chain").exists()
    assert not (loop.data_dir / "chainarb.sqlite3").exists()


def test_amounts_read_back_from_anvil(loop: Loop) -> None:
    result = loop.result
    w3 = loop.anvil.web3()
    tx = Transactor(w3)
    usdc = TokenContract(tx, result["token"]["address"])
    escrow = EscrowContract(tx, result["escrow"])
    receipt = w3.eth.get_transaction_receipt(result["enforcement_tx"])
    assert receipt["status"] == 1 and receipt["to"] == result["escrow"]
    resolved = [e.args for e in decode_logs(receipt["logs"]) if e.name == "OrderResolved"]
    assert len(resolved) == 1 and uint_of(resolved[0], "orderId") == result["order"]
    assert uint_of(resolved[0], "toBuyer") == _units(result["buyer_refund"]) == 180 * UNIT
    assert uint_of(resolved[0], "toSeller") == _units(result["seller_payout"]) == 300 * UNIT
    assert uint_of(resolved[0], "compensationPaid") == _units(result["compensation"]) == 42_500_000
    assert usdc.balance_of(result["buyer"]) == (1_000 - 480 + 180) * UNIT + 42_500_000
    assert usdc.balance_of(result["seller"]) == (1_000 - 200 + 300) * UNIT
    assert escrow.guarantee(result["seller"], usdc.address).balance == \
        200 * UNIT - 42_500_000 == _units(result["guarantee_left"])
    # The objection window of the demo's development escrow passed in real time: no clock
    # was moved, so anvil's blocks are dated on the real clock.
    assert escrow.timeouts().objection == DEV_OBJECTION_SECONDS
    opened = w3.eth.get_block(w3.eth.get_transaction_receipt(
        result["open_order_tx"])["blockNumber"])["timestamp"]
    executed = w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert DEV_OBJECTION_SECONDS <= executed - opened <= result["seconds"] + 1
    assert abs(executed - time.time()) < 600


def test_package_verifies_against_the_anvil_rpc(loop: Loop, tmp_path: Path) -> None:
    tsa_ca = (loop.data_dir / "demo-tsa" / "ca.pem").read_bytes()
    chain = Web3(HTTPProvider(loop.anvil.url))
    report = verify_package(Path(loop.result["package"]), chain=chain, tsa_trust=tsa_ca)
    assert report.ok, report.failed()
    assert report.package_digest == loop.result["package_digest"]
    # The same package against a chain that never saw the case does not verify.
    with AnvilNode() as other:
        elsewhere = verify_package(Path(loop.result["package"]), chain=other.web3(),
                                   tsa_trust=tsa_ca)
    assert not elsewhere.ok


def test_evidence_blocks_are_in_the_ipfs_node(loop: Loop) -> None:
    cids = loop.result["evidence_cids"]
    assert len(cids) == 3 and len(set(cids)) == 3
    assert not (loop.data_dir / "ipfs").exists() or not any((loop.data_dir / "ipfs").rglob(
        "*.data")), "nothing may fall back to the local blockstore"
    with KuboBlockstore(loop.ipfs.url) as kubo:
        pinned = {str(c) for c in kubo.pins()}
        for cid in cids:
            # Raw through the kubo RPC API, then the CID recomputed from the bytes here.
            r = httpx.post(f"{loop.ipfs.url}/api/v0/cat", params={"arg": cid}, timeout=30)
            assert r.status_code == 200, r.text[:300]
            assert str(add_bytes(r.content, cid_version=1)) == cid
            assert b"".join(kubo.cat(cid)) == r.content  # the verified read agrees
            assert kubo.has(cid) and cid in pinned
        # The check can fail: a CID of bytes never added is not in the node.
        absent = add_bytes(secrets.token_bytes(64), cid_version=1)
        assert not kubo.has(absent)


def test_rows_are_in_postgresql(loop: Loop) -> None:
    result = loop.result
    engine = create_engine(loop.db_url)
    try:
        with engine.connect() as conn:
            assert conn.dialect.name == "postgresql"
            stage = conn.execute(text("SELECT stage FROM arb_case WHERE id = :c"),
                                 {"c": result["case"]}).scalar_one()
            kinds = [k for (k,) in conn.execute(text(
                "SELECT kind FROM step WHERE case_id = :c ORDER BY sequence"),
                {"c": result["case"]})]
            step_cids = [c for (c,) in conn.execute(text(
                "SELECT cid FROM step WHERE case_id = :c"), {"c": result["case"]})]
            evidence = sorted(c for (c,) in conn.execute(text(
                "SELECT cid FROM evidence_item WHERE case_id = :c"), {"c": result["case"]}))
            leaves = conn.execute(text(
                "SELECT count(*), count(b.id) FROM leaf l LEFT JOIN anchor_batch b "
                "ON b.id = l.batch_id AND b.status = 'confirmed' WHERE l.case_id = :c"),
                {"c": result["case"]}).one()
    finally:
        engine.dispose()
    assert stage == "judicially_confirmed"
    assert len(kinds) == result["steps"] and kinds[-1] == "court.confirmed"
    assert {"award.issued", "enforcement.requested", "record.closed"} <= set(kinds)
    assert evidence == sorted(result["evidence_cids"])
    assert tuple(leaves) == (result["leaves"], result["anchored_items"])
    # Every signed step record is in the IPFS node too.
    assert all(step_cids)
    with KuboBlockstore(loop.ipfs.url) as kubo:
        assert all(kubo.has(c) for c in step_cids)
