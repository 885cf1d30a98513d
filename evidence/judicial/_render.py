"""Human-readable views of a package: index.html and certificate.pdf (English + 简体中文).

Both are renderings of the manifest, never sources of truth: the verifier checks the
machine-readable files. Output is deterministic (no clock, reportlab invariant mode) so a
package can be rebuilt byte for byte.
"""

from __future__ import annotations

import io
import textwrap
from datetime import UTC, datetime
from html import escape
from typing import Any

import qrcode
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from evidence.judicial.chains import (
    INDEPENDENT,
    INSTITUTION,
    chain_label,
    operator_only_note,
)

CJK_FONT = "STSong-Light"
"""reportlab's built-in CID font for Simplified Chinese: no font file is needed."""

_SECTIONS = {
    "case": ("Case", "案件"),
    "parties": ("Parties", "当事人"),
    "institution": ("Institution", "机构"),
    "independence": ("Independence from the parties", "独立性声明"),
    "security": ("Security of systems and process", "系统与流程安全"),
    "rules": ("Rules applied", "适用规则"),
    "timeline": ("Timeline of signed steps", "已签名程序步骤时间线"),
    "evidence": ("Evidence", "证据"),
    "anchors": ("Blockchain anchors", "区块链存证"),
    "award": ("Award", "裁决书"),
    "verify": ("How to verify", "如何核验"),
}


def _time(value: str | None) -> str:
    if not value:
        return ""
    try:
        return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (ValueError, OverflowError):
        return value


def _h(key: str) -> str:
    en, zh = _SECTIONS[key]
    return f'<h2 id="{key}">{escape(en)} / <span lang="zh-Hans">{escape(zh)}</span></h2>'


def _table(headers: list[tuple[str, str]], rows: list[list[str]]) -> str:
    head = "".join(
        f"<th>{escape(en)}<br><span lang='zh-Hans'>{escape(zh)}</span></th>" for en, zh in headers
    )
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _names(who: dict[str, Any]) -> str:
    """A person's or the institution's names, English / Chinese, as signed or configured;
    "(no signed profile)" rather than a name nobody signed."""
    names = [n for n in (who.get("name"), who.get("nameZh")) if n]
    return " / ".join(dict.fromkeys(names)) or "(no signed profile / 未签署身份信息)"


def render_index(manifest: dict[str, Any], anchors: list[dict[str, str]]) -> bytes:
    """index.html: the whole package in one page a judge can read in a browser."""
    case = manifest["case"]
    inst = manifest["institution"]
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Judicial package / 司法确认材料包 — {escape(case['caseId'])}</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto;padding:1em}"
        "table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3em;"
        "font-size:.9em;word-break:break-all;vertical-align:top}th{background:#eee}"
        "code{word-break:break-all}.notice{border:2px solid #b60;background:#fff4e0;"
        "padding:.6em}</style></head><body>",
        "<h1>Judicial confirmation package / 司法确认材料包</h1>",
        f"<p>Format / 格式: {escape(manifest['format'])} v{manifest['version']} · "
        f"created / 生成时间: {escape(_time(manifest['createdAt']))}</p>",
        _operator_notice_html(anchors),
        _h("case"),
        _table(
            [("Field", "项目"), ("Value", "内容")],
            [
                ["Case id / 案件编号", case["caseId"]],
                ["Order id / 订单编号", case["orderId"]],
                ["Title / 案由", case["title"]],
                ["Dispute type / 争议类型", case["disputeType"]],
                ["Remedy / 请求", case["remedy"]],
                [
                    "Escrowed amount / 托管金额",
                    f"{case['amount']} ({case['currency']}, {case['decimals']} decimals)",
                ],
                ["Token / 代币", case["token"]],
                ["Chain id / 链标识", manifest["domain"]["chainId"]],
                ["Escrow contract / 托管合约", manifest["domain"]["verifyingContract"]],
            ],
        ),
        _h("parties"),
        _table(
            [
                ("Role", "角色"),
                ("Side", "买卖方"),
                ("Name", "名称"),
                ("Address", "地址"),
                ("Country", "国家/地区"),
            ],
            [
                [p["role"], p["side"], _names(p), p["address"], p.get("country", "")]
                for p in manifest["parties"]
            ]
            + [[n["role"], "", _names(n), n["address"], n.get("country", "")]
               for n in manifest["neutrals"]],
        ),
        _h("institution"),
        _table(
            [
                ("Name", "名称"),
                ("Service key", "服务签名地址"),
                ("Seat", "所在地"),
                ("Registration", "登记信息"),
                ("Website", "网站"),
                ("Key held", "密钥保管方式"),
            ],
            [[_names(inst), inst["address"], inst["seat"], inst.get("registration", ""),
              inst["website"], " / ".join(v for v in (inst.get("keyCustody") or {}).values()
                                          if v)]],
        ),
        _h("independence"),
        f"<p>{escape(inst['independence']['en'])}</p>"
        f"<p lang='zh-Hans'>{escape(inst['independence']['zh'])}</p>",
        _h("security"),
        f"<p>{escape(inst['security']['en'])}</p>"
        f"<p lang='zh-Hans'>{escape(inst['security']['zh'])}</p>",
        _h("rules"),
        _table(
            [("Rule", "规则"), ("Value", "值")],
            [[k, str(v)] for k, v in sorted(manifest["rules"].items())]
            + [["SHA-256 (canonical JSON)", manifest["rulesSha256"]]],
        ),
        _h("timeline"),
        _table(
            [
                ("Seq.", "序号"),
                ("Time", "时间"),
                ("Record", "记录"),
                ("Action", "行为"),
                ("Role", "角色"),
                ("Signer(s)", "签名人"),
                ("Record hash", "记录哈希"),
                ("Description", "说明"),
            ],
            [
                [
                    t["sequence"] or "—",
                    _time(t["signedAt"]),
                    t["type"],
                    t["action"],
                    t["role"],
                    " ".join(t["signers"]),
                    t["recordHash"],
                    " / ".join(x for x in (t["label"]["en"], t["label"]["zh"]) if x),
                ]
                for t in manifest["timeline"]
            ],
        ),
        _h("evidence"),
        _table(
            [("Item", "证据"), ("File", "文件"), ("SHA-256", "SHA-256")],
            [[e["itemId"], e["file"], e["sha256"]] for e in manifest["evidence"]],
        ),
        "<p>Salts, commitments and IPFS CIDs: <a href='evidence/index.json'>evidence/index.json"
        "</a>; provenance before anchoring / 上链前来源记录: <code>provenance/</code>.</p>",
        _h("anchors"),
        _table(
            [
                ("Merkle root", "默克尔根"),
                ("Chain", "链"),
                ("Operated by", "运营方"),
                ("Transaction", "交易哈希"),
                ("Block", "区块"),
                ("Block time", "区块时间"),
            ],
            [
                [a["root"], chain_label(a), _OPERATED_BY.get(a.get("operator", ""),
                                                            _OPERATED_BY[INSTITUTION]),
                 a["txHash"], a["blockNumber"], _time(a["blockTime"])]
                for a in anchors
            ],
        ),
        _h("award"),
    ]
    award = manifest.get("award")
    if award:
        parts.append(
            f"<p><a href='{escape(award['file'])}'>{escape(award['file'])}</a> — SHA-256 "
            f"<code>{escape(award['sha256'])}</code></p>"
        )
    else:
        parts.append("<p>No award in this package. / 本材料包不含裁决书。</p>")
    parts += [
        _h("verify"),
        "<ol><li><code>sha256sum -c SHA256SUMS</code> — every file is the one listed / "
        "逐一校验文件哈希</li>"
        "<li><code>chainarb verify PACKAGE.zip --rpc URL</code> — all checks / 全部核验</li>"
        "<li><code>openssl ts -verify -digest &lt;sha256(root)&gt; -in timestamps/&lt;root&gt;.tsr "
        "-CAfile &lt;TSA root&gt; -untrusted timestamps/tsa-certificates.pem</code></li>"
        "<li>Step-by-step without our software: docs/judicial-package.md / "
        "不依赖本软件的核验方法见文档</li></ol>",
        "</body></html>",
    ]
    return ("\n".join(parts) + "\n").encode()


_OPERATED_BY = {INSTITUTION: "the institution / 本机构", INDEPENDENT: "independent / 独立第三方"}


def _operator_notice_html(anchors: list[dict[str, str]]) -> str:
    """The operator-only notice (evidence.judicial.chains) above the anchors, if it applies."""
    note = operator_only_note(anchors)
    if note is None:
        return ""
    return (f'<p class="notice" id="operator-only"><strong>{escape(note.en)}</strong><br>'
            f'<strong lang="zh-Hans">{escape(note.zh)}</strong></p>')


def _wrap_width(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of `text` no wider than `width` points, broken between any two characters
    (Chinese has no spaces to break at)."""
    lines, current = [], ""
    for ch in text:
        if current and pdfmetrics.stringWidth(current + ch, font, size) > width:
            lines.append(current)
            current = ""
        current += ch
    return [*lines, current] if current else lines


def _qr(c: canvas.Canvas, text: str, x: float, y: float, size: float) -> None:
    """Draw a QR code from the qrcode package's module matrix (no image library)."""
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    n = len(matrix)
    cell = size / n
    c.setFillColorRGB(0, 0, 0)
    for row, line in enumerate(matrix):
        for col, dark in enumerate(line):
            if dark:
                c.rect(x + col * cell, y + size - (row + 1) * cell, cell, cell, stroke=0, fill=1)


def render_certificate(
    manifest: dict[str, Any], digest: str, url: str, anchors: list[dict[str, str]]
) -> bytes:
    """certificate.pdf: a one-page verification certificate in English and Chinese."""
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, pageCompression=0)
    c.setTitle(f"Verification certificate {manifest['case']['caseId']}")
    c.setAuthor(manifest["institution"]["name"])
    width, height = A4
    left = 18 * mm
    y = height - 22 * mm

    def line(text: str, font: str = "Helvetica", size: float = 9.5, step: float = 5 * mm) -> None:
        nonlocal y
        c.setFont(font, size)
        c.drawString(left, y, text)
        y -= step

    def zh(text: str, size: float = 9.5) -> None:
        line(text, CJK_FONT, size)

    line("Verification certificate of a judicial confirmation package", "Helvetica-Bold", 14)
    zh("司法确认材料包核验证书", 14)
    y -= 2 * mm
    case = manifest["case"]
    line(f"Case id / Order id: {case['caseId']} / {case['orderId']}")
    zh(f"案件编号 / 订单编号：{case['caseId']} / {case['orderId']}")
    line(f"Title: {case['title']}   Dispute: {case['disputeType']}   Remedy: {case['remedy']}")
    roles_zh = {"claimant": "申请人", "respondent": "被申请人"}
    sides_zh = {"buyer": "买方", "seller": "卖方"}
    for p in manifest["parties"]:
        line(f"{p['role'].capitalize()} ({p['side']}): {p['name'] or '(no signed profile)'}"
             f"  {p['address']}")
        zh(
            f"{roles_zh.get(p['role'], p['role'])}（{sides_zh.get(p['side'], p['side'])}）："
            f"{p.get('nameZh') or p['name'] or '未签署身份信息'}（签名钱包地址见上）"
        )
    inst = manifest["institution"]
    line(f"Institution: {inst['name']}  service key {inst['address']}")
    zh(f"机构：{inst.get('nameZh') or inst['name']}")
    award = manifest.get("award")
    if award:
        line(f"Award: {award['file']}  SHA-256 {award['sha256'][:34]}...")
        zh("裁决书见材料包 award/ 目录，其哈希与链上执行的裁决一致方可通过核验。")
    y -= 2 * mm
    line("Anchors (Merkle roots on chain):", "Helvetica-Bold", 10)
    zh("区块链存证（默克尔根）：")
    for a in anchors[:8]:
        line(f"{chain_label(a)}  block {a['blockNumber']}  {_time(a['blockTime'])}  "
             f"tx {a['txHash'][:42]}...", size=8)
    if len(anchors) > 8:
        line(f"... and {len(anchors) - 8} more (proofs/anchors.json)", size=8)
    note = operator_only_note(anchors)
    if note is not None:  # the limit a court must read beside the digest
        for text in textwrap.wrap(note.en, 110):
            line(text, "Helvetica-Bold", 8, 4 * mm)
        for text in _wrap_width(note.zh, CJK_FONT, 8, width - 2 * left):
            line(text, CJK_FONT, 8, 4 * mm)
    y -= 2 * mm
    line("Package digest = SHA-256 of SHA256SUMS:", "Helvetica-Bold", 10)
    zh("材料包摘要（SHA256SUMS 文件的 SHA-256）：")
    line(digest, "Courier", 9)
    y -= 2 * mm
    qr_size = 42 * mm
    qr_bottom = y - qr_size
    _qr(c, url, width - left - qr_size, qr_bottom, qr_size)
    for text in (
        "Scan the QR code, or run offline:",
        "  sha256sum -c SHA256SUMS",
        "  chainarb verify PACKAGE.zip --rpc <JSON-RPC URL>",
        "The verifier trusts only the package, the chain and the",
        "time-stamping authority's certificate.",
    ):
        line(text, "Helvetica", 9)
    for text in (
        "扫描二维码，或离线运行上述命令进行核验。",
        "核验程序仅信任材料包本身、区块链与时间戳机构证书，",
        "不信任平台的任何陈述。",
    ):
        zh(text, 9)
    y = min(y, qr_bottom) - 4 * mm
    line(url, "Courier", 7)
    c.setFont("Helvetica", 7)
    c.drawString(
        left,
        12 * mm,
        f"{manifest['format']} v{manifest['version']} · created "
        f"{_time(manifest['createdAt'])} · {manifest['generator']}",
    )
    c.showPage()
    c.save()
    return buf.getvalue()
