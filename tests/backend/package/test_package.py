"""A court downloads the judicial package of a case that ran through the service on a
real EVM, verifies it with evidence.judicial's verifier (chain + local TSA), then signs."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from backend.chain.devchain import chain_time
from backend.services.errors import Conflict
from evidence.judicial.verify import verify_package
from evidence.records import CourtConfirmation
from tests.backend.package.package_world import (
    AWARD_DOC,
    PANEL_DOC,
    ChainWorld,
    award_record_hash,
    grant_court,
    run_objection_to_enforcement,
    run_to_enforcement,
    run_to_settlement,
)
from tests.backend.package.test_package_verify_page import (
    assert_public_record_after_decision,
    assert_public_record_before_decision,
)
from tests.judicial.test_judicial_docs import assert_provenance_keys_documented
from tests.support.migrated import migrated
from tests.support.tsa import LocalTSA

_grant_court = grant_court  # the name the other package tests import


def test_enforced_case_package_verifies_and_court_confirms(chain_world_any_db: ChainWorld,
                                                           tmp_path: Path) -> None:
    cw = chain_world_any_db
    w = cw.world
    case_id = run_to_enforcement(cw)
    _grant_court(cw)
    url = f"/cases/{case_id}/judicial-package"
    cw.anchor_all()
    # the Award the award step carries is anchored as its own leaf: queued on first ask
    r = w.court.get(url)
    assert r.status_code == 409 and r.json()["code"] == "not_anchored_yet", r.text
    cw.anchor_all()
    r = w.court.get(url)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == "application/zip"
    pkg = tmp_path / "package.zip"
    pkg.write_bytes(r.content)
    report = verify_package(pkg, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes())
    failed = {c.name: c.reason for c in report.checks if not c.passed}
    assert failed == {}, failed
    assert report.package_digest == r.headers["x-package-digest"]
    with zipfile.ZipFile(pkg) as z:
        names = z.namelist()
        manifest = z.read("manifest.json")
        assert any(n.endswith("/tracking.txt") for n in names)  # sanitised name
        award = [n for n in names if n.startswith("award/")]
        assert award and z.read(award[0]) == AWARD_DOC
    assert "0x" + hashlib.sha256(manifest).hexdigest() == r.headers["x-package-manifest-sha256"]
    assert_provenance_keys_documented(pkg)
    assert_public_record_before_decision(cw, r.content, r.headers["x-package-digest"],
                                         r.headers["x-package-manifest-sha256"], tmp_path)
    # the same state gives the same package
    again = w.court.get(url)
    assert again.content == r.content

    # the court records its confirmation as a signed step naming the package it verified
    view = w.court.case()
    awards = [i for i in w.court.get(f"/cases/{case_id}/timeline").json()
              if i.get("action") == "award.issued"]
    assert awards
    body = w.court.court_decision(award_record_hash(cw), confirmed=True)
    rec = body["record"]
    rec["message"]["packageHash"] = r.headers["x-package-manifest-sha256"]
    signed = CourtConfirmation.from_json_obj(rec["message"]).sign(w.court.key.key, w.domain)
    # the download is on the record: which court received which package
    from backend.services.package import require_exported

    with w.app.state.ctx.sessions() as s:
        require_exported(s, case_id, w.court.address, r.headers["x-package-manifest-sha256"])
        with pytest.raises(Conflict):
            require_exported(s, case_id, w.court.address, "0x" + "00" * 32)
        with pytest.raises(Conflict):
            require_exported(s, case_id, w.stranger.address,
                             r.headers["x-package-manifest-sha256"])
    d = w.court.post(f"/cases/{case_id}/court-decision", json={"record": signed.to_json_obj()})
    assert d.status_code == 201, d.text
    assert d.json()["stage"] == "judicially_confirmed"
    assert view["stage"] == "enforced"
    assert_public_record_after_decision(cw, r.headers["x-package-digest"], signed.record)


def test_only_a_court_with_access_downloads_and_only_anchored_records(
        chain_world: ChainWorld) -> None:
    from sqlmodel import select

    from backend.db import AnchorBatch, AnchorInclusion, AnchorStatus

    cw = chain_world
    w = cw.world
    case_id = run_to_enforcement(cw)
    cw.anchor_all()
    url = f"/cases/{case_id}/judicial-package"
    for who in ("buyer", "seller", "arbitrator", "mediator", "admin", "stranger", "court"):
        r = w.actors[who].get(url)
        assert r.status_code == 403, (who, r.text)
    _grant_court(cw)
    assert w.court.get(url).status_code == 409  # queues the Award's leaf
    cw.anchor_all()
    assert w.court.get(url).status_code == 200
    # a batch still waiting for its confirmation: the court is told to come back, not
    # handed records without proof
    with w.app.state.ctx.sessions() as s:
        batch = s.exec(select(AnchorBatch)).all()[-1]
        inclusion = s.exec(select(AnchorInclusion).where(
            AnchorInclusion.batch_id == batch.id)).one()
        batch.status, inclusion.status = AnchorStatus.PENDING, AnchorStatus.SENT
        s.add(batch)
        s.add(inclusion)
        s.commit()
    r = w.court.get(url)
    assert r.status_code == 409 and r.json()["code"] == "not_anchored_yet", r.text
    assert f"chain {inclusion.chain_id}: sent" in r.json()["detail"]  # names the lagging chain
    cw.anchor_all()
    assert w.court.get(url).status_code == 200


def test_objection_and_panel_award_package_verifies(chain_world: ChainWorld,
                                                    tmp_path: Path) -> None:
    """Round-1 award signed by two of three panelists in two steps: one record, merged."""
    cw = chain_world
    w = cw.world
    case_id = run_objection_to_enforcement(cw)
    _grant_court(cw)
    url = f"/cases/{case_id}/judicial-package"
    cw.anchor_all()
    assert w.court.get(url).status_code == 409  # the awards' own leaves are queued
    cw.anchor_all()
    r = w.court.get(url)
    assert r.status_code == 200, r.text[:300]
    pkg = tmp_path / "panel.zip"
    pkg.write_bytes(r.content)
    report = verify_package(pkg, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes())
    failed = {c.name: c.reason for c in report.checks if not c.passed}
    assert failed == {}, failed
    with zipfile.ZipFile(pkg) as z:
        award = [n for n in z.namelist() if n.startswith("award/")]
        assert z.read(award[0]) == PANEL_DOC
        unchained = z.read("records/unchained.jsonl").decode().splitlines()
    panel = [json.loads(line) for line in unchained
             if json.loads(line)["message"].get("round") == "1"]
    assert len(panel) == 1 and len(panel[0]["signatures"]) == 2


def test_settled_case_package_verifies(chain_world: ChainWorld, tmp_path: Path) -> None:
    """A settlement: the accepted offer's Settlement (both signatures) is in the package;
    the one-sided Settlement of the offer nobody accepted is not."""
    cw = chain_world
    w = cw.world
    case_id = run_to_settlement(cw)
    _grant_court(cw)
    url = f"/cases/{case_id}/judicial-package"
    cw.anchor_all()
    assert w.court.get(url).status_code == 409  # the Settlement's own leaf is queued
    cw.anchor_all()
    r = w.court.get(url)
    assert r.status_code == 200, r.text[:300]
    pkg = tmp_path / "settled.zip"
    pkg.write_bytes(r.content)
    report = verify_package(pkg, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes())
    failed = {c.name: c.reason for c in report.checks if not c.passed}
    assert failed == {}, failed
    with zipfile.ZipFile(pkg) as z:
        unchained = [json.loads(x) for x in
                     z.read("records/unchained.jsonl").decode().splitlines()]
    assert [(u["type"], len(u["signatures"])) for u in unchained] == [("Settlement", 2)]


IDENTITY: dict[str, Any] = {"institution_name": "Hangzhou Cross-border E-commerce ODR Centre",
            "institution_name_zh": "杭州跨境电商在线争议解决中心",
            "institution_seat": "Hangzhou, CN",
            "institution_registration": "Unified social credit code 12330100MB0000000X",
            "institution_website": "https://odr.example.cn",
            "institution_key_custody": "YubiHSM 2 in the operator's rack; two officers"}


def test_the_package_names_everyone_in_signed_words(tmp_path: Path, local_tsa: LocalTSA
                                                     ) -> None:
    """The institution's legal identity as configured (CHAINARB_INSTITUTION_*), the parties'
    own profiles, the neutrals' disclosures and the court's name the institution issued:
    all in the manifest, every binding checked by the verifier (`identities`)."""
    from tests.backend.package.package_world import make_chain_world

    url = f"sqlite:///{tmp_path / 'names.sqlite3'}"
    migrated(url)
    cw = make_chain_world(url, tmp_path, local_tsa, **IDENTITY)
    with cw.world.client, local_tsa.following(lambda: chain_time(cw.w3)):
        w = cw.world
        case_id = run_to_enforcement(cw)
        r = w.admin.post("/admin/courts", json={"address": w.court.address,
                                                "name": "Hangzhou Internet Court",
                                                "nameZh": "杭州互联网法院", "country": "CN"})
        assert r.status_code == 201, r.text
        assert w.admin.post(f"/cases/{case_id}/courts",
                            json={"court": w.court.address}).status_code == 201
        cw.anchor_all()
        w.court.get(f"/cases/{case_id}/judicial-package")  # queues the Award's leaf
        cw.anchor_all()
        r = w.court.get(f"/cases/{case_id}/judicial-package")
        assert r.status_code == 200, r.text[:300]
    pkg = tmp_path / "named.zip"
    pkg.write_bytes(r.content)
    report = verify_package(pkg, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes())
    assert report.ok, [(c.name, c.reason) for c in report.checks if not c.passed]
    with zipfile.ZipFile(pkg) as z:
        m = json.loads(z.read("manifest.json"))
    inst = m["institution"]
    assert (inst["name"], inst["nameZh"], inst["seat"], inst["registration"],
            inst["website"]) == (IDENTITY["institution_name"], IDENTITY["institution_name_zh"],
                                 "Hangzhou, CN", IDENTITY["institution_registration"],
                                 "https://odr.example.cn")
    assert inst["keyCustody"] == {"en": IDENTITY["institution_key_custody"],
                                  "zh": IDENTITY["institution_key_custody"]}
    buyer = next(p for p in m["parties"] if p["side"] == "buyer")
    assert (buyer["name"], buyer["nameZh"], buyer["country"], buyer["contact"]) == (
        "Lena Fischer", "莉娜·菲舍尔", "DE", "lena@example.de")
    by_role = {n["role"]: n for n in m["neutrals"]}
    assert by_role["court"]["name"] == "Hangzhou Internet Court"
    assert by_role["court"]["nameZh"] == "杭州互联网法院"
    assert by_role["court"]["profile"]["issuer"] == inst["address"]
    assert by_role["arbitrator"]["disclosure"]["independent"] is True
    assert by_role["mediator"]["disclosure"]["statement"].startswith("I am impartial")
    lines = next(c for c in report.checks if c.name == "identities").details
    assert any(line.startswith("court 法院: Hangzhou Internet Court / 杭州互联网法院 (CN)")
               for line in lines), lines


def test_a_package_anchored_on_two_chains_names_both(tmp_path: Path, local_tsa) -> None:
    """The service's chain (the institution's own) and an independent one (anvil, chain id
    1002): anchors.json has one row per root and chain, named with its operator; the rows
    on the second chain are what that chain's EvidenceAnchor recorded; the package's block
    proofs cover both chains, and a court confirms each chain's blocks on a node of it."""
    from evidence.judicial import _format as fmt
    from evidence.verify import AnchorClaim, AnchorReader, check_anchoring
    from tests.backend.package.package_world import make_chain_world, second_chain

    second = second_chain(tmp_path)
    try:
        url = f"sqlite:///{tmp_path / 'package.sqlite3'}"
        migrated(url)
        cw = make_chain_world(url, tmp_path, local_tsa, second)
        with cw.world.client:
            case_id = run_to_enforcement(cw)
            _grant_court(cw)
            cw.anchor_all()
            assert cw.world.court.get(f"/cases/{case_id}/judicial-package").status_code == 409
            cw.anchor_all()
            url = f"/cases/{case_id}/judicial-package"
            second.node.stop()  # the second chain's node is down: come back later, no 500
            r = cw.world.court.get(url)
            assert r.status_code == 503 and "chain 1002's node does not answer" in r.text
            second.node.start()
            r = cw.world.court.get(url)
            assert r.status_code == 200, r.text[:300]
        pkg = tmp_path / "package.zip"
        pkg.write_bytes(r.content)
        with zipfile.ZipFile(pkg) as z:
            rows = json.loads(z.read(fmt.ANCHORS))["anchors"]
        own = cw.w3.eth.chain_id
        by_chain = {c: [a for a in rows if a["chainId"] == str(c)] for c in (own, 1002)}
        assert len(rows) == len(by_chain[own]) + len(by_chain[1002])
        assert sorted(a["root"] for a in by_chain[own]) == \
            sorted(a["root"] for a in by_chain[1002])  # every root on each chain
        assert {(a["chainName"], a["operator"]) for a in by_chain[own]} == \
            {("embedded chain", "institution")}
        assert {(a["chainName"], a["operator"]) for a in by_chain[1002]} == \
            {("Second chain", "independent")}
        reader = AnchorReader(second.node.web3())
        for a in by_chain[1002]:  # what the second chain itself says
            claim = AnchorClaim(bytes.fromhex(a["root"][2:]), 1002, a["contract"],
                                bytes.fromhex(a["txHash"][2:]))
            results, anchoring = check_anchoring(claim, reader.observe(
                claim.contract, claim.root, claim.tx_hash))
            assert anchoring is not None, results
            assert (anchoring.block_number, "0x" + anchoring.block_hash.hex(),
                    anchoring.timestamp) == (int(a["blockNumber"]), a["blockHash"],
                                             int(a["blockTime"]))
        # Every row is proven offline; each chain's node confirms its own blocks, and with
        # an independent chain among them the verdict carries no operator-only notice.
        report = verify_package(pkg, chain=[cw.w3, second.node.web3()],
                                tsa_trust=cw.tsa.ca_pem.read_bytes())
        assert {c.name: c.reason for c in report.checks if not c.passed} == {}
        assert sum("chain 1002 block" in d for d in report.check("anchors").details) == \
            len(by_chain[1002])
        assert {b.chain_id for b in report.blocks} == {own, 1002}
        assert report.notes == ()
        # The service's chain alone leaves the second chain's blocks to confirm (exit 3).
        alone = verify_package(pkg, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes())
        assert [c.name for c in alone.checks if not c.passed] == ["block_confirmation"]
        assert alone.failure is None
        assert "chain 1002 block" in alone.check("block_confirmation").reason
    finally:
        second.node.stop()
