"""The API's answers, declared once: a ``TypedDict`` beside the service that writes it.

A route names the service's TypedDict as its response model (FastAPI takes the return
annotation), so one declaration serves mypy, the OpenAPI document and the answer's
validation; there is no pydantic ``...Out`` twin (docs/architecture.md §1, "One declaration
per answer"). Two rules make such a TypedDict answer as the models did:

- ``typing_extensions.TypedDict`` (pydantic refuses ``typing.TypedDict`` before Python 3.12),
  decorated ``@open_answer``: members it does not list pass through, and the document says
  so (``additionalProperties``), as the models' ``extra="allow"`` did.
- A member whose members pydantic must not look into (free JSON, or a document of fixed
  shape that would cost a validation per answer, such as a signed record) is
  ``Annotated[T, AS_OBJECT]``: mypy checks ``T``, pydantic takes any JSON object, the
  document says ``object``. ``FreeJson`` (``backend.db.types``, for the tables' JSON columns
  too) is ``evidence.safejson.JsonObject`` as mypy reads it and any JSON object as pydantic
  does: it cannot build that recursive alias.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, GetPydanticSchema, with_config

from backend.db.types import FreeJson

__all__ = ["AS_OBJECT", "AS_OBJECTS", "FreeJson", "open_answer"]

#: Decorates an answer's TypedDict: members it does not list pass through.
open_answer = with_config(ConfigDict(extra="allow"))

#: In ``Annotated[T, AS_OBJECT]``: pydantic takes a JSON object without looking inside.
AS_OBJECT = GetPydanticSchema(lambda _source, handler: handler(dict[str, Any]))

#: The same for a list of JSON objects.
AS_OBJECTS = GetPydanticSchema(lambda _source, handler: handler(list[dict[str, Any]]))

