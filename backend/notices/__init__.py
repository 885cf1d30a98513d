"""Notices to the participants of a case: bilingual texts, the outbox, SMTP delivery.

Every accepted step writes ``Notice`` rows (the outbox) in the same transaction as the
step; ``SmtpSender.deliver_pending`` sends them later and records status, attempts and the
last error on each row. Without SMTP (or without a known e-mail) a notice stays in the
outbox as ``outbox_only``: the record of notice still exists, and the web pages show it.
"""

from backend.notices.outbox import enqueue_notice, render_notice
from backend.notices.smtp import SmtpSender
from backend.notices.templates import LANGUAGES, TEMPLATES, render

__all__ = ["LANGUAGES", "TEMPLATES", "SmtpSender", "enqueue_notice", "render", "render_notice"]
