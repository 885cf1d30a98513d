"""Who is who: the names a package states, each bound to the key that signed it.

Rules (docs/judicial-package.md, check `identities`):

* A party's words (name, country, language, contact) come only from a `Profile` the party
  signed itself (issuer = subject = the party's address). A profile of a party signed by
  anyone else, the institution included, is refused: the institution cannot name a party.
* A neutral's or a court's profile is their own, or issued by the order's institution (its
  register of neutrals and courts).
* Every appointed mediator, arbitrator and panelist made a signed `Disclosure` that names
  the appointment step appointing them (by its record hash) in this case, for that role;
  a disclosure signed by anyone but that appointee is refused.
* Every role holder at the end of the chain is named in the manifest (nobody hidden), and
  every word of the manifest's `parties` and `neutrals` equals the signed record it cites;
  where no record is cited, the words are empty.

Pure: it reads records and the manifest handed to it and returns problems and detail
lines; `verify.py` gathers the inputs from the package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from evidence.errors import EvidenceError
from evidence.records import (
    DISCLOSING_ROLES,
    Disclosure,
    Domain,
    ProceduralStep,
    Profile,
    SignedRecord,
)
from evidence.safejson import JSON
from evidence.steps import APPOINTMENTS

__all__ = ["IdentityFindings", "check_identities"]

PROFILE_WORDS = (("name", "name"), ("nameZh", "name_zh"), ("country", "country"),
                 ("language", "language"), ("contact", "contact"))
"""Manifest key -> Profile attribute: the words a manifest entry copies from a profile."""
NAMED_ROLES = ("mediator", "arbitrator", "panelist", "court")
"""Role holders the manifest's `neutrals` must all name (parties are in `parties`)."""

IdentityFindings = tuple[list[str], list[str]]
"""(problems, detail lines): the check fails when there is a problem."""


def check_identities(
    records: Sequence[SignedRecord],
    manifest: Mapping[str, JSON],
    *,
    steps: Sequence[SignedRecord],
    payload_of: Callable[[ProceduralStep], Any],
    holders: Mapping[str, set[str]],
    institution: Sequence[str],
    case_id: bytes,
    domain: Domain,
) -> IdentityFindings:
    """Check each binding of `records` (records/identities.jsonl) and the manifest's
    parties and neutrals; `holders` are the role holders at the end of the step chain,
    `institution` every key that held the institution's role."""
    problems: list[str] = []
    by_hash: dict[str, SignedRecord] = {}
    parties = set(holders.get("claimant", set())) | set(holders.get("respondent", set()))
    for signed in records:
        rec = signed.record
        what = f"{rec.TYPE_NAME} 0x{signed.record_hash.hex()[:16]}…"
        if not isinstance(rec, Profile | Disclosure):
            problems.append(f"{what}: not an identity record (Profile or Disclosure)")
            continue
        try:
            signed.verify()  # one signature, recovering to the issuer or appointee
        except EvidenceError as exc:
            problems.append(f"{what}: {exc}")
            continue
        if signed.domain != domain:
            problems.append(f"{what}: signed under another domain (chain or contract)")
            continue
        if isinstance(rec, Profile):
            problems += _profile_binding(what, rec, parties, institution)
        else:
            problems += _disclosure_binding(what, rec, steps, payload_of, case_id)
        by_hash["0x" + signed.record_hash.hex()] = signed
    details: list[str] = []
    for entry in _entries(manifest, "parties"):
        problems += _words(entry, by_hash)
        details.append(_line(entry))
    named: set[tuple[str, str]] = set()
    for entry in _entries(manifest, "neutrals"):
        role, address = str(entry.get("role")), str(entry.get("address"))
        named.add((role, address))
        problems += _words(entry, by_hash)
        if role in DISCLOSING_ROLES:
            problems += _disclosed(entry, by_hash)
        details.append(_line(entry))
    for role in NAMED_ROLES:
        for address in sorted(holders.get(role, set())):
            if (role, address) not in named:
                problems.append(f"neutrals: the {role} {address} is not named in the manifest")
    return problems, details


def _entries(manifest: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = manifest.get(key, [])
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _profile_binding(what: str, rec: Profile, parties: set[str], institution: Sequence[str]
                     ) -> list[str]:
    if rec.self_declared:
        return []
    if rec.subject in parties:
        return [f"{what}: the profile of the party {rec.subject} is signed by {rec.issuer}; "
                "a party's profile must be signed by the party"]
    if rec.issuer not in institution:
        return [f"{what}: the profile of {rec.subject} is signed by {rec.issuer}, neither "
                f"by {rec.subject} nor by the institution {' or '.join(institution)}"]
    return []


def _disclosure_binding(what: str, rec: Disclosure, steps: Sequence[SignedRecord],
                        payload_of: Callable[[ProceduralStep], Any], case_id: bytes
                        ) -> list[str]:
    if rec.case_id != case_id:
        return [f"{what}: made for case 0x{rec.case_id.hex()}, not this one"]
    step = next((s for s in steps if s.record_hash == rec.appointment_hash), None)
    appointment = step.record if step is not None else None
    if not isinstance(appointment, ProceduralStep) or \
            APPOINTMENTS.get(appointment.action) != rec.role:
        return [f"{what}: appointmentHash 0x{rec.appointment_hash.hex()[:16]}… names no "
                f"step of the chain appointing a {rec.role}"]
    try:
        payload = payload_of(appointment)
        appointees = {str(a).lower() for a in payload["appointees"]}
    except Exception as exc:
        return [f"{what}: the appointment's payload is unreadable ({exc})"]
    if rec.appointee.lower() not in appointees:
        return [f"{what}: signed by {rec.appointee}, whom step {appointment.sequence} "
                f"({appointment.action}) does not appoint: only an appointee discloses"]
    if rec.signed_at < appointment.signed_at:
        return [f"{what}: signed at {rec.signed_at}, before the appointment it answers "
                f"({appointment.signed_at})"]
    return []


def _words(entry: Mapping[str, Any], by_hash: Mapping[str, SignedRecord]) -> list[str]:
    """The entry's words equal its cited profile's (about that address), or are empty."""
    who = f"{entry.get('role')} {entry.get('address')}"
    cited = entry.get("profile")
    if cited is None:
        said = [k for k, _ in PROFILE_WORDS if entry.get(k)]
        return [f"{who}: states {', '.join(said)} without a signed profile"] if said else []
    signed = by_hash.get(str(cited.get("recordHash")) if isinstance(cited, dict) else "")
    rec = signed.record if signed is not None else None
    if not isinstance(rec, Profile):
        return [f"{who}: its profile {cited!r} is not among the valid identity records"]
    out = []
    if rec.subject != entry.get("address"):
        out.append(f"{who}: its profile is about {rec.subject}")
    if cited.get("issuer") != rec.issuer:
        out.append(f"{who}: profile issuer {cited.get('issuer')}, signed by {rec.issuer}")
    for key, attr in PROFILE_WORDS:
        if entry.get(key) != getattr(rec, attr):
            out.append(f"{who}: {key} {entry.get(key)!r}, the signed profile says "
                       f"{getattr(rec, attr)!r}")
    return out


def _disclosed(entry: Mapping[str, Any], by_hash: Mapping[str, SignedRecord]) -> list[str]:
    who = f"{entry.get('role')} {entry.get('address')}"
    cited = entry.get("disclosure")
    signed = by_hash.get(str(cited.get("recordHash")) if isinstance(cited, dict) else "")
    rec = signed.record if signed is not None else None
    if not isinstance(rec, Disclosure):
        return [f"{who}: no valid signed disclosure (independence and conflicts)"]
    assert isinstance(cited, dict)
    out = []
    if rec.appointee != entry.get("address") or rec.role != entry.get("role"):
        out.append(f"{who}: the disclosure cited is by the {rec.role} {rec.appointee}")
    if entry.get("appointment") != "0x" + rec.appointment_hash.hex():
        out.append(f"{who}: appointment {entry.get('appointment')}, the disclosure answers "
                   f"0x{rec.appointment_hash.hex()}")
    stated = {"independent": rec.independent, "conflicts": rec.conflicts,
              "statement": rec.statement, "signedAt": str(rec.signed_at)}
    for key, value in stated.items():
        if cited.get(key) != value:
            out.append(f"{who}: disclosure {key} {cited.get(key)!r}, signed {value!r}")
    return out


ROLE_WORDS = {"claimant": "申请人", "respondent": "被申请人", "mediator": "调解员",
              "arbitrator": "仲裁员", "panelist": "仲裁庭成员", "court": "法院"}


def _line(entry: Mapping[str, Any]) -> str:
    """One detail line, in both languages: role, name(s), country, address, and what
    vouches for them."""
    role = str(entry.get("role"))
    names = " / ".join(n for n in (entry.get("name"), entry.get("nameZh")) if n) \
        or "(no signed profile / 未签署身份信息)"
    country = f" ({entry['country']})" if entry.get("country") else ""
    cited = entry.get("profile")
    vouch = "no signed profile / 无签名身份信息"
    if isinstance(cited, dict):
        vouch = ("profile signed by itself / 本人签署身份信息"
                 if cited.get("issuer") == entry.get("address")
                 else f"profile issued by the institution / 机构签发身份信息 {cited.get('issuer')}")
    disclosure = entry.get("disclosure")
    if isinstance(disclosure, dict):
        vouch += ("; disclosure: independent / 披露：独立" if disclosure.get("independent")
                  else "; disclosure: NOT independent / 披露：存在利益冲突: "
                  + str(disclosure.get("conflicts")))
    return (f"{role} {ROLE_WORDS.get(role, role)}: {names}{country} {entry.get('address')} "
            f"— {vouch}")
