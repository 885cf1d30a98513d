"""The live services the portal's tests share: the page tests' in-memory escrow world, and
the whole case's composed service on the embedded chain with the people's keys (one of each
per module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account.signers.local import LocalAccount

from tests.backend.web.web_world import WebWorld, web_world
from tests.portal.chain_world import ChainWorld, chain_world
from tests.portal.whole_case import NAMES, person_key


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    with web_world(tmp_path_factory.mktemp("portal")) as w:
        yield w


@pytest.fixture(scope="module")
def keys() -> dict[str, LocalAccount]:
    return {n: person_key(n) for n in NAMES}


@pytest.fixture(scope="module")
def cw(tmp_path_factory: pytest.TempPathFactory,
       keys: dict[str, LocalAccount]) -> Iterator[ChainWorld]:
    with chain_world(tmp_path_factory.mktemp("portal-chain"),
                     admins=[keys["admin"].address]) as w:
        yield w
