"""Request bodies take JSON as the OpenAPI document types it, without pydantic's lax coercions.

pydantic's default (lax) mode turns `true` into 1 for an integer field and "5" into 5: a client
sending the wrong type is then believed, and the document, which says `integer`, is not what the
API does. Strict mode cannot be switched on for a whole model here (FastAPI validates the decoded
body in Python mode, where strict enums and times would want Python objects), so `JsonBody`
refuses the two coercions that matter before validation: a boolean for a field that is not one,
and a string for a field that takes only numbers.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Union

from pydantic import BaseModel, BeforeValidator, PlainValidator, WrapValidator, model_validator

#: Validators that read a field's raw input themselves.
_READERS = (BeforeValidator, PlainValidator, WrapValidator)


def _kinds(annotation: Any) -> set[type]:
    """The Python types a JSON value may have for this annotation (empty: anything)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
        if any(isinstance(m, _READERS) for m in metadata):
            return set()  # it reads its own input (a duration such as "2h", say)
        return _kinds(base)
    if origin in (Union, types.UnionType):
        out: set[type] = set()
        for arg in typing.get_args(annotation):
            kinds = _kinds(arg)
            if not kinds:
                return set()
            out |= kinds
        return out
    if annotation is bool:
        return {bool}
    if annotation is int:
        return {int}
    if annotation is float:
        return {int, float}
    if annotation is type(None):
        return {type(None)}
    return set()  # strings, enums, times, lists, models: their own validation decides


class JsonBody(BaseModel):
    """Base for request bodies: see the module."""

    @model_validator(mode="before")
    @classmethod
    def _json_types(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name, field in cls.model_fields.items():
            key = field.alias or name
            if key not in data:
                continue
            if any(isinstance(m, _READERS) for m in field.metadata):
                continue  # the field reads its own input
            kinds = _kinds(field.annotation)
            value = data[key]
            if not kinds or type(value) in kinds:
                continue
            if isinstance(value, bool) or (
                isinstance(value, str) and kinds <= {int, float, type(None)}
            ):
                raise ValueError(
                    f"{key}: expected {' or '.join(sorted(k.__name__ for k in kinds))}"
                )
        return data
