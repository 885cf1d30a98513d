"""Evidence upload and reading: streamed, sniffed, committed, encrypted, in IPFS, signed.

Theory of operation (docs/evidence-upload.md has the HTTP view and the decisions):

1. **Upload (stage).** A party streams a file. ``UploadPipeline`` sees every byte once:
   the first 8 KiB decide the media type from magic bytes (``detect_media_type``:
   ``filetype`` plus a strict UTF-8 text check that refuses markup and script in any
   encoding) against ``ALLOWED_MEDIA_TYPES``; the client's declared type is only
   recorded (a mismatch is noted in the provenance log), and the stored name takes the
   detected type's extension. Then each byte goes, in one
   pass, into SHA-256, the AES-256-GCM container (``evidence.encryption``, a fresh data
   key per item) and the UnixFS importer, which writes the container's blocks to the
   blockstore and yields its CID. Memory is one encryption chunk (1 MiB) whatever the
   file's size. Above the size limit, on an empty file, a refused type or any error, the
   blocks already written are deleted (when the store can delete; a kubo node's unpinned
   blocks are garbage) and nothing is stored in the database.
2. **Commitment and wraps.** ``commitment = SHA-256(tag ‖ salt ‖ SHA-256(file))`` with a
   fresh salt, or the client's own salt so it can compute the commitment before it uploads
   (it may also send the SHA-256 it computed; the server refuses a mismatch: the bytes
   changed on the way). The data key is wrapped (``KeyWraps``) for the service's X25519
   key (derived from the institution key, so there is no second secret to keep) and for
   each case member the disclosure rules let read the item and who registered an X25519
   key; readers added later (an arbitrator appointed, a court given access) get a wrap
   when they ask for it, without touching the container or its CID.
3. **Sign (submit).** The staged item answers with the ``EvidenceSubmission`` typed data
   (commitment, CID, the case's next position in the step chain). The party checks the
   commitment against its own file, signs it with its wallet, and posts the signature.
   The record must be for this case, by this party, and name exactly this commitment and
   CID; then it goes through the case service as a step (procedure, hash chain, leaf for
   anchoring, notices) in one transaction, and the item is bound to it.
4. **Provenance.** Every step of 1–3 is an entry of the item's pre-chain log, signed by
   the service (``backend.services.provenance``); the Merkle batch and the anchoring
   transaction are appended once the worker confirmed them (``complete_provenance``).
5. **Reading.** Content is decrypted with the service key and streamed only to a viewer
   ``procedure.can_see`` allows (the submitter; the other party per the rules; the
   mediator, tribunal and court per stage); an unsigned staged item only to its uploader.
   Admins see metadata, never content.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, NotRequired

import filetype
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select
from typing_extensions import TypedDict

from backend import procedure as p
from backend.answers import AS_OBJECT, open_answer
from backend.db import (
    AnchorBatch,
    AnchorInclusion,
    AnchorStatus,
    Case,
    EvidenceItem,
    Leaf,
    LeafKind,
    Step,
    begin_exclusive,
    write_scope,
)
from backend.db.service_models import ReaderKey
from backend.log.provenance import log_provenance, logged_entries
from backend.log.service import ReceiptsJson
from backend.log.store import Appended
from evidence.commitment import commitment_of
from evidence.encryption import (
    DEFAULT_CHUNK_SIZE,
    Encryptor,
    Header,
    KeyWraps,
    generate_data_key,
    iter_decrypt,
)
from evidence.errors import EvidenceError, ReplayError, WrongSigner
from evidence.ipfs import Blockstore, CidLike, FileImporter, cat
from evidence.judicial.provenance import origin_of
from evidence.records import (
    Domain,
    EvidenceSubmission,
    SignedRecord,
    SignedRecordJson,
    TypedDataJson,
)
from evidence.safejson import JsonObject

from . import provenance
from .errors import AccessDenied, BadSubmission, Conflict, NotFound, ServiceError
from .keys import ServiceKey, service_x25519_key

if TYPE_CHECKING:  # the case service composes this one
    from .cases import CaseService
    from .pipeline import StepResult

__all__ = [
    "ALLOWED_MEDIA_TYPES",
    "MEDIA_EXTENSIONS",
    "ActiveContent",
    "EmptyUpload",
    "EvidenceItemJson",
    "EvidenceListJson",
    "EvidenceProvenanceJson",
    "EvidenceService",
    "EvidenceSubmittedJson",
    "KeyWrapsJson",
    "NotUploaded",
    "ReaderKeyJson",
    "StagedEvidenceJson",
    "UnsupportedMediaType",
    "UploadPipeline",
    "UploadTooLarge",
    "bind_submission",
    "detect_media_type",
    "require_staged",
    "safe_filename",
    "service_x25519_key",
    "sniff_media_type",
]



# -- the answers (backend/answers.py): an item's metadata, and what opens its commitment ---
# Each answer lists its parts in the order the API has always answered them: the item's
# metadata, then what the answer adds, then the opening (only for those who may read it).


class EvidenceMetaJson(TypedDict):
    """An item's metadata, as every member of the case who may know of it sees it."""

    id: int
    caseId: str
    submitter: str
    commitment: str
    contentCid: str
    size: int
    kind: str
    status: str
    createdAt: str


class OpeningJson(TypedDict):
    """What opens an item's commitment: only for those who may read it."""

    filename: NotRequired[str]
    mediaType: NotRequired[str]
    claimedMediaType: NotRequired[str]
    sha256: NotRequired[str]
    salt: NotRequired[str]


class SigningJson(TypedDict):
    """A staged item's ``EvidenceSubmission`` to sign."""

    typedData: Annotated[TypedDataJson, AS_OBJECT]
    unsignedRecord: Annotated[SignedRecordJson, AS_OBJECT]


@open_answer
class EvidenceListedJson(EvidenceMetaJson, OpeningJson):
    """An item's metadata; ``filename``, ``mediaType``, ``sha256``, ``salt`` only for those
    who may read it."""


class ItemRecordJson(TypedDict):
    """An item's signed record once submitted, else (for its uploader) the typed data to
    sign; neither for another reader of a staged item."""

    record: NotRequired[Annotated[SignedRecordJson, AS_OBJECT]]  # the signed record as stored
    typedData: NotRequired[Annotated[TypedDataJson, AS_OBJECT]]


@open_answer
class EvidenceItemJson(EvidenceListedJson, ItemRecordJson):
    """An item's metadata; ``filename``, ``mediaType``, ``sha256``, ``salt`` only for those
    who may read it; its signed record once submitted, else (for its uploader) the typed
    data to sign."""


@open_answer
class StagedEvidenceJson(EvidenceMetaJson, SigningJson, OpeningJson):
    """A staged upload with the ``EvidenceSubmission`` to sign."""


class SubmittedStepJson(TypedDict):
    """Where a submitted item's step stands in the case."""

    sequence: int
    recordHash: str
    stepCid: str | None
    stage: str


class SubmittedItemJson(EvidenceMetaJson, OpeningJson, SubmittedStepJson):
    """``EvidenceService.submit``: the item and its step, before the receipts."""


@open_answer
class EvidenceSubmittedJson(EvidenceMetaJson, ReceiptsJson, OpeningJson, SubmittedStepJson):
    """A submitted item, with the receipt of its ``EvidenceSubmission`` in the log and one
    for each provenance entry the submission logged (kind ``provenance``)."""


class EvidenceProvenanceJson(TypedDict):
    """An item's provenance log: its signed entries and the origin they say (the route's
    ``ProvenanceOut`` documents it)."""

    itemId: int | None
    commitment: str
    origin: JsonObject
    entries: list[JsonObject]


@open_answer
class EvidenceListJson(TypedDict):
    """``GET /cases/{id}/evidence``: the items the viewer may know of."""

    items: list[EvidenceListedJson]


@open_answer
class KeyWrapsJson(TypedDict):
    """An item's key wraps, for decrypting it offline with one's own X25519 key."""

    cid: str
    keywraps: str
    recipients: dict[str, str]
    service: str | None


@open_answer
class ReaderKeyJson(TypedDict):
    """A member's X25519 public key published, and how many items got a wrap for it."""

    address: str
    publicKey: str
    itemsWrapped: int


SNIFF_BYTES = 8192
MAX_FILENAME_BYTES = 200
PROVENANCE_SESSION_PREFIX = "auth-session:"

# Decision (docs/evidence-upload.md): documents, pictures, recordings and plain text of a
# trade dispute, each with the one extension its stored name gets (never the client's).
# An allow-list: whatever the sniffer cannot name, or names but is not here, is refused.
# No archives (zip, rar, 7z, tar, gz): they hide their content from the sniffer, can be
# bombs, and a court wants each document as itself. No markup or script in any encoding
# (HTML, XHTML, SVG, XML, JavaScript): a browser could run it (``ActiveContent``).
MEDIA_EXTENSIONS: Mapping[str, str] = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
    "image/tiff": "tif", "image/heic": "heic", "image/avif": "avif", "image/bmp": "bmp",
    "video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm", "video/x-m4v": "m4v",
    "audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/ogg": "ogg", "audio/x-wav": "wav",
    "application/msword": "doc", "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/rtf": "rtf",
    "text/plain": "txt",
}
ALLOWED_MEDIA_TYPES: frozenset[str] = frozenset(MEDIA_EXTENSIONS)
_TEXT_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_FILENAME_BAD = re.compile(r"[^\w.\- ()+,@]", re.UNICODE)


# -- refusals ------------------------------------------------------------------------------

class UploadTooLarge(ServiceError):  # noqa: N818 - names the refusal, as errors.py
    code = "upload_too_large"
    http_status = 413


class UnsupportedMediaType(ServiceError):  # noqa: N818
    code = "unsupported_media_type"
    http_status = 415


class ActiveContent(UnsupportedMediaType):
    """Markup or script a browser could run (HTML, XHTML, SVG, XML, JavaScript), in any
    encoding, or hidden behind an allowed format's magic bytes (a polyglot)."""

    code = "active_content"


class EmptyUpload(BadSubmission):
    code = "empty_file"


class NotUploaded(Conflict):
    code = "evidence_not_uploaded"


def require_staged(session: Session, case_id: str, record: EvidenceSubmission) -> EvidenceItem:
    """The staged upload an ``EvidenceSubmission`` step must name.

    ``CaseService.submit_step`` calls it for every such step (the evidence routes, the step
    route ``POST /cases/{id}/evidence-submissions``, the web pages), inside the step's
    locked transaction: a submission is accepted only for a file this service received,
    hashed, encrypted and stored: same case, same uploader, same commitment and CID, not
    yet submitted. Without this check a record could commit to a file nobody can ever open
    (and the case's judicial package would fail its evidence check).
    """
    item = session.exec(select(EvidenceItem).where(
        col(EvidenceItem.case_id) == case_id.lower(),
        col(EvidenceItem.commitment) == _h(record.commitment))).first()
    if item is None or item.cid != record.content_cid or item.submitter != record.submitter:
        raise NotUploaded("no upload of yours in this case has this commitment and CID: "
                          "upload the file with POST /cases/{id}/evidence and sign the record "
                          "it returns (POST /cases/{id}/evidence/{item}/submit)")
    if item.record is not None:
        raise Conflict("this evidence item is already submitted", code="already_submitted")
    return item


def bind_submission(session: Session, item: EvidenceItem, signed: SignedRecord, sequence: int,
                    record_hash: str, *, keys: ServiceKey, domain: Domain, service_key: str,
                    now: datetime) -> None:
    """Bind a stored ``EvidenceSubmission`` step to its staged item (caller's transaction:
    the step and the binding commit together, so no item is left staged behind a step).

    Appends the signed ``record.signed`` provenance entry and a key wrap for every
    registered reader the rules now allow."""
    leaf = session.exec(select(Leaf).join(Step, col(Step.id) == col(Leaf.ref_id)).where(
        col(Leaf.kind) == LeafKind.STEP, col(Step.record_hash) == record_hash)).first()
    item.record = signed.to_json_obj()
    item.signature = _h(signed.signatures[0])
    item.provenance = provenance.append(
        item.provenance, [("record.signed", item.submitter, item.upload_session,
                           int(now.timestamp()), {
                               "type": "EvidenceSubmission", "sequence": str(sequence),
                               "recordHash": record_hash,
                               "leafHash": leaf.leaf_hash if leaf else "",
                               "queuedForAnchoring": leaf is not None})],
        case_id=bytes.fromhex(item.case_id[2:]), commitment=bytes.fromhex(
            item.commitment[2:]), domain=domain, service_key=service_key)
    session.add(item)
    # the item enters the record now: its whole provenance log so far enters the log, in
    # the step's transaction (docs/log.md §12, kind provenance)
    log_provenance(session, case_id=item.case_id, entries=item.provenance, logged=0,
                   domain=domain, ref_id=item.id, now=now)
    wrap_for_readers(session, item, keys)


def _case_state(session: Session, case_id: str) -> p.CaseState:
    row = session.get(Case, case_id.lower())
    if row is None:
        raise NotFound(f"case {case_id} does not exist")
    return p.case_from_dict(row.state)


def _proc_item(case: p.CaseState, item: EvidenceItem) -> p.EvidenceItem | None:
    for e in case.evidence:
        if e.commitment == item.commitment:
            return e
    return None


def may_read(case: p.CaseState, item: EvidenceItem, viewer: str) -> bool:
    """Content access: the rules for submitted items; staged ones to the uploader only."""
    proc = _proc_item(case, item)
    if proc is None:
        return viewer == item.submitter
    return p.can_see(case, proc, viewer)


def readers_to_wrap(session: Session, item: EvidenceItem) -> list[tuple[str, bytes]]:
    """Registered readers the rules allow who have no wrap of the item's key yet (a read:
    the caller opens a write unit only when there are any)."""
    case = _case_state(session, item.case_id)
    rows = session.exec(select(ReaderKey).where(col(ReaderKey.case_id) == item.case_id)).all()
    keys = {r.address: bytes.fromhex(r.public_key[2:]) for r in rows}
    recipients = item.wrapped_keys.get("recipients", {})
    return [(address, pub) for address, pub in sorted(keys.items())
            if recipients.get(address) != _h(pub) and may_read(case, item, address)]


def wrap_for_readers(session: Session, item: EvidenceItem, keys: ServiceKey) -> bool:
    """Add a wrap for every registered reader the rules now allow; True if any added
    (in the caller's write unit)."""
    todo = readers_to_wrap(session, item)
    if not todo:
        return False
    wk = item.wrapped_keys.copy()
    recipients = dict(wk.get("recipients", {}))
    wraps = KeyWraps.from_json(wk["keywraps"])
    data_key = wraps.unwrap(keys.private)
    changed = False
    for address, pub in todo:
        try:
            wraps = wraps.add(data_key, pub)
        except EvidenceError:
            continue  # a key that cannot be wrapped for (low order): skip it
        recipients[address] = _h(pub)
        changed = True
    if changed:
        wk["keywraps"] = wraps.to_json().decode()
        wk["recipients"] = recipients
        item.wrapped_keys = wk
        item.disclosed_to = sorted(set(item.disclosed_to) | set(recipients))
        session.add(item)
    return changed


# -- pure helpers --------------------------------------------------------------------------

def sniff_media_type(head: bytes) -> str | None:
    """The media type the first bytes show, or None when they show nothing we know.

    Binary formats by their magic (``filetype``); otherwise text/plain if the bytes are
    UTF-8 (a multi-byte sequence cut at the end of the head is allowed) with no control
    characters other than tab, newlines, form feed and escape. It does not look for
    markup: ``detect_media_type`` is the upload's decision.
    """
    kind = filetype.guess(head) if head else None
    if kind is not None:
        return str(kind.mime)
    if not head or _TEXT_CONTROL.search(head):
        return None
    return "text/plain" if _utf8_text(head) is not None else None


# Markup a browser (or an XML parser) would treat as a tag: any ``<!…``, ``<?…`` or
# ``<![CDATA[``, a namespaced element (``<svg:script``), an HTML/SVG/MathML element name,
# or ``<`` written in UTF-7 (``+ADw-``, which old browsers decoded). ``a < b`` and
# ``<alice@example.com>`` are not tags and stay plain text.
_MARKUP = re.compile(
    r"<(?:[!?][A-Za-z\[\-]|/?(?!(?:mailto|tel|urn|sips?|xmpp|news|cid|mid):)"
    r"[A-Za-z][\w.\-]*:[A-Za-z]|/?(?:"
    r"script|html|head|body|svg|iframe|frame|frameset|object|embed|applet|img|image|a|"
    r"style|link|meta|base|form|input|button|math|xml|xsl|xss|title|div|span|table|td|tr|"
    r"p|br|hr|b|i|u|s|h[1-6]|font|video|audio|source|track|template|marquee|isindex|xmp|"
    r"plaintext|noscript|noembed|foreignobject|animate|set|use|details|dialog|textarea|"
    r"select|option|ul|ol|li|pre|code|section|article|nav|header|footer|main|center|"
    r"picture|canvas|portal|slot|param|bgsound|blink|listing|layer|ilayer|keygen"
    r")(?=[\s/>]|$))|\+ADw-",
    re.IGNORECASE,
)
# Text that reads as a script: URL schemes that run code, the DOM and eval-like calls
# anywhere, and the usual first tokens of a JavaScript file.
_SCRIPT_ANYWHERE = re.compile(
    r"(?:java|vb|live)script\s*:|data\s*:\s*text/html|document\s*\.\s*(?:cookie|write|domain"
    r"|location)|window\s*\.\s*(?:location|open)|\beval\s*\(|\bnew\s+Function\s*\(|"
    r"fromCharCode\s*\(|\.innerHTML\b|\bXMLHttpRequest\b|\bimportScripts\s*\(|"
    r"\bsetTimeout\s*\(\s*['\"]",
    re.IGNORECASE,
)
_SCRIPT_START = re.compile(
    r"(?:#!|[\"']use strict[\"']|[(!~+-]\s*function\s*[\w$]*\s*\(|\(\s*\(\s*\)\s*=>|"
    r"function\s*\*?\s*[\w$]*\s*\(|(?:var|let|const)\s+[\w$]+\s*=|"
    r"import\s+[\w${},*\s]+\s+from\s*[\"']|import\s*\(|export\s+(?:default|const|function|"
    r"class|let|var)\b|(?:async\s+)?\(\s*[\w$,\s]*\)\s*=>)"
)
# A binary format's head may carry text (EXIF, XMP, PDF dictionaries) but never these:
# an allowed magic number followed by a page is a polyglot.
_ACTIVE_IN_BINARY = re.compile(
    rb"<(?:script|html|body|iframe|svg|object|embed|frameset|!doctype\s+html)[\s/>]|"
    rb"(?:java|vb)script\s*:",
    re.IGNORECASE,
)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"),
)
_ACCEPTED = ("PDF, images, audio/video recordings, office documents (Word, Excel, PowerPoint, "
             "OpenDocument, RTF) and UTF-8 text without markup")


def _utf8_text(head: bytes) -> str | None:
    """``head`` as UTF-8 text (a sequence cut by the 8 KiB head is allowed), else None."""
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3 or exc.reason != "unexpected end of data":
            return None
        return head[:exc.start].decode("utf-8")


def _wide_text(head: bytes) -> str | None:
    """UTF-16/32 text, with a byte-order mark or without (NULs on every other byte)."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return head[len(bom):].decode(codec, errors="ignore")
    sample = head[:512]
    if len(sample) >= 4:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        half = len(sample) // 2
        if odd > half * 0.6 and even < half * 0.1:
            return head.decode("utf-16-le", errors="ignore")
        if even > half * 0.6 and odd < half * 0.1:
            return head.decode("utf-16-be", errors="ignore")
    return None


def _is_active_text(text: str) -> bool:
    """Whether decoded text is markup or script (case, BOM and leading space ignored)."""
    body = text.lstrip("\ufeff\u200b\u200c\u200d\u2060 \t\r\n\f\v\x00")
    return bool(_MARKUP.search(body) or _SCRIPT_ANYWHERE.search(body)
                or _SCRIPT_START.match(body))


def detect_media_type(head: bytes) -> str:
    """Decide an upload's media type from its first bytes (the client's claim is unused).

    Returns one of ``ALLOWED_MEDIA_TYPES``. Raises ``ActiveContent`` (415) for markup or
    script a browser could run — HTML, XHTML, SVG, XML or JavaScript, in UTF-8 or
    UTF-16/32 with or without a byte-order mark, behind leading whitespace or in any
    letter case, or after an allowed format's magic bytes — and ``UnsupportedMediaType``
    (415) for anything else not on the allow-list (archives, executables, text in another
    encoding, unknown bytes).
    """
    kind = filetype.guess(head) if head else None
    if kind is not None:
        mime = str(kind.mime)
        if mime not in ALLOWED_MEDIA_TYPES:
            raise UnsupportedMediaType(
                f"the file's content is {mime}; accepted: {_ACCEPTED}. Archives are refused: "
                "upload each document by itself")
        if _ACTIVE_IN_BINARY.search(head):
            raise ActiveContent(
                f"the file starts as {mime} but carries markup or script a browser could "
                "run (a polyglot); nothing was stored")
        return mime
    wide = _wide_text(head)
    if wide is not None:
        if _is_active_text(wide):
            raise ActiveContent("the file is UTF-16/32 text holding markup or script (HTML, "
                                "SVG, XML or JavaScript); nothing was stored")
        raise UnsupportedMediaType(f"the file is UTF-16/32 text; accepted: {_ACCEPTED}. "
                                   "Save the text as UTF-8")
    text = None if _TEXT_CONTROL.search(head) else _utf8_text(head)
    if text is None:
        raise UnsupportedMediaType(
            f"the file's content is not a recognised format; accepted: {_ACCEPTED}")
    if _is_active_text(text):
        raise ActiveContent(
            "the file is markup or script (HTML, XHTML, SVG, XML or JavaScript), which a "
            "browser could run; save it as PDF or plain text, or take a screenshot")
    return "text/plain"


def safe_filename(name: str | None, media_type: str = "") -> str:
    """The stored display/download name: the client's stem, the detected type's extension.

    The last path component only, NFC, no control or unusual characters, no leading dot,
    at most ``MAX_FILENAME_BYTES``. The client's extension is dropped and the one of
    ``media_type`` (``MEDIA_EXTENSIONS``) put in its place, so ``photo.html`` holding a
    JPEG is stored as ``photo.jpg``: a name never claims a type the bytes are not.
    """
    raw = unicodedata.normalize("NFC", name or "")
    raw = raw.replace("\\", "/").split("/")[-1]
    raw = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C")
    raw = _FILENAME_BAD.sub("_", raw).strip(" .")
    while raw.startswith("."):
        raw = raw[1:]
    stem, dot, _ext = raw.rpartition(".")
    stem = (stem if dot else raw).strip(" .") or "evidence"
    ext = _extension(media_type)
    budget = MAX_FILENAME_BYTES - len(ext.encode())
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(" .") or "evidence"
    return stem + ext


def _extension(media_type: str) -> str:
    ext = MEDIA_EXTENSIONS.get(media_type.split(";")[0].strip().lower())
    return f".{ext}" if ext else ""


def _h(b: bytes) -> str:
    return "0x" + b.hex()


def _hex32(name: str, value: str | None) -> bytes | None:
    if value is None or value == "":
        return None
    v = value.strip().lower().removeprefix("0x")
    if not re.fullmatch(r"[0-9a-f]{64}", v):
        raise BadSubmission(f"{name}: expected 0x + 64 hex digits, found {value!r}")
    return bytes.fromhex(v)


# -- the one-pass pipeline -------------------------------------------------------------------

class _TrackingBlockstore:
    """Remembers the blocks this upload added, so an aborted upload can remove them."""

    def __init__(self, inner: Blockstore) -> None:
        self.inner = inner
        self.added: list[CidLike] = []

    def get(self, cid: CidLike) -> bytes:
        return self.inner.get(cid)

    def has(self, cid: CidLike) -> bool:
        return self.inner.has(cid)

    @property
    def kind(self) -> str:
        return self.inner.kind

    def put(self, cid: CidLike, data: bytes, *, trusted: bool = False) -> None:
        if not self.inner.has(cid):
            self.added.append(cid)
        self.inner.put(cid, data, trusted=trusted)

    def discard(self) -> None:
        delete = getattr(self.inner, "delete", None)
        if delete is None:
            return  # kubo: blocks written without a pin are garbage-collected
        for cid in self.added:
            with contextlib.suppress(OSError, EvidenceError):
                delete(cid)
        self.added.clear()


@dataclass
class UploadResult:
    media_type: str
    size: int
    sha256: bytes
    cid: str
    data_key: bytes
    wraps_header_hash: bytes
    header: Header
    received_at: datetime
    finished_at: datetime


@dataclass
class UploadPipeline:
    """Feed the file's bytes in any pieces; ``finish()`` gives the CID and the hashes."""

    blockstore: Blockstore
    max_bytes: int
    clock: Callable[[], datetime]
    chunk_size: int = DEFAULT_CHUNK_SIZE
    size: int = 0
    media_type: str | None = None
    _head: bytearray = field(default_factory=bytearray)
    _buf: bytearray = field(default_factory=bytearray)
    _started: bool = False
    _done: bool = False

    def __post_init__(self) -> None:
        self.received_at = self.clock()
        self.data_key = generate_data_key()
        self._enc = Encryptor(self.data_key, self.chunk_size)
        self._hash = hashlib.sha256()
        self._store = _TrackingBlockstore(self.blockstore)
        self._importer = FileImporter(cid_version=1, blockstore=self._store)

    def feed(self, data: bytes) -> None:
        if self._done:
            raise RuntimeError("UploadPipeline.feed() after finish()")
        self.size += len(data)
        if self.size > self.max_bytes:
            self.abort()
            raise UploadTooLarge(
                f"the file exceeds the upload limit of {self.max_bytes} bytes "
                f"({self.max_bytes / 2**20:.1f} MiB); nothing was stored. Split it or "
                "compress it in its own format (e.g. a smaller PDF)")
        if not self._started:
            self._head += data
            if len(self._head) < SNIFF_BYTES:
                return
            self._start()
            return
        self._push(data)

    def _start(self) -> None:
        head = bytes(self._head)
        self._head = bytearray()
        try:
            sniffed = detect_media_type(head)
        except UnsupportedMediaType:
            self.abort()
            raise
        self.media_type = sniffed
        self._started = True
        self._importer.write(self._enc.header_bytes)
        self._push(head)

    def _push(self, data: bytes) -> None:
        self._buf += data
        size = self.chunk_size
        while len(self._buf) > size:  # keep the last chunk back: it may be the final one
            chunk = bytes(self._buf[:size])
            del self._buf[:size]
            self._hash.update(chunk)
            self._importer.write(self._enc.seal(chunk, final=False))

    def finish(self) -> UploadResult:
        if self.size == 0:
            self.abort()
            raise EmptyUpload("the file is empty (0 bytes); nothing was stored")
        if not self._started:
            self._start()
        chunk = bytes(self._buf)
        self._buf = bytearray()
        self._hash.update(chunk)
        self._importer.write(self._enc.seal(chunk, final=True))
        cid = self._importer.finish()
        self._done = True
        assert self.media_type is not None
        return UploadResult(media_type=self.media_type, size=self.size,
                            sha256=self._hash.digest(), cid=str(cid), data_key=self.data_key,
                            wraps_header_hash=self._enc.header.hash, header=self._enc.header,
                            received_at=self.received_at, finished_at=self.clock())

    def abort(self) -> None:
        """Remove what this upload wrote (called on every refusal)."""
        self._done = True
        self._buf = bytearray()
        self._store.discard()


class _IterReader(io.RawIOBase):
    """A read-only stream over an iterator of byte chunks (for iter_decrypt)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._rest:
            try:
                self._rest = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self._rest))
        b[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


# -- the service -------------------------------------------------------------------------------

@dataclass(frozen=True)
class UploadMeta:
    """What the client sent beside the file (all optional except the file)."""

    kind: str = "other"
    claimed_media_type: str = ""
    client_filename: str = ""
    sha256: str | None = None
    salt: str | None = None
    description: str = ""


class EvidenceService:
    def __init__(self, sessions: sessionmaker[Session], cases: CaseService, *,
                 blockstore: Blockstore, max_upload_bytes: int,
                 clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.cases = cases
        self.blockstore = blockstore
        self.max_upload_bytes = max_upload_bytes
        self.clock = clock
        self._service_key = cases.config.institution_key
        self.keys = ServiceKey.from_institution_key(self._service_key)
        self._x25519 = self.keys.private
        self.service_public_key = self.keys.public

    def __repr__(self) -> str:
        return f"EvidenceService(limit={self.max_upload_bytes})"

    @property
    def domain(self) -> Domain:
        return self.cases.domain

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    # -- upload --------------------------------------------------------------------------

    def preflight(self, user: str, case_id: str, kind: str) -> None:
        """Refuse before any byte is read: unknown case, not a party, wrong stage, kind."""
        _row, case = self.cases.load(case_id)
        try:
            kind_enum = p.EvidenceKind(kind)
        except ValueError:
            raise BadSubmission(f"kind: expected one of {[k.value for k in p.EvidenceKind]}, "
                                f"found {kind!r}") from None
        if user not in case.parties and user not in (case.order.buyer, case.order.seller):
            raise AccessDenied(f"only the parties of case {case.case_id} upload evidence; "
                               f"you are {user}")
        dry = p.SubmitEvidence(actor=user, sequence=case.next_sequence, evidence_id="preflight",
                               kind=kind_enum, commitment="0x" + "11" * 32)
        p.apply(case, dry, self.now())  # raises WrongStage / WrongActor / DeadlinePassed

    def start_upload(self) -> UploadPipeline:
        return UploadPipeline(self.blockstore, self.max_upload_bytes, self.now)

    def stage(self, user: str, case_id: str, pipeline: UploadPipeline, meta: UploadMeta,
              session_ref: str) -> StagedEvidenceJson:
        """Finish the pipeline and store the staged item (signed provenance included)."""
        try:
            result = pipeline.finish()
            client_hash = _hex32("sha256", meta.sha256)
            if client_hash is not None and client_hash != result.sha256:
                raise Conflict(f"sha256: you computed {_h(client_hash)}, the server received a "
                               f"file hashing to {_h(result.sha256)}; the bytes changed on the "
                               "way: upload again", code="hash_mismatch")
            salt = _hex32("salt", meta.salt) or secrets.token_bytes(32)
            pin = getattr(self.blockstore, "pin", None)
            if pin is not None:  # kubo: keep the container from garbage collection
                pin(result.cid)
            return self._store_staged(user, case_id, result, meta, salt, session_ref,
                                      pinned=pin is not None)
        except BaseException:
            pipeline.abort()
            raise

    def _store_staged(self, user: str, case_id: str, r: UploadResult, meta: UploadMeta,
                      salt: bytes, session_ref: str, *, pinned: bool) -> StagedEvidenceJson:
        """`pinned`: the store pinned the container (kubo), as the provenance says."""
        commitment = commitment_of(r.sha256, salt)
        filename = safe_filename(meta.client_filename, r.media_type)
        claimed = meta.claimed_media_type[:127]
        mismatch = bool(claimed) and claimed.split(";")[0].strip().lower() != r.media_type
        wraps = KeyWraps.create(r.data_key, r.header, [self.service_public_key])
        t0, t1 = int(r.received_at.timestamp()), int(r.finished_at.timestamp())
        steps: list[provenance.ProvenanceStep] = [
            ("upload.received", user, session_ref, t0, {
                "caseId": case_id, "clientFilename": meta.client_filename[:255],
                "filename": filename, "claimedMediaType": claimed, "kind": meta.kind,
                "description": meta.description[:500], "clientSha256": meta.sha256 or "",
                "clientSalt": bool(meta.salt)}),
            ("file.inspected", user, session_ref, t1, {
                "mediaType": r.media_type, "sniffedFrom": "magic bytes",
                "claimedMediaType": claimed, "claimMismatch": mismatch, "size": str(r.size),
                "limit": str(self.max_upload_bytes)}),
            ("hash.computed", user, session_ref, t1, {"algorithm": "sha-256",
                                                       "sha256": _h(r.sha256)}),
            ("commitment.made", user, session_ref, t1, {
                "scheme": "chainarb.commitment.v1", "commitment": _h(commitment),
                "saltFrom": "client" if meta.salt else "server"}),
            ("encrypted", user, session_ref, t1, {
                "container": "CHARBENC v1 (AES-256-GCM)", "headerHash": _h(r.wraps_header_hash),
                "recipients": ["service:" + _h(self.service_public_key)]}),
            ("ipfs.stored", user, session_ref, t1, {
                "cid": r.cid, "layout": "UnixFS, CIDv1, raw leaves, 256 KiB chunks",
                "store": self.blockstore.kind,  # where put() wrote (a ServiceBlockstore: files)
                "pinned": pinned}),
        ]
        log = provenance.sign_steps(steps, case_id=bytes.fromhex(case_id[2:]),
                                    commitment=commitment, domain=self.domain,
                                    service_key=self._service_key)
        item = EvidenceItem(
            case_id=case_id, submitter=user, filename=filename, media_type=r.media_type,
            size=r.size, sha256=_h(r.sha256), salt=_h(salt), commitment=_h(commitment),
            cid=r.cid, kind=meta.kind, claimed_media_type=claimed, upload_session=session_ref,
            wrapped_keys={"keywraps": KeyWraps.to_json(wraps).decode(),
                          "service": _h(self.service_public_key), "recipients": {}},
            disclosed_to=[user], provenance=log, created_at=self.now())
        with self._write() as session:  # the write lock before the first read
            if session.get(Case, case_id) is None:
                raise NotFound(f"case {case_id} does not exist")
            session.add(item)
            session.flush()
            self._wrap_for_readers(session, item)
        assert item.id is not None  # the flush gave it its key
        with self.sessions() as session:
            item = self._item(session, case_id, item.id)
            return self._staged_view(session, item)

    def _staged_view(self, session: Session, item: EvidenceItem) -> StagedEvidenceJson:
        draft = self._draft(session, item)
        return {**self._metadata(item), **self._opening(item, content=True), "status": "staged",
                "typedData": draft.typed_data_json(self.domain),
                "unsignedRecord": SignedRecord(domain=self.domain, record=draft).to_json_obj()}

    def _draft(self, session: Session, item: EvidenceItem) -> EvidenceSubmission:
        """The EvidenceSubmission for the case's next position in the step chain."""
        position, prev, prev_at = self.cases.chain_head(session, item.case_id)
        return EvidenceSubmission(case_id=bytes.fromhex(item.case_id[2:]), sequence=position,
                                  prev_hash=prev, submitter=item.submitter,
                                  commitment=bytes.fromhex(item.commitment[2:]),
                                  content_cid=item.cid,
                                  signed_at=max(int(self.now().timestamp()), prev_at))

    def _typed_data(self, session: Session, item: EvidenceItem) -> TypedDataJson:
        return self._draft(session, item).typed_data_json(self.domain)

    def typed_data(self, user: str, case_id: str, item_id: int) -> TypedDataJson:
        """A fresh record to sign (when another step took the position in between)."""
        with self.sessions() as session:
            item = self._item(session, case_id, item_id)
            if item.submitter != user:
                raise AccessDenied("only the uploader signs its evidence submission")
            if item.record is not None:
                raise Conflict("this item is already submitted", code="already_submitted")
            return self._typed_data(session, item)

    # -- submit ----------------------------------------------------------------------------

    def submit(self, user: str, case_id: str, item_id: int, record: Mapping[str, object]
               ) -> SubmittedItemJson:
        """Bind the party's signed EvidenceSubmission to the staged item, as a case step."""
        return self.submit_step(user, case_id, item_id, record)[0]

    def submit_step(self, user: str, case_id: str, item_id: int, record: Mapping[str, object]
                    ) -> tuple[SubmittedItemJson, StepResult]:
        """``submit``, also returning the step's result (its log entry: the receipt)."""
        signed = SignedRecord.from_json_obj(dict(record))
        rec = signed.record
        if not isinstance(rec, EvidenceSubmission):
            raise BadSubmission(f"expected an EvidenceSubmission record, found {rec.TYPE_NAME}",
                                code="wrong_record_type")
        if _h(rec.case_id) != case_id.lower():
            raise ReplayError(f"the record is for case {_h(rec.case_id)}, not {case_id}: a "
                              "submission signed for another case cannot be used here")
        if signed.domain != self.domain:
            signed.check_binding(self.domain, case_id=case_id)
        signer = signed.verify()[0]
        with self.sessions() as session:
            item = self._item(session, case_id, item_id)
            if item.record is not None:
                raise Conflict("this item is already submitted", code="already_submitted")
            kind = item.kind
        if signer != user or signer != item.submitter:
            raise WrongSigner(f"the record is signed by {signer}; the item was uploaded by "
                              f"{item.submitter} and you are {user}: the uploader signs")
        if _h(rec.commitment) != item.commitment or rec.content_cid != item.cid:
            raise BadSubmission(
                f"the record names commitment {_h(rec.commitment)} and CID {rec.content_cid}; "
                f"this upload is commitment {item.commitment}, CID {item.cid}: sign the "
                "typed data the upload returned", code="commitment_mismatch")
        # the case service checks the upload again under its lock and binds it in the
        # step's own transaction (require_staged, bind_submission)
        result = self.cases.submit_step(user, case_id, {
            "record": signed.to_json_obj(),
            "payload": {"kind": kind, "evidenceId": f"ev{item_id}"}})
        with self.sessions() as session:
            item = self._item(session, case_id, item_id)
            return {**self._metadata(item), **self._opening(item, content=True),
                    "status": "submitted",
                    "sequence": result.sequence, "recordHash": result.record_hash,
                    "stepCid": result.cid, "stage": result.stage}, result

    def provenance_logged(self, case_id: str, item_id: int) -> list[Appended]:
        """Where the item's provenance entries are in the institution's log (their
        receipts answer the submission)."""
        with self.sessions() as session:
            item = self._item(session, case_id, item_id)
            return logged_entries(session, item.case_id, item.provenance, self.domain)

    def _bind(self, session: Session, item: EvidenceItem, signed: SignedRecord, sequence: int,
              record_hash: str) -> None:
        bind_submission(session, item, signed, sequence, record_hash, keys=self.keys,
                        domain=self.domain, service_key=self._service_key, now=self.now())

    def _write(self) -> _WriteUnit:
        """A write unit: the case service's process queue (SQLite) + ``write_scope``."""
        return _WriteUnit(self.cases)

    @staticmethod
    def _submitted_step(session: Session, item: EvidenceItem) -> Step | None:
        for step in session.exec(select(Step).where(col(Step.case_id) == item.case_id,
                                                    col(Step.kind) == "evidence.submitted")):
            if step.record.get("message", {}).get("commitment") == item.commitment:
                return step
        return None

    def _reconcile(self, session: Session, item: EvidenceItem) -> None:
        """A step committed but the item not yet bound (rows from before the binding moved
        into the step's transaction): bind it now, in a write unit of its own; ``session``
        (a read) then sees the result."""
        if item.record is not None or self._submitted_step(session, item) is None:
            return
        item_id = item.id
        session.rollback()  # end the read snapshot: the write commits beside it
        with self._write() as ws:
            fresh = ws.get(EvidenceItem, item_id)
            step = self._submitted_step(ws, fresh) if fresh is not None else None
            if fresh is not None and fresh.record is None and step is not None:
                self._bind(ws, fresh, SignedRecord.from_json_obj(step.record), step.sequence,
                           step.record_hash)
        session.refresh(item)

    # -- reading -----------------------------------------------------------------------------

    def _item(self, session: Session, case_id: str, item_id: int) -> EvidenceItem:
        item = session.get(EvidenceItem, item_id)
        if item is None or item.case_id != case_id.lower():
            raise NotFound(f"evidence item {item_id} does not exist in case {case_id}")
        return item

    def _case(self, session: Session, case_id: str) -> p.CaseState:
        return _case_state(session, case_id)

    _proc_item = staticmethod(_proc_item)

    def may_read(self, case: p.CaseState, item: EvidenceItem, viewer: str) -> bool:
        """Content access: the rules for submitted items; staged ones to the uploader only."""
        return may_read(case, item, viewer)

    def _may_list(self, case: p.CaseState, item: EvidenceItem, viewer: str) -> bool:
        if self.may_read(case, item, viewer):
            return True
        # Admins see metadata of submitted items (never content, never staged uploads).
        return self.cases.is_admin(viewer) and self._proc_item(case, item) is not None

    @staticmethod
    def _metadata(item: EvidenceItem) -> EvidenceMetaJson:
        assert item.id is not None  # a stored item
        return {
            "id": item.id, "caseId": item.case_id, "submitter": item.submitter,
            "commitment": item.commitment, "contentCid": item.cid, "size": item.size,
            "kind": item.kind,
            "status": "submitted" if item.record is not None else "staged",
            "createdAt": item.created_at.isoformat(),
        }

    @staticmethod
    def _opening(item: EvidenceItem, *, content: bool) -> OpeningJson:
        """What opens the commitment: only for readers (`content`)."""
        if not content:
            return {}
        return {"filename": item.filename, "mediaType": item.media_type,
                "claimedMediaType": item.claimed_media_type,
                "sha256": item.sha256, "salt": item.salt}

    def list_items(self, viewer: str, case_id: str) -> list[EvidenceListedJson]:
        with self.sessions() as session:
            case = self._case(session, case_id)
            self._require_member(case, viewer)
            items = session.exec(select(EvidenceItem).where(
                col(EvidenceItem.case_id) == case_id.lower()).order_by(col(EvidenceItem.id))).all()
            out: list[EvidenceListedJson] = []
            for item in items:
                self._reconcile(session, item)
                if self._may_list(case, item, viewer):
                    readable = self.may_read(case, item, viewer)
                    out.append({**self._metadata(item),
                                **self._opening(item, content=readable)})
            return out

    def _require_member(self, case: p.CaseState, viewer: str) -> None:
        members = {case.order.buyer, case.order.seller, *case.parties, *case.neutrals,
                   *case.courts}
        if case.mediator:
            members.add(case.mediator)
        if viewer not in members and not self.cases.is_admin(viewer):
            raise AccessDenied(f"{viewer} has no role in case {case.case_id}")

    def _readable(self, viewer: str, case_id: str, item_id: int
                  ) -> tuple[Session, EvidenceItem, p.CaseState]:
        session = self.sessions()
        try:
            case = self._case(session, case_id)
            item = self._item(session, case_id, item_id)
            self._reconcile(session, item)
            if not self.may_read(case, item, viewer):
                self._require_member(case, viewer)
                raise AccessDenied(f"the rules do not disclose evidence item {item_id} to "
                                   f"{viewer} at this stage ({case.stage.value})")
            return session, item, case
        except BaseException:
            session.close()
            raise

    def item(self, viewer: str, case_id: str, item_id: int) -> EvidenceItemJson:
        session, item, _case = self._readable(viewer, case_id, item_id)
        with session:
            signing: ItemRecordJson = {}
            if item.record is not None:
                signing = {"record": item.record}
            elif viewer == item.submitter:
                signing = {"typedData": self._typed_data(session, item)}
            return {**self._metadata(item), **self._opening(item, content=True), **signing}

    def data_key(self, item: EvidenceItem) -> bytes:
        return self.unwrap(item.wrapped_keys["keywraps"])

    def unwrap(self, keywraps: str | bytes) -> bytes:
        """The data key from ``KeyWraps`` JSON wrapped for the service key (evidence items,
        and step records or documents stored encrypted): ``ServiceKey.unwrap``."""
        return self.keys.unwrap(keywraps)

    def wrap(self, data_key: bytes, header: Header) -> str:
        """``KeyWraps`` JSON of ``data_key`` for the service key (``header``: the container's
        ``evidence.encryption.Header``, from ``encrypt_stream``'s result)."""
        return self.keys.wrap(data_key, header)

    def open_content(self, viewer: str, case_id: str, item_id: int
                     ) -> tuple[EvidenceListedJson, Iterator[bytes]]:
        """Metadata and an iterator of authenticated plaintext chunks (decrypted here)."""
        session, item, _case = self._readable(viewer, case_id, item_id)
        with session:
            meta: EvidenceListedJson = {**self._metadata(item),
                                        **self._opening(item, content=True)}
            key = self.data_key(item)
            cid = item.cid
        return meta, self.decrypt_iter(cid, key, meta["sha256"])

    def decrypt_iter(self, cid: str, key: bytes, sha256: str | None = None) -> Iterator[bytes]:
        """Plaintext chunks of a container; raises at the end if the whole does not hash."""
        hasher = hashlib.sha256()
        for chunk in iter_decrypt(_IterReader(cat(cid, self.blockstore)), key):
            hasher.update(chunk)
            yield chunk
        if sha256 is not None and _h(hasher.digest()) != sha256:
            raise EvidenceError(f"decrypted content hashes to {_h(hasher.digest())}, "
                                f"expected {sha256}")

    def keywraps(self, viewer: str, case_id: str, item_id: int) -> KeyWrapsJson:
        """The item's key wraps (for offline decryption with one's own X25519 key)."""
        session, item, _case = self._readable(viewer, case_id, item_id)
        with session:
            if readers_to_wrap(session, item):  # a reader registered since: wrap first
                session.rollback()
                with self._write() as ws:
                    self._wrap_for_readers(ws, self._item(ws, case_id, item_id))
                session.refresh(item)
            return {"cid": item.cid, "keywraps": item.wrapped_keys["keywraps"],
                    "recipients": item.wrapped_keys.get("recipients", {}),
                    "service": item.wrapped_keys.get("service")}

    def provenance_log(self, viewer: str, case_id: str, item_id: int
                       ) -> EvidenceProvenanceJson:
        session, item, _case = self._readable(viewer, case_id, item_id)
        with session:
            if self._anchoring_entries(session, item):  # anchored since: log it first
                session.rollback()
                self.settle_provenance(case_id, item_id)
                session.refresh(item)
            return {"itemId": item.id, "commitment": item.commitment,
                    "origin": origin_of(item.provenance), "entries": item.provenance}

    def settle_provenance(self, case_id: str, item_id: int | None = None) -> None:
        """Bind and complete the provenance of the case's submitted items (or one), each in
        a write unit of its own, only where something is missing (e.g. before an export)."""
        with self.sessions() as session:
            query = select(EvidenceItem).where(col(EvidenceItem.case_id) == case_id.lower())
            if item_id is not None:
                query = query.where(col(EvidenceItem.id) == item_id)
            items = session.exec(query.order_by(col(EvidenceItem.id))).all()
            for item in items:
                self._reconcile(session, item)
            todo = [i.id for i in items if self._anchoring_entries(session, i)]
        for tid in todo:
            with self._write() as ws:
                fresh = ws.get(EvidenceItem, tid)
                if fresh is not None:
                    self.complete_provenance(ws, fresh)

    # -- encryption keys of readers ---------------------------------------------------------

    def register_key(self, user: str, case_id: str, public_key: str) -> ReaderKeyJson:
        """A case member publishes its X25519 public key; readable items get a wrap for it."""
        raw = _hex32("publicKey", public_key)
        if raw is None:
            raise BadSubmission("publicKey: expected 0x + 64 hex digits (X25519 public key)")
        try:
            X25519PublicKey.from_public_bytes(raw)
            if raw == b"\x00" * 32:
                raise ValueError("the zero point")
        except ValueError as exc:
            raise BadSubmission(f"publicKey: not a usable X25519 key ({exc})") from None
        with self.sessions() as session:
            self._require_member(self._case(session, case_id), user)
        with self.sessions() as session:
            self._store_reader_key(session, case_id.lower(), user, _h(raw))
        with self._write() as session:
            wrapped = 0
            for item in session.exec(select(EvidenceItem).where(
                    col(EvidenceItem.case_id) == case_id.lower())).all():
                if self._wrap_for_readers(session, item):
                    wrapped += 1
        return {"address": user, "publicKey": _h(raw), "itemsWrapped": wrapped}

    def _store_reader_key(self, session: Session, case_id: str, address: str,
                          public_key: str) -> None:
        """Insert or replace the member's key (one per member and case), committed. Two
        first registrations racing: the loser's insert hits the unique (case, address)
        and it retries as a replacement."""
        for attempt in (1, 2):
            begin_exclusive(session)  # SQLite: the write lock before the read
            row = session.exec(select(ReaderKey).where(
                col(ReaderKey.case_id) == case_id, col(ReaderKey.address) == address)).first()
            if row is None:
                row = ReaderKey(case_id=case_id, address=address, public_key=public_key,
                                registered_at=self.now())
            else:
                row.public_key, row.registered_at = public_key, self.now()
            session.add(row)
            try:
                session.commit()
                return
            except IntegrityError:
                session.rollback()
                if attempt == 2:
                    raise

    def _wrap_for_readers(self, session: Session, item: EvidenceItem) -> bool:
        """Add a wrap for every registered reader the rules now allow; True if any added."""
        return wrap_for_readers(session, item, self.keys)

    # -- anchoring in the provenance log -----------------------------------------------------

    def complete_provenance(self, session: Session, item: EvidenceItem) -> None:
        """Append ``batch.included`` and ``anchored`` once the item's leaf is confirmed
        (in the caller's write unit)."""
        steps = self._anchoring_entries(session, item)
        if not steps:
            return
        logged = len(item.provenance)
        item.provenance = provenance.append(
            item.provenance, steps, case_id=bytes.fromhex(item.case_id[2:]),
            commitment=bytes.fromhex(item.commitment[2:]), domain=self.domain,
            service_key=self._service_key)
        session.add(item)
        log_provenance(session, case_id=item.case_id, entries=item.provenance, logged=logged,
                       domain=self.domain, ref_id=item.id, now=self.now())

    def _anchoring_entries(self, session: Session, item: EvidenceItem
                           ) -> list[provenance.ProvenanceStep]:
        """The provenance entries the item's confirmed anchoring adds (none: up to date)."""
        if item.record is None:
            return []
        actions = {entry.get("action") for e in item.provenance
                   if isinstance(entry := e.get("entry"), dict)}
        if "anchored" in actions:
            return []
        step = session.exec(select(Step).where(col(Step.case_id) == item.case_id,
                                               col(Step.kind) == "evidence.submitted")
                            .where(col(Step.signature) == item.signature)).first()
        if step is None:
            return []
        leaf = session.exec(select(Leaf).where(col(Leaf.kind) == LeafKind.STEP,
                                               col(Leaf.ref_id) == step.id)).first()
        if leaf is None or leaf.batch_id is None:
            return []
        batch = session.get(AnchorBatch, leaf.batch_id)
        if batch is None or batch.status != AnchorStatus.CONFIRMED:
            return []
        # The service chain's inclusion (the first): the other chains' rows are in anchors.json
        anchoring = session.exec(select(AnchorInclusion).where(
            col(AnchorInclusion.batch_id) == batch.id).order_by(col(AnchorInclusion.id))).first()
        if anchoring is None:
            return []
        at = int((anchoring.block_time or anchoring.updated_at).timestamp())
        session_ref = item.upload_session
        steps: list[provenance.ProvenanceStep] = []
        if "batch.included" not in actions:
            steps.append(("batch.included", "", "anchoring-worker",
                          int(batch.created_at.timestamp()), {
                              "leafHash": leaf.leaf_hash, "root": batch.root,
                              "leafCount": str(batch.leaf_count), "proof": leaf.proof or []}))
        steps.append(("anchored", "", "anchoring-worker", at, {
            "root": batch.root, "chainId": str(anchoring.chain_id),
            "contract": anchoring.contract, "txHash": anchoring.tx_hash,
            "blockNumber": str(anchoring.block_number), "blockHash": anchoring.block_hash,
            "uploadSession": session_ref}))
        return steps


class _WriteUnit:
    """``with``: the case service's in-process writer queue (SQLite: threads wait on a lock,
    not on SQLite's busy handler) around ``write_scope`` (BEGIN IMMEDIATE; commit on
    success). The evidence service's writes queue with the step writes this way."""

    def __init__(self, cases: CaseService) -> None:
        self._writer = cases.repository.writer()
        self._scope = write_scope(cases.repository.writer_session)

    def __enter__(self) -> Session:
        self._writer.__enter__()
        try:
            return self._scope.__enter__()
        except BaseException:
            self._writer.__exit__(None, None, None)
            raise

    def __exit__(self, *exc: Any) -> Any:
        try:
            return self._scope.__exit__(*exc)
        finally:
            self._writer.__exit__(None, None, None)
