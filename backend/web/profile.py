"""Profile pages: your own profile, filled in and signed with your wallet; anyone's profile.

* ``/ui/profile``: the signed-in person's profile in effect, and a form (display name in
  English and Chinese, country, language, contact address). ``profile.js`` builds the
  ``Profile`` record from the form and the typed-data template this page embeds (the
  record's own ``typed_data_json``: the fields are declared once, in evidence/records.py),
  has the wallet sign it and sends it to ``PUT /profile`` through ``/ui/api/`` (the API
  checks it: type, domain, signature, signer, time). The server never signs for a person.
* ``/ui/people/{address}``: who an address is, as a person's name links to it: the
  profile in effect, who signed it (the person, or the institution for a court or
  neutral it registered), when, its record hash, and the full address.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from evidence.errors import FormatError
from evidence.records import Profile, checksum_address

from .desk import e as _e
from .i18n import UI, register, ui
from .people import Person, names_for, person_html

__all__ = ["router"]

router = APIRouter(include_in_schema=False)  # mounted under /ui by pages.router

WORDS = register({
    "profile_title": {"en": "Your profile", "zh-Hans": "个人资料"},
    "profile_intro": {
        "en": "Your name as the other side, the neutrals and the court see it in cases, "
              "notices and the judicial package. You sign it with your wallet; the service "
              "keeps it as signed and shows the newest one you signed.",
        "zh-Hans": "您的姓名将在案件、通知和司法确认材料包中向对方、中立人和法院显示。"
                   "资料由您用钱包签署；服务方按签署原样保存，并显示您最新签署的一份。"},
    "profile_current": {"en": "In effect now", "zh-Hans": "当前有效的资料"},
    "profile_none": {"en": "You have not declared a profile yet: others see your wallet "
                           "address.",
                     "zh-Hans": "您尚未声明个人资料：他人看到的是您的钱包地址。"},
    "profile_edit": {"en": "State your profile", "zh-Hans": "填写个人资料"},
    "profile_name": {"en": "Name in English (or Latin letters)",
                     "zh-Hans": "英文姓名（或拉丁字母拼写）"},
    "profile_name_zh": {"en": "Name in Chinese", "zh-Hans": "中文姓名"},
    "profile_name_hint": {"en": "At least one of the two names.",
                          "zh-Hans": "两个姓名至少填写一个。"},
    "profile_country": {"en": "Country (ISO code, e.g. DE or CN)",
                        "zh-Hans": "国家或地区（ISO 代码，例如 CN 或 DE）"},
    "profile_language": {"en": "Language for notices", "zh-Hans": "通知语言"},
    "profile_contact": {"en": "Contact address (e-mail)", "zh-Hans": "联系地址（电子邮件）"},
    "profile_contact_hint": {"en": "Shown to those who see your profile: the other side, "
                                   "neutrals and courts of your cases.",
                             "zh-Hans": "查看您资料的人（对方、本案中立人和法院）可以看到。"},
    "profile_sign": {"en": "Sign and save profile", "zh-Hans": "签署并保存资料"},
    "profile_saved": {"en": "Saved. Your profile is in effect.",
                      "zh-Hans": "已保存。您的资料现已生效。"},
    "profile_of": {"en": "Profile", "zh-Hans": "个人资料"},
    "profile_address": {"en": "Wallet address", "zh-Hans": "钱包地址"},
    "profile_issuer": {"en": "Signed by", "zh-Hans": "签署人"},
    "profile_signed_at": {"en": "Signed at", "zh-Hans": "签署时间"},
    "profile_record": {"en": "Record hash", "zh-Hans": "记录哈希"},
    "profile_self": {"en": "the person themselves", "zh-Hans": "本人"},
    "profile_bad_address": {"en": "That is not a wallet address.",
                            "zh-Hans": "这不是有效的钱包地址。"},
    "lang_en": {"en": "English", "zh-Hans": "英语"},
    "lang_zh-Hans": {"en": "Simplified Chinese", "zh-Hans": "简体中文"},
    "err_country_format": {"en": "Enter the country as two capital letters, e.g. DE or CN.",
                           "zh-Hans": "请以两个大写字母填写国家或地区，例如 CN 或 DE。"},
    "err_name_required": {"en": "Enter at least one name.", "zh-Hans": "请至少填写一个姓名。"},
    "err_contact_format": {"en": "Enter an e-mail address such as name@example.com.",
                           "zh-Hans": "请填写电子邮件地址，例如 name@example.com。"},
    "err_wrong_record_type": {"en": "The service expected another kind of record.",
                              "zh-Hans": "服务需要另一类记录。"},
})

LANGUAGES = ("en", "zh-Hans")  # the notices' languages (backend/notices/templates.py)
_TYPED_FIELDS = ("profile_name", "profile_name_zh", "profile_country", "profile_contact")
TYPED = ' translate="no"'  # what a person typed: shown as typed, in whatever language


def _language(code: str, lang: str) -> str:
    return ui(f"lang_{code}", lang) if f"lang_{code}" in UI else code


def _facts(person: Person, names: dict[str, Person], lang: str) -> str:
    """A profile as a table: the names, country, language, contact, who signed, when."""
    from .pages import time_html  # the pages' one time formatter

    issuer = (ui("profile_self", lang) if person.issuer == person.address
              else person_html(person.issuer, names, lang))
    rows = [("profile_address", f"<code>{_e(person.address)}</code>"),
            ("profile_name", _e(person.name) or "—"),
            ("profile_name_zh", _e(person.name_zh) or "—"),
            ("profile_country", _e(person.country) or "—"),
            ("profile_language", _e(_language(person.language, lang)) or "—"),
            ("profile_contact", _e(person.contact) or "—"),
            ("profile_issuer", issuer),
            ("profile_signed_at", time_html(person.signed_at.isoformat().replace("+00:00", "Z")
                                        if person.signed_at else None)),
            ("profile_record", f"<code>{_e(person.record_hash)}</code>")]
    return "<table class=\"profile\">" + "".join(
        f'<tr><th scope="row">{_e(ui(k, lang))}</th><td data-field="{k}"'
        f'{TYPED if k in _TYPED_FIELDS else ""}>{v}</td></tr>'
        for k, v in rows) + "</table>"


def _field(fid: str, label: str, control: str, hint: str = "") -> str:
    small = f'<small id="{fid}-hint" class="muted">{_e(hint)}</small>' if hint else ""
    return (f'<div class="field"><label for="{fid}">{_e(label)}</label>{control}{small}'
            "</div>")


def _input(fid: str, name: str, value: str, extra: str = "") -> str:
    return (f'<input id="{fid}" name="{name}" value="{_e(value)}" '
            f'aria-describedby="{fid}-hint" {extra}>')


@router.get("/profile", response_class=HTMLResponse)
def own_profile(request: Request) -> HTMLResponse:
    from .pages import csp_nonce, lang_of, need_sign_in, page, viewer_of

    lang = lang_of(request)
    viewer = viewer_of(request)
    if viewer is None:
        return need_sign_in(request, lang)
    ctx = request.app.state.ctx
    names = names_for(ctx, [viewer, ctx.service.institution_address])
    me = names.get(viewer)
    mine = me if me is not None and me.record_hash else None
    current = (_facts(mine, names, lang) if mine is not None
               else f'<p id="profile-none">{_e(ui("profile_none", lang))}</p>')
    options = "".join(
        f'<option value="{code}"{" selected" if code == (mine.language if mine else lang) else ""}>'
        f'{_e(_language(code, lang))}</option>' for code in LANGUAGES)
    form = (
        '<form id="profile-form" novalidate>'
        + _field("profile-name", ui("profile_name", lang),
                 _input("profile-name", "name", mine.name if mine else "",
                        'maxlength="200" autocomplete="name"'), ui("profile_name_hint", lang))
        + _field("profile-name-zh", ui("profile_name_zh", lang),
                 _input("profile-name-zh", "nameZh", mine.name_zh if mine else "",
                        'maxlength="200" lang="zh-Hans"'))
        + _field("profile-country", ui("profile_country", lang),
                 _input("profile-country", "country", mine.country if mine else "",
                        'maxlength="2" autocomplete="country" pattern="[A-Z]{2}"'))
        + _field("profile-language", ui("profile_language", lang),
                 f'<select id="profile-language" name="language">{options}</select>')
        + _field("profile-contact", ui("profile_contact", lang),
                 _input("profile-contact", "contact", mine.contact if mine else "",
                        'type="email" maxlength="320" autocomplete="email"'),
                 ui("profile_contact_hint", lang))
        + f'<button type="submit" id="profile-sign">{_e(ui("profile_sign", lang))}</button>'
        '<p id="profile-result" class="result" role="status" aria-live="polite"></p></form>')
    template = Profile(subject=viewer, issuer=viewer, name="-", name_zh="", country="",
                       language="", contact="", signed_at=0)
    data = {"viewer": viewer, "typedData": template.typed_data_json(ctx.service.domain),
            "messages": {k: v[lang] for k, v in UI.items()
                         if k.startswith(("err_", "profile_")) or k in ("signing",)}}
    blob = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    body = (f'<section id="profile-current"><h1>{_e(ui("profile_title", lang))}</h1>'
            f'<p>{_e(ui("profile_intro", lang))}</p>'
            f'<h2>{_e(ui("profile_current", lang))}</h2>{current}</section>'
            f'<section id="profile-edit"><h2>{_e(ui("profile_edit", lang))}</h2>{form}'
            f'</section><script type="application/json" id="profile-data">{blob}</script>'
            f'<script nonce="{csp_nonce(request)}" src="/ui/static/profile.js"></script>')
    return page(request, lang, ui("profile_title", lang), body, viewer)


@router.get("/people/{address}", response_class=HTMLResponse)
def person_page(request: Request, address: str) -> HTMLResponse:
    from .pages import lang_of, need_sign_in, page, viewer_of

    lang = lang_of(request)
    viewer = viewer_of(request)
    if viewer is None:
        return need_sign_in(request, lang)
    try:
        who = checksum_address(address)
    except FormatError:
        body = f'<section><p class="error">{_e(ui("profile_bad_address", lang))}</p></section>'
        return page(request, lang, ui("profile_of", lang), body, viewer, status=404)
    ctx = request.app.state.ctx
    names = names_for(ctx, [who, ctx.service.institution_address])
    names = names | names_for(ctx, [names[who].issuer] if who in names else [])
    person = names.get(who)
    heading = (_e(person.display(lang)) if person is not None and person.display(lang)
               else f"<code>{_e(who)}</code>")
    if person is not None and person.record_hash:
        inner = _facts(person, names, lang)
    else:
        inner = (f'<p id="profile-none">{_e(ui("person_no_profile", lang))}</p>'
                 f'<p><code data-field="profile_address">{_e(who)}</code></p>')
    body = (f'<section id="person"><h1>{_e(ui("profile_of", lang))}: '
            f'<span class="person-name">{heading}</span></h1>{inner}</section>')
    return page(request, lang, ui("profile_of", lang), body, viewer)
