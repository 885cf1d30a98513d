"""Writing notices into the outbox (same transaction as the step that causes them)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from backend.db import Account, Notice, NoticeStatus
from backend.db.fast import prepare
from backend.db.rows import insert_row, table_of

from .templates import LANGUAGES, render

__all__ = ["enqueue_notice", "render_notice"]


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
                   smtp_enabled: bool = False) -> int:
    """One outbox row in the recipient's preferred language (caller commits); its id."""
    # Core statements (backend/db/rows.py): one per step on the write path
    conn = session.connection()  # compiled once, run on the driver's cursor
    account = prepare(_ACCOUNT, conn.dialect, lambda: _ACCOUNT).first(
        conn, {"address": recipient})
    language = account[0] if account is not None else "en"
    if language not in LANGUAGES:
        language = "en"
    email = account[1] if account is not None else None
    subject, body = render_notice(kind, language, case_id=case_id or "-", stage=stage,
                                  action=action, base_url=base_url)
    status = NoticeStatus.PENDING if (smtp_enabled and email) else NoticeStatus.OUTBOX_ONLY
    values = dict(case_id=case_id, recipient=recipient, email=email, kind=kind,
                  language=language, subject=subject, body=body, status=status,
                  next_attempt_at=now if status is NoticeStatus.PENDING else None,
                  created_at=now)
    notice_id: int = insert_row(session, Notice, values)
    return notice_id


_accounts = table_of(Account).c
_ACCOUNT = sa.select(_accounts.preferred_language, _accounts.email).where(
    _accounts.address == sa.bindparam("address"))
