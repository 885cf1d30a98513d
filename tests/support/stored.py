"""Rows as the database stores them, for tests that read a row's other columns."""

from __future__ import annotations

from evidence.records import SignedRecordJson
from evidence.safejson import JsonObject


def stored_record(message: JsonObject) -> SignedRecordJson:
    """A signed record's JSON of the stored shape (its signatures are not checked by the
    tests that use it: they read the step row's other columns)."""
    return {"format": "chainarb.record", "v": 1, "type": "ProceduralStep",
            "domain": {"name": "chainarb", "version": "1", "chainId": "1",
                       "verifyingContract": "0x" + "00" * 20},
            "message": message, "signatures": []}
