"""The case's records in the institution's log, for the neutrals' desk and the court's
workspace: each entry's log position, what it is, when it was accepted, and the link to its
inclusion proof (docs/log.md; issue 15).

Why these pages show it: a neutral or a court relies on the record being complete; the log
position is what a receipt names and what the package's `proofs/log.json` proves, so the
person reading the case sees the same numbers the verifier checks. Entries are public
(hashes only, `GET /log/leaf/{hash}`); a step the viewer may not read is shown by its kind,
never by its words. Server-rendered: no script needed.
"""

from __future__ import annotations

from fastapi import Request
from sqlmodel import col, select

from backend.db.log_models import LogCheckpoint, LogEntry
from backend.services import views
from evidence.words import LOG_KINDS, timeline_label, word

from .desk import e as _e
from .i18n import register, ui

__all__ = ["WORDS", "log_section"]

WORDS = register({
    "lg_title": {"en": "In the institution's log", "zh-Hans": "机构日志中的记录"},
    "lg_what": {"en": "Every record of the case is in the institution's append-only log at "
                      "the position shown, in the order the service accepted it; a party's "
                      "receipt names the same position, and the judicial package proves each "
                      "one and that none is missing.",
                "zh-Hans": "本案每条记录均按服务受理的先后顺序记入机构的只增日志，位置如下所示；"
                           "当事人的回执载明同一位置，司法确认材料包逐条证明之，并证明无一遗漏。"},
    "lg_none": {"en": "No record of this case is in the log yet.",
                "zh-Hans": "本案尚无记录记入日志。"},
    "lg_index": {"en": "Log position", "zh-Hans": "日志位置"},
    "lg_kind": {"en": "Kind", "zh-Hans": "类型"},
    "lg_record": {"en": "Record", "zh-Hans": "记录"},
    "lg_accepted": {"en": "Accepted", "zh-Hans": "受理时间"},
    "lg_proof": {"en": "Inclusion proof", "zh-Hans": "包含证明"},
    "lg_anchored": {"en": "anchored", "zh-Hans": "已锚定"},
    "lg_pending": {"en": "next anchoring round", "zh-Hans": "待下一轮锚定"},
})


def log_section(request: Request, case_id: str, viewer: str, lang: str) -> str:
    """The section: one row per entry of the case, lowest position first."""
    ctx = request.app.state.ctx
    zh = lang == "zh-Hans"
    labels: dict[str, str] = {}
    for item in views.timeline(ctx.service, case_id, viewer):  # the viewer's own access
        if views.is_step(item):
            en, cn = timeline_label(item["recordType"], item["action"])
            labels[item["recordHash"]] = cn if zh else en
    with ctx.sessions() as session:
        rows = session.exec(select(LogEntry).where(col(LogEntry.case_id) == case_id.lower())
                            .order_by(col(LogEntry.idx))).all()
        covered = session.exec(select(LogCheckpoint.size).where(
            col(LogCheckpoint.batch_id).is_not(None), col(LogCheckpoint.refused).is_(None))
            .order_by(col(LogCheckpoint.size).desc()).limit(1)).first()
    head = (f'<section id="log-positions" aria-labelledby="log-positions-h">'
            f'<h2 id="log-positions-h">{_e(ui("lg_title", lang))}</h2>'
            f'<p class="muted">{_e(ui("lg_what", lang))}</p>')
    if not rows:
        return head + f'<p id="log-none" class="muted">{_e(ui("lg_none", lang))}</p></section>'
    trs = []
    for r in rows:
        kind = word(LOG_KINDS, r.kind)[1 if zh else 0]
        what = labels.get(r.record_hash, kind)
        at = r.accepted_at.isoformat().replace("+00:00", "Z")
        state = ui("lg_anchored" if covered is not None and covered > r.idx else "lg_pending",
                   lang)
        trs.append(f'<tr data-index="{r.idx}"><td>{r.idx}</td><td>{_e(kind)}</td>'
                   f'<td>{_e(what)}<br><code title="{_e(r.record_hash)}">'
                   f'{_e(r.record_hash[:18])}…</code></td>'
                   f'<td><time datetime="{_e(at)}">{_e(at)}</time></td>'
                   f'<td><a href="/log/proof/inclusion?index={r.idx}">'
                   f'{_e(ui("lg_proof", lang))}</a> · {_e(state)}</td></tr>')
    return (head + f'<table id="log-table"><thead><tr>'
            f'<th scope="col">{_e(ui("lg_index", lang))}</th>'
            f'<th scope="col">{_e(ui("lg_kind", lang))}</th>'
            f'<th scope="col">{_e(ui("lg_record", lang))}</th>'
            f'<th scope="col">{_e(ui("lg_accepted", lang))}</th>'
            f'<th scope="col">{_e(ui("lg_proof", lang))}</th></tr></thead>'
            f'<tbody>{"".join(trs)}</tbody></table></section>')
