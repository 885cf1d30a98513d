"""Who is who: names bound to the keys that signed them (check `identities`).

Each forgery is a package the institution itself built and attested (so `files` and
`attestation` pass): only the binding of a name or a disclosure to its key is wrong, and
the `identities` check must say which.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from evidence.judicial import _format as fmt
from evidence.judicial import build_package, verify_package
from evidence.judicial.inputs import PackageInputs
from evidence.records import Disclosure, Profile, SignedRecord
from evidence.report import Status
from tests.judicial.judicial_world import Case, attester, disclose, make_case, profile
from tests.support.packages import rewrite_package
from tests.support.tsa import LocalTSA


def _verify(case: Case, tmp_path: Path, inputs: PackageInputs) -> dict[str, tuple[str, str]]:
    out = build_package(inputs, tmp_path / "forged.zip", attest=attester(case.actors.institution))
    report = verify_package(out, chain=case.w3)
    return {c.name: (str(c.status), c.reason) for c in report.checks}


def _with_party(case: Case, role: str, **change: Any) -> PackageInputs:
    parties = [dataclasses.replace(p, **change) if p.role == role else p
               for p in case.inputs.parties]
    return dataclasses.replace(case.inputs, parties=parties)


def _with_arbitrator(case: Case, **change: Any) -> PackageInputs:
    neutrals = [dataclasses.replace(n, **change) if n.role == "arbitrator" else n
                for n in case.inputs.neutrals]
    return dataclasses.replace(case.inputs, neutrals=neutrals)


def test_names_are_shown_beside_addresses(case: Case) -> None:
    report = verify_package(case.package, chain=case.w3)
    check = next(c for c in report.checks if c.name == "identities")
    assert check.passed, check.reason
    lines = "\n".join(check.details)
    assert f"claimant 申请人: Li Wei Trading / 李伟贸易 (CN) {case.actors.buyer.address}" in lines
    arbitrator = case.actors.arbitrator.address
    assert f"arbitrator 仲裁员: Dr. Chen Wei / 陈伟博士 (SG) {arbitrator}" in lines
    assert "disclosure: independent / 披露：独立" in lines
    with zipfile.ZipFile(case.package) as zf:
        manifest = json.loads(zf.read(fmt.MANIFEST))
        identities = zf.read(fmt.IDENTITIES).decode().splitlines()
    buyer = next(p for p in manifest["parties"] if p["role"] == "claimant")
    assert (buyer["name"], buyer["nameZh"], buyer["country"]) == ("Li Wei Trading", "李伟贸易",
                                                                  "CN")
    assert buyer["profile"]["issuer"] == case.actors.buyer.address
    arbitrator = manifest["neutrals"][0]
    assert arbitrator["disclosure"]["independent"] is True
    disclosure = case.inputs.neutrals[0].disclosure
    assert disclosure is not None and isinstance(disclosure.record, Disclosure)
    assert arbitrator["appointment"] == "0x" + disclosure.record.appointment_hash.hex()
    assert len(identities) == 4  # two party profiles, the arbitrator's profile, its disclosure


def test_a_party_profile_signed_by_someone_else_fails(case: Case, tmp_path: Path) -> None:
    stranger = case.actors.stranger
    forged = profile(stranger, case.domain, "Someone Else", "", "US", at=1,
                     subject=case.actors.buyer.address)
    checks = _verify(case, tmp_path, _with_party(case, "claimant", profile=forged))
    status, reason = checks["identities"]
    assert status == "failed"
    assert f"signed by {stranger.address}; a party's profile must be signed by the party" \
        in reason


def test_the_institution_cannot_name_a_party(case: Case, tmp_path: Path) -> None:
    forged = profile(case.actors.institution, case.domain, "Renamed Buyer", "", "CN", at=1,
                     subject=case.actors.buyer.address)
    checks = _verify(case, tmp_path, _with_party(case, "claimant", profile=forged))
    assert checks["identities"][0] == "failed"
    assert "must be signed by the party" in checks["identities"][1]


def test_a_profile_whose_signature_is_not_its_issuers_fails(case: Case, tmp_path: Path) -> None:
    rec = case.inputs.parties[0].profile
    assert rec is not None and isinstance(rec.record, Profile)
    other = Account.create()
    sig = dataclasses.replace(rec.record, issuer=other.address, subject=other.address
                              ).sign(other.key, case.domain).signatures[0]
    forged = SignedRecord(case.domain, rec.record, (sig,))  # the buyer's words, another key
    checks = _verify(case, tmp_path, _with_party(case, "claimant", profile=forged))
    assert checks["identities"][0] == "failed"
    # The signature is over another record: it recovers to neither `other` nor the buyer.
    assert f"but its issuer is {case.actors.buyer.address} (forged" in checks["identities"][1]


def test_a_disclosure_by_a_non_appointee_fails(case: Case, tmp_path: Path) -> None:
    good = case.inputs.neutrals[0].disclosure
    assert good is not None and isinstance(good.record, Disclosure)
    appointment = next(e.record for e in case.inputs.steps
                       if e.record.record_hash == good.record.appointment_hash)
    stranger = case.actors.stranger
    forged = disclose(stranger, case.domain, case.case_id, "arbitrator", appointment, at=10**9)
    checks = _verify(case, tmp_path, _with_arbitrator(case, disclosure=forged))
    status, reason = checks["identities"]
    assert status == "failed"
    assert f"signed by {stranger.address}, whom step" in reason
    assert "only an appointee discloses" in reason


def test_a_neutral_without_a_disclosure_fails(case: Case, tmp_path: Path) -> None:
    checks = _verify(case, tmp_path, _with_arbitrator(case, disclosure=None))
    assert checks["identities"] == (
        "failed", f"arbitrator {case.actors.arbitrator.address}: no valid signed disclosure "
        "(independence and conflicts)")


def test_a_hidden_neutral_fails(case: Case, tmp_path: Path) -> None:
    checks = _verify(case, tmp_path, dataclasses.replace(case.inputs, neutrals=[]))
    assert checks["identities"] == (
        "failed", f"neutrals: the arbitrator {case.actors.arbitrator.address} is not named in "
        "the manifest")


def test_words_without_a_signed_profile_fail(case: Case, tmp_path: Path) -> None:
    """The manifest may not state a name nobody signed (edited after the build, re-summed
    and re-attested by the institution)."""
    out = tmp_path / "renamed.zip"
    inputs = _with_party(case, "respondent", profile=None)
    built = build_package(inputs, tmp_path / "unnamed.zip",
                          attest=attester(case.actors.institution))
    report = verify_package(built, chain=case.w3)
    assert next(c for c in report.checks if c.name == "identities").passed  # empty words: ok
    with zipfile.ZipFile(built) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(files[fmt.MANIFEST])
    seller = next(p for p in manifest["parties"] if p["role"] == "respondent")
    assert seller["name"] == "" and seller["profile"] is None
    seller["name"] = "Lumen Holdings Ltd"
    files[fmt.MANIFEST] = fmt.pretty(manifest)
    with zipfile.ZipFile(out, "w") as zf:
        for n in sorted(files):
            zf.writestr(n, files[n])
    report = verify_package(out, chain=case.w3)
    check = next(c for c in report.checks if c.name == "identities")
    assert not check.passed
    assert check.reason == (f"respondent {case.actors.seller.address}: states name without a "
                            "signed profile")


def test_a_manifest_name_differing_from_the_profile_fails(case: Case, tmp_path: Path) -> None:
    inputs = dataclasses.replace(case.inputs, parties=[
        dataclasses.replace(p, profile=case.inputs.parties[0].profile) if p.role == "respondent"
        else p for p in case.inputs.parties])
    checks = _verify(case, tmp_path, inputs)
    assert checks["identities"][0] == "failed"
    assert f"its profile is about {case.actors.buyer.address}" in checks["identities"][1]


def test_a_neutral_profile_comes_from_itself_or_the_institution(
        case: Case, tmp_path: Path) -> None:
    """A profile of a neutral may come from the institution's register; one signed by a
    stranger about a neutral may not."""
    stranger = case.actors.stranger
    forged = profile(stranger, case.domain, "Fake Arbitrator", "", "SG", at=1,
                     subject=case.actors.arbitrator.address)
    checks = _verify(case, tmp_path, _with_arbitrator(case, profile=forged))
    assert checks["identities"][0] == "failed"
    assert f"signed by {stranger.address}, neither by" in checks["identities"][1]
    issued = profile(case.actors.institution, case.domain, "Dr. Chen Wei", "陈伟博士", "SG",
                     at=1, subject=case.actors.arbitrator.address)
    checks = _verify(case, tmp_path, _with_arbitrator(case, profile=issued))
    assert checks["identities"][0] == "passed", checks["identities"]


def test_chainarb_verify_prints_names_beside_addresses(case: Case,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`chainarb verify`'s report (its printer, fed the report of this package on its
    chain) lists who is who below the table, in the user's language."""
    import io

    from rich.console import Console

    from evidence.judicial.cli import print_report

    report = verify_package(case.package, chain=case.w3)
    for lang, heading in (("en", "Who is who (each name signed by the key beside it):"),
                          ("zh", "当事人、中立人员与法院（每个名称均经其旁所列密钥签名）：")):
        monkeypatch.setenv("CHAINARB_LANG", lang)
        out = io.StringIO()
        print_report(report, Console(file=out, width=200))
        text = out.getvalue()
        assert heading in text, text
        buyer = case.actors.buyer.address
        assert f"claimant 申请人: Li Wei Trading / 李伟贸易 (CN) {buyer}" in text


# --- institution key rotation ------------------------------------------------------------
# Each kind of case is built once for the module (the tests only read it, or verify a
# rewritten copy of its package), with the key it hands over to.


@pytest.fixture(scope="module")
def rotated_case(tmp_path_factory: pytest.TempPathFactory, local_tsa: LocalTSA
                 ) -> tuple[Case, LocalAccount]:
    """The old key signs the handover to a new key, an anchored step of the case."""
    new = Account.create()
    return make_case(tmp_path_factory.mktemp("rotated"), local_tsa, rotate_to=new), new


@pytest.fixture(scope="module")
def forged_case(tmp_path_factory: pytest.TempPathFactory, local_tsa: LocalTSA
                ) -> tuple[Case, LocalAccount]:
    """A stranger 'hands over' the institution to its own key."""
    thief = Account.create()
    return make_case(tmp_path_factory.mktemp("forged"), local_tsa, rotate_to=thief,
                     rotation_signer=thief), thief


@pytest.fixture(scope="module")
def onchain_case(tmp_path_factory: pytest.TempPathFactory, local_tsa: LocalTSA
                 ) -> tuple[Case, LocalAccount]:
    """The handover made on the escrow (InstitutionKeyRotated), with no step."""
    new = Account.create()
    return make_case(tmp_path_factory.mktemp("onchain"), local_tsa, rotate_to=new,
                     rotate_on_chain=True), new


def test_a_rotated_institution_key_is_followed(rotated_case: tuple[Case, LocalAccount]
                                               ) -> None:
    """The old key signs the handover (an anchored step of the chain); the new key then
    signs the institution's steps and the attestation; the verifier follows the chain."""
    rotated, new = rotated_case
    report = verify_package(rotated.package, chain=rotated.w3)
    assert report.ok, [(c.name, c.reason) for c in report.checks if not c.passed]
    with zipfile.ZipFile(rotated.package) as zf:
        manifest = json.loads(zf.read(fmt.MANIFEST))
    actions = [t["action"] for t in manifest["timeline"]]
    assert "institution.key_rotated" in actions
    assert manifest["institution"]["address"] == new.address
    attestation = next(c for c in report.checks if c.name == "attestation")
    assert attestation.reason.endswith(f"signed by the institution {new.address}")


def test_a_rotation_not_signed_by_the_old_key_fails(forged_case: tuple[Case, LocalAccount]
                                                    ) -> None:
    """A stranger 'hands over' the institution to its own key: the handover is void, so the
    new key's steps and attestation are not the institution's."""
    forged, thief = forged_case
    report = verify_package(forged.package, chain=forged.w3)
    checks = {c.name: c for c in report.checks}
    assert not report.ok
    roles = checks["roles"]
    assert roles.status == Status.FAILED
    assert any(f"(institution.key_rotated) is signed by {thief.address}, not by the "
               f"institution {forged.actors.institution.address}: the appointment is void"
               in d for d in roles.details), roles.details
    assert any(f"(ProceduralStep enforcement.recorded): signed by {thief.address}, who did "
               "not hold the role institution" in d for d in roles.details), roles.details
    assert checks["attestation"].status == Status.FAILED
    assert f"signed by {thief.address}, not by the institution's key " \
        f"{forged.actors.institution.address}" in checks["attestation"].reason


def test_the_key_chain_is_named_by_identities(rotated_case: tuple[Case, LocalAccount]
                                              ) -> None:
    """`identities` states each institution key and the anchored step that handed it over."""
    rotated, new = rotated_case
    report = verify_package(rotated.package, chain=rotated.w3)
    identities = next(c for c in report.checks if c.name == "identities")
    assert identities.status == Status.PASSED, identities.reason
    assert identities.reason.endswith("2 institution key(s), each handed over by the one before")
    old = rotated.actors.institution.address
    assert f"institution key / 机构密钥: {old} (the order's, on-chain)" in identities.details
    assert any(d.startswith(f"institution key / 机构密钥: {new.address}, handed over by {old} "
                            "at step ") and " anchored in root 0x" in d
               for d in identities.details), identities.details


def test_a_rotation_not_signed_by_the_old_key_fails_identities(
        forged_case: tuple[Case, LocalAccount]) -> None:
    forged, thief = forged_case
    report = verify_package(forged.package, chain=forged.w3)
    identities = next(c for c in report.checks if c.name == "identities")
    assert identities.status == Status.FAILED
    assert identities.reason.endswith(
        f"hands the institution to {thief.address} but is signed by {thief.address}, not by "
        f"the key holding the role ({forged.actors.institution.address}): the rotation is void")


def test_an_unanchored_rotation_fails_identities(rotated_case: tuple[Case, LocalAccount],
                                                 tmp_path: Path) -> None:
    """The handover is genuinely signed by the old key, but no anchored root holds it: a
    rotation nobody can date binds no one (the holder of the new key cannot backdate it)."""
    rotated, new = rotated_case
    with zipfile.ZipFile(rotated.package) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    steps = [json.loads(line) for line in files[fmt.STEPS].decode().splitlines() if line]
    handover = next(SignedRecord.from_json_obj(s) for s in steps
                    if s["message"].get("action") == "institution.key_rotated")
    merkle = json.loads(files[fmt.MERKLE])
    merkle["proofs"] = [pr for pr in merkle["proofs"]
                        if pr["recordHash"] != "0x" + handover.record_hash.hex()]
    files[fmt.MERKLE] = json.dumps(merkle).encode()
    listed = {n: hashlib.sha256(b).hexdigest() for n, b in files.items()
              if n not in fmt.OUTSIDE_CHECKSUMS}
    files[fmt.CHECKSUMS] = fmt.checksums_text(listed)
    out = tmp_path / "unanchored.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            zf.writestr(name, files[name])
    report = verify_package(out, chain=rotated.w3)
    identities = next(c for c in report.checks if c.name == "identities")
    assert identities.status == Status.FAILED
    assert f"hands the institution to {new.address} but is not anchored" in identities.reason


def _rewrite(case: Case, out: Path, edit: Callable[[dict[str, bytes]], None]) -> Path:
    """The case's package with `edit` applied and SHA256SUMS recomputed (as a forger would)."""
    return rewrite_package(case.package.read_bytes(), out, edit)


def test_the_escrows_handover_is_followed_without_a_step(
        onchain_case: tuple[Case, LocalAccount]) -> None:
    """No `institution.key_rotated` step (the case had no chain at the rotation): the
    package proves the escrow's InstitutionKeyRotated, and the verifier follows it."""
    case, new = onchain_case
    report = verify_package(case.package, chain=case.w3)
    assert report.ok, [(c.name, c.reason) for c in report.checks if not c.passed]
    checks = {c.name: c for c in report.checks}
    old = case.actors.institution.address
    assert any(d.startswith(f"institution key / 机构密钥: {new.address}, handed over by {old} "
                            "on the escrow (InstitutionKeyRotated, tx 0x")
               for d in checks["identities"].details), checks["identities"].details
    assert checks["attestation"].reason.endswith(f"signed by the institution {new.address}")


def test_without_the_escrows_handover_the_successor_is_no_one(
        onchain_case: tuple[Case, LocalAccount], tmp_path: Path) -> None:
    """The handover's receipt left out of the package: the new key's step and attestation
    are a stranger's."""
    case, new = onchain_case
    escrow = json.loads(zipfile.ZipFile(case.package).read(fmt.ESCROW))
    (rotation_tx,) = [a["txHash"] for a in escrow["acts"]
                      if a["event"] == "InstitutionKeyRotated"]

    def omit(files: dict[str, bytes]) -> None:
        esc = json.loads(files[fmt.ESCROW])
        esc["acts"] = [a for a in esc["acts"] if a["txHash"] != rotation_tx]
        files[fmt.ESCROW] = json.dumps(esc).encode()
        receipts = json.loads(files[fmt.RECEIPTS])
        receipts["receipts"] = [r for r in receipts["receipts"] if r["txHash"] != rotation_tx]
        files[fmt.RECEIPTS] = json.dumps(receipts).encode()

    report = verify_package(_rewrite(case, tmp_path / "omitted.zip", omit), chain=case.w3)
    checks = {c.name: c for c in report.checks}
    assert checks["roles"].status == Status.FAILED
    assert any(f"signed by {new.address}, who did not hold the role institution" in d
               for d in checks["roles"].details), checks["roles"].details
    assert checks["attestation"].status == Status.FAILED


def test_a_listed_handover_that_is_no_handover_fails(onchain_case: tuple[Case, LocalAccount],
                                                     tmp_path: Path) -> None:
    case, _new = onchain_case

    def relabel(files: dict[str, bytes]) -> None:  # the order's opening called a handover
        esc = json.loads(files[fmt.ESCROW])
        esc["acts"].append({"event": "InstitutionKeyRotated", "txHash": esc["openTx"]})
        files[fmt.ESCROW] = json.dumps(esc).encode()

    report = verify_package(_rewrite(case, tmp_path / "relabelled.zip", relabel), chain=case.w3)
    acts = next(c for c in report.checks if c.name == "onchain_acts")
    assert acts.status == Status.FAILED
    assert "InstitutionKeyRotated: tx 0x" in acts.reason and "holds no handover" in acts.reason


def test_a_package_attested_after_a_late_handover(tmp_path: Path, local_tsa: LocalTSA) -> None:
    """Every step was the old key's; the escrow's handover came afterwards, so the package
    exported now is attested by the new key: the verifier follows the escrow to it, and the
    old key may attest no more."""
    new = Account.create()
    case = make_case(tmp_path / "late", local_tsa, rotate_to=new, rotate_on_chain=True,
                     rotate_late=True)
    report = verify_package(case.package, chain=case.w3)
    assert report.ok, [(c.name, c.reason) for c in report.checks if not c.passed]
    checks = {c.name: c for c in report.checks}
    assert checks["attestation"].reason.endswith(f"signed by the institution {new.address}")
