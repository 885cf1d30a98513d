"""The `chainarb` client keeps the institution's receipts (issue 15): every POST answered
with a `receipt` is saved once in the person's receipts folder; answers without one, and a
client with no folder, save nothing; a folder file that is not a receipt's JSON is named
when read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from backend.demo.clients import Client
from evidence.receipts import ReceiptFileError, load_receipts

RECEIPT = {"format": "chainarb.log-receipt", "version": 1, "origin": "chainarb.test/log",
           "index": 7, "signature": "0x" + "11" * 65}


def _client(folder: Path | None) -> Client:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/steps"):
            return httpx.Response(201, json={"recordHash": "0x" + "22" * 32,
                                             "receipt": RECEIPT})
        return httpx.Response(200, json={"ok": True})

    http = httpx.Client(base_url="http://service", transport=httpx.MockTransport(answer))
    return Client("Buyer", "买方", Account.create(), http, lambda: datetime.now(UTC),
                  receipts=folder)


def test_receipts_of_accepted_steps_are_kept_once(tmp_path: Path) -> None:
    folder = tmp_path / "receipts"
    client = _client(folder)
    client.post("/cases/x/steps", {"record": {}})
    client.post("/cases/x/steps", {"record": {}})  # the same receipt: one file
    client.post("/cases/x/other", {})  # no receipt in the answer
    (held,) = load_receipts(folder)
    assert held.obj == RECEIPT
    assert held.name == next(folder.glob("*.json")).name
    assert not list(folder.glob(".receipt-*"))  # no temporary file left behind


def test_a_client_without_a_folder_keeps_nothing(tmp_path: Path) -> None:
    client = _client(None)
    assert client.keep_receipt({"receipt": RECEIPT}) is None
    client.post("/cases/x/steps", {"record": {}})
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_receipt_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(RECEIPT))
    (tmp_path / "b.json").write_text("[1, 2]")
    with pytest.raises(ReceiptFileError, match=r"b\.json: not a JSON object"):
        load_receipts(tmp_path)
    (tmp_path / "b.json").write_text("not json")
    with pytest.raises(ReceiptFileError, match=r"b\.json: not JSON"):
        load_receipts(tmp_path)


def test_a_folder_of_folders_is_read_whole(tmp_path: Path) -> None:
    """The demo keeps one folder per address under <data dir>/receipts: the default folder
    of `chainarb verify --receipts` and `chainarb monitor` reads them all."""
    for who in ("0xbuyer", "0xseller"):
        _client(tmp_path / who).post("/cases/x/steps", {"record": {}})
    held = load_receipts(tmp_path)
    assert sorted(h.name.split("/")[0] for h in held) == ["0xbuyer", "0xseller"]
