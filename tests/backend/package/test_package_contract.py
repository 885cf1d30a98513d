"""The contract of sale and the disclosures in the log and in the judicial package, together
(issue 15): the order opened at checkout binds a signed contract; the service logs it
(kind ``contract``) under the order's case and logs each Profile and Disclosure (kind
``identity``); the court's package carries the contract (``records/contract-of-sale.jsonl``)
and every disclosure of the case, and verifies. A package that leaves the contract out, or
carries one the escrow did not bind, fails, naming it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from sqlmodel import col, select

from backend.chain import ETH
from backend.chain.devchain import chain_time
from backend.db.log_models import LogEntry
from evidence.judicial import _format as fmt
from evidence.marketplace import MarketplaceClient, contract_of_sale
from evidence.records import SignedRecord
from tests.backend.package.package_world import (
    AMOUNT,
    ChainWorld,
    court_package,
    failed_checks,
    run_to_enforcement,
    verified,
)
from tests.support.packages import rewrite_package

DAY = 86_400


def _open_with_contract(cw: ChainWorld, offer: int = 7) -> str:
    """Buyer and seller sign a contract of sale (mediation-only clause: the case's
    arbitration agreement is signed later, as in run_to_award); the buyer's wallet opens the
    escrow under its hash. Returns the contract hash; ``cw.order_id`` is the new order."""
    w = cw.world
    market = MarketplaceClient(client=w.client)
    domain = market.domain()
    now = chain_time(cw.w3)
    contract = contract_of_sale(
        buyer=w.buyer.address, seller=w.seller.address,
        institution=w.app.state.ctx.service.institution_address, token=ETH, amount=AMOUNT,
        goods="LED panels 60x60 cm, 4000 K / LED 面板", quantity=40,
        delivery_terms="DAP Hamburg (Incoterms 2020)", delivery_deadline=now + 20 * DAY,
        offer_expires_at=now + DAY, offer_id=bytes([offer]) * 32,
        dispute_clause="chainarb-mediation-only-1")
    sigs = [contract.sign(a.key.key, domain).signatures[0] for a in (w.buyer, w.seller)]
    key: str = market.propose(contract, sigs)["contractHash"]
    order_id, opened = cw.escrow.open_order(
        w.buyer.key, seller=w.seller.address, amount=AMOUNT,
        delivery_deadline=now + 20 * DAY,
        institution=w.app.state.ctx.service.institution_address,
        rules_hash=contract.rules_hash, contract_hash=bytes.fromhex(key[2:]))
    assert [e.name for e in opened.events] == ["OrderOpened", "ContractOfSaleBound"]
    cw.order_id = order_id
    return key


def test_the_contract_and_the_disclosures_are_logged_and_carried(
        chain_world_any_db: ChainWorld, tmp_path: Path) -> None:
    cw = chain_world_any_db
    w = cw.world
    key = _open_with_contract(cw)
    case_id = run_to_enforcement(cw)  # opening the case binds the contract on the way
    with w.app.state.ctx.sessions() as s:
        kinds = {(r.kind, r.record_hash) for r in s.exec(
            select(LogEntry).where(col(LogEntry.case_id) == case_id)).all()}
        profiles = s.exec(select(LogEntry).where(col(LogEntry.kind) == "identity",
                                                 col(LogEntry.case_id) == "0x" + "00" * 32)
                          ).all()
    assert ("contract", key) in kinds
    assert sum(k == "identity" for k, _ in kinds) == 2  # the mediator's and arbitrator's
    assert len(profiles) >= 2  # buyer's, seller's (and any other), under the zero case

    pkg, r = court_package(cw, case_id, tmp_path / "package.zip")
    with zipfile.ZipFile(pkg) as zf:
        (line,) = zf.read(fmt.CONTRACT).splitlines()
        manifest = json.loads(zf.read(fmt.MANIFEST))
        identities = zf.read(fmt.IDENTITIES).splitlines()
        log = json.loads(zf.read(fmt.LOG))
    # completeness by the signed per-case index (docs/log.md §14): no range of other entries
    assert log["range"]["entries"] == [] and "caseIndex" in log
    assert "0x" + SignedRecord.from_json(line).record_hash.hex() == key
    assert manifest["files"]["contractOfSale"] == fmt.CONTRACT
    kinds_carried = [SignedRecord.from_json(x).record.TYPE_NAME for x in identities]
    assert kinds_carried.count("Disclosure") == 2  # every disclosure of the case
    report = verified(cw, pkg)
    checks = {c.name: c for c in report.checks}
    assert "contract of sale" in checks["roles"].reason
    assert "signed case index" in checks["log_completeness"].reason

    # the contract left out: the log holds an entry of the case the package lacks
    def drop(files: dict[str, bytes]) -> None:
        del files[fmt.CONTRACT]

    bad = failed_checks(cw, rewrite_package(r.content, tmp_path / "dropped.zip", drop))
    assert "log_completeness" in bad and key in bad["log_completeness"].reason
    assert "kind contract" in bad["log_completeness"].reason
    assert "manifest" in bad  # and the order's rules are then unexplained

    # a disclosure left out: caught the same way
    def no_disclosure(files: dict[str, bytes]) -> None:
        kept = [ln for ln in files[fmt.IDENTITIES].splitlines()
                if SignedRecord.from_json(ln).record.TYPE_NAME != "Disclosure"
                or b"arbitrator" not in ln]
        files[fmt.IDENTITIES] = b"".join(ln + b"\n" for ln in kept)

    bad = failed_checks(cw, rewrite_package(r.content, tmp_path / "nodisc.zip", no_disclosure))
    assert "log_completeness" in bad and "kind identity" in bad["log_completeness"].reason

    # another contract, signed by the same parties but never bound by the escrow
    other = contract_of_sale(
        buyer=w.buyer.address, seller=w.seller.address,
        institution=w.app.state.ctx.service.institution_address, token=ETH, amount=AMOUNT,
        goods="something else", quantity=1, delivery_terms="EXW",
        delivery_deadline=chain_time(cw.w3) + 30 * DAY,
        offer_expires_at=chain_time(cw.w3) + DAY, offer_id=b"\x09" * 32)
    domain = MarketplaceClient(client=w.client).domain()
    signed = other.sign(w.buyer.key.key, domain)
    signed = SignedRecord(domain=domain, record=signed.record, signatures=signed.signatures
                          + other.sign(w.seller.key.key, domain).signatures)

    def swap(files: dict[str, bytes]) -> None:
        files[fmt.CONTRACT] = signed.to_json() + b"\n"

    bad = failed_checks(cw, rewrite_package(r.content, tmp_path / "swapped.zip", swap))
    assert "does not bind it" in " ".join((*bad["roles"].details, bad["roles"].reason))
    assert "log_completeness" in bad  # the logged contract is not the one carried
