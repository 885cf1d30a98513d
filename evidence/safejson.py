"""The one JSON reader for input from outside: bounded size and depth, checked first.

Why: the C JSON scanner recurses once per nested ``[`` or ``{``. With a high
``sys.getrecursionlimit()`` (py_ecc raises it to 100,000 on import) 200,000 nested
brackets overflow the C stack and kill the process with SIGSEGV instead of raising
``RecursionError``. So every JSON document that comes from outside (HTTP bodies, judicial
package members, records, proof files, key wraps, CLI input files) is read through
``loads`` here, which refuses an over-large or over-deep document in linear time and
memory *before* any recursive parsing:

1. the size is compared with ``max_bytes``;
2. a non-recursive pre-scan drops every string (one regular expression, no backtracking:
   an unterminated string runs to the end of the text), keeps only the brackets outside
   strings and takes the running maximum of +1 per opener and -1 per closer (in C, via
   ``itertools.accumulate``). A document that parses has the same strings as the
   pre-scan, so the scanner's recursion depth never exceeds the depth measured here;
3. only then ``json.loads`` runs.

``MAX_DEPTH`` (64) is far above any document this project writes (records and manifests
nest at most 6 levels) and far below what can hurt the stack with any recursion limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import accumulate
from typing import TypeAlias

from .errors import FormatError

#: A JSON value as ``json.loads`` returns it: the one alias for parsed JSON in this project
#: (readers narrow it with ``isinstance`` where they check a document's shape).
JSON: TypeAlias = "dict[str, JSON] | list[JSON] | str | int | float | bool | None"
#: A JSON object whose members are free (a report's details, a chain's RPC answer, an API
#: body passed through): documents with a fixed shape have a TypedDict of their own.
JsonObject: TypeAlias = "dict[str, JSON]"

__all__ = [
    "JSON",
    "MAX_DEPTH",
    "JsonObject",
    "JsonTooDeep",
    "JsonTooLarge",
    "json_depth",
    "loads",
]

MAX_DEPTH = 64

# A JSON string: possessive quantifiers (Python 3.11), so it never backtracks; a string
# without its closing quote (or ending in a lone backslash) runs to the end of the text.
_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_STRING_B = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_NOT_BRACKET_B = re.compile(rb"[^\[\]{}]++")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_STEP_B = {0x5B: 1, 0x7B: 1, 0x5D: -1, 0x7D: -1}


class JsonTooDeep(FormatError):  # noqa: N818 (names the refusal, as errors.py)
    """A JSON document nested deeper than the reader accepts."""

    code = "json_too_deep"


class JsonTooLarge(FormatError):  # noqa: N818
    """A JSON document larger than the reader accepts."""

    code = "json_too_large"


def json_depth(text: str | bytes) -> int:
    """The deepest nesting of ``[``/``{`` outside strings (0 for a scalar), in linear time
    and without recursion. Unbalanced brackets count as written (closers never go below
    zero in a document that parses; ``json.loads`` refuses the rest)."""
    if isinstance(text, bytes):
        brackets_b = _NOT_BRACKET_B.sub(b"", _STRING_B.sub(b"", text))
        return max(accumulate(map(_STEP_B.__getitem__, brackets_b)), default=0)
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _opening_brackets(data: str | bytes) -> int:
    """How many ``[`` and ``{`` ``data`` holds, strings included (so never fewer than
    ``json_depth`` counts): two C-speed counts, against ~25 µs of the scan for a signed
    step's ~1 KB."""
    if isinstance(data, bytes):
        return data.count(b"[") + data.count(b"{")
    return data.count("[") + data.count("{")


def check_bounds(data: str | bytes, *, what: str, max_bytes: int,
                 max_depth: int = MAX_DEPTH) -> None:
    """Refuse ``data`` if it is larger than ``max_bytes`` or nested deeper than
    ``max_depth`` (JsonTooLarge, JsonTooDeep); parse nothing."""
    if len(data) > max_bytes:
        raise JsonTooLarge(f"{what}: {len(data)} bytes, more than the {max_bytes} accepted")
    if _opening_brackets(data) <= max_depth:
        return  # it cannot nest deeper than it has brackets (issue 10: not the scan)
    depth = json_depth(data)
    if depth > max_depth:
        raise JsonTooDeep(f"{what}: JSON nested {depth} levels deep, more than the "
                          f"{max_depth} accepted")


def loads(data: str | bytes, *, what: str, max_bytes: int, max_depth: int = MAX_DEPTH,
          object_pairs_hook: Callable[[list[tuple[str, JSON]]], JSON] | None = None,
          parse_float: Callable[[str], JSON] | None = None,
          parse_constant: Callable[[str], JSON] | None = None) -> JSON:
    """``json.loads`` after ``check_bounds``: UTF-8 (bytes) or text in, the value out.

    Raises JsonTooLarge, JsonTooDeep or FormatError (not UTF-8, not JSON), each naming
    ``what``; the hooks may raise their own errors, which pass through.
    """
    check_bounds(data, what=what, max_bytes=max_bytes, max_depth=max_depth)
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value: JSON = json.loads(text, object_pairs_hook=object_pairs_hook,
                                 parse_float=parse_float, parse_constant=parse_constant)
        return value
    except UnicodeDecodeError as exc:
        raise FormatError(f"{what}: not valid UTF-8 ({exc})") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"{what}: not valid JSON ({exc})") from None
    except ValueError as exc:  # an integer longer than Python converts (int_max_str_digits)
        raise FormatError(f"{what}: a number too long to read ({exc})") from None
    except RecursionError:  # a low recursion limit in a deep call stack: still a refusal
        raise JsonTooDeep(f"{what}: JSON nested too deep to read here") from None
