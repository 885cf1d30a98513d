"""The pages' two languages: English and Simplified Chinese.

Choice, in order: ``?lang=`` (``en`` or ``zh-Hans``; ``zh``, ``zh-CN`` and ``zh-SG`` mean
``zh-Hans``), then the browser's ``Accept-Language`` by quality, then English. A pure
function of its inputs so the tests can hold it to the header grammar.
"""

from __future__ import annotations

__all__ = ["LANGS", "STAGES", "T", "negotiate", "text"]

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
}

STAGES: dict[str, dict[str, str]] = {
    "not_filed": {"en": "not filed", "zh-Hans": "未立案"},
    "filed": {"en": "filed", "zh-Hans": "已立案"},
    "negotiation": {"en": "negotiation", "zh-Hans": "协商"},
    "facilitation": {"en": "facilitated settlement", "zh-Hans": "调解"},
    "arbitrator_appointment": {"en": "arbitrator appointment", "zh-Hans": "指定仲裁员"},
    "evidence": {"en": "evidence period", "zh-Hans": "举证期"},
    "record_closed": {"en": "record closed", "zh-Hans": "审理终结"},
    "awarded": {"en": "awarded (objection window)", "zh-Hans": "已裁决（异议期）"},
    "panel_appointment": {"en": "panel appointment", "zh-Hans": "组成合议庭"},
    "panel": {"en": "panel deliberating", "zh-Hans": "合议庭审理"},
    "awarded_by_panel": {"en": "awarded by the panel", "zh-Hans": "合议庭已裁决"},
    "final": {"en": "final award", "zh-Hans": "裁决生效"},
    "enforced": {"en": "enforced on-chain", "zh-Hans": "已在链上执行"},
    "settled": {"en": "settled", "zh-Hans": "已和解"},
    "closed_for_litigation": {"en": "closed (courts open)", "zh-Hans": "终止（可诉讼）"},
    "judicially_confirmed": {"en": "judicially confirmed", "zh-Hans": "已司法确认"},
    "confirmation_refused": {"en": "confirmation refused", "zh-Hans": "不予确认"},
}


def text(key: str, lang: str) -> str:
    return T[key][lang]
