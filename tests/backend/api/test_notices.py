"""Notices: an outbox row per step and party, in the recipient's language, delivered to a
real SMTP server on loopback (aiosmtpd), with a delivery record on every row."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from backend.db import Notice
from tests.support.world import World, make_world, ok, to_filed


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """An aiosmtpd server on loopback that can go down and come back on the same port."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = _free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[tuple[Server, Inbox]]:
    server = Server()
    server.start()
    try:
        yield server, server.inbox
    finally:
        server.stop()


@pytest.fixture
def mail_world(clean_db_url: str, tmp_path: Path, smtp: tuple[Server, Inbox]
               ) -> Iterator[World]:
    w = make_world(clean_db_url, tmp_path, smtp_port=smtp[0].port)
    with w.client:
        yield w


def _subject(msg: Any) -> str:
    return str(make_header(decode_header(msg["Subject"])))


def test_notices_in_each_language_reach_the_smtp_server(
        mail_world: World, smtp: tuple[Server, Inbox]) -> None:
    w = mail_world
    _, inbox = smtp
    ok(w.client.put("/auth/me", headers=w.buyer.headers,
                    json={"email": "buyer@example.de", "preferredLanguage": "en"}))
    ok(w.client.put("/auth/me", headers=w.seller.headers,
                    json={"email": "seller@example.cn", "preferredLanguage": "zh-Hans"}))
    to_filed(w)
    with w.app.state.ctx.sessions() as s:
        rows = s.exec(select(Notice).where(Notice.case_id == w.case_id)).all()
        assert {(n.recipient, n.kind, n.language, n.status) for n in rows} == {
            (w.seller.address, "claim_filed", "zh-Hans", "pending"),
            (w.seller.address, "stage_changed", "zh-Hans", "pending"),
            (w.buyer.address, "stage_changed", "en", "pending")}
    report = w.tick()
    assert report["notices_sent"] == 3
    assert len(inbox.messages) == 3
    to_seller = [m for m in inbox.messages if m["To"] == "seller@example.cn"]
    subjects = sorted(_subject(m) for m in to_seller)
    assert any("争议申请" in s for s in subjects), subjects
    assert all(s.startswith("案件 ") for s in subjects)
    notices = ok(w.seller.get(f"/cases/{w.case_id}/notices"))
    assert all(n["status"] == "sent" and n["attempts"] == 1 for n in notices)
    assert notices[0]["deliveredAt"] == "2026-11-24T08:00:00Z"
    # the next step notifies the buyer, in English
    ok(w.seller.post(f"/cases/{w.case_id}/arbitration-agreement",
                     json=w.seller.plain("arbitration.agreed")))
    w.tick()
    english = [m for m in inbox.messages if m["To"] == "buyer@example.de"]
    assert english and _subject(english[0]).startswith("Case ")


def test_failed_delivery_is_recorded_and_retried(
        mail_world: World, smtp: tuple[Server, Inbox]) -> None:
    w = mail_world
    controller, inbox = smtp
    ok(w.client.put("/auth/me", headers=w.seller.headers, json={"email": "s@example.cn"}))
    w.open_case("buyer")
    controller.stop()  # the mail server is down
    w.admin.post("/admin/courts", json={"address": w.court.address, "name": "Court"})
    ok(w.admin.post(f"/cases/{w.case_id}/courts", json={"court": w.court.address}))
    w.tick()
    (notice,) = ok(w.seller.get(f"/cases/{w.case_id}/notices"))
    assert notice["status"] == "pending" and notice["attempts"] == 1
    assert "Error" in notice["error"] or "refused" in notice["error"].lower()
    w.tick()  # not due yet (back-off): no second attempt
    assert ok(w.seller.get(f"/cases/{w.case_id}/notices"))[0]["attempts"] == 1
    controller.start()
    w.clock.advance(minutes=5)
    assert w.tick()["notices_sent"] == 1
    (notice,) = ok(w.seller.get(f"/cases/{w.case_id}/notices"))
    assert notice["status"] == "sent" and notice["attempts"] == 2 and notice["error"] is None
    assert len(inbox.messages) == 1 and "court" in inbox.messages[0]["Subject"]


def test_without_email_the_notice_stays_in_the_outbox(mail_world: World) -> None:
    w = mail_world
    to_filed(w)  # the seller gave no e-mail address
    notices = ok(w.seller.get(f"/cases/{w.case_id}/notices"))
    assert {n["status"] for n in notices} == {"outbox_only"}
    assert {n["kind"] for n in notices} == {"claim_filed", "stage_changed"}
    assert w.tick()["notices_sent"] == 0
