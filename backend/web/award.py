"""The allocation preview every allocation form carries (offers, proposals, awards) and the
arbitrator's award editor (allocation, reasons, an optional document, signing).

Why a preview: an allocation is three integers in the token's smallest unit that must add
up against the escrow (refund + payout = the escrowed amount) and stay within the seller's
guarantee (compensation). The page shows, as it is typed, what each side receives in exact
amounts with their currency, and the refusal (in words) before anything is signed; the
submit button stays off while the allocation does not add up. The limits are the case's
order, and on the neutral's desk the escrow read live (``neutral.py``: ``data["escrow"]``):
the guarantee balance the escrow holds now, when lower.

The award's document: the reasons typed in the editor become a Markdown document (the
allocation and the reasons, in the page's language), or the arbitrator attaches the
reasoned award as a file (PDF, text…) instead; either is stored with the case and its
SHA-256 is the ``awardHash`` the award record signs. ``actions.js`` builds and checks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .desk import e as _e
from .fields import field
from .i18n import register, ui
from .money import token_of

if TYPE_CHECKING:
    from .actions import CaseDataJson

__all__ = ["award_fields", "limits", "preview"]

register({
    "pv_title": {"en": "What this allocation pays", "zh-Hans": "本分配方案的支付结果"},
    "pv_escrow": {"en": "Held in escrow", "zh-Hans": "托管金额"},
    "pv_to_buyer": {"en": "Refund to the buyer", "zh-Hans": "退还买方"},
    "pv_to_seller": {"en": "Paid to the seller", "zh-Hans": "支付卖方"},
    "pv_compensation": {"en": "Compensation to the buyer from the seller's guarantee",
                        "zh-Hans": "从卖方保证金向买方支付的赔偿"},
    "pv_buyer_total": {"en": "The buyer receives in all", "zh-Hans": "买方合计收到"},
    "pv_guarantee_left": {"en": "Left of the seller's guarantee", "zh-Hans": "卖方保证金余额"},
    "pv_live": {"en": "Checked against the escrow as read now.",
                "zh-Hans": "已按当前读取的托管合约状态核对。"},
    "pv_case": {"en": "Checked against the order as the case recorded it.",
                "zh-Hans": "已按立案时记录的订单核对。"},
    "pv_refused": {"en": "This cannot be signed:", "zh-Hans": "无法签署："},
    "award_reasons_label": {"en": "Reasons for the award", "zh-Hans": "裁决理由"},
    "award_reasons_hint": {"en": "The page writes the award document from the allocation and "
                                 "these reasons. Leave empty when you attach the reasoned "
                                 "award as a document below.",
                           "zh-Hans": "页面将根据分配方案与本理由生成裁决书。如在下方附上"
                                      "附理由的裁决书文件，请留空。"},
    "award_file_label": {"en": "Or attach the reasoned award (document, optional)",
                         "zh-Hans": "或附上附理由的裁决书（文件，可选）"},
    "award_doc_title": {"en": "Award", "zh-Hans": "裁决书"},
    "award_doc_case": {"en": "Case", "zh-Hans": "案件"},
    "award_doc_order": {"en": "Escrow order", "zh-Hans": "托管订单"},
    "award_doc_by": {"en": "Signed by", "zh-Hans": "签署人"},
    "award_doc_allocation": {"en": "Allocation of the escrowed funds",
                             "zh-Hans": "托管资金的分配"},
    "award_doc_reasons": {"en": "Reasons", "zh-Hans": "理由"},
    "err_reasons_or_document": {"en": "Write the reasons or attach the reasoned award, not "
                                      "both.",
                                "zh-Hans": "请填写理由或附上裁决书文件，二者择一。"},
    "err_reasons_or_document_missing": {"en": "Write the reasons or attach the reasoned "
                                              "award.",
                                        "zh-Hans": "请填写理由或附上附理由的裁决书。"},
})


def limits(data: CaseDataJson) -> tuple[int, int, bool]:
    """(escrowed amount, guarantee available, read live) for the case's page data: the
    order's; on the desk the guarantee balance the escrow holds now when lower."""
    escrow = data.get("escrow") or {}
    guarantee = int(data["guarantee"])
    live = escrow.get("live") == "true"
    if live:
        guarantee = min(guarantee, int(escrow["guarantee"]))
    return int(data["amount"]), guarantee, live


def preview(fid: str, data: CaseDataJson, lang: str) -> str:
    """The preview block (filled in by ``actions.js`` as the amounts are typed), in the
    case's token (``data["decimals"]``, ``data["currency"]``)."""
    held, guarantee, live = limits(data)
    token = token_of(data)
    rows = "".join(
        f'<tr><th scope="row">{_e(ui(key, lang))}</th>'
        f'<td class="amount" data-pv="{name}">{value}</td></tr>'
        for key, name, value in (
            ("pv_escrow", "escrow", _e(token.money(held))),
            ("pv_to_buyer", "toBuyer", "—"), ("pv_to_seller", "toSeller", "—"),
            ("pv_compensation", "compensation", "—"), ("pv_buyer_total", "buyerTotal", "—"),
            ("pv_guarantee_left", "guaranteeLeft", _e(token.money(guarantee)))))
    return (f'<div class="allocation-preview" id="{fid}-preview" data-amount="{held}" '
            f'data-guarantee="{guarantee}" data-currency="{_e(token.currency)}">'
            f'<table aria-labelledby="{fid}-preview-h"><caption id="{fid}-preview-h">'
            f'{_e(ui("pv_title", lang))}</caption>{rows}</table>'
            f'<p class="muted">{_e(ui("pv_live" if live else "pv_case", lang))}</p>'
            f'<p class="refusal error" id="{fid}-refusal" role="alert" hidden></p></div>')


def award_fields(fid: str, lang: str) -> str:
    """The reasons and the optional document of the award editor."""
    return (field(fid, "reasons", ui("award_reasons_label", lang),
                  '<textarea {id} rows="6" maxlength="20000"></textarea>',
                  ui("award_reasons_hint", lang))
            + field(fid, "document", ui("award_file_label", lang),
                    '<input {id} type="file">', ui("award_doc_hint", lang)))
