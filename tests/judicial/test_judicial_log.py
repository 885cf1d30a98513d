"""The package's log section (issue 15): checkpoints, consistency, inclusion, completeness,
and the receipts a party holds (`--receipts`): what a court catches that the signed
package alone could not (a dropped, altered or reordered record; a split view; a forged
checkpoint or receipt)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from eth_account import Account
from typer.testing import CliRunner

from evidence.cli import app
from evidence.judicial import LogCheckpoint, build_package, verify_package
from evidence.judicial import _format as fmt
from evidence.judicial._log import gather, note_size
from evidence.judicial.inputs import LogCaseIndex, LogInputs
from evidence.judicial.verify import Status
from evidence.log import (
    Checkpoint,
    LogEntry,
    MerkleLog,
    NoteSigner,
    issue_receipt,
    sign_checkpoint,
)
from evidence.log.caseindex import heads_of, index_tree
from evidence.log.receipt import ProvedReceiptJson, ReceiptJson
from evidence.receipts import HeldReceipt, load_receipts, save_receipt
from evidence.records import SignedRecord
from tests.judicial.judicial_world import LOG_ORIGIN, OTHER_CASE, Case, CaseLog, attester
from tests.judicial.test_judicial_package import edit_json, repack

NOW = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)


def _verify(case: Case, path: Path, receipts: list[HeldReceipt] | None = None
            ) -> tuple[set[str], dict[str, str]]:
    report = verify_package(path, chain=case.w3, receipts=receipts)
    failed = {c.name for c in report.checks if c.status is Status.FAILED}
    reasons = {c.name: c.reason + " | " + " | ".join(c.details) for c in report.checks}
    return failed, reasons


def _log(case: Case) -> CaseLog:
    assert case.log is not None
    return case.log


def _rebuild(case: Case, path: Path, log_inputs: LogInputs | None) -> Path:
    """The case's package built again, attested by the institution, with another log."""
    inputs = replace(case.inputs, log=log_inputs)
    return build_package(inputs, path, attest=attester(case.actors.institution))


def _receipt(case: Case, index: int, entry: bytes, *, signer: NoteSigner | None = None,
             origin: str = LOG_ORIGIN) -> ReceiptJson | ProvedReceiptJson:
    r = issue_receipt(origin=origin, index=index, entry=LogEntry.decode(entry), accepted_at=NOW,
                      signer=signer or _log(case).signer)
    return r.to_json()


def _held(receipts: Sequence[Mapping[str, object]], folder: Path) -> list[HeldReceipt]:
    for r in receipts:
        save_receipt(folder, r)
    return load_receipts(folder)


# --- the good package and its receipts ----------------------------------------------------


def test_every_record_is_in_the_log_and_every_receipt_is_carried(case: Case,
                                                                  tmp_path: Path) -> None:
    log = _log(case)
    receipts = [_receipt(case, i, e) for i, e in log.records.values()]
    held = _held(receipts, tmp_path / "receipts")
    assert len(held) == len(log.records)
    report = verify_package(case.package, chain=case.w3, receipts=held)
    assert report.ok, [(c.name, c.reason, c.details) for c in report.checks if not c.passed]
    by_name = {c.name: c for c in report.checks}
    assert by_name["receipts"].passed and len(by_name["receipts"].details) == len(held)
    assert "2 checkpoint(s)" in by_name["log_checkpoints"].reason
    assert f"{len(log.records)} record(s) proven" in by_name["log_inclusion"].reason
    # the same receipt saved twice is one file
    save_receipt(tmp_path / "receipts", receipts[0])
    assert len(load_receipts(tmp_path / "receipts")) == len(held)


def test_receipts_of_another_case_are_listed_not_judged(case: Case, tmp_path: Path) -> None:
    other = replace(LogEntry.decode(next(iter(_log(case).records.values()))[1]),
                    case_id=b"\x07" * 32).encode()
    held = _held([_receipt(case, 0, other)], tmp_path / "r")
    failed, reasons = _verify(case, case.package, held)
    assert "receipts" not in failed and "another case (not checked)" in reasons["receipts"]


# --- a dropped, altered or reordered record --------------------------------------------------


def test_a_dropped_record_is_named_by_the_log_and_by_its_receipt(case: Case,
                                                                 tmp_path: Path) -> None:
    """The forger drops the last step, its Merkle proof, its timeline entry and its log
    inclusion, and re-sums: the log's range still holds the step (log_completeness), and
    the party's receipt names it (receipts)."""
    log = _log(case)
    steps = fmt.STEPS
    with zipfile.ZipFile(case.package) as z:
        last = SignedRecord.from_json(z.read(steps).splitlines()[-1])
    drop = "0x" + last.record_hash.hex()

    def cut(files: dict[str, bytes]) -> None:
        files[steps] = b"".join(files[steps].splitlines(keepends=True)[:-1])
        edit_json(files, fmt.MERKLE, lambda o: o.update(
            proofs=[p for p in o["proofs"] if p["recordHash"] != drop]))
        edit_json(files, fmt.MANIFEST, lambda o: o.update(
            timeline=[t for t in o["timeline"] if t["recordHash"] != drop]))
        edit_json(files, fmt.LOG, lambda o: o.update(
            records=[r for r in o["records"] if r["recordHash"] != drop]))

    index, entry = log.records[last.record_hash]
    held = _held([_receipt(case, index, entry)], tmp_path / "r")
    failed, reasons = _verify(case, repack(case, tmp_path / "p.zip", cut), held)
    assert {"log_completeness", "receipts"} <= failed
    assert f"at index {index}" in reasons["log_completeness"]
    assert "a record was left out" in reasons["log_completeness"]
    assert drop in reasons["receipts"] and "omitted" in reasons["receipts"]


def test_an_altered_entry_fails_its_inclusion_proof(case: Case, tmp_path: Path) -> None:
    def alter(files: dict[str, bytes]) -> None:
        def change(o: dict) -> None:
            rec = o["records"][0]
            raw = bytearray(bytes.fromhex(rec["entry"][2:]))
            raw[-1] ^= 1  # another signatures hash: not the entry the log holds
            rec["entry"] = "0x" + raw.hex()
        edit_json(files, fmt.LOG, change)

    failed, reasons = _verify(case, repack(case, tmp_path / "p.zip", alter))
    assert "log_inclusion" in failed and "the inclusion proof fails" in reasons["log_inclusion"]


def test_a_replaced_record_is_named_by_its_receipt(case: Case, tmp_path: Path) -> None:
    """The service accepted record X at index i (the party's receipt), but the package's
    log puts X elsewhere: the receipt names the record and the index."""
    log = _log(case)
    (_, (index, _)), (_, (_, other)) = list(log.records.items())[:2]
    held = _held([_receipt(case, index, other)], tmp_path / "r")
    failed, reasons = _verify(case, case.package, held)
    assert failed == {"receipts"}
    assert f"as log index {index}" in reasons["receipts"]
    assert "altered or moved" in reasons["receipts"]


def test_a_reordered_log_is_caught(case: Case, tmp_path: Path) -> None:
    """A log in which two of the case's records stand in the other order than the service
    accepted them (their sequence): even re-signed by the institution, the inclusion check
    says which record is out of order, and the re-signed checkpoints are not the anchored
    ones."""
    log = _log(case)
    order = sorted(log.records.items(), key=lambda kv: kv[1][0])
    (h1, (i1, e1)), (h2, (i2, e2)) = order[1], order[2]
    entries = list(log.entries)
    entries[i1], entries[i2] = e2, e1
    tree = MerkleLog.of(entries)
    records = {**log.records, h1: (i2, e1), h2: (i1, e2)}
    notes = []
    for c in log.checkpoints:
        size = note_size(c.note)
        note = sign_checkpoint(Checkpoint(LOG_ORIGIN, size, tree.root(size)), log.signer)
        notes.append(LogCheckpoint(note=note.encode(), anchor=c.anchor))
    forged = gather(tree, origin=LOG_ORIGIN, checkpoints=notes, start=0,
                    records=[(h, i, e) for h, (i, e) in records.items()],
                    entries=entries[:tree.size])
    failed, reasons = _verify(case, _rebuild(case, tmp_path / "p.zip", forged))
    assert "log_inclusion" in failed and "reordered" in reasons["log_inclusion"]
    assert "log_checkpoints" in failed and "not anchored" in reasons["log_checkpoints"]


# --- forged checkpoints -----------------------------------------------------------------------


def test_a_checkpoint_signed_by_another_key_is_refused(case: Case, tmp_path: Path) -> None:
    log = _log(case)
    stranger = NoteSigner.from_private_key(Account.create().key)
    notes = []
    for c in log.checkpoints:
        text = c.note.decode()
        body = text.split("\n\n")[0] + "\n"
        cp = Checkpoint.parse_body(body)
        notes.append(LogCheckpoint(note=sign_checkpoint(cp, stranger).encode(), anchor=c.anchor))
    forged = replace(log.inputs, checkpoints=notes)
    failed, reasons = _verify(case, _rebuild(case, tmp_path / "p.zip", forged))
    assert {"log_checkpoints", "log_consistency", "log_inclusion", "log_completeness"} <= failed
    assert "refused" in reasons["log_checkpoints"]


def test_a_checkpoint_with_another_root_under_the_old_signature_is_refused(
        case: Case, tmp_path: Path) -> None:
    def forge(files: dict[str, bytes]) -> None:
        def change(o: dict) -> None:
            note = o["checkpoints"][0]["note"]
            lines = note.split("\n")
            lines[2] = "A" * 43 + "="  # another root, the signature line kept
            o["checkpoints"][0]["note"] = "\n".join(lines)
        edit_json(files, fmt.LOG, change)

    failed, reasons = _verify(case, repack(case, tmp_path / "p.zip", forge))
    assert "log_checkpoints" in failed and "refused" in reasons["log_checkpoints"]


def test_a_split_view_is_caught_by_the_parties_receipts(case: Case, tmp_path: Path) -> None:
    """The service showed the respondent another log (view B: one entry of another case
    differs). The package is built from view A; the claimant's receipts agree with it. The
    respondent's receipts carry view B's checkpoints, signed by the institution: one of the
    package's own size with another root, one inside the package's range whose root the
    range recomputes otherwise. Each is named a split view; and a record only view B holds
    is named as omitted."""
    log = _log(case)
    view_b = list(log.entries)
    view_b[0] = LogEntry.decode(view_b[1]).encode()  # the other case's entry 0, changed
    tree_b = MerkleLog.of(view_b)
    first_size = min(note_size(c.note) for c in log.checkpoints)
    index, entry = min(log.records.values())

    def of_view_b(size: int) -> ReceiptJson | ProvedReceiptJson:
        note = sign_checkpoint(Checkpoint(LOG_ORIGIN, size, tree_b.root(size)), log.signer)
        return issue_receipt(origin=LOG_ORIGIN, index=index, entry=LogEntry.decode(entry),
                             accepted_at=NOW, signer=log.signer).with_inclusion(
            note, tree_b.inclusion_proof(index, size)).to_json()

    claimant = [_receipt(case, i, e) for i, e in list(log.records.values())[:2]]
    failed, _ = _verify(case, case.package, _held(claimant, tmp_path / "a"))
    assert "receipts" not in failed
    for size in (first_size, first_size - 1):
        held = _held([of_view_b(size)], tmp_path / f"b{size}")
        failed, reasons = _verify(case, case.package, held)
        assert failed == {"receipts"}, reasons["receipts"]
        assert "split view" in reasons["receipts"] and f"size {size}" in reasons["receipts"]
    only_b = replace(LogEntry.decode(entry), record_hash=b"\x42" * 32).encode()
    failed, reasons = _verify(case, case.package,
                              _held([_receipt(case, index, only_b)], tmp_path / "c"))
    assert failed == {"receipts"} and "omitted" in reasons["receipts"]
    assert "0x" + "42" * 32 in reasons["receipts"]


def test_a_forged_receipt_is_refused(case: Case, tmp_path: Path) -> None:
    log = _log(case)
    index, entry = next(iter(log.records.values()))
    stranger = NoteSigner.from_private_key(Account.create().key)
    held = _held([_receipt(case, index, entry, signer=stranger)], tmp_path / "r")
    failed, reasons = _verify(case, case.package, held)
    assert failed == {"receipts"} and "refused" in reasons["receipts"]


# --- the CLI -------------------------------------------------------------------------------


def _checkpoint_file(case: Case, path: Path) -> Path:
    """The block hashes of the package, as a court would obtain them elsewhere."""
    report = verify_package(case.package, chain=[])
    hashes = ["0x" + b.hash.hex() for b in report.blocks]
    path.write_text(json.dumps({"chains": {str(case.w3.eth.chain_id): hashes}}))
    return path


def test_cli_verify_with_receipts_names_the_omitted_record(case: Case, tmp_path: Path) -> None:
    log = _log(case)
    index, entry = max(log.records.values())
    good = tmp_path / "good"
    _held([_receipt(case, index, entry)], good)
    checkpoint = _checkpoint_file(case, tmp_path / "blocks.json")
    runner = CliRunner()
    env = {"CHAINARB_LANG": "en", "COLUMNS": "200"}
    ok = runner.invoke(app, ["verify", str(case.package), "--checkpoint", str(checkpoint),
                             "--receipts", str(good)], env=env)
    assert ok.exit_code == 0, ok.output
    assert "Receipts held by a party" in ok.stdout
    bad = tmp_path / "bad"
    moved = LogEntry.decode(entry)
    _held([_receipt(case, index + 1000, moved.encode())], bad)
    no = runner.invoke(app, ["verify", str(case.package), "--checkpoint", str(checkpoint),
                             "--receipts", str(bad), "--json"], env=env)
    assert no.exit_code == 1
    report = json.loads(no.stdout)
    (receipts,) = [c for c in report["checks"] if c["name"] == "receipts"]
    assert receipts["status"] == "fail" and "altered or moved" in receipts["reason"]
    zh = runner.invoke(app, ["verify", str(case.package), "--checkpoint", str(checkpoint),
                             "--receipts", str(bad)], env={"CHAINARB_LANG": "zh",
                                                          "COLUMNS": "200"})
    assert zh.exit_code == 1 and "当事人所持回执" in zh.stdout
    missing = runner.invoke(app, ["verify", str(case.package), "--receipts",
                                  str(tmp_path / "nowhere")], env=env)
    assert missing.exit_code == 2 and "no such directory" in missing.stderr
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "x.json").write_text("secret-key-material")
    refused = runner.invoke(app, ["verify", str(case.package), "--receipts", str(junk)],
                            env=env)
    assert refused.exit_code == 2 and "x.json is not a receipt" in refused.stderr
    assert "secret-key-material" not in refused.output


def test_completeness_from_a_checkpoint_before_the_case(case: Case) -> None:
    """The service starts the range at the last anchored checkpoint before the case's first
    entry (not at the empty tree): the checks hold from there, and a range that starts
    after the case's first entry, or whose entries are not the log's, is refused."""
    from evidence.judicial._log import (
        LogSection,
        check_completeness,
        check_inclusion,
        log_json,
        read_section,
    )

    log = _log(case)
    records = [e.record for e in case.inputs.steps]
    chained = [r for r in records if r.record.CHAINED]
    unchained = [r for r in records if not r.record.CHAINED]
    world = CaseLog(MerkleLog(), [], log.signer, [], {}, log.inputs)
    world.noise(4)
    before = world.sign()
    for r in records:
        entry = log.records[r.record_hash][1]
        world.records[r.record_hash] = (world.append(entry), entry)
    world.noise(1)
    after = world.sign()
    anchor = log.checkpoints[0].anchor  # not judged here (log_checkpoints is)
    notes = [LogCheckpoint(note=n.encode(), anchor=anchor) for n in (before, after)]
    keys = [case.actors.institution.address]

    def section(start: int) -> LogSection:
        return read_section(json.loads(json.dumps(log_json(gather(
            world.tree, origin=LOG_ORIGIN, checkpoints=notes, start=start,
            records=[(h, i, e) for h, (i, e) in world.records.items()],
            entries=world.entries[start:world.tree.size])))))

    good = section(4)
    assert good.start == 4 and len(good.entries) == len(records) + 1
    problems, summary = check_completeness(good, keys, case.case_id, chained, unchained)
    assert problems == [] and f"from size 4 to {world.tree.size}" in summary
    problems, proven = check_inclusion(good, keys, case.case_id, chained, unchained)
    assert problems == [] and proven == len(records)
    # a range from the empty tree holds too; a package without the first step does not
    problems, _ = check_completeness(section(0), keys, case.case_id, chained[1:], unchained)
    assert problems and "a record was left out" in problems[0] and "at index 4" in problems[0]


def test_two_checkpoints_of_one_size_are_a_split_view(case: Case, tmp_path: Path) -> None:
    """A package citing two institution-signed checkpoints of the same size with different
    roots is the institution's own proof of equivocation: log_checkpoints says so."""
    log = _log(case)
    first = log.checkpoints[0]
    size = note_size(first.note)
    other = MerkleLog.of([*log.entries[:size - 1], log.entries[0]])
    twin = sign_checkpoint(Checkpoint(LOG_ORIGIN, size, other.root()), log.signer)
    forged = replace(log.inputs, checkpoints=[
        *log.inputs.checkpoints, LogCheckpoint(note=twin.encode(), anchor=first.anchor)])
    failed, reasons = _verify(case, _rebuild(case, tmp_path / "p.zip", forged))
    assert "log_checkpoints" in failed
    assert f"two checkpoints of size {size}" in reasons["log_checkpoints"]
    assert "split view" in reasons["log_checkpoints"]


# --- completeness by the per-case index (docs/log.md §14) ----------------------------------


def _indexed(case: Case, *, case_id: bytes | None = None) -> LogInputs:
    """The case's log section proving completeness by its head in the last checkpoint's
    signed index (an empty range), as the service builds it from a checkpoint with one."""
    log = _log(case)
    end = note_size(log.checkpoints[-1].note)
    heads = heads_of(enumerate(log.entries[:end]))
    want = case.case_id if case_id is None else case_id
    pos = next(i for i, h in enumerate(heads) if h.case_id == want)
    tree = index_tree(heads)
    index = LogCaseIndex(size=end, count=len(heads), position=pos, head=heads[pos].encode(),
                         proof=tree.inclusion_proof(pos))
    return gather(log.tree, origin=LOG_ORIGIN, checkpoints=log.checkpoints,
                  records=[(h, i, e) for h, (i, e) in log.records.items()], start=0,
                  entries=[], case_index=index)


def test_completeness_by_the_case_index_needs_no_range(case: Case, tmp_path: Path) -> None:
    path = _rebuild(case, tmp_path / "indexed.zip", _indexed(case))
    failed, reasons = _verify(case, path)
    assert failed == set(), reasons
    assert "exactly those of its signed case index" in reasons["log_completeness"]
    with zipfile.ZipFile(path) as z:
        section = json.loads(z.read(fmt.LOG))
    assert section["range"]["entries"] == [] and section["caseIndex"]["count"] == "2"
    assert section["range"]["from"] == section["range"]["to"]


def test_a_record_dropped_under_the_case_index_is_caught(case: Case, tmp_path: Path) -> None:
    """The forger drops the last step and its inclusion: the case's signed head still counts
    it, so the package's entries do not recompute the case log."""
    path = _rebuild(case, tmp_path / "indexed.zip", _indexed(case))
    with zipfile.ZipFile(path) as z:
        last = SignedRecord.from_json(z.read(fmt.STEPS).splitlines()[-1])
    drop = "0x" + last.record_hash.hex()

    def cut(files: dict[str, bytes]) -> None:
        files[fmt.STEPS] = b"".join(files[fmt.STEPS].splitlines(keepends=True)[:-1])
        edit_json(files, fmt.MERKLE, lambda o: o.update(
            proofs=[p for p in o["proofs"] if p["recordHash"] != drop]))
        edit_json(files, fmt.MANIFEST, lambda o: o.update(
            timeline=[t for t in o["timeline"] if t["recordHash"] != drop]))
        edit_json(files, fmt.LOG, lambda o: o.update(
            records=[r for r in o["records"] if r["recordHash"] != drop]))

    forged = replace(case, package=path)
    failed, reasons = _verify(case, repack(forged, tmp_path / "cut.zip", cut))
    assert "log_completeness" in failed
    assert "do not recompute its case log" in reasons["log_completeness"]


def test_another_cases_head_or_a_forged_head_is_refused(case: Case, tmp_path: Path) -> None:
    other = _indexed(case, case_id=OTHER_CASE)
    failed, reasons = _verify(case, _rebuild(case, tmp_path / "other.zip", other))
    assert "log_completeness" in failed and "not this case" in reasons["log_completeness"]
    good = _indexed(case)
    assert good.case_index is not None
    head = bytearray(good.case_index.head)
    head[39] ^= 1  # claim one entry fewer or more
    forged = replace(good, case_index=replace(good.case_index, head=bytes(head)))
    failed, reasons = _verify(case, _rebuild(case, tmp_path / "forged.zip", forged))
    assert "log_completeness" in failed
    assert "not in the checkpoint's signed case index" in reasons["log_completeness"]
