"""Active content as evidence, and the headers every response carries (issue 9, defect 5).

Attack class: a party uploads something a browser would run (HTML, XHTML, SVG, XML,
JavaScript; in UTF-8 or UTF-16, behind a BOM, whitespace or odd letter case; declared as
text/plain; hidden behind a JPEG's magic bytes) so that the other party, the tribunal or
the court opening it runs the attacker's script on the service's origin. Each upload is
refused with 415 and the exact code; an allowed file is stored under a name whose
extension comes from its bytes; and every response — JSON, error, download, page —
carries the headers that keep a browser from running or framing it
(backend/api/headers.py, docs/evidence-upload.md "Serving content").
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.api.headers import DOWNLOAD_CSP, attachment, docs_csp
from tests.support.evidence import make_evidence_world, upload
from tests.support.migrated import migrated
from tests.support.world import World, file_claim

SCRIPT = b"<script>alert(document.domain)</script>"


def _filed_world(tmp_path: Path) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'security.sqlite3'}"
    migrated(url)
    w = make_evidence_world(url, tmp_path)
    with w.client:
        w.open_case("buyer")
        file_claim(w)
        yield w


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from _filed_world(tmp_path)


@pytest.fixture(scope="module")
def refusing_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One filed case for the refused uploads: a refused upload stores nothing (each test
    checks that the case still lists no evidence), so they can share it."""
    yield from _filed_world(tmp_path_factory.mktemp("refusing"))


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def _utf16le_bom(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le")


# (bytes, client filename, declared Content-Type, status, code)
REFUSED: dict[str, tuple[bytes, str, str, int, str]] = {
    "html": (b"<!DOCTYPE html><html><body>" + SCRIPT + b"</body></html>",
             "invoice.html", "text/html", 415, "active_content"),
    "html_declared_text_plain": (b"<html><body>" + SCRIPT + b"</body></html>",
                                 "notes.txt", "text/plain", 415, "active_content"),
    "html_bom_whitespace_mixed_case": (b"\xef\xbb\xbf \r\n\t<HtMl><ScRiPt>alert(1)</sCrIpT>",
                                       "notes.txt", "text/plain", 415, "active_content"),
    "html_fragment_after_text": (b"Dear seller,\nplease see below.\n<img src=x onerror=alert(1)>",
                                 "letter.txt", "text/plain", 415, "active_content"),
    "svg_with_script": (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
                        + SCRIPT + b"</svg>", "photo.svg", "image/svg+xml", 415,
                        "active_content"),
    "svg_onload_no_prolog": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
                             "photo.png", "image/png", 415, "active_content"),
    "xhtml": (b'<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/'
              b'xhtml"><body>' + SCRIPT + b"</body></html>", "page.xhtml",
              "application/xhtml+xml", 415, "active_content"),
    "xml": (b'<?xml version="1.0"?><?xml-stylesheet href="x.xsl"?><order>1</order>',
            "order.xml", "application/xml", 415, "active_content"),
    "namespaced_script": (b'<x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)'
                          b"</x:script>", "a.txt", "text/plain", 415, "active_content"),
    "utf7_script": (b"+ADw-script+AD4-alert(1)+ADw-/script+AD4-", "a.txt", "text/plain", 415,
                    "active_content"),
    "utf16le_bom_html": (_utf16le_bom("<html><script>alert(1)</script></html>"),
                         "notes.txt", "text/plain", 415, "active_content"),
    "utf16be_no_bom_html": ("<HTML><BODY><SCRIPT>alert(1)</SCRIPT>".encode("utf-16-be"),
                            "notes.txt", "text/plain", 415, "active_content"),
    "javascript": (b"alert(document.cookie)\n", "a.js", "text/javascript", 415,
                   "active_content"),
    "javascript_bom_function": (b"\xef\xbb\xbf\n  function steal() { fetch('/x'); }\n",
                                "notes.txt", "text/plain", 415, "active_content"),
    "javascript_iife": (b"(function () { var x = 1; })();", "notes.txt", "text/plain", 415,
                        "active_content"),
    "javascript_url": (b"Click here: javascript:alert(1)", "notes.txt", "text/plain", 415,
                       "active_content"),
    "polyglot_jpeg_html": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01"
                           b"\x00\x00<html><body>" + SCRIPT, "photo.jpg", "image/jpeg", 415,
                           "active_content"),
    "polyglot_gif_script": (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;" + SCRIPT, "a.gif",
                            "image/gif", 415, "active_content"),
    "utf16_plain_text": (_utf16le_bom("Delivered on 2 November, signed by Li."), "note.txt",
                         "text/plain", 415, "unsupported_media_type"),
    "zip_archive": (b"PK\x03\x04" + b"\x14\x00" + b"\x00" * 40, "evidence.zip",
                    "application/zip", 415, "unsupported_media_type"),
    "elf_executable": (b"\x7fELF\x02\x01\x01" + b"\x00" * 60, "invoice.pdf",
                       "application/pdf", 415, "unsupported_media_type"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_active_or_unknown_content_is_refused(name: str, refusing_world: World) -> None:
    world = refusing_world
    content, filename, declared, status, code = REFUSED[name]
    r = upload(world.buyer, content, filename=filename, content_type=declared)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    listed = world.buyer.get(f"/cases/{world.case_id}/evidence")
    assert listed.status_code == 200
    assert listed.json()["items"] == []  # nothing was stored


# (bytes, client filename, declared type, stored mediaType, stored filename)
ACCEPTED: dict[str, tuple[bytes, str, str, str, str]] = {
    "jpeg_named_html": (_jpeg(), "photo.html", "text/html", "image/jpeg", "photo.jpg"),
    "jpeg_no_extension": (_jpeg(), "photo", "application/octet-stream", "image/jpeg",
                          "photo.jpg"),
    "text_named_html": (b"Delivery refused at the door on 2 November.\n", "note.html",
                        "text/html", "text/plain", "note.txt"),
    "text_with_angle_brackets": (b"From: Li <li@example.com>\nif a < b then refund\n"
                                 b"The document. It was signed.\n", "mail.eml",
                                 "message/rfc822", "text/plain", "mail.txt"),
    "text_mail_export": (b"- function of the goods: lighting\nTo: Li <mailto:li@example.com>"
                         b"\nSee <https://example.com/order/118>\nRe: 12:30 <= 13:00\n",
                         "mail.txt", "text/plain", "text/plain", "mail.txt"),
    "pdf_named_exe": (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "contract.exe",
                      "application/x-msdownload", "application/pdf", "contract.pdf"),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_stored_name_takes_the_detected_type(name: str, world: World) -> None:
    content, filename, declared, media_type, stored = ACCEPTED[name]
    r = upload(world.buyer, content, filename=filename, content_type=declared)
    assert r.status_code == 201, r.text
    item = world.buyer.get(f"/cases/{world.case_id}/evidence/{r.json()['id']}").json()
    assert (item["mediaType"], item["filename"]) == (media_type, stored)


# -- headers ---------------------------------------------------------------------------

BASE = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
        "x-frame-options": "DENY", "cross-origin-resource-policy": "same-origin"}


def _assert_base(r: Any) -> None:
    got = {k: r.headers.get(k) for k in BASE}
    assert got == BASE, (r.request.url, got)


def test_evidence_download_headers(world: World) -> None:
    r = upload(world.buyer, _jpeg(), filename="发票 résumé.html", content_type="text/html")
    assert r.status_code == 201, r.text
    url = f"/cases/{world.case_id}/evidence/{r.json()['id']}/content"
    cookie = {"cookie": f"chainarb_session={world.buyer.token}"}
    for path, headers in ((url, world.buyer.headers), ("/ui/api" + url, cookie)):
        d = world.client.get(path, headers=headers)  # the API, then the pages' proxy
        assert d.status_code == 200, (path, d.text[:200])
        _assert_base(d)
        assert d.headers["content-type"] == "image/jpeg"
        assert d.headers["content-security-policy"] == DOWNLOAD_CSP
        assert d.headers["content-disposition"] == (
            "attachment; filename=\"resume.jpg\"; "
            "filename*=UTF-8''%E5%8F%91%E7%A5%A8%20r%C3%A9sum%C3%A9.jpg")


def test_content_disposition_fallback_is_a_safe_quoted_string() -> None:
    """RFC 6266: the ASCII stand-in can neither end the quoted string nor add a parameter."""
    assert attachment('a"b\\c;d%e\r\nf.txt') == (
        "attachment; filename=\"a_b_c_d_e__f.txt\"; "
        "filename*=UTF-8''a%22b%5Cc%3Bd%25e%0D%0Af.txt")
    assert attachment("发票.pdf", "evidence-7") == (
        "attachment; filename=\"evidence-7.pdf\"; filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf")
    assert attachment("发票", "evidence-7") == (
        "attachment; filename=\"evidence-7\"; filename*=UTF-8''%E5%8F%91%E7%A5%A8")


def test_json_and_error_responses_headers(world: World) -> None:
    for r in (world.client.get("/health"),
              world.buyer.get(f"/cases/{world.case_id}"),
              world.client.get(f"/cases/{world.case_id}"),  # 401
              world.buyer.get("/cases/0x" + "ab" * 32),  # 404
              world.client.get("/openapi.json"),
              upload(world.buyer, b"<html>" + SCRIPT, filename="a.html",
                     content_type="text/html")):  # 415
        _assert_base(r)
        assert r.headers["content-type"].startswith("application/json"), r.request.url
        assert r.headers["content-security-policy"] == DOWNLOAD_CSP
        assert "content-disposition" not in r.headers


_NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]+)'")


def test_pages_carry_a_nonce_csp_that_covers_their_inline_scripts(world: World) -> None:
    nonces = []
    cookie = {"cookie": f"chainarb_session={world.buyer.token}"}
    for path, headers in (("/ui/sign-in", {}), ("/ui/cases", {}),  # the latter: 401 page
                          ("/ui/cases", cookie), (f"/ui/cases/{world.case_id}", cookie)):
        r = world.client.get(path, headers=headers)
        assert r.headers["content-type"].startswith("text/html"), (path, r.status_code)
        _assert_base(r)
        csp = r.headers["content-security-policy"]
        found = _NONCE.findall(csp)
        assert len(set(found)) == 1, csp
        nonce = found[0]
        assert csp == (f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; "
                       f"style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
                       "connect-src 'self'; form-action 'self'; base-uri 'none'; "
                       "frame-ancestors 'none'")
        # every inline script and style carries this response's nonce; no inline handler
        # or style attribute (the CSP would block it)
        inline = re.findall(r"<(script|style)(?![^>]*\bsrc=)([^>]*)>", r.text)
        assert inline, path
        for tag, attrs in inline:
            if 'type="application/json"' in attrs:
                continue  # a data block: never run
            assert f'nonce="{nonce}"' in attrs, (path, tag, attrs)
        assert not re.search(r"\s(on[a-z]+|style)\s*=", r.text), path
        nonces.append(nonce)
    assert len(set(nonces)) == len(nonces)  # a fresh nonce per response


def test_static_script_and_docs_headers(world: World) -> None:
    js = world.client.get("/ui/static/actions.js")
    _assert_base(js)
    assert js.headers["content-type"].startswith("text/javascript")
    assert js.headers["content-security-policy"] == DOWNLOAD_CSP
    assert "content-disposition" not in js.headers
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):  # offline: nothing elsewhere
        docs = world.client.get(path)
        _assert_base(docs)
        nonce = re.search(r'<script nonce="([^"]+)"', docs.text)
        assert nonce is not None or path == "/redoc", path
        if nonce:
            assert docs.headers["content-security-policy"] == docs_csp(nonce.group(1))
        assert "http" not in docs.headers["content-security-policy"]
        assert not re.search(r"(src|href)=\"https?:", docs.text), path
        assert "cdn.jsdelivr" not in docs.text and "googleapis" not in docs.text
    redoc = world.client.get("/redoc").text
    assert '<script src="/ui/static/redoc.standalone.js">' in redoc
    assert world.client.get("/ui/static/redoc.standalone.js").status_code == 200
    assert world.client.get("/ui/static/swagger-ui-bundle.js").status_code == 200
