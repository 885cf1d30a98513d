"""JSON forms of cases and commands, for the database and the API (encode/decode side by side).

The case is stored as one JSON document with a major ``version`` first (STYLE §4); decode
refuses another major version, unknown fields and missing fields, so a stored case either
comes back exactly as it was written or not at all. Decoding is driven by the dataclasses'
own type hints, so a new field is serialised without code here.

Encoding: enums → their values, datetimes → ISO 8601 in UTC, frozensets → sorted lists,
tuples → lists, dataclasses → objects. Amounts stay JSON integers (never floats).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeAlias, TypeVar, overload

import msgspec

from . import _commands, _states
from ._errors import InvalidCommand
from ._kept import KeptByIdentity
from ._rules import CaseRules
from ._states import CaseState

__all__ = [
    "CASE_FORMAT_VERSION",
    "COMMANDS_BY_NAME",
    "Jsonable",
    "case_from_dict",
    "case_to_dict",
    "case_to_json",
    "command_from_dict",
    "command_to_dict",
    "to_jsonable",
]

CASE_FORMAT_VERSION = 1
COMMANDS_BY_NAME: Mapping[str, type[_commands.Command]] = {
    cls.__name__: cls for cls in _commands.COMMAND_TYPES
}
_HINT_NAMES = {"CaseRules": CaseRules}
_T = TypeVar("_T")

Jsonable: TypeAlias = "dict[str, Jsonable] | list[Jsonable] | str | int | float | bool | None"
"""Parsed JSON, as the core writes it (``to_jsonable``; it writes no floats: amounts are
integers). The core does not import ``evidence.safejson`` (tests/backend/procedure/
test_procedure_docs.py), so it declares the alias again, member for member as
``evidence.safejson.JSON``: mypy then takes one for the other (a ``dict[str, Jsonable]``
is a ``JsonObject``), which an alias without ``float`` would not be (dict is invariant)."""


@functools.cache
def _field_names(cls: type) -> tuple[str, ...] | None:
    """The fields of a dataclass type, None for any other type (cached: the case is
    encoded on every step, and ``dataclasses.fields`` per value was most of its cost)."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple(f.name for f in dataclasses.fields(cls))


@overload
def to_jsonable(value: datetime) -> str: ...
@overload
def to_jsonable(value: datetime | None) -> str | None: ...
@overload
def to_jsonable(value: object) -> Jsonable: ...
def to_jsonable(value: object) -> Jsonable:
    """Any procedure value (case, command, effect, report part) as plain JSON data."""
    kind: type = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        # the common leaves first (exact types: enums are not str here); mypy does not
        # narrow `value` by a test of `kind`, and isinstance would cost every value a call
        return value  # type: ignore[return-value]
    names = _field_names(kind)
    if names is not None:
        return {name: to_jsonable(getattr(value, name)) for name in names}
    if isinstance(value, Enum):
        member: object = value.value  # the core's enums are StrEnums: their str
        return to_jsonable(member)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, frozenset | set):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=repr)
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    raise TypeError(f"cannot encode {type(value).__name__}")


def _decode(hint: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if data is None and type(None) in options:
            return None
        real = [o for o in options if o is not type(None)]
        if len(real) != 1:
            raise TypeError(f"{where}: ambiguous union {hint}")
        return _decode(real[0], data, where)
    if hint is Any:
        return data
    if origin is tuple:
        args = typing.get_args(hint)
        _expect(isinstance(data, list), where, "a list", data)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
        _expect(len(data) == len(args), where, f"{len(args)} items", data)
        return tuple(_decode(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, data,
                                                                                    strict=True)))
    if origin is frozenset:
        (arg,) = typing.get_args(hint)
        _expect(isinstance(data, list), where, "a list", data)
        return frozenset(_decode(arg, v, f"{where}[]") for v in data)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _decode_dataclass(hint, data, where)
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(data)
        except ValueError:
            raise InvalidCommand(f"{where}: expected a {hint.__name__}, found {data!r}") from None
    if hint is datetime:
        _expect(isinstance(data, str), where, "an ISO 8601 time", data)
        try:
            parsed = datetime.fromisoformat(data.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidCommand(f"{where}: expected an ISO 8601 time, found {data!r}") from None
        _expect(parsed.tzinfo is not None, where, "a time with a zone", data)
        return parsed.astimezone(UTC)
    if hint is bool:
        _expect(type(data) is bool, where, "a boolean", data)
        return data
    if hint is int:
        _expect(type(data) is int, where, "an integer", data)
        return data
    if hint is str:
        _expect(isinstance(data, str), where, "a string", data)
        return data
    raise TypeError(f"{where}: no decoder for {hint!r}")


def _expect(ok: bool, where: str, what: str, found: Any) -> None:
    if not ok:
        raise InvalidCommand(f"{where}: expected {what}, found {found!r}")


@functools.cache
def _fields_of(cls: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    """Resolved type hints and init fields of a dataclass (cached: resolving is slow)."""
    hints = typing.get_type_hints(cls, localns=_HINT_NAMES)
    return hints, {f.name: f for f in dataclasses.fields(cls) if f.init}


def _decode_dataclass(cls: type[_T], data: Any, where: str) -> _T:
    """``data`` as a ``cls``: by the compiled decoder, and when it refuses, by ``_decode``
    again, which says where and why (the two accept the same documents:
    tests/backend/procedure/test_procedure_serialize.py)."""
    try:
        return typing.cast(_T, _compiled(cls)(data))  # type: ignore[arg-type]  # mypy#20409
    except Exception:  # the precise refusal (or the same exception) follows
        return _explained(cls, data, where)


def _explained(cls: type[_T], data: Any, where: str) -> _T:
    _expect(isinstance(data, dict), where, f"an object for {cls.__name__}", data)
    hints, fields = _fields_of(cls)  # type: ignore[arg-type]  # mypy#20409: classes hash
    unknown = set(data) - set(fields)
    if unknown:
        raise InvalidCommand(f"{where}: unknown field(s) {sorted(unknown)} for {cls.__name__}")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise InvalidCommand(f"{where}: missing field {name!r} for {cls.__name__}")
            continue
        kwargs[name] = _decode(hints[name], data[name], f"{where}.{name}")
    return cls(**kwargs)


# --- the compiled decoders ------------------------------------------------------------------
# Why: ``_decode`` reads the type hints again for every value and formats a path for each
# one, in case it must say where a document is wrong; a case of 165 offers took 2.9 ms to
# decode, paid by each process whose cache misses it (issue 10: two uvicorn workers). A
# compiled decoder makes the same checks from a function built once per type and carries no
# path; it refuses with a bare ``_RefusedError``, and ``_decode_dataclass`` then runs
# ``_decode`` for the message.

class _RefusedError(Exception):
    """The compiled decoder's refusal, without a message (``_decode`` gives it)."""


Decoder = typing.Callable[[Any], Any]


def _refuse(_data: Any) -> Any:
    raise _RefusedError


def _checked(kind: type) -> Decoder:
    exact = kind is bool or kind is int  # True is an int, but not for the procedure

    def decode(data: Any) -> Any:
        if (type(data) is kind) if exact else isinstance(data, kind):
            return data
        raise _RefusedError
    return decode


def _decode_time(data: Any) -> datetime:
    if not isinstance(data, str):
        raise _RefusedError
    parsed = datetime.fromisoformat(data.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise _RefusedError
    return parsed.astimezone(UTC)


@functools.cache
def _compiled(hint: Any) -> Decoder:
    """The decoder of one type hint: what ``_decode`` accepts, the same values out."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        real = [o for o in typing.get_args(hint) if o is not type(None)]
        if len(real) != 1:
            return _refuse
        inner = _compiled(real[0])
        return lambda data: None if data is None else inner(data)
    if hint is Any:
        return lambda data: data
    if origin is tuple:
        return _compiled_tuple(typing.get_args(hint))
    if origin is frozenset:
        (arg,) = typing.get_args(hint)
        item = _compiled(arg)

        def decode_set(data: Any) -> frozenset[Any]:
            if not isinstance(data, list):
                raise _RefusedError
            return frozenset([item(v) for v in data])
        return decode_set
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _compiled_dataclass(hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if hint is datetime:
        return _decode_time
    if hint in (bool, int, str):
        return _checked(hint)
    return _refuse


def _compiled_tuple(args: tuple[Any, ...]) -> Decoder:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _compiled(args[0])

        def decode_many(data: Any) -> tuple[Any, ...]:
            if not isinstance(data, list):
                raise _RefusedError
            return tuple([item(v) for v in data])
        return decode_many
    items = [_compiled(a) for a in args]

    def decode_fixed(data: Any) -> tuple[Any, ...]:
        if not isinstance(data, list) or len(data) != len(items):
            raise _RefusedError
        return tuple([d(v) for d, v in zip(items, data, strict=True)])
    return decode_fixed


def _compiled_dataclass(cls: type) -> Decoder:
    hints, fields = _fields_of(cls)
    names = frozenset(fields)
    decoders = [(name, _compiled(hints[name]),
                 f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
                for name, f in fields.items()]

    def decode_object(data: Any) -> Any:
        if not isinstance(data, dict) or not names.issuperset(data):
            raise _RefusedError
        kwargs = {}
        for name, decode, required in decoders:
            if name in data:
                kwargs[name] = decode(data[name])
            elif required:
                raise _RefusedError
        return cls(**kwargs)
    return decode_object


def case_to_dict(case: CaseState) -> dict[str, Jsonable]:
    """The case as one JSON document, version first."""
    return {"version": CASE_FORMAT_VERSION, "case": to_jsonable(case)}


# The JSON texts of the immutable non-leaf values (frozen dataclasses, frozensets,
# datetimes, enums): successive states share the parts a step did not touch (offers,
# evidence, the rules), so the stored text of a case is built from their texts instead of
# re-encoding it whole on every step (tuples and the case itself change on most steps and
# are not kept). 20,000 entries a generation: a worker's 50 cases of 165 offers use about
# 8,300 (an offer's entry answers for its parts).
_TEXTS: KeptByIdentity[object, str] = KeptByIdentity(20_000)
_dumps = json.JSONEncoder(separators=(",", ":")).encode
_quote = json.encoder.encode_basestring_ascii  # what json.dumps uses for strings


@functools.cache
def _frozen_fields(cls: type) -> tuple[tuple[str, str], ...] | None:
    """(field, its JSON key text) of a frozen dataclass type, None for any other type."""
    names = _field_names(cls)
    if names is None or not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return None
    return tuple((name, _quote(name)) for name in names)


def _object_json(value: Any, fields: tuple[tuple[str, str], ...]) -> str:
    return "{" + ",".join(f"{key}:{_to_json(getattr(value, name))}" for name, key in fields) + "}"


def _to_json(value: Any) -> str:
    """``json.dumps(to_jsonable(value), separators=(",", ":"))``, reusing the text of each
    immutable value already encoded (see ``_TEXTS``)."""
    kind: type = type(value)
    if kind is str:
        return _quote(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is tuple:
        return "[" + ",".join([_to_json(v) for v in value]) + "]"
    found = _TEXTS.get(value)
    if found is not None:
        return found
    fields = _frozen_fields(kind)
    if fields is not None:
        text = _object_json(value, fields)
    elif kind is frozenset or isinstance(value, Enum | datetime):
        text = _dumps(to_jsonable(value))
    else:
        return _dumps(to_jsonable(value))  # booleans and anything mutable: never kept
    return _TEXTS.put(value, text)


def case_to_json(case: CaseState) -> str:
    """The stored text of ``case``: exactly ``json.dumps(case_to_dict(case),
    separators=(",", ":"))``, built from the kept texts of the parts that did not change
    (the case is written on every step; encoding it whole was the step's largest cost)."""
    fields = _frozen_fields(CaseState)
    assert fields is not None
    return f'{{"version":{CASE_FORMAT_VERSION},"case":{_object_json(case, fields)}}}'


# --- the stored text decoded in C ------------------------------------------------------------
# Why: a case's first step on a worker decodes its stored state, and every later save needs
# its parts' texts; in Python the two cost 1.1 ms for 100 offers on the 2-core machine and
# 2.1-2.7 ms for 165 on a slower one (issue 10, seventeenth round), paid by each case each
# time another worker takes it. msgspec decodes the same dataclasses from the type hints in
# about a fifth of that and cuts each part's text out of the stored text without re-encoding.
# msgspec ignores unknown members of a dataclass, leaves a missing one to its class's
# default and reads times in any zone, so its result is used only when encoding it again
# gives the stored text byte for byte, every dataclass in it has each of its fields set,
# and every time in the text is in UTC: then nothing was dropped, added or read in another
# form. Any other text (an older format, a hand-made one, a set msgspec cannot order, a
# name outside ASCII, which the stored text escapes and msgspec writes as UTF-8) takes the
# checked path below, which decides and explains exactly as before. (A text another encoder
# wrote in msgspec's own form, UTF-8 names unescaped, keeps that form in the parts a step
# does not change: the same state.)

# msgspec resolves CaseState's annotations in its module, where CaseRules is imported for
# type checking only (the two modules import each other): name it there.
vars(_states).setdefault("CaseRules", CaseRules)


class _Stored(msgspec.Struct):
    version: int
    case: CaseState


class _StoredParts(msgspec.Struct):
    version: int
    case: dict[str, msgspec.Raw]


# A time the checked path refuses (no zone) or writes in UTC (another zone), which msgspec
# reads and writes back as it found it: such a text takes the checked path.
_TIME_NOT_IN_UTC = re.compile(r'"\d{4}-\d\d-\d\d[Tt ][^"]*[^Zz"]"')
_STORED = msgspec.json.Decoder(_Stored)
_STORED_PARTS = msgspec.json.Decoder(_StoredParts)
_MEMBERS = msgspec.json.Decoder(list[msgspec.Raw])
# sets sorted (a set of strings in code-point order, as ``to_jsonable`` sorts addresses);
# a set whose members do not order (dataclasses) makes the encoder raise: the checked path
_ENCODER = msgspec.json.Encoder(order="deterministic")


def _case_of_exact_text(text: str) -> CaseState | None:
    """The case ``text`` stores when ``text`` is exactly the encoding of that case, else
    None (the checked path then decides)."""
    if _TIME_NOT_IN_UTC.search(text):
        return None
    try:
        stored = _STORED.decode(text)
        if stored.version != CASE_FORMAT_VERSION or _ENCODER.encode(stored) != text.encode():
            return None
        # msgspec leaves a member missing from the text to the class's default and writes
        # only the members it set, so a part stored without a member passed the test above
        return stored.case if _complete(stored.case) else None
    except Exception:  # msgspec's refusal, a dataclass's own check, an unorderable set:
        return None  # the checked path gives the precise refusal, or accepts the form


@functools.cache
def _shape(cls: type) -> tuple[int, tuple[str, ...]] | None:
    """A dataclass type's count of fields and the fields that may hold a dataclass; None
    for any other type."""
    if not dataclasses.is_dataclass(cls):
        return None
    hints, fields = _fields_of(cls)
    return len(fields), tuple(name for name in fields if _may_hold_dataclass(hints[name]))


def _may_hold_dataclass(hint: Any) -> bool:
    if isinstance(hint, type):
        return dataclasses.is_dataclass(hint)
    return any(_may_hold_dataclass(arg) for arg in typing.get_args(hint))


def _complete(value: object) -> bool:
    """Every dataclass in ``value`` has each of its fields set on itself."""
    if isinstance(value, tuple | frozenset):
        return all(_complete(v) for v in value)
    kind: type = type(value)
    shape = _shape(kind)
    if shape is None:
        return True
    count, nested = shape
    members = value.__dict__
    return len(members) == count and all(_complete(members[name]) for name in nested)


def _keep_part_texts(case: CaseState, text: str) -> None:
    """Keep each part's text, cut out of ``text`` (the exact encoding of ``case``)."""
    parts = _STORED_PARTS.decode(text).case
    for name, _ in _frozen_fields(CaseState) or ():
        raw = parts.get(name)
        if raw is not None:  # a field added since the text was stored has its default
            _keep_raw(getattr(case, name), raw)


def _keep_raw(value: object, raw: msgspec.Raw) -> None:
    if isinstance(value, tuple):
        for part, part_raw in zip(value, _MEMBERS.decode(raw), strict=True):
            _keep_raw(part, part_raw)
        return
    kind: type = type(value)  # mypy#20409: a type[object] is not Hashable to it
    if _frozen_fields(kind) is not None and _TEXTS.get(value) is None:
        _TEXTS.put(value, bytes(raw).decode())


def case_from_json(text: str) -> CaseState:
    """``case_from_dict(json.loads(text))`` for a stored text, with its parts' texts kept
    (each field's value, each member of a tuple field: an offer, an evidence item), so the
    state's first save encodes only what the step changed. A text that is exactly the
    encoding of its case (every text ``case_to_json`` wrote) is decoded by msgspec and its
    parts' texts are cut out of it; any other by ``_case_from_checked_json``."""
    case = _case_of_exact_text(text)
    if case is None:
        return _case_from_checked_json(text)
    _keep_part_texts(case, text)
    return case


def _case_from_checked_json(text: str) -> CaseState:
    """``case_from_dict(json.loads(text))``: a text that is not exactly its case's encoding
    (an older format, another encoder's) is rare, so its parts are encoded afresh by the
    first save, which then stores this encoder's text."""
    return case_from_dict(json.loads(text))


def case_from_dict(data: Mapping[str, object]) -> CaseState:
    """Inverse of case_to_dict; refuses another major version and any malformed field."""
    _expect(isinstance(data, Mapping), "case document", "an object", data)
    version = data.get("version")
    if version != CASE_FORMAT_VERSION:
        raise InvalidCommand(
            f"case document: expected version {CASE_FORMAT_VERSION}, found {version!r}"
        )
    _expect(set(data) == {"version", "case"}, "case document", "keys version and case",
            sorted(data))
    return _decode_dataclass(CaseState, data["case"], "case")


def command_to_dict(command: _commands.Command) -> dict[str, Jsonable]:
    """``{"type": "MakeOffer", "actor": ..., "sequence": ..., <fields>}``."""
    return {"type": type(command).__name__,
            **{f.name: to_jsonable(getattr(command, f.name))
               for f in dataclasses.fields(command)}}


def command_from_dict(data: Mapping[str, object]) -> _commands.Command:
    """Build a command from JSON (the API's request body plus the recovered actor)."""
    _expect(isinstance(data, Mapping), "command", "an object", data)
    name = data.get("type")
    cls = COMMANDS_BY_NAME.get(name) if isinstance(name, str) else None
    if cls is None or not isinstance(name, str):
        raise InvalidCommand(
            f"command.type: expected one of {', '.join(COMMANDS_BY_NAME)}; found {name!r}"
        )
    body = {k: v for k, v in data.items() if k != "type"}
    return _decode_dataclass(cls, body, name)
