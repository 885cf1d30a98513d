"""An expert checks the package with public tools only, as docs/judicial-package.md says:
sha256sum, openssl (`openssl ts -verify`), @openzeppelin/merkle-tree and
@metamask/eth-sig-util. No code of ours runs in these checks. The docs' own shell recipes
(commitments, the timestamp digest) run under dash in test_judicial_docs.py."""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.judicial.judicial_world import Case

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def extracted(case: Case, tmp_path: Path) -> Path:
    with zipfile.ZipFile(case.package) as zf:
        zf.extractall(tmp_path / "pkg")  # our own, trusted package: plain extraction is fine
    return tmp_path / "pkg"


def sh(cmd: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["dash", "-c", cmd], cwd=cwd, capture_output=True, text=True, check=False)


def test_sha256sum_accepts_the_checksums(extracted: Path) -> None:
    proc = sh("sha256sum -c --strict SHA256SUMS", extracted)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(": OK") >= 20
    (extracted / "award" / "award.md").write_bytes(b"edited")
    assert sh("sha256sum -c --quiet SHA256SUMS", extracted).returncode != 0


def test_openssl_ts_verify_accepts_each_token(case: Case, extracted: Path) -> None:
    anchors = json.loads((extracted / "proofs" / "anchors.json").read_text())["anchors"]
    for a in anchors:
        digest = hashlib.sha256(bytes.fromhex(a["root"][2:])).hexdigest()
        cmd = (
            f"openssl ts -verify -digest {digest} -in {a['timestamp']} "
            f"-CAfile {case.tsa.ca_pem} -untrusted timestamps/tsa-certificates.pem"
        )
        proc = sh(cmd, extracted)
        assert proc.returncode == 0 and "Verification: OK" in proc.stdout, proc.stderr
        wrong = sh(cmd.replace(digest, hashlib.sha256(b"x").hexdigest()), extracted)
        assert wrong.returncode != 0


@pytest.mark.node
def test_npm_merkle_tree_and_eth_sig_util_agree(case: Case, extracted: Path) -> None:
    proc = subprocess.run(
        ["node", str(Path(__file__).with_name("expert_check.mjs")), str(extracted)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    out = json.loads(proc.stdout)
    assert out["proofs"] and all(out["proofs"])
    arbitrator = case.actors.arbitrator.address.lower()
    for rec in out["signers"]:
        msg = rec["message"]
        declared = next(
            (msg[k] for k in ("actor", "submitter", "offeror", "objector", "court") if k in msg),
            arbitrator,
        )
        assert [s.lower() for s in rec["signers"]] == [declared.lower()], rec
    # The hash chain: each chained record's prevHash is the eip712Hash of the one before.
    chained = [r for r in out["signers"] if "prevHash" in r["message"]]
    assert chained[0]["message"]["prevHash"] == "0x" + "00" * 32
    for before, after in itertools.pairwise(chained):
        assert after["message"]["prevHash"] == before["recordHash"]
    # Every Merkle leaf value is (caseId, recordHash, signaturesHash) of a record.
    merkle = json.loads((extracted / "proofs" / "merkle.json").read_text())
    leaves = {tuple(p["value"]) for p in merkle["proofs"]}
    case_id = "0x" + case.case_id.hex()
    assert leaves == {(case_id, r["recordHash"], r["signaturesHash"]) for r in out["signers"]}
    # Who is who: each profile recovers to its issuer, each disclosure to its appointee,
    # and the manifest's words are the profile's it cites (by eth-sig-util's record hash).
    manifest = json.loads((extracted / "manifest.json").read_text())
    by_hash = {r["recordHash"]: r for r in out["identities"]}
    assert len(by_hash) == len(out["identities"]) >= 4
    for rec in out["identities"]:
        signer = rec["message"]["issuer" if rec["type"] == "Profile" else "appointee"]
        assert [s.lower() for s in rec["signers"]] == [signer.lower()], rec
    for person in manifest["parties"] + manifest["neutrals"]:
        profile = by_hash[person["profile"]["recordHash"]]["message"]
        assert profile["subject"] == person["address"]
        assert (profile["name"], profile["nameZh"]) == (person["name"], person["nameZh"])
        if person["role"] == "arbitrator":
            disclosure = by_hash[person["disclosure"]["recordHash"]]["message"]
            assert disclosure["appointee"] == person["address"]
            assert disclosure["appointmentHash"] == person["appointment"]
            assert any(r["recordHash"] == person["appointment"] for r in out["signers"])
