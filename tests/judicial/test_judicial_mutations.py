"""Property: any one changed byte in any file of a package makes verification fail, with or
without re-summing, and the verifier never crashes on it."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evidence.judicial import _format as fmt
from evidence.judicial import verify_package
from tests.judicial.judicial_world import Case


def _json_or_none(data: bytes) -> object:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _names(case: Case) -> list[str]:
    with zipfile.ZipFile(case.package) as zf:
        # certificate.pdf is a rendering: only its printed digest is checked (see docs §6).
        return sorted(n for n in zf.namelist() if n != fmt.CERTIFICATE)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_changed_byte_fails(case: Case, tmp_path: Path, data: st.DataObject) -> None:
    names = _names(case)
    name = data.draw(st.sampled_from(names), label="file")
    with zipfile.ZipFile(case.package) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    content = bytearray(files[name])
    offset = data.draw(st.integers(0, len(content) - 1), label="offset")
    content[offset] ^= data.draw(st.integers(1, 255), label="xor")
    if name in fmt.OUTSIDE_CHECKSUMS and name.endswith(".json"):
        # outside SHA256SUMS, only its meaning is signed: JSON whitespace changes nothing
        assume(_json_or_none(bytes(content)) != _json_or_none(files[name]))
    files[name] = bytes(content)
    resum = data.draw(st.booleans(), label="resum") and name != fmt.CHECKSUMS
    if resum:
        listed = {
            n: hashlib.sha256(b).hexdigest()
            for n, b in files.items()
            if n not in fmt.OUTSIDE_CHECKSUMS
        }
        files[fmt.CHECKSUMS] = fmt.checksums_text(listed)
    out = tmp_path / f"m-{hashlib.sha256(bytes(content)).hexdigest()[:12]}.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for n in sorted(files):
            zf.writestr(n, files[n])
    report = verify_package(out, chain=case.w3)
    assert not report.ok, (name, offset, resum)
    # A crash inside a check would show as a reason naming a Python exception type.
    for check in report.checks:
        assert not check.reason.startswith(
            ("KeyError", "TypeError", "AttributeError", "IndexError", "UnboundLocalError")
        ), check
