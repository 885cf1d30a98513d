"""Each record's constructor, as the type checker sees it, takes what `_field_checks`
converts: the `if TYPE_CHECKING: def __init__` of every record type in evidence/records.py
names its fields in the dataclass's order, each typed by its Solidity type (bytes32 as
bytes or 0x-hex, an address as text or 20 bytes, a uint as int or a decimal string). The
stub is for mypy only, so this test is what ties it to the fields."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from evidence import records

SOURCE = Path(records.__file__)
TAKES = {"bytes32": "Bytes32In", "address": "AddressIn", "string": "str", "bool": "bool"}
RECORD_TYPES = [c for c in vars(records).values()
                if isinstance(c, type) and issubclass(c, records.Record) and c.FIELDS]


def _stub(cls: type[records.Record]) -> ast.FunctionDef:
    tree = ast.parse(SOURCE.read_text())
    body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
    for node in body.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for inner in node.body:
                if isinstance(inner, ast.FunctionDef) and inner.name == "__init__":
                    return inner
    raise AssertionError(f"{cls.__name__}: no `if TYPE_CHECKING: def __init__`")


def _init_fields(cls: type[records.Record]) -> list[dataclasses.Field[object]]:
    return [f for f in dataclasses.fields(cls) if f.init]


def test_every_record_type_is_checked() -> None:
    assert len(RECORD_TYPES) == 12, [c.__name__ for c in RECORD_TYPES]


@pytest.mark.parametrize("cls", RECORD_TYPES, ids=lambda c: c.__name__)
def test_the_constructor_stub_takes_each_field_as_its_check_accepts(
        cls: type[records.Record]) -> None:
    stub = _stub(cls)
    assert not stub.args.args[1:] and stub.args.vararg is None and stub.args.kwarg is None
    got = [(a.arg, ast.unparse(a.annotation)) for a in stub.args.kwonlyargs
           if a.annotation is not None]
    want = [(f.name, "UintIn" if sol.startswith("uint") else TAKES[sol])
            for f, (_, sol) in zip(_init_fields(cls), cls.FIELDS, strict=True)]
    assert got == want


@pytest.mark.parametrize("cls", RECORD_TYPES, ids=lambda c: c.__name__)
def test_each_field_is_declared_in_fields_order(cls: type[records.Record]) -> None:
    """The zip above pairs a dataclass field with its FIELDS entry by position."""
    assert [f.name for f in _init_fields(cls)] == \
        [records._snake(name) for name, _ in cls.FIELDS]


def test_a_record_built_from_hex_and_decimal_strings_equals_one_built_from_values() -> None:
    """What the stub promises is what the constructor does."""
    case, prev, digest = "0x" + "11" * 32, "0x" + "22" * 32, "0x" + "33" * 32
    actor = "0x" + "ab" * 20
    from_text = records.ProceduralStep(case_id=case, sequence="3", prev_hash=prev,
                                       actor=actor, action="a", payload_hash=digest,
                                       signed_at="7")
    from_values = records.ProceduralStep(case_id=bytes.fromhex(case[2:]), sequence=3,
                                         prev_hash=bytes.fromhex(prev[2:]),
                                         actor=bytes.fromhex(actor[2:]), action="a",
                                         payload_hash=bytes.fromhex(digest[2:]), signed_at=7)
    assert from_text == from_values
    assert from_text.case_id == bytes.fromhex(case[2:]) and from_text.sequence == 3
