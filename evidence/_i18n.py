"""Messages of the `chainarb` command line in English and Simplified Chinese.

Rules of this module:

* Every message a command prints lives in a `Catalog` as an (English, 简体中文) pair with
  the same `{placeholders}`; `tests/evidence/test_cli_lang.py` walks `CATALOGS` and fails
  on a pair that lacks its Chinese half.
* `CHAINARB_LANG` (en|zh) chooses; if unset, `LC_ALL`/`LC_MESSAGES`/`LANG` starting with
  `zh` select Chinese. Read at each call, so a test can switch it.
* Help texts are bilingual (`bi`): they are read before any language is chosen, and a
  court expert reading either language finds every option.
* A message never carries the content of a file the user pointed at (it may be a key):
  name the file and what is wrong with it, never what is in it.
"""

from __future__ import annotations

import os

__all__ = ["CATALOGS", "CHAIN_MESSAGES", "Catalog", "bi", "lang"]


def lang() -> str:
    """'zh' or 'en', from CHAINARB_LANG, else the locale variables."""
    forced = os.environ.get("CHAINARB_LANG", "").strip().lower()
    if forced:
        return "zh" if forced.startswith("zh") else "en"
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def bi(en: str, zh: str) -> str:
    """A help text in both languages."""
    return f"{en} / {zh}"


class Catalog:
    """A named set of messages: `catalog(key, **values)` is the text in the user's language."""

    def __init__(self, name: str, messages: dict[str, tuple[str, str]],
                 *, shared: Catalog | None = None) -> None:
        """``shared``: a catalog whose messages this one also speaks (one text for what
        several commands say alike, such as how the chain was found)."""
        self.name = name
        self.messages = messages
        self.shared = shared
        CATALOGS.append(self)

    def pair(self, key: str) -> tuple[str, str]:
        if key in self.messages or self.shared is None:
            return self.messages[key]
        return self.shared.pair(key)

    def __call__(self, key: str, **kwargs: object) -> str:
        en, zh = self.pair(key)
        return (zh if lang() == "zh" else en).format(**kwargs)


CATALOGS: list[Catalog] = []

CHAIN_MESSAGES = Catalog("chain", {
    "rpc_invalid": (
        "{source}: expected an http(s) JSON-RPC URL such as http://127.0.0.1:8545, found "
        "{value!r}.",
        "{source}：应为 http(s) JSON-RPC 地址，例如 http://127.0.0.1:8545，实际为 {value!r}。",
    ),
    "legacy_env": (
        "Note: CHAINARB_RPC_URL is set but no longer read; the chain setting is "
        "CHAINARB_CHAIN_RPC_URL (one name for the service and every command).",
        "注意：已设置 CHAINARB_RPC_URL，但该变量不再读取；链的设置统一为 "
        "CHAINARB_CHAIN_RPC_URL（服务与所有命令共用）。",
    ),
    "origin_env": ("from $CHAINARB_CHAIN_RPC_URL", "来自 $CHAINARB_CHAIN_RPC_URL"),
    "origin_embedded": ("the embedded chain of this data dir", "本数据目录的内置链"),
    "origin_component": ("the installation's configured chain", "本安装配置的链"),
})
"""What every command says about the chain `evidence.chain.discover_chain` found."""
