"""The case view's JSON is built from each offer's kept text (``views.case_view_json``,
issue 10): the bytes must be exactly what ``JSONResponse`` makes of ``case_view``, for a
reader of offers (spliced) and for one who sees none (encoded whole), read after read."""

from __future__ import annotations

from starlette.responses import JSONResponse

from backend.services import views
from tests.support.world import AMOUNT, ORDER_ID, World, ok, to_filed


def test_the_view_text_is_jsonresponse_of_the_view(world: World) -> None:
    w = world
    service = w.app.state.ctx.service
    to_filed(w)
    seq, prev = w.buyer.head()
    for j, who in enumerate((w.buyer, w.seller, w.buyer)):
        body, prev = who.offer_at(w.case_id, ORDER_ID, seq + j, prev, 1_000 * (j + 1) + AMOUNT // 4)
        ok(who.post(f"/cases/{w.case_id}/offers", json=body))
    for reader in (w.buyer, w.seller, w.buyer):  # the second read of each uses kept texts
        r = reader.get(f"/cases/{w.case_id}")
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        expected = JSONResponse(views.case_view(service, w.case_id, reader.address)).body
        assert r.content == expected
        assert len(r.json()["offers"]) == 3
    # a new offer: a new list of offers (the kept list and its text are the old state's)
    body, prev = w.seller.offer_at(w.case_id, ORDER_ID, seq + 3, prev, 9_000 + AMOUNT // 4)
    ok(w.seller.post(f"/cases/{w.case_id}/offers", json=body))
    for reader in (w.buyer, w.buyer):
        r = reader.get(f"/cases/{w.case_id}")
        assert r.content == JSONResponse(views.case_view(service, w.case_id,
                                                         reader.address)).body
        assert len(r.json()["offers"]) == 4
    admin = views.case_view(service, w.case_id, service.institution_address)
    assert "offers" not in admin  # an admin sees no offers: the view is encoded whole
    assert views.case_view_json(service, w.case_id, service.institution_address) == \
        JSONResponse(admin).body
