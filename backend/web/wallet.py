"""The pages' wallet: what every page loads, the sign-in page built around it, the chain relay.

Why a wallet in the page: most buyers and small sellers have no browser extension. The
built-in wallet (``static/wallet.js``, built from ``src/wallet.js`` with the pinned ethers)
makes the key in the browser and keeps it there as a keystore v3 (scrypt) under the
person's passphrase; the server never holds it. Extension wallets keep working (EIP-6963,
else ``window.ethereum``). Both sit behind one ``window.chainarbWallet`` (docs/portal/wallet.md).

* ``wallet_head(lang, context)``: the tags ``page()`` puts on every page — the script, its
  style, the words its signing prompt shows, in the page's language, and the page's context
  (``wallet_context``: the service's chain, the case's token, the names of the people the
  page knows), each a JSON block, no inline code.
* ``GET /ui/sign-in``: new wallet / unlock / restore from the recovery file / extension.
* ``POST /ui/chain/rpc``: the built-in wallet's way to the service's chain — an allow-list of
  JSON-RPC reads plus ``eth_sendRawTransaction`` (signed in the browser), one call per
  request, bounded body, signed-in pages only. The server signs nothing for a person.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, NotRequired

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from typing_extensions import TypedDict

from evidence import safejson
from evidence.errors import FormatError
from evidence.records import Award
from evidence.safejson import JsonObject
from evidence.words import RECORD_FIELDS, RECORD_TYPES, ROLES, SIDES, word

from .desk import e as _e
from .i18n import LANGS, STEP_WORDS, register, ui
from .people import names_for

if TYPE_CHECKING:
    from backend.api.context import AppContext
    from backend.services.views import CaseViewJson

__all__ = ["MAX_RPC_BYTES", "RELAY_METHODS", "router", "wallet_context", "wallet_head",
           "wallet_words"]

router = APIRouter(include_in_schema=False)  # mounted under /ui by pages.router

MAX_RPC_BYTES = 128 * 1024  # a raw transaction with a large calldata fits; nothing else needs more
# What the page may ask the chain through the relay: reads a wallet needs to build and follow
# a transaction, and sending one it signed itself. No account, signing or node-admin method.
RELAY_METHODS = frozenset({
    "eth_chainId", "net_version", "eth_blockNumber", "eth_getBalance", "eth_getCode",
    "eth_getTransactionCount", "eth_call", "eth_estimateGas", "eth_gasPrice",
    "eth_maxPriorityFeePerGas", "eth_feeHistory", "eth_getBlockByNumber",
    "eth_getTransactionByHash", "eth_getTransactionReceipt", "eth_sendRawTransaction",
})

WORDS = register({
    "wallet_prompt_title": {"en": "Sign with your wallet", "zh-Hans": "用钱包签名"},
    "wallet_show_address": {"en": "Show the address", "zh-Hans": "显示地址"},
    "wallet_you": {"en": "you", "zh-Hans": "您"},
    "wallet_escrow": {"en": "the escrow contract", "zh-Hans": "托管合约"},
    "wallet_what": {"en": "You are asked to sign:", "zh-Hans": "请求您签署："},
    "wallet_signer": {"en": "Signing as", "zh-Hans": "签署账户"},
    "wallet_passphrase": {"en": "Passphrase of your wallet", "zh-Hans": "钱包密码"},
    "wallet_sign": {"en": "Sign", "zh-Hans": "签署"},
    "wallet_cancel": {"en": "Cancel", "zh-Hans": "取消"},
    "wallet_unlocking": {"en": "Unlocking…", "zh-Hans": "正在解锁…"},
    "wallet_message": {"en": "a message", "zh-Hans": "一条消息"},
    "wallet_sign_in_message": {"en": "signing in to this service (EIP-4361 message)",
                               "zh-Hans": "登录本服务（EIP-4361 消息）"},
    "wallet_transaction": {"en": "a transaction on the chain", "zh-Hans": "一笔链上交易"},
    "wallet_to": {"en": "to", "zh-Hans": "接收方"},
    "wallet_value": {"en": "value", "zh-Hans": "金额"},
    "wallet_data": {"en": "call", "zh-Hans": "调用"},
    "wallet_domain": {"en": "for", "zh-Hans": "用于"},
    "wallet_chain": {"en": "chain", "zh-Hans": "链"},
    "wallet_yes": {"en": "yes", "zh-Hans": "是"},
    "wallet_no": {"en": "no", "zh-Hans": "否"},
    "wallet_err_none": {"en": "No wallet in this browser yet: create one or restore yours.",
                        "zh-Hans": "此浏览器中尚无钱包：请新建或恢复钱包。"},
    "wallet_err_exists": {"en": "This browser already keeps a wallet. Download its recovery "
                                "file and remove it first.",
                          "zh-Hans": "此浏览器已保存一个钱包。请先下载其恢复文件并将其移除。"},
    "wallet_err_short_passphrase": {"en": "The passphrase needs at least 10 characters.",
                                    "zh-Hans": "密码至少需要 10 个字符。"},
    "wallet_err_mismatch": {"en": "The two passphrases differ.",
                            "zh-Hans": "两次输入的密码不一致。"},
    "wallet_err_wrong_passphrase": {"en": "Wrong passphrase.", "zh-Hans": "密码错误。"},
    "wallet_err_bad_file": {"en": "This is not a wallet recovery file (keystore v3).",
                            "zh-Hans": "这不是钱包恢复文件（keystore v3）。"},
    "wallet_err_no_file": {"en": "Choose your recovery file first.",
                           "zh-Hans": "请先选择恢复文件。"},
    "wallet_err_rejected": {"en": "You did not sign; nothing was sent.",
                            "zh-Hans": "您未签名；未发送任何内容。"},
    "wallet_err_busy": {"en": "Another signing request is open.",
                        "zh-Hans": "另一个签名请求尚未处理。"},
    "wallet_err_no_extension": {"en": "No extension wallet found in this browser.",
                                "zh-Hans": "此浏览器中未发现扩展钱包。"},
    "wallet_err_choose_extension": {"en": "Several wallets are installed: choose one.",
                                    "zh-Hans": "已安装多个钱包：请选择一个。"},
    "wallet_err_no_account": {"en": "The wallet offered no account.",
                              "zh-Hans": "钱包未提供账户。"},
    "wallet_err_bad_request": {"en": "The page asked for something the wallet cannot sign.",
                               "zh-Hans": "页面请求的内容无法由钱包签署。"},
    "wallet_err_relay": {"en": "The service could not reach its chain.",
                         "zh-Hans": "服务无法连接其区块链。"},
    "wallet_err_chain": {"en": "The chain refused the transaction.",
                         "zh-Hans": "区块链拒绝了该交易。"},
    "wallet_err_sign_in": {"en": "Sign-in failed.", "zh-Hans": "登录失败。"},
    "wallet_err_wrong_chain": {"en": "Your wallet is on another chain than this service's "
                                     "and did not switch.",
                               "zh-Hans": "您的钱包所在的链与本服务不同，且未能切换。"},
    "wallet_err_timeout": {"en": "The transaction was not mined in time; look again later.",
                           "zh-Hans": "交易未能及时上链；请稍后再查看。"},
    "wallet_passkey_too": {"en": "Your passkey will be asked for too.",
                           "zh-Hans": "还需要验证您的通行密钥。"},
    "wallet_err_passkey_refused": {"en": "The passkey was not used; nothing was unlocked.",
                                   "zh-Hans": "未使用通行密钥；钱包未解锁。"},
    "wallet_err_passkey_failed": {"en": "This passkey does not open this wallet.",
                                  "zh-Hans": "此通行密钥无法打开该钱包。"},
    "wallet_err_passkey_no_prf": {
        "en": "This passkey cannot protect a wallet (it lacks the PRF extension).",
        "zh-Hans": "此通行密钥无法保护钱包（不支持 PRF 扩展）。"},
    "wallet_err_passkey_already": {"en": "The wallet is already protected by a passkey.",
                                   "zh-Hans": "该钱包已受通行密钥保护。"},
    "wallet_err_passphrase_first": {"en": "Type the wallet's passphrase first.",
                                    "zh-Hans": "请先输入钱包密码。"},
    # The sign-in page.
    "signin_title": {"en": "Sign in", "zh-Hans": "登录"},
    "signin_intro": {
        "en": "You sign in with a wallet: a key only you hold signs a sign-in message. No "
              "password is sent to the service and your key never leaves your browser.",
        "zh-Hans": "您使用钱包登录：由只有您持有的密钥签署一条登录消息。"
                   "不会向服务发送密码，您的密钥也不会离开您的浏览器。"},
    "signin_unlock_h": {"en": "Your wallet in this browser", "zh-Hans": "此浏览器中的钱包"},
    "signin_unlock_text": {"en": "Account", "zh-Hans": "账户"},
    "signin_unlock_button": {"en": "Unlock and sign in", "zh-Hans": "解锁并登录"},
    "signin_download": {"en": "Download the recovery file", "zh-Hans": "下载恢复文件"},
    "signin_forget": {"en": "Remove this wallet from this browser",
                      "zh-Hans": "从此浏览器移除该钱包"},
    "signin_forget_confirm": {
        "en": "Remove the wallet from this browser? Without its recovery file and "
              "passphrase you cannot sign as this account again.",
        "zh-Hans": "从此浏览器移除该钱包？没有恢复文件和密码，您将无法再以此账户签名。"},
    "signin_passkey_on": {"en": "Protected by a passkey: unlocking needs the passkey and the "
                                "passphrase.",
                          "zh-Hans": "已受通行密钥保护：解锁需要通行密钥和密码。"},
    "signin_passkey_off": {"en": "Optionally, a passkey (this device's screen lock or a "
                                 "security key) can protect the wallet as well.",
                           "zh-Hans": "您还可以选择用通行密钥（本设备的屏幕锁或安全密钥）"
                                      "保护钱包。"},
    "signin_passkey_protect": {"en": "Protect with a passkey", "zh-Hans": "用通行密钥保护"},
    "signin_passkey_remove": {"en": "Stop using the passkey", "zh-Hans": "停止使用通行密钥"},
    "signin_passkey_wait": {"en": "Follow your browser's passkey prompt…",
                            "zh-Hans": "请按浏览器的通行密钥提示操作…"},
    "signin_passkey_added": {"en": "The wallet is now protected by your passkey.",
                             "zh-Hans": "钱包现已受您的通行密钥保护。"},
    "signin_passkey_removed": {"en": "The wallet is protected by its passphrase alone again.",
                               "zh-Hans": "钱包恢复为仅由密码保护。"},
    "signin_create_h": {"en": "New wallet in this browser", "zh-Hans": "在此浏览器中新建钱包"},
    "signin_create_text": {
        "en": "For people without a wallet. The key is made in this browser and kept here, "
              "encrypted under your passphrase (keystore v3, scrypt). The service never sees "
              "it and cannot recover it: keep the recovery file and your passphrase.",
        "zh-Hans": "适用于没有钱包的用户。密钥在此浏览器中生成并保存在这里，由您的密码加密"
                   "（keystore v3，scrypt）。服务看不到也无法找回密钥：请妥善保存恢复文件和密码。"},
    "signin_passphrase": {"en": "Passphrase", "zh-Hans": "密码"},
    "signin_passphrase_hint": {"en": "At least 10 characters; a few words are easy to remember.",
                               "zh-Hans": "至少 10 个字符；几个词组成的短语更容易记住。"},
    "signin_passphrase2": {"en": "Passphrase again", "zh-Hans": "再次输入密码"},
    "signin_create_button": {"en": "Create the wallet", "zh-Hans": "新建钱包"},
    "signin_creating": {"en": "Making and encrypting the key…",
                        "zh-Hans": "正在生成并加密密钥…"},
    "signin_recovery_text": {
        "en": "Your wallet is ready. Download its recovery file now and keep it somewhere "
              "safe (it is encrypted under your passphrase): with it you can restore the "
              "wallet in another browser.",
        "zh-Hans": "钱包已就绪。请立即下载恢复文件并妥善保存（文件由您的密码加密）："
                   "凭它可在其他浏览器中恢复钱包。"},
    "signin_continue": {"en": "Continue and sign in", "zh-Hans": "继续并登录"},
    "signin_restore_h": {"en": "Restore from a recovery file", "zh-Hans": "用恢复文件恢复钱包"},
    "signin_restore_text": {
        "en": "A recovery file from this service, or any Ethereum keystore v3 file.",
        "zh-Hans": "本服务的恢复文件，或任何以太坊 keystore v3 文件。"},
    "signin_file": {"en": "Recovery file", "zh-Hans": "恢复文件"},
    "signin_restore_button": {"en": "Restore and sign in", "zh-Hans": "恢复并登录"},
    "signin_extension_h": {"en": "A browser extension wallet", "zh-Hans": "浏览器扩展钱包"},
    "signin_extension_text": {"en": "If you use a wallet extension, such as MetaMask.",
                              "zh-Hans": "如果您使用钱包扩展，例如 MetaMask。"},
    "signin_extension_choose": {"en": "Wallets found in this browser",
                                "zh-Hans": "此浏览器中的钱包"},
    "signin_extension_button": {"en": "Sign in with the extension",
                                "zh-Hans": "使用扩展钱包登录"},
    "signin_signing_in": {"en": "Signing in…", "zh-Hans": "正在登录…"},
    "signin_unlocking": {"en": "Unlocking (this takes a few seconds)…",
                         "zh-Hans": "正在解锁（需要几秒钟）…"},
})


def _types_words(lang: str) -> dict[str, str]:
    i = LANGS.index(lang)
    return {k: v[i] for k, v in RECORD_TYPES.items()}


class WalletWordsJson(TypedDict):
    """The wallet script's words in one language (``wallet_words``)."""

    lang: str
    ui: dict[str, str]
    types: dict[str, str]
    fields: dict[str, str]
    steps: dict[str, str]
    decimals: None
    currency: str
    amountFields: list[str]
    timeFields: list[str]


class WalletContextJson(TypedDict):
    """The page's context for the signing prompt (``wallet_context``)."""

    chainId: str
    decimals: NotRequired[int | None]
    currency: NotRequired[str]
    names: dict[str, str]


def wallet_words(lang: str) -> WalletWordsJson:
    """What the wallet's script shows, in ``lang``: its own words, the record types and
    fields, the steps, and how amounts and times are written."""
    i = LANGS.index(lang)
    return {
        "lang": lang,
        "ui": {k: v[lang] for k, v in WORDS.items()},
        "types": _types_words(lang),
        "fields": {k: v[i] for k, v in RECORD_FIELDS.items()},
        "steps": {k: v[lang] for k, v in STEP_WORDS.items()},
        # no case on the page: an amount is shown as the integer it is (smallest unit)
        "decimals": None, "currency": "",
        "amountFields": [n for n, t in Award.FIELDS if n in ("toBuyer", "toSeller",
                                                               "compensation")],
        "timeFields": ["signedAt", "expiresAt"],
    }


def _json_block(element_id: str, data: Mapping[str, object]) -> str:
    blob = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return f'<script type="application/json" id="{element_id}">{blob}</script>'


def wallet_head(lang: str, context: WalletContextJson | None = None) -> str:
    """The tags every page carries so ``window.chainarbWallet`` is there (docs/portal/wallet.md):
    the wallet's style, its words and the page's context (data, not code) and its script
    (this origin, deferred)."""
    return ('<link rel="stylesheet" href="/ui/static/wallet.css">'
            + _json_block("chainarb-wallet-words", wallet_words(lang))
            + (_json_block("chainarb-wallet-context", context) if context is not None else "")
            + '<script src="/ui/static/wallet.js" defer></script>')


# The seats of a case view the prompt names, in the order a label lists them.
_SEATS = ("buyer", "seller", "claimant", "respondent", "mediator", "arbitrator", "institution")


def _seat_words(seat: str, lang: str) -> str:
    table = SIDES if seat in SIDES else ROLES
    en, zh = word(table, seat)
    return zh if lang == "zh-Hans" else en


def wallet_context(ctx: AppContext, lang: str, viewer: str | None,
                   view: CaseViewJson | None = None) -> WalletContextJson:
    """What the signing prompt needs from the page: the service's chain (an extension is
    asked to switch to it before it sends), the case's token (its amounts in words) and a
    label for each address the page knows — the person's name and their seats in the case
    ("Li Wei (you, buyer, claimant)"); the prompt shows it with the address one click away."""
    seats: dict[str, list[str]] = {}

    def seat(address: object, label: str) -> None:
        if isinstance(address, str) and address.startswith("0x") and len(address) == 42:
            seats.setdefault(address, [])
            if label and label not in seats[address]:
                seats[address].append(label)

    if viewer:
        seat(viewer, ui("wallet_you", lang))
    if view is not None:
        members: Mapping[str, object] = view  # the seats by name
        for key in _SEATS:
            seat(members.get(key), _seat_words(key, lang))
        for member in view.get("panel") or []:
            seat(member, _seat_words("panelist", lang))
        seat(view["domain"].get("verifyingContract"), ui("wallet_escrow", lang))
    people = names_for(ctx, list(seats))
    labels: dict[str, str] = {}
    for address, roles in seats.items():
        person = people.get(address) or people.get(_checksum_or_same(address))
        name = person.display(lang) if person else ""
        if not name and not roles:
            continue
        comma = "，" if lang == "zh-Hans" else ", "
        what = comma.join(roles)
        label = (f"{name}（{what}）" if lang == "zh-Hans" else f"{name} ({what})") \
            if name and what else (name or what)
        labels[address.lower()] = label
    chain_id = str(ctx.service.domain.chain_id)
    if view is None:
        return {"chainId": chain_id, "names": labels}
    return {"chainId": chain_id, "decimals": view.get("decimals"),
            "currency": view.get("currency") or "", "names": labels}


def _checksum_or_same(address: str) -> str:
    from eth_utils import to_checksum_address

    try:
        return str(to_checksum_address(address))
    except ValueError:
        return address


# --- the sign-in page ---------------------------------------------------------------------


def _field(fid: str, label: str, control: str, hint: str = "") -> str:
    hint_html = f'<small id="{fid}-hint" class="muted">{_e(hint)}</small>' if hint else ""
    described = f' aria-describedby="{fid}-hint"' if hint else ""
    return (f'<div class="field"><label for="{fid}">{_e(label)}</label>'
            + control.replace("{id}", f'id="{fid}" name="{fid}"{described}') + hint_html
            + "</div>")


# Password managers file a passphrase under a user name: the wallet's (filled by the script).
_USERNAME = ('<input type="text" name="username" autocomplete="username" hidden '
             'class="wallet-username" value="chainarb wallet">')


def sign_in_body(lang: str) -> str:
    """The sign-in page's sections; ``static/sign-in.js`` shows the ones that apply."""
    def u(key: str) -> str:
        return _e(ui(key, lang))

    pw = '<input {id} type="password" autocomplete="new-password" minlength="10" required>'
    unlock = (
        f'<section id="unlock-section" aria-labelledby="unlock-h" hidden>'
        f'<h2 id="unlock-h">{u("signin_unlock_h")}</h2>'
        f'<p>{u("signin_unlock_text")} <code id="builtin-address"></code></p>'
        f'<form id="unlock-form" novalidate>{_USERNAME}'
        + _field("unlock-passphrase", ui("signin_passphrase", lang),
                 '<input {id} type="password" autocomplete="current-password" required>')
        + f'<button id="unlock-button" type="submit">{u("signin_unlock_button")}</button></form>'
        f'<p class="wallet-more"><button id="download-recovery-existing" type="button" '
        f'class="secondary">{u("signin_download")}</button> '
        f'<button id="forget-wallet" type="button" class="secondary" '
        f'data-confirm="{u("signin_forget_confirm")}">{u("signin_forget")}</button></p>'
        f'<div id="passkey-controls" hidden><p id="passkey-state"></p>'
        f'<button id="passkey-protect" type="button" class="secondary">'
        f'{u("signin_passkey_protect")}</button>'
        f'<button id="passkey-remove" type="button" class="secondary" hidden>'
        f'{u("signin_passkey_remove")}</button></div>'
        "</section>")
    create = (
        f'<section id="create-section" aria-labelledby="create-h">'
        f'<h2 id="create-h">{u("signin_create_h")}</h2><p>{u("signin_create_text")}</p>'
        f'<form id="create-form" novalidate>{_USERNAME}'
        + _field("new-passphrase", ui("signin_passphrase", lang), pw,
                 ui("signin_passphrase_hint", lang))
        + _field("new-passphrase2", ui("signin_passphrase2", lang), pw)
        + f'<button id="create-button" type="submit">{u("signin_create_button")}</button></form>'
        f'<div id="recovery-step" hidden><p>{u("signin_recovery_text")}</p>'
        f'<p><button id="download-recovery" type="button">{u("signin_download")}</button> '
        f'<button id="continue-button" type="button" disabled>{u("signin_continue")}</button>'
        "</p></div></section>")
    restore = (
        f'<section id="restore-section" aria-labelledby="restore-h">'
        f'<h2 id="restore-h">{u("signin_restore_h")}</h2><p>{u("signin_restore_text")}</p>'
        f'<form id="restore-form" novalidate>{_USERNAME}'
        + _field("restore-file", ui("signin_file", lang),
                 '<input {id} type="file" accept=".json,application/json" required>')
        + _field("restore-passphrase", ui("signin_passphrase", lang),
                 '<input {id} type="password" autocomplete="current-password" required>')
        + f'<button id="restore-button" type="submit">{u("signin_restore_button")}</button>'
        "</form></section>")
    extension = (
        f'<section id="extension-section" aria-labelledby="extension-h">'
        f'<h2 id="extension-h">{u("signin_extension_h")}</h2><p>{u("signin_extension_text")}</p>'
        f'<fieldset id="extension-choice" hidden><legend>{u("signin_extension_choose")}</legend>'
        f'<div id="extension-list"></div></fieldset>'
        f'<button id="sign-in" type="button">{u("signin_extension_button")}</button>'
        "</section>")
    return (f'<section id="sign-in-intro"><h1>{u("signin_title")}</h1>'
            f'<p>{u("signin_intro")}</p>'
            f'<p id="sign-in-status" role="status" aria-live="polite"></p></section>'
            + unlock + create + restore + extension
            + '<script src="/ui/static/sign-in.js" defer></script>')


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> HTMLResponse:
    from .pages import lang_of, page, viewer_of

    lang = lang_of(request)
    return page(request, lang, ui("signin_title", lang), sign_in_body(lang), viewer_of(request))


# --- the chain relay ----------------------------------------------------------------------

def _refuse(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"code": code, "detail": detail}, status_code=status)


def relay_request(body: bytes) -> JsonObject | JSONResponse:
    """The one JSON-RPC call in ``body`` if the relay forwards it, else the refusal."""
    try:
        call = safejson.loads(body, what="JSON-RPC request", max_bytes=MAX_RPC_BYTES)
    except safejson.JsonTooLarge as exc:
        return _refuse(413, "body_too_large", str(exc))
    except FormatError as exc:  # not UTF-8, not JSON, nested too deep
        return _refuse(400, "invalid_json", str(exc))
    if isinstance(call, list):
        return _refuse(400, "batch_refused", "one JSON-RPC call per request, no batches")
    method = call.get("method") if isinstance(call, dict) else None
    if not isinstance(call, dict) or not isinstance(method, str):
        return _refuse(400, "invalid_json", "a JSON-RPC 2.0 call object with a method")
    params = call.get("params", [])
    if not isinstance(params, list) or not isinstance(call.get("id", 0), (int, str)):
        return _refuse(400, "invalid_json", "params must be a list and id a number or string")
    if method not in RELAY_METHODS:
        return _refuse(403, "method_refused",
                       f"{method[:64]!r} is not relayed; allowed: "
                       + ", ".join(sorted(RELAY_METHODS)))
    return {"jsonrpc": "2.0", "id": call.get("id", 0), "method": method, "params": params}


@router.post("/chain/rpc")
async def chain_rpc(request: Request) -> Response:
    """Forward one allowed JSON-RPC call of a signed-in page to the service's chain."""
    from .pages import viewer_of

    if request.headers.get("x-chainarb-ui") != "1":
        return _refuse(403, "access_denied", "missing X-Chainarb-UI")
    if viewer_of(request) is None:
        return _refuse(401, "auth_required", "sign in first")
    url = getattr(request.app.state.ctx, "chain_rpc_url", None)
    if not url:
        return _refuse(503, "no_chain", "this service has no chain to relay to")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_RPC_BYTES:
            return _refuse(413, "body_too_large",
                           f"JSON-RPC request: more than the {MAX_RPC_BYTES} bytes accepted")
    call = relay_request(body)
    if isinstance(call, JSONResponse):
        return call
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            upstream = await client.post(url, json=call)
        answer = upstream.json()
    except (httpx.HTTPError, ValueError) as exc:
        return _refuse(502, "chain_unreachable", f"the chain's node did not answer: {exc}")
    if not isinstance(answer, dict) or not ("result" in answer or "error" in answer):
        return _refuse(502, "chain_unreachable", "the chain's node gave no JSON-RPC answer")
    return JSONResponse({"jsonrpc": "2.0", "id": call["id"],
                         **({"error": answer["error"]} if "error" in answer
                            else {"result": answer["result"]})})
