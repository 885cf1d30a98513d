"""Proof of absence by the per-case index (docs/log.md §8b): "no record of case X entered the
log between checkpoints A and B" in O(log n + log C) hashes, whatever else was appended.

    {
      "format": "chainarb.log-absence", "version": 2,
      "origin": "chainarb.example/log",
      "caseId": "0x…",
      "from": "<signed checkpoint note A>",      size m, with a chainarb-case-index line
      "to": "<signed checkpoint note B>",        size n >= m, with one too
      "consistency": ["0x…", …],                 RFC 9162 proof that B extends A
      "heads": {"from": [H…], "to": [H…]},       H = {"position": p, "head": "0x<80 bytes>",
                                                      "proof": ["0x…", …]}
      "issuedAt": …, "signer": …, "signature": … (as version 1: EIP-191 over the rest)
    }

Each side lists either the case's own head in that checkpoint's signed index (one H) or
the two heads around where it would be (zero, one or two H: the index is sorted by case
id, so adjacent heads with smaller and larger ids prove it has none). Absent between A and
B means: B extends A, and the case has the same head at both (same count, last index and
case-log root: no entry of it below n that was not below m) or no head at either. A head
at A and none at B is a signed index losing a case (``log_inconsistent``); none at A and
one at B is a record of the case between the two (``log_case_present``).

The index is the institution's signed statement about its log (docs/log.md §14, "Who
checks the index"); the range statement (version 1, ``absence.py``) needs nothing but the
log and stays what a checkpoint without the index line gets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from typing_extensions import TypedDict

from evidence.log import _statement as st
from evidence.log.caseindex import HEAD_SIZE, CaseHead, index_of, verify_case_head
from evidence.log.checkpoint import Checkpoint, check_origin
from evidence.log.errors import (
    AbsenceDisproved,
    ConsistencyProofError,
    LogEntryError,
    LogRangeError,
    OriginMismatch,
    StatementFormatError,
)
from evidence.log.note import Note, NoteSigner
from evidence.log.proofs import verify_consistency

__all__ = ["INDEX_ABSENCE_VERSION", "IndexAbsenceBody", "IndexAbsenceJson", "IndexAbsenceProof",
           "PlacedHead", "PlacedHeadJson", "check_index_absence", "head_at",
           "issue_index_absence", "placed_heads"]

INDEX_ABSENCE_VERSION = 2
MAX_INDEX_ABSENCE_JSON = 1 << 20  # two notes and a few dozen hashes
_SIGNED = ("format", "version", "origin", "caseId", "from", "to", "consistency", "heads",
           "issuedAt", "signer")


class PlacedHeadJson(TypedDict):
    """A case head (0x-hex) at its position of a checkpoint's index, with its proof."""

    position: int
    head: str
    proof: list[str]


#: The heads a version-2 statement lists at each of its two checkpoints ("from" is a
#: Python keyword, hence the functional forms).
HeadsJson = TypedDict("HeadsJson", {"from": list[PlacedHeadJson], "to": list[PlacedHeadJson]})
IndexAbsenceBody = TypedDict("IndexAbsenceBody", {
    "format": str, "version": int, "origin": str, "caseId": str, "from": str, "to": str,
    "consistency": list[str], "heads": HeadsJson, "issuedAt": str, "signer": str})


class IndexAbsenceJson(IndexAbsenceBody):
    """A version-2 proof of absence as the API returns it and the CLI saves it."""

    signature: str


@dataclass(frozen=True)
class PlacedHead:
    """A case head at `position` of a checkpoint's index tree, with its inclusion proof."""

    position: int
    head: CaseHead
    proof: tuple[bytes, ...]

    def to_json(self) -> PlacedHeadJson:
        return {"position": self.position, "head": "0x" + self.head.encode().hex(),
                "proof": ["0x" + h.hex() for h in self.proof]}

    @classmethod
    def from_json(cls, obj: object, what: str) -> PlacedHead:
        if not isinstance(obj, dict) or set(obj) != {"position", "head", "proof"}:
            raise StatementFormatError(f"{what}: expected {{position, head, proof}}")
        head = obj["head"]
        if not isinstance(head, str) or len(head) != 2 + 2 * HEAD_SIZE or head[:2] != "0x":
            raise StatementFormatError(f"{what}.head: expected 0x + {2 * HEAD_SIZE} hex digits")
        proof = obj["proof"]
        if not isinstance(proof, list) or len(proof) > 64:
            raise StatementFormatError(f"{what}.proof: expected at most 64 hashes")
        try:
            decoded = CaseHead.decode(bytes.fromhex(head[2:]))
        except (ValueError, LogEntryError) as exc:
            raise StatementFormatError(f"{what}.head: {exc}") from None
        return cls(st.integer(obj["position"], f"{what}.position", 2**63 - 1), decoded,
                   tuple(st.hex32(h, f"{what}.proof") for h in proof))


def placed_heads(heads: Sequence[CaseHead], proof_of: Callable[[int], Sequence[bytes]],
                 case_id: bytes
                 ) -> tuple[PlacedHead, ...]:
    """What a statement lists for `case_id` in an index of sorted `heads`: its own head, or
    its neighbours (``proof_of(position)`` gives a head's inclusion proof)."""
    at = next((i for i, h in enumerate(heads) if h.case_id >= case_id), len(heads))
    if at < len(heads) and heads[at].case_id == case_id:
        picks = [at]
    else:
        picks = [i for i in (at - 1, at) if 0 <= i < len(heads)]
    return tuple(PlacedHead(i, heads[i], tuple(proof_of(i))) for i in picks)


@dataclass(frozen=True)
class IndexAbsenceProof:
    """A proof-of-absence statement by the per-case index (version 2)."""

    origin: str
    case_id: bytes
    first: str
    second: str
    consistency: tuple[bytes, ...]
    heads_first: tuple[PlacedHead, ...]
    heads_second: tuple[PlacedHead, ...]
    issued_at: datetime
    signer: str
    signature: bytes

    @property
    def entries(self) -> tuple[()]:
        """No entry is listed: the index stands for them (the report counts none)."""
        return ()

    def body(self) -> IndexAbsenceBody:
        return {
            "format": "chainarb.log-absence", "version": INDEX_ABSENCE_VERSION,
            "origin": self.origin, "caseId": "0x" + self.case_id.hex(),
            "from": self.first, "to": self.second,
            "consistency": ["0x" + h.hex() for h in self.consistency],
            "heads": {"from": [h.to_json() for h in self.heads_first],
                      "to": [h.to_json() for h in self.heads_second]},
            "issuedAt": st.iso_time(self.issued_at), "signer": self.signer,
        }

    def to_json(self) -> IndexAbsenceJson:
        return {**self.body(), "signature": "0x" + self.signature.hex()}

    @classmethod
    def from_json(cls, data: bytes | str | Mapping[str, object]) -> IndexAbsenceProof:
        from evidence.log.absence import read_statement

        obj = read_statement(data, INDEX_ABSENCE_VERSION, _SIGNED, MAX_INDEX_ABSENCE_JSON)
        heads, consistency = obj["heads"], obj["consistency"]
        if not isinstance(consistency, list) or len(consistency) > 64:
            raise StatementFormatError("absence proof consistency: expected at most 64 hashes")
        if not isinstance(heads, dict) or set(heads) != {"from", "to"} or not all(
                isinstance(v, list) and len(v) <= 2 for v in heads.values()):
            raise StatementFormatError("absence proof heads: expected {from: [...], to: [...]}"
                                       " with at most two heads each")
        return cls(
            origin=st.text(obj["origin"], "absence proof origin"),
            case_id=st.hex32(obj["caseId"], "absence proof caseId"),
            first=st.text(obj["from"], "absence proof from"),
            second=st.text(obj["to"], "absence proof to"),
            consistency=tuple(st.hex32(h, "absence proof consistency") for h in consistency),
            heads_first=tuple(PlacedHead.from_json(h, f"absence proof heads.from[{i}]")
                              for i, h in enumerate(heads["from"])),
            heads_second=tuple(PlacedHead.from_json(h, f"absence proof heads.to[{i}]")
                               for i, h in enumerate(heads["to"])),
            issued_at=st.parse_time(obj["issuedAt"], "absence proof issuedAt"),
            signer=st.text(obj["signer"], "absence proof signer"),
            signature=st.signature_hex(obj["signature"], "absence proof signature"))


def _index(cp: Checkpoint, name: str) -> tuple[int, bytes]:
    found = index_of(cp.extensions)
    if found is None:
        raise StatementFormatError(f"the {name} checkpoint (size {cp.size}) signs no case "
                                   "index: use a range of entries (version 1)")
    return found


def head_at(cp: Checkpoint, placed: Sequence[PlacedHead], case_id: bytes,
            name: str = "checkpoint's") -> CaseHead | None:
    """The case's head in `cp`'s signed index, or None when the neighbours prove it has
    none (InclusionProofError, LogRangeError, ConsistencyProofError otherwise)."""
    count, root = _index(cp, name)
    for p in placed:
        verify_case_head(p.head, p.position, count, p.proof, root)
    own = [p for p in placed if p.head.case_id == case_id]
    if own:
        if len(placed) != 1:
            raise StatementFormatError(f"the {name} side lists the case's head and another")
        return own[0].head
    ids = [(p.position, p.head.case_id) for p in placed]
    below = [x for x in ids if x[1] < case_id]
    above = [x for x in ids if x[1] > case_id]
    ok = (len(below) <= 1 and len(above) <= 1 and len(ids) == len(below) + len(above)
          and (below[0][0] == count - 1 if below and not above else True)
          and (above[0][0] == 0 if above and not below else True)
          and (below[0][0] + 1 == above[0][0] if below and above else True)
          and (count == 0 if not ids else True))
    if not ok:
        raise LogRangeError(f"the {name} side's heads are not the case's neighbours in the "
                            f"index of {count} cases: they do not show it has no head")
    return None


def check_index_absence(case_id: bytes, first: Checkpoint, second: Checkpoint,
                        consistency: Sequence[bytes], heads_first: Sequence[PlacedHead],
                        heads_second: Sequence[PlacedHead]) -> None:
    """The statement's substance, signatures aside: B extends A, and the case's head is the
    same in both signed indexes, or absent from both."""
    if first.origin != second.origin:
        raise OriginMismatch(f"checkpoints of two logs: {first.origin!r} and "
                             f"{second.origin!r}")
    if second.size < first.size:
        raise ConsistencyProofError(f"second checkpoint (size {second.size}) is older than "
                                    f"the first (size {first.size})")
    verify_consistency(first.size, second.size, first.root, second.root, consistency)
    a = head_at(first, heads_first, case_id, "first")
    b = head_at(second, heads_second, case_id, "second")
    if b is not None and a != b:
        at = f"up to index {b.last_index}" if a is None else \
            f"{b.size - a.size} more, the last at index {b.last_index}"
        raise AbsenceDisproved(f"the second checkpoint's index gives case 0x{case_id.hex()} "
                               f"{b.size} entries ({at}): the case is not absent")
    if a is not None and b is None:
        raise ConsistencyProofError(f"case 0x{case_id.hex()} has a head in the first "
                                    "checkpoint's index and none in the second's: the index "
                                    "lost a case")


def issue_index_absence(*, origin: str, case_id: bytes, first: str, second: str,
                        consistency: Sequence[bytes], heads_first: Sequence[PlacedHead],
                        heads_second: Sequence[PlacedHead], issued_at: datetime,
                        signer: NoteSigner) -> IndexAbsenceProof:
    """Check, then sign (the institution never signs a false statement)."""
    check_origin(origin)
    a = Checkpoint.parse_body(Note.parse(first).text)
    b = Checkpoint.parse_body(Note.parse(second).text)
    if a.origin != origin:
        raise OriginMismatch(f"first checkpoint of log {a.origin!r}, expected {origin!r}")
    check_index_absence(case_id, a, b, consistency, heads_first, heads_second)
    issued_at = st.parse_time(st.iso_time(issued_at), "issuedAt")
    unsigned = IndexAbsenceProof(origin, bytes(case_id), first, second, tuple(consistency),
                                 tuple(heads_first), tuple(heads_second), issued_at,
                                 signer.address, b"")
    return replace(unsigned, signature=st.sign(unsigned.body(), signer))
