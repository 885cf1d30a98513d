"""`chainarb verify-absence`: a court checks the institution's signed statement that no
record of a case entered the log between two checkpoints (a deadline passed unanswered)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from eth_account import Account
from typer.testing import CliRunner, Result

from evidence.cli import app
from evidence.log import LogEntry, MerkleLog, NoteSigner, issue_absence
from evidence.log.absence import AbsenceJson, AbsenceProof
from evidence.log.absence_index import IndexAbsenceJson, PlacedHead
from evidence.log.checkpoint import Checkpoint, sign_checkpoint
from tests.evidence.test_monitor import CASE, INSTITUTION, ORIGIN, SIGNER, entries, entry

NOW = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)


def _statement(log: list[bytes], start: int, end: int, signer: NoteSigner = SIGNER,
               case: str = CASE) -> AbsenceJson:
    tree = MerkleLog.of(log)

    def note(size: int) -> str:
        return sign_checkpoint(Checkpoint(ORIGIN, size, tree.root(size)), signer)

    proof = issue_absence(origin=ORIGIN, case_id=bytes.fromhex(case[2:]), first=note(start),
                          second=note(end), frontier=tree.frontier(start),
                          entries=[LogEntry.decode(e) for e in log[start:end]],
                          issued_at=NOW, signer=signer)
    return proof.to_json()


def _run(tmp_path: Path, statement: object, *extra: str, lang: str = "en") -> Result:
    path = tmp_path / "absence.json"
    path.write_text(json.dumps(statement))
    return CliRunner().invoke(app, ["verify-absence", str(path), *extra],
                              env={"CHAINARB_LANG": lang, "COLUMNS": "200"})


def test_a_true_statement_holds(tmp_path: Path) -> None:
    log = entries("xoooox")
    ok = _run(tmp_path, _statement(log, 1, 5), "--institution", INSTITUTION.address,
              "--case", CASE)
    assert ok.exit_code == 0, ok.output
    assert "Proof of absence holds" in ok.stdout and "4 entries checked" in ok.stdout
    zh = _run(tmp_path, _statement(log, 1, 5), "--institution", INSTITUTION.address,
              lang="zh")
    assert zh.exit_code == 0 and "不存在证明成立" in zh.stdout


def test_forged_or_false_statements_are_refused(tmp_path: Path) -> None:
    log = entries("xoooox")
    keys = ("--institution", INSTITUTION.address)
    stranger = NoteSigner.from_private_key(Account.create().key)
    forged = _run(tmp_path, _statement(log, 1, 5, signer=stranger), *keys)
    assert forged.exit_code == 1 and "REFUSED" in forged.stderr
    # the institution's statement about another case is not about this one
    other = _run(tmp_path, _statement(log, 1, 5, case="0x" + "ef" * 32), *keys, "--case", CASE)
    assert other.exit_code == 1 and "not " + CASE in other.stderr
    # a statement whose entries are swapped for the other case's after signing
    good = _statement(log, 1, 5)
    tampered = dict(good)
    tampered["entries"] = ["0x" + entry(CASE, 2).hex(), *list(good["entries"])[1:]]
    bad = _run(tmp_path, tampered, *keys)
    assert bad.exit_code == 1 and "REFUSED" in bad.stderr
    # an institution that signs a false statement (its entries hold the case) is caught:
    # the checker recomputes the root and finds the case's entry
    log2 = entries("xoxox")
    tree = MerkleLog.of(log2)
    notes = [sign_checkpoint(Checkpoint(ORIGIN, s, tree.root(s)), SIGNER) for s in (1, 4)]
    false = AbsenceProof(ORIGIN, bytes.fromhex(CASE[2:]), notes[0], notes[1],
                         tuple(tree.frontier(1)), tuple(LogEntry.decode(e) for e in log2[1:4]),
                         NOW, SIGNER.address, b"")
    from evidence.log import _statement as st

    signed = AbsenceProof(**{**false.__dict__, "signature": st.sign(false.body(), SIGNER)})
    lie = _run(tmp_path, signed.to_json(), *keys)
    assert lie.exit_code == 1 and "belongs to case" in lie.stderr


def test_usage_errors(tmp_path: Path) -> None:
    nokey = _run(tmp_path, {}, lang="en")
    assert nokey.exit_code == 2 and "--institution" in nokey.stderr
    junk = tmp_path / "junk.json"
    junk.write_text("not json at all, maybe a key")
    bad = CliRunner().invoke(app, ["verify-absence", str(junk), "--institution",
                                   INSTITUTION.address], env={"CHAINARB_LANG": "en"})
    assert bad.exit_code == 2 and "not a proof of absence" in bad.stderr
    assert "maybe a key" not in bad.output


def _index_statement(log: list[bytes], start: int, end: int, case: str = CASE
                     ) -> IndexAbsenceJson:
    """A version 2 statement (docs/log.md §8b): checkpoints signing the per-case index of
    the log's entries, the case's heads (or neighbours) in both."""
    from evidence.log.absence_index import issue_index_absence, placed_heads
    from evidence.log.caseindex import heads_of, index_extension, index_tree

    tree = MerkleLog.of(log)
    want = bytes.fromhex(case[2:])

    def side(size: int) -> tuple[str, tuple[PlacedHead, ...]]:
        heads = heads_of(enumerate(log[:size]))
        index = index_tree(heads)
        cp = Checkpoint(ORIGIN, size, tree.root(size),
                        (index_extension(len(heads), index.root()),))
        return sign_checkpoint(cp, SIGNER), placed_heads(heads, index.inclusion_proof, want)

    (a, ha), (b, hb) = side(start), side(end)
    return issue_index_absence(origin=ORIGIN, case_id=want, first=a, second=b,
                               consistency=tree.consistency_proof(start, end),
                               heads_first=ha, heads_second=hb,
                               issued_at=NOW, signer=SIGNER).to_json()


def test_a_statement_by_the_per_case_index_holds_in_both_languages(tmp_path: Path) -> None:
    log = entries("xoooooooox")  # the case has entry 0 and entry 9
    keys = ("--institution", INSTITUTION.address)
    stmt = _index_statement(log, 1, 9)
    assert "entries" not in stmt and len(json.dumps(stmt)) < 4000
    ok = _run(tmp_path, stmt, *keys, "--case", CASE)
    assert ok.exit_code == 0, ok.output
    assert "by the per-case index" in ok.stdout
    zh = _run(tmp_path, stmt, *keys, lang="zh")
    assert zh.exit_code == 0 and "分案索引" in zh.stdout
    # a case with no entry at all: its neighbours show it (here the log's only other case)
    third = _run(tmp_path, _index_statement(log, 1, 10, case="0x" + "ef" * 32), *keys)
    assert third.exit_code == 0, third.output
    # entry 9 is the case's: the institution refuses to sign that it is absent up to 10
    import pytest

    from evidence.log.errors import AbsenceDisproved

    with pytest.raises(AbsenceDisproved):
        _index_statement(log, 1, 10)
    # an altered head: the institution's signature no longer covers it
    bad = json.loads(json.dumps(stmt))
    bad["heads"]["to"][0]["position"] += 1
    refused = _run(tmp_path, bad, *keys)
    assert refused.exit_code == 1 and "REFUSED" in refused.stderr
