"""Whose word the timestamps rest on: the court pins the TSA roots it trusts (`--tsa-cert`,
once per authority); when it did not, every verdict says that the trust came from the
package itself, in both languages. A swapped authority (the operator re-stamps with a TSA of
its own and ships that TSA's certificates) passes only the unpinned check, and the verdict
then says why that is weak.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.chain.devchain import chain_time
from evidence.cli import app
from evidence.judicial import TimestampToken, verify_package
from evidence.judicial.verify import TSA_TRUST_FROM_PACKAGE
from evidence.timestamp import request_timestamp
from tests.judicial.judicial_world import Case
from tests.judicial.test_judicial_clocks import rebuild
from tests.support.tsa import LocalTSA, start_tsa


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTSA]:
    with start_tsa(tmp_path_factory.mktemp("stranger-tsa")) as tsa:
        yield tsa


@pytest.fixture(scope="module")
def swapped(case: Case, stranger: LocalTSA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The case re-stamped by another authority, whose certificates replace the package's;
    rebuilt and attested with the institution's key (its clocks still agree)."""
    with stranger.following(lambda: chain_time(case.w3)):
        stamps = [TimestampToken(root=t.root, response=request_timestamp(
            stranger.url, hashlib.sha256(t.root).digest())) for t in case.inputs.timestamps]
    certs = stranger.tsa_pem.read_bytes() + stranger.ca_pem.read_bytes()
    return rebuild(case, tmp_path_factory.mktemp("swapped") / "p.zip", timestamps=stamps,
                   tsa_certificates=certs)


def test_unpinned_verdicts_say_where_the_trust_came_from(case: Case) -> None:
    unpinned = verify_package(case.package, chain=case.w3)
    # (the world anchors on the institution's chain only: that note comes first)
    assert unpinned.ok and unpinned.notes[1:] == (TSA_TRUST_FROM_PACKAGE,)
    note = unpinned.to_json_obj()["notes"][-1]
    assert note == {"name": "tsa_trust_from_package",
                    "text": {"en": TSA_TRUST_FROM_PACKAGE.en, "zh": TSA_TRUST_FROM_PACKAGE.zh}}
    assert "--tsa-cert" in note["text"]["en"] and "--tsa-cert" in note["text"]["zh"]
    pinned = verify_package(case.package, chain=case.w3, tsa_trust=case.tsa.ca_pem.read_bytes())
    assert pinned.ok and TSA_TRUST_FROM_PACKAGE not in pinned.notes
    assert "tsa_trust_from_package" not in {n["name"] for n in pinned.to_json_obj()["notes"]}


def test_a_swapped_authority_passes_only_unpinned(case: Case, swapped: Path,
                                                  stranger: LocalTSA) -> None:
    unpinned = verify_package(swapped, chain=case.w3)
    assert unpinned.ok and unpinned.notes[-1] == TSA_TRUST_FROM_PACKAGE
    pinned = verify_package(swapped, chain=case.w3, tsa_trust=case.tsa.ca_pem.read_bytes())
    assert pinned.failed() == ["timestamps"]
    assert "does not lead to a trusted authority certificate" in \
        pinned.check("timestamps").reason
    # a court that trusts both authorities accepts either's tokens
    both = [*case.tsa.ca_pem.read_bytes().splitlines(keepends=True),
            *stranger.ca_pem.read_bytes().splitlines(keepends=True)]
    assert verify_package(swapped, chain=case.w3, tsa_trust=b"".join(both)).ok


def _cli(*args: str, lang: str = "en") -> tuple[int, str]:
    result = CliRunner().invoke(app, ["verify", *args], env={
        "CHAINARB_LANG": lang, "CHAINARB_CHAIN_RPC_URL": "", "CHAINARB_DATA_DIR": "/nonexistent",
        "COLUMNS": "300"})
    return result.exit_code, result.stdout


def test_cli_takes_several_tsa_certs_and_notes_an_unpinned_trust(
        case: Case, swapped: Path, stranger: LocalTSA, monkeypatch: pytest.MonkeyPatch) -> None:
    """No chain here (exit 3: the chain's checks could not run); what matters is the
    timestamps check and the note."""
    monkeypatch.setattr("evidence.chain.entry_points", lambda group: [])
    ours, theirs = str(case.tsa.ca_pem), str(stranger.ca_pem)

    code, out = _cli(str(swapped), "--json")
    report = json.loads(out)
    assert code == 3 and [n["name"] for n in report["notes"]][-1:] == ["tsa_trust_from_package"]
    assert next(c for c in report["checks"] if c["name"] == "timestamps")["status"] == "pass"

    code, out = _cli(str(swapped), "--json", "--tsa-cert", ours)
    report = json.loads(out)
    assert code == 1 and [n["name"] for n in report["notes"]] == ["operator_only"]
    assert next(c for c in report["checks"] if c["name"] == "timestamps")["status"] == "fail"

    code, out = _cli(str(swapped), "--json", "--tsa-cert", ours, "--tsa-cert", theirs)
    report = json.loads(out)
    assert code == 3 and [n["name"] for n in report["notes"]] == ["operator_only"]
    assert next(c for c in report["checks"] if c["name"] == "timestamps")["status"] == "pass"

    code, out = _cli(str(case.package))
    assert "Note: The timestamps were checked against the TSA certificates the package " \
           "itself carries" in " ".join(out.split())
    code, out = _cli(str(case.package), lang="zh")
    assert "注意：时间戳是依据材料包自带的时间戳机构证书核验的" in "".join(out.split())
    code, out = _cli(str(case.package), "--tsa-cert", ours)
    assert "Note: The timestamps" not in " ".join(out.split())
