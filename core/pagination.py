"""Paged lists, written once: the cursor query parameters, the cursor codecs and the one error a
cursor the API did not hand out answers with (400 bad_cursor).

Two kinds of cursor are handed out. A list in id order pages by the id of its last row, sent
as its decimal digits (`id_cursor` / `read_id_cursor`). A list that sorts by other keys pages
by several values, sent as opaque URL-safe base64 of their JSON (`encode` / `decode`). Either
way a client only ever passes back the `next_cursor` of the last page.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query

from core.db import MAX_ID
from core.errors import AppError

T = TypeVar("T")
R = TypeVar("R")

#: What a cursor of a list in id order that is not one the API handed out is told.
ID_CURSOR_MESSAGE = "cursor must be a value from next_cursor"

#: The opaque cursor of the next page: the `next_cursor` of the last one, never empty. One the
#: API did not hand out answers 400.
Cursor = Annotated[
    str | None,
    Query(min_length=1, max_length=400, description="next_cursor of the last page"),
]
#: The cursor of a list in id order: the id of the last row of the previous page.
IdCursor = Annotated[
    str | None,
    Query(min_length=1, max_length=20, description="next_cursor of the last page"),
]


class BadCursor(AppError):
    """The cursor is not one this API handed out."""

    status_code = 400
    error = "bad_cursor"


def id_cursor(row_id: int) -> str:
    """The cursor after the row with this id."""
    return str(row_id)


def read_id_cursor(cursor: str | None) -> int | None:
    """The id an `id_cursor` carries (None for the first page); BadCursor for anything else."""
    if cursor is None:
        return None
    if not (cursor.isascii() and cursor.isdigit() and int(cursor) <= MAX_ID):
        raise BadCursor(ID_CURSOR_MESSAGE)
    return int(cursor)


def encode(values: Sequence[Any]) -> str:
    """An opaque cursor carrying these JSON values: URL-safe base64, unpadded."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode(cursor: str, read: Callable[[Any], R], *, message: str) -> R:
    """What an `encode`d cursor carries, as `read` makes of its values; BadCursor(message) when
    it is not one this API handed out or `read` refuses it (ValueError, TypeError,
    OverflowError)."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return read(values)
    except (ValueError, TypeError, UnicodeDecodeError, OverflowError) as exc:
        raise BadCursor(message) from exc


def split_page(
    rows: Sequence[T], limit: int, cursor_of: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """The page in rows fetched with limit + 1, and the cursor of the next page (None on the
    last)."""
    page = list(rows[:limit])
    return page, cursor_of(page[-1]) if len(rows) > limit and page else None
