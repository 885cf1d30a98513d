# ruff: noqa: E501  -- Chinese sentences are kept whole on one line for translators.
"""Notice texts in English and Simplified Chinese (the parties' languages of the demo).

Keys are the procedure's ``NotifyParties.kind`` values plus the service's own
(``step_recorded``, ``stage_changed``, ``court_access_granted``, ``chain_action_failed``).
Placeholders: ``{case}`` (short case id), ``{stage}``, ``{action}``, ``{url}``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["LANGUAGES", "TEMPLATES", "render"]

LANGUAGES = ("en", "zh-Hans")

TEMPLATES: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "claim_filed": {
        "en": ("Case {case}: a claim was filed against you",
               "A claim was filed in case {case}. You may respond, negotiate or submit "
               "evidence before the deadline. Details: {url}"),
        "zh-Hans": ("案件 {case}：有人对您提出了争议申请",
                    "案件 {case} 已立案。请在期限内回应、协商或提交证据。详情：{url}"),
    },
    "offer_made": {
        "en": ("Case {case}: a settlement offer was made", "A signed settlement offer awaits "
               "your answer in case {case}. {url}"),
        "zh-Hans": ("案件 {case}：收到和解要约", "案件 {case} 中有一项已签名的和解要约待您答复。{url}"),
    },
    "offer_accepted": {
        "en": ("Case {case}: an offer was accepted", "A settlement offer was accepted in case "
               "{case}. {url}"),
        "zh-Hans": ("案件 {case}：和解要约已被接受", "案件 {case} 中的和解要约已被接受。{url}"),
    },
    "offer_withdrawn": {
        "en": ("Case {case}: an offer was withdrawn", "A settlement offer was withdrawn in "
               "case {case}. {url}"),
        "zh-Hans": ("案件 {case}：和解要约已撤回", "案件 {case} 中的和解要约已撤回。{url}"),
    },
    "mediator_appointed": {
        "en": ("Case {case}: a mediator was appointed", "A mediator was appointed in case "
               "{case}. {url}"),
        "zh-Hans": ("案件 {case}：已指定调解员", "案件 {case} 已指定调解员。{url}"),
    },
    "pre_evaluation_published": {
        "en": ("Case {case}: pre-evaluation report", "The mediator published a non-binding "
               "pre-evaluation report in case {case}. {url}"),
        "zh-Hans": ("案件 {case}：预评估报告", "调解员在案件 {case} 中发布了不具约束力的预评估报告。{url}"),
    },
    "settlement_proposed": {
        "en": ("Case {case}: the mediator proposed a settlement", "The mediator proposed a "
               "settlement in case {case}; both parties must accept it. {url}"),
        "zh-Hans": ("案件 {case}：调解员提出和解方案", "调解员在案件 {case} 中提出和解方案，需双方接受。{url}"),
    },
    "arbitration_agreed": {
        "en": ("Case {case}: agreement to arbitrate", "A party agreed to arbitration in case "
               "{case}. {url}"),
        "zh-Hans": ("案件 {case}：同意仲裁", "一方当事人在案件 {case} 中同意仲裁。{url}"),
    },
    "arbitrator_appointed": {
        "en": ("Case {case}: an arbitrator was appointed", "An arbitrator was appointed in "
               "case {case}; the evidence period has begun. {url}"),
        "zh-Hans": ("案件 {case}：已指定仲裁员", "案件 {case} 已指定仲裁员，举证期开始。{url}"),
    },
    "evidence_submitted": {
        "en": ("Case {case}: new evidence", "New evidence you may read was submitted in case "
               "{case}. {url}"),
        "zh-Hans": ("案件 {case}：新证据", "案件 {case} 中提交了您可查阅的新证据。{url}"),
    },
    "answer_submitted": {
        "en": ("Case {case}: the respondent answered", "The respondent's answer was filed in "
               "case {case}. {url}"),
        "zh-Hans": ("案件 {case}：被申请人已答辩", "案件 {case} 中被申请人已提交答辩。{url}"),
    },
    "objection_filed": {
        "en": ("Case {case}: objection to the award", "An objection to the award was filed "
               "in case {case}; a panel of three will decide. {url}"),
        "zh-Hans": ("案件 {case}：对裁决提出异议", "案件 {case} 中有当事人对裁决提出异议，将由三人仲裁庭裁决。{url}"),
    },
    "panel_appointed": {
        "en": ("Case {case}: panel appointed", "A panel of three was appointed in case "
               "{case}. {url}"),
        "zh-Hans": ("案件 {case}：已组成仲裁庭", "案件 {case} 已组成三人仲裁庭。{url}"),
    },
    "jury_track_chosen": {
        "en": ("Case {case}: a jury was proposed", "A party chose decision by a jury of "
               "public assessors in case {case}; the jury decides if you choose it too. {url}"),
        "zh-Hans": ("案件 {case}：对方选择大众评审", "案件 {case} 中一方当事人选择由大众评审团裁决；"
                    "如您也选择，则由评审团裁决。{url}"),
    },
    "jury_drawn": {
        "en": ("A case needs you as a juror", "You were drawn at random to sit on the jury of "
               "case {case}. Accept before the deadline to take part. {url}"),
        "zh-Hans": ("您被抽选为评审员", "您被随机抽选为案件 {case} 的评审员。请在期限内接受以参与评审。{url}"),
    },
    "evidence_marked_for_jury": {
        "en": ("Case {case}: evidence put before the jury", "The other party put one of its "
               "evidence items before the jury in case {case}. {url}"),
        "zh-Hans": ("案件 {case}：证据已提交评审团", "案件 {case} 中对方当事人将其一项证据提交评审团审阅。{url}"),
    },
    "jury_tallied": {
        "en": ("Case {case}: the jury's votes were counted", "The revealed votes of the jury "
               "in case {case} were counted. {url}"),
        "zh-Hans": ("案件 {case}：评审团投票已统计", "案件 {case} 中评审团已公开的投票已完成统计。{url}"),
    },
    "jury_verdict_objected": {
        "en": ("Case {case}: objection to the jury's verdict", "A party objected to the "
               "jury's verdict in case {case}; a sole arbitrator will decide. {url}"),
        "zh-Hans": ("案件 {case}：对评审团裁决提出异议", "案件 {case} 中有当事人对评审团裁决提出异议，"
                    "将由独任仲裁员裁决。{url}"),
    },
    "fast_track_proposed": {
        "en": ("Case {case}: a fast-track resolution is proposed", "The mediator proposed the "
               "rule-based pre-evaluation as the resolution of case {case}, with its reasons. "
               "It binds and the escrow pays it out unless you object within the short window "
               "(3 days by default). {url}"),
        "zh-Hans": ("案件 {case}：快速程序建议处理结果", "调解员将基于规则的预评估（附理由）作为案件 {case} 的处理建议。"
                    "如您未在较短的异议期（默认 3 天）内提出异议，该建议即具有约束力并由托管合约执行付款。{url}"),
    },
    "fast_track_objected": {
        "en": ("Case {case}: objection to the fast-track proposal", "A party objected to the "
               "fast-track proposal in case {case}; the jury or a sole arbitrator will decide. "
               "{url}"),
        "zh-Hans": ("案件 {case}：对快速程序建议提出异议", "案件 {case} 中有当事人对快速程序的处理建议提出异议，"
                    "将由评审团或独任仲裁员裁决。{url}"),
    },
    "court_decision": {
        "en": ("Case {case}: court decision", "The court recorded its decision on the result "
               "of case {case}. {url}"),
        "zh-Hans": ("案件 {case}：法院决定", "法院已就案件 {case} 的结果作出司法确认决定。{url}"),
    },
    "court_access_granted": {
        "en": ("Case {case}: court access", "A court was given access to case {case} to "
               "review and confirm its result. {url}"),
        "zh-Hans": ("案件 {case}：法院查阅权限", "已授权法院查阅案件 {case} 以审查并确认其结果。{url}"),
    },
    "stage_changed": {
        "en": ("Case {case}: now in {stage}", "Case {case} moved to the stage {stage}. {url}"),
        "zh-Hans": ("案件 {case}：进入 {stage} 阶段", "案件 {case} 已进入 {stage} 阶段。{url}"),
    },
    "step_recorded": {
        "en": ("Case {case}: {action}", "A signed step ({action}) was recorded in case {case}. "
               "{url}"),
        "zh-Hans": ("案件 {case}：{action}", "案件 {case} 记录了一个已签名的程序步骤（{action}）。{url}"),
    },
}


def render(kind: str, language: str, **values: str) -> tuple[str, str]:
    """(subject, body) of notice ``kind`` in ``language`` (English when unknown)."""
    texts = TEMPLATES.get(kind, TEMPLATES["step_recorded"])
    subject, body = texts.get(language, texts["en"])
    if kind not in TEMPLATES:
        values = {**values, "action": values.get("action") or kind}
    return subject.format(**values), body.format(**values)
