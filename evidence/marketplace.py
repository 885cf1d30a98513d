"""A marketplace's client for checkout with a signed contract of sale (docs/contract-of-sale.md).

A marketplace, or a seller's own shop, installs ``chainarb`` without extras (this module
needs ``evidence`` and ``httpx`` only) and:

1. builds the contract with :func:`contract_of_sale` (standard texts named by id; their
   hashes filled in from evidence.sale_terms; the price an exact integer in the token's
   smallest unit);
2. :meth:`MarketplaceClient.propose` stores it and answers its ``typedData``, which the
   buyer's and the seller's wallets sign (``eth_signTypedData_v4``);
3. :meth:`MarketplaceClient.add_signature` hands each signature in (or ``propose`` carries
   them);
4. the buyer opens the escrow with ``openOrderWithContract(seller, token, amount,
   deliveryDeadline, institution, rulesHash, contractHash)`` from their wallet;
5. :meth:`MarketplaceClient.bind` ties the contract to that order: the order's case then
   starts with the dispute clause's agreement to arbitrate in place.

Refusals come back as :class:`CheckoutRefusedError` with the API's error ``code`` (docs/api.md).
"""

from __future__ import annotations

import secrets
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypedDict, TypeVar

import httpx

from evidence.records import ContractOfSale, Domain, SignedRecord, SignedRecordJson, TypedDataJson
from evidence.sale_terms import DISPUTE_CLAUSES, RETURN_POLICIES, RULES_VERSIONS

__all__ = ["CheckoutRefusedError", "ContractSummaryJson", "ContractViewJson", "MarketplaceClient",
           "StandardTermsJson", "contract_of_sale"]

_Answer = TypeVar("_Answer")


class SignedByJson(TypedDict):
    """Which of the contract's two parties has signed it."""

    buyer: bool
    seller: bool


class ClauseJson(TypedDict):
    """The contract's dispute clause: its id and its words in both languages."""

    id: str
    en: str
    zh: str


class ContractSummaryJson(TypedDict):
    """A contract of sale as the checkout API shows it to anyone who knows its hash (the
    hash is on chain): no goods, no price (``POST /contracts/{hash}/order``)."""

    contractHash: str
    status: str  # proposed, signed, bound
    signedBy: SignedByJson
    orderId: str | None
    caseId: str | None
    cid: str | None
    arbitrationAgreed: bool
    clause: ClauseJson
    offerExpiresAt: str


class ContractViewJson(ContractSummaryJson):
    """The contract as its buyer, its seller or an admin reads it: with the signed record
    and the typed data for the parties' wallets (``POST /contracts``, ``GET
    /contracts/{hash}``)."""

    buyer: str
    seller: str
    record: SignedRecordJson
    typedData: TypedDataJson


class StandardTermsJson(TypedDict):
    """``GET /contract-terms``: the standard texts (id, text hash, English, Chinese) of the
    dispute clauses, return policies and rules versions, each with its own terms."""

    disputeClauses: list[dict[str, object]]
    returnPolicies: list[dict[str, object]]
    rulesVersions: list[dict[str, object]]


def _mismatch(value: object, hint: object, where: str) -> str | None:
    """Where parsed JSON ``value`` differs from the TypedDict (or member type) ``hint``,
    None when it has every declared member of the declared kind. A JSON object member
    (``dict[str, ...]``) is checked as an object: what the parser made of it is JSON. Not
    pydantic's TypeAdapter: it cannot build the recursive ``JsonObject`` alias a signed
    record's ``message`` is (tried: "not fully defined")."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        found = [_mismatch(value, h, where) for h in typing.get_args(hint)]
        return None if None in found else found[0]
    if typing.is_typeddict(hint):
        if not isinstance(value, dict):
            return f"{where}: expected an object"
        required: frozenset[str] = getattr(hint, "__required_keys__", frozenset())
        for name, member in typing.get_type_hints(hint).items():
            if name in value:
                wrong = _mismatch(value[name], member, f"{where}.{name}")
                if wrong is not None:
                    return wrong
            elif name in required:
                return f"{where}: no {name}"
        return None
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            return f"{where}: expected a list"
        return next(filter(None, (_mismatch(v, item, f"{where}[{i}]")
                                  for i, v in enumerate(value))), None)
    kinds: dict[object, type | tuple[type, ...]] = {
        dict: dict, str: str, bool: bool, int: int, type(None): type(None)}
    kind = kinds.get(origin or hint)
    if kind is None:
        raise TypeError(f"{where}: no check for {hint!r}")
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    return None if ok else f"{where}: expected {getattr(origin or hint, '__name__', hint)}"


def _unix(value: datetime | int) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("give an aware datetime (UTC): a naive one has no instant")
        return int(value.timestamp())
    return value


def contract_of_sale(
    *,
    buyer: str,
    seller: str,
    institution: str,
    token: str,
    amount: int,
    goods: str,
    quantity: int,
    delivery_terms: str,
    delivery_deadline: datetime | int,
    offer_expires_at: datetime | int,
    return_policy: str = "return-7-days-1",
    rules_version: str = "chainarb-rules-1",
    dispute_clause: str = "chainarb-arbitration-1",
    offer_id: bytes | None = None,
) -> ContractOfSale:
    """A contract of sale with the standard texts' hashes filled in.

    ``amount`` is the price in the token's smallest unit (an ``int``: 12.50 USDC with 6
    decimals is ``12_500_000``); ``token`` the ERC-20 address or the zero address for ETH.
    ``offer_id`` defaults to 32 fresh random bytes, so equal terms make distinct contracts.
    Raises ``evidence.errors.InvalidRecord`` for an unknown text id or a bad value.
    """
    def text_hash(table: Mapping[str, Any], text_id: str) -> bytes:
        text = table.get(text_id)
        return text.hash if text is not None else b"\x00" * 32  # refused when built

    return ContractOfSale(
        offer_id=offer_id if offer_id is not None else secrets.token_bytes(32),
        buyer=buyer, seller=seller, institution=institution, token=token, amount=amount,
        goods=goods, quantity=quantity, delivery_terms=delivery_terms,
        delivery_deadline=_unix(delivery_deadline),
        return_policy=return_policy,
        return_policy_hash=text_hash(RETURN_POLICIES, return_policy),
        rules_version=rules_version, rules_hash=text_hash(RULES_VERSIONS, rules_version),
        dispute_clause=dispute_clause,
        clause_hash=text_hash(DISPUTE_CLAUSES, dispute_clause),
        offer_expires_at=_unix(offer_expires_at))


class CheckoutRefusedError(Exception):
    """The service refused a request: ``code`` (docs/api.md's table), HTTP ``status`` and
    the ``detail`` that says what to fix."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{code} ({status}): {detail}")
        self.status = status
        self.code = code
        self.detail = detail


class MarketplaceClient:
    """The checkout API of one chainarb deployment, over HTTP (``httpx``)."""

    def __init__(self, base_url: str = "", *, client: httpx.Client | None = None,
                 timeout: float = 30.0) -> None:
        """``client``: an ``httpx.Client`` to use (its base URL, proxies, TLS); otherwise
        one is made for ``base_url``."""
        self._http = client if client is not None else httpx.Client(base_url=base_url,
                                                                    timeout=timeout)

    def _answer(self, response: httpx.Response) -> dict[str, object]:
        body: Any = response.json() if response.content else {}
        if response.is_error:
            raise CheckoutRefusedError(response.status_code, str(body.get("code", "")),
                                  str(body.get("detail", response.text)))
        if not isinstance(body, dict):
            raise CheckoutRefusedError(response.status_code, "bad_answer", "expected a JSON object")
        return body

    def _answer_as(self, response: httpx.Response, kind: type[_Answer]) -> _Answer:
        """The answer, checked to be the ``kind`` (a TypedDict) the API declares for it:
        every member it declares, of its declared kind (``bad_answer`` otherwise)."""
        body = self._answer(response)
        wrong = _mismatch(body, kind, kind.__name__)
        if wrong is not None:
            raise CheckoutRefusedError(response.status_code, "bad_answer", wrong)
        return typing.cast(_Answer, body)

    def domain(self) -> Domain:
        """The deployment's EIP-712 domain (chain id and escrow): contracts are signed
        under it, so a signature made for another chain or escrow is refused."""
        return Domain.from_json_obj(self._answer(self._http.get("/eip712-domain")))

    def terms(self) -> StandardTermsJson:
        """The standard texts (dispute clauses, return policies, rules versions), each with
        its id, text hash and English and Chinese words."""
        return self._answer_as(self._http.get("/contract-terms"), StandardTermsJson)

    def propose(self, contract: ContractOfSale, signatures: Iterable[bytes | str] = (),
                domain: Domain | None = None) -> ContractViewJson:
        """Store the contract (adding ``signatures`` if any). The answer has its
        ``contractHash``, ``status`` (proposed, signed, bound), ``signedBy`` and the
        ``typedData`` for the parties' wallets."""
        dom = domain if domain is not None else self.domain()
        signed = SignedRecord(dom, contract)
        for signature in signatures:
            signed = signed.with_signature(signature)
        return self._answer_as(self._http.post("/contracts",
                                               json={"record": signed.to_json_obj()}),
                               ContractViewJson)

    def add_signature(self, contract_hash: str, signature: bytes | str) -> ContractViewJson:
        """Hand in the buyer's or the seller's signature (65 bytes or 0x-hex)."""
        sig = signature if isinstance(signature, str) else "0x" + signature.hex()
        return self._answer_as(self._http.post(f"/contracts/{contract_hash}/signatures",
                                               json={"signature": sig}), ContractViewJson)

    def bind(self, contract_hash: str) -> ContractSummaryJson:
        """Bind the contract to the escrow order the buyer opened with its hash; the
        answer names the ``orderId``, the ``caseId`` and whether arbitration is agreed."""
        return self._answer_as(self._http.post(f"/contracts/{contract_hash}/order"),
                               ContractSummaryJson)

    def read(self, contract_hash: str, session_token: str) -> ContractViewJson:
        """The contract with its record and typed data, for its buyer, its seller or an
        admin signed in with ``session_token`` (POST /auth/...)."""
        return self._answer_as(self._http.get(
            f"/contracts/{contract_hash}",
            headers={"Authorization": f"Bearer {session_token}"}), ContractViewJson)
