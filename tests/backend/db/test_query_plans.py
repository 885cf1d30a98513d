"""The queries by case that lost their single-column index in revision 0016 (each was the
first column of a unique constraint, or, for the step details, is now a join to the steps)
still find their rows through an index, the unique constraint's, in the order they ask
for: EXPLAIN on SQLite and PostgreSQL. And the details found through the steps are the
rows the details' own case_id column names."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, col, select

from backend.db import Participant, Step, make_engine
from backend.db.service_models import OfferSignature, StepDetail, details_of_case
from backend.services.repository import _LAST_STEP
from tests.support.stored import stored_record

CASE = "0x" + "ab" * 32


# (the statement as the code builds it, the index that must serve it, ordered by it)
QUERIES: list[tuple[str, Any, str, bool]] = [
    ("chain head (repository)", _LAST_STEP.params(case_id=CASE), "uq_step_case_id_sequence",
     True),
    ("steps of a case view", select(Step, StepDetail).where(
        col(Step.case_id) == CASE, col(StepDetail.step_id) == col(Step.id))
     .order_by(col(Step.sequence)), "uq_step_case_id_sequence", True),
    ("steps of a package", select(Step).where(col(Step.case_id) == CASE)
     .order_by(col(Step.sequence)), "uq_step_case_id_sequence", True),
    ("steps of some kinds (identity)", select(Step).where(
        col(Step.case_id) == CASE, col(Step.kind).in_(["appoint.mediator", "appoint.panel"]))
     .order_by(col(Step.sequence).desc()), "uq_step_case_id_sequence", True),
    ("an evidence step", select(Step).where(col(Step.case_id) == CASE,
                                            col(Step.kind) == "evidence.submitted"),
     "uq_step_case_id_sequence", False),
    ("a case's step details (package)", details_of_case(CASE),
     "uq_step_case_id_sequence", False),
    ("a case's details of one action (award, panel)", details_of_case(CASE).where(
        col(StepDetail.action) == "award.issued"), "uq_step_case_id_sequence", False),
    ("an offer's signatures (effects)", select(OfferSignature).where(
        col(OfferSignature.case_id) == CASE, col(OfferSignature.offer_id) == "0x01"),
     "uq_offer_signature_case_id_offer_id_signer", False),
    ("a case's participants (save)", select(Participant).where(
        col(Participant.case_id) == CASE), "uq_participant_case_id_address_role", False),
    ("cases' participants (pool)", select(Participant.case_id, Participant.address).where(
        col(Participant.case_id).in_([CASE, "0x" + "cd" * 32])),
     "uq_participant_case_id_address_role", False),
]


def _index(conn: sa.Connection, name: str) -> str:
    """The name the database gives the unique constraint ``name``'s index (SQLite names
    it ``sqlite_autoindex_<table>_<n>``)."""
    if conn.dialect.name != "sqlite":
        return name
    table, columns = next((t.name, [c.name for c in u.columns])
                          for t in SQLModel.metadata.tables.values() for u in t.constraints
                          if isinstance(u, sa.UniqueConstraint) and u.name == name)
    for row in conn.exec_driver_sql(f"PRAGMA index_list({table})"):
        info = conn.exec_driver_sql(f"PRAGMA index_info({row[1]})").all()
        if [r[2] for r in sorted(info)] == columns:
            return str(row[1])
    raise AssertionError(f"{table} has no index on {columns}")


def _plan(conn: sa.Connection, statement: Any) -> str:
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return "\n".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    return "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))


@pytest.mark.parametrize("name", [q[0] for q in QUERIES])
def test_a_query_by_case_uses_the_unique_constraints_index(clean_db_url: str, name: str
                                                           ) -> None:
    _, statement, constraint, ordered = next(q for q in QUERIES if q[0] == name)
    engine = make_engine(clean_db_url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":  # empty tables: ask what an index can do
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
            plan = _plan(conn, statement)
            index = _index(conn, constraint)
    finally:
        engine.dispose()
    assert index in plan, plan
    if conn.dialect.name == "sqlite":
        assert "SCAN step\n" not in plan + "\n" and "SCAN participant" not in plan, plan
        if ordered:
            assert "TEMP B-TREE" not in plan, plan
    elif ordered:
        assert "Sort" not in plan, plan


def test_details_of_case_are_the_rows_of_their_case_id_column(clean_db_url: str) -> None:
    """``details_of_case`` (through the steps) against the details' own ``case_id``
    column, which the step store writes with the step's: the same rows, in step order."""
    from datetime import UTC, datetime

    from backend.db import Case, make_session_factory, session_scope

    now = datetime(2026, 12, 6, tzinfo=UTC)
    cases = [CASE, "0x" + "cd" * 32]
    engine = make_engine(clean_db_url)
    try:
        sessions = make_session_factory(engine)
        with session_scope(sessions) as s:
            for c in cases:
                s.add(Case(id=c, order_id=c[-4:], claimant="0x" + "aa" * 20,
                           respondent="0x" + "bb" * 20, stage="filed"))
            s.flush()
            for n in range(6):  # interleaved: the cases' steps alternate in id order
                c = cases[n % 2]
                step = Step(case_id=c, sequence=n // 2, kind="offer.made",
                            record=stored_record({"n": n}),
                            signature="0x" + "11" * 65, signer="0x" + "aa" * 20,
                            record_hash=f"0x{n:064x}", prev_hash="0x" + "00" * 32)
                s.add(step)
                s.flush()
                assert step.id is not None
                s.add(StepDetail(step_id=step.id, case_id=c,
                                 action="award.issued" if n in (2, 4) else "offer.made",
                                 signed_at=now))
        with sessions() as s:
            for c in cases:
                own = s.exec(select(StepDetail).where(col(StepDetail.case_id) == c)
                             .order_by(col(StepDetail.step_id))).all()
                joined = s.exec(details_of_case(c)).all()
                assert [d.step_id for d in joined] == [d.step_id for d in own]
                assert len(own) == 3 and all(d.case_id == c for d in joined)
                awards = s.exec(details_of_case(c).where(
                    col(StepDetail.action) == "award.issued")).all()
                assert [d.step_id for d in awards] == [d.step_id for d in own
                                                       if d.action == "award.issued"]
            assert s.exec(details_of_case("0x" + "ef" * 32)).all() == []
    finally:
        engine.dispose()
