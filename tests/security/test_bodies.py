"""Malformed, mistyped and oversized requests: each refused with its exact status and code.

Signed in as a party of case A (``_world.Twin``), every request below is wrong in one way:
the Content-Type, the JSON itself, its shape (array or scalar for an object, a field
missing, extra or of the wrong type, a bound exceeded), the multipart upload, or a query
parameter. Each answers the one error body ``{"code", "detail"}`` and changes nothing.
(Deep nesting and number ranges are test_input_bounds.py's.)
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.security._world import Twin, expect

JSON = {"Content-Type": "application/json"}


def _step(**extra: Any) -> dict[str, Any]:
    """A step body of the right shape whose record is refused later (never reached)."""
    return {"record": {"type": "ProceduralStep"}, **extra}


# (id, method, path under /cases/{a} or absolute, request kwargs, status, code)
BODIES: list[tuple[str, str, str, dict[str, Any], int, str]] = [
    # -- Content-Type --------------------------------------------------------------------
    ("text-plain-body", "POST", "{a}/answer",
     {"content": b'{"record": {}}', "headers": {"Content-Type": "text/plain"}}, 415,
     "expected_json"),
    ("form-urlencoded-body", "POST", "{a}/answer",
     {"content": b"record=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
     415, "expected_json"),
    ("xml-body", "POST", "/cases",
     {"content": b"<orderId>7</orderId>", "headers": {"Content-Type": "application/xml"}},
     415, "expected_json"),
    ("multipart-to-a-json-route", "POST", "{a}/steps/prepare",
     {"files": {"action": (None, "answer.submitted")}}, 415, "expected_json"),
    ("json-to-the-upload-route", "POST", "{a}/evidence", {"json": {"file": "x"}}, 415,
     "expected_multipart"),
    ("multipart-without-boundary", "POST", "{a}/evidence",
     {"content": b"x", "headers": {"Content-Type": "multipart/form-data"}}, 415,
     "expected_multipart"),
    # -- not JSON ------------------------------------------------------------------------
    ("truncated-json", "POST", "{a}/answer", {"content": b'{"record": ', "headers": JSON},
     422, "bad_json"),
    ("trailing-garbage", "POST", "{a}/answer", {"content": b'{"record": {}} x',
                                                "headers": JSON}, 422, "bad_json"),
    ("single-quoted-json", "POST", "{a}/answer", {"content": b"{'record': {}}",
                                                  "headers": JSON}, 422, "bad_json"),
    ("not-utf8", "POST", "{a}/answer", {"content": b'{"record": "\xff\xfe"}', "headers": JSON},
     422, "bad_json"),
    ("number-beyond-python-int-limit", "POST", "{a}/answer",
     {"content": b'{"record": {"n": ' + b"9" * 5000 + b"}}", "headers": JSON}, 422,
     "bad_json"),
    # -- the wrong shape ---------------------------------------------------------------------
    ("empty-body", "POST", "{a}/answer", {"content": b"", "headers": JSON}, 422,
     "invalid_field"),
    ("json-array-for-object", "POST", "{a}/answer", {"json": [{"record": {}}]}, 422,
     "invalid_field"),
    ("json-string-for-object", "POST", "{a}/answer", {"json": "record"}, 422,
     "invalid_field"),
    ("json-number-for-object", "POST", "{a}/answer", {"json": 7}, 422, "invalid_field"),
    ("json-null-for-object", "POST", "{a}/answer", {"content": b"null", "headers": JSON}, 422,
     "invalid_field"),
    ("missing-record", "POST", "{a}/answer", {"json": {"payload": {}}}, 422,
     "invalid_field"),
    ("record-is-a-string", "POST", "{a}/answer", {"json": {"record": "0xdead"}}, 422,
     "invalid_field"),
    ("record-is-an-array", "POST", "{a}/answer", {"json": {"record": []}}, 422,
     "invalid_field"),
    ("payload-is-an-array", "POST", "{a}/answer", {"json": _step(payload=[1])}, 422,
     "invalid_field"),
    ("attachments-is-an-object", "POST", "{a}/answer", {"json": _step(attachments={})}, 422,
     "invalid_field"),
    ("five-attachments", "POST", "{a}/answer", {"json": _step(attachments=[{}] * 5)}, 422,
     "invalid_field"),
    ("reasons-over-4000-chars", "POST", "{a}/court-decision",
     {"json": _step(reasons="x" * 4001)}, 422, "invalid_field"),
    ("reasons-is-a-number", "POST", "{a}/court-decision", {"json": _step(reasons=1)}, 422,
     "invalid_field"),
    ("document-without-content", "POST", "{a}/award",
     {"json": _step(document={"filename": "a.md"})}, 422, "invalid_field"),
    ("document-filename-over-255", "POST", "{a}/award",
     {"json": _step(document={"filename": "a" * 256, "content_base64": ""})}, 422,
     "invalid_field"),
    ("extra-top-level-field", "POST", "{a}/answer", {"json": _step(admin=True)}, 422,
     "invalid_field"),
    ("extra-field-in-document", "POST", "{a}/award",
     {"json": _step(document={"content_base64": "", "path": "/etc/passwd"})}, 422,
     "invalid_field"),
    ("prepare-without-action", "POST", "{a}/steps/prepare", {"json": {"payload": {}}}, 422,
     "invalid_field"),
    ("prepare-action-over-64", "POST", "{a}/steps/prepare", {"json": {"action": "a" * 65}},
     422, "invalid_field"),
    ("open-case-order-not-digits", "POST", "/cases", {"json": {"orderId": "7; DROP"}}, 422,
     "invalid_field"),
    ("open-case-order-is-a-number", "POST", "/cases", {"json": {"orderId": 7}}, 422,
     "invalid_field"),
    ("open-case-order-79-digits", "POST", "/cases", {"json": {"orderId": "9" * 79}}, 422,
     "invalid_field"),
    ("open-case-extra-field", "POST", "/cases", {"json": {"orderId": "7", "caseId": "0x00"}},
     422, "invalid_field"),
    ("profile-email-without-at", "PUT", "/auth/me", {"json": {"email": "nobody"}}, 422,
     "invalid_field"),
    ("profile-unknown-language", "PUT", "/auth/me", {"json": {"preferredLanguage": "xx"}},
     422, "bad_submission"),
    ("profile-name-over-200", "PUT", "/auth/me", {"json": {"displayName": "n" * 201}}, 422,
     "invalid_field"),
    ("encryption-key-not-32-bytes", "PUT", "{a}/encryption-key",
     {"json": {"publicKey": "0x1234"}}, 422, "invalid_field"),
    ("evidence-submit-record-missing", "POST", "{a}/evidence/{item}/submit", {"json": {}},
     422, "invalid_field"),
    ("item-id-not-a-number", "GET", "{a}/evidence/first", {}, 422, "invalid_field"),
    ("step-sequence-negative-text", "GET", "{a}/steps/minus-one", {}, 422,
     "invalid_field"),
    # -- query parameters ------------------------------------------------------------------
    ("tracking-not-an-enum", "GET", "{a}/pre-evaluation?tracking=teleported", {}, 422,
     "invalid_field"),
    # (no `tracking`: the pre-evaluation reads it from the order's performance evidence)
    ("upload-kind-over-32", "POST", "{a}/evidence?kind=" + "k" * 33,
     {"files": {"file": ("a.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")}}, 422,
     "invalid_field"),
    # -- multipart uploads -----------------------------------------------------------------
    ("multipart-unknown-part", "POST", "{a}/evidence",
     {"files": {"file": ("a.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf"),
                "owner": (None, "admin")}}, 422, "malformed_multipart"),
    ("multipart-two-files", "POST", "{a}/evidence",
     {"files": [("file", ("a.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")),
                ("file", ("b.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf"))]}, 422,
     "malformed_multipart"),
    ("multipart-no-file", "POST", "{a}/evidence", {"files": {"description": (None, "x")}},
     422, "malformed_multipart"),
    ("multipart-truncated", "POST", "{a}/evidence",
     {"content": b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nab",
      "headers": {"Content-Type": "multipart/form-data; boundary=B"}}, 422,
     "malformed_multipart"),
    ("multipart-field-over-1k", "POST", "{a}/evidence",
     {"files": {"file": ("a.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf"),
                "description": (None, "d" * 1025)}}, 422, "malformed_multipart"),
    # -- routes and methods ------------------------------------------------------------------
    ("unknown-route", "GET", "{a}/secrets", {}, 404, "not_found"),
    ("wrong-method", "DELETE", "{a}", {}, 405, "method_not_allowed"),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "code"),
                         [b[1:] for b in BODIES], ids=[b[0] for b in BODIES])
def test_malformed_request_is_refused(twin: Twin, method: str, path: str,
                                      kwargs: dict[str, Any], status: int, code: str) -> None:
    w = twin.world
    before = w.admin.case(twin.a)
    url = path.format(a=f"/cases/{twin.a}", item=twin.item_a)
    headers = {**w.buyer.headers, **kwargs.pop("headers", {})} if "headers" in kwargs else \
        w.buyer.headers
    r = w.client.request(method, url, headers=headers, **kwargs)
    expect(r, status, code)
    after = w.admin.case(twin.a)
    assert (after["stage"], after["nextSequence"]) == (before["stage"], before["nextSequence"])


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_json_body_is_refused(twin: Twin, chunked: bool) -> None:
    """17 MiB, over the 16 MiB JSON limit: announced by Content-Length, or streamed."""
    w = twin.world
    body = b'{"record": {"x": "' + b"a" * (17 * 1024 * 1024) + b'"}}'
    content: Any = body
    if chunked:
        def chunks() -> Any:
            for i in range(0, len(body), 1 << 20):
                yield body[i:i + (1 << 20)]
        content = chunks()
    r = w.client.post(f"/cases/{twin.a}/answer", content=content,
                      headers={**w.buyer.headers, **JSON})
    expect(r, 413, "body_too_large")


def test_an_anonymous_malformed_body_is_a_json_error(twin: Twin) -> None:
    """No session and a body that is not JSON: refused as not JSON (FastAPI reads the body
    before it resolves the session), with the error body, never a 500."""
    r = twin.world.client.post(f"/cases/{twin.a}/answer", content=b'{"record": ',
                               headers=JSON)
    expect(r, 422, "bad_json")
