"""What a juror may read: the redaction rule (pure).

Rule: a juror never learns who the parties are (Alibaba's mass jury judges the dispute, not
the people). Every text a juror reads passes ``redact``: each party's wallet address (any
case, with or without ``0x``), declared names (English and Chinese) and contact are
replaced by the party's role in brackets; then any remaining e-mail address, telephone
number, web address or wallet address is masked generically, since a party may name a
third person or a second contact the profile does not know.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["FILE_RULE", "REDACTION_RULE", "Identity", "redact"]


@dataclass(frozen=True, kw_only=True)
class Identity:
    """What identifies one party: its role word and everything known to name it."""

    label: str  # "claimant" / "respondent"
    address: str
    names: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_WALLET = re.compile(r"\b(?:0x)?[0-9a-fA-F]{40}\b")
# a telephone number: seven or more digits led by "+" or split by spaces, dots, dashes or
# brackets (a bare long number is an amount; a date or time is kept)
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?")


def _phone(m: re.Match[str]) -> str:
    found = m.group()
    digits = sum(ch.isdigit() for ch in found)
    separated = found.startswith("+") or any(not ch.isdigit() for ch in found)
    if digits < 7 or not separated or _DATE.match(found.strip()):
        return found
    return "[contact]"


def _literal(text: str, needle: str, label: str) -> str:
    if not needle.strip():
        return text
    return re.sub(re.escape(needle), label, text, flags=re.IGNORECASE)


def redact(text: str, identities: Iterable[Identity]) -> str:
    """``text`` with every party identity and every contact-like string masked.

    Order matters: the parties' own addresses and contacts first, then any e-mail or web
    address as a whole (so a name inside one cannot leave its domain behind), then names
    and the words of names, then any other wallet address or telephone number."""
    people = list(identities)
    for who in people:
        hex_ = who.address.lower().removeprefix("0x")
        text = re.sub(rf"(?:0x)?{hex_}", f"[{who.label}]", text, flags=re.IGNORECASE)
        for contact in sorted(who.contacts, key=len, reverse=True):
            text = _literal(text, contact, f"[{who.label}]")
    text = _EMAIL.sub("[contact]", text)
    text = _URL.sub("[contact]", text)
    for who in people:
        label = f"[{who.label}]"
        for name in sorted(who.names, key=len, reverse=True):  # "Lena Fischer" before "Lena"
            text = _literal(text, name, label)
        for name in who.names:  # each word of a name of two or more words (a surname alone)
            for part in name.split():
                if len(part) >= 3:
                    text = _literal(text, part, label)
    text = _WALLET.sub("[address]", text)
    return _PHONE.sub(_phone, text)


FILE_RULE: dict[str, object] = {
    "version": 1,
    "photos": "decoded and re-encoded from the pixels alone, turned upright: no EXIF (camera, "
              "owner, GPS), XMP, IPTC, ICC profile, comment or text chunk; JPEG stays JPEG, "
              "PNG, WebP and GIF become PNG",
    "photosZh": "照片按像素重新编码并按方向转正：不保留 EXIF（相机、所有者、GPS）、XMP、IPTC、"
                "ICC 配置、注释或文本块",
    "pdfs": "rebuilt page by page without document information, XMP metadata, embedded files, "
            "JavaScript, actions, forms, annotations or page metadata; pictures re-encoded; "
            "withheld when its text still names a party, a contact or an address",
    "pdfsZh": "PDF 逐页重建，去除文档信息、XMP 元数据、附件、脚本、动作、表单、批注与页面元数据，"
              "图片重新编码；文本中仍含当事人姓名、联系方式或地址的不予展示",
    "text": "masked like the statement of claim", "textZh": "与仲裁申请书相同方式遮蔽",
    "other": "withheld (only photos, PDFs and text are shown)",
    "otherZh": "其他类型文件不予展示",
    "withheld": "a withheld file is never sent; the juror reads the reason; the party may put "
                "a redacted copy before the jury",
    "withheldZh": "不予展示的文件不会发送；评审员可见原因；当事人可提交经遮蔽的副本",
    "notRead": "what a picture shows (a label with a name on it) and text drawn as pictures",
    "notReadZh": "图片所显示的内容（如印有姓名的标签）及以图片形式呈现的文字无法识别",
}
"""The redaction rule for files as data (backend/jury/_files.py applies it)."""


REDACTION_RULE: dict[str, object] = {
    "version": 2,
    "shown": ["the claim's side (buyer or seller), dispute type, remedy, claimed and escrowed "
              "amounts", "the texts of the statement of claim and the answer, redacted",
              "the evidence items the parties put before the jury (side, kind, time) and "
              "their files under the rule for files",
              "the allocation options", "the reason codes", "the juror's own vote status"],
    "shownZh": ["申请方身份（买方或卖方）、争议类型、请求事项、请求金额与托管金额",
                "经遮蔽处理的仲裁申请书与答辩书文本",
                "当事人提交陪审团的证据项（提交方、类型、时间）及按文件规则处理后的文件",
                "可选分配方案", "理由代码", "评审员本人的投票状态"],
    "masked": [
        {"what": "each party's wallet address (any case, with or without 0x), declared names "
                 "(English and Chinese) and the words of those names, declared contact",
         "zh": "各当事人的钱包地址（不论大小写、是否带 0x）、申报的中英文姓名及其中的词、"
               "申报的联系方式",
         "becomes": "[claimant] / [respondent]"},
        {"what": "any other e-mail address, web address or telephone number",
         "zh": "其他任何电子邮箱、网址或电话号码", "becomes": "[contact]"},
        {"what": "any other wallet address", "zh": "其他任何钱包地址", "becomes": "[address]"},
    ],
    "files": FILE_RULE,
    "never": "the parties' identities; the case record itself (a juror reads only this view)",
    "neverZh": "当事人的身份；案件记录本身（评审员只能阅读本视图）",
    "jurorsToParties": "the parties see each juror as juror-1, juror-2, … in draw order; the "
                       "institution and the court see the addresses",
    "jurorsToPartiesZh": "当事人只能看到评审员的化名（按抽选顺序为 juror-1、juror-2……）；"
                         "机构与法院可见其地址",
}
"""The redaction rule as data: what the judicial package of a jury case carries
(``documents/jury-redaction.json``), so a court reads what the jurors were and were not
shown."""
