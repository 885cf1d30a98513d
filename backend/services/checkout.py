"""Checkout: contracts of sale proposed by a marketplace, signed by buyer and seller, bound
to the escrow order that holds their price (docs/contract-of-sale.md).

Rules:

* A contract is a ``ContractOfSale`` record (evidence/records.py) under this deployment's
  domain (the escrow that will hold the price), naming this institution. Its record hash
  (EIP-712 digest) is its identity everywhere: the API path, the escrow's
  ``contractHash``, the Merkle leaf.
* Signatures arrive with the proposal or one by one; each must recover to the named buyer
  or seller and arrive before ``offerExpiresAt`` (the service's clock). When both have
  signed, the signed record is stored in IPFS (encrypted: prices and goods are business
  data, the bundle's key wrapped for the service key, like a confidential step).
* The buyer opens the escrow with ``openOrderWithContract(…, contractHash)``. Binding reads
  that order from the chain (``orderOfContract``) and refuses it unless both parties signed
  and the order's price, currency, parties, delivery deadline, institution and rules are
  the contract's. Then the order's case is created with the clause's agreement to arbitrate
  already in place (``Order.arbitration_agreed``), and the contract's leaf (case id, record
  hash, signatures hash) is queued for anchoring with the case's other records.
* Opening the case of an order that names a contract binds it on the way when the service
  holds it; an order whose contract the service never saw, or does not match, opens as a
  plain order (the parties can still agree to arbitrate later).

Nothing here reads the wall clock: the case service's injected clock is the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend import procedure as p
from backend.db import LeafKind
from backend.db.service_models import SaleContract, SaleContractStatus
from backend.worker.anchoring import enqueue_leaf
from evidence.errors import FormatError
from evidence.marketplace import ContractSummaryJson, ContractViewJson, StandardTermsJson
from evidence.records import (
    ContractOfSale,
    SignedRecord,
    canonical_json,
    normalize_signature,
    recover_signer,
)
from evidence.sale_terms import DISPUTE_CLAUSES, RETURN_POLICIES, RULES_VERSIONS

from .errors import AccessDenied, BadSubmission, Conflict, NotFound
from .escrow import OrderInfo

if TYPE_CHECKING:
    from .cases import CaseService

__all__ = ["CONTRACT_BUNDLE_FORMAT", "Checkout", "standard_terms"]

CONTRACT_BUNDLE_FORMAT = "chainarb.contract-of-sale"


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def standard_terms() -> StandardTermsJson:
    """Every standard text a contract may name, with its text hash, in both languages."""
    def texts(table: Any, extra: str | None = None) -> list[dict[str, Any]]:
        return [{"id": t.id, "hash": _hex(t.hash), "en": t.en, "zh": t.zh,
                 **({extra: getattr(t, extra)} if extra else {})}
                for t in table.values()]
    clauses = [dict(c, arbitrationAgreed=DISPUTE_CLAUSES[c["id"]].arbitration_agreed,
                    jurySmallClaims=DISPUTE_CLAUSES[c["id"]].jury_small_claims)
               for c in texts(DISPUTE_CLAUSES)]
    return {"disputeClauses": clauses, "returnPolicies": texts(RETURN_POLICIES, "days"),
            "rulesVersions": [dict(v, advanceRefund=RULES_VERSIONS[v["id"]].advance_refund)
                              for v in texts(RULES_VERSIONS)]}


@dataclass(frozen=True)
class Checkout:
    """Receives, signs up and binds the contracts of sale of one deployment."""

    cases: CaseService

    # -- receiving ---------------------------------------------------------------------

    def propose(self, record: object) -> ContractViewJson:
        """Store a proposed contract (a ``ContractOfSale`` signed record with zero, one or
        two signatures); proposing the same contract again adds its new signatures."""
        signed = self._checked(record)
        contract = signed.record
        assert isinstance(contract, ContractOfSale)
        now = self.cases.now()
        self._require_open(contract, now)
        signers = self._signers(signed)
        key = _hex(signed.record_hash)
        for attempt in (1, 2):  # a concurrent first proposal of the same contract: merge
            with self.cases.repository.write_session() as session:
                row = self._row(session, key, missing_ok=True)
                if row is None:
                    row = SaleContract(
                        record_hash=key, buyer=contract.buyer, seller=contract.seller,
                        status=SaleContractStatus.PROPOSED,
                        record=SignedRecord(signed.domain, contract).to_json_obj(),
                        offer_expires_at=datetime.fromtimestamp(contract.offer_expires_at,
                                                                UTC),
                        created_at=now, updated_at=now)
                self._add_signatures(row, signers, now)
                session.add(row)
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    if attempt == 2:
                        raise
                    continue
            break
        return self.read(key)

    def sign(self, contract_hash: str, signature: str) -> ContractViewJson:
        """Add the buyer's or the seller's signature (65 bytes, 0x-hex)."""
        key = self._key(contract_hash)
        with self.cases.repository.write_session() as session:
            row = self._row(session, key)
            signed = SignedRecord.from_json_obj(row.record)
            contract = signed.record
            assert isinstance(contract, ContractOfSale)
            self._require_open(contract, self.cases.now())
            sig = normalize_signature(signature)  # refusals: evidence.errors, at the edge
            who = self._signer(contract, signed.record_hash, sig)
            self._add_signatures(row, {who: sig}, self.cases.now())
            session.add(row)
            session.commit()
        return self.read(key)

    # -- binding -----------------------------------------------------------------------

    def bind(self, contract_hash: str) -> ContractSummaryJson:
        """Bind the contract to the escrow order that names it; create the order's case with
        the clause's agreement to arbitrate; queue the contract's leaf. Idempotent."""
        key = self._key(contract_hash)
        row = self._load(key)
        if row.status == SaleContractStatus.BOUND:
            return self._summary(row)
        self._require_both(row)
        order_id = self.cases.port.order_of_contract(key)
        if order_id == 0:
            raise Conflict(f"no escrow order binds contract {key} yet: the buyer opens it "
                           "with openOrderWithContract(…, contractHash)",
                           code="contract_no_order")
        return self._bind_order(key, self.cases.port.read_order(order_id))

    def bind_on_open(self, order: OrderInfo) -> bool:
        """Called when a party opens the case of ``order``: bind its contract if the service
        holds a matching, signed one. True when the case was created here."""
        if not int(order.contract_hash, 16):
            return False
        row = self._load(order.contract_hash.lower(), missing_ok=True)
        if row is None:
            return False
        try:
            self._require_both(row)
            self._bind_order(row.record_hash, order)
        except (Conflict, BadSubmission):
            return False  # opens as a plain order; the refusal is the bind route's to give
        return True

    def _bind_order(self, key: str, order: OrderInfo) -> ContractSummaryJson:
        row = self._load(key)
        signed = SignedRecord.from_json_obj(row.record)
        contract = signed.record
        assert isinstance(contract, ContractOfSale)
        if order.contract_hash.lower() != key:
            raise Conflict(f"order {order.order_id} binds contract {order.contract_hash}, "
                           f"not {key}", code="contract_terms_mismatch")
        self._require_terms(contract, order)
        from .cases import case_id_for_order  # the facade imports this module

        case_id = case_id_for_order(self.cases.domain, order.order_id)
        now = self.cases.now()
        state = p.new_case(
            case_id=case_id,
            order=p.Order(order_id=order.order_id, buyer=order.buyer, seller=order.seller,
                          amount=order.amount, guarantee=order.guarantee,
                          arbitration_agreed=contract.clause.arbitration_agreed),
            institution=self.cases.config.admins | {self.cases.institution_address},
            rules=self.cases.config.rules)
        self.cases.repository.create(state, order_id=order.order_id, buyer=order.buyer,
                                     seller=order.seller, now=now)
        with self.cases.repository.write_session() as session:
            row = self._row(session, key)
            if row.status != SaleContractStatus.BOUND:
                row.status = SaleContractStatus.BOUND
                row.order_id = order.order_id
                row.case_id = case_id
                row.updated_at = now
                session.add(row)
                session.flush()
                assert row.id is not None
                full = SignedRecord.from_json_obj(row.record)
                enqueue_leaf(session, kind=LeafKind.CONTRACT, ref_id=row.id, case_id=case_id,
                             value=(case_id, _hex(full.record_hash),
                                    _hex(full.signatures_hash)))  # anchored and logged
                session.commit()
        return self._summary(self._load(key))

    # -- reading -----------------------------------------------------------------------

    def read(self, contract_hash: str, user: str | None = None) -> ContractViewJson:
        """The contract as the API shows it (``NotFound`` for an unknown hash). With
        ``user``: only its buyer, its seller or an admin reads it."""
        row = self._load(self._key(contract_hash))
        if user is not None and user not in (row.buyer, row.seller) \
                and not self.cases.is_admin(user):
            raise AccessDenied(f"only the contract's buyer {row.buyer}, its seller "
                               f"{row.seller} or an admin reads it; you are {user}")
        return self._view(row)

    def _load(self, key: str, *, missing_ok: bool = False) -> Any:
        """The row, read in a session of its own and detached (its columns loaded)."""
        with self.cases.sessions() as session:
            row = self._row(session, key, missing_ok=missing_ok)
            if row is not None:
                session.expunge(row)
            return row

    # -- checks ------------------------------------------------------------------------

    def _checked(self, record: object) -> SignedRecord:
        try:
            signed = SignedRecord.from_json_obj(record)
        except FormatError as exc:  # not a signed record at all: say so in the API's words
            if exc.code != FormatError.code:
                raise  # a documented refusal of its own (invalid_address, unsupported_version)
            raise BadSubmission(f"record: {exc}", code="invalid_record") from exc
        if not isinstance(signed.record, ContractOfSale):
            raise BadSubmission(f"expected a ContractOfSale record, found "
                                f"{signed.record.TYPE_NAME}", code="wrong_record_type")
        domain = self.cases.domain
        if signed.domain != domain:
            raise BadSubmission(
                f"the contract is signed for chain {signed.domain.chain_id} escrow "
                f"{signed.domain.verifying_contract}; this deployment is chain "
                f"{domain.chain_id} escrow {domain.verifying_contract} (GET /eip712-domain)",
                code="contract_wrong_domain")
        institution = signed.record.institution
        if institution != self.cases.institution_address:
            raise BadSubmission(f"the contract names the institution {institution}, not this "
                                f"one ({self.cases.institution_address})",
                                code="wrong_institution")
        return signed

    @staticmethod
    def _require_open(contract: ContractOfSale, now: datetime) -> None:
        if int(now.timestamp()) >= contract.offer_expires_at:
            at = datetime.fromtimestamp(contract.offer_expires_at, UTC).isoformat()
            raise Conflict(f"the offer expired at {at}; propose a new contract",
                           code="contract_offer_expired")

    def _signers(self, signed: SignedRecord) -> dict[str, bytes]:
        contract = signed.record
        assert isinstance(contract, ContractOfSale)
        return {self._signer(contract, signed.record_hash, s): s for s in signed.signatures}

    @staticmethod
    def _signer(contract: ContractOfSale, digest: bytes, signature: bytes) -> str:
        who = recover_signer(digest, signature)
        if who not in (contract.buyer, contract.seller):
            raise AccessDenied(
                f"signed by {who}, who is neither the buyer {contract.buyer} nor the seller "
                f"{contract.seller} (another key, or another contract or domain)",
                code="contract_wrong_signer")
        return who

    @staticmethod
    def _add_signatures(row: SaleContract, new: dict[str, bytes], now: datetime) -> None:
        signed = SignedRecord.from_json_obj(row.record)
        have = {recover_signer(signed.record_hash, s): s for s in signed.signatures}
        merged = {**new, **have}  # a party's first signature stays
        if len(merged) == len(have):
            return
        full = SignedRecord(signed.domain, signed.record, tuple(merged.values()))
        row.record = full.to_json_obj()
        row.updated_at = now
        if len(merged) == 2 and row.status == SaleContractStatus.PROPOSED:
            row.status = SaleContractStatus.SIGNED

    def _require_both(self, row: SaleContract) -> None:
        signed = SignedRecord.from_json_obj(row.record)
        contract = signed.record
        assert isinstance(contract, ContractOfSale)
        signers = {recover_signer(signed.record_hash, s) for s in signed.signatures}
        if not signers:
            raise Conflict("the contract is unsigned: the buyer and the seller sign it "
                           "(POST /contracts/{hash}/signatures)", code="contract_unsigned")
        missing = [f"{role} {who}" for role, who in (("buyer", contract.buyer),
                                                    ("seller", contract.seller))
                   if who not in signers]
        if missing:
            raise Conflict(f"the contract is one-sided: the {missing[0]} has not signed it",
                           code="contract_one_sided")

    def _require_terms(self, contract: ContractOfSale, order: OrderInfo) -> None:
        if order.amount != contract.amount or order.token.lower() != contract.token.lower():
            raise Conflict(
                f"order {order.order_id} escrows {order.amount} of token {order.token}; the "
                f"contract's price is {contract.amount} of {contract.token}",
                code="contract_price_mismatch")
        institution = order.institution
        if institution != contract.institution:
            institution = self.cases.port.institution_of(order.institution)
        for what, have, want in (
                ("buyer", order.buyer, contract.buyer),
                ("seller", order.seller, contract.seller),
                ("institution", institution, contract.institution),
                ("delivery deadline", order.delivery_deadline, contract.delivery_deadline),
                ("rules hash", order.rules_hash.lower(), _hex(contract.rules_hash))):
            if have != want:
                raise Conflict(f"order {order.order_id}'s {what} is {have}, the contract's "
                               f"is {want}", code="contract_terms_mismatch")

    # -- rows and views ----------------------------------------------------------------

    @staticmethod
    def _key(contract_hash: str) -> str:
        key = contract_hash.lower()
        if len(key) != 66 or not key.startswith("0x"):
            raise NotFound(f"no contract {contract_hash}: a contract hash is 0x + 64 hex digits")
        return key

    @staticmethod
    def _row(session: Session, key: str, *, missing_ok: bool = False) -> Any:
        row = session.exec(select(SaleContract).where(
            col(SaleContract.record_hash) == key)).first()
        if row is None and not missing_ok:
            raise NotFound(f"no contract {key}")
        return row

    def _summary(self, row: SaleContract) -> ContractSummaryJson:
        """What anyone who knows the hash (it is on chain) may learn."""
        return self._read(row)[1]

    def _view(self, row: SaleContract) -> ContractViewJson:
        """The summary with the record and its typed data (the goods and the price)."""
        signed, summary = self._read(row)
        contract = signed.record
        assert isinstance(contract, ContractOfSale)
        return {**summary, "buyer": contract.buyer, "seller": contract.seller,
                "record": signed.to_json_obj(),
                "typedData": contract.typed_data_json(signed.domain)}

    def _read(self, row: SaleContract) -> tuple[SignedRecord, ContractSummaryJson]:
        """The row's signed record and its summary (storing the bundle once both signed)."""
        signed = SignedRecord.from_json_obj(row.record)
        contract = signed.record
        assert isinstance(contract, ContractOfSale)
        signers = {recover_signer(signed.record_hash, s) for s in signed.signatures}
        if row.status == SaleContractStatus.SIGNED and row.cid is None:
            self._store(row, signed)
        clause = contract.clause
        return signed, {
            "contractHash": row.record_hash,
            "status": str(row.status),
            "signedBy": {"buyer": contract.buyer in signers,
                         "seller": contract.seller in signers},
            "orderId": None if row.order_id is None else str(row.order_id),
            "caseId": row.case_id,
            "cid": row.cid,
            "arbitrationAgreed": clause.arbitration_agreed,
            "clause": {"id": clause.id, "en": clause.en, "zh": clause.zh},
            "offerExpiresAt": row.offer_expires_at.astimezone(UTC).isoformat(),
        }

    def _store(self, row: SaleContract, signed: SignedRecord) -> None:
        """Both signed: the bundle goes to IPFS (encrypted) and the row keeps its CID."""
        bundle = canonical_json({"format": CONTRACT_BUNDLE_FORMAT, "v": 1,
                                 "record": signed.to_json_obj(),
                                 "terms": self._terms(signed)})
        cid, wraps = self.cases.store.put_bundle(bundle, confidential=True)
        with self.cases.repository.write_session() as session:
            stored = self._row(session, row.record_hash)
            if stored.cid is None:
                stored.cid, stored.data_key_wraps = cid, wraps
                session.add(stored)
                session.commit()
        row.cid, row.data_key_wraps = cid, wraps

    @staticmethod
    def _terms(signed: SignedRecord) -> dict[str, Any]:
        """The standard texts the contract names, in both languages, as signed."""
        c = signed.record
        assert isinstance(c, ContractOfSale)
        return {name: {"id": t.id, "en": t.en, "zh": t.zh}
                for name, t in (("disputeClause", c.clause),
                                ("returnPolicy", RETURN_POLICIES[c.return_policy]),
                                ("rulesVersion", RULES_VERSIONS[c.rules_version]))}
