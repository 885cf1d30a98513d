"""Who operates the chains a package is anchored on, and the notice a verdict carries when
the institution operates every one of them (issue 11 part 2, DESIGN.md "Trust model").

An anchor on a chain the institution runs proves that the records were not changed by
anyone else after anchoring; it proves nothing against the institution, which can rewrite
its own chain. Each anchors.json row says who operates its chain (``operator``); that is
the institution's own declaration, so only ``"independent"`` on a chain other than the
embedded one counts as independent, and a missing or unknown value counts as the
institution's. Whether a chain declared independent really is, a court judges from its
chain id and by confirming block hashes from sources it chooses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from evidence.report import Note

__all__ = [
    "EMBEDDED_CHAIN_ID",
    "INDEPENDENT",
    "INSTITUTION",
    "OPERATORS",
    "chain_label",
    "operator_only_note",
    "row_is_independent",
]

EMBEDDED_CHAIN_ID = 31_415_926
"""The chain id of the service's embedded development chain (backend/settings.py uses this
one): it lives in the institution's data dir, so it is the institution's whatever a row says."""

INSTITUTION = "institution"
INDEPENDENT = "independent"
OPERATORS = (INSTITUTION, INDEPENDENT)

_NOTE_EN = ("Anchored only on chains the institution operates ({chains}): this shows integrity "
            "against third parties, not against the operator. To rule out the operator, the "
            "records must be anchored on a chain it does not control, whose block hashes the "
            "court confirms from sources it chooses.")
_NOTE_ZH = ("仅锚定于本机构自行运营的链（{chains}）：只能证明记录未被第三方篡改，"
            "不能对抗运营方本身。如需排除运营方篡改的可能，记录须锚定于运营方无法控制的链上，"
            "并由法院从其自行选择的来源确认区块哈希。")


def row_is_independent(row: Mapping[str, object]) -> bool:
    """An anchors.json row on a chain declared independent (never the embedded chain)."""
    value = row.get("chainId", EMBEDDED_CHAIN_ID)
    if not isinstance(value, int | str | float):  # int() refuses the rest
        return False
    try:
        chain_id = int(value)
    except ValueError:
        return False
    return row.get("operator") == INDEPENDENT and chain_id != EMBEDDED_CHAIN_ID


def chain_label(row: Mapping[str, object]) -> str:
    """'name (chain id)' of a row, or 'chain <id>' when it names none."""
    chain_id = str(row.get("chainId", "?"))
    name = str(row.get("chainName") or "").strip()
    return f"{name} ({chain_id})" if name else f"chain {chain_id}"


def operator_only_note(rows: Iterable[Mapping[str, object]]) -> Note | None:
    """The notice for a verdict resting on `rows`, when none of them is independent."""
    rows = list(rows)
    if not rows or any(row_is_independent(r) for r in rows):
        return None
    chains = ", ".join(dict.fromkeys(chain_label(r) for r in rows))
    return Note(name="operator_only", en=_NOTE_EN.format(chains=chains),
                zh=_NOTE_ZH.format(chains=chains))
