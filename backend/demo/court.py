"""The court's acts: access to the case, the judicial package, its offline verification,
and the signed confirmation."""

from __future__ import annotations

from rich.markup import escape

from backend.demo.clients import Client
from backend.demo.common import ZERO32, DemoError, sha256_hex
from backend.demo.identity import COURT
from backend.demo.world import Story, World
from evidence.records import CourtConfirmation, bytes32

__all__ = ["confirm_judicially", "download_package", "give_court_access", "open_certificate_url",
           "verify_package"]


def give_court_access(world: World, story: Story) -> None:
    """The case officer registers the court and gives it access to this case."""
    admin, court = story.cast.admin, story.cast.court
    name, name_zh, country = COURT
    admin.post("/admin/courts", {"address": court.address, "name": name, "nameZh": name_zh,
                                 "country": country})
    admin.post(f"/cases/{story.case_id}/courts", {"court": court.address})
    world.printer.step("enforced", admin.label, f"gives {court.label} access to the case "
                       "(法院调取案卷)")


def download_package(world: World, story: Story) -> None:
    """The court downloads the judicial package into ``<data_dir>/packages``."""
    court, case_id = story.cast.court, story.case_id
    path = world.settings.data_dir / "packages" / (
        f"case-{case_id[2:14]}-order-{story.order_id}.zip")
    path.parent.mkdir(parents=True, exist_ok=True)
    story.package_bytes, story.manifest_sha = fetch_package(world, court, case_id)
    path.write_bytes(story.package_bytes)
    story.package_path = path
    world.printer.step("package", court.label, f"downloads the judicial package "
                       f"({path.stat().st_size:,} bytes): {path} (司法确认材料包)")


def fetch_package(world: World, court: Client, case_id: str) -> tuple[bytes, str | None]:
    """The ZIP and the manifest's SHA-256 the court's decision names (``packageHash``).

    The first request may find records not anchored yet (409: the escrow records the
    steps carry are queued then); the next anchoring round covers them.
    """
    for _ in range(4):
        r = court.send("GET", f"/cases/{case_id}/judicial-package")
        if r.status_code != 409:
            break
        world.anchor()
    if r.status_code != 200:
        raise DemoError(f"package export: expected 200, found {r.status_code}: {r.text[:300]}")
    return r.content, r.headers.get("X-Package-Manifest-Sha256")


def verify_package(world: World, story: Story) -> None:
    """The court checks the package against the chain and the TSA root it pins itself (the
    authority's ``ca.pem``, not the package's copy), and prints every check."""
    from evidence.judicial import verify_package as verify
    from evidence.judicial.verify import STATUS_WORDS
    from evidence.receipts import load_receipts

    assert story.package_path is not None and world.tsa_root is not None
    pr = world.printer
    held = [r for cl in (story.cast.buyer, story.cast.seller) if cl.receipts is not None
            and cl.receipts.is_dir() for r in load_receipts(cl.receipts)]
    report = story.report = verify(story.package_path, chain=world.handle.w3,
                                   tsa_trust=world.tsa_root.read_bytes(),
                                   receipts=held or None)
    for check in report.checks:
        mark = "pass 通过" if check.passed else STATUS_WORDS[check.status].upper()
        console_line = f"{check.name:<14} {mark}: {check.reason}"
        pr.console.print(f"      [dim]{escape(console_line)}[/]")
    pr.step("package", story.cast.court.label, "verifies the package against the chain and "
            f"the TSA's certificate: {'ALL CHECKS PASS' if report.ok else 'FAILED'} "
            f"(核验{'通过' if report.ok else '未通过'}); digest {report.package_digest}")
    for note in report.notes:  # e.g. anchored only on the embedded chain: the operator's own
        pr.console.print(f"      [bold yellow]Note: {escape(note.en)}[/]")
        pr.console.print(f"      [bold yellow]注意：{escape(note.zh)}[/]")


def confirm_judicially(world: World, story: Story) -> None:
    """The court signs its confirmation of the award over the package it verified."""
    court, case_id = story.cast.court, story.case_id
    package_hash = story.manifest_sha or sha256_hex(story.package_bytes)
    seq, prev, domain = court.head(case_id)
    decision = CourtConfirmation(
        case_id=bytes32(case_id), sequence=seq, prev_hash=prev, court=court.address,
        package_hash=bytes32(package_hash), award_record_hash=bytes32(story.award_record_hash),
        confirmed=True, reasons_hash=bytes32(ZERO32),
        court_reference=f"(2026) Zhe 0192 Min Te {story.order_id}", signed_at=court.at())
    res = court.post(f"/cases/{case_id}/court-decision",
                     {"record": decision.sign(court.key.key, domain).to_json_obj()})
    world.shown(res["stage"], court, "confirms the award judicially (signed step; "
                "司法确认)", res)


def open_certificate_url(world: World, story: Story) -> None:
    """Anyone holding the certificate opens its URL, ``/verify/{digest}``, without signing in:
    the service's record of the package, now with the court's decision (JSON form). The URL
    printed on the certificate is the configured public one; after the demo, ``chainarb
    serve`` on this data dir answers it."""
    assert story.report is not None and story.report.package_digest is not None
    digest = story.report.package_digest
    r = story.http.get(f"/verify/{digest}", headers={"Accept": "application/json"})
    if r.status_code != 200:
        raise DemoError(f"/verify/{digest}: expected 200, found {r.status_code}: {r.text[:300]}")
    record = r.json()
    decided = ", ".join(f"{'confirmed' if d['confirmed'] else 'refused'} ({d['courtReference']})"
                        for d in record["decisions"]) or "none yet"
    world.printer.step(record["case"]["stage"], "anyone 任何人",
                       f"opens the certificate's URL {world.settings.base_url}/verify/"
                       f"{digest[:16]}… (no sign-in; 扫码查验): stage {record['case']['stage']}, "
                       f"{len(record['anchors'])} anchors, court decision {decided}")
