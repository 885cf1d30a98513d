"""``chainarb demo --scenario``: the registry's shape and the CLI's refusals (the scenarios
themselves run in the slow set, each in its own test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.demo.scenarios import DEFAULT_SCENARIO, SCENARIOS, scenario_named

CHAINARB = str(Path(sys.executable).with_name("chainarb"))


def _demo(*args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINARB_")}
    env["CHAINARB_LANG"] = lang
    return subprocess.run([CHAINARB, "demo", *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_every_scenario_is_registered_under_its_own_name_with_acts_and_two_titles() -> None:
    assert DEFAULT_SCENARIO == "main"
    for name, scenario in SCENARIOS.items():
        assert scenario.name == name
        assert scenario.acts, name
        english, chinese = scenario.title
        assert english.strip() and not _has_han(english), name
        assert _has_han(chinese), name


def test_an_unknown_name_is_a_key_error_naming_the_choices() -> None:
    with pytest.raises(KeyError, match="choose one of: main"):
        scenario_named("no-such-story")


@pytest.mark.parametrize(("lang", "words"), [
    ("en", "There is no demo scenario 'nope'. Choose one of: " + ", ".join(SCENARIOS)),
    ("zh", "没有名为 'nope' 的演示场景。可选：" + ", ".join(SCENARIOS))])
def test_the_cli_refuses_an_unknown_scenario_listing_the_choices(lang: str, words: str) -> None:
    done = _demo("--scenario", "nope", lang=lang)
    assert done.returncode == 2
    assert words in done.stderr
    assert done.stdout == ""  # nothing was started


def test_the_contract_level_loop_takes_no_scenario() -> None:
    done = _demo("--contracts-only", "--scenario", "main")
    assert done.returncode == 2
    assert "--contracts-only" in done.stderr and "--scenario" in done.stderr
