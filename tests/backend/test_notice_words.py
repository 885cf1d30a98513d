"""Notices say the stage and the step in words of the recipient's language and link the
case's page, never the stage's or step's internal value or the API's JSON."""

from __future__ import annotations

import re

import pytest

from backend.notices.outbox import render_notice
from backend.notices.templates import LANGUAGES, TEMPLATES
from evidence.steps import STEPS
from evidence.words import STAGES

CASE = "0x" + "ab" * 32
TOKEN = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b[a-z]{2,}\.[a-z_]{2,}\b")


def test_stage_and_link_in_words() -> None:
    subject, body = render_notice("stage_changed", "zh-Hans", case_id=CASE, stage="facilitation",
                                  base_url="https://odr.example.org/")
    assert "调解" in subject and "facilitation" not in subject + body
    assert f"https://odr.example.org/ui/cases/{CASE}?lang=zh-Hans" in body
    subject, body = render_notice("step_recorded", "en", case_id=CASE, action="case.filed")
    assert "Claim" in subject and "case.filed" not in subject + body
    assert f"/ui/cases/{CASE}?lang=en" in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_notice_carries_an_internal_token(language: str) -> None:
    for kind in TEMPLATES:
        for stage in STAGES:
            for step in STEPS[:: max(1, len(STEPS) // 12)]:
                subject, body = render_notice(kind, language, case_id=CASE, stage=stage,
                                              action=step.action)
                text = subject + " " + body.replace(f"/ui/cases/{CASE}?lang={language}", "")
                assert not TOKEN.search(text), (kind, stage, step.action, text)
