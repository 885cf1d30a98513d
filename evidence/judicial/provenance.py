"""The pre-chain provenance log of one evidence item, signed by the service.

Why: SPC Online Litigation Rules (2021) Art. 17 lets a court examine authenticity
*before* storage: the data's source, how it was generated and how it was kept until it
went on chain. The chain proves nothing about that period, so the service states it,
entry by entry, and signs every entry with its key: who uploaded, when, in which
session, the file's metadata, each processing step (hashing, commitment, encryption,
IPFS storage, signing, batching) and the anchoring. A later edit of any entry breaks its
signature; a removed, inserted or reordered entry breaks the `prevEntryHash` chain.

Decision: EIP-712, not EIP-191. Every other signature in chainarb is EIP-712 under the
deployment's domain (docs/eip712.md); using it here binds each entry to the chain and
escrow of the case, and lets an expert recompute the digest with `@metamask/eth-sig-util`
(`TypedDataUtils.eip712Hash`) exactly as for the procedural records. The type:

    ProvenanceEntry(bytes32 caseId,bytes32 commitment,uint32 index,bytes32 prevEntryHash,
                    string action,address subject,string session,uint64 at,
                    bytes32 detailsHash)

`detailsHash` is the SHA-256 of the entry's details in canonical JSON (sorted keys, no
whitespace, UTF-8); `prevEntryHash` is the EIP-712 digest of the previous entry (zero for
the first); `subject` is the account the entry is about (the uploader's address; the
zero address when there is none).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data

from evidence._keccak import keccak256
from evidence.errors import EvidenceError, FormatError, InvalidRecord
from evidence.records import (
    Domain,
    Eip712Field,
    TypedData,
    canonical_json,
    checksum_address,
    recover_signer,
)
from evidence.safejson import JSON, JsonObject

__all__ = [
    "ORIGIN_LABELS",
    "ORIGIN_VERIFIED",
    "PARTY_SUBMITTED",
    "PROVENANCE_ACTIONS",
    "PROVENANCE_TYPE",
    "ProvenanceEntry",
    "SignedProvenanceEntry",
    "check_log",
    "origin_of",
    "performance_entry_values",
    "provenance_entry_values",
    "sign_log",
]

PROVENANCE_TYPE: list[Eip712Field] = [
    {"name": "caseId", "type": "bytes32"},
    {"name": "commitment", "type": "bytes32"},
    {"name": "index", "type": "uint32"},
    {"name": "prevEntryHash", "type": "bytes32"},
    {"name": "action", "type": "string"},
    {"name": "subject", "type": "address"},
    {"name": "session", "type": "string"},
    {"name": "at", "type": "uint64"},
    {"name": "detailsHash", "type": "bytes32"},
]

PROVENANCE_ACTIONS = (
    "upload.received",  # bytes arrived: uploader, session, client metadata
    "file.inspected",  # media type sniffed, size checked, malware scan
    "hash.computed",  # SHA-256 of the plain file
    "commitment.made",  # salted commitment (the salt itself is in evidence/index.json)
    "encrypted",  # AES-256-GCM container, recipients
    "ipfs.stored",  # CID of the encrypted container
    "record.signed",  # the party's EvidenceSubmission record hash
    "batch.included",  # Merkle leaf in a batch, its root
    "anchored",  # the batch's anchoring transaction
    # performance evidence (docs/performance-evidence.md), recorded during the order:
    "performance.captured",  # the event as received: hashes, commitment, CID, capture time
    "origin.verified",  # a sender's webhook signature checked at capture: who, which key
    "party.submitted",  # a party's own record of an event (its session, not a third party)
    "case.attached",  # the order's case now holds the item
)
"""Known actions, in the order the service performs them; others are accepted as is."""

ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20
_TYPE_HASH = keccak256(
    ("ProvenanceEntry(" + ",".join(f"{f['type']} {f['name']}" for f in PROVENANCE_TYPE) + ")")
    .encode())

# Where an item came from, in the words shown wherever its provenance is shown (API, the
# judicial package's provenance files and report). Decision (docs/performance-evidence.md):
# an item is "origin-verified" only when its log holds an ``origin.verified`` entry, i.e.
# the service checked a third party's signature at capture; everything else, a party's
# upload included, is "party-submitted".
ORIGIN_VERIFIED = "origin-verified"
PARTY_SUBMITTED = "party-submitted"
ORIGIN_LABELS: dict[str, dict[str, str]] = {
    ORIGIN_VERIFIED: {"en": "origin-verified: the sender's signature was checked at capture",
                      "zh-Hans": "来源已验证：采集时已核验发送方签名"},
    PARTY_SUBMITTED: {"en": "party-submitted: provided by a party of the case",
                      "zh-Hans": "当事人提交：由案件当事人提供"},
}


def origin_of(entries: Sequence[Mapping[str, JSON]]) -> JsonObject:
    """The origin label of a stored log (``SignedProvenanceEntry`` JSON objects): the label,
    its words in both languages, and the sender's identity when origin-verified."""
    for e in entries:
        entry = e.get("entry", {}) if isinstance(e, Mapping) else {}
        if isinstance(entry, Mapping) and entry.get("action") == "origin.verified":
            details = entry.get("details", {})
            sender = details.get("sender", {}) if isinstance(details, Mapping) else {}
            return {"label": ORIGIN_VERIFIED, **ORIGIN_LABELS[ORIGIN_VERIFIED],
                    "sender": dict(sender) if isinstance(sender, Mapping) else {}}
    return {"label": PARTY_SUBMITTED, **ORIGIN_LABELS[PARTY_SUBMITTED]}


@dataclass(frozen=True, kw_only=True)
class ProvenanceEntry:
    """One step in an evidence item's life before (and at) anchoring."""

    case_id: bytes
    commitment: bytes
    index: int
    prev_entry_hash: bytes
    action: str
    subject: str
    session: str
    at: int
    details: Mapping[str, JSON] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("case_id", "commitment", "prev_entry_hash"):
            value = getattr(self, name)
            if not isinstance(value, bytes) or len(value) != 32:
                raise InvalidRecord(f"ProvenanceEntry.{name}: expected 32 bytes, found {value!r}")
        if not isinstance(self.index, int) or not 0 <= self.index < 2**32:
            raise InvalidRecord(f"ProvenanceEntry.index: expected uint32, found {self.index!r}")
        if not isinstance(self.at, int) or not 0 <= self.at < 2**64:
            raise InvalidRecord(f"ProvenanceEntry.at: expected uint64, found {self.at!r}")
        if not isinstance(self.action, str) or not 0 < len(self.action) <= 64:
            raise InvalidRecord(
                f"ProvenanceEntry.action: expected 1..64 chars, found {self.action!r}"
            )
        if not isinstance(self.session, str) or len(self.session) > 128:
            raise InvalidRecord("ProvenanceEntry.session: expected at most 128 chars")
        object.__setattr__(self, "subject", checksum_address(self.subject, "subject"))
        object.__setattr__(self, "details", dict(self.details))

    @property
    def details_hash(self) -> bytes:
        return hashlib.sha256(canonical_json(self.details)).digest()

    def typed_data(self, domain: Domain) -> TypedData:
        return {
            "types": {"EIP712Domain": Domain.TYPE, "ProvenanceEntry": PROVENANCE_TYPE},
            "primaryType": "ProvenanceEntry",
            "domain": domain.as_dict(),
            "message": self._message(),
        }

    def _message(self) -> dict[str, str | int]:
        """The EIP-712 message (bytes32 as 0x-hex), shared by the typed data and the JSON."""
        return {
            "caseId": "0x" + self.case_id.hex(),
            "commitment": "0x" + self.commitment.hex(),
            "index": self.index,
            "prevEntryHash": "0x" + self.prev_entry_hash.hex(),
            "action": self.action,
            "subject": self.subject,
            "session": self.session,
            "at": self.at,
            "detailsHash": "0x" + self.details_hash.hex(),
        }

    def struct_hash(self) -> bytes:
        """EIP-712 ``hashStruct(message)``, encoded here for speed (every field is atomic);
        the tests hold ``digest`` equal to eth-account's encoder (``digest_eth_account``)."""
        return keccak256(b"".join((
            _TYPE_HASH, self.case_id, self.commitment, self.index.to_bytes(32, "big"),
            self.prev_entry_hash, keccak256(self.action.encode()),
            bytes(12) + bytes.fromhex(self.subject[2:]), keccak256(self.session.encode()),
            self.at.to_bytes(32, "big"), self.details_hash)))

    def digest(self, domain: Domain) -> bytes:
        """``keccak256(0x1901 ‖ domainSeparator ‖ hashStruct)``: what the service signs."""
        return keccak256(b"\x19\x01" + domain.separator() + self.struct_hash())

    def digest_eth_account(self, domain: Domain) -> bytes:
        """The same digest by eth-account's general encoder (a cross-check)."""
        typed = dict(self.typed_data(domain))
        return bytes(_hash_eip191_message(encode_typed_data(full_message=typed)))

    def to_json_obj(self) -> JsonObject:
        return {
            **self._message(),
            "index": str(self.index),
            "at": str(self.at),
            "details": dict(self.details),
        }

    @classmethod
    def from_json_obj(cls, obj: object) -> ProvenanceEntry:
        names = {f["name"] for f in PROVENANCE_TYPE} | {"details"}
        if not isinstance(obj, dict) or set(obj) != names:
            raise FormatError(f"provenance entry: expected exactly the keys {sorted(names)}")
        try:
            entry = cls(
                case_id=_hex32(obj["caseId"]),
                commitment=_hex32(obj["commitment"]),
                index=int(obj["index"]),
                prev_entry_hash=_hex32(obj["prevEntryHash"]),
                action=obj["action"],
                subject=obj["subject"],
                session=obj["session"],
                at=int(obj["at"]),
                details=obj["details"],
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise FormatError(f"provenance entry: malformed ({exc})") from exc
        if entry.details_hash.hex() != str(obj["detailsHash"]).removeprefix("0x"):
            raise FormatError("provenance entry: detailsHash does not match its details")
        return entry


def _hex32(value: object) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 66:
        raise ValueError(f"expected 0x + 64 hex digits, found {value!r}")
    return bytes.fromhex(value[2:])


@dataclass(frozen=True)
class SignedProvenanceEntry:
    entry: ProvenanceEntry
    signature: bytes

    def to_json_obj(self) -> JsonObject:
        return {"entry": self.entry.to_json_obj(), "signature": "0x" + self.signature.hex()}

    @classmethod
    def from_json_obj(cls, obj: object) -> SignedProvenanceEntry:
        if not isinstance(obj, dict) or set(obj) != {"entry", "signature"}:
            raise FormatError('provenance: expected {"entry": …, "signature": "0x…"}')
        sig = obj["signature"]
        if not isinstance(sig, str):
            raise FormatError("provenance: signature must be a 0x-hex string")
        try:
            raw = bytes.fromhex(sig.removeprefix("0x"))
        except ValueError as exc:
            raise FormatError(f"provenance: signature is not hex ({exc})") from exc
        return cls(ProvenanceEntry.from_json_obj(obj["entry"]), raw)


def sign_log(
    steps: Sequence[tuple[str, str, str, int, Mapping[str, JSON]]],
    *,
    case_id: bytes,
    commitment: bytes,
    domain: Domain,
    service_key: bytes | str,
) -> list[SignedProvenanceEntry]:
    """Build and sign an item's log from (action, subject, session, at, details) tuples.

    The service signs; index and prevEntryHash are filled in here, so the log is a chain.
    """
    out: list[SignedProvenanceEntry] = []
    prev = ZERO32
    for index, (action, subject, session, at, details) in enumerate(steps):
        entry = ProvenanceEntry(
            case_id=case_id,
            commitment=commitment,
            index=index,
            prev_entry_hash=prev,
            action=action,
            subject=subject or ZERO_ADDRESS,
            session=session,
            at=at,
            details=details,
        )
        signed = Account.sign_typed_data(service_key, full_message=entry.typed_data(domain))
        out.append(SignedProvenanceEntry(entry, bytes(signed.signature)))
        prev = entry.digest(domain)
    return out


def check_log(
    log: Sequence[SignedProvenanceEntry],
    *,
    case_id: bytes,
    commitment: bytes,
    domain: Domain,
    service: str | Collection[str],
) -> list[str]:
    """Every problem with an item's log (empty when it holds): signer, chain, binding.
    `service`: the service's key, or every key it held (an institution that rotated)."""
    keys = {checksum_address(k) for k in ([service] if isinstance(service, str) else service)}
    problems: list[str] = []
    if not log:
        return ["the log is empty"]
    prev = ZERO32
    last_at = 0
    for i, signed in enumerate(log):
        e = signed.entry
        where = f"entry {i} ({e.action})"
        if e.index != i:
            problems.append(f"{where}: index {e.index}, expected {i} (entry removed or moved)")
        if e.prev_entry_hash != prev:
            problems.append(f"{where}: prevEntryHash does not name the entry before it")
        if e.case_id != case_id or e.commitment != commitment:
            problems.append(f"{where}: made for another case or evidence item")
        if e.at < last_at:
            problems.append(f"{where}: time {e.at} is before the previous entry's {last_at}")
        last_at = e.at
        digest = e.digest(domain)
        try:
            signer = recover_signer(digest, signed.signature)
        except EvidenceError as exc:
            problems.append(f"{where}: signature unreadable ({exc})")
        else:
            if signer not in keys:
                problems.append(f"{where}: signed by {signer}, expected the service "
                                f"{' or '.join(sorted(keys))}")
        prev = digest
    return problems


def performance_entry_values(provenance: Sequence[Mapping[str, JSON]],
                             domain: Domain) -> tuple[bytes, bytes]:
    """(recordHash, signaturesHash) of a performance item's log entry (kind ``performance``,
    docs/log.md): the EIP-712 digest of its first provenance entry, ``performance.captured``,
    which the institution signs at capture, and keccak256 of that entry's signature. The
    entries appended later (``case.attached``) leave both unchanged, so the package's
    document recomputes the logged values whenever it is built."""
    if not provenance:
        raise FormatError("performance item: the provenance log is empty")
    first = SignedProvenanceEntry.from_json_obj(provenance[0])
    if first.entry.action != "performance.captured" or first.entry.index != 0:
        raise FormatError("performance item: the first provenance entry is not "
                          f"performance.captured (found {first.entry.action!r})")
    return first.entry.digest(domain), keccak256(first.signature)


def provenance_entry_values(provenance: Sequence[Mapping[str, JSON]], domain: Domain, *,
                            performance: bool = False) -> list[tuple[bytes, bytes]]:
    """(recordHash, signaturesHash) of the log entry of kind ``provenance`` of each signed
    entry (docs/log.md §1): its EIP-712 digest and keccak256 of its signature, in log order.
    A performance item's first entry is its ``performance`` entry already
    (``performance_entry_values``), so with ``performance`` the list starts at the second."""
    out = []
    for obj in provenance[1 if performance else 0:]:
        signed = SignedProvenanceEntry.from_json_obj(dict(obj))
        out.append((signed.entry.digest(domain), keccak256(signed.signature)))
    return out
