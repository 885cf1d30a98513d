"""Checkout: the marketplace API for contracts of sale (docs/contract-of-sale.md).

A marketplace (or a seller's own shop) proposes a ``ContractOfSale`` record, collects the
buyer's and the seller's wallet signatures on its typed data, and, once the buyer has opened
the escrow with ``openOrderWithContract``, binds the contract to that order: the order's
case then starts with the contract's agreement to arbitrate in place. The Python client is
``backend.checkout_client``. Proposing, signing and binding need no sign-in (the signatures
are what count; a bind answers only what the chain already shows); reading a contract's
terms is for its buyer, its seller and admins. The rules are
``backend/services/checkout.py``'s.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from backend.answers import AS_OBJECT, FreeJson
from backend.services.checkout import Checkout, standard_terms
from evidence.marketplace import ContractSummaryJson, ContractViewJson, StandardTermsJson

from ..deps import Ctx, CurrentUser
from ..errors import StrictBody, errors

router = APIRouter(tags=["checkout"], responses=errors(403, 404, 409))
# The answers are evidence.marketplace's ContractSummaryJson / ContractViewJson, which the
# document describes as objects (backend/answers.py: no validation of a contract per answer).


class ContractIn(StrictBody):
    record: FreeJson = Field(
        description="the ContractOfSale signed record's JSON (evidence/records.py), with "
                    "zero, one or both signatures")


class SignatureIn(StrictBody):
    signature: str = Field(description="the buyer's or the seller's EIP-712 signature, "
                                       "0x + 130 hex digits", max_length=140)


@router.get("/contract-terms")
def contract_terms() -> Annotated[StandardTermsJson, AS_OBJECT]:
    """The standard texts a contract names (dispute clauses, return policies, rules
    versions): id, text hash, English and Chinese. No sign-in."""
    return standard_terms()


@router.post("/contracts", status_code=201)
async def propose_contract(ctx: Ctx, body: ContractIn
                           ) -> Annotated[ContractViewJson, AS_OBJECT]:
    """Propose a contract of sale (or add signatures to one already proposed)."""
    return await run_in_threadpool(Checkout(ctx.service).propose, body.record)


@router.post("/contracts/{contract_hash}/signatures")
async def sign_contract(ctx: Ctx, contract_hash: str, body: SignatureIn
                        ) -> Annotated[ContractViewJson, AS_OBJECT]:
    """Add the buyer's or the seller's signature on the contract's typed data."""
    return await run_in_threadpool(Checkout(ctx.service).sign, contract_hash, body.signature)


@router.post("/contracts/{contract_hash}/order")
async def bind_contract(ctx: Ctx, contract_hash: str
                        ) -> Annotated[ContractSummaryJson, AS_OBJECT]:
    """Bind the contract to the escrow order opened with its hash; opens the order's case
    with the clause's agreement to arbitrate. Answers the status, order and case."""
    return await run_in_threadpool(Checkout(ctx.service).bind, contract_hash)


@router.get("/contracts/{contract_hash}")
def read_contract(ctx: Ctx, user: CurrentUser, contract_hash: str
                  ) -> Annotated[ContractViewJson, AS_OBJECT]:
    """The contract, its signatures and its typed data (its buyer, its seller, admins)."""
    return Checkout(ctx.service).read(contract_hash, user)
