"""Sign-in with the wallet: the happy path and the attacks, through HTTP."""

from __future__ import annotations

import httpx
from eth_account import Account
from eth_account.messages import encode_defunct

from tests.support.world import World

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _challenge(w: World, address: str) -> str:
    r = w.client.get("/auth/nonce", params={"address": address})
    assert r.status_code == 200, r.text
    return r.json()["message"]


def _sign(key: object, msg: str) -> str:
    return "0x" + Account.sign_message(encode_defunct(text=msg), key).signature.hex()


def _sign_in(w: World, msg: str, sig: str) -> httpx.Response:
    return w.client.post("/auth/sign-in", json={"message": msg, "signature": sig})


def test_sign_in_message_and_session(world: World) -> None:
    w = world
    buyer = w.buyer
    msg = _challenge(w, buyer.address.lower())  # any case in, EIP-55 in the message
    assert f"\n{buyer.address}\n" in msg
    for line in ("URI: ", "Version: 1", "Chain ID: 31337", "Nonce: ",
                 "Issued At: 2026-11-24T08:00:00Z", "Expiration Time: 2026-11-24T08:05:00Z"):
        assert line in msg
    r = _sign_in(w, msg, _sign(buyer.key.key, msg))
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    me = w.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["address"] == buyer.address
    # the token is stored hashed, never as is
    from sqlmodel import select

    from backend.db import AuthSession
    with w.app.state.ctx.sessions() as s:
        rows = s.exec(select(AuthSession)).all()
        assert rows and all(token not in row.token_sha256 for row in rows)
    # sign-out revokes it
    assert w.client.post("/auth/sign-out",
                         headers={"Authorization": f"Bearer {token}"}).status_code == 204
    again = w.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401 and again.json()["code"] == "auth_required"


def test_replayed_nonce_is_refused(world: World) -> None:
    msg = _challenge(world, world.buyer.address)
    sig = _sign(world.buyer.key.key, msg)
    assert _sign_in(world, msg, sig).status_code == 200
    r = _sign_in(world, msg, sig)
    assert r.status_code == 401 and "already used" in r.json()["detail"]


def test_expired_message_is_refused(world: World) -> None:
    msg = _challenge(world, world.buyer.address)
    world.clock.advance(seconds=301)
    r = _sign_in(world, msg, _sign(world.buyer.key.key, msg))
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_forged_and_foreign_signatures_are_refused(world: World) -> None:
    w = world
    msg = _challenge(w, w.buyer.address)
    # the seller signs the buyer's challenge: someone else's wallet
    r = _sign_in(w, msg, _sign(w.seller.key.key, msg))
    assert r.status_code == 401 and w.seller.address in r.json()["detail"]
    # a message edited after issue (here: the address in lower case) is not the one issued
    edited = msg.replace(w.buyer.address, w.buyer.address.lower())
    r = _sign_in(w, edited, _sign(w.buyer.key.key, edited))
    assert r.status_code == 401 and "differs" in r.json()["detail"]
    # a flipped byte in the signature recovers another address (or none)
    good = _sign(w.buyer.key.key, msg)
    bad = good[:10] + ("0" if good[10] != "0" else "1") + good[11:]
    assert _sign_in(w, msg, bad).status_code == 401
    # the malleable twin (s -> n - s, v flipped) of a valid signature
    raw = bytes.fromhex(good[2:])
    s = int.from_bytes(raw[32:64], "big")
    twin = raw[:32] + (N - s).to_bytes(32, "big") + bytes([55 - raw[64]])
    r = _sign_in(w, msg, "0x" + twin.hex())
    assert r.status_code == 401 and "malleable" in r.json()["detail"]
    # garbage, and a message with no nonce
    assert _sign_in(w, msg, "0x1234").status_code == 401
    r = _sign_in(w, "hello", good)
    assert r.status_code == 401
    # after all that the genuine signature still works (nothing was consumed)
    assert _sign_in(w, msg, good).status_code == 200


def test_unknown_nonce_bad_address_and_missing_token(world: World) -> None:
    w = world
    msg = _challenge(w, w.buyer.address).replace("Nonce: ", "Nonce: ff")
    assert _sign_in(w, msg, _sign(w.buyer.key.key, msg)).status_code == 401
    mixed = w.buyer.address[:3] + w.buyer.address[3:].swapcase()
    r = w.client.get("/auth/nonce", params={"address": mixed})
    assert r.status_code == 422 and r.json()["code"] == "invalid_address"
    assert w.client.get("/cases").status_code == 401
    r = w.client.get("/cases", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_session_expires(world: World) -> None:
    w = world
    w.buyer.sign_in()
    headers = {"Authorization": f"Bearer {w.buyer.token}"}
    assert w.client.get("/auth/me", headers=headers).status_code == 200
    w.clock.advance(hours=8)
    r = w.client.get("/auth/me", headers=headers)
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_profile_language_is_checked(world: World) -> None:
    w = world
    r = w.seller.world.client.put("/auth/me", headers=w.seller.headers,
                                  json={"email": "seller@example.cn",
                                        "preferredLanguage": "zh-Hans"})
    assert r.status_code == 200 and r.json()["preferredLanguage"] == "zh-Hans"
    r = w.client.put("/auth/me", headers=w.seller.headers, json={"preferredLanguage": "fr"})
    assert r.status_code == 422
