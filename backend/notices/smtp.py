"""SMTP delivery of the outbox, with a delivery record on every notice row.

Each run takes the PENDING notices that are due, sends each in its own connection attempt
(``smtplib``; STARTTLS and login when configured), and records: SENT with the time, or
another attempt later (exponential back-off) with the error, or FAILED after
``max_attempts``. A row is marked before the next is sent, so a crash re-sends at most one.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from backend.db import Notice, NoticeStatus, begin_exclusive

__all__ = ["SmtpSender"]


class SmtpSender:
    def __init__(self, sessions: sessionmaker[Session], *, host: str, port: int,
                 sender: str, user: str = "", password: str | None = None,
                 starttls: bool = False, clock: Callable[[], datetime],
                 max_attempts: int = 5, timeout: float = 10.0) -> None:
        self.sessions = sessions
        self.host, self.port, self.sender = host, port, sender
        self.user, self._password, self.starttls = user, password, starttls
        self.clock = clock
        self.max_attempts = max_attempts
        self.timeout = timeout

    def __repr__(self) -> str:  # never the password
        return f"SmtpSender({self.host}:{self.port})"

    def _send(self, notice: Notice) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = notice.email or ""
        msg["Subject"] = notice.subject
        msg["Content-Language"] = notice.language
        msg["X-Chainarb-Case"] = notice.case_id or ""
        msg["X-Chainarb-Notice"] = f"{notice.id}:{notice.kind}"
        msg.set_content(notice.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self._password or "")
            smtp.send_message(msg)

    def deliver_pending(self, limit: int = 100) -> tuple[int, int]:
        """Send due notices; returns (sent, failed-this-run)."""
        now = self.clock()
        with self.sessions() as session:
            due = list(session.exec(
                select(Notice).where(col(Notice.status) == NoticeStatus.PENDING,
                                     col(Notice.next_attempt_at) <= now)
                .order_by(col(Notice.id)).limit(limit)).all())
        sent = failed = 0
        for notice in due:
            error: str | None = None
            try:
                self._send(notice)
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
            with self.sessions() as session:
                begin_exclusive(session)
                row = session.get(Notice, notice.id)
                assert row is not None
                row.attempts += 1
                if error is None:
                    row.status, row.delivered_at, row.error = NoticeStatus.SENT, now, None
                    sent += 1
                else:
                    row.error = error
                    if row.attempts >= self.max_attempts:
                        row.status = NoticeStatus.FAILED
                    else:
                        row.next_attempt_at = now + timedelta(seconds=30 * 2 ** row.attempts)
                    failed += 1
                session.add(row)
                session.commit()
        return sent, failed
