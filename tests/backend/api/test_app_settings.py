"""The composition root builds from the one Settings object: the anchoring worker of
`chainarb serve` (no injected chain) carries the configured RFC 3161 authorities, and the
institution admins and tick interval come from Settings (CHAINARB_INSTITUTION_ADMINS,
CHAINARB_TICK_SECONDS)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from web3 import Web3

from backend.api.app import create_app
from backend.chain import Transactor, deploy_anchor, deploy_escrow
from backend.chain.devchain import ETHER, AnvilNode, dev_accounts, fund
from backend.settings import Settings
from tests.support.tsa import LocalTSA, start_tsa

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTSA]:
    with start_tsa(tmp_path_factory.mktemp("app-tsa")) as authority:
        yield authority


def _app(anvil_node: AnvilNode, w3: Web3, tmp_path: Path, **extra: Any) -> tuple[FastAPI, str]:
    deployer, institution, admin = dev_accounts(3, seed="app-settings")
    fund(w3, [deployer.address, institution.address], 10 * ETHER)
    tx = Transactor(w3)
    escrow = deploy_escrow(tx, deployer, institutions=[institution.address])
    anchor = deploy_anchor(tx, deployer)
    settings = Settings(
        data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        chain_rpc_url=anvil_node.url, chain_id=31337,
        institution_key=institution.key.hex(), escrow_address=escrow.address,
        anchor_address=anchor.address, institution_admins=admin.address.lower(),
        tick_seconds=0.25, **extra)
    return create_app(settings, background=False), admin.address


def test_serve_worker_stamps_with_the_configured_authorities(
        anvil_node: AnvilNode, anvil_w3: Web3, tmp_path: Path, tsa: LocalTSA) -> None:
    """Two authorities configured; the first is down (nothing listens on its port): the
    worker's token comes from the second at once, and `openssl ts -verify` accepts it."""
    from backend.demo.serving import free_port
    from backend.timestamping import TsaPool

    down = f"http://127.0.0.1:{free_port()}/"
    app, admin = _app(anvil_node, anvil_w3, tmp_path, tsa_urls=f"{down},{tsa.url}",
                      tsa_cert_files=str(tsa.ca_pem))
    ctx = app.state.ctx
    try:
        worker = ctx.anchoring
        assert worker is not None and isinstance(worker.timestamper, TsaPool)
        assert [a.url for a in worker.timestamper.authorities] == [down, tsa.url]
        digest = hashlib.sha256(b"an anchored root").digest()
        token = worker.timestamper(digest)
        first, second = worker.timestamper.authorities
        assert first.failures == 1 and "could not be reached" in first.last_error
        assert second.failures == 0
        tsr = tmp_path / "root.tsr"
        tsr.write_bytes(token)
        checked = tsa.openssl_verify(tsr, digest.hex())
        assert checked.returncode == 0, checked.stdout + checked.stderr
        # another digest's check fails: the token is bound to the root
        other = tsa.openssl_verify(tsr, hashlib.sha256(b"another root").hexdigest())
        assert other.returncode != 0
        # admins and the tick interval come from Settings (checksummed)
        assert ctx.service.is_admin(admin)
        assert ctx.tick_seconds == 0.25
    finally:
        ctx.close()


def test_serve_worker_without_authority_has_no_timestamper(
        anvil_node: AnvilNode, anvil_w3: Web3, tmp_path: Path) -> None:
    app, _ = _app(anvil_node, anvil_w3, tmp_path)
    try:
        assert app.state.ctx.anchoring is not None
        assert app.state.ctx.anchoring.timestamper is None
    finally:
        app.state.ctx.close()


def test_admins_setting_refuses_a_bad_address() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="INSTITUTION_ADMINS"):
        Settings(institution_admins="0x1234, not-an-address")
