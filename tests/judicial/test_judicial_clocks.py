"""Forged clocks: each package below is rebuilt and re-attested with the institution's own key
(the operator is the forger, so `files` and `attestation` pass) and fails the `clocks` check,
which needs no chain: the package's own dates contradict each other.

The TSA is the real `openssl ts` authority; the chain is py-evm. The world's chain ran ten
days ahead to pass the objection window, and its TSA's clock followed it (judicial_world);
a token dated by the real time is then ten days off the block it stamps, which is what the
expert saw in the demo of issue 11 (an operator who moves its chain's clock).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from evidence.clocks import iso
from evidence.judicial import Status, TimestampToken, build_package, verify_package
from evidence.timestamp import parse_response, request_timestamp
from tests.judicial.judicial_world import Case, attester, make_case
from tests.support.tsa import LocalTSA


def rebuild(case: Case, path: Path, **changes: Any) -> Path:
    """The case's package with `changes` to its inputs, attested by the institution."""
    inputs = dataclasses.replace(case.inputs, **changes)
    return build_package(inputs, path, attest=attester(case.actors.institution))


def failed(report_path: Path, case: Case, *, chain: bool = True) -> dict[str, str]:
    report = verify_package(report_path, chain=case.w3 if chain else None)
    return {c.name: " | ".join((c.reason, *c.details)) for c in report.checks
            if c.status is Status.FAILED}


def test_the_clocks_of_the_good_package_agree(case: Case) -> None:
    check = verify_package(case.package, chain=case.w3).check("clocks")
    assert check.passed, check.reason
    anchors = case.inputs.anchors
    assert len(check.details) == len(anchors) == 2
    for a, line in zip(anchors, check.details, strict=True):
        when = iso(a.block_time)
        assert f"block {a.block_number} on chain {a.chain_id} at {when}" in line
        token = next(t for t in case.inputs.timestamps if t.root == a.root).response
        delta = int(parse_response(token).gen_time.timestamp()) - a.block_time
        assert 0 <= delta <= 60 and f"genTime {delta:+d} s" in line
    # offline too: the clocks are the package's own
    assert verify_package(case.package, chain=None).check("clocks").passed


def test_a_token_dated_days_before_its_anchor_block_fails(case: Case, tmp_path: Path) -> None:
    """The operator's chain dates the second anchor ten days ahead of the TSA's real time."""
    late = case.inputs.anchors[1]
    real_time_token = request_timestamp(case.tsa.url, hashlib.sha256(late.root).digest())
    stamps = [TimestampToken(root=t.root, response=real_time_token) if t.root == late.root else t
              for t in case.inputs.timestamps]
    bad = rebuild(case, tmp_path / "p.zip", timestamps=stamps)
    for chain in (True, False):
        problems = failed(bad, case, chain=chain)
        assert set(problems) == {"clocks"}, problems
        assert f"root 0x{late.root.hex()[:16]}" in problems["clocks"]
        assert "days) before block" in problems["clocks"]
        assert f"block {late.block_number} on chain {late.chain_id}" in problems["clocks"]


def test_a_token_dated_days_after_its_anchor_block_fails(case: Case, tmp_path: Path) -> None:
    """A block time shifted back (or a token fetched long after): genTime too late."""
    first = case.inputs.anchors[0]
    with case.tsa.following(lambda: first.block_time + 3 * 86_400):
        token = request_timestamp(case.tsa.url, hashlib.sha256(first.root).digest())
    stamps = [TimestampToken(root=t.root, response=token) if t.root == first.root else t
              for t in case.inputs.timestamps]
    problems = failed(rebuild(case, tmp_path / "p.zip", timestamps=stamps), case)
    assert set(problems) == {"clocks"}, problems
    assert "(3.0 days) after block" in problems["clocks"]


def test_a_block_time_going_back_fails_even_without_a_chain(case: Case, tmp_path: Path
                                                            ) -> None:
    """The second anchor's block is dated before the first's: no chain needed to see it."""
    a0, a1 = case.inputs.anchors
    shifted = dataclasses.replace(a1, block_time=a0.block_time - 600)
    bad = rebuild(case, tmp_path / "p.zip", anchors=[a0, shifted])
    offline = failed(bad, case, chain=False)
    # `anchors` also says the proven header of that block has another time
    assert set(offline) == {"clocks", "anchors"}, offline
    assert (f"block {a1.block_number} ({'proofs/anchors.json'} row 2) is dated "
            in offline["clocks"])
    assert "block times never go back" in offline["clocks"]
    # the row and the carried header disagree on that block: one height, one block
    assert (f"chain {a1.chain_id} block {a1.block_number}: proofs/anchors.json row 2 says "
            in offline["clocks"])
    assert "one height has one block" in offline["clocks"]


def test_two_blocks_at_one_height_fail(case: Case, tmp_path: Path) -> None:
    a0, a1 = case.inputs.anchors
    twin = dataclasses.replace(a1, block_number=a0.block_number)
    problems = failed(rebuild(case, tmp_path / "p.zip", anchors=[a0, twin]), case, chain=False)
    assert "one height has one block" in problems["clocks"]


def test_records_signed_after_their_anchor_block_fail(local_tsa: LocalTSA, tmp_path: Path
                                                      ) -> None:
    """Signers whose clocks ran twelve days ahead of the chain (which itself moved ten days
    for the objection window): every record claims to be signed after the block that
    anchored it. Everything else verifies."""
    ahead = make_case(tmp_path / "ahead", local_tsa, signed_ahead=12 * 86_400)
    problems = failed(ahead.package, ahead)
    assert set(problems) == {"clocks"}, problems
    text = problems["clocks"]
    details = verify_package(ahead.package, chain=None).check("clocks").details
    chained = [e.record for e in ahead.inputs.steps if e.record.record.CHAINED]
    assert len(details) == len(chained) == 7
    assert all("a record cannot be signed after it was anchored" in d for d in details)
    for name in ("step 1 (ProceduralStep case.filed)", "step 3 (EvidenceSubmission)",
                 "step 7 (ProceduralStep enforcement.recorded)"):
        assert f"{name}: signedAt" in text, name
    for a in ahead.inputs.anchors:
        assert f"root 0x{a.root.hex()[:16]}" in text


def test_the_court_chooses_the_tolerance(case: Case, tmp_path: Path) -> None:
    """A token three days after its block fails the default (one day) and passes a court
    that allows four; the same court still sees a token ten days early."""
    from evidence.clocks import Tolerance

    first = case.inputs.anchors[0]
    with case.tsa.following(lambda: first.block_time + 3 * 86_400):
        token = request_timestamp(case.tsa.url, hashlib.sha256(first.root).digest())
    stamps = [TimestampToken(root=t.root, response=token) if t.root == first.root else t
              for t in case.inputs.timestamps]
    late = rebuild(case, tmp_path / "late.zip", timestamps=stamps)
    lenient = Tolerance(tsa_late=4 * 86_400)
    assert not verify_package(late, chain=None).check("clocks").passed
    assert verify_package(late, chain=None, clock_tolerance=lenient).check("clocks").passed
    strict = Tolerance(tsa_late=0, tsa_early=0)
    gen = int(parse_response(case.inputs.timestamps[0].response).gen_time.timestamp())
    outcome = verify_package(case.package, chain=None, clock_tolerance=strict).check("clocks")
    assert outcome.passed is (gen == first.block_time), (gen, first.block_time, outcome.reason)


def test_the_documented_clock_recipe_runs_under_sh(case: Case, tmp_path: Path) -> None:
    """docs/judicial-package.md §7 step 6's genTime command, run as written by `sh`."""
    import re
    import subprocess
    import zipfile

    doc = (Path(__file__).parents[2] / "docs" / "judicial-package.md").read_text()
    [command] = re.findall(r"`(GEN=\$\(date .*? \+%s\))`", doc)
    with zipfile.ZipFile(case.package) as zf:
        zf.extractall(tmp_path)
    for a, t in zip(case.inputs.anchors, case.inputs.timestamps, strict=True):
        done = subprocess.run(["sh", "-c", command + '; echo "$GEN"'], cwd=tmp_path,
                              env={"PATH": "/usr/bin:/bin", "R": a.root.hex()},
                              capture_output=True, text=True, check=True)
        gen = int(parse_response(t.response).gen_time.timestamp())
        assert int(done.stdout) == gen
        assert a.block_time - 900 <= gen <= a.block_time + 86_400
