"""A case's timeline in words: each signed step as what happened and who signed it, each
service event (stage changes, deadlines, appointments asked for, packages downloaded,
encryption keys) as a sentence in the viewer's language, never as its internal values.

The steps' words are the step table's (``evidence.words.timeline_label``: the same past
tense the judicial package uses); stages, roles and sides come from ``evidence.words``;
only the sentences about the service's own events are declared here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from backend.services.views import TimelineItemJson, is_step
from evidence.safejson import JSON, JsonObject
from evidence.words import ROLES, STAGES, timeline_label, word

from .desk import e as _e
from .i18n import register, ui
from .people import Person, person_html

__all__ = ["EVENT_SENTENCES", "timeline_people", "timeline_section"]

register({
    "tl_title": {"en": "Timeline", "zh-Hans": "程序时间线"},
    "tl_time": {"en": "Time", "zh-Hans": "时间"},
    "tl_what": {"en": "What happened", "zh-Hans": "事项"},
    "tl_who": {"en": "Signed by", "zh-Hans": "签名人"},
    "tl_record": {"en": "Signed record", "zh-Hans": "签名记录"},
    "tl_service": {"en": "the service", "zh-Hans": "服务方"},
    "tl_empty": {"en": "Nothing has happened in this case yet.",
                 "zh-Hans": "本案尚无任何记录。"},
    "ev_stage_changed": {"en": "The case moved from “{from}” to “{to}”.",
                         "zh-Hans": "案件由“{from}”进入“{to}”阶段。"},
    "ev_stage_changed_default": {
        "en": "The case moved from “{from}” to “{to}” by default (a deadline passed).",
        "zh-Hans": "期限届满，案件依规则由“{from}”进入“{to}”阶段。"},
    "ev_deadline_set": {"en": "Deadline of the stage “{stage}”: {at}.",
                        "zh-Hans": "“{stage}”阶段的期限：{at}。"},
    "ev_appointment_requested": {"en": "The institution is to appoint the {role}, by {by}.",
                                 "zh-Hans": "仲裁机构须于{by}前指定{role}。"},
    "ev_appointment_requested_now": {"en": "The institution is to appoint the {role}.",
                                     "zh-Hans": "仲裁机构须指定{role}。"},
    "ev_package_exported": {"en": "Judicial package downloaded by {court}.",
                            "zh-Hans": "{court}下载了司法确认材料包。"},
    "ev_encryption_key": {"en": "{who} registered a key for reading encrypted evidence.",
                          "zh-Hans": "{who}登记了用于查阅加密证据的密钥。"},
    "ev_other": {"en": "A service event was recorded.", "zh-Hans": "服务方记录了一项事件。"},
})


def _stage(key: object, lang: str) -> str:
    en, zh = word(STAGES, str(key or ""))
    return zh if lang == "zh-Hans" else en


def _role(key: object, lang: str) -> str:
    en, zh = word(ROLES, str(key or ""))
    return zh if lang == "zh-Hans" else en


def _time(value: object) -> str:
    return f'<time datetime="{_e(value)}">{_e(value)}</time>' if value else "—"


def _fill(key: str, lang: str, **parts: str) -> str:
    """The sentence ``key`` with its parts put in (parts are HTML already)."""
    out = _e(ui(key, lang))
    for name, value in parts.items():
        out = out.replace("{" + name + "}", value)
    return out


def _address(value: JSON) -> str | None:
    """An event's member naming a person (an address), None if it names no one."""
    return value if isinstance(value, str) else None


Sentence = Callable[[JsonObject, dict[str, Person], str], str]

EVENT_SENTENCES: dict[str, Sentence] = {
    "stage_changed": lambda i, n, lang: _fill(
        "ev_stage_changed_default" if i.get("byDefault") else "ev_stage_changed", lang,
        **{"from": _e(_stage(i.get("from"), lang)), "to": _e(_stage(i.get("to"), lang))}),
    "deadline_set": lambda i, n, lang: _fill(
        "ev_deadline_set", lang, stage=_e(_stage(i.get("stage"), lang)),
        at=_time(i.get("due") if isinstance(i.get("due"), str) else None)),
    "appointment_requested": lambda i, n, lang: _fill(
        "ev_appointment_requested" if isinstance(i.get("by"), str)
        else "ev_appointment_requested_now", lang, role=_e(_role(i.get("role"), lang)),
        by=_time(i.get("by"))),
    "package_exported": lambda i, n, lang: _fill(
        "ev_package_exported", lang, court=person_html(_address(i.get("court")), n, lang)),
    "encryption_key": lambda i, n, lang: _fill(
        "ev_encryption_key", lang, who=person_html(_address(i.get("address")), n, lang)),
}
"""What each service event says, by its kind (``CaseEvent.kind``; ``encryption_key`` is a
reader key's registration)."""

_PEOPLE_FIELDS = ("signer", "court", "address")


def timeline_people(items: list[TimelineItemJson]) -> list[str]:
    """Every address the timeline names (for the page's one ``names_for`` query)."""
    people: list[str] = []
    for i in items:
        members: Mapping[str, object] = i
        people += [v for k in _PEOPLE_FIELDS
                   if isinstance(v := members.get(k), str) and v.startswith("0x")]
    return people


def _hash(value: str | None) -> str:
    if not value:
        return ""
    return f'<code title="{_e(value)}">{_e(value[:10])}…</code>'


def timeline_section(items: list[TimelineItemJson], names: dict[str, Person], lang: str
                     ) -> str:
    """The ``#timeline`` section: one row per step or event, in time order."""
    trs = []
    for i in items:
        if is_step(i):
            en, zh = timeline_label("ProceduralStep", i["action"],
                                    return_stage=bool(i.get("returnStage")))
            trs.append(
                f'<tr class="step" data-action="{_e(i["action"])}" '
                f'data-sequence="{_e(i["sequence"])}"><td>{_time(i["at"])}</td>'
                f'<td>{_e(zh if lang == "zh-Hans" else en)}</td>'
                f'<td>{person_html(i["signer"], names, lang)}</td>'
                f'<td>{_hash(i.get("recordHash"))}</td></tr>')
        else:
            sentence = EVENT_SENTENCES.get(str(i["type"]))
            said = sentence(i, names, lang) if sentence else _e(ui("ev_other", lang))
            trs.append(f'<tr class="event" data-event="{_e(i["type"])}"><td>{_time(i["at"])}'
                       f'</td><td colspan="2">{said}</td><td></td></tr>')
    if not trs:
        return (f'<section id="timeline"><h2>{_e(ui("tl_title", lang))}</h2>'
                f'<p>{_e(ui("tl_empty", lang))}</p></section>')
    head = "".join(f'<th scope="col">{_e(ui(k, lang))}</th>'
                   for k in ("tl_time", "tl_what", "tl_who", "tl_record"))
    return (f'<section id="timeline"><h2>{_e(ui("tl_title", lang))}</h2><table><thead><tr>'
            f'{head}</tr></thead><tbody>{"".join(trs)}</tbody></table></section>')
