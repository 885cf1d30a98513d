"""Jurors' anonymity towards the parties (docs/jury.md §4; issue 14 item 3).

Rule: a reader of a case record who is not the institution (an admin) or a court — the
parties, and a neutral such as the sole arbitrator after an objection — sees each juror as
a pseudonym (``juror-1``, ``juror-2``, … in draw order, then the replaced ones), never
the address. The masking is applied to what the service answers (case view, timeline,
one step): every juror address in it becomes the pseudonym; the draw's pool snapshot is
shown by its size and hash only (with the seed and the block it would let anyone recompute
who was drawn), and a juror's own signed record is shown without its signature (from which
the signer's address could be recovered). The institution and the court see everything:
the judicial package carries the whole draw, so a court recomputes it.

Why pseudonyms by draw order and not a hash of the address: a hash of a public address
can be matched against the pool by anyone holding the pool; a position leaks nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar, cast, overload

from backend import procedure as p
from evidence import safejson
from evidence.safejson import JSON

if TYPE_CHECKING:
    from .views import StepViewJson

__all__ = ["JURY_SEALED_ACTIONS", "SEES_JURORS", "mask", "mask_document", "mask_step",
           "names_a_juror", "pseudonyms", "sees_jurors"]

SEES_JURORS = frozenset({"admin", "court"})
# A stored payload came in through a step request, whose JSON body is bounded the same way
# (backend.api.limits.DEFAULT_MAX_JSON_BYTES).
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
_ADDRESS = re.compile(r"(?<![0-9a-fA-Fx])0x[0-9a-fA-F]{40}(?![0-9a-fA-F])")
JUROR_ACTIONS = frozenset({"jury.accepted", "jury.vote_committed", "jury.vote_revealed"})
# The steps whose IPFS bundle is sealed (encrypted for the institution; the court reads
# them in the judicial package): the pool snapshot, the draw, and each juror's own signed
# records. A party holding the CID reads ciphertext; the service's routes give it the
# pseudonymous view (mask_step).
JURY_SEALED_ACTIONS = frozenset({"jury.seed_committed", "jury.drawn", *JUROR_ACTIONS})


def sees_jurors(roles: set[str]) -> bool:
    return bool(roles & SEES_JURORS)


def pseudonyms(case: p.CaseState) -> dict[str, str]:
    """Lower-case juror address -> its pseudonym in this case."""
    j = case.jury
    return {a.lower(): f"juror-{i + 1}" for i, a in enumerate((*j.jurors, *j.former_jurors))}


def names_a_juror(bundle: bytes, case: p.CaseState) -> bool:
    """Whether a step bundle names anyone of the case's jury or pool snapshot (any case,
    with or without 0x): the safety net behind ``JURY_SEALED_ACTIONS`` for a step of
    another kind that names a juror (a conflict found, a replacement)."""
    j = case.jury
    people = {a.lower()[2:] for a in (*j.jurors, *j.former_jurors, *j.pool)}
    if not people:
        return False
    text = bundle.decode("utf-8", errors="replace").lower()
    return any(a in text for a in people)


@overload
def mask(value: dict[str, JSON], names: Mapping[str, str]) -> dict[str, JSON]: ...
@overload
def mask(value: JSON, names: Mapping[str, str]) -> JSON: ...
def mask(value: JSON, names: Mapping[str, str]) -> JSON:
    """``value`` (JSON) with every juror address in ``names`` replaced by its pseudonym."""
    if not names:
        return value
    if isinstance(value, str):
        if "0x" not in value:
            return value
        return _ADDRESS.sub(lambda m: names.get(m.group(0).lower(), m.group(0)), value)
    if isinstance(value, Mapping):
        return {k: mask(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v, names) for v in value]
    return value


_Document = TypeVar("_Document", bound=Mapping[str, object])


def mask_document(document: _Document, names: Mapping[str, str]) -> _Document:
    """``mask`` of a JSON document whose type says its shape (a view's TypedDict): only its
    strings change, each to a string, so it keeps its type."""
    return cast(_Document, mask(cast(JSON, document), names))


def mask_step(view: StepViewJson, names: Mapping[str, str]) -> StepViewJson:
    """One step as a party sees it: the pool snapshot by size, a juror's signatures
    withheld, every juror address a pseudonym."""
    out = view.copy()
    payload = out.get("payload")
    if out.get("action") == "jury.seed_committed" and isinstance(payload, str | Mapping):
        data = safejson.loads(payload, what="a stored step payload",
                              max_bytes=MAX_PAYLOAD_BYTES) \
            if isinstance(payload, str) else payload
        pool = data.get("pool") if isinstance(data, Mapping) else None
        if isinstance(data, Mapping):
            data = {**data, "pool": None,
                    "poolSize": len(pool) if isinstance(pool, list) else None}
            # the payload is served as the text it was stored as (it no longer hashes to
            # payloadHash: the pool is withheld)
            out["payload"] = json.dumps(data, separators=(",", ":"), sort_keys=True) \
                if isinstance(payload, str) else data
    record = out.get("record")
    if out.get("action") in JUROR_ACTIONS and isinstance(record, Mapping):
        out["record"] = {**record, "signatures": []}
    return mask_document(out, names)
