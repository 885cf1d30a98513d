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
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("backend", "evidence")

# "path:qualified name" -> why its Any stays. Keep it short: each is a boundary whose type
# comes from elsewhere (a framework's signature, a driver, a dynamic ABI, pydantic's fields).
ALLOWED = {
    "backend/procedure/_serialize.py:to_jsonable":
        "JSON of the core's values; the core imports only its shared evidence values "
        "(tests/backend/procedure/test_procedure_docs.py), not evidence.safejson's JSON",
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
    "backend/demo/clients.py:Client.plain": "extra members of a step's body, passed through",
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


def _seams_with_any(body: list[ast.stmt], prefix: str = "") -> Iterator[tuple[str, list[str]]]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _public(node.name):
            parts = _any_parts(node)
            if parts:
                yield prefix + node.name, parts
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            yield from _seams_with_any(node.body, f"{prefix}{node.name}.")
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and _public(node.target.id) and _bare_any(node.annotation):
            yield prefix + node.target.id, ["attribute"]


@functools.cache  # read once for the two tests that compare it (~0.5 s of CPU a read)
def _found() -> dict[str, list[str]]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            for name, parts in _seams_with_any(ast.parse(path.read_text()).body):
                found[f"{where}:{name}"] = parts
    return found


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
