"""The steps of a case, declared once: the table every other step table is generated from.

Rule 1: a step is one row of ``STEPS``. The service's translation (backend/services/steps.py),
its routes (backend/api/routes/cases.py), ``steps/prepare``, the web forms' list, the docs
table (docs/api.md, drawn by scripts/steps_table.py) and the court's verifier (who may sign
what, the appointments: evidence/judicial/verify.py) read this table; none keeps its own.
Adding a step means one row here plus the procedure's command and handler.

Rule 2: one vocabulary. ``action`` (``award.issued``) is the step's name everywhere: in the
signed record, the timeline, ``allowedSteps``, ``steps/prepare`` and the docs. ``command``
names the procedure core's command class; it is the core's implementation detail, mapped
from this table at the service's edge and never shown to clients.

This module is pure data (the evidence package never imports the backend, so the command is
named by its class name, and roles by their ``Role`` values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "ANYONE",
    "APPOINTMENTS",
    "PARTIES",
    "STEPS",
    "StepSpec",
    "step_of_record",
]

PARTIES = frozenset({"claimant", "respondent"})
ANYONE = "anyone"


@dataclass(frozen=True, kw_only=True)
class StepSpec:
    """One step: what is signed, what the procedure makes of it, who may sign it, where it
    is posted and what it is called.

    ``en``/``zh``: the step as an action someone takes (forms, docs); ``done_en``/``done_zh``:
    the step as a fact, past tense, for a package's timeline (evidence/words.py).

    ``payload``: the exact keys of the body's ``payload`` whose canonical JSON
    ``payloadHash`` covers (``None``: the record carries no such payload). ``fields``: what
    a caller gives ``steps/prepare`` (default: ``payload``). ``document``: the signed field
    (payload key or record field) a document in the body must hash to. ``appointees``:
    (role, count) an appointment names (count ``None``: every holder). ``confirmed``:
    which ``CourtConfirmation``s the row takes. ``endpoint``: the path under
    ``/cases/{id}/`` that takes it (``None``: only the service writes it). ``command``:
    ``None`` for a service record the procedure does not apply (it changes no stage).
    ``optional``: ``steps/prepare`` fields a caller may add (the fallback ``noReturn*`` makes
    ``award.issued`` a return-and-refund award, signed as the escrow's ReturnAward, and
    ``offer.made`` a return-and-refund offer, signed by both parties as a ReturnSettlement).
    """

    action: str
    record: str
    command: str | None
    signers: frozenset[str]
    endpoint: str | None
    en: str
    zh: str
    done_en: str
    done_zh: str
    payload: tuple[str, ...] | None = None
    fields: tuple[str, ...] | None = None
    document: str | None = None
    attachments: tuple[str, ...] = ()
    confidential: bool = False
    appointees: tuple[str, int | None] | None = None
    confirmed: bool | None = None  # a CourtConfirmation row: its ``confirmed`` flag
    optional: tuple[str, ...] = ()  # fields a caller may add (a return's fallback)

    @property
    def institution(self) -> bool:
        """The institution's act: an admin signs the request, the institution key the record."""
        return self.signers == {"institution"}

    @property
    def prepare_fields(self) -> tuple[str, ...]:
        return self.fields if self.fields is not None else (self.payload or ())


_ALLOCATION = ("toBuyer", "toSeller", "compensation")
_NO_RETURN = ("noReturnToBuyer", "noReturnToSeller", "noReturnCompensation")
_APPOINTMENT = ("role", "appointees")

STEPS: tuple[StepSpec, ...] = (
    StepSpec(action="case.filed", record="ProceduralStep", command="FileClaim",
             signers=frozenset({"claimant"}), endpoint="filing",
             done_en="Claim filed (dispute type and remedy stated)",
             done_zh="提起申请（载明争议类型与请求事项）",
             en="File the claim (dispute type, remedy)",
             zh="提起申请（争议类型、请求事项）",
             payload=("claimant", "respondent", "orderId", "disputeType", "remedy",
                      "claimedAmount", "statementHash"), document="statementHash"),
    StepSpec(action="offer.made", record="SettlementOffer", command="MakeOffer",
             signers=PARTIES, endpoint="offers",
             done_en="Settlement offer made",
             done_zh="提出和解要约",
             en="Make a signed settlement offer", zh="提出经签名的和解要约",
             fields=(*_ALLOCATION, "expiresAt"), attachments=("Settlement", "ReturnSettlement"),
             confidential=True, optional=_NO_RETURN),
    StepSpec(action="offer.accepted", record="ProceduralStep", command="AcceptOffer",
             signers=PARTIES, endpoint="offers/accept",
             done_en="Offer accepted: settlement reached",
             done_zh="接受要约，达成和解",
             en="Accept an offer or proposal", zh="接受要约或和解建议",
             payload=("offerId", "settlementHash"), fields=("offerId",),
             attachments=("Settlement", "ReturnSettlement"), confidential=True),
    StepSpec(action="offer.withdrawn", record="ProceduralStep", command="WithdrawOffer",
             signers=PARTIES | {"mediator"}, endpoint="offers/withdraw",
             done_en="Offer withdrawn",
             done_zh="撤回要约",
             en="Withdraw your offer", zh="撤回您的要约",
             payload=("offerId",), confidential=True),
    StepSpec(action="facilitation.requested", record="ProceduralStep",
             command="RequestFacilitation", signers=PARTIES, endpoint="facilitation",
             done_en="Mediator requested",
             done_zh="请求调解员协助",
             en="Ask for a mediator now", zh="立即请求调解员协助", payload=()),
    StepSpec(action="appoint.mediator", record="ProceduralStep", command="AppointMediator",
             signers=frozenset({"institution"}), endpoint="mediator",
             done_en="Mediator appointed by the institution",
             done_zh="机构指定调解员",
             en="Appoint the mediator (admin)", zh="指定调解员（管理员）",
             payload=_APPOINTMENT, appointees=("mediator", 1)),
    StepSpec(action="preevaluation.published", record="ProceduralStep",
             command="PublishPreEvaluation", signers=frozenset({"mediator"}),
             endpoint="pre-evaluation",
             done_en="Pre-evaluation report published by the mediator",
             done_zh="调解员发布预评估报告",
             en="Publish the pre-evaluation report (mediator)",
             zh="发布预评估报告（调解员）",
             payload=("recommended", "reportHash"), document="reportHash"),
    StepSpec(action="settlement.proposed", record="ProceduralStep",
             command="ProposeSettlement", signers=frozenset({"mediator"}),
             endpoint="proposals",
             done_en="Settlement proposed by the mediator",
             done_zh="调解员提出和解建议",
             en="Propose a settlement (mediator)", zh="提出和解建议（调解员）",
             payload=("offerId", *_ALLOCATION, "expiresAt"), confidential=True),
    StepSpec(action="impasse.declared", record="ProceduralStep", command="DeclareImpasse",
             signers=frozenset({"mediator"}), endpoint="impasse",
             done_en="Impasse declared by the mediator",
             done_zh="调解员宣布调解僵局",
             en="Declare an impasse (mediator)", zh="宣布调解僵局（调解员）", payload=()),
    StepSpec(action="arbitration.agreed", record="ProceduralStep",
             command="AgreeToArbitrate", signers=PARTIES,
             endpoint="arbitration-agreement",
             done_en="Agreement to arbitrate signed",
             done_zh="签署仲裁协议",
             en="Agree to arbitrate", zh="同意提交仲裁", payload=()),
    StepSpec(action="appoint.arbitrator", record="ProceduralStep",
             command="AppointArbitrator", signers=frozenset({"institution"}),
             endpoint="arbitrator",
             done_en="Arbitrator appointed by the institution (conflict check)",
             done_zh="机构指定仲裁员（经利益冲突审查）",
             en="Appoint the arbitrator, with conflict check (admin)",
             zh="指定仲裁员并审查利益冲突（管理员）",
             payload=_APPOINTMENT, appointees=("arbitrator", 1)),
    StepSpec(action="evidence.submitted", record="EvidenceSubmission",
             command="SubmitEvidence", signers=PARTIES, endpoint="evidence-submissions",
             done_en="Evidence submitted (salted commitment signed)",
             done_zh="提交证据（签署加盐承诺值）",
             en="Record an evidence submission (see the evidence upload endpoints)",
             zh="登记证据提交（参见证据上传接口）"),
    StepSpec(action="answer.submitted", record="ProceduralStep", command="SubmitAnswer",
             signers=frozenset({"respondent"}), endpoint="answer",
             done_en="Respondent's answer filed",
             done_zh="被申请人提交答辩",
             en="File the respondent's answer", zh="提交被申请人答辩",
             payload=("answerHash",), document="answerHash"),
    StepSpec(action="record.closed", record="ProceduralStep", command="CloseRecord",
             signers=frozenset({"arbitrator"}), endpoint="close-record",
             done_en="Record closed by the arbitrator",
             done_zh="仲裁员结束举证",
             en="Close the record (arbitrator)", zh="结束举证（仲裁员）", payload=()),
    StepSpec(action="award.issued", record="ProceduralStep", command="IssueAward",
             signers=frozenset({"arbitrator"}), endpoint="award",
             done_en="Award issued by the arbitrator (signed, reasoned)",
             done_zh="仲裁员作出裁决（经签名、附理由）",
             en="Issue the signed, reasoned award (arbitrator; document hashed)",
             zh="作出经签名、附理由的裁决（仲裁员；文书取哈希）",
             fields=(*_ALLOCATION, "awardHash"), document="awardHash",
             attachments=("Award", "ReturnAward"), optional=_NO_RETURN),
    StepSpec(action="award.objected", record="Objection", command="Object",
             signers=PARTIES, endpoint="objection",
             done_en="Objection to the award lodged",
             done_zh="对裁决提出异议",
             en="Object to the award (once per case)", zh="对裁决提出异议（每案一次）",
             fields=("reasonsHash",), document="reasonsHash"),
    StepSpec(action="appoint.panel", record="ProceduralStep", command="AppointPanel",
             signers=frozenset({"institution"}), endpoint="panel",
             done_en="Panel of three appointed by the institution",
             done_zh="机构指定三人仲裁庭",
             en="Appoint the panel of three (admin)", zh="指定三人仲裁庭（管理员）",
             payload=_APPOINTMENT, appointees=("panelist", 3)),
    StepSpec(action="award.panel_signed", record="ProceduralStep", command="IssuePanelAward",
             signers=frozenset({"panelist"}), endpoint="panel-award",
             done_en="Panel award signed by a panel member",
             done_zh="仲裁庭成员签署仲裁庭裁决",
             en="Sign the panel award (panelist)", zh="签署仲裁庭裁决（仲裁庭成员）",
             fields=(*_ALLOCATION, "awardHash"), document="awardHash",
             attachments=("Award",)),
    StepSpec(action="enforcement.requested", record="ProceduralStep", command="Enforce",
             signers=frozenset({ANYONE}), endpoint="enforcement",
             done_en="Enforcement of the final award requested",
             done_zh="申请执行终局裁决",
             en="Submit the final award to the escrow (anyone)",
             zh="将终局裁决提交托管合约执行（任何人）", payload=()),
    StepSpec(action="enforcement.recorded", record="ProceduralStep",
             command="RecordEnforcement", signers=frozenset({"institution"}), endpoint=None,
             done_en="Payout by the escrow recorded by the service",
             done_zh="服务登记托管合约已按裁决付款",
             en="The escrow paid out the award (written by the service)",
             zh="托管合约已按裁决付款（由服务记录）",
             payload=("txHash", *_ALLOCATION, "compensationShortfall")),
    StepSpec(action="court.confirmed", record="CourtConfirmation",
             command="ConfirmJudicially", signers=frozenset({"court"}),
             endpoint="court-decision",
             done_en="Award confirmed by the court",
             done_zh="法院确认裁决",
             en="Record the court's confirmation (court)", zh="登记法院的确认（法院）",
             fields=("packageHash", "courtReference"), confirmed=True),
    StepSpec(action="court.refused", record="CourtConfirmation",
             command="RefuseConfirmation", signers=frozenset({"court"}),
             endpoint="court-decision",
             done_en="Confirmation refused by the court, with reasons",
             done_zh="法院不予确认并说明理由",
             en="Record the court's refusal, with reasons (court)",
             zh="登记法院的不予确认及理由（法院）",
             fields=("packageHash", "courtReference", "reasons"), confirmed=False),
    # the jury track (docs/jury.md)
    StepSpec(action="jury.chosen", record="ProceduralStep", command="ChooseJuryTrack",
             signers=PARTIES, endpoint="jury/choice",
             done_en="Jury of public assessors chosen by a party",
             done_zh="一方当事人选择大众评审团审理",
             en="Choose decision by a jury of public assessors (small claims)",
             zh="选择由大众评审团裁决（小额争议）", payload=()),
    StepSpec(action="jury.seed_committed", record="ProceduralStep", command="CommitJurySeed",
             signers=frozenset({"institution"}), endpoint="jury/seed",
             done_en="Jury draw seed committed, with the pool snapshot and the draw block",
             done_zh="已承诺评审团抽选种子，并固定候选池快照与抽选区块",
             en="Commit the draw seed, the draw block and the pool snapshot (admin)",
             zh="承诺抽选种子、抽选区块与候选池快照（管理员）",
             payload=("seedHash", "drawBlock", "pool", "poolHash"),
             fields=("seedHash", "drawBlock")),  # the snapshot: the service's (prepare)
    StepSpec(action="jury.drawn", record="ProceduralStep", command="DrawJury",
             signers=frozenset({"institution"}), endpoint="jury/draw",
             done_en="Jury drawn: seed revealed, mixed with the block's randomness",
             done_zh="评审团已抽选：公开种子并与区块随机数混合",
             en="Reveal the seed and draw the jury (admin; recomputed by anyone)",
             zh="公开种子并抽选评审团（管理员；任何人可复算）",
             payload=("role", "appointees", "seed", "blockHash", "prevrandao", "options"),
             appointees=("juror", None)),
    StepSpec(action="jury.evidence_marked", record="ProceduralStep", command="MarkForJury",
             signers=PARTIES, endpoint="jury/evidence",
             done_en="Evidence item put before the jury by a party",
             done_zh="一方当事人将证据提交评审团审阅",
             en="Put one of your evidence items before the jury",
             zh="将您的一项证据提交评审团审阅", payload=("evidenceId",)),
    StepSpec(action="jury.accepted", record="ProceduralStep", command="AcceptJuryDuty",
             signers=frozenset({"juror"}), endpoint="jury/acceptance",
             done_en="Jury duty accepted by a juror",
             done_zh="评审员接受评审任务",
             en="Accept to sit on the jury (juror)", zh="接受担任评审员（评审员）",
             payload=()),
    StepSpec(action="jury.vote_committed", record="ProceduralStep", command="CommitVote",
             signers=frozenset({"juror"}), endpoint="jury/votes",
             done_en="Hidden vote committed by a juror",
             done_zh="评审员提交密封投票",
             en="Commit your hidden vote (juror)", zh="提交密封投票（评审员）",
             payload=("commitment", "signature")),
    StepSpec(action="jury.vote_revealed", record="ProceduralStep", command="RevealVote",
             signers=frozenset({"juror"}), endpoint="jury/reveals",
             done_en="Vote revealed by a juror (choice and reason code)",
             done_zh="评审员公开投票（选项与理由代码）",
             en="Reveal your vote after the deadline (juror)",
             zh="投票期满后公开您的投票（评审员）",
             payload=("choice", "reasonCode", "salt")),
    StepSpec(action="jury.tallied", record="ProceduralStep", command="RecordTally",
             signers=frozenset({"institution"}), endpoint="jury/tally",
             done_en="Jury's votes tallied by the institution",
             done_zh="机构统计评审团投票结果",
             en="Sign the tally of the revealed votes (admin)",
             zh="签署已公开投票的统计结果（管理员）",
             payload=("counts", "winner")),
    # the fast track (docs/jury.md "Fast track")
    StepSpec(action="fasttrack.proposed", record="ProceduralStep",
             command="ProposeFastTrack", signers=frozenset({"mediator"}),
             endpoint="fast-track",
             done_en="Fast-track resolution proposed by the mediator (the pre-evaluation, "
                     "with its reasons)",
             done_zh="调解员提出快速程序处理建议（即附理由的预评估）",
             en="Propose the pre-evaluation as the fast-track resolution (mediator; binds "
                "unless a party objects)",
             zh="将预评估作为快速程序处理建议提出（调解员；当事人未异议即生效）",
             payload=("recommended", *_ALLOCATION, "reportHash"), document="reportHash"),
    StepSpec(action="fasttrack.objected", record="ProceduralStep",
             command="ObjectToFastTrack", signers=PARTIES, endpoint="fast-track/objection",
             done_en="Objection to the fast-track proposal lodged",
             done_zh="对快速程序处理建议提出异议",
             en="Object to the fast-track proposal (the jury or an arbitrator decides)",
             zh="对快速程序处理建议提出异议（由评审团或仲裁员裁决）", payload=()),
    # the return stage of a return-and-refund award (docs/procedure.md "Return and refund")
    StepSpec(action="return.shipped", record="ProceduralStep", command="ShipReturn",
             signers=PARTIES, endpoint="return/shipment",
             done_en="Goods shipped back by the buyer (return tracking recorded)",
             done_zh="买方已退货（登记退货运单）",
             en="Record the return shipment: carrier, tracking number and its salted "
                "commitment (buyer; your wallet records the commitment on the escrow)",
             zh="登记退货运单：承运人、运单号及其加盐承诺值（买方；由您的钱包在托管合约登记承诺值）",
             payload=("carrier", "trackingNumber", "tracking")),
    StepSpec(action="return.received", record="ProceduralStep",
             command="ConfirmReturnReceipt", signers=PARTIES, endpoint="return/receipt",
             done_en="Returned goods received, confirmed by the seller: refund paid",
             done_zh="卖方确认收到退货：已退款",
             en="Confirm the returned goods arrived (seller; the escrow refunds the buyer)",
             zh="确认收到退货（卖方；托管合约向买方退款）", payload=()),
    StepSpec(action="return.delivered", record="ProceduralStep",
             command="RecordReturnDelivery", signers=frozenset({"institution"}),
             endpoint=None,
             done_en="Return delivered, by the carrier's origin-verified event: refund paid",
             done_zh="承运人经来源验证的签收事件表明退货已送达：已退款",
             en="The carrier delivered the return shipment (written by the service on the "
                "carrier's origin-verified delivered event)",
             zh="承运人已送达退货（由服务依承运人经来源验证的签收事件记录）",
             payload=("trackingNumber",)),
    StepSpec(action="return.disputed", record="ProceduralStep",
             command="DisputeReturnReceipt", signers=PARTIES, endpoint="return/dispute",
             done_en="Receipt of the return disputed by the seller: an arbitrator decides",
             done_zh="卖方对退货签收提出争议：由仲裁员裁决",
             en="Dispute the return's receipt: nothing arrived, or not the goods (seller; an "
                "arbitrator decides)",
             zh="对退货签收提出争议：未收到或非原货物（卖方；由仲裁员裁决）", payload=()),
    StepSpec(action="appoint.court", record="ProceduralStep", command=None,
             signers=frozenset({"institution"}), endpoint=None,
             done_en="Court given access to the case by the institution",
             done_zh="机构授予法院查阅本案的权限",
             en="Give a court access to the case (written by the service for an admin)",
             zh="授予法院查阅本案的权限（由服务代管理员记录）",
             payload=_APPOINTMENT, appointees=("court", None)),
    StepSpec(action="advance.refunded", record="ProceduralStep", command=None,
             signers=frozenset({"institution"}), endpoint=None,
             done_en="Advance refund paid to the buyer from the seller's guarantee "
                     "(delivery deadline missed)",
             done_zh="卖方逾期未交货，机构从卖方保证金向买方先行退款",
             en="Release an advance refund from the seller's guarantee (admin; the seller "
                "missed the delivery deadline, the contract's rules provide for it)",
             zh="从卖方保证金中先行退款（管理员；卖方逾期未交货且合同所选规则允许）",
             payload=("orderId", "token", "amount", "totalAdvanced", "deliveryDeadline",
                      "rulesVersion")),
    StepSpec(action="institution.key_rotated", record="ProceduralStep", command=None,
             signers=frozenset({"institution"}), endpoint=None,
             done_en="Signing handed over by the institution to a new key",
             done_zh="机构已将签名职能移交给新密钥",
             en="The institution hands its signing over to a new key (signed by the old key)",
             zh="机构将签名职能移交给新密钥（由原密钥签署）",
             payload=_APPOINTMENT, appointees=("institution", 1)),
)

_BY_ACTION: Mapping[str, StepSpec] = {s.action: s for s in STEPS}
assert len(_BY_ACTION) == len(STEPS), "one row per action"

# action -> the role its appointees hold (the verifier derives role holders from these).
APPOINTMENTS: Mapping[str, str] = {s.action: s.appointees[0] for s in STEPS if s.appointees}


def step_of_record(type_name: str, action: str | None, *, confirmed: bool | None = None
                   ) -> StepSpec | None:
    """The row a signed record is a step of: a ``ProceduralStep`` by its ``action``, any
    other record type by its type (and ``confirmed``, when given: a court's decision);
    None when the record is no step of this table."""
    if type_name == "ProceduralStep":
        return _BY_ACTION.get(action) if action is not None else None
    rows = [s for s in STEPS if s.record == type_name
            and (confirmed is None or s.confirmed in (None, confirmed))]
    return rows[0] if rows else None
