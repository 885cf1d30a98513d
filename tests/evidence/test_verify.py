"""evidence.verify: each check in its order, each attack failing the check that names it.

The scenario is real: files, commitments and EIP-712 records from the library, a batch
root anchored in EvidenceAnchor on the in-process EVM (and once on anvil), and the
verifier reading the chain back. The pure `evaluate` is also driven with fabricated
chain observations (reorg, wrong time, reverted transaction) that a live chain cannot
easily produce.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from backend.chain import Transactor, deploy_anchor
from backend.chain.devchain import AnvilNode, dev_accounts, fund
from evidence.commitment import Opening, commit, sha256_file
from evidence.errors import FormatError, UnsupportedVersion
from evidence.merkle import StandardMerkleTree, record_leaf
from evidence.records import Domain, EvidenceSubmission, ProceduralStep, Record, SignedRecord
from evidence.report import Report
from evidence.verify import (
    AnchorReader,
    BlockInfo,
    ChainObservation,
    ChainUnreachable,
    Check,
    ProofFile,
    Status,
    VerificationFailed,
    VerificationInputError,
    evaluate,
    verify,
)

CASE = bytes.fromhex("c0" * 32)
ORDER = list(Check)
HELLO_CID = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"


@dataclass
class Scenario:
    """One anchored batch: an evidence file, its record, and other leaves around it."""

    w3: Web3
    anchor: str
    chain_id: int
    domain: Domain
    party: LocalAccount
    file: Path
    opening: Opening
    signed: SignedRecord
    step: SignedRecord  # a ProceduralStep in the same batch
    tree: StandardMerkleTree
    tx_hash: bytes
    block_number: int

    def proof(self, **changes: Any) -> ProofFile:
        p = ProofFile.build(
            self.tree, self.tree.index_of(_leaf(self.signed)), chain_id=self.chain_id,
            contract=self.anchor, tx_hash=self.tx_hash, record=self.signed, opening=self.opening,
        )
        return replace(p, **changes) if changes else p

    def step_proof(self) -> ProofFile:
        return ProofFile.build(
            self.tree, self.tree.index_of(_leaf(self.step)), chain_id=self.chain_id,
            contract=self.anchor, tx_hash=self.tx_hash, record=self.step,
        )


def _leaf(signed: SignedRecord) -> tuple[str, ...]:
    return record_leaf(signed.record.case_id, signed.record_hash, signed.signatures_hash)


def submission(
    domain: Domain, party: LocalAccount, opening: Opening, sequence: int = 1
) -> SignedRecord:
    rec = EvidenceSubmission(
        case_id=CASE, sequence=sequence, prev_hash=bytes(32), submitter=party.address,
        commitment=opening.commitment, content_cid=HELLO_CID,
        signed_at=1_790_000_000,
    )
    return rec.sign(party.key, domain)


def build_scenario(w3: Web3, tmp: Path, *, size: int = 70_000, extra: int = 4) -> Scenario:
    """Deploy EvidenceAnchor, make an evidence file and records, anchor the batch root."""
    deployer, party, actor = dev_accounts(3, seed="verify-tests")
    fund(w3, [deployer.address])
    tx = Transactor(w3)
    anchor = deploy_anchor(tx, deployer)
    domain = Domain(chain_id=w3.eth.chain_id, verifying_contract=anchor.address)
    file = tmp / "invoice.pdf"
    file.write_bytes(os.urandom(size))
    opening = commit(sha256_file(file))
    signed = submission(domain, party, opening)
    step = ProceduralStep(
        case_id=CASE, sequence=2, prev_hash=signed.record_hash, actor=actor.address,
        action="evidence.closed", payload_hash=bytes(32), signed_at=1_790_000_100,
    ).sign(actor.key, domain)
    others = [
        submission(domain, party, commit(os.urandom(32)), sequence=3 + i) for i in range(extra)
    ]
    tree = StandardMerkleTree.of([_leaf(s) for s in (signed, step, *others)])
    result = anchor.anchor(deployer, tree.root, len(tree))
    return Scenario(
        w3, anchor.address, w3.eth.chain_id, domain, party, file, opening, signed, step, tree,
        result.tx_hash, result.block_number,
    )


@pytest.fixture
def sc(tester_w3: Web3, tmp_path: Path) -> Scenario:
    return build_scenario(tester_w3, tmp_path)


def _statuses(report: Report) -> dict[str, Status]:
    return {r.name: r.status for r in report.checks}


def _only_failure(report: Report, check: Check) -> None:
    """`check` failed, everything before it ran, everything after did not."""
    st = _statuses(report)
    i = ORDER.index(check)
    assert st[check] is Status.FAILED, report
    assert all(st[c] in (Status.PASSED, Status.SKIPPED) for c in ORDER[:i])
    assert all(st[c] is Status.NOT_RUN for c in ORDER[i + 1 :])
    assert report.failure is not None and report.failure.name is check


# --- the happy paths --------------------------------------------------------------------


def test_verify_file_all_checks_pass_and_report_the_anchoring(sc: Scenario) -> None:
    report = verify(sc.proof(), file=sc.file, chain=sc.w3, expected_signers=sc.party.address)
    assert report.ok
    assert [r.name for r in report.checks] == ORDER
    assert all(r.status is Status.PASSED for r in report.checks)
    assert report.signers == (sc.party.address,)
    a = report.anchoring
    assert a is not None
    block = sc.w3.eth.get_block(sc.block_number)
    assert (a.tx_hash, a.block_number, a.block_hash) == (sc.tx_hash, sc.block_number,
                                                         bytes(block["hash"]))
    assert a.timestamp == block["timestamp"] and a.count == len(sc.tree)
    assert a.chain_id == sc.chain_id and a.contract == sc.anchor
    assert a.confirmations == sc.w3.eth.block_number - sc.block_number + 1


def test_verify_signed_record_without_file(sc: Scenario) -> None:
    report = verify(sc.step_proof(), chain=sc.w3)
    st = _statuses(report)
    assert report.ok and report.record_type == "ProceduralStep"
    assert st[Check.FILE_HASH] is st[Check.COMMITMENT] is Status.SKIPPED
    assert st[Check.TX_BLOCK] is Status.PASSED


def test_tx_hash_is_optional_found_by_its_log(sc: Scenario) -> None:
    report = verify(sc.proof(tx_hash=None), file=sc.file, chain=sc.w3)
    assert report.ok and report.anchoring is not None
    assert report.anchoring.tx_hash == sc.tx_hash


def test_without_chain_the_chain_checks_are_skipped_not_passed(sc: Scenario) -> None:
    report = verify(sc.proof(), file=sc.file)
    st = _statuses(report)
    assert report.ok and report.anchoring is None
    assert st[Check.ROOT_ANCHORED] is st[Check.TX_BLOCK] is Status.SKIPPED
    assert report.skipped == (Check.SIGNER_EXPECTED, Check.ROOT_ANCHORED, Check.TX_BLOCK)


def test_proof_file_round_trips_and_separate_record_and_salt(sc: Scenario, tmp_path: Path) -> None:
    p = sc.proof()
    path = tmp_path / "item.proof.json"
    path.write_bytes(p.to_json())
    assert ProofFile.from_json(path.read_bytes()) == p
    bare = replace(p, record=None, opening=None)
    assert "record" not in bare.to_json_obj() and "opening" not in bare.to_json_obj()
    report = verify(bare, file=sc.file, record=sc.signed, salt=sc.opening.salt, chain=sc.w3)
    assert report.ok


def test_single_leaf_batch(tester_w3: Web3, tmp_path: Path) -> None:
    sc = build_scenario(tester_w3, tmp_path, extra=0)
    one = StandardMerkleTree.of([_leaf(sc.signed)])
    deployer = dev_accounts(1, seed="verify-tests")[0]
    from backend.chain.contracts import AnchorContract

    res = AnchorContract(Transactor(tester_w3), sc.anchor).anchor(deployer, one.root, 1)
    p = replace(sc.proof(), proof=(), root=one.root, tx_hash=res.tx_hash)
    assert verify(p, file=sc.file, chain=tester_w3).ok


# --- attacks: each one fails its own named check ----------------------------------------


def test_tampered_file_fails_file_hash(sc: Scenario) -> None:
    data = bytearray(sc.file.read_bytes())
    data[12345] ^= 1
    sc.file.write_bytes(bytes(data))
    report = verify(sc.proof(), file=sc.file, chain=sc.w3)
    _only_failure(report, Check.FILE_HASH)
    r = report.check(Check.FILE_HASH)
    assert r.expected == "0x" + sc.opening.file_sha256.hex()
    assert r.found == "0x" + sha256_file(sc.file).hex()
    with pytest.raises(VerificationFailed) as exc:
        report.raise_for_failure()
    assert exc.value.check is Check.FILE_HASH and "file_hash" in str(exc.value)


def test_other_file_with_only_a_salt_fails_commitment(sc: Scenario, tmp_path: Path) -> None:
    other = tmp_path / "other.pdf"
    other.write_bytes(b"a guessed invoice")
    bare = replace(sc.proof(), opening=None)
    report = verify(bare, file=other, salt=sc.opening.salt, chain=sc.w3)
    _only_failure(report, Check.COMMITMENT)
    assert report.check(Check.COMMITMENT).expected == "0x" + sc.opening.commitment.hex()


def test_wrong_salt_fails_commitment(sc: Scenario) -> None:
    bare = replace(sc.proof(), opening=None)
    report = verify(bare, file=sc.file, salt=bytes(32), chain=sc.w3)
    _only_failure(report, Check.COMMITMENT)


def test_file_against_a_record_that_commits_to_no_file(sc: Scenario) -> None:
    p = replace(sc.step_proof(), opening=sc.opening)
    report = verify(p, file=sc.file)
    _only_failure(report, Check.COMMITMENT)
    assert report.check(Check.COMMITMENT).found == "ProceduralStep"


def test_forged_signature_fails_signature(sc: Scenario) -> None:
    mallory = Account.create()
    forged = SignedRecord(sc.domain, sc.signed.record,
                          (bytes(Account.unsafe_sign_hash(sc.signed.record_hash,
                                                          mallory.key).signature),))
    report = verify(sc.proof(record=forged), file=sc.file)
    _only_failure(report, Check.SIGNATURE)
    r = report.check(Check.SIGNATURE)
    assert r.expected == sc.party.address and r.found == mallory.address


def test_signature_replayed_from_another_case_fails_signature(sc: Scenario) -> None:
    other = EvidenceSubmission(**{**_fields(sc.signed.record), "case_id": b"\x01" * 32})
    replayed = SignedRecord(sc.domain, other, sc.signed.signatures)
    report = verify(replace(sc.proof(), record=replayed), file=sc.file)
    _only_failure(report, Check.SIGNATURE)


def test_signature_from_another_deployment_fails_signature(sc: Scenario) -> None:
    elsewhere = Domain(chain_id=1, verifying_contract=sc.anchor)
    replayed = SignedRecord(elsewhere, sc.signed.record, sc.signed.signatures)
    report = verify(sc.proof(record=replayed), file=sc.file)
    _only_failure(report, Check.SIGNATURE)


def test_unexpected_signer_fails_signer_expected(sc: Scenario) -> None:
    someone = Account.create().address
    report = verify(sc.proof(), file=sc.file, expected_signers=someone, chain=sc.w3)
    _only_failure(report, Check.SIGNER_EXPECTED)
    r = report.check(Check.SIGNER_EXPECTED)
    assert r.expected == someone and r.found == sc.party.address


def test_proof_for_another_leaf_fails_leaf_in_proof(sc: Scenario) -> None:
    step = sc.step_proof()
    p = sc.proof(leaf=step.leaf, proof=step.proof)
    report = verify(p, file=sc.file, chain=sc.w3)
    _only_failure(report, Check.LEAF_IN_PROOF)
    assert "recordHash" in report.check(Check.LEAF_IN_PROOF).reason


def test_added_signature_changes_the_leaf(sc: Scenario) -> None:
    """signaturesHash is in the leaf: a record re-signed after anchoring is another leaf."""
    extra = sc.signed.with_signature(
        bytes(Account.unsafe_sign_hash(sc.signed.record_hash, Account.create().key).signature))
    report = evaluate(sc.proof(record=extra), file_sha256=sc.opening.file_sha256)
    # the signature check already refuses two signatures on a one-signer record
    _only_failure(report, Check.SIGNATURE)


def test_manipulated_proof_fails_proof_root(sc: Scenario) -> None:
    p = sc.proof()
    bad = (bytes(32), *p.proof[1:])
    report = verify(replace(p, proof=bad), file=sc.file, chain=sc.w3)
    _only_failure(report, Check.PROOF_ROOT)
    assert report.check(Check.PROOF_ROOT).expected == "0x" + sc.tree.root.hex()


def test_proof_for_another_root_fails_proof_root(sc: Scenario) -> None:
    report = verify(sc.proof(root=os.urandom(32)), file=sc.file, chain=sc.w3)
    _only_failure(report, Check.PROOF_ROOT)


def test_root_never_anchored_fails_root_anchored(tester_w3: Web3, tmp_path: Path) -> None:
    sc = build_scenario(tester_w3, tmp_path)
    tree = StandardMerkleTree.of([_leaf(sc.signed), _leaf(sc.step)])  # a batch never anchored
    p = ProofFile.build(tree, tree.index_of(_leaf(sc.signed)), chain_id=sc.chain_id,
                        contract=sc.anchor, record=sc.signed, opening=sc.opening)
    report = verify(p, file=sc.file, chain=tester_w3)
    _only_failure(report, Check.ROOT_ANCHORED)
    assert report.check(Check.ROOT_ANCHORED).found == "0"


def test_wrong_chain_id_and_wrong_contract_fail_root_anchored(sc: Scenario) -> None:
    report = verify(sc.proof(chain_id=31337), file=sc.file, chain=sc.w3)
    _only_failure(report, Check.ROOT_ANCHORED)
    assert report.check(Check.ROOT_ANCHORED).expected == "31337"
    report = verify(sc.proof(contract="0x" + "11" * 20), file=sc.file, chain=sc.w3)
    _only_failure(report, Check.ROOT_ANCHORED)
    assert "no contract" in report.check(Check.ROOT_ANCHORED).reason


def test_tx_of_another_batch_fails_tx_block(sc: Scenario) -> None:
    deployer = dev_accounts(1, seed="verify-tests")[0]
    from backend.chain.contracts import AnchorContract

    other = AnchorContract(Transactor(sc.w3), sc.anchor).anchor(deployer, os.urandom(32), 1)
    report = verify(sc.proof(tx_hash=other.tx_hash), file=sc.file, chain=sc.w3)
    _only_failure(report, Check.TX_BLOCK)
    assert "did not anchor this root" in report.check(Check.TX_BLOCK).reason


def test_unknown_tx_fails_tx_block(sc: Scenario) -> None:
    report = verify(sc.proof(tx_hash=os.urandom(32)), file=sc.file, chain=sc.w3)
    _only_failure(report, Check.TX_BLOCK)


# --- pure evaluation on fabricated observations -----------------------------------------


def _observation(sc: Scenario) -> ChainObservation:
    return AnchorReader(sc.w3).observe(sc.anchor, sc.tree.root, sc.tx_hash)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda o: replace(o, receipt_status=0), "reverted"),
        (lambda o: replace(o, receipt_block_hash=b"\x99" * 32), "canonical"),
        (lambda o: replace(o, block=replace(o.block, timestamp=o.block.timestamp + 1)), "time"),
        (lambda o: replace(o, receipt_block_number=o.receipt_block_number + 1), "recorded"),
        (lambda o: replace(o, logs=()), "did not anchor"),
        (lambda o: replace(o, block=None), "no block"),
    ],
)
def test_evaluate_tx_block_inconsistencies(
        sc: Scenario, change: Callable[[ChainObservation], ChainObservation], words: str) -> None:
    obs = _observation(sc)
    assert evaluate(sc.proof(), file_sha256=sc.opening.file_sha256, observation=obs).ok
    bad = change(obs)
    report = evaluate(sc.proof(), file_sha256=sc.opening.file_sha256, observation=bad)
    _only_failure(report, Check.TX_BLOCK)
    assert words in report.check(Check.TX_BLOCK).reason


def test_evaluate_is_pure_and_anchoring_comes_from_the_block(sc: Scenario) -> None:
    obs = _observation(sc)
    assert obs.block is not None
    block = BlockInfo(obs.block.number, obs.block.hash, obs.block.timestamp)
    report = evaluate(sc.step_proof(), observation=replace(obs, block=block))
    assert report.ok and report.anchoring is not None
    assert report.anchoring.block_hash == block.hash


def test_reader_caches_one_observation_per_root(sc: Scenario) -> None:
    reader = AnchorReader(sc.w3)
    calls = 0
    real = reader._observe

    def counting(*args: object) -> ChainObservation:
        nonlocal calls
        calls += 1
        return real(*args)  # type: ignore[arg-type]

    reader._observe = counting  # type: ignore[assignment, method-assign]
    for p in (sc.proof(), sc.proof(), sc.step_proof()):
        assert verify(p, chain=reader).ok
    assert calls == 1


# --- bad inputs -------------------------------------------------------------------------


def test_no_record_and_no_salt_are_input_errors(sc: Scenario) -> None:
    with pytest.raises(VerificationInputError, match="--record"):
        evaluate(sc.proof(record=None))
    with pytest.raises(VerificationInputError, match="salt"):
        evaluate(sc.proof(opening=None), file_sha256=b"\0" * 32)
    with pytest.raises(VerificationInputError, match="differs"):
        evaluate(sc.proof(), record=sc.step)


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda o: o.update(format="standard-v1"), FormatError),
        (lambda o: o.update(v=2), UnsupportedVersion),
        (lambda o: o.update(root="0x1234"), FormatError),
        (lambda o: o.update(extra=1), FormatError),
        (lambda o: o["anchor"].update(chainId=5), FormatError),
        (lambda o: o["anchor"].update(contract="0xnot-an-address"), FormatError),
        (lambda o: o.update(proof="0x" + "00" * 32), FormatError),
        (lambda o: o.update(leaf=o["leaf"][:2]), FormatError),
        (lambda o: o["record"].update(v=9), UnsupportedVersion),
    ],
)
def test_malformed_proof_files_are_refused(sc: Scenario, mutate: Callable[[dict[str, Any]], object],
                                           error: type) -> None:
    obj = sc.proof().to_json_obj()
    mutate(obj)
    with pytest.raises(error):
        ProofFile.from_json(json.dumps(obj))


def test_proof_file_size_bound(sc: Scenario) -> None:
    with pytest.raises(FormatError, match="more than"):
        ProofFile.from_json(b" " * (256 * 1024 + 1))
    with pytest.raises(FormatError, match="not JSON"):
        ProofFile.from_json(b"{nope")


def test_unreachable_chain_is_chain_unreachable(sc: Scenario) -> None:
    with pytest.raises(ChainUnreachable, match="RPC URL"):
        verify(sc.proof(), file=sc.file, chain="http://127.0.0.1:9")  # discard port: refused
    with pytest.raises(VerificationInputError):
        verify(sc.proof(), chain="ws://127.0.0.1:9")


# --- anvil (a real JSON-RPC node) ---------------------------------------------------------


@pytest.mark.anvil
def test_verify_over_json_rpc_on_anvil(anvil_w3: Web3, anvil_node: AnvilNode, tmp_path: Path
                                       ) -> None:
    sc = build_scenario(anvil_w3, tmp_path)
    url = anvil_node.url
    report = verify(sc.proof(tx_hash=None), file=sc.file, chain=url)
    assert report.ok and report.anchoring is not None
    assert report.anchoring.chain_id == 31337 and report.anchoring.tx_hash == sc.tx_hash
    tampered = verify(sc.proof(root=os.urandom(32)), file=sc.file, chain=url)
    _only_failure(tampered, Check.PROOF_ROOT)


def _fields(rec: Record) -> dict[str, Any]:
    return {f.name: getattr(rec, f.name) for f in dataclasses.fields(rec)}


# --- any batch size, any position ---------------------------------------------------------

_SC_CACHE: dict[str, Scenario] = {}


def _offline_scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    if "sc" not in _SC_CACHE:
        from backend.chain.devchain import in_process_web3

        _SC_CACHE["sc"] = build_scenario(in_process_web3(), tmp_path_factory.mktemp("hyp"))
    return _SC_CACHE["sc"]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 70), pos=st.integers(0, 69), flip=st.integers(0, 10_000))
def test_any_batch_size_any_position_offline(
    tmp_path_factory: pytest.TempPathFactory, n: int, pos: int, flip: int
) -> None:
    """Leaves 1..70 (odd counts, one leaf, deeper trees): the item's proof verifies, the
    JSON round trip keeps it, and one flipped bit anywhere in the proof or root fails
    `proof_root` (or `leaf_in_proof` for the leaf)."""
    sc = _offline_scenario(tmp_path_factory)
    rng = random.Random(flip)
    others = [tuple("0x" + rng.randbytes(32).hex() for _ in range(3)) for _ in range(n - 1)]
    leaves = [*others[: pos % n], _leaf(sc.signed), *others[pos % n :]]
    tree = StandardMerkleTree.of(leaves)
    p = ProofFile.build(tree, pos % n, chain_id=sc.chain_id, contract=sc.anchor,
                        record=sc.signed, opening=sc.opening)
    p = ProofFile.from_json(p.to_json())
    fs = sc.opening.file_sha256
    assert evaluate(p, file_sha256=fs).ok
    nodes = [*p.proof, p.root]
    k = flip % len(nodes)
    bad = bytearray(nodes[k])
    bad[flip % 32] ^= 1 << (flip % 8)
    if k == len(nodes) - 1:
        report = evaluate(replace(p, root=bytes(bad)), file_sha256=fs)
    else:
        proof = list(p.proof)
        proof[k] = bytes(bad)
        report = evaluate(replace(p, proof=tuple(proof)), file_sha256=fs)
    _only_failure(report, Check.PROOF_ROOT)


@pytest.mark.parametrize("size", [0, 1, (1 << 20) - 1, 1 << 20, (3 << 20) + 7])
def test_hash_file_small_and_streamed_agree_with_hashlib(tmp_path: Path, size: int) -> None:
    import hashlib

    from evidence.verify import hash_file

    f = tmp_path / "f"
    data = os.urandom(size)
    f.write_bytes(data)
    seen: list[int] = []
    assert hash_file(f, seen.append) == hashlib.sha256(data).digest()
    assert sum(seen) == size


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 80), seed=st.integers(0, 10_000))
def test_proven_nodes_give_the_same_verdicts_as_full_proofs(n: int, seed: int) -> None:
    """Sharing ProvenNodes across a batch changes the work, never the verdict: every good
    proof still leads to the root, every tampered one (flipped bit in a sibling, another
    leaf, another root) still does not, in any order."""
    from evidence.merkle import leaf_hash, process_proof
    from evidence.verify import ProvenNodes

    rng = random.Random(seed)
    leaves = [tuple("0x" + rng.randbytes(32).hex() for _ in range(3)) for _ in range(n)]
    tree = StandardMerkleTree.of(leaves)
    other = StandardMerkleTree.of([*leaves[: n // 2], ("0x" + "00" * 32,) * 3])
    proven = ProvenNodes()
    order = list(range(n))
    rng.shuffle(order)
    for i in order:
        leaf = leaf_hash(tree.leaf_encoding, leaves[i])
        proof = tree.proof(i)
        stranger = leaf_hash(tree.leaf_encoding, ("0x" + rng.randbytes(32).hex(),) * 3)
        cases = [(leaf, proof), (stranger, proof)]
        if proof:
            k = rng.randrange(len(proof))
            bad = bytearray(proof[k])
            bad[rng.randrange(32)] ^= 1 << rng.randrange(8)
            cases.append((leaf, [*proof[:k], bytes(bad), *proof[k + 1 :]]))
        for root in (tree.root, other.root):  # memo of one root never vouches for another
            for lf, pr in cases:
                assert proven.fold(lf, pr, root) == process_proof(lf, pr)
        assert proven.fold(leaf, proof, tree.root) == tree.root
        assert all(proven.fold(lf, pr, tree.root) != tree.root for lf, pr in cases[1:])


def test_verify_with_shared_proven_nodes(sc: Scenario) -> None:
    from evidence.verify import ProvenNodes

    proven = ProvenNodes()
    for p in (sc.step_proof(), sc.proof(), sc.step_proof()):
        assert verify(p, file=None if p.record is sc.step else sc.file, proven=proven).ok
    bad = replace(sc.proof(), proof=(bytes(32), *sc.proof().proof[1:]))
    _only_failure(verify(bad, file=sc.file, proven=proven), Check.PROOF_ROOT)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=4),
       upper=st.booleans())
def test_leaf_hash_shortcut_equals_merkle_leaf_hash(values: list[bytes], upper: bool) -> None:
    from evidence.merkle import leaf_hash
    from evidence.verify import _leaf_hash

    hexes = ["0x" + (v.hex().upper() if upper else v.hex()) for v in values]
    enc = ["bytes32"] * len(values)
    assert _leaf_hash(enc, hexes) == leaf_hash(enc, hexes)
    mixed = ["uint256", *enc[1:]]
    assert _leaf_hash(mixed, ["7", *hexes[1:]]) == leaf_hash(mixed, ["7", *hexes[1:]])
    with pytest.raises(FormatError):
        _leaf_hash(enc, ["0x" + "zz" * 32, *hexes[1:]])


# --- the benchmarks still run (tiny sizes; they print figures and never fail on timing) ---

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("script", "args", "last"),
    [
        ("bench/verify.py", ["--items", "12", "--size", "2000"], "verify_1000_vs_openssl_sha256="),
        ("bench/ingest.py", ["--size", "3M", "--chunk", "64K", "--write", "--stages"],
         "ingest_vs_openssl_sha256="),
    ],
)
def test_benchmarks_run(script: str, args: list[str], last: str) -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, str(ROOT / script), *args], capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    final = out.stdout.strip().splitlines()[-1]
    assert final.startswith(last) and float(final.split("=")[1]) > 0
