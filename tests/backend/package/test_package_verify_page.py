"""The certificate's QR code and URL open ``/verify/{digest}``: the service's public record of
the package (HTML in both languages, JSON at the same path), with no sign-in; an unknown
digest is a clear 404. The record of a real package is asserted in test_package.py's
enforced case (on both databases) with the helpers below."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

from evidence.records import CourtConfirmation
from tests.backend.package.package_world import ChainWorld


def _certificate_text(package: bytes, tmp_path: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext is missing: apt-get install poppler-utils (.ci/run does)"
    pdf = tmp_path / "certificate.pdf"
    (tmp_path / "p.zip").write_bytes(package)
    with zipfile.ZipFile(tmp_path / "p.zip") as z:
        pdf.write_bytes(z.read("certificate.pdf"))
    return subprocess.run([pdftotext, "-raw", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout


def assert_public_record_before_decision(cw: ChainWorld, package: bytes, digest: str,
                                         manifest_sha: str, tmp_path: Path) -> None:
    """What ``/verify/{digest}`` and the certificate say once a court downloaded the package
    (called from test_package.py's enforced case, on SQLite and on PostgreSQL)."""
    w = cw.world
    # The QR code and the printed URL: the configured public base URL + /verify/{digest}.
    base = w.app.state.ctx.settings.base_url
    assert f"{base}/verify/{digest}" in "".join(_certificate_text(package, tmp_path).split())
    anonymous = w.client  # no Authorization header, no cookie
    j = anonymous.get(f"/verify/{digest}", headers={"Accept": "application/json"})
    assert j.status_code == 200, j.text
    assert j.headers["content-type"].startswith("application/json")
    record = j.json()
    assert record["digest"] == digest and record["manifestSha256"] == manifest_sha
    assert record["case"] | {"stage": "enforced", "caseId": w.case_id, "currency": "ETH",
                             "decimals": 18} == record["case"]
    assert [(e["court"], e["courtName"]) for e in record["exports"]] == [(w.court.address,
                                                                           "Court")]
    assert record["anchors"] and all(a["status"] == "confirmed" and a["chainId"] == str(
        cw.w3.eth.chain_id) and a["blockNumber"] for a in record["anchors"])
    assert record["decisions"] == []


def assert_public_record_after_decision(cw: ChainWorld, digest: str,
                                        decision: CourtConfirmation) -> None:
    """The court's decision on this package appears, in JSON and on the page in each
    language; times are UTC ISO 8601 in ``<time>``."""
    anonymous = cw.world.client
    record = anonymous.get(f"/verify/{digest.upper()}",
                           headers={"Accept": "application/json"}).json()
    assert record["case"]["stage"] == "judicially_confirmed"
    [shown] = record["decisions"]
    assert shown["confirmed"] is True and shown["court"] == decision.court
    assert shown["courtReference"] == decision.court_reference
    en = anonymous.get(f"/verify/{digest}?lang=en")
    zh = anonymous.get(f"/verify/{digest}", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    for page, words in ((en, ("Judicial package", "goods not as described", "judicially "
                              "confirmed", "confirmed", "2.000000000000000000 ETH")),
                        (zh, ("司法确认材料包", "货物与描述不符", "已司法确认", "确认",
                              "法院对本材料包的决定"))):
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert all(word in page.text for word in words), words
        assert digest in page.text and 'datetime="20' in page.text
        assert "script-src 'self' 'nonce-" in page.headers["content-security-policy"]
    assert "Accept" in en.headers["vary"]


def test_an_unknown_or_malformed_digest_is_a_bilingual_404(chain_world: ChainWorld) -> None:
    anonymous = chain_world.world.client
    for digest in ("ab" * 32, "not-a-digest", "0x" + "ab" * 32, "ab" * 33):
        page = anonymous.get(f"/verify/{digest}")
        assert page.status_code == 404
        assert "No judicial package with this digest" in page.text
        assert "本服务未签发具有此摘要的司法确认材料包" in page.text
        j = anonymous.get(f"/verify/{digest}", headers={"Accept": "application/json"})
        assert j.status_code == 404 and j.json()["code"] == "not_found", j.text
