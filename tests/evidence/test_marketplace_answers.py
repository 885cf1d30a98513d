"""The marketplace client checks each answer against the TypedDict the API declares for it
(evidence/marketplace.py `_answer_as`): what it returns is what its type says."""

from __future__ import annotations

import httpx
import pytest

from evidence.marketplace import CheckoutRefusedError, MarketplaceClient

_SUMMARY = {"contractHash": "0x" + "11" * 32, "status": "bound",
            "signedBy": {"buyer": True, "seller": True}, "orderId": "7", "caseId": None,
            "cid": None, "arbitrationAgreed": True,
            "clause": {"id": "chainarb-arbitration-1", "en": "…", "zh": "…"},
            "offerExpiresAt": "2026-12-31T00:00:00Z", "extra": [1]}


def _client(answer: object) -> MarketplaceClient:
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, json=answer))
    return MarketplaceClient(client=httpx.Client(transport=transport, base_url="http://x"))


def test_an_answer_of_the_declared_shape_comes_back_as_it_arrived() -> None:
    assert _client(_SUMMARY).bind("0x11") == _SUMMARY


@pytest.mark.parametrize(("change", "where"), [
    ({"status": 3}, "ContractSummaryJson.status: expected str"),
    ({"orderId": 7}, "ContractSummaryJson.orderId: expected str"),
    ({"arbitrationAgreed": 1}, "ContractSummaryJson.arbitrationAgreed: expected bool"),
    ({"signedBy": {"buyer": True}}, "ContractSummaryJson.signedBy: no seller"),
    ({"clause": []}, "ContractSummaryJson.clause: expected an object"),
])
def test_an_answer_of_another_shape_is_refused_as_a_bad_answer(
        change: dict[str, object], where: str) -> None:
    with pytest.raises(CheckoutRefusedError) as refused:
        _client(_SUMMARY | change).bind("0x11")
    assert (refused.value.code, refused.value.detail) == ("bad_answer", where)


def test_a_member_left_out_is_named() -> None:
    answer = {k: v for k, v in _SUMMARY.items() if k != "cid"}
    with pytest.raises(CheckoutRefusedError, match="ContractSummaryJson: no cid"):
        _client(answer).bind("0x11")
    with pytest.raises(CheckoutRefusedError, match=r"StandardTermsJson\.rulesVersions\[0\]"):
        _client({"disputeClauses": [], "returnPolicies": [], "rulesVersions": [3]}).terms()
