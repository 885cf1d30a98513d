"""Fixtures of the fault suite: one anvil with EvidenceAnchor per module, a service process
per test on its own data dir (tests/faults/fault_harness.py)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.chain import Transactor, deploy_anchor
from backend.chain.devchain import ETHER, AnvilNode, dev_accounts, fund
from tests.faults.fault_harness import Chain, Service, mount


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    """anvil (state kept in a file, so it can stop and come back) with EvidenceAnchor."""
    folder = tmp_path_factory.mktemp("anvil")
    node = AnvilNode(state_path=folder / "state.json").start()
    try:
        (institution,) = dev_accounts(1, seed=f"faults-{os.getpid()}")
        w3 = node.web3()
        fund(w3, [institution.address], 100 * ETHER)
        anchor = deploy_anchor(Transactor(w3), institution)
        yield Chain(node, anchor.address, "0x" + bytes(institution.key).hex())
    finally:
        node.stop()


@pytest.fixture
def make_service(chain: Chain, tmp_path: Path) -> Iterator[object]:
    """`make_service(db_url="", clients=4)`: a started service; stopped at the end."""
    made: list[Service] = []

    mounts: list[Path] = []

    def make(db_url: str = "", clients: int = 4, name: str = "svc",
             ipfs_tmpfs: str = "") -> Service:
        svc = Service(work=tmp_path / name, anvil_url=chain.node.url, anchor=chain.anchor,
                      key=chain.key, seed=os.urandom(4).hex(), clients=clients,
                      db_url=db_url)
        made.append(svc)
        if ipfs_tmpfs:  # the blockstore on its own small file system
            target = svc.data / "ipfs"
            target.mkdir(parents=True)
            mount(["-t", "tmpfs", "-o", f"size={ipfs_tmpfs},mode=0700", "tmpfs", str(target)])
            mounts.append(target)
        return svc.start()

    yield make
    for svc in made:
        svc.stop()
    for target in mounts:
        subprocess.run(["umount", "-l", str(target)], check=False)


