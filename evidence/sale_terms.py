"""The standard terms a contract of sale names, declared once as data, in English and Chinese.

A `ContractOfSale` (evidence.records) signs each standard text by its id *and* its text
hash, so a wallet shows the id and a court recomputes the hash from the words: changing one
character of a clause makes a new version with a new id, never a silent edit (docs/
contract-of-sale.md prints these texts; a test holds the page to this table).

* ``DISPUTE_CLAUSES``: how a dispute about the sale is resolved: negotiation, then
  mediation, then arbitration administered by the institution named in the contract (or,
  for small claims, a jury of public assessors), with the objection route.
  ``arbitration_agreed`` says whether the clause is itself the agreement to arbitrate, so
  that a case filed on the order starts with it in place (the respondent cannot refuse).
* ``RETURN_POLICIES``: the buyer's right to send the goods back, and within how many days.
* ``RULES_VERSIONS``: the procedural rules a case follows (stage deadlines, objection), and
  whether the institution may advance a refund from the seller's guarantee.

The text hash is ``keccak256(canonical JSON of {"id", "en", "zh"})``: the same bytes
whatever language the reader picks, recomputable with any keccak tool.

Pure data and hashing: imports only evidence's keccak (a court installs ``evidence`` alone).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from evidence._keccak import keccak256

__all__ = [
    "DISPUTE_CLAUSES",
    "RETURN_POLICIES",
    "RULES_VERSIONS",
    "DisputeClause",
    "ReturnPolicy",
    "RulesVersion",
    "StandardText",
    "text_hash",
]


def text_hash(text_id: str, en: str, zh: str) -> bytes:
    """keccak256 of the canonical JSON ``{"en": en, "id": text_id, "zh": zh}`` (sorted keys,
    no whitespace, UTF-8)."""
    body = json.dumps({"id": text_id, "en": en, "zh": zh}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    return keccak256(body.encode())


@dataclass(frozen=True, kw_only=True)
class StandardText:
    """A versioned text with the same meaning in English and Simplified Chinese."""

    id: str
    en: str
    zh: str

    @property
    def hash(self) -> bytes:
        return text_hash(self.id, self.en, self.zh)


@dataclass(frozen=True, kw_only=True)
class DisputeClause(StandardText):
    """``arbitration_agreed``: the clause is an agreement to arbitrate made at checkout.
    ``jury_small_claims``: claims up to the rules' small-claims limit go to a jury first."""

    arbitration_agreed: bool
    jury_small_claims: bool = False


@dataclass(frozen=True, kw_only=True)
class ReturnPolicy(StandardText):
    """``days``: how long after delivery the buyer may return the goods (0: no return
    without a defect; a defect is a dispute under the clause)."""

    days: int


@dataclass(frozen=True, kw_only=True)
class RulesVersion(StandardText):
    """The rules a case under this contract follows (docs/procedure.md). ``advance_refund``:
    the institution may pay the buyer an advance refund from the seller's guarantee once the
    seller has missed the delivery deadline (Trade Assurance; docs/contract-of-sale.md)."""

    advance_refund: bool = False


_NEGOTIATION_EN = (
    "Any dispute arising out of or in connection with this contract shall be resolved "
    "online on chainarb, the platform of the institution named in this contract, under "
    "the rules version named in it. The parties shall first negotiate (10 days); failing "
    "a settlement, a mediator appointed by the institution shall help them settle "
    "(10 days).")
_NEGOTIATION_ZH = (
    "因本合同引起的或与本合同有关的任何争议，依本合同载明的规则版本，在本合同所列机构的"
    "平台 chainarb 上在线解决。双方应先行协商（10日）；未能和解的，由该机构指定的调解员"
    "协助双方和解（10日）。")
_ARBITRATION_EN = (
    " If no settlement is reached, the dispute shall be finally resolved by arbitration "
    "administered by that institution; the award is binding and is executed on the escrow "
    "holding the price. Either party may object once to a sole arbitrator's award within "
    "the objection window (10 days); a panel of three arbitrators then decides finally. "
    "This agreement to arbitrate is made now: neither party need agree again after a "
    "dispute arises.")
_ARBITRATION_ZH = (
    "仍未和解的，争议提交该机构管理的仲裁终局解决；裁决对双方具有约束力，并在托管价款的"
    "合约上执行。任何一方可在异议期（10日）内对独任仲裁员的裁决提出一次异议，由三人仲裁庭"
    "作出终局裁决。本仲裁协议于订立本合同时成立，争议发生后无需双方再次同意。")

DISPUTE_CLAUSES: Mapping[str, DisputeClause] = MappingProxyType({c.id: c for c in (
    DisputeClause(
        id="chainarb-arbitration-1", arbitration_agreed=True,
        en=_NEGOTIATION_EN + _ARBITRATION_EN,
        zh=_NEGOTIATION_ZH + _ARBITRATION_ZH),
    DisputeClause(
        id="chainarb-jury-small-claims-1", arbitration_agreed=True, jury_small_claims=True,
        en=_NEGOTIATION_EN + (
            " If no settlement is reached, a claim within the small-claims limit of the rules "
            "shall be decided by a jury of public assessors drawn at random by the institution, "
            "whose decision is executed on the escrow like an award; either party may object "
            "once within the objection window (10 days), and the dispute is then finally "
            "resolved by arbitration administered by the institution. Larger claims go to that "
            "arbitration directly; a sole arbitrator's award may be objected to once, and a "
            "panel of three arbitrators then decides finally. This agreement to arbitrate is "
            "made now: neither party need agree again after a dispute arises."),
        zh=_NEGOTIATION_ZH + (
            "仍未和解的，属于规则所定小额范围内的请求，由机构随机抽取的大众评审团裁决，其裁决"
            "如同仲裁裁决在托管合约上执行；任何一方可在异议期（10日）内提出一次异议，争议随后"
            "提交该机构管理的仲裁终局解决。超出小额范围的请求直接提交该仲裁；对独任仲裁员的"
            "裁决可提出一次异议，由三人仲裁庭作出终局裁决。本仲裁协议于订立本合同时成立，"
            "争议发生后无需双方再次同意。")),
    DisputeClause(
        id="chainarb-mediation-only-1", arbitration_agreed=False,
        en=_NEGOTIATION_EN + (
            " Arbitration by the institution takes place only if both parties agree to it in "
            "writing after the dispute arises; otherwise either party may go to the competent "
            "court."),
        zh=_NEGOTIATION_ZH + (
            "仅在争议发生后双方书面同意时，方可提交该机构仲裁；否则任何一方可向有管辖权的"
            "法院起诉。")),
)})

RETURN_POLICIES: Mapping[str, ReturnPolicy] = MappingProxyType({r.id: r for r in (
    ReturnPolicy(
        id="return-none-1", days=0,
        en="No return without a defect. Goods not as described, damaged or not delivered are "
           "a dispute under the dispute clause.",
        zh="无质量问题不予退货。货物与描述不符、损坏或未送达的，按争议解决条款处理。"),
    ReturnPolicy(
        id="return-7-days-1", days=7,
        en="The buyer may return unused goods in their original packaging within 7 days of "
           "delivery, without giving reasons, at the buyer's shipping cost; the price is "
           "refunded from the escrow when the seller receives them.",
        zh="买方可在收货后7日内无理由退回未使用且包装完好的货物，退货运费由买方承担；卖方"
           "收到退货后，价款从托管中退还。"),
    ReturnPolicy(
        id="return-30-days-1", days=30,
        en="The buyer may return unused goods in their original packaging within 30 days of "
           "delivery, without giving reasons, at the seller's shipping cost; the price is "
           "refunded from the escrow when the seller receives them.",
        zh="买方可在收货后30日内无理由退回未使用且包装完好的货物，退货运费由卖方承担；卖方"
           "收到退货后，价款从托管中退还。"),
)})

_RULES_1_EN = (
    "chainarb ODR rules, version 1: negotiation 10 days, facilitated settlement 10 "
    "days, evidence 7 days, award 10 days after the record closes, objection 10 "
    "days; missed deadlines advance the case (docs/procedure.md).")
_RULES_1_ZH = (
    "chainarb 在线争议解决规则第1版：协商10日，协助和解10日，举证7日，结束举证后10日"
    "内作出裁决，异议期10日；逾期即推进程序（docs/procedure.md）。")

RULES_VERSIONS: Mapping[str, RulesVersion] = MappingProxyType({v.id: v for v in (
    RulesVersion(id="chainarb-rules-1", en=_RULES_1_EN, zh=_RULES_1_ZH),
    RulesVersion(
        id="chainarb-rules-1-advance-refund-1", advance_refund=True,
        en=_RULES_1_EN + (
            " Advance refund: if the seller has not delivered by the delivery deadline and a "
            "dispute about the order is open, the institution may pay the buyer an advance "
            "refund from the seller's guarantee held by the escrow, in total at most the price "
            "and at most what the guarantee holds. When the dispute ends, the escrowed price "
            "first gives the advance back to the guarantee, out of the buyer's share and then "
            "out of the seller's, so that an award in the seller's favour restores it."),
        zh=_RULES_1_ZH + (
            "先行退款：卖方未在交付期限内交货且就该订单的争议已经提起的，机构可从托管合约中卖方"
            "的保证金向买方先行退款，累计不超过价款，且不超过保证金余额。争议终结时，托管价款先"
            "从买方应得部分、再从卖方应得部分向保证金返还该先行退款，裁决支持卖方的，保证金由此"
            "恢复。")),
)})
