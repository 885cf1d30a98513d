"""The redaction rule a juror's texts pass (backend/jury/_redact.py)."""

from __future__ import annotations

import pytest

from backend.jury import Identity, redact

BUYER = Identity(label="claimant", address="0x" + "ab" * 20,
                 names=("Lena Fischer", "莉娜·菲舍尔"), contacts=("lena@example.de",))
SELLER = Identity(label="respondent", address="0x" + "Cd" * 20, names=("Wang Jianguo",),
                  contacts=("+86 138 0013 8000",))


@pytest.mark.parametrize(("text", "gone", "kept"), [
    ("Lena Fischer paid.", "Lena Fischer", "[claimant] paid."),
    ("莉娜·菲舍尔已付款", "莉娜·菲舍尔", "[claimant]已付款"),
    ("Ms FISCHER wrote", "FISCHER", "Ms [claimant] wrote"),
    ("from 0x" + "AB" * 20, "AB" * 20, "from [claimant]"),
    ("wallet " + "cd" * 20 + " sent", "cd" * 20, "wallet [respondent] sent"),
    ("call +86 138 0013 8000 now", "138", "call [respondent] now"),
    ("mail lena@example.de", "lena@", "mail [claimant]"),
    ("mail jianguo.wang@shop.example.cn.", "shop.example", "mail [contact]."),
    ("see https://shop.example.cn/o/7 ok", "shop.example", "see [contact] ok"),
    ("a third 0x" + "12" * 20, "12" * 20, "a third [address]"),
    ("or +49 30 1234 5678", "1234", "or [contact]"),
])
def test_identities_and_contacts_are_masked(text: str, gone: str, kept: str) -> None:
    out = redact(text, [BUYER, SELLER])
    assert gone.lower() not in out.lower() and out == kept, out


def test_the_dispute_itself_is_kept() -> None:
    text = "40 LED panels arrived cracked on 2026-03-02; refund 400 USDC."
    assert redact(text, [BUYER, SELLER]) == text


def test_amounts_and_times_are_not_telephone_numbers() -> None:
    text = "pay 400000000 units by 2026-03-02 10:00; tracking 1Z999AA10123456784"
    assert redact(text, [BUYER, SELLER]) == text
