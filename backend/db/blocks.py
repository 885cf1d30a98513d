"""The service's local blockstore: step blocks in the database, every other block in files.

Why (issue 10): a step's bundle is one block of a few KiB. As a file of its own it cost a
new inode, a write and an fsync beside the database's commit: 0.5 ms of CPU per offer on a
quiet disk, over 1 ms while ext4 skips recently freed inodes. In the ``step_block`` table it
is one more row of the step's own transaction (one commit, one fsync), so the step and its
block commit together or not at all, and a refused step leaves nothing behind.

``ServiceBlockstore`` is what the service holds when no kubo node is configured: ``get`` and
``has`` look in the files (evidence uploads, documents, blocks written before revision
0015), then in the table; ``put`` (evidence uploads, sale contracts) and ``delete`` work on
the files as ``LocalBlockstore`` does. Files first because the blocks the service reads
often are uploads (an evidence download reads hundreds): a missing file costs a failed
``open``, a table lookup a pooled connection and a query, and a reader that holds a
session would need a second connection. Step blocks are built before the write lock
(``collect``) and written in the step's transaction (``write``), keyed by the CID's
multihash as flatfs names files, so CIDs and reads are the same as from files. Every read
is checked against the CID, as from files.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlmodel import Session, SQLModel

from evidence.ipfs import LocalBlockstore
from evidence.ipfs._cid import CidLike, check_block, multihash_of, parse_cid, to_display
from evidence.ipfs.errors import BlockNotFoundError

from .fast import Prepared, prepare
from .models import Step
from .rows import full_row, insert_row, table_of
from .service_models import StepBlock

__all__ = ["BlockCollector", "Dependent", "ServiceBlockstore", "insert_step",
           "insert_step_rows", "multihash_of", "open_data_dir_store"]

Block = tuple[bytes, bytes]  # (binary CID, bytes)
# a row stored with a step: its model, the column that takes the step's id (None: a row
# of the step's transaction that does not name it), its other values
Dependent = tuple[type[SQLModel], str | None, dict[str, Any]]


class BlockCollector:
    """A blockstore that only keeps what is put, in order: the importer writes a step's
    blocks here before the lock, ``ServiceBlockstore.write`` stores them under it."""

    kind = "BlockCollector"

    def __init__(self) -> None:
        self.blocks: list[Block] = []

    def put(self, cid: CidLike, data: bytes, *, trusted: bool = False) -> None:
        raw = parse_cid(cid)
        if not trusted:
            check_block(raw, data, "the bytes given to put()")
        self.blocks.append((raw, bytes(data)))

    def get(self, cid: CidLike) -> bytes:
        raw = parse_cid(cid)
        for c, data in self.blocks:
            if c == raw:
                return data
        raise BlockNotFoundError(to_display(raw), "blocks being collected")

    def has(self, cid: CidLike) -> bool:
        raw = parse_cid(cid)
        return any(c == raw for c, _ in self.blocks)


def _insert(dialect: Dialect) -> Prepared:
    """INSERT of one block that does nothing if the block is there (same CID twice: the
    same bytes), compiled once per dialect (backend/db/fast.py)."""
    def build() -> sa.ClauseElement:
        table = table_of(StepBlock)
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing(index_elements=["multihash"])
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing(index_elements=["multihash"])
    return prepare(("step_block", "insert"), dialect, build)


_SELECT = sa.select(table_of(StepBlock).c.data).where(
    table_of(StepBlock).c.multihash == sa.bindparam("multihash"))


class ServiceBlockstore:
    """Reads the files, then the ``step_block`` table; writes non-step blocks to files."""

    def __init__(self, engine: Engine, files: LocalBlockstore) -> None:
        self.engine = engine
        self.files = files

    def __repr__(self) -> str:
        return f"ServiceBlockstore(step_block + {self.files!r})"

    @property
    def root(self) -> Path:
        return self.files.root

    @property
    def kind(self) -> str:
        """What ``put`` writes to (uploads, documents): the files, named as before the
        step blocks moved into the table."""
        return self.files.kind

    def _row(self, raw: bytes) -> bytes | None:
        with self.engine.connect() as conn:
            data = conn.execute(_SELECT, {"multihash": multihash_of(raw)}).scalar()
        return None if data is None else bytes(data)

    def get(self, cid: CidLike) -> bytes:
        raw = parse_cid(cid)
        try:
            return self.files.get(raw)
        except BlockNotFoundError:
            data = self._row(raw)
            if data is None:
                raise BlockNotFoundError(to_display(raw), repr(self)) from None
        check_block(raw, data, f"table step_block, block {to_display(raw)}")
        return data

    def has(self, cid: CidLike) -> bool:
        raw = parse_cid(cid)
        return self.files.has(raw) or self._row(raw) is not None

    def put(self, cid: CidLike, data: bytes, *, trusted: bool = False) -> None:
        """A block outside a step (an evidence upload, a document, a sale contract): a file."""
        self.files.put(cid, data, trusted=trusted)

    def delete(self, cid: CidLike) -> None:
        """Remove a file block (an aborted upload's); step blocks go only with their step."""
        self.files.delete(cid)

    def keys(self) -> Iterator[str]:
        return self.files.keys()

    @staticmethod
    def write(session: Session, blocks: Iterable[Block]) -> None:
        """Store a step's blocks in the caller's transaction (its write unit)."""
        conn = session.connection()
        insert = _insert(conn.dialect)
        for raw, data in blocks:
            insert.execute(conn, {"multihash": multihash_of(raw), "data": data})


def insert_step(session: Session, blocks: Sequence[Block], values: dict[str, object]) -> Any:
    """Store a step's row and its blocks in the caller's transaction; the step's id. On
    PostgreSQL a step of one block (the usual bundle) is one statement."""
    return insert_step_rows(session, blocks, values)[0]


def insert_step_rows(session: Session, blocks: Sequence[Block], values: dict[str, object],
                     dependents: Sequence[Dependent] = ()) -> tuple[Any, ...]:
    """``insert_step``, and rows stored with the step (``dependents``: each a model, the
    column that takes the step's id or None for a row that does not name the step, and
    the row's other values); the step's id, then each dependent's primary key. On
    PostgreSQL a step of one block and its dependents are one statement: the block's, the
    step's and each dependent's INSERT data-modifying CTEs of one SELECT (issue 10: a
    signed offer's step, block, ``step_detail``, ``leaf`` and ``offer_signature`` in one
    round trip instead of five). The same rows either way; if one INSERT fails, none is
    stored."""
    conn = session.connection()
    rows = [(model, fk, {k: v for k, v in full_row(model, dep).items() if k != fk})
            for model, fk, dep in dependents]
    if len(blocks) == 1 and conn.dialect.name == "postgresql":
        row = full_row(Step, values)
        raw, data = blocks[0]
        params = {**row, "block_multihash": multihash_of(raw), "block_data": data}
        shape = tuple((model, fk, tuple(sorted(r))) for model, fk, r in rows)
        for i, (_model, _fk, r) in enumerate(rows):
            params.update({f"d{i}_{k}": v for k, v in r.items()})
        found = _step_with_rows(conn.dialect, tuple(sorted(row)), shape).first(conn, params)
        assert found is not None, "the statement returns the step's row"
        step_id = found[0]
        return (step_id, *(step_id if pk is None else pk
                            for pk in _dependent_keys(shape, found[1:])))
    ServiceBlockstore.write(session, blocks)
    step_id = insert_row(session, Step, values)
    return (step_id, *(insert_row(session, model, r if fk is None else {**r, fk: step_id})
                       for model, fk, r in rows))


def _dependent_keys(shape: Sequence[tuple[type[SQLModel], str | None, tuple[str, ...]]],
                    returned: Sequence[Any]) -> list[Any]:
    """Each dependent's primary key from the statement's row (None: it is the step's id)."""
    found, keys = iter(returned), []
    for model, fk, _keys in shape:
        keys.append(None if _pk(model) == fk else next(found))
    return keys


def _pk(model: type[SQLModel]) -> str:
    return str(table_of(model).primary_key.columns[0].key)


def _step_with_rows(dialect: Dialect, keys: tuple[str, ...],
                    shape: tuple[tuple[type[SQLModel], str | None, tuple[str, ...]], ...]
                    ) -> Prepared:
    """PostgreSQL: the block's, the step's and each dependent's INSERT as data-modifying
    CTEs of one SELECT of the step's id and the dependents' keys. A dependent that names
    the step takes its id from the step's CTE; PostgreSQL checks the foreign key at the
    statement's end, when the step's row exists."""
    def build() -> sa.ClauseElement:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        block = pg_insert(table_of(StepBlock)).values(
            multihash=sa.bindparam("block_multihash", type_=sa.LargeBinary),
            data=sa.bindparam("block_data", type_=sa.LargeBinary),
        ).on_conflict_do_nothing(index_elements=["multihash"]).cte("step_block_row")
        steps = table_of(Step)
        step = sa.insert(steps).values(
            {k: sa.bindparam(k, type_=steps.c[k].type) for k in keys}
        ).returning(steps.c.id).cte("step_row")
        step_id = sa.select(step.c.id).scalar_subquery()
        columns: list[Any] = [step.c.id]
        ctes: list[Any] = [block]
        for i, (model, fk, dep_keys) in enumerate(shape):
            table = table_of(model)
            insert = sa.insert(table).values({
                **({} if fk is None else {fk: step_id}),
                **{k: sa.bindparam(f"d{i}_{k}", type_=table.c[k].type) for k in dep_keys}})
            if _pk(model) == fk:
                ctes.append(insert.cte(f"step_dependent_{i}"))
                continue
            cte = insert.returning(table.c[_pk(model)]).cte(f"step_dependent_{i}")
            columns.append(sa.select(cte.c[_pk(model)]).scalar_subquery())
        return sa.select(*columns).add_cte(*ctes)
    return prepare(("step_rows", shape), dialect, build, None)


def open_data_dir_store(root: Path) -> ServiceBlockstore | None:
    """The service's store when ``root`` is the configured data dir's ``ipfs`` directory and
    its database has the ``step_block`` table (for ``chainarb evidence cat``/``add``
    without ``--store``); None otherwise (no settings, kubo, another directory, no database
    yet: nothing is created)."""
    from backend.settings import SettingsError, load_settings

    from .engine import make_engine

    try:
        settings = load_settings()
    except SettingsError:
        return None
    if settings.ipfs_api_url or settings.ipfs_dir.resolve() != root.resolve():
        return None
    url = make_url(settings.database)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return None  # no service has run here: do not create its database
    engine = make_engine(settings.database)
    try:
        if sa.inspect(engine).has_table(table_of(StepBlock).name):
            return ServiceBlockstore(engine, LocalBlockstore(root))
    except sa.exc.OperationalError:
        pass  # the database is not reachable: the files are what there is
    engine.dispose()
    return None
