"""The pages' two languages: English and Simplified Chinese.

Choice, in order: ``?lang=`` (``en`` or ``zh-Hans``; ``zh``, ``zh-CN`` and ``zh-SG`` mean
``zh-Hans``), then the browser's ``Accept-Language`` by quality, then English. A pure
function of its inputs so the tests can hold it to the header grammar.
"""

from __future__ import annotations

from evidence.steps import STEPS
from evidence.words import STAGES as WORDS_STAGES

__all__ = ["LANGS", "STAGES", "STEP_WORDS", "UI", "T", "negotiate", "register", "step_word",
           "text", "ui"]

LANGS = ("en", "zh-Hans")

_ALIASES = {"en": "en", "zh-hans": "zh-Hans", "zh": "zh-Hans", "zh-cn": "zh-Hans",
            "zh-sg": "zh-Hans", "zh-hans-cn": "zh-Hans"}


def _lang(tag: str) -> str | None:
    tag = tag.strip().lower()
    if tag in _ALIASES:
        return _ALIASES[tag]
    if tag.startswith("en-"):
        return "en"
    return None


def negotiate(query: str | None, accept_language: str | None) -> str:
    """The page language: ``?lang=`` wins, then Accept-Language by q, then English."""
    if query:
        found = _lang(query)
        if found:
            return found
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        found = _lang(tag)
        if found and q > 0:
            ranked.append((-q, i, found))
    return sorted(ranked)[0][2] if ranked else "en"


T: dict[str, dict[str, str]] = {
    "title": {"en": "chainarb — online dispute resolution", "zh-Hans": "chainarb — 在线争议解决"},
    "cases": {"en": "Your cases", "zh-Hans": "我的案件"},
    "case": {"en": "Case", "zh-Hans": "案件"},
    "order": {"en": "Escrow order", "zh-Hans": "托管订单"},
    "stage": {"en": "Stage", "zh-Hans": "程序阶段"},
    "deadline": {"en": "Next deadline", "zh-Hans": "下一期限"},
    "no_cases": {"en": "No cases yet.", "zh-Hans": "暂无案件。"},
    "parties": {"en": "Parties and neutrals", "zh-Hans": "当事人与中立人"},
    "buyer": {"en": "Buyer", "zh-Hans": "买方"},
    "seller": {"en": "Seller", "zh-Hans": "卖方"},
    "claimant": {"en": "Claimant", "zh-Hans": "申请人"},
    "respondent": {"en": "Respondent", "zh-Hans": "被申请人"},
    "mediator": {"en": "Mediator", "zh-Hans": "调解员"},
    "arbitrator": {"en": "Arbitrator", "zh-Hans": "仲裁员"},
    "panel": {"en": "Panel", "zh-Hans": "仲裁庭（三人）"},
    "institution": {"en": "Institution", "zh-Hans": "仲裁机构"},
    "amount": {"en": "Escrowed amount", "zh-Hans": "托管金额"},
    "guarantee": {"en": "Seller's guarantee", "zh-Hans": "卖方保证金"},
    "dispute": {"en": "Dispute", "zh-Hans": "争议类型"},
    "remedy": {"en": "Remedy sought", "zh-Hans": "请求事项"},
    "timeline": {"en": "Timeline", "zh-Hans": "程序时间线"},
    "time": {"en": "Time", "zh-Hans": "时间"},
    "action": {"en": "Step", "zh-Hans": "步骤"},
    "signer": {"en": "Signed by", "zh-Hans": "签名人"},
    "record": {"en": "Record hash", "zh-Hans": "记录哈希"},
    "evidence": {"en": "Evidence", "zh-Hans": "证据"},
    "kind": {"en": "Kind", "zh-Hans": "类别"},
    "submitted_by": {"en": "Submitted by", "zh-Hans": "提交人"},
    "commitment": {"en": "Commitment", "zh-Hans": "承诺值"},
    "readable": {"en": "You may read it", "zh-Hans": "您可查阅"},
    "yes": {"en": "yes", "zh-Hans": "是"},
    "no": {"en": "no (metadata only)", "zh-Hans": "否（仅元数据）"},
    "no_evidence": {"en": "No evidence you may see.", "zh-Hans": "暂无您可查看的证据。"},
    "award": {"en": "Award", "zh-Hans": "裁决"},
    "no_award": {"en": "No award yet.", "zh-Hans": "尚未作出裁决。"},
    "to_buyer": {"en": "To the buyer (refund)", "zh-Hans": "退还买方"},
    "to_seller": {"en": "To the seller", "zh-Hans": "支付卖方"},
    "compensation": {"en": "Compensation from the guarantee", "zh-Hans": "保证金赔偿"},
    "award_hash": {"en": "Award document SHA-256", "zh-Hans": "裁决书 SHA-256"},
    "anchors": {"en": "On-chain anchors", "zh-Hans": "链上存证"},
    "root": {"en": "Merkle root", "zh-Hans": "默克尔根"},
    "chain": {"en": "Chain", "zh-Hans": "链"},
    "tx": {"en": "Transaction", "zh-Hans": "交易"},
    "block": {"en": "Block", "zh-Hans": "区块"},
    "status": {"en": "Status", "zh-Hans": "状态"},
    "no_anchors": {"en": "Nothing anchored yet.", "zh-Hans": "尚无链上存证。"},
    "sign_in": {"en": "Sign in with your wallet", "zh-Hans": "使用钱包登录"},
    "sign_in_button": {"en": "Sign in", "zh-Hans": "登录"},
    "sign_in_help": {
        "en": "Your wallet signs a sign-in message (EIP-4361, personal_sign). No password; "
              "your private key never leaves your wallet.",
        "zh-Hans": "您的钱包将签署一条登录消息（EIP-4361，personal_sign）。无需密码；"
                   "私钥始终保留在您的钱包中。"},
    "no_wallet": {"en": "No wallet found in this browser (window.ethereum). Install one, "
                        "such as MetaMask.",
                  "zh-Hans": "此浏览器中未发现钱包（window.ethereum）。"
                             "请安装钱包，例如 MetaMask。"},
    "signed_in_as": {"en": "Signed in as", "zh-Hans": "当前登录"},
    "sign_out": {"en": "Sign out", "zh-Hans": "退出"},
    "need_sign_in": {"en": "Please sign in to see your cases.",
                     "zh-Hans": "请登录后查看您的案件。"},
    "denied": {"en": "You take no part in this case.", "zh-Hans": "您不是本案参与人。"},
    "not_found": {"en": "No such case.", "zh-Hans": "案件不存在。"},
    "times_local": {"en": "Times are shown in your browser's time zone (stored in UTC).",
                    "zh-Hans": "时间按您浏览器所在时区显示（以 UTC 存储）。"},
    "your_roles": {"en": "Your roles", "zh-Hans": "您的身份"},
    "cid": {"en": "IPFS CID", "zh-Hans": "IPFS 内容标识"},
    "court": {"en": "Court decision", "zh-Hans": "法院决定"},
    # /verify/{digest}: the service's public record of a judicial package
    "pkg_title": {"en": "Judicial package", "zh-Hans": "司法确认材料包"},
    "pkg_digest": {"en": "Package digest (SHA-256 of SHA256SUMS)",
                   "zh-Hans": "材料包摘要（SHA256SUMS 的 SHA-256）"},
    "pkg_manifest": {"en": "SHA-256 of manifest.json (what a court decision names)",
                     "zh-Hans": "manifest.json 的 SHA-256（法院决定所指向的值）"},
    "pkg_notice": {
        "en": "This page is the service's own record of the package: it confirms that the "
              "service issued a package with this digest and shows what happened to it since. "
              "It does not replace checking the package itself, offline and without trusting "
              "the service: chainarb verify PACKAGE.zip, or the steps with public tools in "
              "docs/judicial-package.md.",
        "zh-Hans": "本页是服务方对该材料包的自身记录：它确认服务方签发过具有此摘要的材料包，并显示"
                   "此后的情况。它不能代替对材料包本身的核验——请在不信任服务方的前提下离线运行 "
                   "chainarb verify PACKAGE.zip，或按 docs/judicial-package.md "
                   "以公开工具逐项核验。"},
    "pkg_not_found": {
        "en": "No judicial package with this digest was issued by this service. Check the "
              "digest (sha256sum SHA256SUMS in the unpacked package: 64 hexadecimal digits) "
              "and the address printed on the certificate.",
        "zh-Hans": "本服务未签发具有此摘要的司法确认材料包。请核对摘要（在解压后的材料包中运行 "
                   "sha256sum SHA256SUMS：64 位十六进制数字）及证书上印制的网址。"},
    "pkg_case": {"en": "Case", "zh-Hans": "案件"},
    "pkg_filed": {"en": "Filed", "zh-Hans": "申请时间"},
    "pkg_exports": {"en": "Issued to", "zh-Hans": "签发对象"},
    "pkg_exported_at": {"en": "Downloaded", "zh-Hans": "下载时间"},
    "pkg_court": {"en": "Court", "zh-Hans": "法院"},
    "pkg_chain": {"en": "Chain", "zh-Hans": "链"},
    "pkg_confirmations": {
        "en": "An anchor is confirmed once its block is {n} block(s) deep on its chain.",
        "zh-Hans": "锚定交易所在区块在链上达到 {n} 个区块深度后即为已确认。"},
    "pkg_decision": {"en": "Court's decision on this package", "zh-Hans": "法院对本材料包的决定"},
    "pkg_outcome": {"en": "Decision", "zh-Hans": "决定"},
    "pkg_no_decision": {"en": "No court decision on this package is recorded yet.",
                        "zh-Hans": "尚未登记法院对本材料包的决定。"},
    "pkg_confirmed": {"en": "confirmed", "zh-Hans": "确认"},
    "pkg_refused": {"en": "confirmation refused", "zh-Hans": "不予确认"},
    "pkg_reference": {"en": "Court reference", "zh-Hans": "法院案号"},
    "pkg_units": {"en": "{amount} (smallest units of the token)",
                  "zh-Hans": "{amount}（代币最小单位）"},
    "anchor_confirmed": {"en": "confirmed", "zh-Hans": "已确认"},
    "anchor_sent": {"en": "sent, not yet confirmed", "zh-Hans": "已发送，尚未确认"},
    "anchor_pending": {"en": "pending", "zh-Hans": "待发送"},
    "anchor_failed": {"en": "failed (its records went to a later batch)",
                      "zh-Hans": "失败（其记录已转入后续批次）"},
}

# Stage names: the case vocabulary's (evidence/words.py), shared with the judicial package.
STAGES: dict[str, dict[str, str]] = {k: {"en": en, "zh-Hans": zh}
                                     for k, (en, zh) in WORDS_STAGES.items()}


def text(key: str, lang: str) -> str:
    return T[key][lang]


# The case page's actions: labels, and the API's error codes as the user reads them.
UI: dict[str, dict[str, str]] = {
    "your_steps": {"en": "What you can do now", "zh-Hans": "您现在可以办理的步骤"},
    "nothing_now": {"en": "Nothing for you to sign at this stage.",
                    "zh-Hans": "本阶段暂无需要您签署的步骤。"},
    "other_steps": {"en": "Also open to you (through the API):",
                    "zh-Hans": "您还可以（通过 API）办理："},
    "make_offer": {"en": "Make a settlement offer", "zh-Hans": "提出和解要约"},
    "to_buyer_label": {"en": "Refund to the buyer ({currency})",
                       "zh-Hans": "退还买方金额（{currency}）"},
    "amount_hint": {"en": "Up to {amount}, at most {decimals} decimals; the rest goes to the "
                          "seller.",
                    "zh-Hans": "最多 {amount}，最多 {decimals} 位小数；其余支付卖方。"},
    "compensation_label": {"en": "Compensation from the guarantee ({currency})",
                           "zh-Hans": "保证金赔偿（{currency}）"},
    "compensation_hint": {"en": "Up to {amount}.", "zh-Hans": "最多 {amount}。"},
    "days_label": {"en": "Open for (days)", "zh-Hans": "有效期（天）"},
    "sign_offer": {"en": "Sign and send offer", "zh-Hans": "签署并发送要约"},
    "offer_terms": {"en": "Buyer {buyer} · seller {seller} · compensation {comp}",
                    "zh-Hans": "买方 {buyer} · 卖方 {seller} · 赔偿 {comp}"},
    "expires": {"en": "expires", "zh-Hans": "到期"},
    "your_offer": {"en": "Your open offer", "zh-Hans": "您的有效要约"},
    "withdraw_offer": {"en": "Sign and withdraw offer", "zh-Hans": "签署并撤回要约"},
    "offer_to_you": {"en": "Offer from the other party", "zh-Hans": "对方的和解要约"},
    "accept_offer": {"en": "Sign and accept offer", "zh-Hans": "签署并接受要约"},
    "upload_evidence": {"en": "Upload evidence", "zh-Hans": "上传证据"},
    "kind_label": {"en": "Kind of evidence", "zh-Hans": "证据类别"},
    "file_label": {"en": "File", "zh-Hans": "文件"},
    "file_hint": {"en": "Encrypted and stored in IPFS; you sign its commitment.",
                  "zh-Hans": "文件将加密后存入 IPFS；您签署其承诺值。"},
    "sign_upload": {"en": "Upload and sign", "zh-Hans": "上传并签署"},
    "kind_photo": {"en": "Photo", "zh-Hans": "照片"},
    "kind_invoice": {"en": "Invoice", "zh-Hans": "发票"},
    "kind_contract": {"en": "Contract", "zh-Hans": "合同"},
    "kind_communication": {"en": "Communication", "zh-Hans": "往来沟通记录"},
    "kind_video": {"en": "Video", "zh-Hans": "视频"},
    "kind_tracking_record": {"en": "Tracking record", "zh-Hans": "物流跟踪记录"},
    "kind_delivery_confirmation": {"en": "Delivery confirmation", "zh-Hans": "签收确认"},
    "kind_inspection_report": {"en": "Inspection report", "zh-Hans": "检验报告"},
    "kind_other": {"en": "Other", "zh-Hans": "其他"},
    "agree_title": {"en": "Agree to arbitrate", "zh-Hans": "同意仲裁"},
    "agree_text": {"en": "You agree that an arbitrator decides this dispute with a binding "
                         "award.", "zh-Hans": "您同意由仲裁员以具有约束力的裁决解决本争议。"},
    "sign_agree": {"en": "Sign the arbitration agreement", "zh-Hans": "签署仲裁协议"},
    "answer_title": {"en": "Answer the claim", "zh-Hans": "提交答辩"},
    "answer_label": {"en": "Your answer (document)", "zh-Hans": "答辩书（文件）"},
    "sign_answer": {"en": "Sign and submit answer", "zh-Hans": "签署并提交答辩"},
    "objection_title": {"en": "Object to the award", "zh-Hans": "对裁决提出异议"},
    "reasons_label": {"en": "Your reasons", "zh-Hans": "异议理由"},
    "sign_objection": {"en": "Sign and object", "zh-Hans": "签署并提出异议"},
    "close_title": {"en": "Close the record", "zh-Hans": "终结审理"},
    "close_text": {"en": "No further evidence will be accepted.",
                   "zh-Hans": "此后不再接受新的证据。"},
    "sign_close": {"en": "Sign and close the record", "zh-Hans": "签署并终结审理"},
    "facilitation_title": {"en": "Ask for a mediator", "zh-Hans": "申请调解"},
    "facilitation_text": {"en": "The institution appoints a mediator who helps both sides "
                                "settle; nothing is decided against you.",
                          "zh-Hans": "仲裁机构将指定调解员协助双方和解；不会作出对您不利的决定。"},
    "sign_facilitation": {"en": "Sign and ask for a mediator", "zh-Hans": "签署并申请调解"},
    "enforce_title": {"en": "Submit the award to the escrow", "zh-Hans": "提交裁决至托管合约执行"},
    "enforce_text": {"en": "The award is final; the escrow contract pays it out as decided.",
                     "zh-Hans": "裁决已生效；托管合约将按裁决支付。"},
    "sign_enforce": {"en": "Sign and request enforcement", "zh-Hans": "签署并申请执行"},
    "preeval_title": {"en": "Publish the pre-evaluation report",
                      "zh-Hans": "发布预评估报告"},
    "preeval_text": {"en": "The service's rule-based report, which reads the carrier's "
                           "tracking from the order's performance evidence, is published as "
                           "the case's non-binding pre-evaluation.",
                     "zh-Hans": "服务根据订单履约证据中的物流跟踪生成基于规则的报告，"
                                "并作为本案不具约束力的预评估发布。"},
    "tracking_from_evidence": {"en": "As the order's performance evidence shows (recommended)",
                               "zh-Hans": "以订单履约证据为准（推荐）"},
    "tracking_whatif": {"en": "What if the status were … (the report is marked a hypothesis)",
                        "zh-Hans": "假设物流状态为……（报告将注明为假设）"},
    "tracking_label": {"en": "Carrier tracking status", "zh-Hans": "物流跟踪状态"},
    "tracking_delivered": {"en": "Delivered", "zh-Hans": "已送达"},
    "tracking_delivered_signed": {"en": "Delivered and signed for", "zh-Hans": "已签收"},
    "tracking_in_transit": {"en": "In transit", "zh-Hans": "运输中"},
    "tracking_no_tracking": {"en": "No tracking", "zh-Hans": "无物流跟踪"},
    "tracking_lost": {"en": "Lost", "zh-Hans": "丢失"},
    "tracking_damaged": {"en": "Damaged", "zh-Hans": "损坏"},
    "tracking_returned_to_sender": {"en": "Returned to sender", "zh-Hans": "退回发件人"},
    "sign_preeval": {"en": "Sign and publish report", "zh-Hans": "签署并发布报告"},
    "propose_title": {"en": "Propose a settlement", "zh-Hans": "提出调解方案"},
    "sign_propose": {"en": "Sign and propose", "zh-Hans": "签署并提出方案"},
    "fast_track_title": {"en": "Propose the fast-track resolution",
                         "zh-Hans": "提出快速程序处理建议"},
    "fast_track_text": {"en": "The rule-based pre-evaluation of the order's performance "
                              "evidence, with its reasons, is proposed as the resolution of "
                              "this small claim: it binds and the escrow pays it out unless a "
                              "party objects within the short window.",
                        "zh-Hans": "基于订单履约证据的规则化预评估（附理由）"
                                   "将作为本小额争议的处理建议："
                                   "如当事人未在较短的异议期内提出异议，"
                                   "即具有约束力并由托管合约执行付款。"},
    "sign_fast_track": {"en": "Sign and propose", "zh-Hans": "签署并提出建议"},
    "fast_track_objection_title": {"en": "Object to the fast-track proposal",
                                   "zh-Hans": "对快速程序处理建议提出异议"},
    "fast_track_objection_text": {"en": "The proposal will not bind you: the jury or a sole "
                                        "arbitrator decides instead, and their decision is "
                                        "final (this is your one objection).",
                                  "zh-Hans": "该建议将不对您产生约束力："
                                             "改由评审团或独任仲裁员裁决，"
                                             "其裁决为终局（这是您唯一的一次异议）。"},
    "sign_fast_track_objection": {"en": "Sign the objection", "zh-Hans": "签署异议"},
    # the return stage (docs/procedure.md "Return and refund")
    "return_shipment_title": {"en": "Record your return shipment",
                              "zh-Hans": "登记您的退货运单"},
    "return_shipment_text": {"en": "Ship the goods back and name the carrier and the "
                                   "tracking number. Your browser makes a salted commitment "
                                   "to them; your wallet records it on the escrow. The "
                                   "carrier's delivery event, or the seller, confirms the "
                                   "receipt: then the escrow refunds you.",
                             "zh-Hans": "请将货物退回并填写承运人与运单号。"
                                        "浏览器据此生成加盐承诺值，由您的钱包在托管合约登记。"
                                        "承运人的签收事件或卖方确认收货后，托管合约向您退款。"},
    "carrier_label": {"en": "Carrier", "zh-Hans": "承运人"},
    "tracking_number_label": {"en": "Tracking number", "zh-Hans": "运单号"},
    "sign_return_shipment": {"en": "Sign the return shipment", "zh-Hans": "签署退货运单"},
    "return_receipt_title": {"en": "Confirm the returned goods arrived",
                             "zh-Hans": "确认收到退货"},
    "return_receipt_text": {"en": "The escrow then refunds the buyer as the award says. If "
                                  "you neither confirm nor dispute before the deadline, the "
                                  "goods are deemed received.",
                            "zh-Hans": "确认后托管合约即按裁决向买方退款。"
                                       "如您在期限内既不确认也不提出争议，视为已收到退货。"},
    "sign_return_receipt": {"en": "Sign the receipt", "zh-Hans": "签署收货确认"},
    "return_dispute_title": {"en": "Dispute the return's receipt",
                             "zh-Hans": "对退货签收提出争议"},
    "return_dispute_text": {"en": "Nothing arrived, or not the goods: an arbitrator decides "
                                  "the return; your wallet also disputes it on the escrow.",
                            "zh-Hans": "未收到货物或非原货物：由仲裁员对退货作出裁决；"
                                       "您的钱包亦须在托管合约提出争议。"},
    "sign_return_dispute": {"en": "Sign the dispute", "zh-Hans": "签署争议"},
    "impasse_title": {"en": "Declare an impasse", "zh-Hans": "宣布调解不成"},
    "impasse_text": {"en": "Mediation ends without settlement; the case moves to "
                           "arbitration if the parties agreed to it, else to the courts.",
                     "zh-Hans": "调解终结且未达成和解；如双方已同意仲裁，案件转入仲裁，"
                                "否则可向法院起诉。"},
    "sign_impasse": {"en": "Sign and declare impasse", "zh-Hans": "签署并宣布调解不成"},
    "appoint_text": {"en": "You sign the appointment; the service records it signed by the "
                           "institution's key after the conflict check.",
                     "zh-Hans": "由您签署指定；服务经利益冲突审查后以仲裁机构密钥签署记录。"},
    "appoint_mediator_title": {"en": "Appoint the mediator", "zh-Hans": "指定调解员"},
    "appoint_mediator_label": {"en": "Mediator's wallet address",
                               "zh-Hans": "调解员钱包地址"},
    "appoint_arbitrator_title": {"en": "Appoint the arbitrator", "zh-Hans": "指定仲裁员"},
    "appoint_arbitrator_label": {"en": "Arbitrator's wallet address",
                                 "zh-Hans": "仲裁员钱包地址"},
    "appoint_panel_title": {"en": "Appoint the panel of three", "zh-Hans": "组成三人仲裁庭"},
    "panelist_label": {"en": "Panel member {n}: wallet address",
                       "zh-Hans": "仲裁庭成员 {n}：钱包地址"},
    "address_hint": {"en": "0x followed by 40 hex digits.",
                     "zh-Hans": "以 0x 开头，后接 40 位十六进制数字。"},
    "sign_appoint": {"en": "Sign the appointment", "zh-Hans": "签署指定"},
    "award_title": {"en": "Issue the award", "zh-Hans": "作出裁决"},
    "panel_award_title": {"en": "Sign the panel award", "zh-Hans": "签署合议庭裁决"},
    "award_doc_label": {"en": "Reasoned award (document)", "zh-Hans": "附理由的裁决书（文件）"},
    "award_doc_hint": {"en": "Stored with the case; its SHA-256 is signed in the award.",
                       "zh-Hans": "随案件存储；其 SHA-256 将在裁决中签署。"},
    "sign_award": {"en": "Sign the award", "zh-Hans": "签署裁决"},
    "confirm_title": {"en": "Confirm the award (court)", "zh-Hans": "司法确认（法院）"},
    "refuse_title": {"en": "Refuse confirmation (court)", "zh-Hans": "不予确认（法院）"},
    "package_hash_label": {"en": "Judicial package hash", "zh-Hans": "司法材料包哈希"},
    "package_hash_hint": {"en": "The hash `chainarb verify` printed for the package you "
                                "verified (0x + 64 hex digits).",
                          "zh-Hans": "您核验材料包时 `chainarb verify` 输出的哈希"
                                     "（0x 加 64 位十六进制数字）。"},
    "court_reference_label": {"en": "Court reference", "zh-Hans": "法院案号"},
    "refusal_reasons_label": {"en": "Reasons for refusing", "zh-Hans": "不予确认的理由"},
    "sign_confirm": {"en": "Sign the confirmation", "zh-Hans": "签署确认"},
    "sign_refuse": {"en": "Sign the refusal", "zh-Hans": "签署不予确认"},
    "signing": {"en": "Waiting for your wallet…", "zh-Hans": "等待钱包签名…"},
    "done": {"en": "Done. Stage:", "zh-Hans": "已完成。当前阶段："},
    "refresh": {"en": "Refresh the page", "zh-Hans": "刷新页面"},
    "left": {"en": "{d} d {h}:{m}:{s} left", "zh-Hans": "剩余 {d} 天 {h}:{m}:{s}"},
    "passed": {"en": "deadline passed", "zh-Hans": "期限已过"},
    "err_unknown": {"en": "The step was not accepted.", "zh-Hans": "该步骤未被接受。"},
    "err_amount_required": {"en": "Enter an amount.", "zh-Hans": "请输入金额。"},
    "err_amount_format": {"en": "Enter the amount as digits with an optional decimal point, "
                                "e.g. 48.5 (no signs, spaces or thousands separators).",
                          "zh-Hans": "请以数字输入金额，可带小数点，例如 48.5"
                                     "（不含符号、空格或千位分隔符）。"},
    "err_amount_decimals": {"en": "At most {decimals} decimals: {currency}'s smallest unit is "
                                  "{unit}.",
                            "zh-Hans": "最多 {decimals} 位小数：{currency} 的最小单位是 {unit}。"},
    "err_amount_too_large": {"en": "The refund cannot exceed the escrowed amount.",
                             "zh-Hans": "退款金额不能超过托管金额。"},
    "err_compensation_too_large": {"en": "The compensation cannot exceed the guarantee.",
                                   "zh-Hans": "赔偿金额不能超过保证金。"},
    "err_days_range": {"en": "Choose between 1 and 30 days.", "zh-Hans": "请选择 1 至 30 天。"},
    "err_file_required": {"en": "Choose a file first.", "zh-Hans": "请先选择文件。"},
    "err_reasons_required": {"en": "Give your reasons.", "zh-Hans": "请填写理由。"},
    "err_carrier_required": {"en": "Name the carrier.", "zh-Hans": "请填写承运人。"},
    "err_tracking_required": {"en": "Give the tracking number.", "zh-Hans": "请填写运单号。"},
    "err_no_wallet": {"en": "No wallet found in this browser.",
                      "zh-Hans": "此浏览器中未发现钱包。"},
    "err_other_account": {"en": "Your wallet's account is not the one signed in here; "
                                "switch accounts or sign in again.",
                          "zh-Hans": "钱包当前账户与登录账户不一致；请切换账户或重新登录。"},
    "err_wallet_refused": {"en": "Your wallet did not sign; nothing was sent.",
                           "zh-Hans": "钱包未签名；未发送任何内容。"},
    "err_commitment_mismatch": {"en": "The service offered a commitment that is not of your "
                                      "file; nothing was signed.",
                                "zh-Hans": "服务提供的承诺值与您的文件不符；未签署。"},
    "err_stale_sequence": {"en": "Someone else acted on this case first. Refresh the page "
                                 "to see the new state, then try again.",
                           "zh-Hans": "其他人已先对本案办理了步骤。请刷新页面查看最新状态后重试。"},
    "err_duplicate_action": {"en": "This step was already taken. Refresh the page.",
                             "zh-Hans": "该步骤已办理。请刷新页面。"},
    "err_wrong_stage": {"en": "This step is not open at the case's current stage.",
                        "zh-Hans": "案件当前阶段不能办理此步骤。"},
    "err_wrong_actor": {"en": "You may not take this step.", "zh-Hans": "您无权办理此步骤。"},
    "err_case_closed": {"en": "The case is closed.", "zh-Hans": "案件已终结。"},
    "err_deadline_passed": {"en": "The deadline for this step has passed.",
                            "zh-Hans": "此步骤的期限已过。"},
    "err_unknown_offer": {"en": "That offer no longer exists.", "zh-Hans": "该要约已不存在。"},
    "err_invalid_command": {"en": "The service refused the step's content.",
                            "zh-Hans": "服务拒绝了该步骤的内容。"},
    "err_invalid_signature": {"en": "The signature is not valid.", "zh-Hans": "签名无效。"},
    "err_malleable_signature": {"en": "The signature is not valid.", "zh-Hans": "签名无效。"},
    "err_wrong_signer": {"en": "The record was signed by another account.",
                         "zh-Hans": "该记录由其他账户签署。"},
    "err_replay": {"en": "The record belongs to another case or deployment.",
                   "zh-Hans": "该记录属于其他案件或部署。"},
    "err_auth_required": {"en": "Your session has ended; sign in again.",
                          "zh-Hans": "登录已失效；请重新登录。"},
    "err_access_denied": {"en": "You have no access to this.", "zh-Hans": "您无权访问。"},
    "err_bad_submission": {"en": "The service refused the submission.",
                           "zh-Hans": "服务拒绝了此次提交。"},
    "err_payload_mismatch": {"en": "The signed content does not match what was sent.",
                             "zh-Hans": "签署的内容与发送的内容不一致。"},
    "err_upload_too_large": {"en": "The file is too large.", "zh-Hans": "文件过大。"},
    "err_unsupported_media_type": {"en": "This kind of file is not accepted.",
                                   "zh-Hans": "不接受此类文件。"},
    "err_body_too_large": {"en": "The request is too large.", "zh-Hans": "请求过大。"},
    "err_address_format": {"en": "Enter a wallet address: 0x followed by 40 hex digits.",
                           "zh-Hans": "请输入钱包地址：以 0x 开头，后接 40 位十六进制数字。"},
    "err_invalid_address": {"en": "That address is not valid (check its capital letters).",
                            "zh-Hans": "地址无效（请检查大小写）。"},
    "err_hash_format": {"en": "Enter the hash as 0x followed by 64 hex digits.",
                        "zh-Hans": "请按 0x 加 64 位十六进制数字的格式输入哈希。"},
    "err_reference_required": {"en": "Enter the court's reference.",
                               "zh-Hans": "请填写法院案号。"},
    "err_prepared_mismatch": {"en": "The service prepared something other than what you "
                                    "entered; nothing was signed.",
                              "zh-Hans": "服务准备的内容与您填写的不一致；未签署。"},
    "err_bad_payload": {"en": "Some of the step's details are missing or malformed.",
                        "zh-Hans": "该步骤的部分信息缺失或格式错误。"},
    "err_invalid_record": {"en": "A value is outside what the record allows.",
                           "zh-Hans": "某项数值超出记录允许的范围。"},
    "err_conflict_of_interest": {"en": "That person cannot be appointed: a party, an admin or "
                                       "a court, a neutral whose earlier seat in this case "
                                       "excludes this one, or someone with a declared "
                                       "relationship with a party.",
                                 "zh-Hans": "不能指定此人：其为当事人、机构管理员或法院，或在本案中"
                                            "已担任与此不相容的职务，或与一方当事人存在已申报的关系。"},
    "err_invalid_allocation": {"en": "The amounts do not add up to the escrowed amount or "
                                     "exceed the guarantee.",
                               "zh-Hans": "金额合计与托管金额不符或超过保证金。"},
    "err_clock_skew": {"en": "Your step's time is off; refresh the page and sign again.",
                       "zh-Hans": "步骤时间有误；请刷新页面后重新签署。"},
    "err_http_500": {"en": "The service failed; try again later.",
                     "zh-Hans": "服务出错；请稍后重试。"},
}


def ui(key: str, lang: str) -> str:
    return UI[key][lang]


def register(table: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Add a page module's own words to ``UI`` (so ``ui()`` finds them and the translation
    tests see them), refusing at import a key already taken or a word missing a language."""
    for key, words in table.items():
        missing = [lang for lang in LANGS if not words.get(lang, "").strip()]
        if missing:
            raise ValueError(f"UI word {key!r} has no text in {', '.join(missing)}")
        if key in UI and UI[key] != words:
            raise ValueError(f"UI word {key!r} is declared twice")
    UI.update(table)
    return table


# What each step is called, in both languages: the step table's (evidence/steps.py).
STEP_WORDS: dict[str, dict[str, str]] = {s.action: {"en": s.en, "zh-Hans": s.zh} for s in STEPS}


def step_word(action: str, lang: str) -> str:
    """The step's name in ``lang``; the action itself for a step the table does not know
    (a default the institution records: ``deadline_missed.<stage>``)."""
    words = STEP_WORDS.get(action)
    return words[lang] if words else action
