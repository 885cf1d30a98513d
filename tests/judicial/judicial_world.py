"""A real case for the judicial package tests: real keys, contracts, anchors and a TSA.

`make_case(workdir, tsa)` runs, on a fresh in-process EVM (py-evm):
the real ArbitrationEscrow and EvidenceAnchor (committed artifacts, deployed through the
backend's chain helpers, which tests may use); an ETH order opened by the buyer with the
rules' hash; a dispute; the arbitrator's appointment; two evidence files encrypted,
stored as UnixFS (CIDv1) and exported as a CAR; seven signed records and a signed Award;
two Merkle batches anchored on-chain and timestamped by the local `openssl ts` authority
(its clock follows the chain's, which the objection window moved days ahead);
the award submitted and executed by the escrow after the objection window; then the
package built with the institution's attestation.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from backend.chain.contracts import (
    Timeouts,
)
from backend.chain.devchain import advance_time, chain_time, dev_accounts, in_process_web3
from evidence.chainproofs import collect_proofs, escrow_acts, institution_rotations
from evidence.commitment import commit, sha256_file
from evidence.encryption import encrypt_stream, generate_data_key
from evidence.ipfs import MemoryBlockstore, add_bytes
from evidence.ipfs.car import export_car
from evidence.judicial import (
    AnchorInfo,
    AwardDocument,
    CaseInfo,
    EnforcementInfo,
    EvidenceItem,
    InstitutionInfo,
    LogCheckpoint,
    LogInputs,
    MerkleLeafProof,
    Neutral,
    PackageInputs,
    Party,
    StepEntry,
    TimestampToken,
    build_package,
    sign_log,
)
from evidence.judicial._format import canonical
from evidence.judicial._log import gather
from evidence.log import Checkpoint, EntryKind, LogEntry, MerkleLog, NoteSigner, sign_checkpoint
from evidence.log.caseindex import heads_of, index_extension, index_tree
from evidence.log_leaf import checkpoint_leaf
from evidence.merkle import StandardMerkleTree, record_leaf
from evidence.records import (
    ZERO_HASH,
    Allocation,
    Award,
    Disclosure,
    Domain,
    EvidenceSubmission,
    Objection,
    ProceduralStep,
    Profile,
    ReturnSettlement,
    Settlement,
    SignedRecord,
    TypedData,
)
from evidence.timestamp import request_timestamp
from tests.support.evm import ETHER, deploy_contracts
from tests.support.tsa import LocalTSA

RULES = {
    "name": "chainarb ODR rules",
    "version": "1",
    "seat": "Hangzhou",
    "language": "en, zh-Hans",
    "negotiationDays": 10,
    "facilitationDays": 10,
    "evidenceDays": 7,
    "awardDays": 10,
    "objectionDays": 10,
}


@dataclass
class Actors:
    admin: LocalAccount
    institution: LocalAccount
    buyer: LocalAccount
    seller: LocalAccount
    arbitrator: LocalAccount
    stranger: LocalAccount
    relayer: LocalAccount
    panel: tuple[LocalAccount, LocalAccount, LocalAccount]


@dataclass
class Case:
    w3: Web3
    actors: Actors
    domain: Domain
    inputs: PackageInputs
    package: Path
    escrow: str
    anchor: str
    tsa: LocalTSA
    order_id: int
    case_id: bytes
    log: CaseLog | None = None


LOG_ORIGIN = "chainarb.test/log"
OTHER_CASE = keccak(text="chainarb-case-of-someone-else")


@dataclass
class CaseLog:
    """The institution's log as the world built it: every entry (this case's records among
    other cases'), the tree, the signed checkpoints and what the package cites."""

    tree: MerkleLog
    entries: list[bytes]
    signer: NoteSigner
    checkpoints: list[LogCheckpoint]
    records: dict[bytes, tuple[int, bytes]]
    inputs: LogInputs

    def append(self, entry: bytes) -> int:
        self.entries.append(entry)
        return self.tree.append(entry)

    def noise(self, n: int) -> None:
        """`n` entries of another case (a busy institution's log)."""
        for _ in range(n):
            k = len(self.entries).to_bytes(32, "big")
            self.append(LogEntry(EntryKind.STEP, OTHER_CASE, hashlib.sha256(k).digest(),
                                 hashlib.sha256(b"sig" + k).digest()).encode())

    def sign(self) -> str:
        """The institution's signed checkpoint of the log as it is now, naming its per-case
        index as the service's do (docs/log.md §14)."""
        heads = heads_of(enumerate(self.entries[:self.tree.size]))
        line = index_extension(len(heads), index_tree(heads).root())
        return sign_checkpoint(Checkpoint(LOG_ORIGIN, self.tree.size, self.tree.root(),
                                          (line,)), self.signer)


def entry_of(case_id: bytes, signed: SignedRecord) -> bytes:
    """The log entry the service appends for a record (its kind by record type)."""
    kind = {"EvidenceSubmission": EntryKind.EVIDENCE, "Award": EntryKind.ATTACHMENT,
            "Settlement": EntryKind.ATTACHMENT}.get(signed.record.TYPE_NAME, EntryKind.STEP)
    return LogEntry(kind, case_id, signed.record_hash, signed.signatures_hash).encode()


def _step(
    key: LocalAccount,
    domain: Domain,
    *,
    case_id: bytes,
    seq: int,
    prev: bytes,
    action: str,
    payload: bytes,
    at: int,
) -> SignedRecord:
    rec = ProceduralStep(
        case_id=case_id,
        sequence=seq,
        prev_hash=prev,
        actor=key.address,
        action=action,
        payload_hash=hashlib.sha256(payload).digest(),
        signed_at=at,
    )
    return rec.sign(key.key, domain)


def make_case(
    workdir: Path,
    tsa: LocalTSA,
    w3: Web3 | None = None,
    *,
    objection: bool = False,
    settlement: bool = False,
    return_settlement: bool = False,
    institution: LocalAccount | None = None,
    signed_ahead: int = 0,
    anchored_by_stranger: bool = False,
    rotate_to: LocalAccount | None = None,
    rotation_signer: LocalAccount | None = None,
    rotate_on_chain: bool = False,
    rotate_late: bool = False,
) -> Case:
    """Run the case on `w3` (default: a fresh in-process EVM) and build its package.

    With `objection`, the seller objects to the award, the institution appoints a panel
    and two of the three panelists sign the final (round 1) award, which the escrow pays.
    With `settlement`, buyer and seller sign a Settlement that the escrow executes instead;
    with `return_settlement` as well, a ReturnSettlement ("return and refund"): the escrow's
    return stage starts, the buyer ships the goods back and the seller's receipt pays the refund.
    The institution's key is fresh (``Account.create()``) unless `institution` is given: a
    key derivable from this source would be a published key (check ``institution_key``).
    `signed_ahead` (seconds) dates the records that far after the chain's time: signers
    whose clocks run ahead of the blocks that anchor their records (check ``clocks``).
    With `anchored_by_stranger`, a key other than the institution's anchors the roots (the
    contract lets anyone anchor any root; check ``anchors``).
    With `rotate_to`, before the enforcement is recorded the institution hands its off-chain
    signing over to that key (an ``institution.key_rotated`` step signed by
    `rotation_signer`, by default the old key), which then signs the last step and the
    attestation. With `rotate_on_chain` as well, the handover is the escrow's instead
    (`rotateInstitutionKey`, sent by the old key; no step): the package lists it among the
    escrow's acts, as for a case with no chain yet at the rotation. With `rotate_late`
    too, the escrow's handover comes after the last step (the old key signed them all; only
    the attestation is the new key's: a finished case exported after a rotation).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    w3 = w3 if w3 is not None else in_process_web3()
    accts = dev_accounts(10, seed="judicial")
    accts[1] = institution if institution is not None else Account.create()
    actors = Actors(*accts[:7], panel=(accts[7], accts[8], accts[9]))  # type: ignore[arg-type, misc]
    contracts = deploy_contracts(w3, actors.admin, institution=actors.institution.address,
                                 funded=[a.address for a in accts])
    escrow, anchor = contracts.escrow, contracts.anchor
    escrow_addr, anchor_addr = escrow.address, anchor.address
    rules_hash = hashlib.sha256(canonical(RULES)).digest()
    amount = 2 * ETHER
    order_id, opened = contracts.open_order(
        actors.buyer, actors.seller, actors.institution.address, amount=amount,
        guarantee=1 * ETHER, deliver_in=86_400, rules_hash=rules_hash)
    case_id = keccak(text=f"chainarb-case-{order_id}")
    escrow.raise_dispute(actors.buyer, order_id, case_id)
    escrow.appoint_arbitrator(actors.institution, order_id, actors.arbitrator.address)
    domain = Domain(chain_id=w3.eth.chain_id, verifying_contract=escrow_addr)

    # -- evidence: plain files, encrypted containers in a blockstore, a CAR --------------
    store = MemoryBlockstore()
    files = {
        "invoice": (
            "invoice-2026-118.txt",
            b"INVOICE 2026-118\nqty 40 x LED panel\n",
            actors.buyer,
        ),
        "tracking": (
            "tracking.json",
            b'{"carrier":"SF","no":"SF1234567890","status":"lost"}',
            actors.seller,
        ),
    }
    t0 = chain_time(w3) + signed_ahead
    steps: list[StepEntry] = []
    prev = ZERO_HASH
    seq = 1

    def add(signed: SignedRecord, role: str, payload: bytes | None = None, label: str = "") -> None:
        nonlocal prev, seq
        steps.append(StepEntry(record=signed, role=role, payload=payload, label_en=label))
        if signed.record.CHAINED:
            prev = signed.record_hash
            seq += 1

    filing = canonical(
        {
            "claimant": actors.buyer.address,
            "respondent": actors.seller.address,
            "orderId": str(order_id),
            "disputeType": "not_as_described",
            "remedy": "partial_refund",
        }
    )
    add(
        _step(
            actors.buyer,
            domain,
            case_id=case_id,
            seq=seq,
            prev=prev,
            action="case.filed",
            payload=filing,
            at=t0,
        ),
        "claimant",
        filing,
        "Claim filed",
    )
    appoint = canonical({"role": "arbitrator", "appointees": [actors.arbitrator.address]})
    add(
        _step(
            actors.institution,
            domain,
            case_id=case_id,
            seq=seq,
            prev=prev,
            action="appoint.arbitrator",
            payload=appoint,
            at=t0 + 10,
        ),
        "institution",
        appoint,
        "Arbitrator appointed",
    )

    items: list[EvidenceItem] = []
    submissions: dict[str, SignedRecord[EvidenceSubmission]] = {}
    for n, (item_id, (filename, content, party)) in enumerate(files.items()):
        path = workdir / filename
        path.write_bytes(content)
        file_hash = sha256_file(path)
        opening = commit(file_hash)
        container = io.BytesIO()
        encrypt_stream(io.BytesIO(content), container, generate_data_key())
        cid = str(add_bytes(container.getvalue(), cid_version=1, blockstore=store))
        sub = EvidenceSubmission(
            case_id=case_id,
            sequence=seq,
            prev_hash=prev,
            submitter=party.address,
            commitment=opening.commitment,
            content_cid=cid,
            signed_at=t0 + 20 + n,
        ).sign(party.key, domain)
        role = "claimant" if party is actors.buyer else "respondent"
        items.append(
            EvidenceItem(
                item_id=item_id,
                path=path,
                filename=filename,
                media_type="text/plain",
                salt=opening.salt,
                submission_sequence=seq,
                description=f"{item_id} of the order",
            )
        )
        submissions[item_id] = sub
        add(sub, role, None, f"Evidence {item_id}")
    car_path = workdir / "blocks.car"
    with car_path.open("wb") as out:
        export_car([s.record.content_cid for s in submissions.values()], store, out)

    award_doc: bytes | None = None
    if settlement:
        alloc = Allocation(to_buyer=ETHER, to_seller=ETHER, compensation=0)
        fallback = Allocation(to_buyer=ETHER // 2, to_seller=3 * ETHER // 2, compensation=0)
        if return_settlement:
            alloc = Allocation(to_buyer=2 * ETHER, to_seller=0, compensation=0)
        terms: Settlement | ReturnSettlement = Settlement(
            order_id=order_id, case_id=case_id, to_buyer=alloc.to_buyer,
            to_seller=alloc.to_seller, compensation=0,
        ) if not return_settlement else ReturnSettlement(
            order_id=order_id, case_id=case_id, to_buyer=alloc.to_buyer,
            to_seller=alloc.to_seller, compensation=0, no_return_to_buyer=fallback.to_buyer,
            no_return_to_seller=fallback.to_seller, no_return_compensation=0,
        )
        deal = terms.sign(actors.buyer.key, domain).add_signature(actors.seller.key)
        add(deal, "claimant")
        # As the service does: the acceptance's payload names the Settlement's hash.
        accepted = canonical(
            {"offerId": "offer-1", "settlementHash": "0x" + deal.record_hash.hex()}
        )
        add(
            _step(
                actors.seller,
                domain,
                case_id=case_id,
                seq=seq,
                prev=prev,
                action="offer.accepted",
                payload=accepted,
                at=t0 + 40,
            ),
            "respondent",
            accepted,
            "Settlement accepted",
        )
        sig_of = dict(zip(deal.signers(), deal.signatures, strict=True))
        advance_time(w3, 120)  # executed after both signed
        if return_settlement:
            escrow.submit_return_settlement(
                actors.relayer, order_id, alloc, fallback, sig_of[actors.buyer.address],
                sig_of[actors.seller.address])
            escrow.record_return_shipment(actors.buyer, order_id, b"\x7a" * 32)
            executed = escrow.confirm_return_received(actors.seller, order_id)
        else:
            executed = escrow.execute_settlement(
                actors.relayer,
                order_id,
                alloc,
                sig_of[actors.buyer.address],
                sig_of[actors.seller.address],
            )
    else:
        closed = canonical({"closedAt": str(t0 + 40)})
        add(
            _step(
                actors.arbitrator,
                domain,
                case_id=case_id,
                seq=seq,
                prev=prev,
                action="record.closed",
                payload=closed,
                at=t0 + 40,
            ),
            "arbitrator",
            closed,
        )

        award_doc = (
            "# Award / 裁决书\n\nCase 0x" + case_id.hex() + "\n\nThe goods were not as described. "
            "The buyer receives 1.5 ETH and 0.1 ETH compensation; the seller 0.5 ETH.\n"
        ).encode()
        alloc = Allocation(to_buyer=3 * ETHER // 2, to_seller=ETHER // 2, compensation=ETHER // 10)
        award_hash = hashlib.sha256(award_doc).digest()
        award = Award(
            order_id=order_id,
            case_id=case_id,
            to_buyer=alloc.to_buyer,
            to_seller=alloc.to_seller,
            compensation=alloc.compensation,
            award_hash=award_hash,
            round=0,
        ).sign(actors.arbitrator.key, domain)
        add(award, "arbitrator")
        # The Award is not chained: this step binds it (payloadHash = its record hash).
        issued = ProceduralStep(
            case_id=case_id,
            sequence=seq,
            prev_hash=prev,
            actor=actors.arbitrator.address,
            action="award.issued",
            payload_hash=award.record_hash,
            signed_at=t0 + 50,
        ).sign(actors.arbitrator.key, domain)
        add(issued, "arbitrator", None, "Award issued")

        # -- on-chain award and enforcement ---------------------------------------------------
        escrow.submit_award(actors.relayer, order_id, alloc, award_hash, award.signatures[0])
        if not objection:
            advance_time(w3, Timeouts().objection + 60)
            executed = escrow.execute_award(actors.relayer, order_id)
        else:
            advance_time(w3, 120)  # the objection comes after the award's signedAt
            escrow.object_to_award(actors.seller, order_id)
            add(
                Objection(
                    case_id=case_id,
                    sequence=seq,
                    prev_hash=prev,
                    objector=actors.seller.address,
                    award_record_hash=award.record_hash,
                    reasons_hash=hashlib.sha256(b"the goods were as described").digest(),
                    signed_at=chain_time(w3),
                ).sign(actors.seller.key, domain),
                "respondent",
                None,
                "Objection",
            )
            members = [m.address for m in actors.panel]
            escrow.appoint_panel(actors.institution, order_id, members)
            panel_payload = canonical({"role": "panelist", "appointees": members})
            add(
                _step(
                    actors.institution,
                    domain,
                    case_id=case_id,
                    seq=seq,
                    prev=prev,
                    action="appoint.panel",
                    payload=panel_payload,
                    at=chain_time(w3),
                ),
                "institution",
                panel_payload,
                "Panel appointed",
            )
            award_doc = award_doc.replace(b"# Award", b"# Panel award") + b"\nFinal.\n"
            award_hash = hashlib.sha256(award_doc).digest()
            alloc = Allocation(to_buyer=ETHER, to_seller=ETHER, compensation=0)
            panel_award = (
                Award(
                    order_id=order_id,
                    case_id=case_id,
                    to_buyer=alloc.to_buyer,
                    to_seller=alloc.to_seller,
                    compensation=0,
                    award_hash=award_hash,
                    round=1,
                )
                .sign(actors.panel[0].key, domain)
                .add_signature(actors.panel[1].key)
            )
            add(panel_award, "panelist")
            add(
                ProceduralStep(
                    case_id=case_id,
                    sequence=seq,
                    prev_hash=prev,
                    actor=actors.panel[0].address,
                    action="award.panel_signed",  # the step table's name (evidence/steps.py)
                    payload_hash=panel_award.record_hash,
                    signed_at=chain_time(w3),
                ).sign(actors.panel[0].key, domain),
                "panelist",
                None,
                "Panel award issued",
            )
            by_signer = dict(zip(panel_award.signers(), panel_award.signatures, strict=True))
            executed = escrow.submit_panel_award(
                actors.relayer,
                order_id,
                alloc,
                award_hash,
                [by_signer.get(m) for m in members],
            )
    signer = actors.institution  # the key signing in the institution's name off-chain
    if rotate_to is not None and rotate_on_chain and not rotate_late:  # escrow's, no step
        escrow.rotate_institution_key(actors.institution, rotate_to.address)
        signer = rotate_to
    elif rotate_to is not None:  # it hands over to a new key (signed by the old one)
        handover = canonical({"role": "institution", "appointees": [rotate_to.address]})
        add(_step(rotation_signer or actors.institution, domain, case_id=case_id, seq=seq,
                  prev=prev, action="institution.key_rotated", payload=handover,
                  at=chain_time(w3)), "institution", handover, "Institution key rotated")
        signer = rotate_to
    done = canonical({"txHash": "0x" + executed.tx_hash.hex(), "toBuyer": str(alloc.to_buyer),
                      "toSeller": str(alloc.to_seller), "compensation": str(alloc.compensation),
                      "compensationShortfall": "0"})  # as the service records a payout
    add(
        _step(
            signer,
            domain,
            case_id=case_id,
            seq=seq,
            prev=prev,
            action="enforcement.recorded",
            payload=done,
            at=max(chain_time(w3), t0 + 60),  # t0 is ahead with signed_ahead
        ),
        "institution",
        done,
        "Award executed by the escrow",
    )

    if rotate_to is not None and rotate_late:  # after every step: only the attestation
        escrow.rotate_institution_key(actors.institution, rotate_to.address)
        signer = rotate_to

    # -- Merkle batches, anchors, timestamps ------------------------------------------------
    records = [s.record for s in steps]
    batches = [records[:4], records[4:]]
    anchors: list[AnchorInfo] = []
    proofs: list[MerkleLeafProof] = []
    stamps: list[TimestampToken] = []
    root_of: dict[bytes, tuple[bytes, bytes]] = {}
    # The institution's log: other cases' entries, this case's records in the order the
    # service accepted them, and a signed checkpoint riding in each anchored batch.
    caselog = CaseLog(MerkleLog(), [], NoteSigner.from_private_key(actors.institution.key),
                      [], {}, None)  # type: ignore[arg-type]  # its LogInputs come later
    caselog.noise(3)
    for batch in batches:
        for r in batch:
            entry = entry_of(case_id, r)
            caselog.records[r.record_hash] = (caselog.append(entry), entry)
        caselog.noise(2)
        note = caselog.sign()
        cp_leaf = checkpoint_leaf(note, caselog.tree.root())
        values = [record_leaf(case_id, r.record_hash, r.signatures_hash) for r in batch]
        tree = StandardMerkleTree.of([*values, cp_leaf])
        caselog.checkpoints.append(LogCheckpoint(note=note.encode(), anchor=MerkleLeafProof(
            record_hash=hashlib.sha256(note.encode()).digest(), root=tree.root,
            encoding=tree.leaf_encoding, value=cp_leaf,
            proof=tree.proof(tree.index_of(cp_leaf)))))
        anchorer = actors.stranger if anchored_by_stranger else actors.institution
        res = anchor.anchor(anchorer, tree.root, len(values) + 1)
        receipt = w3.eth.get_transaction_receipt(res.tx_hash)  # type: ignore[arg-type]
        block = w3.eth.get_block(receipt["blockNumber"])
        anchors.append(
            AnchorInfo(
                root=tree.root,
                chain_id=w3.eth.chain_id,
                contract=anchor_addr,
                tx_hash=res.tx_hash,
                block_number=receipt["blockNumber"],
                block_hash=bytes(receipt["blockHash"]),
                block_time=int(block["timestamp"]),
                count=len(values) + 1,
            )
        )
        for r in batch:
            proofs.append(MerkleLeafProof.for_record(r, tree))
            root_of[r.record_hash] = (tree.root, res.tx_hash)
        # The world's chain ran days ahead (the objection window): its TSA's clock with it.
        with tsa.following(lambda: chain_time(w3)):
            token = request_timestamp(tsa.url, hashlib.sha256(tree.root).digest())
        stamps.append(TimestampToken(root=tree.root, response=token))

    # -- provenance logs (signed by the service = institution key) -------------------------
    items_with_logs = []
    for item in items:
        sub = submissions[item.item_id]
        root, anchor_tx = root_of[sub.record_hash]
        submitter = sub.record.submitter
        session = f"sess-{item.item_id}"
        at = sub.record.signed_at - 5
        log = sign_log(
            [
                (
                    "upload.received",
                    submitter,
                    session,
                    at,
                    {
                        "filename": item.filename,
                        "size": item.path.stat().st_size,
                        "mediaType": item.media_type,
                        "client": "web 1.0",
                    },
                ),
                ("hash.computed", "", session, at + 1, {"sha256": sha256_file(item.path).hex()}),
                (
                    "commitment.made",
                    "",
                    session,
                    at + 1,
                    {"commitment": "0x" + sub.record.commitment.hex()},
                ),
                ("encrypted", "", session, at + 2, {"cipher": "AES-256-GCM"}),
                ("ipfs.stored", "", session, at + 2, {"cid": sub.record.content_cid}),
                (
                    "record.signed",
                    submitter,
                    session,
                    at + 5,
                    {"recordHash": "0x" + sub.record_hash.hex()},
                ),
                ("batch.included", "", "", at + 6, {"root": "0x" + root.hex()}),
                (
                    "anchored",
                    "",
                    "",
                    at + 7,
                    {"txHash": "0x" + anchor_tx.hex(), "root": "0x" + root.hex()},
                ),
            ],
            case_id=case_id,
            commitment=sub.record.commitment,
            domain=domain,
            service_key=actors.institution.key,
        )
        items_with_logs.append(EvidenceItem(**{**item.__dict__, "provenance": tuple(log)}))

    appointments = [e.record for e in steps if isinstance(e.record.record, ProceduralStep)
                    and e.record.record.action.startswith("appoint.")]
    neutrals = [Neutral(
        role="arbitrator", address=actors.arbitrator.address,
        profile=profile(actors.arbitrator, domain, "Dr. Chen Wei", "陈伟博士", "SG", at=t0),
        disclosure=disclose(actors.arbitrator, domain, case_id, "arbitrator", appointments[0],
                            at=t0 + 11))]
    for i, member in enumerate(actors.panel if objection else ()):
        neutrals.append(Neutral(
            role="panelist", address=member.address,
            profile=profile(actors.institution, domain, f"Panelist {i + 1}", f"仲裁员{i + 1}",
                            "HK", at=t0, subject=member.address),
            disclosure=disclose(member, domain, case_id, "panelist", appointments[-1],
                                at=chain_time(w3))))
    caselog.inputs = gather(caselog.tree, origin=LOG_ORIGIN, checkpoints=caselog.checkpoints,
                            records=[(h, i, e) for h, (i, e) in caselog.records.items()],
                            start=0,
                            entries=caselog.entries[:caselog.tree.size])
    acts = [*escrow_acts(w3, escrow_addr, order_id),
            *institution_rotations(w3, escrow_addr, actors.institution.address)]
    headers, receipts = collect_proofs(w3, [a.tx_hash for a in anchors] + [tx for _, tx in acts])
    inputs = PackageInputs(
        domain=domain,
        case=CaseInfo(
            case_id=case_id,
            order_id=order_id,
            title="LED panels not as described",
            dispute_type="not_as_described",
            remedy="partial_refund",
            amount=amount,
            token="0x" + "00" * 20,
            currency="ETH",
            decimals=18,
            filed_at=t0,
        ),
        parties=[
            Party(role="claimant", side="buyer", address=actors.buyer.address,
                  profile=profile(actors.buyer, domain, "Li Wei Trading", "李伟贸易", "CN",
                                  at=t0 - 100)),
            Party(role="respondent", side="seller", address=actors.seller.address,
                  profile=profile(actors.seller, domain, "Lumen GmbH", "", "DE",
                                  at=t0 - 100)),
        ],
        institution=InstitutionInfo(
            name="chainarb ODR Centre",
            address=signer.address,
            seat="Hangzhou",
            website="https://chainarb.example",
            independence_en=(
                "The institution has no interest in the outcome and no tie to either party."
            ),
            independence_zh="本机构与案件结果无利害关系，与任何一方当事人无关联。",
            security_en="Evidence is encrypted at upload; every step is signed and anchored.",
            security_zh="证据上传即加密；每一步均签名并上链存证。",
        ),
        rules=RULES,
        steps=steps,
        evidence=items_with_logs,
        car_path=car_path,
        anchors=anchors,
        proofs=proofs,
        timestamps=stamps,
        tsa_certificates=tsa.tsa_pem.read_bytes() + tsa.ca_pem.read_bytes(),
        award=(
            AwardDocument(filename="award.md", content=award_doc, media_type="text/markdown")
            if award_doc is not None
            else None
        ),
        enforcement=EnforcementInfo(
            escrow=escrow_addr, open_tx=opened.tx_hash, enforcement_tx=executed.tx_hash,
            acts=acts,
        ),
        block_headers=headers,
        receipts=receipts,
        created_at=chain_time(w3),
        neutrals=neutrals,
        log=caselog.inputs,
    )
    package = build_package(inputs, workdir / "package.zip", attest=attester(signer))
    return Case(
        w3=w3,
        actors=actors,
        domain=domain,
        inputs=inputs,
        package=package,
        escrow=escrow_addr,
        anchor=anchor_addr,
        tsa=tsa,
        order_id=order_id,
        case_id=case_id,
        log=caselog,
    )


def profile(signer: LocalAccount, domain: Domain, name: str, name_zh: str, country: str, *,
            at: int, subject: str | None = None) -> SignedRecord:
    """A signed Profile: the signer's own, or (with `subject`) one it issues for another."""
    return Profile(subject=subject or signer.address, issuer=signer.address, name=name,
                   name_zh=name_zh, country=country, language="en",
                   contact=f"{name.split()[0].lower()}@example.org", signed_at=at
                   ).sign(signer.key, domain)


def disclose(appointee: LocalAccount, domain: Domain, case_id: bytes, role: str,
             appointment: SignedRecord, *, at: int) -> SignedRecord:
    """The appointee's signed disclosure on the appointment step `appointment`."""
    return Disclosure(case_id=case_id, appointee=appointee.address, role=role,
                      appointment_hash=appointment.record_hash, independent=True,
                      conflicts="", statement="I am impartial and independent of the parties "
                      "and have no conflict to disclose.", signed_at=at
                      ).sign(appointee.key, domain)


def attester(account: LocalAccount) -> Callable[[TypedData], bytes]:
    """The institution's attestation signer, as the backend would pass it."""

    def sign(typed: TypedData) -> bytes:
        return bytes(Account.sign_typed_data(account.key, full_message=dict(typed)).signature)

    return sign
