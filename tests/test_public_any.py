"""No `Any` at a seam (issue 10, item 7): a public name of `backend/` or `evidence/` (a
function, a method or attribute of a public class) does not take or return a bare `Any`,
except the few listed below with the reason each stays.

Why a test and not mypy: `disallow_any_explicit` also refuses `dict[str, Any]` and an
`Any` inside a private helper, where the value really is arbitrary; the rule is about what
another module sees. A name is public when it and its class have no leading underscore
(dunder methods count: `__call__`, `__getattr__`). Reading the source with `ast` takes a
second and imports nothing.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("backend", "evidence")

# "path:qualified name" -> why its Any stays. Keep it short: each is a boundary whose type
# comes from elsewhere (a framework's signature, a driver, a dynamic ABI, pydantic's fields).
ALLOWED = {
    "backend/chain/contracts.py:BoundContract.call":
        "a test contract's view by name: its value is what that function's ABI declares",
    "backend/db/fast.py:Prepared.insert":
        "the primary key as the DB-API driver returns it (PEP 249 types nothing)",
    "backend/db/rows.py:insert_row": "Prepared.insert's primary key",
    "backend/db/blocks.py:insert_step": "Prepared.insert's primary key",
    "backend/db/types.py:UTCDateTime.process_bind_param":
        "SQLAlchemy's TypeDecorator signature, overridden as declared",
    "backend/db/types.py:UTCDateTime.process_result_value":
        "SQLAlchemy's TypeDecorator signature, overridden as declared",
    "backend/settings.py:Settings.__repr_args__": "pydantic's signature, overridden",
    "backend/settings.py:load_settings": "Settings' fields by name, validated by pydantic",
    "backend/demo/clients.py:Client.send": "httpx's request keywords, passed through",
    "backend/demo/clients.py:Client.get":
        "the API's JSON answer, read by key as a script reads it (httpx keywords through)",
    "backend/demo/clients.py:Client.post":
        "the API's JSON answer, read by key as a script reads it (httpx keywords through)",
    "backend/demo/clients.py:expect_ok": "the API's JSON answer, read by key",
    "backend/performance/simulator.py:CarrierSimulator.config":
        "SenderConfig's fields by name, validated by pydantic",
    "backend/performance/simulator.py:CarrierSimulator.config_json":
        "SenderConfig's fields by name, validated by pydantic",
}


def _bare_any(node: ast.expr | None) -> bool:
    return (isinstance(node, ast.Name) and node.id == "Any") or \
        (isinstance(node, ast.Attribute) and node.attr == "Any")


def _any_parts(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    a = fn.args
    parts = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs) if _bare_any(p.annotation)]
    if a.vararg is not None and _bare_any(a.vararg.annotation):
        parts.append("*" + a.vararg.arg)
    if a.kwarg is not None and _bare_any(a.kwarg.annotation):
        parts.append("**" + a.kwarg.arg)
    if _bare_any(fn.returns):
        parts.append("return")
    return parts


def _public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


Seam = ast.FunctionDef | ast.AsyncFunctionDef | ast.AnnAssign


def _public_seams(body: list[ast.stmt], prefix: str = "") -> Iterator[tuple[str, Seam]]:
    """Every public function, method and class attribute, by qualified name."""
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _public(node.name):
            yield prefix + node.name, node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            yield from _public_seams(node.body, f"{prefix}{node.name}.")
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and _public(node.target.id):
            yield prefix + node.target.id, node


def _seams_with_any(body: list[ast.stmt]) -> Iterator[tuple[str, list[str]]]:
    for name, node in _public_seams(body):
        if isinstance(node, ast.AnnAssign):
            parts = ["attribute"] if _bare_any(node.annotation) else []
        else:
            parts = _any_parts(node)
        if parts:
            yield name, parts


@functools.cache  # parsed once for the tests that scan it (~0.5 s of CPU a read)
def _modules() -> tuple[tuple[str, list[ast.stmt]], ...]:
    return tuple((path.relative_to(ROOT).as_posix(), ast.parse(path.read_text()).body)
                 for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py")))


@functools.cache
def _found() -> dict[str, list[str]]:
    return {f"{where}:{name}": parts for where, body in _modules()
            for name, parts in _seams_with_any(body)}


def test_no_public_name_takes_or_returns_a_bare_any() -> None:
    unexpected = {k: v for k, v in _found().items() if k not in ALLOWED}
    assert not unexpected, (
        "public names typed Any (give them the concrete class, a Protocol, a TypedDict or "
        f"evidence.safejson.JSON; or list one here with its reason): {unexpected}")


def test_every_allowed_any_is_still_there() -> None:
    gone = sorted(set(ALLOWED) - set(_found()))
    assert not gone, f"typed since: remove from ALLOWED: {gone}"


def test_the_scan_sees_each_kind_of_seam() -> None:
    """The scanner itself: a parameter, *args, **kwargs, a return, a class attribute, a
    dunder method; not a private helper, a private class's method or a nested Any."""
    source = '''
def f(a: Any, *b: Any, **c: Any) -> Any: ...
def g(a: dict[str, Any]) -> list[Any]: ...
def _h(a: Any) -> Any: ...
class C:
    x: Any
    _y: Any
    def m(self) -> typing.Any: ...
    def __call__(self, v: Any) -> None: ...
    def _p(self, v: Any) -> None: ...
class _D:
    def m(self, v: Any) -> None: ...
'''
    assert dict(_seams_with_any(ast.parse(source).body)) == {
        "f": ["a", "*b", "**c", "return"], "C.x": ["attribute"], "C.m": ["return"],
        "C.__call__": ["v"]}


# --- dict[str, Any] at a seam: a count that only goes down --------------------------------
# A public name whose signature says `dict[str, Any]` (or `Mapping[str, Any]`) tells its
# reader nothing about the document: give it a TypedDict where the shape is fixed (API
# answers, records, receipts, manifests, chain payloads), `evidence.safejson.JsonObject`
# where the JSON is free (`backend.procedure.Jsonable` in the core), eth_typing's or web3's
# own types for theirs, or `Mapping[str, object]` that the reader narrows. Every file of
# both packages is converted (branch `types5`): the few left are listed below with the
# reason each stays, and DICT_ANY_CEILING (their count) may only go down.
_DICT_ANY = re.compile(r"\b(?:dict|Mapping|MutableMapping)\[str, (?:typing\.)?Any\]")
DICT_ANY_FREE = ("backend/", "evidence/")
DICT_ANY_CEILING = 4
# "path:qualified name" -> why its dict[str, Any] stays (docs/architecture.md §1).
DICT_ANY_ALLOWED = {
    "backend/api/errors.py:errors":
        "FastAPI's `responses=` argument, typed as FastAPI declares it",
    "backend/db/service_models.py:CaseEvent.data":
        "a case event's data, each kind its own members; the class attribute is also the "
        "column SQL JSON expressions index (`CaseEvent.data['digest'].as_string()`), "
        "which a JSON type would make a JSON value",
    "evidence/judicial/_jury.py:JuryStep.payload":
        "a jury step's payload as the package states it: indexed unnarrowed, its refusal "
        "the exception indexing or evidence.jury raises, in the step's 'payload unusable'",
    "evidence/judicial/_jury.py:JuryRecomputed.options":
        "the jury's options as the payload states them: passed on unnarrowed to the draw "
        "and vote_commitment, whose exceptions are the refusal",
}


def _dict_any(node: ast.expr | None) -> int:
    return 0 if node is None else len(_DICT_ANY.findall(ast.unparse(node)))


def _seams_with_dict_any(body: list[ast.stmt]) -> Iterator[tuple[str, int]]:
    for name, node in _public_seams(body):
        if isinstance(node, ast.AnnAssign):
            n = _dict_any(node.annotation)
        else:
            a = node.args
            params = (*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, (a.vararg, a.kwarg)))
            n = sum(_dict_any(p.annotation) for p in params) + _dict_any(node.returns)
        if n:
            yield name, n


@functools.cache
def _found_dict_any() -> dict[str, int]:
    return {f"{where}:{name}": n for where, body in _modules()
            for name, n in _seams_with_dict_any(body)}


def test_converted_folders_have_no_dict_any_at_a_seam() -> None:
    left = {k: n for k, n in _found_dict_any().items()
            if k.startswith(DICT_ANY_FREE) and k not in DICT_ANY_ALLOWED}
    assert not left, f"dict[str, Any] on public names of converted folders: {left}"


def test_every_allowed_dict_any_is_still_there() -> None:
    gone = sorted(set(DICT_ANY_ALLOWED) - set(_found_dict_any()))
    assert not gone, f"typed since: remove from DICT_ANY_ALLOWED: {gone}"


def test_dict_any_at_the_seams_only_goes_down() -> None:
    count = sum(_found_dict_any().values())
    assert count <= DICT_ANY_CEILING, (
        f"{count} dict[str, Any] on public names, more than the {DICT_ANY_CEILING} left: "
        "type the new ones (TypedDict or evidence.safejson.JsonObject)")
    assert count == DICT_ANY_CEILING, f"down to {count}: lower DICT_ANY_CEILING to it"


def test_the_dict_any_scan_sees_each_kind_of_seam() -> None:
    source = '''
def f(a: dict[str, Any], b: Mapping[str, typing.Any]) -> list[dict[str, Any]]: ...
def _g(a: dict[str, Any]) -> None: ...
def h(a: dict[str, int], b: dict[str, JSON]) -> Any: ...
class C:
    x: tuple[dict[str, Any], ...]
    _y: dict[str, Any]
    def m(self, *a: dict[str, Any], **k: dict[str, Any]) -> None: ...
class _D:
    def m(self) -> dict[str, Any]: ...
'''
    assert dict(_seams_with_dict_any(ast.parse(source).body)) == {"f": 3, "C.x": 1, "C.m": 2}
