"""Who is who in the story: each person's signed profile, each neutral's disclosure.

The parties and neutrals sign their own ``Profile`` (names in English and Chinese) with
their wallets; the court's profile is the institution's, issued when the case officer
registers it; each neutral answers its appointment with a signed ``Disclosure``. The
judicial package then names everyone, and the court's verifier checks each binding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backend.demo.clients import Client
from backend.demo.world import Story, World
from evidence.records import Disclosure, Domain, Profile, bytes32

if TYPE_CHECKING:  # the answer the API declares (the demo reads it over HTTP)
    from backend.api.routes.cases import StepAcceptedJson

__all__ = ["COURT", "PROFILES", "declare_profiles", "disclose"]

# name, Chinese name, country (ISO 3166-1), language (BCP 47), contact
PROFILES: dict[str, tuple[str, str, str, str, str]] = {
    "buyer": ("Lena Fischer", "莉娜·菲舍尔", "DE", "de", "lena.fischer@example.de"),
    "seller": ("Shenzhen Brightway Lighting Co., Ltd.", "深圳明途照明有限公司", "CN", "zh-Hans",
               "trade@brightway.example.cn"),
    "mediator": ("Marco Rossi", "马可·罗西", "IT", "en", "m.rossi@example.org"),
    "arbitrator": ("Dr. Chen Wei", "陈伟博士", "SG", "zh-Hans", "chen.wei@example.sg"),
}
COURT = ("Hangzhou Internet Court", "杭州互联网法院", "CN")
STATEMENT = ("I accept the appointment. I am impartial and independent of the parties, and "
             "I know of no circumstance likely to give rise to justifiable doubts about my "
             "impartiality or independence. 本人接受指定，与各方当事人无利害关系，保持公正与独立。")


def declare_profiles(world: World, story: Story) -> None:
    """Parties and neutrals each sign their profile with their wallet (``PUT /profile``)."""
    domain = Domain.from_json_obj(story.http.get("/eip712-domain").json())
    for name, (en, zh, country, language, contact) in PROFILES.items():
        who: Client = getattr(story.cast, name)
        rec = Profile(subject=who.address, issuer=who.address, name=en, name_zh=zh,
                      country=country, language=language, contact=contact,
                      signed_at=who.at())
        shown = _send(who, "PUT", "/profile", {"record": rec.sign(who.key.key, domain)
                                                .to_json_obj()})
        world.printer.step("setup", f"{who.label} {who.label_zh}",
                           f"signs a profile: {shown['name']} / {shown['nameZh']} "
                           f"({shown['country']}) (签署身份信息)")


def disclose(world: World, who: Client, case_id: str, role: str,
             appointed: StepAcceptedJson) -> None:
    """The appointee answers its appointment with a signed disclosure."""
    _seq, _prev, domain = who.head(case_id)
    rec = Disclosure(case_id=bytes32(case_id), appointee=who.address, role=role,
                     appointment_hash=bytes32(appointed["recordHash"]), independent=True,
                     conflicts="", statement=STATEMENT, signed_at=who.at())
    who.post(f"/cases/{case_id}/disclosures", {"record": rec.sign(who.key.key, domain)
                                               .to_json_obj()})
    world.printer.step(appointed.get("stage", ""), f"{who.label} {who.label_zh}",
                       "signs a disclosure: impartial and independent, no conflict "
                       "(独立性与利益冲突披露)")


def _send(who: Client, method: str, path: str, body: Any) -> dict[str, Any]:
    from backend.demo.clients import expect_ok

    out: dict[str, Any] = expect_ok(who.send(method, path, json=body), f"{who.label}: {path}")
    return out
