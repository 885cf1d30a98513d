"""The built-in wallet in Debian's chromium (wallet.cjs): made, downloaded, restored,
unlocked per tab, and its signatures identical to ``eth_signTypedData_v4``.

The browser run checks them against MetaMask's @metamask/eth-sig-util; here they are checked
again against Python's eth-account, with the key decrypted by eth-account from the
recovery file the page let the person download (so the file is a standard keystore v3).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from backend.chain.devchain import AnvilNode
from evidence.records import ProceduralStep, TypedDataJson
from tests.backend.web.web_world import WebWorld, declare_profile, find_chromium, key

pytestmark = pytest.mark.node

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
PASSPHRASE = "correct horse battery 电池"


def _step_typed_data(world: WebWorld) -> TypedDataJson:
    """A chainarb step as the service asks a wallet to sign it (evidence.records)."""
    service = world.app.state.ctx.service
    step = ProceduralStep(case_id=bytes.fromhex(world.case_id[2:]), sequence=7,
                          prev_hash=b"\x11" * 32,
                          actor="0x" + "22" * 20, action="arbitration.agreed",
                          payload_hash=b"\x33" * 32, signed_at=1_790_000_000)
    return step.typed_data_json(service.domain)


@pytest.fixture
def chain(world: WebWorld, anvil_node: AnvilNode) -> Iterator[AnvilNode]:
    """The world's service relays to a real anvil (the in-memory escrow has no chain)."""
    ctx = world.app.state.ctx
    before, ctx.chain_rpc_url = ctx.chain_rpc_url, anvil_node.url
    try:
        yield anvil_node
    finally:
        ctx.chain_rpc_url = before


def _run(world: WebWorld, tmp_path: Path, anvil: AnvilNode) -> dict[str, Any]:
    chromium = find_chromium()
    out_dir = HERE / "screenshots" if os.environ.get("CHAINARB_KEEP_SCREENSHOTS") else tmp_path
    out_dir.mkdir(exist_ok=True)
    done = subprocess.run(
        ["node", str(HERE / "wallet.cjs"), world.base, PASSPHRASE,
         json.dumps(_step_typed_data(world)), str(out_dir), anvil.url],
        cwd=ROOT, env={**os.environ, "CHROMIUM": chromium}, capture_output=True, text=True,
        timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    out["outDir"] = str(out_dir)
    return out


def test_built_in_wallet_made_restored_and_signing_as_eth_sign_typed_data_v4(
        world: WebWorld, tmp_path: Path, chain: AnvilNode) -> None:
    out = _run(world, tmp_path, chain)
    assert out["kindBefore"] is None and out["unlockHiddenBefore"] is True
    # Refusals in words before anything is made.
    assert out["tooShort"] == "The passphrase needs at least 10 characters."
    assert out["mismatch"] == "The two passphrases differ."
    assert out["madeTooEarly"] is False
    # The recovery file is a keystore v3 (scrypt) that eth-account opens.
    ks = out["recovery"]
    assert ks["version"] == 3 and ks["crypto"]["kdf"] == "scrypt"
    assert ks["crypto"]["kdfparams"]["n"] >= 2**17
    key = Account.decrypt(ks, PASSPHRASE)
    address = Account.from_key(key).address
    assert out["address"] == address == out["keyAddress"] == out["restoredAddress"]
    assert out["recoveryName"] == f"chainarb-wallet-{address.lower()}.json"
    assert out["kind"] == "builtin" and out["continueDisabled"] is True
    # Only the encrypted keystore and the choice are kept in localStorage: no key.
    assert out["storedKeys"] == ["chainarb.wallet.keystore", "chainarb.wallet.kind"]
    assert key.hex().removeprefix("0x") not in out["storedText"].lower()
    # Signed in through the prompt; the page shows the account.
    assert out["signInPrompt"]["what"] == "signing in to this service (EIP-4361 message)"
    assert out["signInPrompt"]["hasPassphrase"] is False
    assert out["casesHeading"] == "Your cases"
    assert out["signedInAs"].lower() == address.lower()

    # EIP-712: the prompt says what is signed, in words.
    step = _step_typed_data(world)
    shown = dict(out["stepPrompt"]["rows"])
    assert out["stepPrompt"]["what"] == "Agree to arbitrate"
    assert shown["step"] == "Agree to arbitrate" and shown["number in the case record"] == "7"
    assert shown["signed at"] != "1790000000"  # a local time, not the number
    # Signed in, the page names the signer ("you"; the address one click away); before the
    # session it knew no one and showed the address.
    assert " ".join(out["stepPrompt"]["signer"].split()) == "Signing as you"
    assert " ".join(out["signInPrompt"]["signer"].split()) == f"Signing as {address}"
    # ... and signs the same digest and signature as MetaMask's library and eth-account.
    expected = out["expected"]
    assert out["stepDigest"] == expected["stepDigest"]
    assert out["stepSignature"] == expected["step"] == _sign(key, step)
    assert out["mail"]["digest"] == expected["mailDigest"]
    mail = out["mail"]["typedData"]  # with a type not reachable from primaryType: MetaMask
    del mail["types"]["Unused"]  # ignores it, eth-account refuses it; the digest is the same
    assert out["mail"]["signature"] == expected["mail"] == _sign(key, mail)
    assert out["alias"] == "function"
    assert out["messageSignature"] == expected["message"] == "0x" + bytes(
        Account.sign_message(encode_defunct(text="hello 你好"), key).signature).hex()
    # A transaction signed in the page, sent through the relay, mined on anvil.
    assert out["txPrompt"]["what"] == "A test payment"
    assert dict(out["txPrompt"]["rows"]) == {
        "to": "0x4242424242424242424242424242424242424242", "value": "0.0012345 ETH",
        "call": "0xc0ffee… (3 B)"}
    assert out["txReceiptStatus"] == "0x1"  # waitForTransaction, through the relay
    receipt = chain.web3().eth.wait_for_transaction_receipt(out["txHash"], timeout=30)
    tx = chain.web3().eth.get_transaction(out["txHash"])
    assert receipt["status"] == 1 and receipt["from"] == address
    assert tx["value"] == 1_234_500_000_000_000 and bytes(tx["input"]) == b"\xc0\xff\xee"
    assert out["cancelled"] == "rejected: You did not sign; nothing was sent."
    assert out["promptGone"] == 0

    # Unlock is per tab: a second tab asks for the passphrase, refuses a wrong one.
    assert out["secondTabUnlocked"] is False and out["lockedPrompt"]["hasPassphrase"] is True
    assert out["wrongInPrompt"] == "Wrong passphrase."
    assert out["secondTabSignature"] == expected["step"]
    assert out["secondTabUnlockedAfter"] is True
    assert out["afterSignOut"] == [False, True]

    # Restore in Chinese: refusals in words, then the same account.
    assert out["noFile"] == "请先选择恢复文件。"
    assert out["wrongRestore"] == "密码错误。" and out["restoreInvalid"] == "true"
    assert out["restoredTooEarly"] is False
    assert out["zhPrompt"]["heading"] == "用钱包签名"
    assert out["zhPrompt"]["what"] == "登录本服务（EIP-4361 消息）"
    assert out["unlockShown"] is True and out["unlockAddress"] == address
    assert not [m for m in out["console"] if m.split(": ")[0].endswith(("error", "pageerror"))], \
        out["console"]
    for name in ("sign-in-en.png", "sign-in-zh.png", "prompt-typed-en.png",
                 "prompt-message-zh.png"):
        png = (Path(out["outDir"]) / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def _sign(key: bytes, typed: TypedDataJson) -> str:
    return "0x" + bytes(Account.sign_typed_data(key, full_message=dict(typed)).signature).hex()


def test_extension_wallets_by_eip6963_with_a_chooser_and_plain_window_ethereum(
        world: WebWorld, tmp_path: Path, chain: AnvilNode) -> None:
    done = subprocess.run(
        ["node", str(HERE / "extension.cjs"), world.base, "0x" + bytes(key("buyer").key).hex(),
         str(tmp_path)],
        cwd=ROOT, env={**os.environ, "CHROMIUM": find_chromium()}, capture_output=True,
        text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["kind"] == "extension" and out["needsChoice"] is True
    assert out["choiceShown"] is True
    assert out["choices"] == ["Alpha Wallet (org.example.alpha)", "Beta Wallet (org.example.beta)"]
    assert out["cases"] == 2  # signed in as the buyer
    # Every request went to the wallet chosen; none to the other.
    assert out["requests"][0] == "org.example.beta eth_requestAccounts"
    assert "org.example.beta personal_sign" in out["requests"]
    assert all(r.startswith(("org.example.beta ", "plain ")) for r in out["requests"])
    assert "org.example.beta eth_signTypedData_v4" in out["requests"]
    assert out["typedSignature"] == out["typedExpected"]
    sent = out["sent"]
    assert sent.pop("from").lower() == out["address"].lower()
    assert sent == {"to": "0x4242424242424242424242424242424242424242", "data": "0x01",
                    "value": "0x5"}
    assert out["txHash"] == "0x" + "ab" * 32
    # It was on chain 1: asked to switch to the service's chain (its escrow's, named by the
    # page) first; a refusal is said.
    want = hex(world.port.domain().chain_id)
    assert out["switches"] == [want, want] and out["wrongChain"] == "wrong_chain"
    assert out["plainKind"] == "extension" and out["plainChoiceShown"] is False
    assert "plain personal_sign" in out["requests"] and out["plainSignedIn"] is True
    assert not [m for m in out["console"] if m.startswith(("error", "pageerror"))], out


def test_a_passkey_protects_the_wallet(world: WebWorld, tmp_path: Path) -> None:
    """Chromium's virtual authenticator (WebAuthn over CDP, PRF) plays the passkey."""
    done = subprocess.run(
        ["node", str(HERE / "passkey.cjs"), world.base, PASSPHRASE, str(tmp_path)],
        cwd=ROOT, env={**os.environ, "CHROMIUM": find_chromium()}, capture_output=True,
        text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["supported"] is True and out["controlsShown"] is True
    assert out["stateBefore"].startswith("Optionally, a passkey")
    assert out["noPassphrase"] == "Type the wallet's passphrase first."
    assert out["added"] == "The wallet is now protected by your passkey."
    assert out["stateAfter"].startswith("Protected by a passkey")
    assert out["credentials"] == 1 and out["protected"] is True
    # The keystore is only kept sealed under the passkey now.
    assert out["storedKeys"] == ["chainarb.wallet.kind", "chainarb.wallet.passkey"]
    sealed = json.loads(out["sealedText"])
    assert set(sealed) == {"address", "credentialId", "salt", "iv", "ciphertext"}
    assert "scrypt" not in out["sealedText"] and "ciphertext\":\"" in out["sealedText"]
    # Locked, it signs after passphrase and passkey, with the recovery file's key.
    assert out["promptPasskeyNote"] == "Your passkey will be asked for too."
    key = Account.decrypt(out["recovery"], PASSPHRASE)
    assert Account.from_key(key).address == out["address"] == sealed["address"]
    assert out["recoverySame"] is True
    assert out["signature"] == "0x" + bytes(
        Account.unsafe_sign_hash(bytes.fromhex(out["digest"][2:]), key).signature).hex()
    # Without the passkey the passphrase alone opens nothing.
    assert out["withoutPasskey"] in ("passkey_refused", "passkey_failed")
    assert out["unlockedAfter"] is False


def test_a_case_step_signed_with_the_built_in_wallet(world: WebWorld, tmp_path: Path) -> None:
    """The buyer restores a keystore made by eth-account and makes an offer on the case
    page; the prompt shows it in words; the service accepts the signed record."""
    r = declare_profile(world, "buyer", "Li Wei", "李伟", country="CN", language="zh-Hans")
    assert r.status_code == 200, r.text
    keystore = tmp_path / "buyer.json"
    keystore.write_text(json.dumps(Account.encrypt(key("buyer").key, PASSPHRASE,
                                                   kdf="scrypt", iterations=2**14)))
    done = subprocess.run(
        ["node", str(HERE / "builtin_step.cjs"), world.base, world.case2, str(keystore),
         PASSPHRASE, str(tmp_path)],
        cwd=ROOT, env={**os.environ, "CHROMIUM": find_chromium()}, capture_output=True,
        text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["result"]["cls"] == "result ok", out
    # The offer, then the escrow's settlement it becomes when accepted: each in words.
    assert [x["what"] for x in out["prompts"]] == ["和解要约", "供托管合约执行的和解协议"]
    first = out["prompts"][0]
    shown = dict(first["rows"])
    # Amounts in the case's token (its symbol and decimals, from the escrow's ERC-20).
    assert shown["付给买方"] == "100.500000 tUSD"
    assert shown["从保证金中支付的赔偿"] == "0.000000 tUSD"
    # Names, not addresses: the offeror and the signer are the buyer's name and seats in
    # the case, the address one click away.
    buyer = world.clients["buyer"].address
    assert shown["要约人"] == "李伟（您，买方，申请人）"
    assert first["named"] == ["李伟（您，买方，申请人）", "李伟（您，买方，申请人）"]
    assert first["signer"] == "李伟（您，买方，申请人）"
    assert first["addressHiddenBefore"] is True
    assert first["addressShown"] == buyer and first["signerAddress"] == buyer
    assert buyer not in json.dumps(first["rows"])  # the rows show the name, not the address
    offers = world.clients["buyer"].get(f"/cases/{world.case2}")["offers"]
    assert [int(o["allocation"]["to_buyer"]) for o in offers] == [100_500_000]
    assert not [m for m in out["console"] if m.startswith(("error", "pageerror"))], out
