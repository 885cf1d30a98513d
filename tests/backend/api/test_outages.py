"""Each storage or database fault maps to its documented status and code (backend/api/
outages.py); anything else is not disguised as one. The real faults, on a real process,
are in tests/faults/."""

from __future__ import annotations

import errno

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from backend.api.outages import register
from evidence.ipfs.errors import BlockNotFoundError, CorruptBlockError, KuboError


def _app(exc: BaseException) -> TestClient:
    app = FastAPI()
    register(app)

    @app.get("/boom")
    def boom() -> None:
        raise exc

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(("exc", "status", "code"), [
    (OSError(errno.ENOSPC, "No space left on device", "/data/ipfs/blocks/x"), 507,
     "storage_full"),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), 507, "storage_full"),
    (OSError(errno.EROFS, "Read-only file system"), 503, "storage_read_only"),
    (OSError(errno.EIO, "Input/output error"), 503, "storage_unavailable"),
    (KuboError("cannot reach http://127.0.0.1:5001; start the node"), 503,
     "storage_unavailable"),
    (CorruptBlockError("bafkreiexample", "LocalBlockstore(/x)", "ab" * 32), 503,
     "corrupt_block"),
    (BlockNotFoundError("bafkreiexample", "LocalBlockstore(/x)"), 503, "block_not_found"),
    (OperationalError("INSERT", {}, Exception("database or disk is full")), 507,
     "storage_full"),
    (OperationalError("INSERT", {}, Exception("attempt to write a readonly database")), 503,
     "storage_read_only"),
    (OperationalError("SELECT 1", {}, Exception("server closed the connection"),
                      connection_invalidated=True), 503, "database_unavailable"),
])
def test_fault_answers(exc: BaseException, status: int, code: str) -> None:
    r = _app(exc).get("/boom")
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert "/data/ipfs" not in r.text  # server paths stay in the log
    assert r.headers.get("retry-after") == ("5" if status == 503 else None)


@pytest.mark.parametrize("exc", [
    OSError(errno.ECONNREFUSED, "Connection refused"),  # e.g. the chain node: not storage
    OSError("no errno"),
    OperationalError("INSERT", {}, Exception("database is locked")),
])
def test_other_errors_are_not_disguised(exc: BaseException) -> None:
    r = _app(exc).get("/boom")
    assert r.status_code == 500
