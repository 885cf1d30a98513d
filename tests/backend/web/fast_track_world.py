"""A page world with the fast track open (docs/jury.md §9): the order's amount is within the
fast track's limit and both parties agreed to arbitration, so the mediator of the world's
case may propose the pre-evaluation as a resolution that binds unless a party objects."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.backend.web.web_world import AMOUNT, WebWorld, web_world


@contextmanager
def fast_track_world(tmp_path: Path) -> Iterator[WebWorld]:
    with web_world(tmp_path, fast_track_max_amount=AMOUNT) as w:
        agree(w, w.case_id)
        yield w


def agree(w: WebWorld, case_id: str) -> None:
    """Both parties sign the arbitration agreement (what makes silence able to bind)."""
    for who in ("buyer", "seller"):
        c = w.clients[who]
        c.post(f"/cases/{case_id}/arbitration-agreement", c.plain(case_id, "arbitration.agreed"))


def to_facilitation(w: WebWorld, case_id: str) -> None:
    """A case in negotiation to facilitation with the world's mediator, both agreed."""
    buyer, admin = w.clients["buyer"], w.clients["admin"]
    agree(w, case_id)
    buyer.post(f"/cases/{case_id}/facilitation", buyer.plain(case_id, "facilitation.requested"))
    admin.post(f"/cases/{case_id}/mediator", admin.plain(case_id, "appoint.mediator", {
        "role": "mediator", "appointees": [w.clients["mediator"].address]}))


def propose(w: WebWorld, case_id: str) -> dict[str, Any]:
    """The mediator proposes the report through the API (as the page's form does)."""
    mediator = w.clients["mediator"]
    prop: dict[str, Any] = mediator.get(f"/cases/{case_id}/fast-track")
    mediator.post(f"/cases/{case_id}/fast-track", mediator.plain(
        case_id, "fasttrack.proposed", prop["payload"], document={
            "filename": "fast-track-proposal.json", "media_type": "application/json",
            "content_base64": base64.b64encode(prop["canonical"].encode()).decode()}))
    return prop
