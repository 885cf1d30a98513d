"""A service configured with two time-stamping authorities, the first down for the whole
case: every root is stamped by the second at once, the package carries both authorities'
certificates, and a court verifies it pinning the authorities it trusts (one `--tsa-cert`
each). Real `openssl ts` authorities, a real EVM, the real verifier."""

from __future__ import annotations

import zipfile
from pathlib import Path

from backend.chain.devchain import chain_time
from backend.timestamping import TsaPool
from evidence.judicial import _format as fmt
from evidence.judicial.verify import verify_package
from evidence.timestamp import load_certificates, parse_response
from tests.backend.package.package_world import make_chain_world, run_to_settlement
from tests.support.migrated import migrated
from tests.support.tsa import start_tsa


def test_the_second_authority_stamps_while_the_first_is_down(tmp_path: Path) -> None:

    with start_tsa(tmp_path / "a") as a, start_tsa(tmp_path / "b") as b:
        url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
        migrated(url)
        cw = make_chain_world(url, tmp_path, a, more_tsas=[b])
        a.stop()  # down from the start
        with cw.world.client, b.following(lambda: chain_time(cw.w3)):
            case_id = run_to_settlement(cw)
            pool = cw.world.app.state.ctx.anchoring.timestamper
            assert isinstance(pool, TsaPool) and [x.url for x in pool.authorities] == [a.url,
                                                                                       b.url]
            w = cw.world
            r = w.admin.post("/admin/courts", json={"address": w.court.address, "name": "C"})
            assert r.status_code in (200, 201), r.text
            r = w.admin.post(f"/cases/{case_id}/courts", json={"court": w.court.address})
            assert r.status_code in (200, 201), r.text
            cw.anchor_all()
            r = w.court.get(f"/cases/{case_id}/judicial-package")
            assert r.status_code == 409 and r.json()["code"] == "not_anchored_yet", r.text
            cw.anchor_all()  # the Settlement the steps carry, queued on the first ask
            r = w.court.get(f"/cases/{case_id}/judicial-package")
            assert r.status_code == 200, r.text[:300]
            assert pool.authorities[0].failures >= 1  # asked, failed, resting: not dropped
    pkg = tmp_path / "package.zip"
    pkg.write_bytes(r.content)
    with zipfile.ZipFile(pkg) as z:
        tokens = [z.read(n) for n in z.namelist() if n.endswith(".tsr")]
        carried = load_certificates(z.read(fmt.TSA_CERTS))
    b_tsa = load_certificates(b.tsa_pem.read_bytes())[0]
    assert tokens and all(parse_response(t).signer_subject == b_tsa.subject.rfc4514_string()
                          for t in tokens)
    subjects = {c.subject.rfc4514_string() for c in carried}
    assert load_certificates(a.tsa_pem.read_bytes())[0].subject.rfc4514_string() in subjects
    assert b_tsa.subject.rfc4514_string() in subjects

    both = a.ca_pem.read_bytes() + b.ca_pem.read_bytes()
    report = verify_package(pkg, chain=cw.w3, tsa_trust=both)
    assert report.ok, [(c.name, c.reason) for c in report.checks if not c.passed]
    assert report.check("clocks").passed
    assert [n.name for n in report.notes] == ["operator_only"]  # no TSA-trust note: pinned
    only_a = verify_package(pkg, chain=cw.w3, tsa_trust=a.ca_pem.read_bytes())
    assert only_a.failed() == ["timestamps"]
