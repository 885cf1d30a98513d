"""The case page's "Your receipts" section: the receipts this browser kept for the viewer.

Every accepted step and upload answers with the institution's signed `receipt`
(docs/log.md §7); an evidence upload also answers `provenanceReceipts` (its provenance
log's entries), kept and downloaded alike. ``static/receipts.js`` keeps each one in the
browser's localStorage, keyed by the signed-in address and the case, and never sends it
anywhere; this section lists them and downloads each as the file ``chainarb verify
--receipts DIR`` reads (the same name and bytes ``evidence.receipts.save_receipt``
writes). Why in the browser: the receipt is the party's own evidence against the
institution, so it must not live only on the institution's side.
"""

from __future__ import annotations

import json

from evidence.steps import STEPS
from evidence.words import LOG_KINDS

from .desk import e as _e
from .i18n import register, ui

__all__ = ["WORDS", "receipts_section"]

COMMAND = '<code translate="no">chainarb verify --receipts DIR</code>'

WORDS = register({
    "rc_title": {"en": "Your receipts", "zh-Hans": "您的回执"},
    "rc_what": {"en": "A receipt is the institution's signed promise that it accepted your "
                      "step into its log at the index shown: keep the files, and a court can "
                      "check the case's package against them ({command}).",
                "zh-Hans": "回执是仲裁机构签名的承诺：您的步骤已按所示序号记入其日志。请保存这些"
                           "文件，法院可据此核对案件材料包（{command}）。"},
    "rc_where": {"en": "Kept in this browser only, for the address you signed in with; "
                       "nothing here is sent anywhere.",
                 "zh-Hans": "仅保存在本浏览器中，对应您登录的地址；不会发送到任何地方。"},
    "rc_none": {"en": "No receipt kept in this browser for this case yet.",
                "zh-Hans": "本浏览器尚未保存本案的回执。"},
    "rc_index": {"en": "Log index", "zh-Hans": "日志序号"},
    "rc_accepted": {"en": "Accepted", "zh-Hans": "已受理的内容"},
    "rc_when": {"en": "When", "zh-Hans": "时间"},
    "rc_file": {"en": "File", "zh-Hans": "文件"},
    "rc_download": {"en": "Download", "zh-Hans": "下载"},
    "rc_download_all": {"en": "Download all receipts", "zh-Hans": "下载全部回执"},
    "rc_evidence": {"en": "Evidence submitted", "zh-Hans": "已提交证据"},
    "rc_step": {"en": "A signed step", "zh-Hans": "已签名的步骤"},
})


def receipts_section(case_id: str, viewer: str, lang: str) -> str:
    """The section (filled in by ``receipts.js`` from the browser's storage) and its data:
    the case, the viewer and the words, each step named as done ('Agreement to
    arbitrate signed').

    ``receipts.js`` names the files with ``signer.js``'s canonical JSON and SHA-256: a page
    with this section loads ``signer.js`` before it (every such page does, with its
    ``actions_section``, placed before this one), so it is not loaded twice here."""
    data = {"caseId": case_id, "viewer": viewer, "lang": lang,
            "words": {k: v[lang] for k, v in WORDS.items()},
            "steps": {s.action: s.done_en if lang == "en" else s.done_zh for s in STEPS},
            "kinds": {k: en if lang == "en" else zh for k, (en, zh) in LOG_KINDS.items()}}
    blob = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return (f'<section id="receipts" aria-labelledby="receipts-h">'
            f'<h2 id="receipts-h">{_e(ui("rc_title", lang))}</h2>'
            f'<p id="receipts-what">{_e(ui("rc_what", lang)).format(command=COMMAND)}</p>'
            f'<p class="muted">{_e(ui("rc_where", lang))}</p>'
            f'<p id="receipts-none" class="muted">{_e(ui("rc_none", lang))}</p>'
            f'<table id="receipts-table" hidden><thead><tr>'
            f'<th scope="col">{_e(ui("rc_index", lang))}</th>'
            f'<th scope="col">{_e(ui("rc_accepted", lang))}</th>'
            f'<th scope="col">{_e(ui("rc_when", lang))}</th>'
            f'<th scope="col">{_e(ui("rc_file", lang))}</th></tr></thead><tbody></tbody></table>'
            f'<p><button type="button" id="receipts-download-all" hidden>'
            f'{_e(ui("rc_download_all", lang))}</button></p></section>'
            f'<script type="application/json" id="receipts-data">{blob}</script>'
            '<script src="/ui/static/receipts.js" defer></script>')
