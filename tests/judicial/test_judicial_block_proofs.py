"""Block headers and receipt proofs in the judicial package: the verdict rests on block
hashes only, and every forgery of a header, a receipt, a log, an omitted on-chain act or a
confirmation source fails the right check."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import rlp
from eth_utils import keccak

from backend.chain.devchain import in_process_web3
from evidence.blockproof import BlockHeader, ChainHeader
from evidence.judicial import Status, build_package, verify_package
from evidence.judicial import _format as fmt
from evidence.judicial.verify import parse_checkpoint
from tests.judicial.judicial_world import Case, attester, make_case
from tests.judicial.test_judicial_package import edit_json, entries, repack
from tests.support.tsa import LocalTSA


def _failed(report) -> dict[str, str]:
    return {c.name: c.reason + " | " + " | ".join(c.details) for c in report.checks
            if c.status is Status.FAILED}


def _checkpoint(case: Case, chain_id: int | None = None) -> dict[int, frozenset[bytes]]:
    """What a court would obtain elsewhere: the chain's own hashes of the package's blocks."""
    numbers = [int(h["number"]) for h in
               json.loads(entries(case.package)[fmt.BLOCKS])["headers"]]
    hashes = [bytes(case.w3.eth.get_block(n)["hash"]) for n in numbers]
    return {chain_id or case.domain.chain_id: frozenset(hashes)}


def test_offline_then_confirmed_by_a_checkpoint(case: Case) -> None:
    """No node at all: every check runs on the package; a checkpoint of the real chain's
    hashes confirms the blocks, and the verdict is a pass."""
    report = verify_package(case.package, chain=[], checkpoint=_checkpoint(case))
    assert report.ok, _failed(report)
    confirmation = report.check("block_confirmation")
    assert all(d.endswith(": checkpoint") for d in confirmation.details)
    assert len(confirmation.details) == len(report.blocks) >= 5
    unconfirmed = verify_package(case.package, chain=[])
    assert unconfirmed.outcome.value == "not_run"
    assert unconfirmed.check("block_confirmation").reason.startswith("not confirmed:")


def test_a_wrong_checkpoint_fails(case: Case) -> None:
    wrong = {case.domain.chain_id: frozenset({keccak(b"another block")})}
    report = verify_package(case.package, chain=[], checkpoint=wrong)
    failed = _failed(report)
    assert set(failed) == {"block_confirmation"}
    assert "not in the checkpoint, which lists that chain's blocks" in failed[
        "block_confirmation"]
    # A checkpoint of another chain id says nothing about these blocks: not confirmed.
    elsewhere = verify_package(case.package, chain=[], checkpoint=_checkpoint(case, 1))
    assert elsewhere.check("block_confirmation").status is Status.SKIPPED


def test_two_sources_that_disagree_fail(case: Case) -> None:
    """The real chain and another chain with the same id: the second does not hold the
    package's blocks, so the sources disagree and the confirmation fails."""
    report = verify_package(case.package, chain=[case.w3, in_process_web3()])
    failed = _failed(report)
    assert set(failed) == {"block_confirmation"}
    assert "the package's header is 0x" in failed["block_confirmation"] or \
        "cannot confirm" in failed["block_confirmation"]
    both = verify_package(case.package, chain=[case.w3, case.w3])
    assert both.ok, _failed(both)


def test_a_header_that_does_not_hash_to_its_block(case: Case, tmp_path: Path) -> None:
    def alter(files: dict[str, bytes]) -> None:
        def change(obj: dict) -> None:
            h = obj["headers"][0]
            fields = rlp.decode(bytes.fromhex(h["rlp"][2:]))
            fields[11] = (int.from_bytes(fields[11], "big") - 864_000).to_bytes(4, "big")
            h["rlp"] = "0x" + rlp.encode(fields).hex()

        edit_json(files, fmt.BLOCKS, change)

    report = verify_package(repack(case, tmp_path / "p.zip", alter), chain=case.w3)
    failed = _failed(report)
    assert "hashes to 0x" in failed["block_proofs"]
    assert "it is not that block's header" in failed["block_proofs"]


def test_a_relinked_block_passes_offline_but_not_its_confirmation(case: Case,
                                                                  tmp_path: Path) -> None:
    """The operator's forgery: a header with a block time 10 days earlier, its new hash
    written everywhere, the package rebuilt and re-attested with the institution's key.
    Every hash and proof recomputed offline is consistent; the block hash betrays it, and
    so do the clocks (the TSA stamped that root 10 days after the forged block time, and
    the records claim to be signed after it)."""
    anchor = case.inputs.anchors[0]
    old = next(h for h in case.inputs.block_headers if h.header.hash == anchor.block_hash)
    fields = rlp.decode(old.header.rlp)
    fields[11] = (old.header.timestamp - 864_000).to_bytes(4, "big")
    forged = BlockHeader.from_rlp(rlp.encode(fields))
    inputs = dataclasses.replace(
        case.inputs,
        anchors=[dataclasses.replace(a, block_hash=forged.hash, block_time=forged.timestamp)
                 if a.block_hash == anchor.block_hash else a for a in case.inputs.anchors],
        block_headers=[ChainHeader(chain_id=h.chain_id, header=forged)
                       if h is old else h for h in case.inputs.block_headers],
        receipts=[dataclasses.replace(r, block_hash=forged.hash)
                  if r.block_hash == anchor.block_hash else r for r in case.inputs.receipts],
    )
    path = build_package(inputs, tmp_path / "relinked.zip",
                         attest=attester(case.actors.institution))
    against_chain = verify_package(path, chain=case.w3)
    assert set(_failed(against_chain)) == {"block_confirmation", "clocks"}
    assert "(10.0 days) after block" in _failed(against_chain)["clocks"]
    assert f"the package's header is 0x{forged.hash.hex()}" in _failed(against_chain)[
        "block_confirmation"]
    against_checkpoint = verify_package(path, chain=[], checkpoint=_checkpoint(case))
    assert set(_failed(against_checkpoint)) == {"block_confirmation", "clocks"}
    alone = verify_package(path, chain=[])
    assert f"0x{forged.hash.hex()}" in alone.check("block_confirmation").reason
    assert forged.hash in {b.hash for b in alone.blocks}


def test_a_receipt_not_in_the_trie(case: Case, tmp_path: Path) -> None:
    def alter(files: dict[str, bytes]) -> None:
        def change(obj: dict) -> None:
            for r in obj["receipts"]:
                r["proof"] = r["proof"][1:] or ["0xc0"]

        edit_json(files, fmt.RECEIPTS, change)

    failed = _failed(verify_package(repack(case, tmp_path / "p.zip", alter), chain=case.w3))
    assert "receipts trie" in failed["block_proofs"]
    assert "has no receipt proven" in failed["anchors"]
    assert "has no receipt proven" in failed["award_payout"]


def test_an_altered_log(case: Case, tmp_path: Path) -> None:
    """The payout's log says the buyer got more: the receipt shown is not the proven one."""
    assert case.inputs.enforcement is not None and case.inputs.enforcement.enforcement_tx
    enforcement = "0x" + case.inputs.enforcement.enforcement_tx.hex()

    def alter(files: dict[str, bytes]) -> None:
        def change(obj: dict) -> None:
            r = next(r for r in obj["receipts"] if r["txHash"] == enforcement)
            raw = bytearray(bytes.fromhex(r["receipt"][2:]))
            raw[-40] ^= 0x01
            r["receipt"] = "0x" + raw.hex()

        edit_json(files, fmt.RECEIPTS, change)

    failed = _failed(verify_package(repack(case, tmp_path / "p.zip", alter), chain=case.w3))
    assert "differs from the one its proof holds" in failed["block_proofs"]
    assert "award_payout" in failed


def test_an_omitted_onchain_act(case: Case, tmp_path: Path) -> None:
    """The arbitrator's appointment on-chain left out (receipt and act): the award's
    execution implies it, so the omission is named."""
    acts = json.loads(entries(case.package)[fmt.ESCROW])["acts"]
    appointed = next(a["txHash"] for a in acts if a["event"] == "ArbitratorAppointed")

    def alter(files: dict[str, bytes]) -> None:
        edit_json(files, fmt.ESCROW, lambda o: o.update(
            acts=[a for a in o["acts"] if a["txHash"] != appointed]))
        edit_json(files, fmt.RECEIPTS, lambda o: o.update(
            receipts=[r for r in o["receipts"] if r["txHash"] != appointed]))

    failed = _failed(verify_package(repack(case, tmp_path / "p.zip", alter), chain=case.w3))
    assert "omitted on-chain act: the escrow's ArbitratorAppointed, which precedes a " \
        "AwardExecuted resolution" in failed["onchain_acts"]


def test_an_act_listed_without_its_receipt(case: Case, tmp_path: Path) -> None:
    acts = json.loads(entries(case.package)[fmt.ESCROW])["acts"]
    raised = next(a["txHash"] for a in acts if a["event"] == "DisputeRaised")

    def alter(files: dict[str, bytes]) -> None:
        edit_json(files, fmt.RECEIPTS, lambda o: o.update(
            receipts=[r for r in o["receipts"] if r["txHash"] != raised]))

    failed = _failed(verify_package(repack(case, tmp_path / "p.zip", alter), chain=case.w3))
    assert "the escrow's DisputeRaised" in failed["onchain_acts"]
    assert "omitted on-chain act: the escrow's DisputeRaised" in failed["onchain_acts"]


def test_checkpoint_file_format() -> None:
    good = parse_checkpoint(json.dumps({"chains": {"31337": ["0x" + "11" * 32]}}).encode())
    assert good == {31337: frozenset({b"\x11" * 32})}
    for bad in (b"[]", b'{"chains": []}', b'{"chains": {"x": []}}',
                b'{"chains": {"1": ["0x12"]}}', b"{" * 100):
        try:
            parse_checkpoint(bad)
        except Exception as exc:  # every refusal is the library's FormatError family
            assert type(exc).__name__ in {"FormatError", "PackageFormatError", "JsonTooDeep"}
        else:
            raise AssertionError(f"accepted {bad!r}")


def test_a_node_of_another_chain_confirms_nothing(case: Case, anvil_w3) -> None:
    """anvil serves chain 31337, the package's blocks are on the in-process chain: nothing
    is confirmed (not a failure of the package), and the reason says which chain it serves."""
    report = verify_package(case.package, chain=[anvil_w3])
    check = report.check("block_confirmation")
    assert check.status is Status.SKIPPED
    assert "serves chain 31337" in check.reason and report.failure is None


def test_a_contradicting_node_outweighs_a_silent_one(case: Case) -> None:
    report = verify_package(case.package, chain=["http://127.0.0.1:9", in_process_web3()])
    assert set(_failed(report)) == {"block_confirmation"}
    down = verify_package(case.package, chain=["http://127.0.0.1:9", case.w3])
    check = down.check("block_confirmation")
    assert check.status is Status.SKIPPED
    assert check.reason.startswith("could not run: the chain's JSON-RPC node does not answer")


def test_a_root_anchored_on_two_chains(case: Case, anvil_w3, tmp_path: Path) -> None:
    """One row per (root, chain): the first root anchored again on an anvil chain (31337).
    Its block proofs come from that chain; each node confirms the blocks of its own chain;
    one node alone leaves the other chain's blocks to confirm."""
    from evidence.chainproofs import collect_proofs
    from tests.support.evm import deploy_contracts

    institution = case.actors.institution
    contracts = deploy_contracts(anvil_w3, case.actors.admin, institution=institution.address,
                                 funded=[case.actors.admin.address, institution.address])
    first = case.inputs.anchors[0]
    # the second chain's clock agrees with the world's, which ran 10 days ahead (`clocks`)
    from backend.chain.devchain import chain_time, set_next_timestamp

    set_next_timestamp(anvil_w3, max(chain_time(case.w3), chain_time(anvil_w3)) + 2)
    sent = contracts.anchor.anchor(institution, first.root, first.count)
    mined = anvil_w3.eth.get_transaction_receipt(sent.tx_hash)
    block = anvil_w3.eth.get_block(mined["blockNumber"])
    row = dataclasses.replace(first, chain_id=31337, contract=contracts.anchor.address,
                              tx_hash=bytes(sent.tx_hash), block_number=block["number"],
                              block_hash=bytes(block["hash"]), block_time=block["timestamp"])
    headers, receipts = collect_proofs(anvil_w3, [row.tx_hash])
    inputs = dataclasses.replace(
        case.inputs, anchors=[*case.inputs.anchors, row],
        block_headers=[*case.inputs.block_headers, *headers],
        receipts=[*case.inputs.receipts, *receipts])
    path = build_package(inputs, tmp_path / "two-chains.zip",
                         attest=attester(case.actors.institution))
    rows = json.loads(entries(path)[fmt.ANCHORS])["anchors"]
    assert sorted(r["chainId"] for r in rows if r["root"] == "0x" + first.root.hex()) == [
        "131277322940537", "31337"]
    both = verify_package(path, chain=[case.w3, anvil_w3])
    assert both.ok, _failed(both)
    assert {b.chain_id for b in both.blocks} == {case.domain.chain_id, 31337}
    one = verify_package(path, chain=[case.w3])
    pending = one.check("block_confirmation")
    assert pending.status is Status.SKIPPED and one.failure is None
    assert f"chain 31337 block {block['number']} 0x{bytes(block['hash']).hex()}" in pending.reason
    mixed = verify_package(path, chain=[anvil_w3], checkpoint=_checkpoint(case))
    assert mixed.ok, _failed(mixed)


def test_roots_anchored_by_a_stranger_fail(tmp_path: Path, local_tsa: LocalTSA) -> None:
    """The anchor contract lets anyone anchor any root: a package whose roots a stranger
    anchored (every proof genuine, every block confirmed) fails `anchors`, naming the key."""
    case = make_case(tmp_path, local_tsa, anchored_by_stranger=True)
    report = verify_package(case.package, chain=case.w3)
    failed = _failed(report)
    assert set(failed) == {"anchors"}, failed
    assert f"from {case.actors.stranger.address}, not from the institution's key" in \
        failed["anchors"]
    assert report.check("block_confirmation").passed
