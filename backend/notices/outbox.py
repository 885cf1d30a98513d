"""Writing notices into the outbox (same transaction as the step that causes them)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from backend.db import Account, Notice, NoticeStatus
from backend.db.fast import prepare
from backend.db.rows import table_of

from .templates import LANGUAGES, render

__all__ = ["enqueue_notice", "held_notices", "held_params", "insert_held", "notice_insert",
           "render_notice"]

# ``session.info`` key: the notices ``enqueue_notice`` keeps instead of inserting them
_HELD = "chainarb_held_notices"


def render_notice(kind: str, language: str, *, case_id: str, stage: str = "",
                  action: str = "", base_url: str = "") -> tuple[str, str]:
    """A notice's (subject, body): the stage and the step in words of ``language`` (the
    pages' vocabulary, evidence/words.py and evidence/steps.py), and the link to the case's
    page in that language (a person reads a page, not the API's JSON)."""
    from evidence.steps import STEPS
    from evidence.words import STAGES, word

    zh = language == "zh-Hans"
    stage_words = word(STAGES, stage)[1 if zh else 0] if stage else ""
    spec = next((s for s in STEPS if s.action == action), None)
    action_words = (spec.done_zh if zh else spec.done_en) if spec is not None else action
    path = f"/ui/cases/{case_id}?lang={language}"
    url = f"{base_url.rstrip('/')}{path}" if base_url else path
    return render(kind, language, case=case_id[:10], stage=stage_words, action=action_words,
                  url=url)


def enqueue_notice(session: Session, *, case_id: str | None, recipient: str, kind: str,
                   now: datetime, stage: str = "", action: str = "", base_url: str = "",
                   smtp_enabled: bool = False) -> None:
    """One outbox row in the recipient's preferred language (caller commits).

    One statement (issue 10: on the write path of every step; on PostgreSQL each statement
    is a round trip): the notice is rendered in every language and the INSERT takes the
    recipient's account, when there is one, for the language, the e-mail address and so
    the status, as reading the account first did."""
    values: dict[str, object] = {"case_id": case_id, "recipient": recipient, "kind": kind,
                                 "smtp": smtp_enabled, "now": now}
    for i, language in enumerate(LANGUAGES):
        values[f"subject_{i}"], values[f"body_{i}"] = render_notice(
            kind, language, case_id=case_id or "-", stage=stage, action=action,
            base_url=base_url)
    held: list[dict[str, Any]] | None = session.info.get(_HELD)
    if held is not None:
        held.append(values)  # stored by the holder (``held_notices``)
        return
    insert_held(session, [values])


@contextmanager
def held_notices(session: Session) -> Iterator[list[dict[str, object]]]:
    """While open, ``enqueue_notice`` on ``session`` keeps each notice's values in the
    list yielded instead of inserting it; the holder stores them in the same transaction
    (issue 10: on PostgreSQL a step's notices are CTEs of the case's UPDATE that follows,
    ``CaseRepository.save``; else ``insert_held``). Only for code that reads no notice
    before storing them."""
    held: list[dict[str, object]] = []
    session.info[_HELD] = held
    try:
        yield held
    finally:
        session.info.pop(_HELD, None)


def insert_held(session: Session, held: Sequence[dict[str, object]]) -> None:
    """Each notice's INSERT (compiled once, run on the driver's cursor)."""
    conn = session.connection()
    for values in held:
        prepare(_INSERT, conn.dialect, notice_insert).execute(conn, values)


def held_params(held: Sequence[dict[str, object]]) -> dict[str, object]:
    """The held notices' values as the parameters of ``notice_insert(f"n{j}_")``, j each
    notice's place."""
    return {f"n{j}_{k}": v for j, values in enumerate(held) for k, v in values.items()}


_INSERT = ("notice", "from account")


@cache
def notice_insert(prefix: str = "") -> sa.Insert:
    """INSERT INTO notice ... SELECT ... FROM (one row) LEFT JOIN account: the recipient's
    language when it is one of ``LANGUAGES`` (else the first), its e-mail address, and
    ``pending`` (due now) only when SMTP is on and there is an address to send to. Its
    parameters are named ``prefix`` + ``enqueue_notice``'s names (several in one
    statement: ``held_params``)."""
    notice, account = table_of(Notice), table_of(Account)
    language = account.c.preferred_language

    def text(value: str) -> sa.ColumnElement[str]:  # a constant of ours, in the SQL text
        return sa.literal_column(f"'{value}'", sa.String)

    def in_language(name: str) -> sa.ColumnElement[str]:
        return sa.case(*((language == text(lang),
                           sa.bindparam(f"{prefix}{name}_{i}", type_=sa.Text))
                         for i, lang in enumerate(LANGUAGES) if i),
                       else_=sa.bindparam(f"{prefix}{name}_0", type_=sa.Text))

    now = sa.bindparam(f"{prefix}now", type_=notice.c.created_at.type)
    sending = sa.and_(sa.bindparam(f"{prefix}smtp", type_=sa.Boolean),
                      account.c.email.is_not(None))
    one = sa.select(sa.literal_column("1").label("one")).subquery(f"{prefix}one")
    rows = sa.select(
        sa.bindparam(f"{prefix}case_id", type_=notice.c.case_id.type),
        sa.bindparam(f"{prefix}recipient", type_=notice.c.recipient.type),
        account.c.email,
        sa.bindparam(f"{prefix}kind", type_=notice.c.kind.type),
        sa.case(*((language == text(lang), text(lang)) for lang in LANGUAGES[1:]),
                else_=text(LANGUAGES[0])),
        in_language("subject"), in_language("body"),
        sa.case((sending, text(NoticeStatus.PENDING.value)),
                else_=text(NoticeStatus.OUTBOX_ONLY.value)),
        sa.literal_column("0"),
        sa.case((sending, now), else_=sa.null()),
        now,
    ).select_from(one.outerjoin(
        account, account.c.address == sa.bindparam(f"{prefix}recipient")))
    return sa.insert(notice).from_select(
        ["case_id", "recipient", "email", "kind", "language", "subject", "body", "status",
         "attempts", "next_attempt_at", "created_at"], rows)
