"""`chainarb monitor` (evidence.monitor): a party's view of the institution's log, round
after round, against a service that behaves, rewrites its log, or shows two parties two
logs (a split view)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from eth_account import Account
from typer.testing import CliRunner

from evidence.cli import app
from evidence.errors import FormatError
from evidence.log import (
    Checkpoint,
    EntryKind,
    LogEntry,
    MerkleLog,
    NoteSigner,
    issue_receipt,
    sign_checkpoint,
)
from evidence.monitor import (
    AnchoredCheckpoint,
    Level,
    MonitorAll,
    MonitorState,
    load_all,
    load_state,
    run_all,
    run_once,
    save_all,
    save_state,
)
from evidence.receipts import HeldReceipt

ORIGIN = "chainarb.test/log"
CASE = "0x" + "ab" * 32
OTHER = "0x" + "cd" * 32
NOW = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
THIRD = "0x" + "ef" * 32
TOKEN = "session-token"
INSTITUTION = Account.create()
SIGNER = NoteSigner.from_private_key(INSTITUTION.key)
KEYS = [INSTITUTION.address]


def entry(case: str, n: int) -> bytes:
    k = n.to_bytes(32, "big")
    return LogEntry(EntryKind.STEP, bytes.fromhex(case[2:]), hashlib.sha256(k).digest(),
                    hashlib.sha256(b"s" + k).digest()).encode()


def entries(spec: str) -> list[bytes]:
    """'ooxo': other, other, this case, other (each entry distinct by its position)."""
    return [entry(CASE if c == "x" else OTHER, n) for n, c in enumerate(spec)]


class FakeService:
    """The service's log API over an in-memory tree; `anchored_sizes` are the checkpoints
    it lists as anchored (a real chain is `anchor_check`)."""

    def __init__(self, log: list[bytes], *, anchored_sizes: tuple[int, ...] = (),
                 signer: NoteSigner = SIGNER, view: dict[str, Any] | None = None) -> None:
        self.log = list(log)
        self.tree = MerkleLog.of(self.log)
        self.signer = signer
        self.anchored_sizes = anchored_sizes
        self.view = view
        self.listed: list[str] = []  # GET /cases for the signed-in key

    def note(self, size: int | None = None) -> bytes:
        size = self.tree.size if size is None else size
        return sign_checkpoint(Checkpoint(ORIGIN, size, self.tree.root(size)),
                               self.signer).encode()

    def checkpoint(self) -> bytes:
        return self.note()

    def anchored(self) -> list[AnchoredCheckpoint]:
        return [AnchoredCheckpoint(self.note(s)) for s in self.anchored_sizes]

    def consistency(self, old: int, new: int) -> list[bytes]:
        return self.tree.consistency_proof(old, new)

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return self.tree.inclusion_proof(index, size)

    def entries(self, start: int, end: int) -> list[bytes]:
        return self.log[start:end]

    def case_view(self, case_id: str) -> dict[str, Any] | None:
        return self.view


def fresh() -> MonitorState:
    return MonitorState(service="http://service", case_id=CASE)


def keys(findings: list[Any]) -> list[str]:
    return [f.key for f in findings]


def alarms(findings: list[Any]) -> list[str]:
    return [f.key for f in findings if f.level is Level.ALARM]


def receipt(index: int, raw: bytes, signer: NoteSigner = SIGNER) -> HeldReceipt:
    r = issue_receipt(origin=ORIGIN, index=index, entry=LogEntry.decode(raw), accepted_at=NOW,
                      signer=signer)
    return HeldReceipt(f"r{index}.json", r.to_json())


# --- an honest service ------------------------------------------------------------------------


def test_an_honest_log_round_after_round() -> None:
    log = entries("ooxoxoo")
    state, found = run_once(fresh(), FakeService(log[:4], anchored_sizes=(3,)), now=NOW,
                            institution=KEYS, receipts=[receipt(2, log[2])])
    assert alarms(found) == [] and "first_run" in keys(found)
    assert state.size == 4 and state.anchored_size == 3 and state.receipts == ("r2.json",)
    state, found = run_once(state, FakeService(log, anchored_sizes=(3, 6)), now=NOW,
                            receipts=[receipt(2, log[2]), receipt(4, log[4])])
    assert alarms(found) == []
    assert "grew" in keys(found) and state.size == 7 and state.anchored_size == 6
    news = [f for f in found if f.key == "new_record"]
    assert [f.values["index"] for f in news] == [4]  # only this case's new entry
    assert state.records == ((4, "0x" + LogEntry.decode(log[4]).record_hash.hex()),)
    assert set(state.receipts) == {"r2.json", "r4.json"}
    # the institution's key is kept in the state: later runs need no --institution
    assert state.institution == tuple(KEYS)


def test_a_receipt_beyond_the_log_is_pending_not_an_alarm() -> None:
    log = entries("oxx")
    _, found = run_once(fresh(), FakeService(log[:2]), now=NOW, institution=KEYS,
                        receipts=[receipt(2, log[2])])
    assert alarms(found) == [] and "receipt_pending" in keys(found)
    # a day later, still in no checkpoint: a warning (the service anchors every round)
    _, found = run_once(fresh(), FakeService(log[:2]), now=NOW + timedelta(hours=30),
                        institution=KEYS, receipts=[receipt(2, log[2])])
    (late,) = [f for f in found if f.key == "receipt_overdue"]
    assert late.level is Level.WARN and late.values["hours"] == 30


def test_deadlines_near_and_passed_warn() -> None:
    svc = FakeService(entries("x"), view={"stage": "evidence",
                                          "deadline": (NOW + timedelta(hours=5)).isoformat()})
    _, found = run_once(fresh(), svc, now=NOW, institution=KEYS)
    (d,) = [f for f in found if f.key.startswith("deadline")]
    assert d.key == "deadline_near" and d.level is Level.WARN and d.values["hours"] == 5
    svc.view = {"stage": "evidence", "deadline": (NOW - timedelta(hours=1)).isoformat()}
    _, found = run_once(fresh(), svc, now=NOW, institution=KEYS)
    assert "deadline_passed" in keys(found) and alarms(found) == []
    svc.view = None
    _, found = run_once(fresh(), svc, now=NOW, institution=KEYS)
    assert "no_case_view" in keys(found)


# --- a service that misbehaves ----------------------------------------------------------------


def test_a_rewritten_log_is_an_alarm_and_the_good_state_is_kept() -> None:
    log = entries("oxoo")
    state, _ = run_once(fresh(), FakeService(log), now=NOW, institution=KEYS)
    rewritten = [*log[:1], entry(OTHER, 99), *log[2:], entry(OTHER, 100)]
    kept, found = run_once(state, FakeService(rewritten), now=NOW)
    assert alarms(found) == ["inconsistent"]
    assert (kept.size, kept.root) == (state.size, state.root)  # the next run alarms again
    _, again = run_once(kept, FakeService(rewritten), now=NOW)
    assert alarms(again) == ["inconsistent"]


def test_a_shrunk_log_and_a_same_size_other_root_are_alarms() -> None:
    log = entries("oxoo")
    state, _ = run_once(fresh(), FakeService(log), now=NOW, institution=KEYS)
    _, found = run_once(state, FakeService(log[:3]), now=NOW)
    assert alarms(found) == ["inconsistent"] and "shrank" in str(found[0].values["why"])
    _, found = run_once(state, FakeService([*log[:3], entry(OTHER, 7)]), now=NOW)
    assert alarms(found) == ["inconsistent"] and "another root" in str(found[0].values["why"])


def test_a_forged_checkpoint_is_refused() -> None:
    stranger = NoteSigner.from_private_key(Account.create().key)
    _, found = run_once(fresh(), FakeService(entries("ox"), signer=stranger), now=NOW,
                        institution=KEYS)
    assert alarms(found) == ["checkpoint_forged"]
    _, found = run_once(fresh(), FakeService(entries("ox")), now=NOW)  # no key at all
    assert alarms(found) == ["no_institution"]


def test_split_view_caught_by_the_monitor() -> None:
    """The service shows the claimant log A and the respondent log B, each consistent on
    its own. B's monitor catches it three ways: against the checkpoint it anchored (A's),
    against the claimant's receipts it holds, and once the service switches it to A."""
    log_a = entries("oxoxo")
    log_b = [*log_a[:3], entry(CASE, 50), entry(OTHER, 51)]  # another record at index 3
    anchored_a = FakeService(log_a).note(5)  # what the chain holds

    class ViewB(FakeService):
        def anchored(self) -> list[AnchoredCheckpoint]:
            return [AnchoredCheckpoint(anchored_a)]

    # 1. the anchored checkpoint (A's) is not consistent with view B
    _, found = run_once(fresh(), ViewB(log_b), now=NOW, institution=KEYS)
    assert "anchored_inconsistent" in alarms(found)

    # 2. view B lists its own checkpoint as anchored; the chain says otherwise
    chain = {anchored_a}

    def on_chain(a: AnchoredCheckpoint, _keys: Any) -> str | None:
        return None if a.note in chain else "no RootAnchored of its batch"

    _, found = run_once(fresh(), FakeService(log_b, anchored_sizes=(5,)), now=NOW,
                        institution=KEYS, anchor_check=on_chain)
    assert alarms(found) == ["not_anchored"]

    # 3. the respondent holds the claimant's receipt for index 3 (log A): B lacks it
    _, found = run_once(fresh(), FakeService(log_b), now=NOW, institution=KEYS,
                        receipts=[receipt(3, log_a[3])])
    assert alarms(found) == ["receipt_missing"]
    assert found[0].values["index"] == 3

    # 4. the respondent's state from view B, then the service shows it view A
    state_b, found = run_once(fresh(), FakeService(log_b), now=NOW, institution=KEYS)
    assert alarms(found) == []
    _, found = run_once(state_b, FakeService([*log_a, entry(OTHER, 9)]), now=NOW)
    assert alarms(found) == ["inconsistent"]


def test_a_receipt_signed_by_another_key_is_an_alarm() -> None:
    log = entries("ox")
    stranger = NoteSigner.from_private_key(Account.create().key)
    _, found = run_once(fresh(), FakeService(log), now=NOW, institution=KEYS,
                        receipts=[receipt(1, log[1], stranger)])
    assert alarms(found) == ["receipt_refused"]


# --- the state file ----------------------------------------------------------------------------


def test_state_round_trips_and_is_bound_to_its_case(tmp_path: Path) -> None:
    state, _ = run_once(fresh(), FakeService(entries("oxo"), anchored_sizes=(2,)), now=NOW,
                        institution=KEYS)
    path = tmp_path / "s.json"
    save_state(path, state)
    assert load_state(path, service="http://service/", case_id=CASE.upper().replace("0X", "0x")
                      ) == state
    with pytest.raises(FormatError, match="kept for case"):
        load_state(path, service="http://service", case_id=OTHER)
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(FormatError, match="not a monitor state"):
        load_state(path, service="http://service", case_id=CASE)
    assert load_state(tmp_path / "none.json", service="s", case_id=CASE) == \
        replace(MonitorState(service="s", case_id=CASE))


# --- the command, over HTTP --------------------------------------------------------------------


@contextmanager
def serving(svc: FakeService) -> Iterator[str]:
    """The fake service behind GET /log/... on a loopback port."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            q = {k: int(v[0]) for k, v in parse_qs(url.query).items()}
            hx = lambda bs: ["0x" + b.hex() for b in bs]  # noqa: E731
            if url.path == "/log/checkpoint":
                body: Any = {"checkpoint": svc.checkpoint().decode()}
            elif url.path == "/log/checkpoints":
                body = {"checkpoints": [{"checkpoint": a.note.decode(), "anchors": [],
                                         "size": s, "batch": {}}
                                        for s, a in zip(svc.anchored_sizes, svc.anchored(),
                                                        strict=True)
                                        if s > q.get("after", -1)][:q.get("limit", 100)]}
            elif url.path.startswith("/cases"):  # the signed-in key's cases, and one case
                case = url.path.removeprefix("/cases").strip("/")
                if self.headers.get("Authorization") != f"Bearer {TOKEN}" or \
                        (case and case not in svc.listed):
                    self.send_response(401 if not case else 403)
                    self.end_headers()
                    return
                body = {"caseId": case, "stage": "negotiation", "deadline": None} if case \
                    else [{"caseId": c, "orderId": "1", "stage": "negotiation",
                           "nextDeadline": None} for c in svc.listed]
                if svc.listed == ["garbled"]:
                    body = {"cases": "not a list"}
            elif url.path == "/log/proof/consistency":
                body = {"proof": hx(svc.consistency(q["from"], q["to"]))}
            elif url.path == "/log/proof/inclusion":  # the service's shape (docs/api.md)
                raw = svc.log[q["index"]]
                body = {"index": q["index"], "size": q["size"],
                        "entry": LogEntry.decode(raw).to_json(),
                        "inclusion": {"checkpoint": svc.note(q["size"]).decode(),
                                      "proof": hx(svc.inclusion(q["index"], q["size"]))}}
            else:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_cli_monitor_exit_codes_and_both_languages(tmp_path: Path) -> None:
    log = entries("oxox")
    svc = FakeService(log[:2], anchored_sizes=(2,))
    state = tmp_path / "state.json"
    runner = CliRunner()
    base = ["monitor", "--case", CASE, "--state", str(state), "--receipts",
            str(tmp_path / "receipts")]
    env = {"CHAINARB_LANG": "en", "COLUMNS": "200"}
    with serving(svc) as url:
        keyless = runner.invoke(app, [*base, "--service", url],
                                env={**env, "CHAINARB_LANG": "zh"})
        assert keyless.exit_code == 2 and "--institution" in keyless.stderr  # not an alarm
        assert "无法核对" in keyless.stderr and not state.exists()
        ok = runner.invoke(app, [*base, "--service", url, "--institution", INSTITUTION.address],
                           env=env)
        assert ok.exit_code == 0, ok.output
        assert "First run" in ok.stdout and "no inconsistency" in ok.stdout
        svc.__init__(log, anchored_sizes=(2, 4))  # type: ignore[misc]
        grew = runner.invoke(app, [*base, "--service", url, "--json"], env=env)
        assert grew.exit_code == 0, grew.output
        out = json.loads(grew.stdout)
        assert out["ok"] is True
        assert any(f["key"] == "new_record" and f["values"]["index"] == 3
                   for f in out["findings"])
        svc.__init__([*log[:1], entry(OTHER, 77), *log[2:]])  # type: ignore[misc]
        bad = runner.invoke(app, [*base, "--service", url], env={**env, "CHAINARB_LANG": "zh"})
        assert bad.exit_code == 1
        assert "不一致" in bad.stderr and "分裂视图" in bad.stderr
    down = runner.invoke(app, [*base, "--service", url], env=env)
    assert down.exit_code == 3 and "could not run" in down.stderr
    usage = runner.invoke(app, ["monitor", "--case", "42", "--service", url], env=env)
    assert usage.exit_code == 2 and "expected the case id" in usage.stderr


def test_entries_the_service_does_not_list_are_reported_unread() -> None:
    log = entries("oxoxox")
    state, _ = run_once(fresh(), FakeService(log[:2]), now=NOW, institution=KEYS)

    class Short(FakeService):
        def entries(self, start: int, end: int) -> list[bytes]:
            return self.log[start:start + 1]

    _, found = run_once(state, Short(log), now=NOW)
    (unread,) = [f for f in found if f.key == "entries_unread"]
    assert unread.level is Level.WARN and unread.values == {"n": 3, "start": 3, "end": 6}


# --- every case a key may see (--all) ----------------------------------------------------------


def test_run_all_checks_each_listed_case_in_one_state(tmp_path: Path) -> None:
    log = entries("xoxo")  # CASE at 0 and 2, OTHER at 1 and 3
    start = MonitorAll(service="http://service")
    state, results = run_all(start, FakeService(log[:2], anchored_sizes=(2,)), [CASE, OTHER],
                             now=NOW, institution=KEYS, receipts=[receipt(0, log[0])])
    assert [c for c, _ in results] == sorted([CASE, OTHER])
    assert all(alarms(found) == [] for _, found in results)
    by_case = {c.case_id: c for c in state.cases}
    assert by_case[CASE].receipts == ("r0.json",) and by_case[OTHER].receipts == ()
    assert by_case[CASE].size == by_case[OTHER].size == 2
    path = tmp_path / "all.json"
    save_all(path, state)
    assert load_all(path, service="http://service") == state  # one file, round trip

    # the log grows: each case sees its own new record; a third case appears (it learns the
    # institution's key from the others); OTHER is no longer listed: kept and reported
    state, results = run_all(load_all(path, service="http://service"),
                             FakeService(log, anchored_sizes=(2, 4)), [CASE, THIRD], now=NOW,
                             receipts=[receipt(0, log[0]), receipt(2, log[2])])
    found = dict(results)
    assert [f.values["index"] for f in found[CASE] if f.key == "new_record"] == [2]
    assert alarms(found[THIRD]) == [] and "first_run" in keys(found[THIRD])
    assert keys(found[OTHER]) == ["case_unlisted"]
    assert {c.case_id for c in state.cases} == {CASE, OTHER, THIRD}
    assert {c.case_id: c.receipts for c in state.cases}[CASE] == ("r0.json", "r2.json")

    # the service rewrites its log: every case it lists alarms; the good states are kept
    forged = FakeService([*log[:1], entry(OTHER, 99), *log[2:]])
    bad, results = run_all(state, forged, [CASE, THIRD], now=NOW)
    assert {c for c, f in results if "inconsistent" in alarms(f)} == {CASE, THIRD}
    assert [(c.size, c.root) for c in bad.cases] == [(c.size, c.root) for c in state.cases]

    # a state file for another service is refused
    with pytest.raises(FormatError, match="not this service"):
        load_all(path, service="http://elsewhere")
    path.write_text(json.dumps({"format": "chainarb.monitor-all", "version": 1,
                                "service": "s", "cases": [fresh().to_json_obj()] * 2}))
    with pytest.raises(FormatError):
        load_all(path, service="s")


def test_cli_monitor_all_lists_the_keys_cases(tmp_path: Path) -> None:
    log = entries("xoxo")
    svc = FakeService(log, anchored_sizes=(4,))
    svc.listed = [CASE, OTHER]
    state = tmp_path / "all.json"
    runner = CliRunner()
    env = {"CHAINARB_LANG": "en", "COLUMNS": "200"}
    with serving(svc) as url:
        base = ["monitor", "--all", "--service", url, "--state", str(state), "--receipts",
                str(tmp_path / "receipts")]
        keyless = runner.invoke(app, [*base, "--token", TOKEN], env=env)
        assert keyless.exit_code == 2 and "--institution" in keyless.stderr  # not an alarm
        assert not state.exists()
        first = runner.invoke(app, [*base, "--token", TOKEN, "--institution",
                                    INSTITUTION.address, "--json"], env=env)
        assert first.exit_code == 0, first.output
        out = json.loads(first.stdout)
        assert out["ok"] is True and [c["case"] for c in out["cases"]] == sorted([CASE, OTHER])
        saved = json.loads(state.read_text())
        assert saved["format"] == "chainarb.monitor-all"
        assert sorted(c["case"] for c in saved["cases"]) == sorted([CASE, OTHER])
        svc.__init__([*log[:1], entry(OTHER, 77), *log[2:]])  # type: ignore[misc]
        svc.listed = [CASE]
        bad = runner.invoke(app, [*base, "--token", TOKEN], env={**env, "CHAINARB_LANG": "zh"})
        assert bad.exit_code == 1, bad.output
        assert "不一致" in bad.stderr and "监控：您的密钥可见 2 个案件" in bad.stdout
        assert "服务不再为您的密钥列出此案件" in bad.stdout
        wrong = runner.invoke(app, [*base, "--token", "not-the-token"], env=env)
        assert wrong.exit_code == 3 and "could not run" in wrong.stderr
        svc.listed = ["garbled"]  # an answer of another shape: could not run, no traceback
        garbled = runner.invoke(app, [*base, "--token", TOKEN], env=env)
        assert garbled.exit_code == 3 and "expected a list" in garbled.stderr
    no_token = runner.invoke(app, ["monitor", "--all", "--service", url], env=env)
    assert no_token.exit_code == 2 and "--all with --token" in no_token.stderr
    both = runner.invoke(app, ["monitor", "--all", "--case", CASE, "--token", TOKEN,
                               "--service", url], env=env)
    assert both.exit_code == 2 and "Give --case ID" in both.stderr
