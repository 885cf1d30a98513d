"""Committed artifacts are what the sources compile to; every contract error has a name."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import keccak

from backend.chain import decode_revert, errors, load_artifact
from backend.chain.errors import ArtifactMissingError, ChainError, UnknownRevertError

ROOT = Path(__file__).resolve().parents[2]


def _compile_module():
    spec = importlib.util.spec_from_file_location(
        "chainarb_compile", ROOT / "scripts" / "compile.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_artifacts_match_a_fresh_compile() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compile.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr


def test_check_reports_changed_missing_and_extra_files() -> None:
    compile_ = _compile_module()
    committed = compile_.committed()
    assert compile_.stale_paths(committed, dict(committed)) == []
    changed = dict(committed)
    changed["backend/chain/compiled/EvidenceAnchor.json"] += " "
    missing = {k: v for k, v in committed.items() if not k.endswith("/ArbitrationEscrow.json")}
    extra = {**committed, "backend/chain/compiled/Old.json": "{}"}
    assert compile_.stale_paths(committed, changed) == [
        "backend/chain/compiled/EvidenceAnchor.json"
    ]
    assert compile_.stale_paths(committed, missing) == [
        "backend/chain/compiled/ArbitrationEscrow.json"
    ]
    assert compile_.stale_paths(committed, extra) == ["backend/chain/compiled/Old.json"]


@pytest.mark.parametrize("name", ["ArbitrationEscrow", "EvidenceAnchor"])
def test_artifacts_record_the_compiler_settings(name: str) -> None:
    artifact = load_artifact(name)
    metadata = json.loads(artifact.metadata)
    assert metadata["compiler"]["version"].startswith("0.8.30+")
    assert metadata["settings"]["evmVersion"] == "cancun"
    assert metadata["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    assert artifact.deployable and artifact.deployed_bytecode.startswith("0x6080")


@pytest.mark.parametrize("name", ["ArbitrationEscrow", "EvidenceAnchor"])
def test_every_contract_error_has_a_named_python_class(name: str) -> None:
    for item in load_artifact(name).abi:
        if item["type"] != "error" or item["name"] in ("InvalidShortString", "StringTooLong"):
            continue
        cls = errors.revert_class(item["name"])
        assert cls is not UnknownRevertError, item["name"]
        assert cls.__name__ == item["name"]


def test_decode_revert_by_selector() -> None:
    signature = "ArbitrationEscrowTooEarly(uint256,uint256)"
    data = keccak(text=signature)[:4] + encode(["uint256", "uint256"], [7, 1234])
    exc = decode_revert(data)
    assert isinstance(exc, errors.ArbitrationEscrowTooEarly)
    assert exc.values == {"orderId": 7, "notBefore": 1234}
    assert "orderId=7, notBefore=1234" in str(exc) and "retry" in str(exc)
    reason = decode_revert(bytes.fromhex("08c379a0") + encode(["string"], ["nope"]))
    assert isinstance(reason, errors.ReasonRevertError) and reason.values == {"reason": "nope"}
    assert isinstance(decode_revert(b"\xde\xad\xbe\xef"), UnknownRevertError)
    assert isinstance(decode_revert(b""), UnknownRevertError)
    truncated = keccak(text=signature)[:4] + b"\x00" * 10
    assert isinstance(decode_revert(truncated), UnknownRevertError)


def test_error_bases_are_abstract_and_missing_artifacts_say_what_to_do() -> None:
    with pytest.raises(TypeError):
        ChainError("x")
    with pytest.raises(TypeError):
        errors.RevertError("x", {}, b"")
    with pytest.raises(ArtifactMissingError) as info:
        load_artifact("NoSuchContract")
    assert "scripts/compile.py" in str(info.value)


# EIP-170: a contract's runtime code is at most 24,576 bytes, or no chain deploys it.
MAX_RUNTIME_BYTES = 24_576


@pytest.mark.parametrize("name", ["ArbitrationEscrow", "EvidenceAnchor"])
def test_each_deployed_contract_fits_the_eip170_code_size_limit(name: str) -> None:
    runtime = load_artifact(name).deployed_bytecode
    size = len(bytes.fromhex(runtime.removeprefix("0x")))
    assert 0 < size <= MAX_RUNTIME_BYTES, f"{name}: {size} bytes of runtime code"
