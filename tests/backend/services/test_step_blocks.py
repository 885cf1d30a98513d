"""With the service's own local store (no kubo), each step's IPFS block is a row written in
the step's transaction (backend/db/blocks.py): no file, nothing left by a refused step, and
the restarted service reads every step's block back, decrypted with its key as before."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from backend.db import Step, session_scope
from backend.db.blocks import ServiceBlockstore, multihash_of
from backend.db.service_models import StepDetail
from backend.services.evidence import _IterReader
from backend.services.keys import container_header
from evidence.encryption import iter_decrypt
from evidence.ipfs import cat
from evidence.ipfs._cid import parse_cid
from tests.support.cli_fork import REPO, CliForks
from tests.support.evidence import PDF, filed_case, sign_staged, submit, upload
from tests.support.world import World, make_world, ok, to_negotiation


def _blocks(w: World) -> set[bytes]:
    with session_scope(w.app.state.ctx.sessions) as s:
        return {bytes(m) for (m,) in s.execute(sa.text("SELECT multihash FROM step_block"))}


def _files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "data" / "ipfs").rglob("*.data"))


def _bundle(w: World, step: Step) -> dict[str, Any]:
    """A step's bundle as the service reads it: through its store, decrypted if sealed."""
    ctx = w.app.state.ctx
    with session_scope(ctx.sessions) as s:
        detail = s.get(StepDetail, step.id)
        assert detail is not None
        key = ctx.service.keys.step_data_key(detail)
    data = b"".join(cat(str(step.cid), ctx.service.blockstore))
    if key is not None:
        container_header(str(step.cid), ctx.service.blockstore)  # the key sealing's read
        data = b"".join(iter_decrypt(_IterReader(cat(str(step.cid),
                                                     ctx.service.blockstore)), key))
    bundle: dict[str, Any] = json.loads(data)
    return bundle


def test_step_blocks_are_rows_of_their_steps_and_read_after_a_restart(
        clean_db_url: str, tmp_path: Path) -> None:
    w = make_world(clean_db_url, tmp_path, service_blocks=True)
    with w.client:
        assert isinstance(w.blockstore, ServiceBlockstore)
        to_negotiation(w)
        offer = ok(w.buyer.post(f"/cases/{w.case_id}/offers",
                                json=w.buyer.offer(600_000_000, 400_000_000)))
        before = _blocks(w)
        stale = w.seller.offer(500_000_000, 500_000_000)
        stale["record"] = w.buyer.offer(1, 2)["record"]  # the buyer's, posted by the seller
        refused = w.seller.post(f"/cases/{w.case_id}/offers", json=stale)
        assert refused.status_code == 403, refused.text
        assert _blocks(w) == before  # a refused step leaves nothing
        with session_scope(w.app.state.ctx.sessions) as s:
            steps = list(s.exec(select(Step).order_by(col(Step.id))))
    assert [st.kind for st in steps] == ["case.filed", "arbitration.agreed",
                                         "arbitration.agreed", "offer.made"]
    assert offer["cid"] == steps[-1].cid
    assert {multihash_of(parse_cid(str(st.cid))) for st in steps} == before
    assert _files(tmp_path) == []  # no step wrote a file

    again = make_world(clean_db_url, tmp_path, service_blocks=True)  # a restart
    with again.client:
        bundles = [_bundle(again, st) for st in steps]
    assert [b["action"] for b in bundles] == [st.kind for st in steps]
    assert [b["record"] for b in bundles] == [st.record for st in steps]


def test_uploads_stay_files_beside_the_step_blocks(clean_db_url: str, tmp_path: Path) -> None:
    """An evidence upload's blocks go to files (its provenance names the files' store, as
    before); the evidence step that binds it is a row, and the content reads back."""
    w = make_world(clean_db_url, tmp_path, service_blocks=True)
    with w.client:
        filed_case(w)
        r = upload(w.buyer, PDF)
        assert r.status_code == 201, r.text
        staged = r.json()
        assert len(_files(tmp_path)) == 1  # the upload's one block
        done = submit(w.buyer, staged["id"], sign_staged(w.buyer, staged))
        assert done.status_code == 201, done.text
        assert len(_files(tmp_path)) == 1
        with session_scope(w.app.state.ctx.sessions) as s:
            step = s.exec(select(Step).where(col(Step.kind) == "evidence.submitted")).one()
        assert multihash_of(parse_cid(str(step.cid))) in _blocks(w)
        got = w.seller.get(f"/cases/{w.case_id}/evidence/{staged['id']}/content")
        assert got.status_code == 200 and got.content == PDF
        log = w.buyer.get(f"/cases/{w.case_id}/evidence/{staged['id']}/provenance").json()
    stored = [e for e in log["entries"] if e["entry"]["action"] == "ipfs.stored"]
    assert len(stored) == 1 and stored[0]["entry"]["details"]["store"] == "LocalBlockstore"


def _outside_env() -> dict[str, str]:
    """The environment without this run's chainarb settings (each run sets its own)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("CHAINARB_") and k != "DATABASE_URL"}


@pytest.fixture
def cli(cli_forks: CliForks) -> CliForks:
    """`chainarb` with the installed plugins, as `chainarb` loads them: each run a process
    forked from one that imported the command and its store once (the process's
    ``cli_forks``: tests/support/cli_fork.py, held to fresh processes by
    tests/test_cli_fork.py), with the environment each run gives."""
    return cli_forks


def _cli(cli: CliForks, env: dict[str, str], *args: str, cwd: Path | None = None
         ) -> subprocess.CompletedProcess[str]:
    """`chainarb evidence ARGS` in a process of its own (in ``cwd``, default the repo)."""
    return cli.run(["evidence", *args], cwd=cwd or REPO, env=env)


def test_the_cli_reads_the_data_dir_s_step_blocks(cli: CliForks, clean_db_url: str,
                                                  tmp_path: Path) -> None:
    """`chainarb evidence cat CID` without --store, or with --store naming the configured
    data dir's store (absolute or relative), reads the store the service keeps there (the
    files, then its database's table), as before when every block was a file; `add` there
    writes a file the service reads. Another directory is files only: the step's block is
    not in it (exit 4)."""
    w = make_world(clean_db_url, tmp_path, service_blocks=True)
    with w.client:
        to_negotiation(w)
        with session_scope(w.app.state.ctx.sessions) as s:
            step = s.exec(select(Step).where(col(Step.kind) == "case.filed")).one()
        expected = b"".join(cat(str(step.cid), w.blockstore))
    env = _outside_env() | {"CHAINARB_DATA_DIR": str(tmp_path / "data"),
                            "CHAINARB_DATABASE_URL": clean_db_url, "CHAINARB_LANG": "en"}
    store = tmp_path / "data" / "ipfs"
    for args, cwd in [((), None), (("--store", str(store)), None),
                      (("--store", "data/ipfs"), tmp_path)]:
        done = _cli(cli, env, "cat", str(step.cid), *args, cwd=cwd)
        assert done.returncode == 0, (args, done.stderr[-2000:])
        assert done.stdout.encode() == expected
        assert json.loads(expected)["action"] == "case.filed"

    other = tmp_path / "other"
    done = _cli(cli, env, "cat", str(step.cid), "--store", str(other))
    assert done.returncode == 4 and done.stdout == "", done.stderr[-2000:]
    assert "Not in the store" in done.stderr

    (tmp_path / "note.txt").write_bytes(b"added by the CLI\n")
    done = _cli(cli, env, "add", str(tmp_path / "note.txt"), "--store", str(store))
    assert done.returncode == 0, done.stderr[-2000:]
    added = done.stdout.strip()
    assert b"".join(cat(added, w.blockstore)) == b"added by the CLI\n"
