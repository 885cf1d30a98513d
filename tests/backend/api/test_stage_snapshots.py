"""The stage snapshots (tests/support/snapshots.py) hand a test the state a replay makes:
the case view, its timeline, the escrow's calls and the blocks are those of a world that
replayed every step, and the copy is the test's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.migrated import migrated
from tests.support.snapshots import StageSnapshots
from tests.support.world import World, award_record_hash, make_world, ok, to_awarded


def _world(tmp_path: Path, name: str, snapshots: StageSnapshots | None) -> World:
    url = f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
    migrated(url)
    w = make_world(url, tmp_path / name)
    w.snapshots = snapshots
    w.client.__enter__()
    return w


def _state(w: World) -> dict[str, Any]:
    view = w.admin.case()
    timeline = ok(w.admin.get(f"/cases/{w.case_id}/timeline"))
    return {"view": view, "timeline": timeline, "calls": w.port.calls,
            "blocks": sorted(w.blockstore.blocks), "now": w.clock.now}  # type: ignore[attr-defined]


def _without_ids(state: dict[str, Any]) -> dict[str, Any]:
    return {**state, "blocks": len(state["blocks"]),
            "timeline": [{k: v for k, v in item.items() if k != "cid"}
                         for item in state["timeline"]]}


def test_a_restored_stage_is_the_replayed_one(tmp_path: Path) -> None:
    snapshots = StageSnapshots(tmp_path / "stages")
    replayed, built, restored = (_world(tmp_path, n, s) for n, s in (
        ("replayed", None), ("built", snapshots), ("restored", snapshots)))
    again = _world(tmp_path, "again", snapshots)
    try:
        results = [to_awarded(w) for w in (replayed, built, restored)]
        assert results[0] == results[1] == results[2]
        states = [_state(w) for w in (replayed, built, restored)]
        assert states[0]["view"]["stage"] == "awarded"
        assert states[1] == states[2]  # the copy is exact
        # two replays differ only in the stored bundles' ids (each bundle is salted)
        assert _without_ids(states[0]) == _without_ids(states[1])
        # the restored world is a copy: a step in it leaves the snapshot as it was
        ok(restored.seller.post(f"/cases/{restored.case_id}/objection", json=restored.seller
                                .objection(award_record_hash(restored), b"the award is wrong")))
        assert restored.admin.case()["stage"] != "awarded"
        to_awarded(again)
        assert _state(again) == states[1]
    finally:
        for w in (replayed, built, restored, again):
            w.client.__exit__(None, None, None)


def test_a_world_a_test_changed_replays(tmp_path: Path) -> None:
    snapshots = StageSnapshots(tmp_path / "stages")
    first = _world(tmp_path, "first", snapshots)
    to_awarded(first)
    changed = _world(tmp_path, "changed", snapshots)
    ok(changed.admin.post("/admin/courts", json={"address": changed.court.address,
                                                 "name": "Court"}))
    assert changed.touched
    to_awarded(changed)  # replayed on top of the test's court, not restored over it
    assert changed.admin.case()["stage"] == "awarded"
    r = changed.admin.post(f"/cases/{changed.case_id}/courts",
                           json={"court": changed.court.address})
    assert r.status_code == 201, r.text  # the court the test registered is still there
    for w in (first, changed):
        w.client.__exit__(None, None, None)
