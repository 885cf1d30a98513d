"""The step store: a step's record, bundle, IPFS copy and Merkle leaf, written together.

Why one module: a stored step is several rows and blocks that must agree (the ``Step``
row, its ``StepDetail``, the bundle's CID, the data key wrapped for the service key when
the bundle is confidential, a document attached to it, and the pending leaf the
anchoring worker will put on chain). Writing them in one place keeps them in one
transaction and in one format (``BUNDLE_FORMAT``, what the judicial package reads).

The bundle is built before the write lock (``prestore``): its bytes, encryption, CID and
key wrap run beside other requests instead of inside the serialised section. With the
service's local store (``ServiceBlockstore``) its blocks are then written in the step's own
transaction (one commit, no file; a refused step leaves nothing); with any other store
(kubo, a test's) they are written before the lock, as files or to the node.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col

from backend import procedure as p
from backend.db import Leaf, LeafKind
from backend.db.blocks import BlockCollector, Dependent, ServiceBlockstore, insert_step_rows
from backend.db.service_models import OfferSignature, StepDetail, details_of_case
from backend.log.store import Appended
from backend.worker.anchoring import leaf_row, log_leaf
from evidence.encryption import Header, encrypt_bytes, generate_data_key
from evidence.ipfs import Blockstore, add_bytes_text
from evidence.records import (
    Award,
    ChainedRecord,
    EvidenceSubmission,
    ReturnAward,
    SignedRecord,
    canonical_json,
)
from evidence.safejson import JsonObject

from .errors import BadSubmission
from .jury_masks import JURY_SEALED_ACTIONS, names_a_juror
from .keys import ServiceKey
from .steps import CONFIDENTIAL_ACTIONS, DOCUMENT_FIELDS, Translated

__all__ = [
    "BUNDLE_CHUNK_SIZE",
    "BUNDLE_FORMAT",
    "CONFIDENTIAL_ACTIONS",
    "Prestored",
    "StepStore",
    "StoredStep",
    "check_document",
    "hex0x",
    "signer_of",
]

BUNDLE_FORMAT = "chainarb.step"
BUNDLE_CHUNK_SIZE = 64 * 1024
_BUNDLE_FORMAT_JSON = canonical_json(BUNDLE_FORMAT)
MAX_INLINE_DOCUMENT_CHARS = 14_000_000  # base64 of 10 MB


def hex0x(b: bytes) -> str:
    return "0x" + b.hex()


def signer_of(signed: SignedRecord) -> str:
    """The signer field of a chained record (verified before it gets here, or signed by
    the institution key here): no second signature recovery."""
    field_name = signed.record.SIGNER_FIELD
    assert field_name is not None
    return str(signed.record.message()[field_name])


@dataclass(frozen=True, slots=True)
class StoredStep:
    """What a stored step's caller reads back (not an ORM ``Step``: building one cost
    more than its INSERT, issue 10)."""

    id: int
    sequence: int
    record_hash: str
    cid: str | None
    log: Appended | None = None  # its entry in the institution's log (the receipt's index)


@dataclass(frozen=True)
class Prestored:
    """A step's IPFS record built before the write lock (see ``StepStore.prestore``)."""

    bundle: bytes
    confidential: bool
    data_key_wraps: str | None  # KeyWraps JSON for the service key (never the plain key)
    cid: str
    # its blocks (binary CID, bytes) when the step's transaction writes them (empty: the
    # blockstore has them already)
    blocks: tuple[tuple[bytes, bytes], ...] = ()
    # the state and award hash it was translated against, and the translation: the
    # locked section reuses it when it locks the very same state (translate is pure)
    case: p.CaseState | None = None
    award_hash: str | None = None
    translated: Translated | None = None


class StepStore:
    """Writes steps (rows, IPFS bundle, leaf) and reads back what later steps need."""

    def __init__(self, blockstore: Blockstore, keys: ServiceKey) -> None:
        self.blockstore = blockstore
        self.keys = keys
        # the service's local store: step blocks go in the step's transaction
        self._in_transaction = isinstance(blockstore, ServiceBlockstore)

    @staticmethod
    def is_confidential(action: str, case: p.CaseState, bundle: bytes = b"") -> bool:
        """Offers and anything said in facilitation are kept encrypted at rest; so is a
        jury step that names a juror or the pool (docs/jury.md §4: jurors are pseudonyms
        to the parties, who may hold a step's CID)."""
        return action in CONFIDENTIAL_ACTIONS or case.stage in (p.Stage.FACILITATION,) \
            or action in JURY_SEALED_ACTIONS or names_a_juror(bundle, case)

    @staticmethod
    def bundle(signed: SignedRecord, action: str, payload: bytes | None,
               attachments: Sequence[SignedRecord], authorization: SignedRecord | None
               ) -> bytes:
        """Canonical JSON of the step's IPFS record (what its CID addresses):
        ``bundle_json``'s bytes, spliced from each record's canonical text (kept by the
        record) in the canonical key order instead of re-encoding the records' objects."""
        return b"".join((
            b'{"action":', canonical_json(action),
            b',"attachments":[', b",".join([a.to_json() for a in attachments]),
            b'],"authorization":', authorization.to_json() if authorization else b"null",
            b',"format":', _BUNDLE_FORMAT_JSON,
            b',"payload":', canonical_json(json.loads(payload)) if payload is not None
            else b"null",
            b',"record":', signed.to_json(), b',"v":1}',
        ))

    @staticmethod
    def bundle_json(signed: SignedRecord, action: str, payload: bytes | None,
                    attachments: Sequence[SignedRecord], authorization: SignedRecord | None
                    ) -> bytes:
        """The bundle as one ``canonical_json`` of its object: what ``bundle`` must equal
        (the tests hold them equal)."""
        return canonical_json({
            "format": BUNDLE_FORMAT, "v": 1, "action": action,
            "record": signed.to_json_obj(),
            "payload": json.loads(payload) if payload is not None else None,
            "attachments": [a.to_json_obj() for a in attachments],
            "authorization": authorization.to_json_obj() if authorization else None,
        })

    def prestore(self, signed: SignedRecord, t: Translated, case: p.CaseState,
                 authorization: SignedRecord | None) -> Prestored:
        """Build (and, unless the step's transaction writes them, store) the bundle of a
        step translated on the last committed state; ``insert`` reuses it only if its bytes
        and confidentiality come out the same under the lock."""
        bundle = self.bundle(signed, t.action, t.payload, t.attachments, authorization)
        confidential = self.is_confidential(t.action, case, bundle)
        cid, wraps, blocks = self._bundle_blocks(bundle, confidential)
        return Prestored(bundle, confidential, wraps, cid, blocks)

    def insert(self, session: Session, case_id: str, case: p.CaseState,
               signed: SignedRecord, action: str, now: datetime, *,
               payload: bytes | None, attachments: Sequence[SignedRecord] = (),
               authorization: SignedRecord | None = None,
               command: JsonObject | None = None,
               document: Mapping[str, object] | None = None,
               prepared: Prestored | None = None,
               also: Sequence[Dependent] = ()) -> StoredStep:
        """Store one step of ``case`` (its state before the step) in the caller's
        transaction: the bundle in IPFS, the rows, the pending Merkle leaf; flushed.
        ``also``: rows of the step's transaction stored with the step's own (on
        PostgreSQL in its statement: ``insert_step_rows``)."""
        rec = signed.record
        assert isinstance(rec, ChainedRecord), "the pipeline locates a step first"
        bundle = self.bundle(signed, action, payload, attachments, authorization)
        confidential = self.is_confidential(action, case, bundle)
        wraps: str | None
        if prepared is not None and prepared.bundle == bundle \
                and prepared.confidential == confidential:
            wraps, cid, blocks = prepared.data_key_wraps, prepared.cid, prepared.blocks
        else:
            cid, wraps, blocks = self._bundle_blocks(bundle, confidential)
        # signed records' JSON and encrypted documents' entries, side by side
        stored_attachments: list[Mapping[str, object]] = [a.to_json_obj() for a in attachments]
        if document is not None:
            stored_attachments.append(self._put_document(document))
        values: dict[str, Any] = dict(  # the row's columns, of their several types
            case_id=case_id, sequence=rec.sequence, kind=action, record=signed.to_json_obj(),
            signature=hex0x(signed.signatures[0]), signer=signer_of(signed),
            record_hash=hex0x(signed.record_hash), prev_hash=hex0x(rec.prev_hash),
            cid=cid, created_at=now)
        # Core INSERTs (backend/db/rows.py): the step's rows cost a third of ORM flushes
        # blocks: the service's local store, in this transaction (backend/db/blocks.py)
        # with its detail and its anchoring leaf: on PostgreSQL one statement
        detail = dict(
            case_id=case_id, action=action, command=command or {},
            payload=payload.decode() if payload is not None else None,
            attachments=stored_attachments,
            authorization=authorization.to_json_obj() if authorization else None,
            confidential=confidential, data_key_wraps=wraps,
            bundle_cid=cid,
            signed_at=datetime.fromtimestamp(rec.signed_at, UTC),
            created_at=now)
        leaf = signed.merkle_leaf()
        step_id, *_keys = insert_step_rows(session, blocks, values, [
            (StepDetail, "step_id", detail),
            (Leaf, "ref_id", leaf_row(LeafKind.STEP, case_id, leaf)), *also])
        appended = log_leaf(session, kind=LeafKind.STEP, ref_id=step_id, case_id=case_id,
                            value=leaf, now=now,
                            log_kind="evidence" if isinstance(rec, EvidenceSubmission)
                            else "step")
        return StoredStep(id=step_id, sequence=values["sequence"],
                          record_hash=values["record_hash"], cid=cid, log=appended)

    @staticmethod
    def offer_signature(case_id: str, t: Translated, now: datetime) -> Dependent | None:
        """The row that keeps a party's EIP-712 settlement signature (the escrow's
        settlement call needs both parties'), if the step carries one: stored with the
        step (``insert``'s ``also``: on PostgreSQL one round trip fewer per offer)."""
        if t.settlement is None or t.offer_id is None:
            return None
        return (OfferSignature, None, dict(
            case_id=case_id, offer_id=t.offer_id, signer=t.command.actor,
            signature=hex0x(t.settlement.signatures[0]),
            record_hash=hex0x(t.settlement.record_hash), created_at=now))

    @staticmethod
    def award_record_hash(session: Session, case_id: str, case: p.CaseState) -> str | None:
        """Record hash of the binding award's Award record (panel's if any), or None; for a
        jury's verdict (no Award record exists) the tally's hash (docs/jury.md)."""
        if case.final_award is None:
            return None
        if case.award is None and case.panel_award is None and case.jury_verdict is not None:
            return case.jury_tally_hash
        action = "award.panel_signed" if case.panel_award is not None else "award.issued"
        details = session.exec(details_of_case(case_id).where(
            col(StepDetail.action) == action)).all()
        final = case.final_award
        for d in details:
            for att in d.attachments:
                if att.get("type") in ("Award", "ReturnAward"):
                    a = SignedRecord.from_json_obj(att)
                    if isinstance(a.record, Award | ReturnAward) and \
                            hex0x(a.record.award_hash) == final.award_hash:
                        return hex0x(a.record_hash)
        return None

    # -- IPFS -------------------------------------------------------------------------------

    def put(self, data: bytes, data_key: bytes | None, blockstore: Blockstore | None = None
            ) -> tuple[str, Header | None]:
        """Store bytes in IPFS (in ``blockstore``, default the service's; encrypted under
        ``data_key`` when given); returns the CID and the container's header (None when
        stored plain), which a key wrap binds."""
        header: Header | None = None
        if data_key is not None:
            # small chunks: a step bundle is a few KiB; the bytes are encrypt_stream's
            header, data = encrypt_bytes(data, data_key, chunk_size=BUNDLE_CHUNK_SIZE)
        store = self.blockstore if blockstore is None else blockstore
        return add_bytes_text(data, cid_version=1, blockstore=store), header

    def put_bundle(self, bundle: bytes, confidential: bool,
                   blockstore: Blockstore | None = None) -> tuple[str, str | None]:
        """Store a bundle (in ``blockstore``, default the service's); returns its CID and,
        when confidential, its fresh data key wrapped for the service key (the only form
        in which the key is kept)."""
        if not confidential:
            return self.put(bundle, None, blockstore)[0], None
        data_key = generate_data_key()
        cid, header = self.put(bundle, data_key, blockstore)
        assert header is not None
        return cid, self.keys.wrap(data_key, header)

    def _bundle_blocks(self, bundle: bytes, confidential: bool
                       ) -> tuple[str, str | None, tuple[tuple[bytes, bytes], ...]]:
        """A step bundle's CID, key wrap and, for the step's transaction to write, its
        blocks; with a store outside the database, stored now and no blocks."""
        if not self._in_transaction:
            return *self.put_bundle(bundle, confidential), ()
        collector = BlockCollector()
        cid, wraps = self.put_bundle(bundle, confidential, collector)
        return cid, wraps, tuple(collector.blocks)

    def _put_document(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """Store a step's document encrypted; returns its attachment entry."""
        content = document_bytes(document)
        doc_key = generate_data_key()
        doc_cid, doc_header = self.put(content, doc_key)
        assert doc_header is not None
        return {"type": "Document", "filename": str(document.get("filename", "document")),
                "mediaType": str(document.get("media_type", "application/octet-stream")),
                "sha256": "0x" + hashlib.sha256(content).hexdigest(),
                "cid": doc_cid, "keywraps": self.keys.wrap(doc_key, doc_header)}


def check_document(t: Translated, document: Mapping[str, object] | None) -> None:
    """A step's inline document must be one its command takes, with the signed SHA-256."""
    if document is None:
        return
    name = DOCUMENT_FIELDS.get(type(t.command))
    if name is None:
        raise BadSubmission(f"document: {t.action} takes no document")
    content = document_bytes(document)
    digest = "0x" + hashlib.sha256(content).hexdigest()
    if digest != getattr(t.command, name):
        raise BadSubmission(f"document: its SHA-256 {digest} is not the signed {name} "
                            f"{getattr(t.command, name)}", code="document_mismatch")


def document_bytes(document: Mapping[str, object]) -> bytes:
    raw = document.get("content_base64")
    if not isinstance(raw, str):
        raise BadSubmission("document.content_base64: expected base64 text")
    if len(raw) > MAX_INLINE_DOCUMENT_CHARS:
        raise BadSubmission("document: at most 10 MB inline; upload larger files as evidence")
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise BadSubmission("document.content_base64: not valid base64") from None
