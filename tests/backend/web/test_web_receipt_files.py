"""The page's receipt files are the CLI's: for any receipt, `receipts.js` (run in Node)
names and writes the file exactly as `evidence.receipts.save_receipt` does (canonical JSON
and a newline, named by its SHA-256), keys in any order, non-ASCII text and nested values
included. A real receipt in chromium: tests/backend/web/test_web_receipts.py."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from evidence.log import EntryKind, LogEntry, issue_receipt
from evidence.log.note import NoteSigner
from evidence.receipts import save_receipt
from tests.backend.web.web_world import REPO, WEB_TESTS
from tests.keys import INSTITUTION_KEY

pytestmark = pytest.mark.node


def _files(receipts: Sequence[Mapping[str, object]]) -> list[dict[str, str]]:
    done = subprocess.run(["node", str(WEB_TESTS / "receipt_files.cjs")], cwd=REPO,
                          input=json.dumps(receipts, ensure_ascii=False), capture_output=True,
                          text=True, timeout=60, check=True)
    out: list[dict[str, str]] = json.loads(done.stdout)
    return out


def test_the_page_names_and_writes_a_receipt_as_the_cli_does(tmp_path: Path) -> None:
    entry = LogEntry(kind=EntryKind.STEP, case_id=b"\x11" * 32, record_hash=b"\x22" * 32,
                     signatures_hash=b"\x33" * 32)
    real = issue_receipt(origin="chainarb.example/log", index=41, entry=entry,
                         accepted_at=datetime(2026, 12, 6, 4, 35, 2, tzinfo=UTC),
                         signer=NoteSigner.from_private_key(INSTITUTION_KEY),
                         ).to_json()
    odd = {"z": [1, {"b": "雨", "a": None}], "a": "line\nbreak \"quoted\" \\ é",
           "m": {"y": True, "x": 0}}
    shuffled = dict(reversed(list(real.items())))
    made = _files([real, odd, shuffled])
    for receipt, file in zip([real, odd, shuffled], made, strict=True):
        written = save_receipt(tmp_path, receipt)
        assert file["name"] == written.name
        assert file["text"].encode() == written.read_bytes()
    assert made[0] == made[2]  # key order does not change the file
