"""People at their wallets: each holds a key, signs in, and signs every step it sends.

What a real client does against the API, and nothing more; the page tests
(tests/backend/web/web_world.py) drive their cases with the same ``Client`` and
``upload_evidence``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from backend.demo.common import DemoError, sha256_hex
from evidence.commitment import commitment_of
from evidence.receipts import save_receipt
from evidence.records import (
    Domain,
    ProceduralStep,
    SignedRecord,
    SignedRecordJson,
    bytes32,
    canonical_json,
)

if TYPE_CHECKING:
    from backend.services.evidence import EvidenceSubmittedJson, StagedEvidenceJson

__all__ = ["Client", "document", "expect_ok", "upload_evidence"]


@dataclass
class Client:
    """One person at a wallet: their own key, a session token, signed requests."""

    label: str
    label_zh: str
    key: LocalAccount
    http: httpx.Client
    clock: Callable[[], datetime]  # the wallet's clock, for signedAt
    token: str = ""
    receipts: Path | None = None
    """Where this person keeps the institution's receipts (docs/log.md): every accepted
    step or upload answers with one, saved here as evidence (None: not kept)."""

    @property
    def address(self) -> str:
        return str(self.key.address)

    def sign_in(self) -> None:
        r = self.http.get("/auth/nonce", params={"address": self.address})
        expect_ok(r, f"{self.label}: sign-in challenge")
        message = r.json()["message"]
        signature = self.key.sign_message(encode_defunct(text=message)).signature
        r = self.http.post("/auth/sign-in", json={"message": message,
                                                  "signature": "0x" + bytes(signature).hex()})
        self.token = expect_ok(r, f"{self.label}: sign-in")["token"]

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            return self.http.request(method, path, headers=headers, **kw)
        except httpx.TransportError:  # the server closed a kept-alive connection: once more
            return self.http.request(method, path, headers=headers, **kw)

    def send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """The raw response, signed in again once if the session ran out (callers that
        handle a status themselves: 409 of a package not anchored yet, a 5xx fallback)."""
        r = self._request(method, path, **kw)
        if r.status_code == 401 and "expired" in r.text:  # a session that ran out mid-run
            self.sign_in()
            r = self._request(method, path, **kw)
        return r

    def get(self, path: str, **kw: Any) -> Any:
        return expect_ok(self.send("GET", path, **kw), f"{self.label}: GET {path}")

    def post(self, path: str, body: object = None, **kw: Any) -> Any:
        if body is not None:
            kw["json"] = body
        res = expect_ok(self.send("POST", path, **kw), f"{self.label}: POST {path}")
        self.keep_receipt(res)
        return res

    def keep_receipt(self, answer: object) -> Path | None:
        """Save the answer's ``receipt`` (an accepted step or upload) in ``receipts``, and
        those of the provenance entries it logged (``provenanceReceipts``); the first's path."""
        if self.receipts is None or not isinstance(answer, dict):
            return None
        receipt = answer.get("receipt")
        more = answer.get("provenanceReceipts")
        for extra in more if isinstance(more, list) else []:
            if isinstance(extra, dict):
                save_receipt(self.receipts, extra)
        return save_receipt(self.receipts, receipt) if isinstance(receipt, dict) else None

    def at(self) -> int:
        return int(self.clock().timestamp())

    def head(self, case_id: str) -> tuple[int, bytes, Domain]:
        """Where the next signed step goes: what the case page gives a wallet to sign over."""
        view = self.get(f"/cases/{case_id}")
        return (view["nextSequence"], bytes32(view["prevHash"]),
                Domain.from_json_obj(view["domain"]))

    def step(self, case_id: str, action: str, payload: Mapping[str, object] | None = None, *,
             payload_hash: str | None = None) -> tuple[SignedRecordJson, Domain]:
        """A ``ProceduralStep`` signed at the case's head (over the payload or a hash)."""
        seq, prev, domain = self.head(case_id)
        digest = payload_hash or sha256_hex(canonical_json(payload or {}))
        rec = ProceduralStep(case_id=bytes32(case_id), sequence=seq, prev_hash=prev,
                             actor=self.address, action=action, payload_hash=bytes32(digest),
                             signed_at=self.at())
        return rec.sign(self.key.key, domain).to_json_obj(), domain

    def plain(self, case_id: str, action: str, payload: Mapping[str, object] | None = None,
              **extra: object) -> dict[str, object]:
        """The body of a step endpoint: the signed record, its payload and any extras."""
        record, _ = self.step(case_id, action, payload or {})
        return {"record": record, "payload": payload or {}, **extra}


def expect_ok(r: httpx.Response, what: str) -> Any:
    """The JSON of a 200/201 answer, else a ``DemoError`` naming the request and the reply."""
    if r.status_code not in (200, 201):
        raise DemoError(f"{what}: expected 200/201, found {r.status_code}: {r.text[:500]}")
    return r.json() if r.content else None


def document(filename: str, media_type: str, content: bytes) -> dict[str, str]:
    """A step's attached document as the API takes it (base64 content)."""
    return {"filename": filename, "media_type": media_type,
            "content_base64": base64.b64encode(content).decode()}


def upload_evidence(who: Client, case_id: str, kind: str, name: str, ctype: str,
                    content: bytes) -> EvidenceSubmittedJson:
    """Upload, check the commitment offered for signing against our own file, sign, submit."""
    salt = secrets.token_bytes(32)
    sha = hashlib.sha256(content).digest()
    staged: StagedEvidenceJson = who.post(f"/cases/{case_id}/evidence", params={"kind": kind},
                      files={"file": (name, content, ctype)},
                                          data={"sha256": "0x" + sha.hex(),
                                                "salt": "0x" + salt.hex()})
    typed = staged["typedData"]
    expected = "0x" + commitment_of(sha, bytes.fromhex(staged["salt"][2:])).hex()
    if staged["sha256"] != "0x" + sha.hex() or typed["message"]["commitment"] != expected:
        raise DemoError(f"{name}: the server's commitment does not match our own file")
    signature = who.key.sign_typed_data(full_message=dict(typed)).signature
    record = SignedRecord.from_json_obj(staged["unsignedRecord"]).with_signature(
        bytes(signature)).to_json_obj()
    res: EvidenceSubmittedJson = who.post(f"/cases/{case_id}/evidence/{staged['id']}/submit",
                                          {"record": record})
    cid = typed["message"].get("contentCid")
    if isinstance(cid, str):  # the answer has it (EvidenceMetaJson): kept as it came
        res.setdefault("contentCid", cid)
    return res.copy()
