"""Input bounds (issue 9, defects 1 and 6): nothing from outside crashes the process or
reaches a 500.

* Deep JSON: one bounded reader (evidence/safejson.py) refuses over-deep and over-large
  JSON in linear time before any recursive parser runs; the HTTP layer pre-scans every body
  FastAPI would parse as JSON (422 ``body_too_deep``); `chainarb serve` and
  `chainarb verify` survive the 200,000-deep document that killed them.
* No module leaves the process with py_ecc's recursion limit of 100,000.
* Numbers, times and ids: every hostile value class in every field is 422 with the exact
  code and the field named; an unexpected exception is a JSON 500 with a request id that
  the log line with the traceback carries too.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.services.fields import MAX_UNIX_TIME
from evidence import safejson
from evidence.errors import FormatError
from evidence.judicial import _format as package_format
from evidence.records import SignedRecord
from tests.security._bounds_helpers import DEPTH, chainarb_serve, nested_body
from tests.support.cli_fork import CliForks
from tests.support.migrated import migrated
from tests.support.snapshots import StageSnapshots
from tests.support.world import (
    World,
    file_claim,
    filing_payload,
    make_world,
    to_facilitation,
    to_filed,
)

# --- the bounded reader ------------------------------------------------------------------


def test_reader_refuses_deep_json_before_parsing_in_bounded_time() -> None:
    body = nested_body()
    t0 = time.perf_counter()
    with pytest.raises(safejson.JsonTooDeep, match=f"nested {DEPTH + 1} levels deep, more "
                                                   "than the 64 accepted") as err:
        safejson.loads(body, what="body", max_bytes=1 << 20)
    assert time.perf_counter() - t0 < 2
    assert err.value.code == "json_too_deep"


def test_reader_depth_limit_is_exact_and_ignores_brackets_in_strings() -> None:
    ok = "[" * 64 + "]" * 64
    assert safejson.loads(ok, what="x", max_bytes=1000) is not None
    with pytest.raises(safejson.JsonTooDeep):
        safejson.loads("[" + ok + "]", what="x", max_bytes=1000)
    text = json.dumps({"a": "[" * 500 + '\\"{' * 100, "b": ["]]]"]})
    assert safejson.json_depth(text) == 2
    parsed = safejson.loads(text, what="x", max_bytes=10_000)
    assert isinstance(parsed, dict) and parsed["b"] == ["]]]"]


def test_reader_refuses_oversize_and_malformed() -> None:
    with pytest.raises(safejson.JsonTooLarge, match="1001 bytes, more than the 1000"):
        safejson.loads(b" " * 1001, what="x", max_bytes=1000)
    for bad in (b"{nope", b'"unterminated', b'["\\', b"\xff\xfe", b"]]]", b"[}"):
        with pytest.raises(FormatError):
            safejson.loads(bad, what="x", max_bytes=1000)
    # JSON, but an integer longer than Python converts: a refusal, not a ValueError
    with pytest.raises(FormatError, match="x: a number too long to read"):
        safejson.loads(b'{"n": ' + b"9" * 5000 + b"}", what="x", max_bytes=10_000)


def test_reader_prescan_is_linear_on_hostile_strings() -> None:
    """An unterminated string full of escaped quotes made a naive regex quadratic. CPU time,
    not wall time: a loaded machine (CI's cores shared) must not fail a linear scan."""
    for text in ('"' + '\\"' * 2_000_000, '"a",' * 1_000_000, "[" + "[]," * 1_000_000 + "]"):
        t0 = time.process_time()
        safejson.json_depth(text)
        assert time.process_time() - t0 < 3


@pytest.mark.parametrize("reader", ["record", "package member", "proof", "keywraps", "merkle"])
def test_every_outside_json_reader_refuses_deep_input(reader: str) -> None:
    from evidence.encryption import KeyWraps
    from evidence.merkle import StandardMerkleTree
    from evidence.verify import ProofFile

    deep = b"[" * 5000 + b"]" * 5000
    with pytest.raises(FormatError, match="nested 5000 levels deep"):
        if reader == "record":
            SignedRecord.from_json(deep)
        elif reader == "package member":
            package_format.load_json(deep, "manifest.json")
        elif reader == "proof":
            ProofFile.from_json(deep)
        elif reader == "keywraps":
            KeyWraps.from_json(deep)
        else:
            StandardMerkleTree.load(deep)


# --- the recursion limit -------------------------------------------------------------------

_WALK = """
import importlib, pkgutil, sys
start = sys.getrecursionlimit()
for pkg in ("evidence", "backend"):
    mod = importlib.import_module(pkg)
    for info in pkgutil.walk_packages(mod.__path__, pkg + "."):
        importlib.import_module(info.name)
        if sys.getrecursionlimit() != start:
            sys.exit(f"{info.name} left the recursion limit at {sys.getrecursionlimit()}")
import eth_account, py_ecc  # the offender, imported again: still the default
from backend.chain.devchain import in_process_web3
in_process_web3()  # py-evm raises it to 12,288 when the in-process chain starts
print(start, sys.getrecursionlimit())
"""


def test_no_module_leaves_an_unsafe_recursion_limit() -> None:
    out = subprocess.run([sys.executable, "-c", _WALK], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr + out.stdout
    assert out.stdout.split() == ["1000", "1000"]


def test_importing_an_offender_first_is_undone_too() -> None:
    code = "import sys, eth_account, evidence; print(sys.getrecursionlimit())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1000"


# --- the real processes -------------------------------------------------------------------

DEEP_ROUTES = [
    ("POST", "/cases/x/facilitation"),
    ("POST", "/cases/x/steps"),
    ("POST", "/cases/x/steps/prepare"),
    ("POST", "/cases"),
    ("POST", "/auth/sign-in"),
    ("PUT", "/auth/me"),
    ("POST", "/admin/courts"),
    ("POST", "/ui/session"),
    ("POST", "/ui/api/cases/x/steps"),
    ("POST", "/no/such/route"),
]
DEEP_TYPES = ["application/json", None, "application/vnd.chainarb+json; charset=utf-8"]


@pytest.mark.anvil
def test_serve_survives_deep_bodies_on_every_route(anvil_node: Any, anvil_w3: Any,
                                                   tmp_path: Path) -> None:
    from backend.chain import Transactor, deploy_anchor, deploy_escrow
    from backend.chain.devchain import ETHER, dev_accounts, fund

    deployer, institution, admin = dev_accounts(3, seed="bounds")
    fund(anvil_w3, [deployer.address, institution.address], 10 * ETHER)
    tx = Transactor(anvil_w3)
    escrow = deploy_escrow(tx, deployer, institutions=[institution.address])
    anchor = deploy_anchor(tx, deployer)
    env = {"CHAINARB_CHAIN_RPC_URL": anvil_node.url, "CHAINARB_CHAIN_ID": "31337",
           "CHAINARB_INSTITUTION_KEY": institution.key.hex(),
           "CHAINARB_ESCROW_ADDRESS": escrow.address, "CHAINARB_ANCHOR_ADDRESS": anchor.address,
           "CHAINARB_INSTITUTION_ADMINS": admin.address, "CHAINARB_TICK_SECONDS": "1"}
    body = nested_body()
    with chainarb_serve(env, tmp_path) as served, httpx.Client(base_url=served.base,
                                                               timeout=60) as c:
        for method, path in DEEP_ROUTES:
            for ctype in DEEP_TYPES:
                headers = {"content-type": ctype} if ctype else {}
                t0 = time.monotonic()
                r = c.request(method, path, content=body, headers=headers)
                assert time.monotonic() - t0 < 10
                assert r.status_code == 422, (method, path, ctype, r.text)
                assert r.json()["code"] == "body_too_deep"
                assert "more than the 64 accepted" in r.json()["detail"]
                assert len(r.headers["x-request-id"]) == 32
                assert served.alive()
        # sent chunked (no Content-Length) and to the anonymous facilitation route
        r = c.post("/cases/x/facilitation", content=iter([body[:1000], body[1000:]]),
                   headers={"content-type": "application/json"})
        assert (r.status_code, r.json()["code"]) == (422, "body_too_deep")
        # over the size limit: 413 before any scan
        big = b"[" + b"0," * (8 * 1024 * 1024) + b"0]"
        r = c.post("/cases/x/facilitation", content=big,
                   headers={"content-type": "application/json"})
        assert (r.status_code, r.json()["code"]) == (413, "body_too_large")
        # a shallow body still reaches the route (401: no token)
        r = c.post("/cases/x/facilitation", json={"record": [[[]]]})
        assert (r.status_code, r.json()["code"]) == (401, "auth_required")
        assert served.alive()
        health = c.get("/health")
        assert health.status_code == 200 and health.json()["ok"] is True


@pytest.fixture
def cli(cli_forks: CliForks) -> CliForks:
    """``chainarb``: each run a process of its own (its own stack, its exit code or the
    signal that killed it), forked from one that imported the command once (the process's
    ``cli_forks``: tests/support/cli_fork.py)."""
    return cli_forks


def test_verify_refuses_a_deep_manifest_without_crashing(cli: CliForks, tmp_path: Path) -> None:
    pkg = tmp_path / "deep.zip"
    with zipfile.ZipFile(pkg, "w") as z:
        z.writestr("manifest.json", b"[" * DEPTH + b"]" * DEPTH)
        # a record is at most 64 KiB: 30,000 levels fit
        z.writestr("records/steps.jsonl", b'{"format": ' + b"[" * 30_000 + b"]" * 30_000
                   + b"}\n")
    t0 = time.monotonic()
    out = cli.run(["verify", "--json", str(pkg)], tmp_path, timeout=120,
                  env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert time.monotonic() - t0 < 60
    assert out.returncode == 1, out.stderr  # a failed check, never a signal
    report = json.loads(out.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is False
    assert checks["manifest"]["status"] == "fail"
    assert checks["manifest"]["reason"] == ("manifest.json: JSON nested 200000 levels deep, "
                                            "more than the 64 accepted")
    assert checks["signatures"]["status"] == "fail"
    assert checks["signatures"]["reason"] == ("records/steps.jsonl line 1: record JSON: JSON "
                                              "nested 30001 levels deep, more than the 64 "
                                              "accepted")


# --- defect 6: every field, every hostile value class -----------------------------------------

HOSTILE_AMOUNTS = [
    ("huge", str(2**256)),
    ("huge_digits", "9" * 5000),
    ("negative", "-1"),
    ("float_string", "1.5"),
    ("exponent", "1e6"),
    ("superscript", "²"),
    ("arabic_indic", "١٢٣"),
    ("fullwidth", "１２"),
    ("leading_zero", "012"),
    ("number", 5),
    ("float", 1.5),
    ("object", {"a": 1}),
    ("list", ["1"]),
    ("null", None),
    ("bool", True),
    ("empty", ""),
]
HOSTILE_TIMES = [*HOSTILE_AMOUNTS, ("uint64_max", str(2**64 - 1)), ("ten_to_30", str(10**30)),
                 ("after_2100", "4102444801")]


def _world(tmp_path: Path, stage_snapshots: StageSnapshots) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'bounds.sqlite3'}"
    migrated(url)
    w = make_world(url, tmp_path)
    w.snapshots = stage_snapshots  # the drivers restore stages built once
    with w.client:
        yield w


@pytest.fixture
def world(tmp_path: Path, stage_snapshots: StageSnapshots) -> Iterator[World]:
    yield from _world(tmp_path, stage_snapshots)


@pytest.fixture(scope="module")
def opened(tmp_path_factory: pytest.TempPathFactory, stage_snapshots: StageSnapshots
           ) -> Iterator[World]:
    """A case the buyer opened, shared by the module's tests whose requests are all refused
    before anything is read or written (422 on the request's shape): they change nothing."""
    for w in _world(tmp_path_factory.mktemp("opened"), stage_snapshots):
        w.open_case("buyer")
        yield w


def _refused(r: Any, status: int, code: str, field: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text
    assert field in r.json()["detail"], r.text
    assert r.headers["x-request-id"]


def _offer_fields(w: World) -> dict[str, Any]:
    return {"toBuyer": "400000000", "toSeller": "600000000", "compensation": "0",
            "expiresAt": str(w.buyer.at() + 86400)}


@pytest.mark.parametrize("field", ["toBuyer", "toSeller", "compensation", "expiresAt"])
def test_prepare_offer_refuses_hostile_values(world: World, field: str) -> None:
    w = world
    to_filed(w)
    for _name, value in HOSTILE_TIMES if field == "expiresAt" else HOSTILE_AMOUNTS:
        r = w.buyer.post(f"/cases/{w.case_id}/steps/prepare",
                         json={"action": "offer.made",
                               "payload": {**_offer_fields(w), field: value}})
        _refused(r, 422, "bad_payload", f"payload.{field}")


@pytest.mark.parametrize("field", ["claimedAmount", "orderId"])
def test_filing_refuses_hostile_amounts(world: World, field: str) -> None:
    """Signed by the claimant (the payload hash matches): the value itself is refused."""
    w = world
    w.open_case("buyer")
    for _name, value in HOSTILE_AMOUNTS:
        payload = {**filing_payload(w), field: value}
        r = w.buyer.post(f"/cases/{w.case_id}/filing", json=w.buyer.plain("case.filed",
                                                                            payload))
        _refused(r, 422, "bad_payload", f"payload.{field}")
        r = w.buyer.post(f"/cases/{w.case_id}/steps/prepare",
                         json={"action": "case.filed", "payload": payload})
        _refused(r, 422, "bad_payload", f"payload.{field}")
    file_claim(w)  # the good filing still goes through


@pytest.mark.parametrize("field", ["toBuyer", "toSeller", "compensation", "expiresAt"])
def test_proposal_refuses_hostile_values(world: World, field: str) -> None:
    w = world
    to_facilitation(w)
    good = {"offerId": "mediator-1", "toBuyer": "500000000", "toSeller": "500000000",
            "compensation": "0", "expiresAt": str(w.mediator.at() + 86400)}
    for _name, value in HOSTILE_TIMES if field == "expiresAt" else HOSTILE_AMOUNTS:
        payload = {**good, field: value}
        r = w.mediator.post(f"/cases/{w.case_id}/proposals",
                            json=w.mediator.plain("settlement.proposed", payload))
        _refused(r, 422, "bad_payload", f"payload.{field}")
    r = w.mediator.post(f"/cases/{w.case_id}/proposals",
                        json=w.mediator.plain("settlement.proposed", good))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("field", ["disputeType", "remedy", "statementHash", "claimant",
                                   "respondent"])
@pytest.mark.parametrize("value", [{"a": 1}, ["x"], 5, None, True, "x" * 5000],
                         ids=["object", "list", "number", "null", "bool", "long"])
def test_filing_refuses_mistyped_strings(opened: World, field: str, value: Any) -> None:
    w = opened
    payload = {**filing_payload(w), field: value}
    r = w.buyer.post(f"/cases/{w.case_id}/filing", json=w.buyer.plain("case.filed", payload))
    _refused(r, 422, "bad_payload", f"payload.{field}")


@pytest.mark.parametrize("expires", [2**64 - 1, 4_102_444_801])
def test_signed_offer_with_far_expiry_is_refused(world: World, expires: int) -> None:
    w = world
    to_filed(w)
    body = w.buyer.offer(400_000_000, 600_000_000, expires_in=expires - w.buyer.at())
    r = w.buyer.post(f"/cases/{w.case_id}/offers", json=body)
    _refused(r, 422, "invalid_record", "SettlementOffer.expiresAt")


HOSTILE_IDS = [str(2**63), str(2**64), str(10**30), "-1", "1.5", "²", "1e3", "abc"]


@pytest.mark.parametrize("template,name", [
    ("/cases/{case}/steps/{id}", "sequence"),
    ("/cases/{case}/evidence/{id}", "item_id"),
    ("/cases/{case}/evidence/{id}/typed-data", "item_id"),
    ("/cases/{case}/evidence/{id}/content", "item_id"),
    ("/cases/{case}/evidence/{id}/keywraps", "item_id"),
    ("/cases/{case}/evidence/{id}/provenance", "item_id"),
])
def test_path_ids_are_range_checked(opened: World, template: str, name: str) -> None:
    w = opened
    for value in HOSTILE_IDS:
        r = w.buyer.get(template.format(case=w.case_id, id=value))
        _refused(r, 422, "invalid_field", f"path.{name}")
    r = w.buyer.get(template.format(case=w.case_id, id=2**63 - 1))
    assert r.status_code == 404, r.text  # in range, and absent


def test_admin_path_ids_are_range_checked(world: World) -> None:
    for value in HOSTILE_IDS:
        r = world.admin.post(f"/admin/chain-actions/{value}/retry")
        _refused(r, 422, "invalid_field", "path.action_id")


@pytest.mark.parametrize("message", ["x", 5, [1], True, 1.5])
def test_record_message_must_be_an_object(opened: World, message: Any) -> None:
    w = opened
    for path in ("facilitation", "steps", "offers"):
        r = w.buyer.post(f"/cases/{w.case_id}/{path}",
                         json={"record": {"type": "ProceduralStep", "message": message}})
        _refused(r, 422, "invalid_record", "record.message")


@pytest.mark.parametrize("kind", [["ProceduralStep"], {"a": 1}, 5, True])
def test_record_type_must_be_a_string(opened: World, kind: Any) -> None:
    w = opened
    r = w.buyer.post(f"/cases/{w.case_id}/facilitation", json={"record": {"type": kind}})
    _refused(r, 422, "invalid_record", "record.type")
    r = w.buyer.post(f"/cases/{w.case_id}/facilitation",
                     json={"record": {"type": "ProceduralStep", "message": {"action": kind}}})
    _refused(r, 422, "invalid_record", "record.message.action")


@pytest.mark.parametrize("path,body,field", [
    ("/cases", {"orderId": "²"}, "body.orderId"),
    ("/cases", {"orderId": str(2**256)}, "body.orderId"),
    ("/cases", {"orderId": 7}, "body.orderId"),
    ("/cases", {"orderId": None}, "body.orderId"),
    ("/cases/{case}/steps/prepare", {"action": {"a": 1}}, "body.action"),
    ("/cases/{case}/steps/prepare", {"action": "offer.made", "payload": "x"}, "body.payload"),
    ("/cases/{case}/facilitation", {"record": "x"}, "body.record"),
    ("/cases/{case}/facilitation", {"record": None}, "body.record"),
    ("/cases/{case}/facilitation", {"record": {}, "attachments": {"a": 1}}, "body.attachments"),
    ("/cases/{case}/facilitation", {"record": {}, "reasons": 5}, "body.reasons"),
    ("/cases/{case}/facilitation", [1, 2], "body"),
    ("/admin/courts", {"address": 5, "name": "x"}, "body.address"),
    ("/auth/sign-in", {"message": {"a": 1}, "signature": "0x"}, "body.message"),
])
def test_mistyped_bodies_name_the_field(opened: World, path: str, body: Any,
                                        field: str) -> None:
    w = opened
    who = w.admin if path.startswith("/admin") else w.buyer
    r = who.post(path.format(case=w.case_id), json=body)
    _refused(r, 422, "invalid_field", field)


def test_body_that_is_not_json_is_bad_json(world: World) -> None:
    w = world
    w.open_case("buyer")
    r = w.client.post(f"/cases/{w.case_id}/steps/prepare", content=b'{"action": ',
                      headers={**w.buyer.headers, "content-type": "application/json"})
    _refused(r, 422, "bad_json", "body")


# --- the last resort: a JSON 500 with a request id in the answer and the log ---------------


def test_unexpected_error_is_a_json_500_with_its_request_id_logged(
        world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    w = world
    w.open_case("buyer")
    w.buyer.sign_in()

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(w.app.state.ctx.service, "load", broken)
    with caplog.at_level(logging.ERROR, logger="backend.api.errors"):
        r = w.client.get(f"/cases/{w.case_id}/pre-evaluation?tracking=delivered",
                       headers=w.buyer.headers)
    assert r.status_code == 500
    body = r.json()
    assert body["code"] == "internal_error"
    rid = body["requestId"]
    assert r.headers["x-request-id"] == rid and len(rid) == 32
    assert rid in body["detail"]
    assert "injected failure" not in r.text  # the cause stays in the log
    logged = [rec for rec in caplog.records if rid in rec.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert "injected failure" in str(logged[0].exc_info[1])


def test_every_answer_carries_a_request_id(world: World) -> None:
    w = world
    r = w.client.get("/health")
    assert r.status_code == 200 and len(r.headers["x-request-id"]) == 32
    r = w.client.get("/health", headers={"X-Request-ID": "proxy-req-12345"})
    assert r.headers["x-request-id"] == "proxy-req-12345"  # a proxy's id is kept
    for bad in (b"bad id with spaces", "caf\u00e9-1234".encode("latin-1"), b"a" * 65,
                b"<script>12345"):
        r = w.client.get("/health", headers={"X-Request-ID": bad})
        assert r.headers["x-request-id"].encode() != bad  # replaced by a fresh id
        assert len(r.headers["x-request-id"]) == 32
    r = w.client.get("/cases")
    assert r.status_code == 401 and r.headers["x-request-id"]
    r = w.client.post("/cases", content=nested_body(100),
                      headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (422, "body_too_deep")
    assert r.headers["x-request-id"]


def test_good_values_at_the_bounds_are_accepted(world: World) -> None:
    w = world
    to_filed(w)
    fields = {**_offer_fields(w), "toBuyer": "0", "toSeller": "1000000000",
              "expiresAt": str(MAX_UNIX_TIME)}
    r = w.buyer.post(f"/cases/{w.case_id}/steps/prepare",
                     json={"action": "offer.made", "payload": fields})
    assert r.status_code == 200, r.text
    assert r.json()["typedData"]["message"]["expiresAt"] == fields["expiresAt"]


# --- CLI input files -------------------------------------------------------------------------

ANCHOR = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
LEAVES = json.dumps([["0x" + "11" * 32, "0x" + "22" * 32, "0x" + "33" * 32]])


@pytest.mark.parametrize("case", ["batch_list", "batch_dump", "proof", "opening"])
def test_cli_refuses_deep_input_files(cli: CliForks, tmp_path: Path, case: str) -> None:
    """Each JSON file the evidence CLI reads: usage error (exit 2), the file and the depth
    named, in both languages; never a crash."""
    (tmp_path / "leaves.json").write_text(LEAVES)
    prove = ["evidence", "prove", "--contract", ANCHOR, "--chain-id", "1", "--index", "0"]
    deep = "[" * DEPTH + "]" * DEPTH
    if case == "batch_list":
        (tmp_path / "in.json").write_text(deep)
        args, depth = [*prove, "--batch", "in.json"], DEPTH
    elif case == "batch_dump":
        (tmp_path / "in.json").write_text('{"format": ' + deep + "}")
        args, depth = [*prove, "--batch", "in.json"], DEPTH + 1
    elif case == "proof":
        (tmp_path / "in.json").write_text('{"format": ' + deep[:100_000] + deep[-100_000:]
                                          + "}")
        args, depth = ["evidence", "verify", "--offline", "--proof", "in.json"], 100_001
    else:  # an opening is at most 4 KiB: 2,000 levels fit
        (tmp_path / "in.json").write_text("[" * 2000 + "]" * 2000)
        args, depth = [*prove, "--batch", "leaves.json", "--opening", "in.json"], 2000
    for lang, prefix in (("en", "Invalid input"), ("zh", "输入无效")):
        out = cli.run(args, tmp_path, timeout=120,
                      env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CHAINARB_LANG": lang})
        assert out.returncode == 2, out.stderr
        assert prefix in out.stderr
        assert f"JSON nested {depth} levels deep, more than the 64 accepted" in out.stderr
        assert "Traceback" not in out.stderr


# --- the class stays closed: no new unbounded JSON reader ------------------------------------

# Files that may call json.load(s) directly, and why: each reads only what this project
# itself wrote or ships, never a document from outside.
TRUSTED_JSON_READERS = {
    "evidence/safejson.py": "the bounded reader itself",
    "evidence/chain.py": "the ABI shipped in the wheel; node.json, written by the service in "
                         "its own data dir",
    "backend/chain/artifacts.py": "compiled contract artifacts shipped in the wheel",
    "backend/gateway/deployment.py": "the deployment file the service writes",
    "backend/gateway/embedded.py": "the embedded node's files in the data dir",
    "backend/services/step_store.py": "a stored canonical payload (bounded when it came in)",
    "backend/services/package.py": "a stored canonical payload (bounded when it came in)",
    "backend/procedure/_serialize.py":
        "case_from_json: the case state the service encoded and stored itself",
    "backend/services/identity.py": "a stored canonical payload (bounded when it came in)",
    "backend/services/views.py": "the case's chain actions as JSON the database built from "
                                 "the service's own rows (the case view's one statement)",
    "evidence/judicial/_facts.py": "PackageInputs' payloads: the service's stored canonical "
                                   "payloads, handed to the builder (bounded when they came in)",
    "evidence/judicial/inputs.py": "the same PackageInputs payloads, for the appointees",
}


def test_every_json_read_goes_through_the_bounded_reader() -> None:
    import ast

    root = Path(__file__).resolve().parents[2]
    found: dict[str, int] = {}
    for package in ("evidence", "backend"):
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr in ("loads", "load") \
                        and isinstance(node.func.value, ast.Name) \
                        and node.func.value.id == "json":
                    rel = path.relative_to(root).as_posix()
                    found[rel] = found.get(rel, 0) + 1
    unbounded = sorted(set(found) - set(TRUSTED_JSON_READERS))
    assert unbounded == [], f"use evidence.safejson.loads for outside input in {unbounded}"
    assert "evidence/safejson.py" in found  # the scan sees calls at all


def test_openapi_declares_the_422_body_we_send(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's list form is never sent
    assert schemas["ErrorBody"]["required"] == ["code", "detail"]
    assert set(schemas["ErrorBody"]["properties"]) == {"code", "detail"}
    get_step = spec["paths"]["/cases/{case_id}/steps/{sequence}"]["get"]
    body_422 = get_step["responses"]["422"]["content"]["application/json"]["schema"]
    assert body_422 == {"$ref": "#/components/schemas/ErrorBody"}
    sequence = next(p for p in get_step["parameters"] if p["name"] == "sequence")
    assert sequence["schema"]["minimum"] == 0
    assert sequence["schema"]["maximum"] == 2**63 - 1
