"""Writing notices into the outbox (same transaction as the step that causes them)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from backend.db import Account, Notice, NoticeStatus
from backend.db.rows import insert_row, table_of
from evidence.steps import STEPS
from evidence.words import STAGES, Words, word

from .templates import LANGUAGES, render

__all__ = ["enqueue_notice", "render_notice"]


# A step as a fact, in words (the step table's past tense), for ``{action}``.
_DONE: dict[str, Words] = {s.action: (s.done_en, s.done_zh) for s in STEPS}


def _words(pair: Words, language: str) -> str:
    return pair[1] if language == "zh-Hans" else pair[0]


def render_notice(kind: str, language: str, *, case_id: str, stage: str = "",
                  action: str = "", base_url: str = "") -> tuple[str, str]:
    """The notice's subject and body in ``language``; the stage and the step in words
    (evidence/words.py, evidence/steps.py), never their internal names."""
    url = f"{base_url.rstrip('/')}/cases/{case_id}" if base_url else f"/cases/{case_id}"
    stage_words = _words(word(STAGES, stage), language) if stage else ""
    action_words = _words(_DONE.get(action, (action, action)), language) if action else ""
    return render(kind, language, case=case_id[:10], stage=stage_words, action=action_words,
                  url=url)


def enqueue_notice(session: Session, *, case_id: str | None, recipient: str, kind: str,
                   now: datetime, stage: str = "", action: str = "", base_url: str = "",
                   smtp_enabled: bool = False) -> int:
    """One outbox row in the recipient's preferred language (caller commits); its id."""
    # Core statements (backend/db/rows.py): one per step on the write path
    account = session.connection().execute(_ACCOUNT, {"address": recipient}).first()
    language = account.preferred_language if account is not None else "en"
    if language not in LANGUAGES:
        language = "en"
    email = account.email if account is not None else None
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
