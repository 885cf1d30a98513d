"""Answers for the faults of the service's own storage: never a 500, never the client's fault.

The blockstore's disk full or read-only, a block that no longer hashes to its CID, a kubo
node that does not answer, a database that restarts: each is a fault of the installation,
not of the request, and each gets a JSON ``{"code", "detail"}`` with a precise status, so
clients know whether to retry and operators know what to fix:

======================  ======  ============================================================
code                    status  when
======================  ======  ============================================================
``storage_full``        507     the blockstore's (or SQLite's) file system has no space left
``storage_read_only``   503     the blockstore's (or SQLite's) file system is read-only
``storage_unavailable`` 503     other I/O errors of the blockstore; kubo unreachable
``corrupt_block``       503     a stored block no longer hashes to its CID (detail names it)
``block_not_found``     503     a block the database names is missing from the blockstore
``database_unavailable`` 503    the database connection dropped or was refused (restart)
======================  ======  ============================================================

Nothing is stored by a refused request: the upload pipeline removes the blocks it wrote,
and the database transaction is rolled back (tests/faults/).
"""

from __future__ import annotations

import errno
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

from evidence.ipfs.errors import BlockNotFoundError, CorruptBlockError, KuboError

__all__ = ["register"]

log = logging.getLogger(__name__)

FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
READ_ONLY = frozenset({errno.EROFS})
IO = frozenset({errno.EIO, errno.ENXIO, errno.ENODEV, errno.ESTALE})
RETRY_AFTER = {"Retry-After": "5"}


def _answer(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"code": code, "detail": detail}, status_code=status,
                        headers=RETRY_AFTER if status == 503 else None)


def _os_error(exc: OSError) -> JSONResponse | None:
    """The answer to a storage fault (the path goes to the log, never to the client)."""
    if exc.errno in FULL:
        return _answer(507, "storage_full", "the service's storage is full; nothing was "
                       "stored. Try again later")
    if exc.errno in READ_ONLY:
        return _answer(503, "storage_read_only", "the service's storage is read-only; nothing "
                       "was stored. Try again later")
    if exc.errno in IO:
        return _answer(503, "storage_unavailable", "the service's storage failed "
                       f"({exc.strerror}); nothing was stored. Try again later")
    return None


_SQLITE = {"database or disk is full": (507, "storage_full"),
           "attempt to write a readonly database": (503, "storage_read_only"),
           "disk i/o error": (503, "storage_unavailable")}


def register(app: FastAPI) -> None:
    """Install the handlers on ``app`` (the composition root calls it once)."""

    @app.exception_handler(OSError)
    async def _os(_r: Request, exc: OSError) -> JSONResponse:
        out = _os_error(exc)
        if out is None:
            raise exc  # not a storage fault: the generic 500 handler logs it
        log.warning("storage fault: %s", exc)
        return out

    @app.exception_handler(KuboError)
    async def _kubo(_r: Request, exc: KuboError) -> JSONResponse:
        log.warning("IPFS node: %s", exc)
        return _answer(503, "storage_unavailable", f"the service's IPFS node failed: {exc}; "
                       "nothing was stored. Try again later")

    @app.exception_handler(CorruptBlockError)
    async def _corrupt(_r: Request, exc: CorruptBlockError) -> JSONResponse:
        log.error("blockstore: %s", exc)
        return _answer(503, "corrupt_block", f"stored data is damaged and is not served: {exc}")

    @app.exception_handler(BlockNotFoundError)
    async def _missing(_r: Request, exc: BlockNotFoundError) -> JSONResponse:
        log.error("blockstore: %s", exc)
        return _answer(503, "block_not_found", f"stored data is missing and cannot be "
                       f"served: {exc}; operators: restore it from a backup or another node")

    @app.exception_handler(OperationalError)
    async def _db(_r: Request, exc: OperationalError) -> JSONResponse:
        text = str(exc.orig).lower() if exc.orig is not None else ""
        for needle, (status, code) in _SQLITE.items():
            if needle in text:
                log.warning("database: %s", exc.orig)
                return _answer(status, code, f"the service's database cannot write ({needle});"
                               " nothing was stored. Try again later")
        if _disconnected(exc):
            log.warning("database unavailable: %s", exc.orig)
            return _answer(503, "database_unavailable", "the service's database is not "
                           "reachable (restarting?); nothing was stored. Try again shortly")
        raise exc


def _disconnected(exc: DBAPIError) -> bool:
    """A dropped or refused connection (PostgreSQL restarting), not a query's own error."""
    if exc.connection_invalidated:
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the service extra installs it
        return False
    orig = exc.orig
    if not isinstance(orig, psycopg.OperationalError):
        return False
    state = getattr(orig, "sqlstate", None)
    # No SQLSTATE: the client lost or could not open the connection. 08xxx: connection
    # exceptions; 57P01-57P03: the server is shutting down or starting up.
    return state is None or state.startswith("08") or state in {"57P01", "57P02", "57P03"}
