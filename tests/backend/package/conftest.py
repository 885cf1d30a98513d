"""Fixtures of the package tests: a local RFC 3161 authority and a case on a real EVM.

The TSA is the tests' ``openssl ts`` authority (tests/support/tsa.py), its clock following the
world's chain (which the tests move days ahead to pass the escrow's deadlines); the clients are the
test world's (tests/support/world.py) and the evidence helpers tests/support/evidence.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.chain.devchain import chain_time
from tests.backend.package.package_world import ChainWorld, SharedChain, make_chain_world
from tests.support.chain_snapshots import ChainSnapshots
from tests.support.migrated import migrated
from tests.support.tsa import LocalTSA, start_tsa


@pytest.fixture(scope="session")
def local_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTSA]:
    """One authority per process: the cases restored from ``chain_snapshots`` carry its
    time-stamps."""
    with start_tsa(tmp_path_factory.mktemp("package-tsa")) as tsa:
        yield tsa


@pytest.fixture(scope="session")
def chain_snapshots(tmp_path_factory: pytest.TempPathFactory) -> ChainSnapshots:
    """The cases the drivers ran, each once per process (tests/support/chain_snapshots.py)."""
    return ChainSnapshots(tmp_path_factory.mktemp("chain-stages"))


@pytest.fixture(scope="session")
def shared_chain() -> SharedChain:
    """The chain the ``chain_world``s of this process share, deployed once."""
    return SharedChain()


@pytest.fixture
def chain_world(tmp_path: Path, local_tsa: LocalTSA, chain_snapshots: ChainSnapshots,
                shared_chain: SharedChain) -> Iterator[ChainWorld]:

    url = f"sqlite:///{tmp_path / 'package.sqlite3'}"
    migrated(url)
    cw = make_chain_world(url, tmp_path, local_tsa, chain=shared_chain)
    cw.snapshots = chain_snapshots
    with cw.world.client, local_tsa.following(lambda: chain_time(cw.w3)):
        yield cw


@pytest.fixture
def chain_world_any_db(clean_db_url: str, tmp_path: Path, local_tsa: LocalTSA,
                       chain_snapshots: ChainSnapshots,
                       shared_chain: SharedChain) -> Iterator[ChainWorld]:
    """``chain_world`` on SQLite and on PostgreSQL (``clean_db_url``)."""
    cw = make_chain_world(clean_db_url, tmp_path, local_tsa, chain=shared_chain)
    cw.snapshots = chain_snapshots
    with cw.world.client, local_tsa.following(lambda: chain_time(cw.w3)):
        yield cw
