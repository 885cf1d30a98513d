"""The committed EvidenceCheck.json is what its source compiles to (_evidence_onchain.py).

The fast set reads the committed artifact; the compile that proves it is byte for byte what
the source, the installed solc and the installed OpenZeppelin make runs in the slow set
(~3.5 s of solcjs CPU). Between two slow runs, reading it still refuses a changed source,
settings or package version (``committed``'s check, tested here on altered copies)."""

from __future__ import annotations

import json

import pytest

from tests.evidence import _evidence_onchain as onchain


def test_the_artifact_names_this_source_these_settings_and_the_installed_packages() -> None:
    artifact = json.loads(onchain.ARTIFACT.read_text())
    assert onchain.stale_reasons(artifact) == []
    assert artifact["sourceSha256"] == onchain.source_sha256()
    assert onchain.committed()["bytecode"] == artifact["bytecode"]
    # the CBOR trailer solc appends names the compiler the artifact names: "solc" 0.8.30
    major, minor, patch = (int(p) for p in artifact["solc"].split("."))
    trailer = "64736f6c6343" + bytes([major, minor, patch]).hex() + "0033"
    assert artifact["bytecode"].endswith(trailer)


@pytest.mark.parametrize(("key", "value"), [
    ("sourceSha256", "00" * 32),
    ("solc", "0.8.29"),
    ("openzeppelin", "5.3.0"),
    ("settings", {**onchain.SETTINGS, "optimizer": {"enabled": False}}),
])
def test_an_artifact_of_another_source_setting_or_package_is_stale(key: str, value: object) -> None:
    artifact = {**json.loads(onchain.ARTIFACT.read_text()), key: value}
    reasons = onchain.stale_reasons(artifact)
    assert len(reasons) == 1 and reasons[0].startswith(f"{key}: the artifact has {value!r}")


@pytest.mark.slow
@pytest.mark.node
def test_the_committed_artifact_is_a_fresh_compile_byte_for_byte() -> None:
    assert onchain.dump(onchain.fresh()) == onchain.ARTIFACT.read_text()
