"""The package's parts on their own: event ABIs, ZIP writing and names, provenance, inputs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.events import (
    CONTRACT_OF_SALE_BOUND,
    ESCROW_ACTS,
    RESOLUTIONS,
    RETURN_RECEIPT_DISPUTED,
    RETURN_REQUESTED,
    RETURN_SHIPPED,
    ROOT_ANCHORED,
)
from evidence.judicial import PackageInputError, build_package
from evidence.judicial._zip import DEFAULT_LIMITS, check_name, extract_zip, write_zip
from evidence.judicial.errors import UnsafePath
from evidence.judicial.provenance import check_log, sign_log
from evidence.judicial.verify import allowed_roles
from evidence.records import Domain
from tests.judicial.judicial_world import Case

ROOT = Path(__file__).resolve().parents[2]


def _abi_signature(artifact: str, event: str) -> tuple[str, list[bool]]:
    path = ROOT / "backend" / "chain" / "compiled" / f"{artifact}.json"
    abi = json.loads(path.read_text())["abi"]
    item = next(i for i in abi if i.get("type") == "event" and i["name"] == event)
    types = [i["type"] for i in item["inputs"]]
    return f"{event}({','.join(types)})", [i["indexed"] for i in item["inputs"]]


@pytest.mark.parametrize(
    ("artifact", "spec"),
    [
        *(("ArbitrationEscrow", spec) for spec in ESCROW_ACTS),
        ("ArbitrationEscrow", CONTRACT_OF_SALE_BOUND),
        ("ArbitrationEscrow", RETURN_REQUESTED),
        ("ArbitrationEscrow", RETURN_SHIPPED),
        ("ArbitrationEscrow", RETURN_RECEIPT_DISPUTED),
        ("EvidenceAnchor", ROOT_ANCHORED),
    ],
    ids=lambda v: getattr(v, "name", v),
)
def test_event_specs_match_the_compiled_contracts(artifact: str, spec) -> None:
    signature, indexed = _abi_signature(artifact, spec.name)
    assert spec.signature == signature
    assert spec.topic0 == keccak(text=signature)
    assert [i for _, _, i in spec.params] == indexed


def test_resolution_names_follow_the_enum() -> None:
    source = (ROOT / "contracts" / "interfaces" / "IArbitrationEscrow.sol").read_text()
    body = source.split("enum Resolution {")[1].split("}")[0]
    names = [line.strip().split(",")[0].split(" ")[0] for line in body.splitlines()]
    assert tuple(n for n in names if n and not n.startswith("//")) == RESOLUTIONS


def test_write_zip_is_deterministic_and_streams_files(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 5000)
    files: dict[str, bytes | Path] = {"b/two.txt": b"2", "a.txt": b"1", "c/big.bin": big}
    one = write_zip(tmp_path / "one.zip", files).read_bytes()
    two = write_zip(tmp_path / "two.zip", dict(reversed(files.items()))).read_bytes()
    assert one == two
    out = tmp_path / "out"
    out.mkdir()
    names = extract_zip(tmp_path / "one.zip", out)
    assert names == ["a.txt", "b/two.txt", "c/big.bin"]
    assert (out / "c" / "big.bin").read_bytes() == big.read_bytes()


@pytest.mark.parametrize("name", ["manifest.json", "evidence/a-1/file.pdf", "é/中文.txt"])
def test_safe_names(name: str) -> None:
    check_name(name, DEFAULT_LIMITS)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "../x",
        "a/../../x",
        "/abs",
        "a\\b",
        "C:x",
        "a/./b",
        "a//b",
        "x\x00y",
        "tab\there",
        "a" * 600,
    ],
)
def test_unsafe_names(name: str) -> None:
    with pytest.raises(UnsafePath):
        check_name(name, DEFAULT_LIMITS)


def test_provenance_log_round_trip_and_attacks(case: Case) -> None:
    from evidence.judicial.provenance import SignedProvenanceEntry

    domain = case.domain
    service = case.actors.institution
    commitment = b"\x11" * 32
    steps = [
        ("upload.received", case.actors.buyer.address, "s1", 100, {"filename": "a.pdf"}),
        ("hash.computed", "", "s1", 101, {"sha256": "00" * 32}),
        ("anchored", "", "", 150, {"txHash": "0x" + "22" * 32}),
    ]
    log = sign_log(
        steps, case_id=case.case_id, commitment=commitment, domain=domain, service_key=service.key
    )
    kw: dict[str, Any] = {
        "case_id": case.case_id,
        "commitment": commitment,
        "domain": domain,
        "service": service.address,
    }
    assert check_log(log, **kw) == []
    again = [SignedProvenanceEntry.from_json_obj(e.to_json_obj()) for e in log]
    assert check_log(again, **kw) == []
    assert any("prevEntryHash" in p for p in check_log([log[0], log[2]], **kw))
    assert any("index" in p for p in check_log([log[1], log[0], log[2]], **kw))
    assert any(
        "expected the service" in p
        for p in check_log(log, **{**kw, "service": case.actors.buyer.address})
    )
    assert any("another case" in p for p in check_log(log, **{**kw, "commitment": b"\x12" * 32}))
    other = Domain(chain_id=1, verifying_contract=case.escrow)
    assert any("expected the service" in p for p in check_log(log, **{**kw, "domain": other}))


def test_allowed_roles_table() -> None:
    assert allowed_roles("ProceduralStep", "appoint.arbitrator") == frozenset({"institution"})
    # the service's step table (evidence/steps.py): exactly the roles the procedure admits
    assert allowed_roles("ProceduralStep", "award.issued") == frozenset({"arbitrator"})
    assert allowed_roles("ProceduralStep", "award.panel_signed") == frozenset({"panelist"})
    assert allowed_roles("EvidenceSubmission", None) == frozenset({"claimant", "respondent"})
    assert allowed_roles("CourtConfirmation", None) == frozenset({"court"})
    assert allowed_roles("ProceduralStep", "record.closed") == frozenset({"arbitrator"})
    assert allowed_roles("ProceduralStep", "offer.withdrawn") == frozenset(
        {"claimant", "respondent", "mediator"})
    # a default the institution records is no step of the table: any role may claim it
    assert allowed_roles("ProceduralStep", "deadline_missed.filed") is None


def test_builder_refuses_inconsistent_inputs(case: Case, tmp_path: Path) -> None:
    inputs = case.inputs
    bad_payload = dataclasses.replace(
        inputs,
        steps=[dataclasses.replace(inputs.steps[0], payload=b"other bytes"), *inputs.steps[1:]],
    )
    with pytest.raises(PackageInputError, match="payloadHash"):
        build_package(bad_payload, tmp_path / "a.zip")
    with pytest.raises(PackageInputError, match="not among the anchors"):
        build_package(dataclasses.replace(inputs, anchors=inputs.anchors[:1]), tmp_path / "b.zip")
    with pytest.raises(PackageInputError, match="no RFC 3161 timestamp"):
        build_package(
            dataclasses.replace(inputs, timestamps=inputs.timestamps[:1]), tmp_path / "c.zip"
        )
    wrong_salt = [dataclasses.replace(inputs.evidence[0], salt=b"\x00" * 32), *inputs.evidence[1:]]
    with pytest.raises(PackageInputError, match="commits to"):
        build_package(dataclasses.replace(inputs, evidence=wrong_salt), tmp_path / "d.zip")
    with pytest.raises(PackageInputError, match="role"):
        build_package(
            dataclasses.replace(
                inputs, steps=[dataclasses.replace(inputs.steps[0], role="king"), *inputs.steps[1:]]
            ),
            tmp_path / "e.zip",
        )
    assert not list(tmp_path.glob("*.zip"))


@settings(max_examples=150, deadline=None)
@given(
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)), min_size=1, max_size=4)
)
def test_mutated_archives_are_extracted_or_refused_never_crash(
    flips: list[tuple[int, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    import io
    import zipfile

    from evidence.judicial.errors import UnreadableArchive, UnsafeArchive

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("records/steps.jsonl", b'{"a": 1}\n' * 100)
        zf.writestr("evidence/x/file.txt", b"hello world " * 300)
    data = bytearray(buf.getvalue())
    for pos, xor in flips:
        data[pos % len(data)] ^= xor
    work = tmp_path_factory.mktemp("fuzz")
    (work / "z.zip").write_bytes(data)
    (work / "out").mkdir()
    try:
        names = extract_zip(work / "z.zip", work / "out")
    except (UnsafeArchive, UnreadableArchive):
        return
    for name in names:  # whatever was extracted stayed inside the folder
        assert (work / "out" / name).resolve().is_relative_to((work / "out").resolve())
