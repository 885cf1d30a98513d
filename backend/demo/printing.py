"""How the demo prints: one numbered line per step (stage in English and 简体中文, actor,
text), then its tx hash, CID and anchored root on dim lines below."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape

from evidence.words import STAGES

__all__ = ["STAGE_ZH", "Printer"]

STAGE_ZH = {
    "setup": "准备", "not_filed": "未立案", "filed": "已立案", "negotiation": "协商",
    "facilitation": "调解", "arbitrator_appointment": "指定仲裁员", "evidence": "举证",
    "record_closed": "审理终结", "awarded": "已裁决", "final": "裁决生效",
    "enforced": "已执行", "judicially_confirmed": "司法确认", "settled": "已和解",
    "package": "司法材料包",
}


@dataclass
class Printer:
    """The numbered step lines of the run (``count`` is the last number printed)."""

    console: Console
    count: int = 0

    def rule(self, en: str, zh: str) -> None:
        self.console.rule(f"[bold]{escape(en)} / {zh}")

    def step(self, stage: str, actor: str, text: str, *, tx: str | None = None,
             cid: str | None = None, root: str | None = None, seq: int | None = None) -> None:
        self.count += 1
        # the demo's short words, else the stage's words of the pages (the jury's, the
        # fast track's)
        zh = STAGE_ZH.get(stage) or STAGES.get(stage, ("", ""))[1]
        pos = f"#{seq}" if seq is not None else "  "
        self.console.print(f"[cyan]{self.count:>2}[/] [bold]{stage}[/] {zh} {pos} "
                           f"[magenta]{escape(actor)}[/]: {escape(text)}")
        extras = []
        if tx:
            extras.append(f"tx 交易 {tx}")
        if cid:
            extras.append(f"CID {cid}")
        if root:
            extras.append(f"anchored root 锚定根 {root}")
        for e in extras:
            self.console.print(f"      [dim]{escape(e)}[/]")

