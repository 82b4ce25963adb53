"""Times as the API takes them: ISO 8601 text with a UTC offset, within stated years, and the
OpenAPI document saying exactly that.

pydantic on its own also takes a number (seconds since 1970) or digits in a string as a time,
and its schema for a time says only `format: date-time`: the document then allows times the API
refuses (before 2000, past the calendar) and refuses nothing it takes. `instant` makes the two
agree: the schema carries a pattern with the years and the offset, and anything that does not
match it is refused before pydantic reads it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, WithJsonSchema

_REST = (
    r"-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d"
    r"(:[0-5]\d(\.\d{1,6})?)?([Zz]|[+-]([01]\d|2[0-3]):?[0-5]\d)$"
)
#: Years as regular expressions.
YEARS = {
    (1970, 8999): r"(19[7-9]\d|[2-8]\d{3})",
    (2000, 8999): r"(2\d{3}|[3-8]\d{3})",
}


def _text_only(pattern: str, message: str) -> Callable[[Any], Any]:
    """A before-validator: a datetime passes, text must match pattern (ValueError(message) if
    not), so pydantic never reads numbers or other shapes as times."""
    matcher = re.compile(pattern)

    def text_only(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value
        if not isinstance(value, str) or not matcher.match(value):
            raise ValueError(message)
        return value

    return text_only


def _utc(value: dt.datetime) -> dt.datetime:
    """An aware value in UTC; ValueError when that falls outside what datetime can hold."""
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("time out of range") from None


def instant(first: int, last: int, description: str) -> Any:
    """An aware datetime given as ISO 8601 text with an offset, in years first..last (one of
    YEARS), returned in UTC."""
    pattern = "^" + YEARS[(first, last)] + _REST
    text_only = _text_only(
        pattern,
        f"a time is ISO 8601 text with its UTC offset, between the years {first} and {last}, "
        "e.g. 2026-03-01T08:00:00+08:00",
    )

    def in_years(value: dt.datetime) -> dt.datetime:
        value = _utc(value)
        if not first <= value.year <= last:
            raise ValueError(f"time must fall between the years {first} and {last} (UTC)")
        return value

    schema = {"type": "string", "format": "date-time", "pattern": pattern}
    if description:
        schema["description"] = description
    return Annotated[
        AwareDatetime, BeforeValidator(text_only), AfterValidator(in_years), WithJsonSchema(schema)
    ]


#: As _REST, with the offset optional.
_REST_LOCAL = (
    r"-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d"
    r"(:[0-5]\d(\.\d{1,6})?)?([Zz]|[+-]([01]\d|2[0-3]):?[0-5]\d)?$"
)


def wall_time(first: int, last: int, description: str) -> Any:
    """A datetime given as ISO 8601 text in years first..last (one of YEARS), with its offset
    (returned aware, in UTC) or without one (returned naive: a wall-clock time the caller reads
    in a time zone of its choosing, e.g. the site's)."""
    pattern = "^" + YEARS[(first, last)] + _REST_LOCAL
    text_only = _text_only(
        pattern,
        f"a time is ISO 8601 text, with or without its UTC offset, between the years {first} "
        f"and {last}, e.g. 2026-03-01T08:00:00+08:00 or 2026-03-01T08:00",
    )

    def in_years(value: dt.datetime) -> dt.datetime:
        if value.tzinfo is not None:
            value = _utc(value)
        if not first <= value.year <= last:
            raise ValueError(f"time must fall between the years {first} and {last}")
        return value

    # No `format: date-time`: that is RFC 3339, which requires the offset this may leave out.
    schema = {"type": "string", "pattern": pattern}
    if description:
        schema["description"] = description
    return Annotated[
        dt.datetime, BeforeValidator(text_only), AfterValidator(in_years), WithJsonSchema(schema)
    ]
