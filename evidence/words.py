"""The case's vocabulary in words, English and 简体中文: stages, dispute types, remedies,
roles, and what each record of a timeline says happened.

Declared once, as data: the judicial package's timeline labels, index.html and
certificate.pdf (evidence.judicial) and the service's pages (backend/web/i18n.py) read these
tables; none keeps its own. The keys are the procedure's enum values (backend/procedure),
which this package cannot import: tests/evidence/test_words.py holds the two in step.

A timeline label is generated from the step table (evidence/steps.py: ``done_en`` and
``done_zh``, the past tense of the step) so that a step added there is labelled here.
"""

from __future__ import annotations

from collections.abc import Mapping

from evidence.steps import step_of_record

__all__ = [
    "ASSESSOR_STATUSES",
    "CHAIN_ACTS",
    "DISPUTE_TYPES",
    "LOG_KINDS",
    "ORDER_STATUSES",
    "RECORD_FIELDS",
    "RECORD_TYPES",
    "REMEDIES",
    "ROLES",
    "SIDES",
    "STAGES",
    "STANDING_FIELDS",
    "Words",
    "amount",
    "timeline_label",
    "word",
]

Words = tuple[str, str]
"""(English, 简体中文)."""

STAGES: Mapping[str, Words] = {
    "not_filed": ("not filed", "未立案"),
    "filed": ("filed", "已立案"),
    "negotiation": ("negotiation", "协商"),
    "facilitation": ("facilitated settlement", "调解"),
    "arbitrator_appointment": ("arbitrator appointment", "指定仲裁员"),
    "evidence": ("evidence period", "举证期"),
    "record_closed": ("record closed", "审理终结"),
    "awarded": ("awarded (objection window)", "已裁决（异议期）"),
    "panel_appointment": ("panel appointment", "组成合议庭"),
    "panel": ("panel deliberating", "合议庭审理"),
    "awarded_by_panel": ("awarded by the panel", "合议庭已裁决"),
    "final": ("final award", "裁决生效"),
    "enforced": ("enforced on-chain", "已在链上执行"),
    "settled": ("settled", "已和解"),
    "closed_for_litigation": ("closed (courts open)", "终止（可诉讼）"),
    "judicially_confirmed": ("judicially confirmed", "已司法确认"),
    "confirmation_refused": ("confirmation refused", "不予确认"),
    "jury_draw": ("jury draw", "抽选评审团"),
    "jury_acceptance": ("jurors accepting", "评审员接受任务"),
    "jury_voting": ("jury voting (hidden votes)", "评审团投票（密封）"),
    "jury_reveal": ("jurors revealing votes", "评审员公开投票"),
    "jury_tally": ("tally of the jury's votes", "统计评审团投票"),
    "jury_decided": ("jury verdict (objection window)", "评审团已裁决（异议期）"),
    "jury_final": ("jury verdict final", "评审团裁决生效"),
    "fast_track_proposed": ("fast-track proposal (objection window)", "快速程序建议（异议期）"),
    "fast_track_final": ("fast-track resolution binding", "快速程序处理结果生效"),
    "return_pending": ("return and refund: buyer to ship the goods back",
                       "退货退款：待买方退货"),
    "return_shipped": ("return shipped: seller to confirm receipt", "已退货：待卖方确认收货"),
}

DISPUTE_TYPES: Mapping[str, Words] = {
    "goods_not_received": ("goods not received", "未收到货物"),
    "not_as_described": ("goods not as described", "货物与描述不符"),
    "logistics_loss_or_damage": ("loss or damage in transit", "物流丢失或损坏"),
    "buyer_refuses_to_pay": ("buyer refuses to pay", "买方拒绝付款"),
}

REMEDIES: Mapping[str, Words] = {
    "full_refund": ("full refund", "全额退款"),
    "partial_refund": ("partial refund", "部分退款"),
    "return_and_refund": ("return the goods and refund", "退货退款"),
    "compensation": ("compensation", "赔偿"),
    "release_payment": ("release the payment to the seller", "向卖方放款"),
}

ROLES: Mapping[str, Words] = {
    "claimant": ("claimant", "申请人"),
    "respondent": ("respondent", "被申请人"),
    "institution": ("institution", "仲裁机构"),
    "mediator": ("mediator", "调解员"),
    "arbitrator": ("arbitrator", "仲裁员"),
    "panelist": ("panel member", "仲裁庭成员"),
    "court": ("court", "法院"),
    "juror": ("juror (public assessor)", "大众评审员"),
    "anyone": ("anyone", "任何人"),
    # seats the service adds for access (backend/services/cases.py viewer_roles)
    "party": ("party to the order", "订单当事人"),
    "admin": ("institution staff", "仲裁机构工作人员"),
}

ORDER_STATUSES: Mapping[str, Words] = {
    # The escrow's Status of an order (contracts/interfaces/IArbitrationEscrow.sol), as a
    # party reads it on their orders page.
    "None": ("no such order", "无此订单"),
    "Paid": ("paid into escrow", "货款已托管"),
    "Disputed": ("disputed: funds frozen", "争议中：资金已冻结"),
    "ArbitratorAppointed": ("arbitrator appointed", "已指定仲裁员"),
    "AwardSubmitted": ("award submitted (objection window)", "裁决已提交（异议期）"),
    "Objected": ("award objected to", "裁决已被提出异议"),
    "PanelAppointed": ("panel appointed", "已组成合议庭"),
    "Resolved": ("paid out: resolved", "已付款：订单结清"),
    "JuryAppointed": ("jury appointed: awaiting its verdict", "评审团已登记：等待裁决"),
    "DecisionPending": ("decision pending (objection window)", "裁定待生效（异议期）"),
    "ReturnPending": ("return and refund: buyer to ship the goods back", "退货退款：待买方退货"),
    "ReturnShipped": ("return shipped: seller to confirm receipt", "已退货：待卖方确认收货"),
}

SIDES: Mapping[str, Words] = {"buyer": ("buyer", "买方"), "seller": ("seller", "卖方")}

ASSESSOR_STATUSES: Mapping[str, Words] = {
    # An assessor's status in the pool (backend/jury/_pool.py AssessorStatus).
    "applied": ("applied, awaiting admission", "已申请，待审核"),
    "admitted": ("admitted to the pool", "已获准进入评审员库"),
    "suspended": ("suspended", "已暂停资格"),
}

STANDING_FIELDS: Mapping[str, Words] = {
    # A juror's standing (backend/jury/_standing.py), as the assessor and the institution
    # read it.
    "drawn": ("seats drawn", "被抽中次数"),
    "accepted": ("seats accepted", "接受任务次数"),
    "finished": ("seats finished", "已结束的任务"),
    "revealed": ("votes revealed", "已公开的投票"),
    "decided": ("votes in cases with a final outcome", "案件已有最终结果的投票"),
    "agreed": ("votes agreeing with the final outcome", "与最终结果一致的投票"),
    "participation": ("participation (%)", "参与率（%）"),
    "agreement": ("agreement with the final outcome (%)", "与最终结果一致率（%）"),
    "eligible": ("eligible to be drawn", "可被抽选"),
}

_UNCHAINED: Mapping[str, Words] = {
    # The escrow's own records (not steps of the table): what the escrow executes.
    "Award": ("Award signed for the escrow (allocation of the funds)",
              "供托管合约执行的裁决（资金分配）"),
    "Settlement": ("Settlement signed by buyer and seller for the escrow",
                   "买卖双方签署、供托管合约执行的和解协议"),
    "ReturnAward": ("Return-and-refund award signed for the escrow (refund once the goods are "
                    "back, the fallback if not)",
                    "供托管合约执行的退货退款裁决（退货后退款，否则按备选分配）"),
    "ReturnSettlement": ("Return-and-refund settlement signed by buyer and seller for the escrow "
                         "(refund once the goods are back, the fallback if not)",
                         "买卖双方签署、供托管合约执行的退货退款和解协议（退货后退款，否则按备选分配）"),
}

LOG_KINDS: Mapping[str, Words] = {
    # The kinds of the institution's log entries (docs/log.md §1), as a reader sees them.
    "step": ("signed step", "已签名程序步骤"),
    "evidence": ("evidence submission", "证据提交"),
    "attachment": ("record carried by a step", "程序步骤所附记录"),
    "contract": ("contract of sale", "买卖合同"),
    "identity": ("profile or disclosure", "身份资料或披露声明"),
    "backfill": ("record from before the log, appended late", "日志启用前的记录（补录）"),
    "performance": ("performance evidence (carrier or party event)",
                    "履约证据（承运人或当事人记录的事件）"),
    "provenance": ("provenance entry of an evidence item (signed by the institution)",
                   "证据来源记录条目（机构签名）"),
}

_DEFAULT = "deadline_missed."


def word(table: Mapping[str, Words], key: str) -> Words:
    """The words for ``key``; the key itself in both languages when the table lacks it
    (a value from a newer version is shown as is, never hidden)."""
    return table.get(key, (key, key))


RETURN_STAGE_OPENED: Words = (
    # A return award's ``enforcement.recorded``: nothing is paid yet, the return stage opens.
    "Return stage opened: the buyer ships the goods back", "退货阶段开始：买方退回货物")


def timeline_label(type_name: str, action: str, *, confirmed: bool | None = None,
                   return_stage: bool = False) -> Words:
    """What a timeline entry says happened, from the step table (past tense);
    ``return_stage``: the enforcement opened a return award's return stage (no payout)."""
    if return_stage and action == "enforcement.recorded":
        return RETURN_STAGE_OPENED
    spec = step_of_record(type_name, action, confirmed=confirmed)
    if spec is not None:
        return spec.done_en, spec.done_zh
    if type_name in _UNCHAINED:
        return _UNCHAINED[type_name]
    if action.startswith(_DEFAULT):  # a default the institution records after a deadline
        en, zh = word(STAGES, action[len(_DEFAULT):])
        return (f"Deadline missed in stage “{en}”: the case moved on by default",
                f"“{zh}”阶段期限届满，案件依规则继续进行")
    return action, action


CHAIN_ACTS: Mapping[str, Words] = {
    # On-chain acts by the event that shows them (anchor contract and escrow).
    "RootAnchored": ("Merkle root of signed records anchored", "已签名记录的默克尔根上链存证"),
    "OrderOpened": ("Escrow order opened: the buyer's payment held",
                    "托管订单开立：买方货款由托管合约保管"),
    "DisputeRaised": ("Dispute raised: the escrow froze the funds", "提出争议：托管资金冻结"),
    "ArbitratorAppointed": ("Arbitrator registered on the escrow", "托管合约登记仲裁员"),
    "AwardSubmitted": ("Award submitted to the escrow", "裁决提交托管合约"),
    "AwardObjected": ("Objection registered on the escrow", "托管合约登记异议"),
    "PanelAppointed": ("Panel registered on the escrow", "托管合约登记仲裁庭"),
    "ReturnRequested": ("Return stage opened on the escrow: the buyer ships the goods back",
                        "托管合约开启退货阶段：待买方退货"),
    "ReturnShipped": ("Return shipment's tracking commitment recorded on the escrow",
                      "托管合约登记退货运单承诺值"),
    "ReturnReceiptDisputed": ("Return's receipt disputed on the escrow: funds frozen again",
                              "托管合约登记退货签收争议：资金再次冻结"),
    "OrderResolved": ("Escrow paid out: order resolved", "托管合约付款：订单结清"),
    "InstitutionKeyRotated": ("Institution's key handed over on the escrow",
                              "托管合约登记机构密钥移交"),
    "AdvanceRefunded": ("Advance refund paid to the buyer from the seller's guarantee",
                        "托管合约从卖方保证金向买方先行退款"),
    "AdvanceRepaid": ("Advance refund returned to the seller's guarantee from the escrowed "
                      "price", "托管价款向卖方保证金返还先行退款"),
}


def amount(units: int | str, decimals: int, currency: str) -> str:
    """A token amount in its unit, exactly: 480000000 with 6 decimals is
    ``480.000000 tUSD`` (integer arithmetic: no float, no decimal context rounding)."""
    value = int(units)
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**decimals)
    tail = f".{frac:0{decimals}d}" if decimals else ""
    return f"{sign}{whole:,}{tail} {currency}".rstrip()


# What a signer is asked to sign, in words (the built-in wallet's prompt, backend/web/wallet.py):
# each record type (evidence/records.py ``TYPE_NAME``) and each of its EIP-712 fields.
RECORD_TYPES: Mapping[str, Words] = {
    "EvidenceSubmission": ("an item of evidence", "一项证据"),
    "ProceduralStep": ("a step of the procedure", "一个程序步骤"),
    "SettlementOffer": ("a settlement offer", "和解要约"),
    "Settlement": ("a settlement for the escrow", "供托管合约执行的和解协议"),
    "Award": ("an award for the escrow", "供托管合约执行的裁决"),
    "ReturnAward": ("a return-and-refund award for the escrow", "供托管合约执行的退货退款裁决"),
    "ReturnSettlement": ("a return-and-refund settlement for the escrow",
                         "供托管合约执行的退货退款和解协议"),
    "Objection": ("an objection to the award", "对裁决的异议"),
    "CourtConfirmation": ("the court's decision on the award", "法院对裁决的决定"),
    "Profile": ("a profile (name and contact)", "个人资料（姓名与联系方式）"),
    "Disclosure": ("a neutral's disclosure", "中立人的披露声明"),
    "KeyDerivation": ("the key that opens your encrypted evidence", "打开加密证据的密钥"),
    "ContractOfSale": ("a contract of sale with its dispute clause", "含争议解决条款的买卖合同"),
}

RECORD_FIELDS: Mapping[str, Words] = {
    "caseId": ("case", "案件"),
    "orderId": ("order number", "订单号"),
    "sequence": ("number in the case record", "在案件记录中的序号"),
    "prevHash": ("previous record", "前一条记录"),
    "actor": ("signed by", "签署人"),
    "action": ("step", "步骤"),
    "payloadHash": ("content digest", "内容摘要"),
    "signedAt": ("signed at", "签署时间"),
    "submitter": ("submitted by", "提交人"),
    "commitment": ("commitment to the file", "文件承诺值"),
    "contentCid": ("IPFS content identifier", "IPFS 内容标识"),
    "offeror": ("offered by", "要约人"),
    "toBuyer": ("to the buyer", "付给买方"),
    "toSeller": ("to the seller", "付给卖方"),
    "compensation": ("compensation from the guarantee", "从保证金中支付的赔偿"),
    "expiresAt": ("expires at", "失效时间"),
    "awardHash": ("award document digest", "裁决书摘要"),
    "round": ("award round", "裁决轮次"),
    "objector": ("objection by", "异议人"),
    "awardRecordHash": ("award record", "裁决记录"),
    "reasonsHash": ("reasons document digest", "理由文件摘要"),
    "court": ("court", "法院"),
    "packageHash": ("judicial package (SHA-256 of its manifest.json)",
                    "司法确认材料包（其 manifest.json 的 SHA-256）"),
    "confirmed": ("confirmed", "予以确认"),
    "courtReference": ("court reference", "法院案号"),
    "subject": ("person", "本人"),
    "issuer": ("issued by", "签发人"),
    "name": ("name", "姓名"),
    "nameZh": ("name in Chinese", "中文姓名"),
    "country": ("country", "国家或地区"),
    "language": ("language", "语言"),
    "contact": ("contact address", "联系地址"),
    "appointee": ("appointee", "被指定人"),
    "role": ("role", "身份"),
    "appointmentHash": ("appointment record", "指定记录"),
    "independent": ("independent", "具有独立性"),
    "conflicts": ("conflicts of interest", "利益冲突"),
    "statement": ("statement", "声明"),
    "purpose": ("purpose", "用途"),
    "account": ("account", "账户"),
    "offerId": ("offer number", "要约编号"),
    "buyer": ("buyer", "买方"),
    "seller": ("seller", "卖方"),
    "institution": ("institution", "机构"),
    "token": ("currency (token contract)", "币种（代币合约）"),
    "amount": ("price (smallest unit)", "价款（最小单位）"),
    "goods": ("goods", "货物"),
    "quantity": ("quantity", "数量"),
    "deliveryTerms": ("delivery terms", "交付条件"),
    "deliveryDeadline": ("delivery deadline", "交付期限"),
    "returnPolicy": ("return policy", "退货政策"),
    "returnPolicyHash": ("return policy text digest", "退货政策文本摘要"),
    "rulesVersion": ("rules version", "规则版本"),
    "rulesHash": ("rules text digest", "规则文本摘要"),
    "disputeClause": ("dispute clause", "争议解决条款"),
    "clauseHash": ("dispute clause text digest", "争议解决条款文本摘要"),
    "offerExpiresAt": ("offer expires at", "要约失效时间"),
    "totalAdvanced": ("advance refunds so far", "累计先行退款"),
}
