"""Performance evidence in the judicial package: a carrier's webhook recorded during the order
(the local carrier simulator stands in for the carrier), a party's own record, both in
``documents/performance-evidence.json`` with their origin labels, bodies and signed logs;
every uploaded item labelled in the index, the manifest, its provenance file and index.html.
The package still verifies (docs/performance-evidence.md, "In the judicial package"). Each
item is an entry of kind ``performance`` in the institution's log, answered with its receipt;
the package proves each, and a package that drops one the log holds fails
``log_completeness`` (docs/log.md §12)."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from backend import procedure as p
from backend.chain.devchain import chain_time
from backend.performance import Scheme
from backend.performance.simulator import CarrierSimulator
from evidence.commitment import commitment_of
from evidence.judicial import _format as fmt
from evidence.judicial.provenance import (
    SignedProvenanceEntry,
    check_log,
    performance_entry_values,
)
from evidence.judicial.verify import Status, verify_package
from evidence.receipts import load_receipts, save_receipt
from tests.backend.package.package_world import (
    ChainWorld,
    make_chain_world,
    run_to_settlement,
)
from tests.support.migrated import migrated
from tests.support.packages import rewrite_package
from tests.support.tsa import LocalTSA
from tests.support.world import INSTITUTION_KEY

SIM = CarrierSimulator.new("sim-express", Scheme.SECP256K1)


@pytest.fixture
def perf_world(tmp_path: Path, local_tsa: LocalTSA) -> Iterator[ChainWorld]:

    url = f"sqlite:///{tmp_path / 'package.sqlite3'}"
    migrated(url)
    cw = make_chain_world(url, tmp_path, local_tsa, webhook_senders=[SIM.config(
        name="Simulated Express", name_zh="模拟快递")])
    SIM.clock = lambda: cw.world.clock().timestamp()
    with cw.world.client, local_tsa.following(lambda: chain_time(cw.w3)):
        yield cw



def _court_ready(cw: ChainWorld, case_id: str) -> str:
    """Give the court the case and anchor everything its package needs; the package's URL."""
    w = cw.world
    r = w.admin.post("/admin/courts", json={"address": w.court.address, "name": "Court"})
    assert r.status_code in (200, 201), r.text
    r = w.admin.post(f"/cases/{case_id}/courts", json={"court": w.court.address})
    assert r.status_code in (200, 201), r.text
    url = f"/cases/{case_id}/judicial-package"
    cw.anchor_all()
    w.court.get(url)  # queues the Settlement's leaf
    cw.anchor_all()
    return url

def test_the_package_carries_the_performance_evidence_with_its_labels(
        perf_world: ChainWorld, tmp_path: Path) -> None:
    cw = perf_world
    w = cw.world
    event = SIM.event(cw.order_id, "SIMX1", "delivered_signed", signed_by="Lena Fischer")
    r = SIM.send(w.client, event)
    assert r.status_code == 201, r.text
    own = w.seller.post(f"/orders/{cw.order_id}/performance", json={
        "type": "shipped", "shipment": "SIMX1", "occurredAt": "2026-11-20T09:00:00Z"})
    assert own.status_code == 201, own.text
    # each capture is logged with its row, under the order's case id, and answered with
    # its receipt (before any case exists)
    receipts = [r.json()["receipt"], own.json()["receipt"]]
    assert [x["entry"]["kind"] for x in receipts] == ["performance", "performance"]
    assert {x["entry"]["caseId"] for x in receipts} == {r.json()["caseId"]}
    assert receipts[1]["index"] > receipts[0]["index"]
    logged = {x["entry"]["recordHash"] for x in receipts}
    case_id = run_to_settlement(cw)
    url = _court_ready(cw, case_id)
    r = w.court.get(url)
    assert r.status_code == 200, r.text[:300]
    pkg = tmp_path / "perf.zip"
    pkg.write_bytes(r.content)
    trust = cw.tsa.ca_pem.read_bytes()
    folder = tmp_path / "receipts"  # what the carrier and the seller kept
    for receipt in receipts:
        save_receipt(folder, receipt)
    held = load_receipts(folder)
    report = verify_package(pkg, chain=cw.w3, tsa_trust=trust, receipts=held)
    assert {c.name: c.reason for c in report.checks if not c.passed} == {}
    (check,) = [c for c in report.checks if c.name == "receipts"]
    assert len(check.details) == 2 and all("carried (performance evidence" in d
                                           for d in check.details), check.details

    with zipfile.ZipFile(pkg) as z:
        doc = json.loads(z.read("documents/performance-evidence.json"))
        index = json.loads(z.read("evidence/index.json"))["items"]
        manifest = json.loads(z.read("manifest.json"))
        provs = [json.loads(z.read(n)) for n in z.namelist() if n.startswith("provenance/")]
        html = z.read("index.html").decode()
        sums = z.read("SHA256SUMS").decode()
    assert "documents/performance-evidence.json" in sums  # the digest covers it
    carrier, party = doc["items"]
    assert carrier["origin"]["label"] == "origin-verified"
    assert carrier["origin"]["sender"]["name"] == "Simulated Express"
    assert carrier["origin"]["sender"]["keyId"] == SIM.config().address
    assert party["origin"]["label"] == "party-submitted"
    assert party["origin"]["submitter"] == w.seller.address
    assert doc["howToCheck"]["zh-Hans"] and doc["labels"]["origin-verified"]["zh-Hans"]
    # what the court recomputes: the body's hash, the commitment, every signature
    body = base64.b64decode(carrier["bodyBase64"])
    assert body == SIM.body(event)
    sha = hashlib.sha256(body).digest()
    assert "0x" + sha.hex() == carrier["sha256"]
    assert "0x" + commitment_of(sha, bytes.fromhex(carrier["salt"][2:])).hex() == \
        carrier["commitment"]
    for item in doc["items"]:
        log = [SignedProvenanceEntry.from_json_obj(e) for e in item["provenance"]]
        assert log[-1].entry.action == "case.attached"
        assert check_log(log, case_id=bytes.fromhex(case_id[2:]),
                         commitment=bytes.fromhex(item["commitment"][2:]), domain=w.domain,
                         service=Account.from_key(INSTITUTION_KEY).address) == []
    # the uploaded items: party-submitted, in every place the package shows provenance
    assert index and {i["origin"]["label"] for i in index} == {"party-submitted"}
    assert {e["origin"] for e in manifest["evidence"]} == {"party-submitted"}
    assert {p["origin"]["label"] for p in provs} == {"party-submitted"}
    assert "当事人提交" in html and "Origin" in html
    # the package's log section proves both items' entries, named by their capture entry
    with zipfile.ZipFile(pkg) as z:
        section = json.loads(z.read(fmt.LOG))
    carried = {"0x" + performance_entry_values(i["provenance"], w.domain)[0].hex()
               for i in doc["items"]}
    assert carried == logged
    proven = {x["recordHash"] for x in section["records"]}
    assert logged <= proven

    # one item dropped from the document: the log still holds its entry, so the package
    # no longer accounts for every record of the case
    def drop(files: dict[str, bytes]) -> None:
        kept = json.loads(files[fmt.PERFORMANCE])
        kept["items"] = kept["items"][:1]
        files[fmt.PERFORMANCE] = json.dumps(kept).encode()

    report = verify_package(rewrite_package(r.content, tmp_path / "dropped.zip", drop), chain=cw.w3,
                            tsa_trust=trust, receipts=held)
    bad = {c.name: c for c in report.checks if c.status is Status.FAILED}
    assert "log_completeness" in bad, {c.name: c.reason for c in report.checks}
    assert "kind performance" in bad["log_completeness"].reason
    assert receipts[1]["entry"]["recordHash"] in bad["log_completeness"].reason
    # the seller's receipt names the dropped item: omitted
    problems = " ".join((bad["receipts"].reason, *bad["receipts"].details))
    assert "omitted" in problems and receipts[1]["entry"]["recordHash"] in problems


def test_an_item_captured_while_the_package_is_built_is_a_retry_not_a_broken_package(
        perf_world: ChainWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """The document is read before the log section: an item the log (up to the cited
    checkpoint) holds but the document lacks means it was captured meanwhile; the export
    answers 409 not_anchored_yet (retry) instead of a package failing log_completeness."""
    cw = perf_world
    w = cw.world
    for kind in ("shipped", "delivered"):
        r = SIM.send(w.client, SIM.event(cw.order_id, "SIMX2", kind))
        assert r.status_code == 201, r.text
    case_id = run_to_settlement(cw)
    url = _court_ready(cw, case_id)
    from backend.services.performance import PerformanceService

    real = PerformanceService.package_document

    def as_read_earlier(self: PerformanceService, case: p.CaseState) -> bytes | None:
        doc = real(self, case)
        assert doc is not None
        obj = json.loads(doc)
        obj["items"] = obj["items"][:1]  # the second not yet captured when read
        return json.dumps(obj).encode()

    monkeypatch.setattr(PerformanceService, "package_document", as_read_earlier)
    r = w.court.get(url)
    assert r.status_code == 409 and r.json()["code"] == "not_anchored_yet", r.text[:300]
    assert "retry" in r.json()["detail"]
    monkeypatch.setattr(PerformanceService, "package_document", real)
    assert w.court.get(url).status_code == 200
