"""index.html and certificate.pdf say what a judge reads first, in both languages, with
every font embedded (pdffonts and pdftotext from poppler-utils read the real PDF)."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from evidence.judicial import _fonts
from evidence.judicial import _format as fmt
from evidence.judicial._fonts import FontError, pdf_fonts
from evidence.judicial.build import build_package
from tests.judicial.judicial_world import Case, attester

CJK = re.compile(r"[\u4e00-\u9fff]")


def _json(z: zipfile.ZipFile, name: str, what: str) -> Any:
    """A package member's JSON through the package's reader, for the test to index as it
    expects (a wrong shape fails the test's own lookups)."""
    return fmt.load_json(z.read(name), what)


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    assert path, f"{tool} is missing: apt-get install poppler-utils (.ci/run installs it)"
    return path


def _pdf(case_package: Path, tmp_path: Path) -> Path:
    with zipfile.ZipFile(case_package) as z:
        out = tmp_path / "certificate.pdf"
        out.write_bytes(z.read(fmt.CERTIFICATE))
    return out


def _fonts_of(pdf: Path) -> list[tuple[str, str]]:
    """(font name, emb yes/no) per font, as pdffonts reports them."""
    out = subprocess.run([_poppler("pdffonts"), str(pdf)], check=True, capture_output=True,
                         text=True).stdout.splitlines()[2:]
    rows = []
    for line in out:
        cols = line.split()
        # name, type (one or two words), encoding, emb, sub, uni, object id, generation
        rows.append((cols[0], cols[-5]))
    return rows


def _text(pdf: Path) -> str:
    """The PDF's text in drawing order, each line's words joined by single spaces."""
    out = subprocess.run([_poppler("pdftotext"), "-raw", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    return re.sub(r"[ \t]+", " ", out)


def test_certificate_embeds_every_font_and_reads_in_both_languages(
        case: Case, tmp_path: Path) -> None:
    pdf = _pdf(case.package, tmp_path)
    fonts = _fonts_of(pdf)
    assert fonts and all(emb == "yes" for _, emb in fonts), fonts
    assert any("ZenHei" in name for name, _ in fonts)  # the Chinese text has its own font
    text = _text(pdf)
    assert "Verification certificate" in text and "司法确认材料包核验证书" in text
    assert "goods not as described" in text and "货物与描述不符" in text
    assert "partial refund" in text and "部分退款" in text
    assert "2.000000000000000000 ETH" in text  # the escrowed amount, never 2000000000000000000
    assert "Li Wei Trading" in text and "Lumen GmbH" in text
    # The award's allocation (signed Award) and the payout the institution recorded.
    flat = " ".join(text.split())
    assert "to the buyer 1.500000000000000000 ETH" in flat
    assert "compensation from the seller's guarantee 0.100000000000000000 ETH" in flat
    assert "Escrow paid out" in text and "托管合约付款" in text  # the OrderResolved act
    # Anchored only on the institution's chain: page 1 says so, in both languages.
    page1 = flat[:flat.index("Scan the QR code")]
    assert "integrity against third parties, not against the operator" in page1
    assert "不能对抗运营方本身" in "".join(page1.split())


def test_certificate_lists_every_on_chain_act_with_block_and_time(
        case: Case, tmp_path: Path) -> None:
    text = _text(_pdf(case.package, tmp_path))
    with zipfile.ZipFile(case.package) as z:
        acts = _json(z, fmt.ESCROW, "escrow")["acts"]
        anchors = _json(z, fmt.ANCHORS, "anchors")["anchors"]
    events = [a["event"] for a in acts]
    assert events[:3] == ["OrderOpened", "DisputeRaised", "ArbitratorAppointed"]
    assert "OrderResolved" in events and "AwardSubmitted" in events
    flat = re.sub(r"\s+", "", text)
    for act in acts + anchors:
        assert act["txHash"] in flat  # mono hashes may wrap: compare without whitespace
    # Each act with the block its receipt is proven in, and that block's time.
    assert text.count(" UTC") >= len(acts) + len(anchors)
    assert "Escrow order opened" in text and "托管订单开立" in text


def test_without_a_cjk_font_the_certificate_says_so_and_still_embeds_everything(
        case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_fonts, "CJK_FONT_CANDIDATES", ((tmp_path / "none.ttc", 0),))
    out = build_package(case.inputs, tmp_path / "p.zip",
                        attest=attester(case.actors.institution))
    pdf = _pdf(out, tmp_path)
    assert all(emb == "yes" for _, emb in _fonts_of(pdf))
    text = _text(pdf)
    assert "The Chinese half of this certificate was left out" in text
    assert "fonts-wqy-zenhei" in text and not CJK.search(text)
    # Only the rendering differs: the package's digest is the same.
    with zipfile.ZipFile(out) as a, zipfile.ZipFile(case.package) as b:
        assert a.read(fmt.CHECKSUMS) == b.read(fmt.CHECKSUMS)


def test_a_configured_font_that_cannot_serve_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FontError, match=r"no such file.*fonts-wqy-zenhei"):
        pdf_fonts(tmp_path / "missing.ttc")
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font")
    with pytest.raises(FontError, match="cannot embed it"):
        pdf_fonts(junk)
    vera = Path(_fonts._VERA) / "Vera.ttf"  # a font, but without Chinese
    with pytest.raises(FontError, match="no Chinese glyphs"):
        pdf_fonts(vera)


def test_index_shows_the_case_in_words_amounts_and_every_label_in_chinese(case: Case) -> None:
    with zipfile.ZipFile(case.package) as z:
        html = z.read(fmt.INDEX_HTML).decode()
        manifest = _json(z, fmt.MANIFEST, "manifest")
    assert "2.000000000000000000 ETH" in html and ">2000000000000000000<" not in html
    assert 'id="operator-only"' in html  # the notice above the summary
    for words in ("goods not as described", "货物与描述不符", "部分退款", "Lumen GmbH",
                  "Dr. Chen", "仲裁员", "托管合约付款：订单结清"):
        assert words in html, words
    for entry in manifest["timeline"]:
        assert entry["label"]["en"] and CJK.search(entry["label"]["zh"]), entry
        assert entry["label"]["zh"] in html
    # Times are UTC ISO 8601 in the markup; the page's script shows them in local time.
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">', html)


def test_the_rendering_is_deterministic(case: Case, tmp_path: Path) -> None:
    again = build_package(case.inputs, tmp_path / "again.zip",
                          attest=attester(case.actors.institution))
    assert again.read_bytes() == case.package.read_bytes()


def test_index_and_certificate_show_the_log_and_each_records_position(
        case: Case, tmp_path: Path) -> None:
    """The institution's log in words (docs/log.md): the log, the checkpoints cited, how
    nothing was left out, and each record's log position in both views, both languages."""
    with zipfile.ZipFile(case.package) as z:
        html = z.read(fmt.INDEX_HTML).decode()
        log = _json(z, fmt.LOG, "log")
    assert '<h2 id="log">' in html and "机构日志" in html
    for words in ("Log position", "日志位置", "Nothing left out", "无遗漏", "chainarb.test/log",
                  "each signed by the institution and anchored", "均经机构签名并已上链锚定"):
        assert words in html, words
    for r in log["records"]:
        assert f"<td>{r['index']}</td>" in html and r["recordHash"] in html
    flat = re.sub(r"\s+", "", _text(_pdf(case.package, tmp_path)))
    assert "Theinstitution'slog" in flat and "机构日志" in flat and "日志位置" in flat
    for r in log["records"]:
        assert r["recordHash"] in flat
