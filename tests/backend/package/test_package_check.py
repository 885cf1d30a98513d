"""``POST /verify``: the service runs the package checks of ``chainarb verify`` on a file a
court uploads, and says it ran them; the block hashes are left for the court to confirm
(listed with their numbers and times), never confirmed by the service's own node.

One real case on a real EVM (package_world): the court downloads its package, uploads it
back, then a tampered copy, a file that is no ZIP, nothing, too much, and not multipart.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from backend.services.evidence import UploadTooLarge
from backend.services.verification import PackageCheck
from tests.backend.package.package_world import ChainWorld, enforced_for_court
from tests.support.world import Actor


def _upload(actor: Actor | None, cw: ChainWorld, content: bytes, name: str = "package.zip",
            **kw: Any) -> Any:
    headers = actor.headers if actor is not None else {}
    return cw.world.client.post("/verify", headers=headers,
                                files={"file": (name, content, "application/zip")}, **kw)


def _tampered(package: bytes) -> bytes:
    """The same package with one evidence file's bytes changed (SHA256SUMS left as it was)."""
    src = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        changed = False
        for info in src.infolist():
            data = src.read(info)
            if not changed and info.filename.startswith("evidence/") and \
                    not info.filename.endswith(".json") and data:
                data = data[:-1] + bytes([data[-1] ^ 1])
                changed = True
            dst.writestr(info, data)
    assert changed
    return out.getvalue()


def test_the_service_checks_an_uploaded_package_and_leaves_the_blocks_to_the_court(
        chain_world: ChainWorld) -> None:
    cw = chain_world
    w = cw.world
    case_id = enforced_for_court(cw)
    url = f"/cases/{case_id}/judicial-package"
    assert w.court.get(url).status_code == 409  # the Award's own leaf is queued first
    cw.anchor_all()
    r = w.court.get(url)
    assert r.status_code == 200, r.text[:300]
    package = r.content

    got = _upload(w.court, cw, package, "chainarb-case.zip")
    assert got.status_code == 200, got.text[:500]
    v = got.json()
    assert v["runBy"] == "service" and "run by this chainarb service" in v["statement"]["en"]
    assert "由本 chainarb 服务" in v["statement"]["zh"]
    assert v["file"]["name"] == "chainarb-case.zip" and v["file"]["size"] == len(package)
    statuses = {c["name"]: c["status"] for c in v["checks"]}
    # every check the package can prove offline passes; the block hashes are the court's
    assert {n for n, s in statuses.items() if s != "passed"} == {"block_confirmation"}, \
        {c["name"]: c["reason"]["en"] for c in v["checks"] if c["status"] != "passed"}
    assert statuses["block_confirmation"] == "not_run"
    assert v["outcome"] == "not_run" and v["ok"] is False and v["failed"] == []
    assert v["blocksToConfirm"] is True and v["blocks"]
    for b in v["blocks"]:  # what the page lists: each is the chain's own block
        assert int(b["chainId"]) == cw.w3.eth.chain_id
        assert cw.w3.eth.get_block(int(b["number"]))["hash"].to_0x_hex() == b["hash"]
    confirm = next(c for c in v["checks"] if c["name"] == "block_confirmation")
    assert confirm["reason"]["zh"].startswith("未确认：下列") and \
        str(len(v["blocks"])) in confirm["reason"]["en"]
    signatures = next(c for c in v["checks"] if c["name"] == "signatures")
    assert signatures["label"] == {"en": "Electronic signatures", "zh": "电子签名"}
    assert signatures["reason"]["zh"].startswith("每个签名均恢复出其声明的签名人")
    assert v["packageDigest"] == r.headers["x-package-digest"]
    assert v["manifestSha256"] == r.headers["x-package-manifest-sha256"]
    assert [(p["caseId"], p["manifestSha256"], p["digest"]) for p in v["yourPackages"]] == [
        (case_id, v["manifestSha256"], v["packageDigest"])]
    assert {n["name"] for n in v["notes"]} >= {"tsa_trust_from_package"}
    # someone the package was not given to gets the same checks, and no "your package"
    other = _upload(w.stranger, cw, package).json()
    assert other["yourPackages"] == [] and other["checks"] == v["checks"]

    # a tampered copy: the files check fails and names the file
    bad = _upload(w.court, cw, _tampered(package)).json()
    assert bad["outcome"] == "failed" and "files" in bad["failed"], bad["failed"]
    assert bad["manifestSha256"] == v["manifestSha256"] and bad["yourPackages"] == []
    files = next(c for c in bad["checks"] if c["name"] == "files")
    assert "evidence/" in files["reason"]["en"] and files["reason"]["zh"].startswith("详情")
    # no ZIP at all: nothing checked, said so (200: a verdict, not a refusal)
    junk = _upload(w.court, cw, b"%PDF-1.7 not a package").json()
    assert junk["outcome"] == "unreadable" and junk["unreadable"] and \
        junk["manifestSha256"] is None and junk["blocks"] == []


def test_uploads_the_service_refuses(chain_world: ChainWorld) -> None:
    cw = chain_world
    w = cw.world
    assert _upload(None, cw, b"PK").status_code == 401
    empty = _upload(w.court, cw, b"")
    assert empty.status_code == 422 and empty.json()["code"] == "empty_file"
    raw = w.client.post("/verify", content=b"PK\x03\x04",
                        headers={**w.court.headers, "Content-Type": "application/zip"})
    assert raw.status_code == 415 and raw.json()["code"] == "expected_multipart"
    extra = w.client.post("/verify", headers=w.court.headers,
                                 data={"sha256": "0x00"},
                                 files={"file": ("p.zip", b"PK", "application/zip")})
    assert extra.status_code == 422 and extra.json()["code"] == "malformed_multipart"
    small = PackageCheck(w.app.state.ctx.sessions, max_bytes=1000)
    w.app.state.package_check = small
    big = _upload(w.court, cw, b"x" * 5000)
    assert big.status_code == 413 and big.json()["code"] == "upload_too_large"
    # streamed past the bound without announcing the length first: refused the same way
    spooled = small.start()
    spooled.feed(b"x" * 1000)
    with pytest.raises(UploadTooLarge):
        spooled.feed(b"x")
    spooled.abort()
    assert not spooled.path.exists()
